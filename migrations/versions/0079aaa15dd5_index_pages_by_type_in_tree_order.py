"""Index pages by type in tree order and by type and date: the API's typed listings
(``?type=blog.BlogPage``, default order ``url_path``) and the home page's latest posts of
every blog read their first rows from an index instead of sorting every page of the type.
Replaces the single-column page_type index, now a prefix of both. A partial index on the
pages shown in menus keeps the header menu off a full scan once ANALYZE has seen a blog
with many children.

Revision ID: 0079aaa15dd5
Revises: c39b1362ce9c
Create Date: 2026-11-25 16:32:01.550721

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0079aaa15dd5'
down_revision = 'c39b1362ce9c'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('pages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pages_page_type'))
        batch_op.create_index('ix_pages_type_url_path', ['page_type', 'url_path'], unique=False)
        batch_op.create_index('ix_pages_type_date', ['page_type', 'date', 'id'], unique=False)
        batch_op.create_index(
            'ix_pages_menu',
            ['parent_id', 'position'],
            unique=False,
            postgresql_where=sa.text('show_in_menus'),
            sqlite_where=sa.text('show_in_menus = 1'),
        )


def downgrade():
    with op.batch_alter_table('pages', schema=None) as batch_op:
        batch_op.drop_index('ix_pages_menu')
        batch_op.drop_index('ix_pages_type_date')
        batch_op.drop_index('ix_pages_type_url_path')
        batch_op.create_index(batch_op.f('ix_pages_page_type'), ['page_type'], unique=False)
