"""Safe public requests read without a transaction; every write keeps one."""

import json
import time
from datetime import datetime
from datetime import timedelta

import pytest
import sqlalchemy as sa

from ally import database
from ally.database import rows
from ally.extensions import db
from ally.models import Category
from ally.models import Page

from .factories import make_post
from .factories import make_product


@pytest.fixture
def autocommits(app):
    """Whether each statement ran on a connection in autocommit, while the block is open."""
    seen: list[bool] = []

    def record(conn, cursor, statement, *args):
        driver = conn.connection.dbapi_connection
        seen.append(
            driver.autocommit if hasattr(driver, "pgconn") else driver.isolation_level is None
        )

    for engine in database.engines(app):
        sa.event.listen(engine, "before_cursor_execute", record)
    yield seen
    for engine in database.engines(app):
        sa.event.remove(engine, "before_cursor_execute", record)


def _autocommit(driver) -> bool:
    """Whether a psycopg or sqlite3 connection is in autocommit."""
    return driver.autocommit if hasattr(driver, "pgconn") else driver.isolation_level is None


def test_a_page_and_the_api_read_in_autocommit(client, site, db_session, autocommits):
    for url in ("/", "/blog/", "/api/v2/pages/?type=blog.BlogPage", "/healthz"):
        db_session.commit()  # no transaction when a request starts, as in a worker
        assert client.get(url).status_code == 200, url
    assert autocommits and all(autocommits)


def test_a_post_keeps_its_transaction(client, site, db_session, autocommits):
    product = make_product("Melatonin", 2499)
    db_session.commit()
    response = client.post("/cart/add.js", json={"id": product.id, "quantity": 1})
    assert response.status_code == 200
    assert autocommits and not any(autocommits)


def test_reads_keep_connections_of_their_own_across_writes(client, site, db_session):
    """Reads take autocommit connections from a pool of their own, and get the same one
    back after a write ran on the app's: it never joins a transaction, so it never rolls
    one back (which would drop its prepared statements)."""
    writer, reader = database.engines(client.application)
    used: list[tuple[str, int, bool]] = []

    def record(name):
        def listener(conn, cursor, statement, *args):
            driver = conn.connection.dbapi_connection
            used.append((name, id(driver), _autocommit(driver)))

        return listener

    listeners = [(writer, record("writer")), (reader, record("reader"))]
    for engine, listener in listeners:
        sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        product_id = make_product("Melatonin", 2499).id
        db_session.commit()
        for request in (
            lambda: client.get("/blog/"),
            lambda: client.post("/cart/add.js", json={"id": product_id, "quantity": 1}),
            lambda: client.get("/api/v2/pages/"),
        ):
            assert request().status_code == 200
            db_session.close()
    finally:
        for engine, listener in listeners:
            sa.event.remove(engine, "before_cursor_execute", listener)
    reads = {(connection, autocommit) for name, connection, autocommit in used if name == "reader"}
    writes = {(connection, autocommit) for name, connection, autocommit in used if name == "writer"}
    assert len(reads) == 1 and next(iter(reads))[1] is True
    assert writes and not any(autocommit for _, autocommit in writes)
    assert writer.pool is not reader.pool


def test_connections_go_back_to_the_pool_with_transactions(client, site, db_session):
    """After a read, every pooled connection still rolls a write back."""
    db_session.commit()
    assert client.get("/blog/").status_code == 200
    db_session.close()
    pool = db.engine.pool
    connections = [db.engine.connect() for _ in range(max(pool.checkedin(), 1))]
    try:
        for number, conn in enumerate(connections):
            conn.execute(sa.insert(Category).values(name=f"Scratch {number}", slug=f"s-{number}"))
            conn.rollback()
    finally:
        for conn in connections:
            conn.close()
    assert db_session.scalar(sa.select(sa.func.count()).where(Category.slug.like("s-%"))) == 0


def test_a_connection_the_server_dropped_is_replaced_without_an_error(client, site, db_session):
    """A backend the server terminated (a restart does the same to all) is noticed when the
    pool hands its connection out: the next request reconnects instead of failing."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no server to hang up")
    reader = database.engines(client.application)[-1]  # the pool reads take connections from
    db_session.commit()
    database.dispose(client.application)
    # A threaded server's requests take from the pool (a worker's kept one: the next test).
    threaded = {"wsgi.multithread": True}
    assert client.get("/blog/", environ_overrides=threaded).status_code == 200
    db_session.close()
    pooled = [record.driver_connection.info.backend_pid for record in reader.pool._pool.queue]
    assert pooled
    admin = sa.create_engine(db.engine.url, poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        for pid in pooled:
            conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        for _ in range(100):  # until the terminated backends have exited
            alive = conn.scalar(
                sa.text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)"),
                {"pids": pooled},
            )
            if not alive:
                break
            time.sleep(0.02)
    admin.dispose()
    assert client.get("/blog/category/recovery/", environ_overrides=threaded).status_code == 200
    db_session.close()
    # Every connection the pool hands out now is new: the first hang-up retired the others.
    connections = [reader.connect() for _ in range(reader.pool.checkedin())]
    try:
        now = {conn.connection.driver_connection.info.backend_pid for conn in connections}
    finally:
        for conn in connections:
            conn.close()
    assert now and not now & set(pooled)


def test_timestamps_come_back_in_utc_whatever_the_servers_zone(
    client, site, db_session, monkeypatch
):
    """Rows skip converting timestamps in Python on PostgreSQL, which is right only because
    every connection sets its session to UTC: here a server zone 13 hours ahead (libpq's
    ``PGTZ``) must not leak into the values pages and the API read."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite stores no zone")
    blog_id = site.blog.id
    published = db_session.scalar(sa.select(Page.first_published_at).where(Page.id == blog_id))
    db_session.commit()
    db_session.close()
    monkeypatch.setenv("PGTZ", "Pacific/Auckland")
    database.dispose(client.application)  # new connections, in that zone
    try:
        for engine in database.engines(client.application):
            with engine.connect() as conn:
                assert conn.exec_driver_sql("SHOW TIME ZONE").scalar() == "UTC"
        page = db_session.get(Page, blog_id)
        assert page.first_published_at.utcoffset() == timedelta(0)
        assert page.first_published_at == published
        meta = client.get(f"/api/v2/pages/{blog_id}/").get_json()["meta"]
        assert datetime.fromisoformat(meta["first_published_at"]) == published
    finally:
        db_session.close()
        database.dispose(client.application)  # later tests connect without PGTZ


def _sqlalchemy_rows(statement, params):
    """What SQLAlchemy's own execution of ``statement`` returns, as plain tuples."""
    result = db.session.execute(statement, params)
    return list(result.keys()), [tuple(row) for row in result]


def test_driver_reads_return_what_sqlalchemy_returns(app, site, db_session):
    """``rows()`` runs the compiled SQL on the driver's cursor. For the statements pages
    read, with an expanding ``IN``, a window written into the SQL, a callable ``now`` and
    values of every kind (dates, UTC datetimes, JSON, booleans, aggregates), its rows must
    be SQLAlchemy's, field names included, and a shape of SQL kept for one set of values
    must serve the next."""
    from ally.models.cards import _posts_statement
    from ally.models.page_types import _promo_paths_statement
    from ally.site.routing import _categories_statement
    from ally.site.routing import _menu_statement
    from ally.site.routing import _resolve_statement
    from ally.site.routing import prefixes

    product = make_product("Melatonin", 2499)
    promo = {"type": "product_promo", "value": {"product": product.id, "headline": "Sleep"}}
    post = make_post(site.blog, categories=[site.health, site.recovery], body=[promo])
    make_post(site.blog, live=False)
    db_session.commit()
    listing = {"listing_limit": 11, "listing_category": "recovery"}
    reads = [
        (_resolve_statement(None), {"paths": prefixes(["blog", post.slug])}),
        (_resolve_statement(None), {"paths": prefixes(["no-such-page"])}),
        (_resolve_statement(None), {"paths": prefixes(["blog"])}),  # that shape, other values
        (_resolve_statement(False), {"paths": prefixes(["blog"]), **listing}),
        (_resolve_statement(True), {"paths": prefixes(["blog"]), **listing}),
        (_posts_statement(True, False, False), {"blog_id": site.blog.id, "limit": 10, "offset": 0}),
        (_posts_statement(True, False, True), {"blog_id": site.blog.id, "limit": 10, "offset": 1}),
        (
            _posts_statement(True, True, False),
            {"blog_id": site.blog.id, "category_id": site.health.id, "limit": 1, "offset": 0},
        ),
        (_menu_statement(), {}),
        (_promo_paths_statement(), {"ids": [product.id, product.id + 1]}),
        (_categories_statement(), {}),
    ]
    for statement, params in reads:
        keys, expected = _sqlalchemy_rows(statement, params)
        found = rows(statement, params)
        assert [tuple(row) for row in found] == expected
        assert all(list(row._fields) == keys for row in found)
    resolved = rows(*reads[0])[0]
    assert resolved.title == post.title and resolved.depth == post.depth
    assert resolved.first_published_at.utcoffset() == timedelta(0)
    assert sorted(c["slug"] for c in resolved.categories_json) == [
        "health-management",
        "recovery",
    ]
    assert [row.id for row in rows(*reads[1])] == [site.home.id]  # the deepest on that path
    assert [row.id for row in rows(*reads[2])] == [site.blog.id]
    assert len(rows(*reads[2])[0].ally_categories) == 2  # a blog index's row lists them
    assert not resolved.ally_categories  # a post's does not (SQLite aggregates none as [])
    assert len(rows(*reads[5])) == 1 and rows(*reads[6]) == []  # one public post
    # The blog's first listing page, whole and of one category, rides in its row.
    whole, recovery = rows(*reads[3])[0].ally_cards, rows(*reads[4])[0].ally_cards
    assert [card["id"] for card in whole] == [card["id"] for card in recovery] == [post.id]


def test_a_read_the_database_refuses_raises_sqlalchemys_error(app, db_session):
    """A driver read that fails goes through SQLAlchemy's execution, so callers and the
    designed 503 see SQLAlchemy's error, never the driver's own."""
    with pytest.raises(sa.exc.DBAPIError):
        rows(sa.select(sa.func.no_such_function()))


def test_a_kept_connection_whose_server_hung_up_is_replaced(app, client, site):
    """A worker's kept reading connection is checked at every request as the pool checks
    what it hands out: after its backend is terminated, the next request reads on a new
    one instead of failing."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no server to hang up")
    database.dispose(app)

    def reading_pid() -> int:
        db.session.close()
        with app.test_request_context("/blog/"):
            app.preprocess_request()
            reading = database.current_reads().connection()
            return reading.connection.driver_connection.info.backend_pid

    kept = reading_pid()
    assert reading_pid() == kept
    admin = sa.create_engine(db.engine.url, poolclass=sa.pool.NullPool)
    with admin.connect() as conn:  # waits up to 5 s for the backend to exit
        conn.execute(sa.text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": kept})
    admin.dispose()
    db.session.close()
    assert client.get("/blog/category/recovery/").status_code == 200
    assert reading_pid() != kept
    database.dispose(app)


def test_a_server_lost_during_a_read_is_sqlalchemys_disconnect(client, site, db_session):
    """A backend lost while its connection is checked out fails the read as SQLAlchemy's
    invalidated disconnect (the error pages answer 503), and the next request reconnects."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no server to lose")
    from ally.site.routing import _categories_statement

    db_session.commit()
    pid = db_session.connection().connection.driver_connection.info.backend_pid
    admin = sa.create_engine(db.engine.url, poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        # waits up to 5 s for the backend to exit
        conn.execute(sa.text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
    admin.dispose()
    with pytest.raises(sa.exc.OperationalError) as lost:
        rows(_categories_statement())
    assert lost.value.connection_invalidated
    db_session.rollback()
    db_session.close()
    assert client.get("/blog/category/recovery/").status_code == 200


def test_json_columns_decode_as_the_standard_library_would(client, site, db_session, monkeypatch):
    """Both engines read JSON columns through ``json_loads``: msgspec first, the standard
    library for what msgspec refuses. A body holding an integer past 64 bits and a number
    past a double (written around the editor) still renders and serves through the API."""
    huge = 2**70
    post = make_post(site.blog, categories=[site.recovery])
    db_session.commit()
    body = [
        {"type": "paragraph", "value": "<p>Plain words.</p>", "id": "a"},
        {"type": "product_promo", "value": {"product": huge, "headline": "Gone"}, "id": "b"},
    ]
    db_session.execute(sa.update(Page).where(Page.id == post.id).values(body_json=body))
    db_session.commit()
    decoded = []
    decoder = database.JSON_DECODER

    class Counting:
        @staticmethod
        def decode(data):
            decoded.append(data)
            return decoder.decode(data)

    monkeypatch.setattr(database, "JSON_DECODER", Counting)
    page = client.get(post.url_path)
    assert page.status_code == 200 and "Plain words." in page.get_data(as_text=True)
    assert decoded  # the read's JSON columns went through msgspec
    detail = client.get(f"/api/v2/pages/{post.id}/")
    assert detail.status_code == 200
    assert detail.json["body"][1]["value"]["product"] is None
    for text in (f'{{"id": {huge}}}', '[1e999, "\\ud800", 0.1, -3]', '{"a": [true, null]}'):
        for data in (text, text.encode()):
            assert repr(database.json_loads(data)) == repr(json.loads(data))


def test_a_read_only_request_reads_on_one_connection_without_a_session(app, site):
    """Its reads of rows make no session; the session's own queries, when a view makes
    them, run on the same connection; a server serving one request at a time keeps it for
    the next; the session lets go of it when the request ends."""
    _, reader = database.engines(app)
    db.session.remove()
    database.dispose(app)
    with app.test_request_context("/blog/"):
        app.preprocess_request()
        assert [row.one for row in rows(_ONE)] == [1]
        assert not db.session.registry.has()
        reading = database.current_reads().connection()
        session = db.session()
        assert session.scalar(sa.select(sa.literal(2))) == 2
        assert session.connection() is reading and reader.pool.checkedout() == 1
        session.close()
        assert [row.one for row in rows(_ONE)] == [1]  # a session closed takes it again
        assert db.session().connection() is reading
        app.do_teardown_request()
        assert database.current_reads() is None and not session.in_transaction()
        assert session.scalar(sa.select(sa.literal(3))) == 3
        assert session.connection() is not reading  # the app's engine, in a transaction
        db.session.remove()
    assert reader.pool.checkedout() == 1 and not reading.closed
    database.dispose(app)
    assert reader.pool.checkedout() == 0 and reading.closed


def test_pages_are_read_without_an_orm_session(app, client, site, db_session, monkeypatch):
    """A post with a product promo, a listing, a category and the post's API detail: the
    reads, the promoted product and the card's lookup of it (``loaded``) all go without a
    session. (The page
    cache's first store reads the publishing schedule in one, once.)"""
    product = make_product("Melatonin", 2499)
    post = make_post(
        site.blog,
        categories=[site.recovery],
        body=[{"type": "product_promo", "value": {"product": product.id, "headline": "Sleep"}}],
    )
    db_session.commit()
    post_url = post.url_path
    db.session.remove()
    made = []
    make = db.session.registry.createfunc
    monkeypatch.setattr(db.session.registry, "createfunc", lambda: made.append(1) or make())
    monkeypatch.setitem(app.config, "ALLY_CACHE_ENABLED", False)  # each request reads

    detail = f"/api/v2/pages/{post.id}/"
    for url in (post_url, "/blog/", "/blog/category/recovery/", detail):
        page = client.get(url)
        assert page.status_code == 200 and not made, url
    assert client.get(detail).json["body"][0]["value"]["product"]["name"] == "Melatonin"
    assert "Melatonin" in client.get(post_url).get_data(as_text=True)


def test_a_worker_keeps_its_reading_connection_between_requests(app, client, site):
    """One checkout for many reads (a sync worker: ``wsgi.multithread`` false); a threaded
    server, a thread per request, gives each request's connection back to the pool."""
    reader, blog_id = database.engines(app)[-1], site.blog.id
    db.session.close()  # out of the test's transaction before its connection is closed
    database.dispose(app)
    checkouts = []

    def counted(dbapi_connection, record, proxy):
        checkouts.append(dbapi_connection)

    def get(url: str, **kwargs) -> int:
        db.session.close()  # the test's session is the request's: out of its transaction
        return client.get(url, **kwargs).status_code

    sa.event.listen(reader, "checkout", counted)
    try:
        for url in (
            "/blog/",
            "/blog/category/recovery/",
            "/api/v2/pages/",
            f"/api/v2/pages/{blog_id}/",
        ):
            assert get(url) == 200
        assert len(checkouts) == 1 and reader.pool.checkedout() == 1
        threaded = {"wsgi.multithread": True}
        for limit in (1, 2):  # URLs the page cache has not seen
            assert get(f"/api/v2/pages/?limit={limit}", environ_overrides=threaded) == 200
        db.session.close()  # as the request's end does outside a test
        assert len(checkouts) == 3 and reader.pool.checkedout() == 1  # only the kept one
    finally:
        sa.event.remove(reader, "checkout", counted)
    database.dispose(app)


_ONE = sa.select(sa.literal(1).label("one"))


def test_rows_a_session_adopted_go_with_its_commit_rollback_and_close(app, db_session):
    """Outside a read-only request, adopted rows are the session's: found by ``loaded``
    until it commits, rolls back or closes, after which they are read afresh."""
    from ally.models import Product
    from ally.models.sql import adopt
    from ally.models.sql import loaded

    row = {"id": 41, "name": "Melatonin", "slug": "melatonin", "price_cents": 2499}
    for end in (db_session.commit, db_session.rollback, db_session.close):
        session = db.session()
        session.execute(sa.text("SELECT 1"))  # read in a transaction, as a page's rows are
        (adopted,) = adopt(session, Product, [row])
        assert loaded(Product, 41) is adopted
        end()
        assert loaded(Product, 41) is None, end
