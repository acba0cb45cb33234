"""Cache hits for anonymous readers, answered before Flask builds a request.

A reader whose session holds nothing but a CSRF token (or who has no session yet) gets
exactly the stored page with their own token filled in. Like ``serve_from_cache``, the edge
decides on the session alone: other cookies (a consent banner's, analytics) change nothing.
Most of a cached page's time went to Flask's request cycle around that (the request, its
hooks, the session); this WSGI middleware serves such a hit from the same entry with the
same headers, and reads and writes the session through the app's own session interface.

Everything else goes on to Flask untouched: any other session key (a login, a cart, a
flashed message), a CORS request (the API adds headers per ``Origin``), a view that is not
cacheable, a miss, a store that cannot be reached. An app that sets ``SERVER_NAME`` or
``TRUSTED_HOSTS`` is always left to Flask, whose host checks the edge does not repeat.
"""

from collections.abc import Callable

from flask import Flask
from flask.sessions import SessionMixin
from werkzeug.exceptions import HTTPException
from werkzeug.http import parse_cookie

from ally.sessions import csrf_field
from ally.sessions import raw_csrf_token
from ally.sessions import sign_csrf

from . import store
from .responses import hit_response
from .responses import page_cache_serves
from .responses import response_key
from .responses import shareable_session


class CacheEdge:
    # Views matched per (method, path): the URL map is fixed once the app serves, and a
    # match was a fifth of a hit's time. Bounded; emptied when full.
    VIEWS_KEPT = 1024

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.wsgi_app = app.wsgi_app
        self._views: dict[tuple[str, str], Callable | None] = {}

    def __call__(self, environ: dict, start_response):
        response = self._hit(environ) if self._may_share(environ) else None
        if response is None:
            return self.wsgi_app(environ, start_response)
        return response(environ, start_response)

    def _may_share(self, environ: dict) -> bool:
        config = self.app.config
        return (
            page_cache_serves(environ["REQUEST_METHOD"], config)
            and not environ.get("HTTP_ORIGIN")
            and not config["SERVER_NAME"]
            and not config["TRUSTED_HOSTS"]
        )

    def _hit(self, environ: dict):
        """The stored response for this reader, or None to let Flask answer."""
        view = self._view(environ)
        if not getattr(view, "ally_cacheable", False):
            return None
        session = self._session(environ)
        if session is None or not shareable_session(session):
            return None
        with self.app.app_context():
            try:
                entry, _ = store.lookup(response_key(environ, view.ally_cache_query))
            except store.store_errors():
                return None  # Flask's path renders without the store, and logs why
            if entry is None:
                return None
            return self._response(entry, session, environ)

    def _view(self, environ: dict) -> Callable | None:
        memo = (environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""))
        if memo not in self._views:
            if len(self._views) >= self.VIEWS_KEPT:
                self._views.clear()
            self._views[memo] = self._match(environ)
        return self._views[memo]

    def _match(self, environ: dict) -> Callable | None:
        url_map = self.app.url_map
        try:
            adapter = url_map.bind_to_environ(environ, subdomain=url_map.default_subdomain or "")
            endpoint, _ = adapter.match()
        except HTTPException:  # not found, wrong method, a slash redirect: Flask's to answer
            return None
        return self.app.view_functions.get(endpoint)

    def _session(self, environ: dict) -> SessionMixin | None:
        """The reader's session, read as Flask would (empty without a valid cookie)."""
        interface = self.app.session_interface
        cookies = parse_cookie(environ.get("HTTP_COOKIE", ""))
        return interface.load(self.app, cookies.get(interface.get_cookie_name(self.app)))

    def _response(self, entry: dict, session: SessionMixin, environ: dict):
        app = self.app
        session.accessed = True  # the response holds only for readers with such a session
        token = sign_csrf(app, raw_csrf_token(session, csrf_field(app))) if entry["csrf"] else None
        response = hit_response(entry, token, environ)
        app.session_interface.save_session(app, session, response)
        return response
