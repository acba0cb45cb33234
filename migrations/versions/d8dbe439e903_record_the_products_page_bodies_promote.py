"""Record the products page bodies promote (page_products), filled from the stored bodies.

A page's read found its promo blocks' products by parsing the body's JSON in SQL on every
request, a quarter of PostgreSQL's time for a post page at 100,000 posts; it now looks
them up by the page's key (see ally/models/references.py). The fill below reads each body
once, skipping blocks that name no product the database holds, as the read did.

Revision ID: d8dbe439e903
Revises: 6207ce642c5c
Create Date: 2026-11-26 12:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd8dbe439e903'
down_revision = '6207ce642c5c'
branch_labels = None
depends_on = None

# Comparing the id as text matches only whole decimal integers: 1.5, -3 and "3" name none.
FILL = {
    "postgresql": """
        INSERT INTO page_products (page_id, product_id)
        SELECT DISTINCT pages.id, products.id
        FROM pages
        CROSS JOIN LATERAL json_array_elements(
            CASE WHEN json_typeof(pages.body_json) = 'array' THEN pages.body_json END
        ) AS block
        JOIN products ON CAST(products.id AS TEXT) = block -> 'value' ->> 'product'
        WHERE json_typeof(block) = 'object'
          AND block ->> 'type' = 'product_promo'
          AND json_typeof(block -> 'value' -> 'product') = 'number'
    """,
    "sqlite": """
        INSERT INTO page_products (page_id, product_id)
        SELECT DISTINCT pages.id, products.id
        FROM pages, json_each(CASE WHEN json_type(pages.body_json) = 'array'
                                   THEN pages.body_json END) AS block
        JOIN products ON products.id = json_extract(block.value, '$.value.product')
        WHERE block.type = 'object'
          AND json_extract(block.value, '$.type') = 'product_promo'
          AND json_type(block.value, '$.value.product') = 'integer'
    """,
}


def upgrade():
    op.create_table(
        'page_products',
        sa.Column('page_id', sa.Integer(), nullable=False),
        sa.Column('product_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['page_id'], ['pages.id'], name=op.f('fk_page_products_page_id_pages'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_page_products_product_id_products'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('page_id', 'product_id', name=op.f('pk_page_products'))
    )
    with op.batch_alter_table('page_products', schema=None) as batch_op:
        batch_op.create_index('ix_page_products_product_id', ['product_id'], unique=False)
    op.execute(FILL[op.get_bind().dialect.name])


def downgrade():
    with op.batch_alter_table('page_products', schema=None) as batch_op:
        batch_op.drop_index('ix_page_products_product_id')
    op.drop_table('page_products')
