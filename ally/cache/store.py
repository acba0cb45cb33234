"""The store behind the page cache (Flask-Caching): entries with their tags' versions, an
epoch every purge replaces, and purges on commit.

Versions are random tokens, never counters: a version the store has lost (evicted, expired)
reads as missing, which no entry recorded, so losing one can only cost a render, never serve
stale content.
"""

import functools
import hashlib
import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask import has_app_context
from sqlalchemy.orm import Session

from ally.extensions import cache
from ally.extensions import db
from ally.models import Page
from ally.models import utcnow

from .tags import CACHED_MODELS
from .tags import PURGE_INFO_KEY
from .tags import SCHEDULE_KEY
from .tags import collect_purges
from .tags import record_row

EPOCH_KEY = "epoch"
# Versions outlive any entry stored at their creation; one that expires only costs renders.
VERSION_LIFETIMES = 24
log = logging.getLogger(__name__)


def hashed_key(kind: str, text: str) -> str:
    """A bounded store key for ``text`` (a URL, a count's filter): ``kind:<hash>``."""
    return f"{kind}:{hashlib.sha256(text.encode()).hexdigest()[:40]}"


def lookup(key: str) -> tuple[Any, str | None]:
    """The entry stored at ``key`` if it is still valid (else None), and the current epoch.

    The epoch is read in the same round trip; a new store gets its first epoch here. A
    recently used entry is kept in this process too (see :class:`_Recent`), so a hit on it
    reads only the epoch.
    """
    recent = _recent.get(key)
    if recent is not None:
        epoch = cache.get(EPOCH_KEY)
        if epoch is not None and recent["epoch"] == epoch:
            return recent, epoch
    entry, epoch = cache.get_many(key, EPOCH_KEY)
    if epoch is None:
        cache.add(EPOCH_KEY, token(), timeout=0)
        epoch = cache.get(EPOCH_KEY)
    if entry is not None and still_valid(entry, epoch):
        if entry["epoch"] == epoch:
            _recent.keep(key, entry)
        return entry, epoch
    return None, epoch


class _Recent:
    """The last few valid entries this process served, per store.

    Such an entry is still right while the store's epoch is the one it was stored under
    (no purge anywhere since) and it has not expired, so serving it again needs one small
    read instead of the whole entry. Bounded (a worker's memory is a production target) and
    locked, for threaded servers.
    """

    SIZE = 64

    def __init__(self) -> None:
        self._entries: OrderedDict[tuple[int, str], dict] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> dict | None:
        with self._lock:
            entry = self._entries.get((id(cache.cache), key))
            if entry is None:
                return None
            if entry.get("expires", 0) <= time.time():
                del self._entries[(id(cache.cache), key)]
                return None
            self._entries.move_to_end((id(cache.cache), key))
            return entry

    def keep(self, key: str, entry: dict) -> None:
        with self._lock:
            self._entries[(id(cache.cache), key)] = entry
            while len(self._entries) > self.SIZE:
                self._entries.popitem(last=False)


_recent = _Recent()


def still_valid(entry: dict, epoch: str | None) -> bool:
    """Unchanged since stored: nothing purged at all (one read), or none of its tags."""
    if epoch is not None and entry["epoch"] == epoch:
        return True
    tags = list(entry["tags"])
    current = cache.get_many(*(_version_key(tag) for tag in tags))
    return all(entry["tags"][tag] == version for tag, version in zip(tags, current, strict=True))


def put(key: str, entry: dict, tags: Iterable[str], epoch: str | None) -> None:
    """Store ``entry`` with its tags' versions, read before the epoch: if a purge began
    since ``epoch`` was read, nothing is stored, so a render that raced a publish never
    sticks."""
    tags = sorted(tags)
    versions = versions_of(tags)
    if cache.get(EPOCH_KEY) != epoch:
        return
    timeout = entry_timeout()
    entry.update(
        tags=dict(zip(tags, versions, strict=True)), epoch=epoch, expires=time.time() + timeout
    )
    cache.set(key, entry, timeout=timeout)


def cached_value(name: str, compute: Callable[[], Any], tags: Iterable[str]) -> Any:
    """``compute()``, shared through the store until one of ``tags`` is purged.

    For values a response would otherwise rebuild by scanning many rows, such as an API
    listing's ``total_count``. Computed every time without a store (``ALLY_CACHE_URL=off``);
    still shared with ``ALLY_PAGE_CACHE=off``.
    """
    if not current_app._get_current_object().config["ALLY_CACHE_ENABLED"]:
        return compute()
    key = hashed_key("value", name)
    try:
        entry, epoch = lookup(key)
    except store_errors():
        log.exception("page cache: store unreachable; computing %s", name)
        return compute()
    if entry is not None:
        return entry["value"]
    value = compute()
    put(key, {"value": value}, tags, epoch)
    return value


def versions_of(tags: list[str]) -> list[str]:
    """Each tag's current version, giving a version to tags that have none yet."""
    keys = [_version_key(tag) for tag in tags]
    versions = cache.get_many(*keys)
    missing = [key for key, version in zip(keys, versions, strict=True) if version is None]
    if missing:
        for key in missing:
            cache.add(key, token(), timeout=_version_lifetime())
        versions = cache.get_many(*keys)
    return versions


def bump(tags: Iterable[str]) -> None:
    """New versions for ``tags``; the epoch first, so stores in flight give up (see put)."""
    tags = set(tags)
    cache.set(EPOCH_KEY, token(), timeout=0)
    if SCHEDULE_KEY in tags:
        cache.delete(SCHEDULE_KEY)
    cache.set_many({_version_key(tag): token() for tag in tags}, timeout=_version_lifetime())


def _version_key(tag: str) -> str:
    return f"version:{tag}"


def _version_lifetime() -> int:
    return current_app.config["ALLY_CACHE_TIMEOUT"] * VERSION_LIFETIMES


def token() -> str:
    return secrets.token_hex(8)


def entry_timeout() -> int:
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


def purge_committed(db_session: Session) -> None:
    """SQLAlchemy ``after_commit`` listener: new versions for what the transaction purged.

    The change is committed whatever happens here: a store that cannot be reached is logged
    (its entries then live until their timeout), never turned into a failed save.
    """
    tags = db_session.info.pop(PURGE_INFO_KEY, None)
    if tags and has_app_context() and current_app.config["ALLY_CACHE_ENABLED"]:
        try:
            bump(tags)
        except store_errors():
            log.exception("page cache: purge of %d tags failed", len(tags))


@functools.cache
def listen() -> None:
    """Register the SQLAlchemy listeners once per process (they serve every app)."""
    for model in CACHED_MODELS:
        sa.event.listen(model, "load", record_row, propagate=True)
        sa.event.listen(model, "refresh", record_row, propagate=True)
    sa.event.listen(Session, "after_flush", collect_purges)
    sa.event.listen(Session, "after_commit", purge_committed)


def store_errors() -> tuple[type[Exception], ...]:
    """What the configured store raises when it cannot be reached.

    The file store swallows its own errors; Redis raises ``RedisError``. The redis client is
    imported only when Redis is the store: it costs a worker 7 MB. (An ``except`` clause
    evaluates this only when something was raised.)
    """
    return _errors_of(current_app.config["CACHE_TYPE"])


@functools.cache
def _errors_of(cache_type: str) -> tuple[type[Exception], ...]:
    if cache_type != "RedisCache":
        return (OSError,)
    from redis.exceptions import RedisError

    return (OSError, RedisError)
