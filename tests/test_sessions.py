"""The session cookie and CSRF token ALLY writes are the ones Flask and Flask-WTF read.

ALLY keeps its serializers and derived keys per secret instead of rebuilding them per
request; these tests hold it to Flask's and Flask-WTF's formats in both directions.
"""

import hashlib
import time
from datetime import UTC
from datetime import datetime

import pytest
from flask import Flask
from flask import g
from flask import get_flashed_messages
from flask import render_template_string
from flask import session
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import generate_csrf
from flask_wtf.csrf import validate_csrf
from itsdangerous import BadSignature
from itsdangerous import URLSafeTimedSerializer
from wtforms import ValidationError

from ally.sessions import CSRF_SALT
from ally.sessions import CSRFProtect
from ally.sessions import SessionInterface
from ally.sessions import csrf_token
from ally.sessions import sign_csrf

# A reader's raw CSRF token as ALLY makes them (random hex, which zlib cannot shrink).
RAW_TOKEN = hashlib.sha1(b"a reader").hexdigest()
# A session past 128 bytes of JSON, which both sides compress.
LONG = "Ashwagandha, magnesium and sleep: " * 8


@pytest.fixture
def plain_app():
    app = Flask(__name__)
    app.secret_key = "session-test-secret"
    return app


@pytest.mark.parametrize(
    "value",
    [
        {"csrf_token": "abc"},
        {"_flashes": [("info", "Saved")], "_user_id": "3", "_fresh": True},
        {"when": datetime(2026, 1, 2, tzinfo=UTC), "cart": {"4": 2}},
        {" t": "a key Flask's tagged JSON must escape"},
        {},
    ],
)
def test_session_cookies_round_trip_with_flask(plain_app, value):
    ally = SessionInterface().get_signing_serializer(plain_app)
    flask = SecureCookieSessionInterface().get_signing_serializer(plain_app)

    assert flask.loads(ally.dumps(value)) == value
    assert ally.loads(flask.dumps(value)) == value


@pytest.fixture
def clock(monkeypatch):
    """itsdangerous's clock (``time.time``), set by the test."""
    now = [1_790_000_000.25]
    monkeypatch.setattr(time, "time", lambda: now[0])
    return now


@pytest.mark.parametrize(
    "value", [{"csrf_token": RAW_TOKEN}, {"cart": {"4": 2}, "csrf_token": "ab"}, {"long": LONG}]
)
def test_session_cookies_are_the_bytes_flask_writes(plain_app, clock, value):
    ally = SessionInterface().get_signing_serializer(plain_app)
    flask = SecureCookieSessionInterface().get_signing_serializer(plain_app)
    assert ally.dumps(value) == flask.dumps(value)
    assert ally.loads(flask.dumps(value)) == value


def test_a_session_cookie_that_does_not_verify_loads_empty(plain_app, clock):
    interface = SessionInterface()
    good = interface.get_signing_serializer(plain_app).dumps({"csrf_token": "x"})
    payload, stamp, signature = good.split(".")
    other = interface.get_signing_serializer(plain_app).dumps({"csrf_token": "y"})
    assert interface.load(plain_app, good) == {"csrf_token": "x"}
    for forged in (
        f"{payload}.{stamp}.{signature[:-3]}AAA",  # another signature
        f"{other.split('.')[0]}.{stamp}.{signature}",  # another payload
        f"{payload}.{signature}",  # no timestamp
        f"{payload}.{stamp}.{signature}!",  # not base64 at the end
        f"{payload}..{signature}",
        "no-dots-at-all",
        "",
    ):
        assert interface.load(plain_app, forged) == {}, forged
    lifetime = plain_app.permanent_session_lifetime.total_seconds()
    clock[0] += lifetime
    assert interface.load(plain_app, good) == {"csrf_token": "x"}  # the last second it holds
    clock[0] += 1
    assert interface.load(plain_app, good) == {}  # expired
    clock[0] -= lifetime + 10
    assert interface.load(plain_app, good) == {}  # signed in the future


def test_session_serializer_follows_key_rotation(plain_app):
    interface = SessionInterface()
    old = interface.get_signing_serializer(plain_app).dumps({"csrf_token": "x"})
    plain_app.config["SECRET_KEY_FALLBACKS"] = [plain_app.secret_key]
    plain_app.secret_key = "the-new-secret"

    assert interface.get_signing_serializer(plain_app).loads(old) == {"csrf_token": "x"}
    fresh = interface.get_signing_serializer(plain_app).dumps({"a": "b"})
    assert SecureCookieSessionInterface().get_signing_serializer(plain_app).loads(fresh) == {
        "a": "b"
    }
    plain_app.config["SECRET_KEY_FALLBACKS"] = []
    plain_app.secret_key = "session-test-secret"
    with pytest.raises(BadSignature):
        interface.get_signing_serializer(plain_app).loads(fresh)


def test_csrf_token_validates_with_flask_wtf_and_is_reused(plain_app):
    with plain_app.test_request_context("/"):
        token = csrf_token()
        assert session["csrf_token"] and g.csrf_token == token
        # Forms rendered later in the request get the same token from Flask-WTF.
        assert generate_csrf() == token
        validate_csrf(token)

    with plain_app.test_request_context("/"):
        session["csrf_token"] = "someone-else"
        with pytest.raises(ValidationError):
            validate_csrf(token)


def test_csrf_tokens_are_the_bytes_flask_wtf_writes(plain_app, clock):
    with plain_app.test_request_context("/"):
        assert sign_csrf(plain_app, RAW_TOKEN) == URLSafeTimedSerializer(
            plain_app.secret_key, salt=CSRF_SALT
        ).dumps(RAW_TOKEN)


def test_csrf_token_reuses_the_readers_raw_token(plain_app):
    with plain_app.test_request_context("/"):
        session["csrf_token"] = "raw-token-of-this-reader"
        token = csrf_token()
        assert session["csrf_token"] == "raw-token-of-this-reader"
        validate_csrf(token)


def test_csrf_protection_asks_the_method_before_the_exemptions(plain_app, monkeypatch):
    protect = CSRFProtect(plain_app)

    @plain_app.route("/form", methods=["GET", "POST"])
    def form():
        return "ok"

    @plain_app.post("/hook")
    @protect.exempt
    def hook():
        return "hooked"

    asked = []
    is_exempt = protect._is_exempt
    monkeypatch.setattr(protect, "_is_exempt", lambda: asked.append(1) or is_exempt())
    client = plain_app.test_client()

    assert client.get("/form").status_code == 200 and asked == []
    assert client.post("/form").status_code == 400 and asked == [1]
    assert client.post("/hook").get_data(as_text=True) == "hooked"
    # Templates still get the token and the meta tag, as globals; no processor offers them.
    stock = Flask(__name__).template_context_processors[None]
    assert plain_app.template_context_processors[None] == stock
    with plain_app.test_request_context("/"):
        assert 'name="csrf-token"' in render_template_string("{{ csrf_meta_tag() }}")
        validate_csrf(render_template_string("{{ csrf_token() }}"))


def test_flashes_survive_the_cookie(plain_app):
    plain_app.session_interface = SessionInterface()

    @plain_app.get("/set")
    def set_():
        from flask import flash

        flash("Saved", "info")
        return "ok"

    @plain_app.get("/get")
    def get_():
        return repr(get_flashed_messages(with_categories=True))

    client = plain_app.test_client()
    client.get("/set")
    assert client.get("/get").text == "[('info', 'Saved')]"


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"SESSION_COOKIE_SECURE": True, "SESSION_COOKIE_SAMESITE": "Strict"},
        {"SESSION_COOKIE_DOMAIN": "shop.example", "SESSION_COOKIE_PATH": "/shop"},
        {"SESSION_COOKIE_HTTPONLY": False, "SESSION_COOKIE_NAME": "ally"},
        {"SESSION_COOKIE_SECURE": True, "SESSION_COOKIE_PARTITIONED": True},
    ],
)
@pytest.mark.parametrize("vary", [None, "Origin"])
def test_the_session_cookie_is_the_one_flask_sets(plain_app, settings, vary):
    """ALLY formats the cookie's attributes once per configuration; the header and
    ``Vary`` are what Flask writes, and the value reads back."""
    plain_app.config.update(settings)

    @plain_app.get("/")
    def index():
        session["csrf_token"] = "abc"
        return "ok", {"Vary": vary} if vary else {}

    headers = {}
    for name, interface in (
        ("flask", SecureCookieSessionInterface()),
        ("ally", SessionInterface()),
    ):
        plain_app.session_interface = interface
        response = plain_app.test_client().get("/")
        cookie = response.headers["Set-Cookie"]
        value, attributes = cookie.split(";", 1)[0], cookie.split(";", 1)[1]
        assert interface.get_signing_serializer(plain_app).loads(value.split("=", 1)[1]) == {
            "csrf_token": "abc"
        }
        headers[name] = (value.split("=", 1)[0], attributes, response.headers.get_all("Vary"))
    assert headers["ally"] == headers["flask"]


def test_a_permanent_session_keeps_its_expiry(plain_app):
    plain_app.session_interface = SessionInterface()

    @plain_app.get("/")
    def index():
        session.permanent = True
        session["csrf_token"] = "abc"
        return "ok"

    assert "Expires=" in plain_app.test_client().get("/").headers["Set-Cookie"]
