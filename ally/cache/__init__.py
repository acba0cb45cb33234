"""The page cache: anonymous GETs of public pages and API reads, stored with Flask-Caching
and purged precisely when something a stored response showed changes.

How a shared response stays right for everyone who gets it:

* **Only shareable requests.** A request is served from, or stored in, the cache only when
  its view is marked :func:`cacheable` and its session holds nothing but a CSRF token: no
  login, no cart, no flashed message. Everyone else gets a fresh render, never stored.
* **No one's token in the HTML.** A cacheable render writes a placeholder where a CSRF
  token goes; every response, stored or fresh, fills in its reader's own token.
* **Dependencies, recorded while rendering.** Each page, product, category and image row the
  render loads adds a tag (``pages:12``, ``products:3``, plus ``subtree:/blog/`` for every
  ancestor of a page); queries that list a set add that set's tag (``children:4``, ``menu``).
  The entry keeps the version each tag had.
* **Purges from the session.** When a transaction that touched such rows commits, their
  tags get new versions (see :func:`purge_tags`; bulk tree rewrites call
  :func:`purge_on_commit`), and the entries that depended on them stop matching. There is
  no list of URLs to keep in step with the templates.
* **Scheduled pages.** No entry outlives the next scheduled go-live or expiry, so a page
  appears on time even before ``publish-scheduled`` runs.

Versions live in the same store as the entries, so a purge made by one gunicorn worker (or
host, with Redis) is seen by all of them.
"""

import functools
import hashlib
from collections.abc import Mapping
from pathlib import Path

from flask import Flask

from ally.extensions import cache

from .edge import CacheEdge
from .responses import cacheable
from .responses import csrf_token
from .responses import placeholder
from .responses import serve_from_cache
from .responses import store_in_cache
from .store import cached_value
from .store import listen
from .tags import depends_on
from .tags import end_render
from .tags import purge_on_commit
from .tags import purge_tags
from .tags import subtree_tag

__all__ = [
    "cacheable",
    "cached_value",
    "depends_on",
    "fingerprint",
    "init_app",
    "placeholder",
    "purge_on_commit",
    "purge_tags",
    "subtree_tag",
]


def init_app(app: Flask) -> None:
    app.config.setdefault("CACHE_KEY_PREFIX", f"ally:{fingerprint(app.config)}:")
    app.config.setdefault("CACHE_DEFAULT_TIMEOUT", app.config["ALLY_CACHE_TIMEOUT"])
    cache.init_app(app)
    listen()
    # First in line (only the request id goes before it, see ops.init_app), so a hit
    # skips every other before-request function.
    app.before_request_funcs.setdefault(None, []).insert(0, serve_from_cache)
    app.after_request(store_in_cache)
    app.teardown_request(end_render)
    app.wsgi_app = CacheEdge(app)
    # In place of Flask-WTF's global (ALLY's CSRFProtect drops its context processor).
    app.jinja_env.globals["csrf_token"] = csrf_token


def fingerprint(config: Mapping) -> str:
    """A hash of ALLY's code, templates and settings, and of the database the pages come
    from, which start the store's keys.

    A deploy, or a restart with another site name, checkout URL or secret key (which the
    CSRF placeholder comes from), starts with a fresh set of keys instead of serving pages
    rendered under the old ones. So does another database behind the same store (staging
    and production sharing a Redis, a restore into a new database): its pages and counts
    are not the old one's, and no purge would tell the store.
    """
    settings = repr(_settings(config)).encode()
    return hashlib.sha256(_code_digest() + settings).hexdigest()[:12]


@functools.cache
def _code_digest() -> bytes:
    """ALLY's code, templates and static files (whose hashes stored pages link to), hashed
    once per process (every app made shares them)."""
    digest = hashlib.sha256()
    root = Path(__file__).parents[1]
    for path in sorted(root.rglob("*")):
        if path.suffix in (".py", ".html", ".css", ".js", ".svg") and path.is_file():
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.digest()


def _settings(config: Mapping) -> list[tuple[str, str]]:
    return sorted(
        (key, repr(value))
        for key, value in config.items()
        if key.startswith("ALLY_") or key in ("SECRET_KEY", "SQLALCHEMY_DATABASE_URI")
    )
