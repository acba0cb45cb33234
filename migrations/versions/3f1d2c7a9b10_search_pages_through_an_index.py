"""Search pages through an index on PostgreSQL: a tsvector of pages.search_text, kept by
a trigger, and a GIN index on it (see ally/models/search.py). Without it every search
read every page's text: 700 ms a query at 100,000 posts. SQLite keeps its substring scan.

A trigger rather than a generated column, for two reasons measured at 100,000 posts:
adding a generated column rewrites the table under a lock that stops every page read
for about a minute, and PostgreSQL recomputes a generated column on every UPDATE of a
row, so moving a large subtree (which rewrites its url_paths) paid 80 µs a page for a
vector whose text had not changed. The trigger fires only when search_text is written.
The column and trigger are committed before the column is filled (about a minute, during
which saves of pages wait) and the index is built concurrently: pages are read throughout.

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
    # Idempotent: the steps after the commit below may be run again after a failure.
    op.execute("ALTER TABLE pages ADD COLUMN IF NOT EXISTS search_vector tsvector")
    op.execute("DROP TRIGGER IF EXISTS pages_search_vector ON pages")
    op.execute(
        "CREATE TRIGGER pages_search_vector BEFORE INSERT OR UPDATE OF search_text ON pages"
        " FOR EACH ROW EXECUTE FUNCTION"
        " tsvector_update_trigger(search_vector, 'pg_catalog.english', search_text)"
    )
    # Committed first: the column's lock would otherwise stop reads until the end.
    with op.get_context().autocommit_block():
        op.execute("UPDATE pages SET search_text = search_text WHERE search_vector IS NULL")
        op.execute(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_pages_search"
            " ON pages USING gin (search_vector)"
        )


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX ix_pages_search")
    op.execute("DROP TRIGGER pages_search_vector ON pages")
    op.execute("ALTER TABLE pages DROP COLUMN search_vector")
