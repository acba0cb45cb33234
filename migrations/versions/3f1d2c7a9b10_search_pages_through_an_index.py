"""Search pages through an index on PostgreSQL: a stored tsvector of pages.search_text
and a GIN index on it (see ally/models/search.py). Without it every search read every
page's text: 700 ms a query at 100,000 posts. SQLite keeps its substring scan.

Adding the column computes it for every page, and the table is locked while it does
(about a minute at 100,000 posts): run it in a quiet moment.

Revision ID: 3f1d2c7a9b10
Revises: 0079aaa15dd5
Create Date: 2026-11-26 09:10:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '3f1d2c7a9b10'
down_revision = '0079aaa15dd5'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "ALTER TABLE pages ADD COLUMN search_vector tsvector"
        " GENERATED ALWAYS AS (to_tsvector('english', search_text)) STORED"
    )
    op.execute("CREATE INDEX ix_pages_search ON pages USING gin (search_vector)")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX ix_pages_search")
    op.execute("ALTER TABLE pages DROP COLUMN search_vector")
