"""How requests hold the database: safe public requests read without a transaction.

A GET of a page or the API only reads, and on PostgreSQL a transaction costs it two round
trips (``BEGIN``, and the ``ROLLBACK`` that returns the connection to the pool). Worse,
psycopg forgets its prepared statements at every ``ROLLBACK``, so the server parsed and
planned every query of every page again. Reading in autocommit, a worker's connection
prepares the statements pages repeat (psycopg does so from their fifth run) and keeps them
until a request with a transaction (an admin page) rolls back on it.
Measured on a cold post page at 100,000 posts: the server's CPU went from 0.8 to 0.4 ms
per request, the whole request from 4.3 to 3.7 ms (``bench/RESULTS.md``).

Everything else (forms, the cart's JSON, the admin, the CLI) keeps its transaction, so a
unit of work commits whole or not at all.

A connection whose server hung up is replaced when the pool hands it out (see
:func:`replace_if_hung_up`), which is how ALLY recovers from a database restart by itself.
"""

import select

import flask_sqlalchemy.session
import sqlalchemy as sa
from flask import Flask
from flask import current_app
from flask import request

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Blueprints whose safe requests never write (the admin's are left alone).
READ_ONLY_BLUEPRINTS = frozenset({"site", "api", "cart", "ops"})

_READS = "ally.reads_without_transaction"  # in session.info, for one request
_ENGINE = "ally.autocommit_engine"  # in app.extensions


class Session(flask_sqlalchemy.session.Session):
    """Flask-SQLAlchemy's session, whose connection autocommits in a read-only request.

    The bind is chosen when the first query runs, so a request that never queries (an empty
    cart, ``robots.txt``) checks out no connection, and keeps working while the database is
    down.
    """

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        if bind is None and self.info.get(_READS):
            return current_app.extensions[_ENGINE]
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


def init_app(app: Flask, db) -> None:
    """Mark safe requests to the public blueprints as reads, for the length of the request.

    The engine shares the app's pool: SQLAlchemy sets autocommit on a connection when it is
    checked out for a read and resets it when the connection goes back, which happens when
    the request's session is removed. A session that outlives the request (a test's, sharing
    its app context) takes a connection with a transaction for whatever it does next.
    """
    with app.app_context():
        app.extensions[_ENGINE] = db.engine.execution_options(isolation_level="AUTOCOMMIT")
        sa.event.listen(db.engine, "checkout", replace_if_hung_up)
        sa.event.listen(db.engine, "connect", speak_utc)

    @app.before_request
    def read_without_transaction() -> None:
        # A session already in a transaction (a test's) keeps it.
        if (
            request.method in SAFE_METHODS
            and request.blueprint in READ_ONLY_BLUEPRINTS
            and not (session := db.session()).in_transaction()
        ):
            session.info[_READS] = True

    @app.teardown_request
    def end_read(exc: BaseException | None = None) -> None:
        if db.session.registry.has():  # no session made just to be told
            db.session().info.pop(_READS, None)


def rows(statement: sa.Executable, params: dict | None = None) -> sa.CursorResult:
    """``statement``'s rows, through the request session's connection.

    For reads of columns, not ORM objects: the session's own ``execute`` wraps even those
    in the ORM's execution (autoflush, loading options, result adaptation), which cost a
    listing 4% of its instructions. Nothing is flushed first, so call it where the session
    holds no pending changes: the reader's pages read what is committed.
    """
    from ally.extensions import db

    return db.session.connection().execute(statement, params)


def speak_utc(dbapi_connection, connection_record) -> None:
    """Pool ``connect``: a PostgreSQL session in UTC, so timestamps come back as UTC
    datetimes without converting each one in Python (see ``UTCDateTime``)."""
    if getattr(dbapi_connection, "pgconn", None) is None:  # SQLite: no time zone
        return
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True  # a setting, not a transaction left open
    dbapi_connection.execute("SET TIME ZONE 'UTC'")
    dbapi_connection.autocommit = autocommit


def replace_if_hung_up(dbapi_connection, connection_record, connection_proxy) -> None:
    """Pool ``checkout``: a PostgreSQL connection whose server hung up is replaced.

    The server sends an idle connection nothing unasked, so a readable socket means it said
    goodbye: a restart, ``pg_terminate_backend``, ``idle_session_timeout``. Raising
    ``InvalidatePoolError`` makes the pool connect afresh and retire every connection older
    than this one, as a failed ``pool_pre_ping`` does; if the server is still down, the
    connect error becomes the designed 503. This costs one ``poll`` where the pre-ping cost
    a round trip on every checkout (4–8% of a cold post page or API listing,
    ``bench/RESULTS.md``).

    A server lost without closing the socket (a host gone) fails the first query instead;
    SQLAlchemy then discards the pool's other connections, as it would after a failed ping.
    """
    pgconn = getattr(dbapi_connection, "pgconn", None)
    if pgconn is None:  # SQLite: no server to lose
        return
    if dbapi_connection.closed or dbapi_connection.broken:
        raise sa.exc.InvalidatePoolError("connection closed")
    poller = select.poll()  # not select.select, which fails for descriptors past 1023
    poller.register(pgconn.socket, select.POLLIN | select.POLLHUP | select.POLLERR)
    if poller.poll(0):
        raise sa.exc.InvalidatePoolError("the server hung up")
