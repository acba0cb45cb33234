"""Shared fixtures. The database is chosen by TEST_DATABASE_URL: unset → a fresh SQLite
file per session; set (as ``.ci/run`` does) → that database, e.g. PostgreSQL.

The schema comes from the real Alembic migrations, so every run checks them too.
"""

import os

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from ally import create_app
from ally import database
from ally.extensions import cache
from ally.extensions import db

from . import factories


def _drop_everything():
    """Drop every table. SQLite checks foreign keys on DROP, and pages ↔ page_revisions
    reference each other, so SQLite drops with the check off (only possible outside a
    transaction)."""
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        db.metadata.drop_all(conn)
        conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
        if sqlite:
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")


def pytest_report_header(config):
    url = os.environ.get("TEST_DATABASE_URL")
    shown = sa.make_url(url).render_as_string(hide_password=True) if url else "sqlite (temp file)"
    return f"database: {shown}"


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    url = os.environ.get("TEST_DATABASE_URL") or (
        "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.db")
    )
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": url,
            "WTF_CSRF_ENABLED": False,
            # Cheap hashing keeps login-heavy tests fast; production uses scrypt.
            "ALLY_PASSWORD_HASH": "pbkdf2:sha256:1000",
            # Tests log in far more often than people do; the throttling tests lower these.
            "ALLY_LOGIN_LIMITS": "10000 per minute",
            "ALLY_LOGIN_ADDRESS_LIMITS": "10000 per minute",
            "ALLY_MEDIA_DIR": str(tmp_path_factory.mktemp("media")),
            # The page cache in this process's memory, emptied with the database.
            "CACHE_TYPE": "SimpleCache",
        }
    )
    with app.app_context():
        _drop_everything()
        upgrade()
    yield app
    with app.app_context():
        _drop_everything()
    database.dispose(app)


@pytest.fixture
def db_session(app):
    """An app context for the test and an empty database afterwards."""
    with app.app_context():
        yield db.session
        db.session.rollback()
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()
        db.session.remove()
        cache.clear()


@pytest.fixture
def client(app, db_session):
    return app.test_client()


@pytest.fixture
def runner(app, db_session):
    return app.test_cli_runner()


@pytest.fixture
def site(db_session):
    """Home → Blog → posts, and two categories, all published and committed."""
    tree = factories.make_site()
    db_session.commit()
    return tree


@pytest.fixture
def demo_site(runner, db_session):
    """The seed-demo content, loaded by the real command."""
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def count_queries(app):
    """Count SQL statements run inside a ``with count_queries() as counter:`` block."""

    class Counter:
        def __init__(self):
            self.statements: list[str] = []

        def __call__(self, conn, cursor, statement, *args):
            self.statements.append(statement)

        def __enter__(self):
            for engine in database.engines(app):  # the app's, and its reads'
                sa.event.listen(engine, "before_cursor_execute", self)
            return self

        def __exit__(self, *exc):
            for engine in database.engines(app):
                sa.event.remove(engine, "before_cursor_execute", self)

        @property
        def count(self) -> int:
            return len(self.statements)

    return Counter


@pytest.fixture
def explain(db_session):
    """The database's plan for a statement, as text: ``EXPLAIN QUERY PLAN`` on SQLite,
    ``EXPLAIN`` on PostgreSQL. There, unless ``as_is``, sequential scans, bitmap scans and
    sorts are priced out for the test's transaction: a handful of rows is cheapest to
    read whole and sort, so only then does the plan show the index a large table would
    be read through, in its order."""

    def plan(statement, *, as_is: bool = False) -> str:
        compiled = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
        if db.engine.dialect.name == "sqlite":
            rows = db_session.execute(sa.text(f"EXPLAIN QUERY PLAN {compiled}"))
            return "\n".join(row[-1] for row in rows)
        if not as_is:
            for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
                db_session.execute(sa.text(f"SET LOCAL {setting} = off"))
        return "\n".join(db_session.execute(sa.text(f"EXPLAIN {compiled}")).scalars())

    return plan


PASSWORD = "correct-horse-battery"


class AdminActions:
    """Log in and out of the admin through the real login form."""

    def __init__(self, client):
        self.client = client

    def login(self, email: str, password: str = PASSWORD, next_url: str | None = None):
        url = "/admin/login" + (f"?next={next_url}" if next_url else "")
        return self.client.post(url, data={"email": email, "password": password})

    def logout(self):
        return self.client.post("/admin/logout")


@pytest.fixture
def auth(client):
    return AdminActions(client)


@pytest.fixture
def users(db_session):
    """One active user per role, and a deactivated editor; all share PASSWORD."""
    made = {
        role: factories.make_user(f"{role}@ally.example", role, PASSWORD)
        for role in ("admin", "editor", "author")
    }
    made["inactive"] = factories.make_user("gone@ally.example", "editor", PASSWORD, is_active=False)
    db_session.commit()
    return made
