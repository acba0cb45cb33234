"""What operations rely on: a health check, a request id on every response and log line,
security headers, and ProxyFix when ALLY runs behind a proxy."""

import re
import secrets

import sqlalchemy as sa
from flask import Blueprint
from flask import Flask
from flask import g
from flask import jsonify
from flask import request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.middleware.proxy_fix import ProxyFix

from ally.extensions import db

bp = Blueprint("ops", __name__)

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

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


def assign_request_id():
    g.request_id = request_id(request.headers.get("X-Request-ID", ""))


def request_id(incoming: str) -> str:
    """A proxy's ``X-Request-ID`` when it is sane, else a new one."""
    return incoming if _REQUEST_ID_RE.match(incoming) else secrets.token_hex(8)


SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
}


@bp.after_app_request
def request_id_header(response):
    given = g._get_current_object().get("request_id")
    if given is not None:
        response.headers["X-Request-ID"] = given
    return response


class SecurityHeaders:
    """WSGI middleware adding the headers above to every response that lacks them.

    Added at the WSGI edge, like a proxy's ``add_header``, from one prepared list: they are
    constant, and a cached page should not pay for validating them again on each response.
    A view that sets one of them itself keeps its own.
    """

    def __init__(self, wsgi_app, headers: dict[str, str]) -> None:
        self.wsgi_app = wsgi_app
        self.headers = [(name, value) for name, value in headers.items()]

    def __call__(self, environ, start_response):
        def start(status, headers, exc_info=None):
            present = {name.lower() for name, _ in headers}
            headers.extend(h for h in self.headers if h[0].lower() not in present)
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, start)


def init_app(app: Flask) -> None:
    # Before everything, the page cache included, so even a cached answer carries an id.
    app.before_request_funcs.setdefault(None, []).insert(0, assign_request_id)
    app.wsgi_app = SecurityHeaders(app.wsgi_app, SECURITY_HEADERS)
    proxies = app.config["ALLY_PROXY_FIX"]
    if proxies:
        # Trust exactly this many proxies for the client address, scheme, host and port.
        app.wsgi_app = ProxyFix(
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies
        )
