"""How requests hold the database: safe public requests read without a transaction.

A GET of a page or the API only reads, and on PostgreSQL a transaction costs it two round
trips (``BEGIN``, and the ``ROLLBACK`` that returns the connection to the pool). Worse,
psycopg forgets its prepared statements at every ``ROLLBACK``, so the server parsed and
planned every query of every page again. Reading in autocommit, on connections of their
own, a worker's reading connection prepares the statements pages repeat (psycopg does so
from their fifth run) and keeps them for as long as it lives.
Measured on a cold post page at 100,000 posts: the server's CPU went from 0.8 to 0.4 ms
per request, the whole request from 4.3 to 3.7 ms (``bench/RESULTS.md``).

Everything else (forms, the cart's JSON, the admin, the CLI) keeps its transaction, so a
unit of work commits whole or not at all.

A connection whose server hung up is replaced when the pool hands it out (see
:func:`replace_if_hung_up`) or a worker takes the one it keeps (:class:`HeldConnections`),
which is how ALLY recovers from a database restart by itself.
"""

import json
import select
import threading
import weakref
from contextvars import ContextVar
from typing import Any

import flask_sqlalchemy.session
import msgspec
import sqlalchemy as sa
import sqlalchemy.orm
from flask import Flask
from flask import request

from ally import late
from ally.statements import read_for

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Blueprints whose safe requests never write (the admin's are left alone).
READ_ONLY_BLUEPRINTS = frozenset({"site", "api", "cart", "ops"})

_ENGINE = "ally.autocommit_engine"  # in app.extensions
_HELD = "ally.held_reading_connections"  # in app.extensions
_REQUEST_READS = "ally.reads"  # in a read-only request's WSGI environ
# Where a session keeps the rows ``ally.models.sql.adopt`` read for it, by (model, id), until
# it commits, rolls back or closes.
AT_HAND = "ally.rows_at_hand"


def json_loads(data: str | bytes) -> Any:
    """A JSON column's value exactly as :func:`json.loads` gives it, decoded by msgspec:
    bodies, categories, menus and promoted products all come back as JSON, and msgspec
    reads them two to seven times faster (2.5% of a cold post page's instructions, 4% of
    a listing's or an API detail's). What it refuses, the standard library reads as ever:
    numbers past a double (``1e999``), lone surrogates. (orjson was faster still, but
    turns integers past 64 bits into floats.)"""
    try:
        return JSON_DECODER.decode(data)
    except msgspec.MsgspecError:
        return json.loads(data)


JSON_DECODER = msgspec.json.Decoder()
# Both engines' options below the app's SQLALCHEMY_ENGINE_OPTIONS (see ``extensions``).
ENGINE_OPTIONS = {"json_deserializer": json_loads}


class Reads:
    """What a read-only request holds of the database: the connection its reads share, taken
    at its first read and given back when it ends, and the rows it read as JSON and adopted
    (``ally.models.sql.adopt``).

    It is the request's, not a session's: a page's reads need no ORM session, and making and
    removing one cost every page 128,000 instructions (3.5% of a cold post page). The
    session's queries, when a view makes them, run on the same connection (see
    :meth:`Session.get_bind`), so a request holds one connection and its prepared
    statements. A server that serves one request at a time keeps it between requests (see
    :class:`HeldConnections`).
    """

    __slots__ = ("adopted", "_app", "_threaded", "_taken", "_session", "_token")

    def __init__(self, app: Flask, threaded: bool) -> None:
        self.adopted: dict[tuple, Any] = {}
        self._app, self._threaded = app, threaded
        self._taken: sa.Connection | None = None
        self._session: Session | None = None  # one whose queries ran on the connection
        self._token = _reads.set(self)

    def connection(self, session: "Session | None" = None) -> sa.Connection:
        """The request's connection; ``session``, when given, is one about to query on it,
        which lets go of it before the request ends (see :meth:`end`)."""
        if session is not None:
            self._session = session
        if self._taken is None:
            engine = self._app.extensions[_ENGINE]
            held = self._app.extensions[_HELD]
            self._taken = engine.connect() if self._threaded else held.take(engine)
        return self._taken

    def end(self) -> None:
        """Give the connection back, once a session that queried on it has let go of it
        (a test's session, which outlives the request, goes on with a transaction of the
        app's engine)."""
        _reads.reset(self._token)
        try:
            if self._session is not None and self._session.in_transaction():
                self._session.rollback()
        finally:  # a rollback that fails (the server gone) still gives the connection back
            if self._taken is not None and self._threaded:
                self._taken.close()


_reads: ContextVar[Reads | None] = ContextVar("ally.reads", default=None)


def current_reads() -> Reads | None:
    """The read-only request under way, if one is."""
    return _reads.get()


class Session(flask_sqlalchemy.session.Session):
    """Flask-SQLAlchemy's session, whose queries in a read-only request run on the request's
    autocommit connection (:class:`Reads`).

    The bind is chosen when the first query runs, so a request that never queries (an empty
    cart, ``robots.txt``) checks out no connection, and keeps working while the database is
    down.
    """

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        reads = _reads.get()
        if bind is None and reads is not None:
            return reads.connection(self)
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)

    def close(self) -> None:
        super().close()
        forget_adopted(self)  # closing has no event of its own


@sa.event.listens_for(sa.orm.Session, "after_commit")
@sa.event.listens_for(sa.orm.Session, "after_rollback")
def forget_adopted(session: sa.orm.Session, *args) -> None:
    """What a session adopted (``ally.models.sql.adopt``) is read again after a commit or
    rollback, as the session expires its own rows, and goes when it closes, as its own do."""
    session.info.pop(AT_HAND, None)


class HeldConnections:
    """The reads' connection of each thread, kept between its requests, for servers that
    serve one request at a time (``wsgi.multithread`` false: gunicorn's sync workers).

    Taking a connection from the pool and giving it back cost every read-only request 3%
    of its instructions (``bench/RESULTS.md``). A kept one is checked at every take as the
    pool checks those it hands out (:func:`hung_up`), and replaced if its server hung up or
    a failed read invalidated it, so a database restart still heals by itself. Threaded
    servers (the development server, a thread per request) take from the pool as before.
    Connections are closed by :func:`dispose`, or when the app is collected.
    """

    def __init__(self, app: Flask):
        self._local = threading.local()
        self._kept: set[sa.Connection] = set()  # every thread's, to close from any thread
        self._lock = threading.Lock()
        weakref.finalize(app, self.close)

    def take(self, engine: sa.Engine) -> sa.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is not None and not (connection.closed or connection.invalidated):
            if not hung_up(connection.connection.dbapi_connection):
                return connection
            connection.invalidate()  # the pool's checkout then tests the others
        if connection is not None:
            self._forget(connection)
        connection = self._local.connection = engine.connect()
        with self._lock:
            self._kept.add(connection)
        return connection

    def _forget(self, connection: sa.Connection) -> None:
        with self._lock:
            self._kept.discard(connection)  # unless dispose closed it
        self._local.connection = None
        connection.close()

    def close(self) -> None:
        with self._lock:
            kept, self._kept = self._kept, set()
        for connection in kept:
            connection.close()


def init_app(app: Flask, db) -> None:
    """Make safe requests to the public blueprints read-only requests (:class:`Reads`).

    Reads go through an engine of their own on the same database (see :func:`_reader`),
    whose connections go back to its pool when the request ends. A session already in a
    transaction when the request starts (a test's, sharing its app context) keeps it.
    """
    with app.app_context():
        app.extensions[_ENGINE] = _reader(app, db.engine)
    app.extensions[_HELD] = HeldConnections(app)
    for engine in engines(app):
        sa.event.listen(engine, "checkout", replace_if_hung_up)
        sa.event.listen(engine, "connect", speak_utc)

    @app.before_request
    def read_without_transaction() -> None:
        reading = request._get_current_object()
        if (
            reading.method in SAFE_METHODS
            and reading.blueprint in READ_ONLY_BLUEPRINTS
            and not (db.session.registry.has() and db.session().in_transaction())
        ):
            reading.environ[_REQUEST_READS] = Reads(
                app, reading.environ.get("wsgi.multithread", True)
            )

    @app.teardown_request
    def end_read(exc: BaseException | None = None) -> None:
        reads = request._get_current_object().environ.pop(_REQUEST_READS, None)
        if reads is not None:
            reads.end()


def _reader(app: Flask, engine: sa.Engine) -> sa.Engine:
    """An engine on ``engine``'s database whose pool holds autocommit connections.

    Sharing the app's pool, a read switched its connection to autocommit when it was checked
    out and back when it was returned: 3% of a cold post page's instructions and 4% of an API
    listing's (``bench/RESULTS.md``). Connections of their own also never roll back, so
    they keep their prepared statements however many transactions the admin runs on the
    other pool. A sync worker holds at most one connection of each. An in-memory SQLite
    database exists once per connection, so there reads share the app's engine.
    """
    if engine.url.get_backend_name() == "sqlite" and engine.url.database in (None, "", ":memory:"):
        return engine.execution_options(isolation_level="AUTOCOMMIT")
    options = {**ENGINE_OPTIONS, "echo": app.config.get("SQLALCHEMY_ECHO", False)}
    options |= app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    # No transaction to end when a connection goes back: nothing to roll back.
    return sa.create_engine(
        engine.url, isolation_level="AUTOCOMMIT", pool_reset_on_return=None, **options
    )


def engines(app: Flask) -> tuple[sa.Engine, ...]:
    """The app's engines: Flask-SQLAlchemy's, for transactions, and the reads' own."""
    with app.app_context():
        writer, reader = late.extensions().db.engine, app.extensions[_ENGINE]
    return (writer,) if reader.pool is writer.pool else (writer, reader)


def dispose(app: Flask) -> None:
    """Close every pooled or kept connection of the app's engines (new ones open on next
    use)."""
    app.extensions[_HELD].close()
    for engine in engines(app):
        engine.dispose()


def rows(statement: sa.Select, params: dict | None = None) -> list[tuple]:
    """``statement``'s rows as named tuples, read on a read-only request's connection
    (:class:`Reads`), else on the session's, in its transaction.

    For the reader's reads of columns, not ORM objects, by statements built once: each is
    compiled once per dialect and run on the driver's cursor (``statements.Read``), where
    the session's ``execute`` wrapped even a select of columns in the ORM's execution and
    then in Core's. Nothing is flushed first, so call it where the session holds no
    pending changes: the reader's pages read what is committed.
    """
    reads = _reads.get()
    if reads is not None:
        connection = reads.connection()
    else:
        connection = late.extensions().db.session().connection()
    return read_for(statement, connection.dialect).run(connection, params or {})


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
    if hung_up(dbapi_connection):
        raise sa.exc.InvalidatePoolError("the server hung up")


def hung_up(dbapi_connection) -> bool:
    """Whether a PostgreSQL connection is closed, broken, or its server said goodbye (an
    idle connection's socket is readable only then). Never for SQLite: no server to lose."""
    pgconn = getattr(dbapi_connection, "pgconn", None)
    if pgconn is None:
        return False
    if dbapi_connection.closed or dbapi_connection.broken:
        return True
    poller = select.poll()  # not select.select, which fails for descriptors past 1023
    poller.register(pgconn.socket, select.POLLIN | select.POLLHUP | select.POLLERR)
    return bool(poller.poll(0))
