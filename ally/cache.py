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
  tags get new versions (see :func:`purge_tags`; bulk tree rewrites call :func:`purge`), and
  the entries that depended on them stop matching. There is no list of URLs to keep in step
  with the templates.
* **Scheduled pages.** No entry outlives the next scheduled go-live or expiry, so a page
  appears on time even before ``publish-scheduled`` runs.

Versions live in the same store as the entries, so a purge made by one gunicorn worker (or
host, with Redis) is seen by all of them.
"""

import functools
import hashlib
import hmac
import secrets
from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask import current_app
from flask import has_app_context
from flask import has_request_context
from flask import request
from flask import session
from flask.sessions import SessionMixin
from flask_wtf.csrf import generate_csrf
from sqlalchemy.orm import Session

from ally.extensions import cache
from ally.extensions import db
from ally.models import Category
from ally.models import Image
from ally.models import Page
from ally.models import Product
from ally.models import utcnow

RENDER_KEY = "ally.cache.render"
EPOCH_KEY = "epoch"
SCHEDULE_KEY = "schedule"
# Session keys that say nothing about who the reader is.
SHAREABLE_SESSION_KEYS = frozenset({"csrf_token"})
STORED_HEADERS = ("Content-Type", "ETag", "Last-Modified", "Cache-Control")
PURGE_INFO_KEY = "ally.cache.purge"


def cacheable(view: Callable) -> Callable:
    """Mark a view whose anonymous GET responses may be shared between readers."""
    view.ally_cacheable = True
    return view


def depends_on(*tags: str) -> None:
    """Declare that the response being rendered lists the sets ``tags`` name.

    Rows a render loads are recorded on their own; a query over a set (a parent's children,
    the menu, every page) calls this so that a row joining or leaving the set purges it.
    """
    render = _current_render()
    if render is not None:
        render.tags.update(tags)


def purge_on_commit(db_session: Session, *tags: str) -> None:
    """Purge ``tags`` when ``db_session``'s transaction commits.

    For changes SQLAlchemy does not track row by row: a bulk ``UPDATE`` of a subtree's
    paths, a bulk ``DELETE``.
    """
    db_session.info.setdefault(PURGE_INFO_KEY, set()).update(tags)


# -- what a row's tags are -------------------------------------------------------------------


def row_tags(obj: object) -> list[str]:
    """The tags a response that shows ``obj`` depends on, read without loading anything."""
    if not isinstance(obj, CACHED_MODELS):
        return []
    state = sa.inspect(obj)
    if state.identity is None:
        return []
    tags = [f"{obj.__tablename__}:{state.identity[0]}"]
    if isinstance(obj, Page):
        url_path = state.dict.get("url_path")
        # Without its path (an expired row) the page could be anywhere: depend on them all.
        tags += subtree_tags(url_path) if url_path else ["pages"]
    return tags


def subtree_tag(url_path: str) -> str:
    """What moving or deleting the page at ``url_path`` purges: everything below it."""
    return f"subtree:{url_path}"


def subtree_tags(url_path: str) -> list[str]:
    """``/blog/a/b/`` → the subtree tags of ``/blog/`` and ``/blog/a/``, its ancestors
    (the home page, which never moves, left out)."""
    parts = [part for part in url_path.split("/") if part]
    return [subtree_tag("/" + "".join(f"{p}/" for p in parts[:n])) for n in range(1, len(parts))]


def purge_tags(obj: object) -> set[str]:
    """The tags to purge when ``obj`` is inserted, changed or deleted."""
    if not isinstance(obj, CACHED_MODELS):
        return set()
    table = obj.__tablename__
    tags = {f"{table}:{obj.id}", table}
    if isinstance(obj, Page):
        tags |= _page_set_tags(obj)
    return tags


def _page_set_tags(page: Page) -> set[str]:
    from ally.models import BlogPage
    from ally.models import PromoPage

    history = sa.inspect(page).attrs.parent_id.history
    parents = {page.parent_id, *history.deleted} - {None}
    tags = {f"children:{parent}" for parent in parents} | {SCHEDULE_KEY}
    if page.depth is None or page.depth <= 2:
        tags.add("menu")
    if isinstance(page, BlogPage):
        tags.add("posts")
    if isinstance(page, PromoPage):
        tags.add("promo-pages")
    return tags


CACHED_MODELS = (Page, Product, Category, Image)


# -- serving and storing ---------------------------------------------------------------------


@dataclass
class _Render:
    """A cacheable response being rendered: its key, the epoch seen first, its tags."""

    key: str
    epoch: str | None
    tags: set[str] = field(default_factory=set)


def _current_render() -> _Render | None:
    return request.environ.get(RENDER_KEY) if has_request_context() else None


def serve_from_cache():
    """``before_request``: answer a shareable request from the cache, or start recording."""
    if not _shareable_request():
        return None
    key = _key(request.environ)
    entry, epoch = cache.get_many(key, EPOCH_KEY)
    if epoch is None:  # a new store: start the epoch every later purge replaces
        cache.add(EPOCH_KEY, _token(), timeout=0)
        epoch = cache.get(EPOCH_KEY)
    if entry is not None and _still_valid(entry, epoch):
        return _response(entry, "HIT")
    render = request.environ[RENDER_KEY] = _Render(key, epoch)
    # What the session already holds may be shown without being loaded again (in tests one
    # session serves several requests; in production it starts empty).
    for obj in list(db.session.identity_map.values()):
        render.tags.update(row_tags(obj))
    return None


def store_in_cache(response):
    """``after_request``: store a shareable 200, then fill in this reader's CSRF token."""
    render = request.environ.pop(RENDER_KEY, None)
    if render is None:
        return response
    if _storable(response):
        _store(render, response)
    response.headers["X-Cache"] = "MISS"
    if not response.direct_passthrough:
        body = response.get_data()
        if placeholder() in body:
            response.set_data(body.replace(placeholder(), generate_csrf().encode()))
    return response


def _key(environ: dict) -> str:
    """The request's full URL (scheme, host, path, query) hashed: what a response varies by.

    Read from the WSGI environ rather than ``request.url``, which is slower to build.
    """
    url = "{}://{}{}{}?{}".format(
        environ["wsgi.url_scheme"],
        environ.get("HTTP_HOST", ""),
        environ.get("SCRIPT_NAME", ""),
        environ.get("PATH_INFO", ""),
        environ.get("QUERY_STRING", ""),
    )
    return "response:" + hashlib.sha256(url.encode()).hexdigest()[:40]


def _shareable_request() -> bool:
    config = current_app.config
    if request.method not in ("GET", "HEAD"):
        return False
    if not (config["ALLY_CACHE_ENABLED"] and config["ALLY_PAGE_CACHE"]):
        return False
    view = current_app.view_functions.get(request.endpoint)
    return getattr(view, "ally_cacheable", False) and _shareable_session(session)


def _shareable_session(sess: SessionMixin) -> bool:
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
        and _shareable_session(session)
    )


def _still_valid(entry: dict, epoch: str | None) -> bool:
    """Unchanged since stored: nothing purged at all (one read), or none of its tags."""
    if epoch is not None and entry["epoch"] == epoch:
        return True
    tags = list(entry["tags"])
    current = cache.get_many(*(_version_key(tag) for tag in tags))
    return all(entry["tags"][tag] == version for tag, version in zip(tags, current, strict=True))


def _response(entry: dict, state: str):
    body = entry["body"]
    if entry["csrf"]:
        body = body.replace(placeholder(), generate_csrf().encode())
    response = current_app.response_class(body, status=entry["status"])
    response.headers.update(entry["headers"])
    response.headers["X-Cache"] = state
    if "ETag" in response.headers:
        response.make_conditional(request)
    return response


def _store(render: _Render, response) -> None:
    body = response.get_data()
    entry = {
        "status": response.status_code,
        "headers": [(h, response.headers[h]) for h in STORED_HEADERS if h in response.headers],
        "body": body,
        "csrf": placeholder() in body,
    }
    _put(render.key, entry, render.tags, render.epoch)


def _put(key: str, entry: dict, tags: Iterable[str], epoch: str | None) -> None:
    """Store ``entry`` with its tags' versions, read before the epoch: if a purge began
    since ``epoch`` was read, nothing is stored, so a render that raced a publish never
    sticks."""
    tags = sorted(tags)
    versions = _versions(tags)
    if cache.get(EPOCH_KEY) != epoch:
        return
    entry.update(tags=dict(zip(tags, versions, strict=True)), epoch=epoch)
    cache.set(key, entry, timeout=_entry_timeout())


def cached_value(name: str, compute: Callable[[], Any], tags: Iterable[str]) -> Any:
    """``compute()``, shared through the store until one of ``tags`` is purged.

    For values a response would otherwise rebuild by scanning many rows, such as an API
    listing's ``total_count``; with the page cache off it is computed every time.
    """
    if not current_app.config["ALLY_CACHE_ENABLED"]:
        return compute()
    key = "value:" + hashlib.sha256(name.encode()).hexdigest()[:40]
    entry, epoch = cache.get_many(key, EPOCH_KEY)
    if entry is not None and _still_valid(entry, epoch):
        return entry["value"]
    value = compute()
    _put(key, {"value": value}, tags, epoch)
    return value


def _versions(tags: list[str]) -> list[str]:
    """Each tag's current version, giving a version to tags that have none yet."""
    keys = [_version_key(tag) for tag in tags]
    versions = cache.get_many(*keys)
    missing = [key for key, version in zip(keys, versions, strict=True) if version is None]
    if missing:
        for key in missing:
            cache.add(key, _token(), timeout=0)
        versions = cache.get_many(*keys)
    return versions


def _bump(tags: Iterable[str]) -> None:
    """New versions for ``tags``; the epoch first, so stores in flight give up (see _store)."""
    tags = set(tags)
    cache.set(EPOCH_KEY, _token(), timeout=0)
    if SCHEDULE_KEY in tags:
        cache.delete(SCHEDULE_KEY)
    cache.set_many({_version_key(tag): _token() for tag in tags}, timeout=0)


def _version_key(tag: str) -> str:
    return f"version:{tag}"


def _token() -> str:
    return secrets.token_hex(8)


def _entry_timeout() -> int:
    """``ALLY_CACHE_TIMEOUT``, cut short by the next scheduled go-live or expiry."""
    timeout = current_app.config["ALLY_CACHE_TIMEOUT"]
    next_change = cache.get(SCHEDULE_KEY)
    if next_change is None:
        next_change = _next_scheduled_change()
        cache.set(SCHEDULE_KEY, next_change, timeout=_seconds_until(next_change, timeout))
    return _seconds_until(next_change, timeout)


def _next_scheduled_change() -> float:
    """When a live page next goes live or expires (a timestamp), or 0 for never."""
    now = utcnow()
    going_live = sa.select(sa.func.min(Page.go_live_at)).where(
        Page.live.is_(True), Page.go_live_at > now
    )
    expiring = sa.select(sa.func.min(Page.expire_at)).where(
        Page.live.is_(True), Page.expire_at > now
    )
    row = db.session.execute(
        sa.select(going_live.scalar_subquery(), expiring.scalar_subquery())
    ).one()
    times = [value.timestamp() for value in row if value is not None]
    return min(times) if times else 0


def _seconds_until(timestamp: float, ceiling: int) -> int:
    if not timestamp:
        return ceiling
    return max(1, min(ceiling, int(timestamp - utcnow().timestamp()) + 1))


# -- the CSRF placeholder ----------------------------------------------------------------------


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
    if _current_render() is not None:
        return placeholder().decode()
    return generate_csrf()


# -- wiring --------------------------------------------------------------------------------------


def _record_row(target, *args) -> None:
    render = _current_render()
    if render is not None:
        render.tags.update(row_tags(target))


def _collect_purges(db_session: Session, flush_context) -> None:
    tags = db_session.info.setdefault(PURGE_INFO_KEY, set())
    for obj in (*db_session.new, *db_session.dirty, *db_session.deleted):
        if obj in db_session.dirty and not db_session.is_modified(obj):
            continue
        tags |= purge_tags(obj)


def _purge_committed(db_session: Session) -> None:
    tags = db_session.info.pop(PURGE_INFO_KEY, None)
    if tags and has_app_context() and current_app.config["ALLY_CACHE_ENABLED"]:
        _bump(tags)


@functools.cache
def _listen() -> None:
    """Register the SQLAlchemy listeners once per process (they serve every app)."""
    for model in CACHED_MODELS:
        sa.event.listen(model, "load", _record_row, propagate=True)
        sa.event.listen(model, "refresh", _record_row, propagate=True)
    sa.event.listen(Session, "after_flush", _collect_purges)
    sa.event.listen(Session, "after_commit", _purge_committed)


def code_fingerprint() -> str:
    """A hash of ALLY's code and templates: a deploy starts with a fresh set of keys."""
    digest = hashlib.sha256()
    root = Path(__file__).parent
    for path in sorted(root.rglob("*")):
        if path.suffix in (".py", ".html") and path.is_file():
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def init_app(app: Flask) -> None:
    app.config.setdefault("CACHE_KEY_PREFIX", f"ally:{code_fingerprint()}:")
    app.config.setdefault("CACHE_DEFAULT_TIMEOUT", app.config["ALLY_CACHE_TIMEOUT"])
    cache.init_app(app)
    _listen()
    # First in line (only the request id goes before it, see ops.init_app), so a hit
    # skips every other before-request function.
    app.before_request_funcs.setdefault(None, []).insert(0, serve_from_cache)
    app.after_request(store_in_cache)
    # Flask-WTF offers ``csrf_token`` both as a global and from a context processor; this
    # one, registered later, wins in both places.
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.context_processor(lambda: {"csrf_token": csrf_token})
