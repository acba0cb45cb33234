"""The session and its CSRF token: Flask's signed cookie and Flask-WTF's token, made cheap.

A page served from the cache still gives each first-time reader a session holding a CSRF
token, so what that costs bounds how fast a cached page can be. Flask and Flask-WTF build
their serializers, signers and derived keys again for every signature; here each is built
once per secret. The cookies and tokens are in Flask's and Flask-WTF's formats, so either
side reads what the other wrote (tests check both directions).
"""

import hashlib
import json
import os

from flask import Flask
from flask import current_app
from flask import g
from flask import request
from flask import session
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SecureCookieSession
from flask.sessions import SecureCookieSessionInterface
from flask.sessions import SessionMixin
from flask_wtf import CSRFProtect as FlaskWTFCSRFProtect
from itsdangerous import BadSignature
from itsdangerous import TimestampSigner
from itsdangerous import URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode
from itsdangerous.encoding import want_bytes
from werkzeug.http import dump_cookie

# Flask-WTF's salt for the signed token; its validator must read what this module signs.
CSRF_SALT = "wtf-csrf-token"


class _Signer(TimestampSigner):
    """A timestamp signer that derives each signing key once per process, not per call."""

    _derived: dict[tuple, bytes] = {}

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        secret = self.secret_keys[-1] if secret_key is None else want_bytes(secret_key)
        memo = (self.key_derivation, self.digest_method, self.salt, secret)
        if memo not in self._derived:
            self._derived[memo] = super().derive_key(secret)
        return self._derived[memo]


class _Serializer(URLSafeTimedSerializer):
    """Skips zlib for payloads too short to shrink (a session holding only a CSRF token)."""

    def dump_payload(self, obj) -> bytes:
        payload = self.serializer.dumps(obj, **self.serializer_kwargs).encode()
        if len(payload) < 128:
            return base64_encode(payload)
        return super().dump_payload(obj)


class _SessionJSON(TaggedJSONSerializer):
    """Flask's tagged JSON, with plain JSON for a session of strings (the same bytes)."""

    def dumps(self, value) -> str:
        plain = type(value) is dict and all(type(v) is str for v in value.values())
        if plain and not (len(value) == 1 and next(iter(value)) in self.tags):
            return json.dumps(value, separators=(",", ":"))
        return super().dumps(value)


class SessionInterface(SecureCookieSessionInterface):
    serializer = _SessionJSON()

    def __init__(self) -> None:
        self._serializers: dict[tuple, URLSafeTimedSerializer | None] = {}
        self._cookie_forms: dict[tuple, tuple[str, str]] = {}

    def save_session(self, app: Flask, session: SessionMixin, response) -> None:
        """Flask's, with the cookie's attributes formatted once per configuration: a first
        visit's page sets a cookie, and werkzeug formatting it (and the ``Vary`` header) took 2%
        of a cold page's instructions.

        Werkzeug still formats them (see :meth:`_cookie_form`); Flask's own path takes every
        other case: no cookie to set, one to delete, an expiry date (a permanent session),
        a cookie past browsers' size limit (werkzeug warns).
        """
        if not session or not self.should_set_cookie(app, session):
            return super().save_session(app, session, response)
        if self.get_expiration_time(app, session) is not None:
            return super().save_session(app, session, response)
        name, attributes = self._cookie_form(app)
        cookie = f"{name}={self.get_signing_serializer(app).dumps(dict(session))}{attributes}"
        if len(cookie) > response.max_cookie_size:
            return super().save_session(app, session, response)
        response.headers.add("Set-Cookie", cookie)
        # As ``response.vary.add``, which parses and writes the header again (0.9%).
        if "Vary" not in response.headers:
            response.headers["Vary"] = "Cookie"
        else:
            response.vary.add("Cookie")

    def _cookie_form(self, app: Flask) -> tuple[str, str]:
        """The session cookie's name and what follows its value (``; HttpOnly; Path=/…``),
        as werkzeug's ``dump_cookie`` writes them for this app's settings. A signed value
        is URL-safe base64 and dots, which werkzeug writes as it is."""
        settings = (
            self.get_cookie_name(app),
            self.get_cookie_domain(app),
            self.get_cookie_path(app),
            self.get_cookie_secure(app),
            self.get_cookie_partitioned(app),
            self.get_cookie_samesite(app),
            self.get_cookie_httponly(app),
        )
        form = self._cookie_forms.get(settings)
        if form is None:
            name, domain, path, secure, partitioned, samesite, httponly = settings
            sample = dump_cookie(
                name,
                "v",
                domain=domain,
                path=path,
                secure=secure,
                partitioned=partitioned,
                samesite=samesite,
                httponly=httponly,
            )
            form = self._cookie_forms[settings] = (name, sample.removeprefix(f"{name}=v"))
        return form

    def open_session(self, app: Flask, request) -> SecureCookieSession | None:
        return self.load(app, request.cookies.get(self.get_cookie_name(app)))

    def load(self, app: Flask, value: str | None) -> SecureCookieSession | None:
        """The session a cookie value holds: empty when there is none or its signature
        does not verify (expired, forged, an old key); None when the app has no secret."""
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        if not value:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        try:
            return self.session_class(serializer.loads(value, max_age=max_age))
        except BadSignature:
            return self.session_class()

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if keys not in self._serializers:
            self._serializers[keys] = (
                _Serializer(
                    [*keys[1], keys[0]],
                    salt=self.salt,
                    serializer=self.serializer,
                    signer=_Signer,
                    signer_kwargs={
                        "key_derivation": self.key_derivation,
                        "digest_method": self.digest_method,
                    },
                )
                if app.secret_key
                else None
            )
        return self._serializers[keys]


class CSRFProtect(FlaskWTFCSRFProtect):
    """Flask-WTF's CSRF protection, asking a request's method before anything else.

    Flask-WTF looks up the view and builds its dotted name, to see whether it is exempt,
    before it asks whether the method needs a token at all: 2% of a cold page's
    instructions for a GET, which never does. The checks and their outcome are Flask-WTF's.
    Its context processor is left out: it only offered ``csrf_token``, which templates get
    as a global (``ally.cache`` puts ALLY's there), and ``csrf_meta_tag``, which stays one.
    """

    def init_app(self, app: Flask) -> None:
        processors = list(app.template_context_processors[None])
        super().init_app(app)
        app.template_context_processors[None] = processors

    def protect(self, apply_exemptions: bool = False) -> None:
        # Each proxy read once, by its object: this runs for every request.
        methods = current_app._get_current_object().config["WTF_CSRF_METHODS"]
        if request._get_current_object().method in methods:
            super().protect(apply_exemptions)


_csrf_serializers: dict[str | bytes, URLSafeTimedSerializer] = {}


def csrf_token() -> str:
    """This request's signed CSRF token, creating the reader's raw token in the session.

    Does what ``flask_wtf.csrf.generate_csrf`` does (the same token, memoised on ``g`` under
    the same name, so forms rendered later reuse it) with a serializer kept per secret.
    """
    # Read through their proxies once: a page asks for the token three times.
    app, request_g = current_app._get_current_object(), g._get_current_object()
    field = csrf_field(app)
    token = request_g.get(field)
    if token is None:
        token = sign_csrf(app, raw_csrf_token(session._get_current_object(), field))
        setattr(request_g, field, token)
    return token


def csrf_field(app: Flask) -> str:
    """The session key (and form field) Flask-WTF keeps the token under."""
    return app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")


def raw_csrf_token(session: SessionMixin, field: str) -> str:
    """The reader's raw CSRF token, kept in their session (made on first need); forms
    carry it signed."""
    raw = session.get(field)
    if not isinstance(raw, str):
        raw = session[field] = hashlib.sha1(os.urandom(64)).hexdigest()
    return raw


def sign_csrf(app: Flask, raw: str) -> str:
    """``raw`` signed as Flask-WTF's validator expects it, with this app's secret."""
    secret = app.config.get("WTF_CSRF_SECRET_KEY") or app.secret_key
    signer = _csrf_serializers.get(secret)
    if signer is None:
        signer = _csrf_serializers[secret] = _Serializer(secret, salt=CSRF_SALT, signer=_Signer)
    return signer.dumps(raw)
