"""What a response depends on, and what a change purges: tags.

A render records the tags of every row it loads (SQLAlchemy ``load``/``refresh`` events) and
of every set it lists (:func:`depends_on`). A flush collects the tags of the rows it writes
(:func:`purge_tags`); the commit hands them to the store (see ``store.listen``).
"""

from contextvars import ContextVar
from dataclasses import dataclass
from dataclasses import field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ally.models import Category
from ally.models import Image
from ally.models import Page
from ally.models import Product

PURGE_INFO_KEY = "ally.cache.purge"
SCHEDULE_KEY = "schedule"
CACHED_MODELS = (Page, Product, Category, Image)


@dataclass
class Render:
    """A cacheable response being rendered: its key, the epoch seen first, its tags."""

    key: str
    epoch: str | None
    tags: set[str] = field(default_factory=set)


# The render of this request, in a context variable rather than the request's environ:
# every row loaded and every set listed asks for it, and the lookup through Flask's request
# proxy cost a cold API listing and /blog/ 2.6% of their instructions (1.1% a post page).
_RENDER: ContextVar[Render | None] = ContextVar("ally.cache.render", default=None)


def current_render() -> Render | None:
    """The cacheable response being rendered in this request, if any."""
    return _RENDER.get()


def start_render(render: Render) -> None:
    """Record tags into ``render`` until :func:`end_render`."""
    _RENDER.set(render)


def end_render(*_args) -> Render | None:
    """Stop recording; the render that was recording, if any. Also a ``teardown_request``
    function, so no render outlives its request whatever became of it."""
    render = _RENDER.get()
    if render is not None:
        _RENDER.set(None)
    return render


def depends_on(*tags: str) -> None:
    """Declare that the response being rendered lists the sets ``tags`` name.

    Rows a render loads are recorded on their own; a query over a set (a parent's children,
    the menu, every page) calls this so that a row joining or leaving the set purges it.
    """
    render = current_render()
    if render is not None:
        render.tags.update(tags)


def purge_on_commit(db_session: Session, *tags: str) -> None:
    """Purge ``tags`` when ``db_session``'s transaction commits.

    For changes SQLAlchemy does not track row by row: a bulk ``UPDATE`` of a subtree's
    paths, a bulk ``DELETE``.
    """
    db_session.info.setdefault(PURGE_INFO_KEY, set()).update(tags)


def row_tag(table: str, pk: int) -> str:
    """The tag of one row: what a response showing it depends on, and what changing it
    purges."""
    return f"{table}:{pk}"


def row_tags(obj: object) -> list[str]:
    """The tags a response that shows ``obj`` depends on, read without loading anything."""
    if not isinstance(obj, CACHED_MODELS):
        return []
    state = sa.inspect(obj)
    if state.identity is None:
        return []
    if isinstance(obj, Page):
        # Without its path (an expired row) the page could be anywhere: depend on them all.
        return page_tags(state.identity[0], state.dict.get("url_path"))
    return [row_tag(obj.__tablename__, state.identity[0])]


def page_tags(page_id: int, url_path: str | None) -> list[str]:
    """The tags a response showing the page ``page_id`` at ``url_path`` depends on: the
    row, and every ancestor a move of would change its path (all pages, path unknown)."""
    return [row_tag("pages", page_id), *(subtree_tags(url_path) if url_path else ["pages"])]


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
    tags = {row_tag(table, obj.id), table}
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


def record_row(target, *args) -> None:
    """SQLAlchemy ``load``/``refresh`` listener: the row joins the current render's tags."""
    render = current_render()
    if render is not None:
        render.tags.update(row_tags(target))


def collect_purges(db_session: Session, flush_context) -> None:
    """SQLAlchemy ``after_flush`` listener: remember what the flushed rows purge."""
    tags = db_session.info.setdefault(PURGE_INFO_KEY, set())
    for obj in (*db_session.new, *db_session.dirty, *db_session.deleted):
        if obj in db_session.dirty and not db_session.is_modified(obj):
            continue
        tags |= purge_tags(obj)
