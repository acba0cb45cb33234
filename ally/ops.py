"""What operations rely on: a health check, a request id on every response and log line,
security headers, and ProxyFix when ALLY runs behind a proxy."""

import re
import secrets

import sqlalchemy as sa
from flask import Blueprint
from flask import Flask
from flask import jsonify
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.middleware.proxy_fix import ProxyFix

from ally.extensions import db

bp = Blueprint("ops", __name__)

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# Where a request's id is kept, in its WSGI environ (see EdgeHeaders).
REQUEST_ID = "ally.request_id"

# Scripts only from this site (no inline scripts, no eval). Styles allow inline style
# attributes: the editor library and the free-shipping bar set them.
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


@bp.get("/healthz")
def healthz():
    """200 when the database answers, 503 when it does not (for load balancers)."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")


def request_id(incoming: str) -> str:
    """A proxy's ``X-Request-ID`` when it is sane, else a new one."""
    return incoming if _REQUEST_ID_RE.match(incoming) else secrets.token_hex(8)


SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
}


class EdgeHeaders:
    """WSGI middleware, outside the app and its page cache: gives each request its id
    (``environ[REQUEST_ID]``) and adds it and the security headers above to every response
    that lacks them. A view that sets one of them itself keeps its own.

    Done at the WSGI edge, like a proxy's ``add_header``: the security headers are constant,
    from one prepared list, and no answer (a cached one included) pays for validating them
    again. The id was a Flask hook before and after each request, kept on ``g``: 1.4% of a
    cold page's instructions.
    """

    def __init__(self, wsgi_app, headers: dict[str, str]) -> None:
        self.wsgi_app = wsgi_app
        self.headers = [(name, value) for name, value in headers.items()]

    def __call__(self, environ, start_response):
        given = environ[REQUEST_ID] = request_id(environ.get("HTTP_X_REQUEST_ID", ""))
        added = [*self.headers, ("X-Request-ID", given)]

        def start(status, headers, exc_info=None):
            present = {name.lower() for name, _ in headers}
            headers.extend(h for h in added if h[0].lower() not in present)
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, start)


def init_app(app: Flask) -> None:
    app.wsgi_app = EdgeHeaders(app.wsgi_app, SECURITY_HEADERS)
    proxies = app.config["ALLY_PROXY_FIX"]
    if proxies:
        # Trust exactly this many proxies for the client address, scheme, host and port.
        app.wsgi_app = ProxyFix(
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies
        )
