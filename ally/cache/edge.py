"""A first visit's cache hit, answered before Flask builds a request.

A reader who sends no cookie has no session, no login and no cart, so they get exactly the
stored page and a new session holding their CSRF token. Most of a cached page's time went
to Flask's request cycle around that (the request, its hooks, the session); this WSGI
middleware serves such a hit from the same entry with the same headers, fills in a token
and writes the session cookie through the app's own session interface.

Everything else goes on to Flask untouched: any cookie (a returning reader is checked by
``serve_from_cache``), a CORS request (the API adds headers per ``Origin``), a view that is
not cacheable, a miss, a store that cannot be reached. An app that sets ``SERVER_NAME`` or
``TRUSTED_HOSTS`` is always left to Flask, whose host checks the edge does not repeat.
"""

from flask import Flask
from werkzeug.exceptions import HTTPException

from ally.ops import request_id
from ally.sessions import csrf_field
from ally.sessions import new_raw_token
from ally.sessions import sign_csrf

from . import store
from .responses import hit_response
from .responses import response_key

# Request headers that can change a shareable response: these go to Flask.
_PERSONAL = ("HTTP_COOKIE", "HTTP_ORIGIN")


class CacheEdge:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self.wsgi_app = app.wsgi_app

    def __call__(self, environ: dict, start_response):
        response = self._hit(environ) if self._first_visit(environ) else None
        if response is None:
            return self.wsgi_app(environ, start_response)
        return response(environ, start_response)

    def _first_visit(self, environ: dict) -> bool:
        config = self.app.config
        return (
            environ["REQUEST_METHOD"] in ("GET", "HEAD")
            and not any(environ.get(header) for header in _PERSONAL)
            and config["ALLY_CACHE_ENABLED"]
            and config["ALLY_PAGE_CACHE"]
            and not config["SERVER_NAME"]
            and not config["TRUSTED_HOSTS"]
        )

    def _hit(self, environ: dict):
        """The stored response with a new reader's session, or None to let Flask answer."""
        url_map = self.app.url_map
        try:
            adapter = url_map.bind_to_environ(environ, subdomain=url_map.default_subdomain or "")
            endpoint, _ = adapter.match()
        except HTTPException:  # not found, wrong method, a slash redirect: Flask's to answer
            return None
        view = self.app.view_functions.get(endpoint)
        if not getattr(view, "ally_cacheable", False):
            return None
        with self.app.app_context():
            try:
                entry, _ = store.lookup(response_key(environ, view.ally_cache_query))
            except store.store_errors():
                return None  # Flask's path renders without the store, and logs why
            if entry is None:
                return None
            return self._response(entry, environ)

    def _response(self, entry: dict, environ: dict):
        app = self.app
        interface = app.session_interface
        session = interface.session_class()
        session.accessed = True  # the response holds only for readers without a cookie
        token = None
        if entry["csrf"]:
            session[csrf_field(app)] = raw = new_raw_token()
            token = sign_csrf(app, raw)
        response = hit_response(entry, token, environ)
        interface.save_session(app, session, response)
        response.headers["X-Request-ID"] = request_id(environ.get("HTTP_X_REQUEST_ID", ""))
        return response
