"""The session and its CSRF token: Flask's signed cookie and Flask-WTF's token, made cheap.

Every page signs a CSRF token, and writes a first-time reader's session cookie or checks a
returning one's, cached pages included, so what that costs bounds how fast any page can be.
Flask and Flask-WTF build their serializers, signers and derived keys again for every
signature; here each is built once per secret, and the signing itself is lean (see
:class:`_Signer`). The cookies and tokens are Flask's and Flask-WTF's bytes, so either side
reads what the other wrote (tests check both directions, and the bytes).
"""

import binascii
import functools
import hashlib
import hmac
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
from itsdangerous.encoding import bytes_to_int
from itsdangerous.encoding import int_to_bytes
from itsdangerous.encoding import want_bytes
from itsdangerous.signer import HMACAlgorithm
from werkzeug.http import dump_cookie

# Flask-WTF's salt for the signed token; its validator must read what this module signs.
CSRF_SALT = "wtf-csrf-token"


class _Signer(TimestampSigner):
    """A timestamp signer that derives each signing key once per process, not per call, and
    signs and checks what a page needs with one HMAC and a few byte operations.

    itsdangerous's own path was 60 Python calls a signature, with HMAC computed in Python
    (its digest is a Python function): signing a CSRF token cost 87,000 instructions and
    loading a session cookie 156,000, 6% of a returning reader's page for the two; now
    43,000 and 84,000. The bytes are itsdangerous's; anything but the plain case (another
    separator or algorithm, an older key, a bad or expired value) goes through
    itsdangerous, which also says what is wrong.
    """

    _derived: dict[tuple, bytes] = {}

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        secret = self.secret_keys[-1] if secret_key is None else want_bytes(secret_key)
        memo = (self.key_derivation, self.digest_method, self.salt, secret)
        if memo not in self._derived:
            self._derived[memo] = super().derive_key(secret)
        return self._derived[memo]

    @functools.cached_property
    def _mac(self) -> "hmac.HMAC | None":
        """The newest key's HMAC, copied for each value (what ``HMAC.copy`` is for); None
        where itsdangerous's own signing applies."""
        if self.sep != b"." or type(self.algorithm) is not HMACAlgorithm:
            return None
        digest = getattr(self.algorithm.digest_method(), "name", None)
        return hmac.new(self.derive_key(), digestmod=digest) if digest else None

    def sign(self, value: str | bytes) -> bytes:
        if self._mac is None:
            return super().sign(value)
        value = want_bytes(value) + b"." + _b64(int_to_bytes(self.get_timestamp()))
        mac = self._mac.copy()
        mac.update(value)
        return value + b"." + _b64(mac.digest())

    def fresh_payload(self, signed: bytes, max_age: int | None) -> bytes | None:
        """What ``signed`` carries, if the newest key signed it at most ``max_age`` seconds
        ago (as ``unsign`` would return it); None for anything else."""
        value, _, signature = signed.rpartition(b".")
        payload, stamped, stamp = value.rpartition(b".")
        if self._mac is None or not stamped:
            return None
        mac = self._mac.copy()
        mac.update(value)
        try:
            if not hmac.compare_digest(_unb64(signature), mac.digest()):
                return None
            age = self.get_timestamp() - bytes_to_int(_unb64(stamp))
        except ValueError:  # not base64
            return None
        return payload if max_age is None or 0 <= age <= max_age else None


class _Serializer(URLSafeTimedSerializer):
    """Keeps a signer per salt (itsdangerous builds one for every signature), reads a fresh
    value through :meth:`_Signer.fresh_payload`, and skips zlib for payloads too short to
    shrink (a session holding only a CSRF token). What it cannot read, itsdangerous reads,
    and raises as ever."""

    def make_signer(self, salt: str | bytes | None = None) -> TimestampSigner:
        signers = self.__dict__.setdefault("_signers", {})
        if salt not in signers:
            signers[salt] = super().make_signer(salt)
        return signers[salt]

    def loads(self, s, max_age=None, return_timestamp=False, salt=None):
        signer = self.make_signer(salt)
        if not return_timestamp and not self.fallback_signers and isinstance(signer, _Signer):
            payload = signer.fresh_payload(want_bytes(s), max_age)
            if payload is not None and self.is_text_serializer and payload[:1] != b".":
                try:  # a payload without zlib's mark
                    return self.serializer.loads(_unb64(payload).decode())
                except Exception:  # noqa: BLE001 - itsdangerous's path says what is wrong
                    pass
        return super().loads(s, max_age, return_timestamp, salt)

    def dump_payload(self, obj) -> bytes:
        payload = self.serializer.dumps(obj, **self.serializer_kwargs).encode()
        if len(payload) < 128:
            return _b64(payload)
        return super().dump_payload(obj)


_TO_URL_SAFE = bytes.maketrans(b"+/", b"-_")
_FROM_URL_SAFE = bytes.maketrans(b"-_", b"+/")
# ``json.dumps(value, separators=(",", ":"))`` without building an encoder per call.
_COMPACT_JSON = json.JSONEncoder(separators=(",", ":"))


def _b64(data: bytes) -> bytes:
    """``itsdangerous.encoding.base64_encode``: URL-safe base64, unpadded."""
    return binascii.b2a_base64(data, newline=False).translate(_TO_URL_SAFE).rstrip(b"=")


def _unb64(data: bytes) -> bytes:
    """``itsdangerous.encoding.base64_decode`` (it too drops what is not base64), raising
    ``binascii.Error``, a ``ValueError``."""
    return binascii.a2b_base64((data + b"=" * (-len(data) % 4)).translate(_FROM_URL_SAFE))


class _CompactJSON:
    """itsdangerous's default serializer (compact JSON) for the CSRF token's payload."""

    dumps = staticmethod(_COMPACT_JSON.encode)
    loads = staticmethod(json.loads)


class _SessionJSON(TaggedJSONSerializer):
    """Flask's tagged JSON, with plain JSON for a session of strings (the same bytes), read
    by :func:`json.loads` (as the app's JSON provider reads it) instead of through
    ``current_app``: its proxies cost a cookie 20,000 instructions."""

    def dumps(self, value) -> str:
        plain = type(value) is dict and all(type(v) is str for v in value.values())
        if plain and not (len(value) == 1 and next(iter(value)) in self.tags):
            return _COMPACT_JSON.encode(value)
        return super().dumps(value)

    def loads(self, value: str):
        # Each object untagged innermost first, as Flask's scan of the loaded value does.
        return json.loads(value, object_hook=self.untag)


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
        signer = _csrf_serializers[secret] = _Serializer(
            secret, salt=CSRF_SALT, serializer=_CompactJSON, signer=_Signer
        )
    return signer.dumps(raw)
