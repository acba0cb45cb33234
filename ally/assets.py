"""Static files with a hash of their content in the URL, so browsers keep them for a year.

Every ``url_for("static", filename=...)`` gets ``?v=<hash>`` from a ``url_defaults`` hook, so
templates stay as they are; reader pages call :func:`static_url`, the same URL built once per
process. A request carrying the file's current hash is answered with a
year's ``max-age`` and ``immutable``; any other (no hash, or a page still linking an older
version) revalidates as before. A deploy that changes a file changes its URL, so no reader
keeps an old stylesheet, and a page view no longer revalidates every asset.

Templates' ``url_for`` is Flask's, except that a link taking no values (the header's search,
the subscribe form, a product card's "Add to cart") is also built once per process and
script root.
"""

import functools
import hashlib
import os

from flask import Flask
from flask import current_app
from flask import has_request_context
from flask import request
from flask import url_for

YEAR = 365 * 24 * 3600


def init_app(app: Flask) -> None:
    app.url_defaults(add_version)
    app.after_request(cache_versioned)
    app.add_template_global(static_url)
    app.add_template_global(template_url_for, name="url_for")


def static_url(filename: str) -> str:
    """``url_for("static", filename=filename)``, built once per file (and script root)
    unless templates reload: every reader page links four assets, and building their
    URLs took 5% of a cold post page. Reloading (development), an edited file gets its
    new hash on the next page, as with ``url_for``."""
    app = current_app._get_current_object()
    if app.jinja_env.auto_reload or not has_request_context():
        return url_for("static", filename=filename)
    return _built_once(app, "static", filename)


def template_url_for(endpoint: str, **values) -> str:
    """Flask's ``url_for``, with a URL that takes no values built once per endpoint (and
    script root): a post page links four, and building them took 3% of its instructions.
    Relative endpoints (``.index``) depend on the request's blueprint, so they are built
    each time, as is any URL with values (a search's query is the reader's)."""
    if values or endpoint.startswith(".") or not has_request_context():
        return url_for(endpoint, **values)
    return _built_once(current_app._get_current_object(), endpoint)


def _built_once(app: Flask, endpoint: str, filename: str | None = None) -> str:
    """``url_for(endpoint)`` (with ``filename`` for a static file) under this request's
    script root, kept for the process. Such a URL depends on nothing else: the URL map is
    fixed once the app serves, and the one ``url_defaults`` hook here (:func:`add_version`)
    gives an endpoint the same values every time.

    The request and app are read through their proxies once: each attribute read through
    one costs as much as the lookup itself."""
    urls = app.extensions.setdefault("ally.urls", {})
    key = (request._get_current_object().script_root, endpoint, filename)
    url = urls.get(key)
    if url is None:
        values = {} if filename is None else {"filename": filename}
        url = urls[key] = url_for(endpoint, **values)
    return url


def add_version(endpoint: str, values: dict) -> None:
    if endpoint == "static" and "filename" in values and "v" not in values:
        version = version_of(current_app._get_current_object().static_folder, values["filename"])
        if version:
            values["v"] = version


def cache_versioned(response):
    """A year of caching for a static file requested with its current hash."""
    asking = request._get_current_object()
    if asking.endpoint != "static" or response.status_code not in (200, 304):
        return response
    filename = (asking.view_args or {}).get("filename", "")
    asked = asking.args.get("v")
    if asked and asked == version_of(current_app.static_folder, filename):
        response.cache_control.no_cache = None  # what Flask sends when it has no max-age
        response.cache_control.public = True
        response.cache_control.max_age = YEAR
        response.cache_control.immutable = True
    return response


def version_of(folder: str | None, filename: str) -> str | None:
    """The first 12 hex digits of the file's SHA-256, or None if there is no such file.

    Keyed by modification time, so an edited file gets a new hash without a restart.
    """
    if not folder:
        return None
    path = os.path.join(folder, filename)
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return _digest(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=512)
def _digest(path: str, mtime_ns: int, size: int) -> str:
    with open(path, "rb") as file:
        return hashlib.sha256(file.read()).hexdigest()[:12]
