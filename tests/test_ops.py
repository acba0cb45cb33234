"""Operations: health check, outages, request ids, security headers, login throttling,
proxies and production settings."""

import logging
import os
import subprocess
import time

import pytest

from ally import create_app
from ally.extensions import limiter
from ally.logs import RequestIdFilter
from ally.ops import REQUEST_ID
from ally.ops import SECURITY_HEADERS
from ally.ops import EdgeHeaders

from .conftest import PASSWORD


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok", "database": "ok"}


@pytest.fixture
def unreachable_app(tmp_path):
    """An app whose database is a PostgreSQL address nothing listens on."""
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://ally:x@127.0.0.1:1/none",
            "SQLALCHEMY_ENGINE_OPTIONS": {
                "pool_pre_ping": True,
                "connect_args": {"connect_timeout": 2},
            },
            "SECRET_KEY": "x",
            "ALLY_MEDIA_DIR": str(tmp_path),
        }
    )


@pytest.mark.parametrize(
    ("path", "json"),
    [("/blog/", False), ("/", False), ("/api/v2/pages/", True), ("/cart.js", False)],
)
def test_database_down_gives_a_designed_503(unreachable_app, path, json):
    client = unreachable_app.test_client()
    if path == "/cart.js":
        with client.session_transaction() as session:
            session["cart"] = {"lines": [[1, 1]], "codes": []}
    response = client.get(path)
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    if json or path.endswith(".js"):
        assert response.json == {
            "message": "The site is briefly unavailable. Please try again in a moment."
        }
    else:
        assert "We'll be right back" in response.get_data(as_text=True)


def test_healthz_reports_an_unreachable_database(unreachable_app):
    response = unreachable_app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "error", "database": "unreachable"}


@pytest.mark.skipif(
    not os.environ.get("ALLY_TEST_PG_CLUSTER"),
    reason="needs the PostgreSQL cluster .ci/run starts (ALLY_TEST_PG_CLUSTER)",
)
def test_recovers_by_itself_when_postgresql_comes_back(client, demo_site, db_session):
    """Stop the real server mid-run, see 503s, start it, and the same app serves again.

    A page readers had already read keeps being served from the page cache meanwhile;
    anything that needs the database answers the designed 503.
    """
    version, name = os.environ["ALLY_TEST_PG_CLUSTER"].split()
    db_session.commit()
    db_session.remove()
    assert client.get("/blog/").status_code == 200
    subprocess.run(["pg_ctlcluster", version, name, "stop", "-m", "fast"], check=True)
    try:
        assert client.get("/healthz").status_code == 503
        cached = client.get("/blog/")
        assert cached.status_code == 200 and cached.headers["X-Cache"] == "HIT"
        assert client.get("/blog/category/recovery/").status_code == 503
        assert client.get("/api/v2/pages/").json["message"].startswith("The site is briefly")
    finally:
        subprocess.run(["pg_ctlcluster", version, name, "start"], check=True)
    for _ in range(50):
        if client.get("/healthz").status_code == 200:
            break
        time.sleep(0.2)
    assert client.get("/blog/category/recovery/").status_code == 200
    assert client.get("/api/v2/pages/").status_code == 200


def test_request_id_is_kept_or_made(client):
    made = client.get("/healthz").headers["X-Request-ID"]
    assert len(made) == 16
    assert (
        client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"]
        == "abc-123"
    )
    assert (
        client.get("/healthz", headers={"X-Request-ID": "bad id"}).headers["X-Request-ID"]
        != "bad id"
    )


@pytest.mark.parametrize(
    "path", ["/", "/blog/", "/admin/login", "/api/v2/pages/", "/cart.js", "/nope/"]
)
def test_security_headers_on_every_response(client, demo_site, path):
    headers = client.get(path).headers
    csp = headers["Content-Security-Policy"]
    assert (
        "script-src 'self'" in csp
        and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    )
    assert "frame-ancestors 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_edge_headers_are_added_once_and_a_views_own_header_wins():
    def wsgi_app(environ, start_response):
        seen["id"] = environ[REQUEST_ID]
        start_response("200 OK", [("x-frame-options", "SAMEORIGIN")])
        return [b"ok"]

    seen = {}
    app = EdgeHeaders(wsgi_app, SECURITY_HEADERS)
    app({}, lambda status, headers, exc_info=None: seen.update(headers=headers))

    names = [name.lower() for name, _ in seen["headers"]]
    assert sorted(names) == sorted({name.lower() for name in SECURITY_HEADERS} | {"x-request-id"})
    assert ("x-frame-options", "SAMEORIGIN") in seen["headers"]
    assert ("X-Request-ID", seen["id"]) in seen["headers"] and len(seen["id"]) == 16


def test_log_lines_carry_the_request_id(app):
    record = logging.LogRecord("ally", logging.INFO, __file__, 1, "hello", None, None)
    with app.test_request_context("/", environ_base={REQUEST_ID: "req-77"}):
        RequestIdFilter().filter(record)
        assert record.request_id == "req-77"
    RequestIdFilter().filter(record)  # outside a request
    assert record.request_id == "-"


def test_login_is_throttled_per_account_without_revealing_it(client, users, app, monkeypatch):
    monkeypatch.setitem(app.config, "ALLY_LOGIN_LIMITS", "5 per minute")
    limiter.reset()
    try:
        for email in ("editor@ally.example", "nobody@ally.example"):
            statuses = [
                client.post("/admin/login", data={"email": email, "password": "wrong"}).status_code
                for _ in range(6)
            ]
            assert statuses == [401] * 5 + [429]
            blocked = client.post("/admin/login", data={"email": email, "password": PASSWORD})
            assert blocked.status_code == 429
            assert "Too many login attempts" in blocked.get_data(as_text=True)
        # Another account from the same address is not locked out by the first one.
        assert (
            client.post(
                "/admin/login", data={"email": "admin@ally.example", "password": PASSWORD}
            ).status_code
            == 302
        )
    finally:
        limiter.reset()


def test_login_is_throttled_per_address(client, users, app, monkeypatch):
    monkeypatch.setitem(app.config, "ALLY_LOGIN_ADDRESS_LIMITS", "3 per minute")
    limiter.reset()
    try:
        statuses = [
            client.post(
                "/admin/login", data={"email": f"u{i}@ally.example", "password": "x"}
            ).status_code
            for i in range(4)
        ]
        assert statuses == [401, 401, 401, 429]
    finally:
        limiter.reset()


@pytest.mark.parametrize(
    ("method", "path", "bookkept"),
    [("GET", "/robots.txt", False), ("GET", "/", False), ("POST", "/admin/login", True)],
)
def test_the_rate_limiter_keeps_its_books_only_where_limits_are(app, method, path, bookkept):
    """Flask-Limiter's per-request hooks run for the admin (the login form's limits), not
    for every reader page."""
    from flask.globals import request_ctx

    data = {"email": "nobody@ally.example", "password": "x"} if method == "POST" else None
    limiter.reset()
    try:
        with app.test_request_context(path, method=method, data=data):
            app.preprocess_request()
            app.process_response(app.make_response(("", 204)))
            assert hasattr(request_ctx._get_current_object(), "_limiter_request_context") is (
                bookkept
            )
    finally:
        limiter.reset()


def test_proxy_fix_is_off_unless_configured(tmp_path):
    url = f"sqlite:///{tmp_path}/x.db"
    direct = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x"})
    proxied = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x", "ALLY_PROXY_FIX": 1})
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "blog.ally.example"}
    assert (
        direct.test_client()
        .get("/robots.txt", headers=headers)
        .get_data(as_text=True)
        .endswith("http://localhost/sitemap.xml\n")
    )
    assert (
        proxied.test_client()
        .get("/robots.txt", headers=headers)
        .get_data(as_text=True)
        .endswith("https://blog.ally.example/sitemap.xml\n")
    )
