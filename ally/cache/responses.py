"""Serving and storing responses: who may share one, the CSRF placeholder, hits and misses."""

import functools
import hashlib
import hmac
import logging
from collections.abc import Callable
from urllib.parse import parse_qsl
from urllib.parse import urlencode

from flask import current_app
from flask import request
from flask import session
from flask.sessions import SessionMixin

from ally.extensions import db
from ally.sessions import csrf_token as reader_csrf_token

from . import store
from .tags import Render
from .tags import current_render
from .tags import end_render
from .tags import row_tags
from .tags import start_render

# Session keys that say nothing about who the reader is.
SHAREABLE_SESSION_KEYS = frozenset({"csrf_token"})
STORED_HEADERS = ("Content-Type", "ETag", "Last-Modified", "Cache-Control")
log = logging.getLogger(__name__)


def cacheable(view: Callable | None = None, *, query: tuple[str, ...] | None = None):
    """Mark a view whose anonymous GET responses may be shared between readers.

    ``query`` names the parameters its response varies by; the cache ignores the others,
    so ``/blog/?utm_source=newsletter`` is the same entry as ``/blog/``. Without it every
    parameter counts (the API, which refuses unknown ones anyway).
    """

    def mark(view: Callable) -> Callable:
        view.ally_cacheable = True
        view.ally_cache_query = query
        return view

    return mark(view) if view is not None else mark


def serve_from_cache():
    """``before_request``: answer a shareable request from the cache, or start recording."""
    view = _shareable_view()
    if view is None:
        return None
    key = response_key(request.environ, view.ally_cache_query)
    try:
        entry, epoch = store.lookup(key)
    except store.store_errors():
        log.exception("page cache: store unreachable; rendering without it")
        return None
    if entry is not None:
        token = reader_csrf_token() if entry["csrf"] else None
        return hit_response(entry, token, request.environ)
    render = Render(key, epoch)
    start_render(render)
    # What the session already holds may be shown without being loaded again (in tests one
    # session serves several requests; in production there is none yet).
    if db.session.registry.has():
        for obj in list(db.session.identity_map.values()):
            render.tags.update(row_tags(obj))
    return None


def store_in_cache(response):
    """``after_request``: store a shareable 200, then fill in this reader's CSRF token."""
    render = end_render()
    if render is None:
        return response
    if _storable(response):
        try:
            _store(render, response)
        except store.store_errors():
            log.exception("page cache: store unreachable; response not stored")
    response.headers["X-Cache"] = "MISS"
    if not response.direct_passthrough:
        body = response.get_data()
        if placeholder() in body:
            response.set_data(body.replace(placeholder(), reader_csrf_token().encode()))
    return response


def response_key(environ: dict, query: tuple[str, ...] | None) -> str:
    """The request's URL (scheme, host, path, the query that counts) hashed: what a response
    varies by. Read from the WSGI environ rather than ``request.url``, which is slower.
    """
    query_string = environ.get("QUERY_STRING", "")
    if query is not None and query_string:
        # Only the named parameters, grouped by name; a repeated name keeps its values'
        # order, since the view reads the first one.
        pairs = parse_qsl(query_string, keep_blank_values=True)
        kept = [(k, v) for k, v in pairs if k in query]
        query_string = urlencode(sorted(kept, key=lambda pair: pair[0]))
    url = "{}://{}{}{}?{}".format(
        environ["wsgi.url_scheme"],
        environ.get("HTTP_HOST", ""),
        environ.get("SCRIPT_NAME", ""),
        environ.get("PATH_INFO", ""),
        query_string,
    )
    return store.hashed_key("response", url)


def page_cache_serves(method: str, config) -> bool:
    """Whether a ``method`` request may be answered from the page cache at all."""
    return method in ("GET", "HEAD") and config["ALLY_CACHE_ENABLED"] and config["ALLY_PAGE_CACHE"]


def _shareable_view() -> Callable | None:
    """The request's view when its response may be shared with this reader, else None."""
    app, asked = current_app._get_current_object(), request._get_current_object()
    if not page_cache_serves(asked.method, app.config):
        return None
    view = app.view_functions.get(asked.endpoint)
    if getattr(view, "ally_cacheable", False) and shareable_session(session):
        return view
    return None


def shareable_session(sess: SessionMixin) -> bool:
    return set(sess.keys()) <= SHAREABLE_SESSION_KEYS


def _storable(response) -> bool:
    cache_control = response.headers.get("Cache-Control", "")
    return (
        request.method == "GET"
        and response.status_code == 200
        and not response.direct_passthrough
        and "Set-Cookie" not in response.headers
        and "no-store" not in cache_control
        and "private" not in cache_control
        and shareable_session(session)
    )


def hit_response(entry: dict, token: str | None, environ: dict):
    """The stored response, with ``token`` (the reader's CSRF token) in place of the
    placeholder; 304 when the reader already has it."""
    body = entry["body"]
    if entry["csrf"]:
        body = body.replace(placeholder(), token.encode())
    response = current_app.response_class(body, status=entry["status"])
    response.headers.update(entry["headers"])
    response.headers["X-Cache"] = "HIT"
    if "ETag" in response.headers:
        response.make_conditional(environ)
    return response


def _store(render: Render, response) -> None:
    body = response.get_data()
    entry = {
        "status": response.status_code,
        "headers": [(h, response.headers[h]) for h in STORED_HEADERS if h in response.headers],
        "body": body,
        "csrf": placeholder() in body,
    }
    store.put(render.key, entry, render.tags, render.epoch)


def placeholder() -> bytes:
    """Stands in for the reader's CSRF token in stored HTML.

    Derived from the secret key, so every worker and host agrees on it and no author can
    type it into content.
    """
    return _placeholder(current_app.config["SECRET_KEY"])


@functools.cache
def _placeholder(secret: str) -> bytes:
    digest = hmac.new(secret.encode(), b"ally page cache csrf", hashlib.sha256).hexdigest()
    return f"csrf-{digest[:32]}".encode()


def csrf_token() -> str:
    """The ``csrf_token()`` templates call: the placeholder while rendering for the cache."""
    if current_render() is not None:
        return placeholder().decode()
    return reader_csrf_token()
