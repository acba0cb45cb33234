"""Tree operations: every change to where a page lives or whether readers see it.

Each function changes the session and flushes; the caller commits (a view, a CLI command,
an import), so a failure part-way leaves nothing behind. Tests call these without HTTP.
"""

import re
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from slugify import slugify

from ally import cache as page_cache
from ally.extensions import db
from ally.models import Page
from ally.models import PageRevision
from ally.models import Redirect
from ally.models import User
from ally.models import utcnow
from ally.models.pages import SLUG_PATTERN

MAX_SLUG_LENGTH = 80
_SLUG_RE = re.compile(SLUG_PATTERN)


class TreeError(ValueError):
    """An operation the tree's rules forbid; the message is fit to show an author."""


def make_slug(text: str) -> str:
    """A URL slug from a title: lower-case ASCII letters, digits and hyphens."""
    return slugify(text, max_length=MAX_SLUG_LENGTH, word_boundary=True) or "page"


def validate_slug(slug: str) -> str:
    if not isinstance(slug, str) or not _SLUG_RE.match(slug) or len(slug) > MAX_SLUG_LENGTH:
        raise TreeError(
            f"Slug {slug!r} must be lower-case letters, digits and single hyphens "
            f"(at most {MAX_SLUG_LENGTH} characters)."
        )
    return slug


def child_path(parent: Page | None, slug: str) -> str:
    return "/" if parent is None else f"{parent.url_path}{slug}/"


def sibling_slugs(parent: Page | None, exclude: Page | None = None) -> set[str]:
    query = sa.select(Page.slug).where(
        Page.parent_id == parent.id if parent is not None else Page.parent_id.is_(None)
    )
    if exclude is not None and exclude.id is not None:
        query = query.where(Page.id != exclude.id)
    return set(db.session.scalars(query))


def dedupe_slug(slug: str, taken: set[str]) -> str:
    """``slug``, or ``slug-2``, ``slug-3``… — the first one not in ``taken``."""
    candidate, number = slug, 1
    while candidate in taken:
        number += 1
        candidate = f"{slug[: MAX_SLUG_LENGTH - len(str(number)) - 1]}-{number}"
    return candidate


def check_can_add(parent: Page | None, page_type: type[Page]) -> None:
    if not page_type.can_exist_under(parent):
        where = f"under {parent.verbose_name} {parent.title!r}" if parent else "at the root"
        raise TreeError(f"A {page_type.verbose_name} cannot be created {where}.")
    if page_type.max_count is not None:
        count = db.session.scalar(
            sa.select(sa.func.count()).where(Page.page_type == page_type.api_type)
        )
        if count >= page_type.max_count:
            raise TreeError(f"There can be only {page_type.max_count} {page_type.verbose_name}.")


def add_child(parent: Page | None, page: Page) -> Page:
    """Place the new ``page`` under ``parent`` (``None``: the tree's root, the home page).

    Enforces the type rules and ``max_count``; an empty slug comes from the title, and a
    slug already used by a sibling gets a ``-2``, ``-3``… suffix.
    """
    check_can_add(parent, type(page))
    slug = validate_slug(page.slug) if page.slug else make_slug(page.title)
    page.slug = "home" if parent is None else dedupe_slug(slug, sibling_slugs(parent))
    page.parent_id = parent.id if parent is not None else None
    page.depth = parent.depth + 1 if parent is not None else 1
    page.url_path = child_path(parent, page.slug)
    page.position = _next_position(parent)
    if page.body_block is not None and not page.search_text:
        page.search_text = page.build_search_text()
    db.session.add(page)
    db.session.flush()
    return page


def _next_position(parent: Page | None) -> int:
    if parent is None:
        return 0
    last = db.session.scalar(
        sa.select(sa.func.max(Page.position)).where(Page.parent_id == parent.id)
    )
    return (last or 0) + 1


def move_page(page: Page, new_parent: Page) -> Page:
    """Move ``page`` (and its subtree) under ``new_parent``, keeping the old URLs working."""
    if page.parent_id is None:
        raise TreeError("The home page cannot be moved.")
    if new_parent.url_path.startswith(page.url_path):
        raise TreeError("A page cannot be moved under itself or its own descendants.")
    if not type(page).can_exist_under(new_parent):
        raise TreeError(f"A {page.verbose_name} cannot live under {new_parent.title!r}.")
    if page.slug in sibling_slugs(new_parent, exclude=page):
        raise TreeError(f"{new_parent.title!r} already has a child with the slug {page.slug!r}.")
    old_path, depth_delta = page.url_path, new_parent.depth + 1 - page.depth
    page.parent_id = new_parent.id
    page.position = _next_position(new_parent)
    db.session.flush()
    _relocate(page, old_path, child_path(new_parent, page.slug), depth_delta)
    return page


def change_slug(page: Page, slug: str) -> Page:
    """Rename ``page``'s slug; its subtree's URLs follow, old URLs redirect (301)."""
    validate_slug(slug)
    if slug == page.slug:
        return page
    if page.parent_id is None:
        raise TreeError("The home page's slug cannot change.")
    parent = db.session.get(Page, page.parent_id)
    if slug in sibling_slugs(parent, exclude=page):
        raise TreeError(f"{parent.title!r} already has a child with the slug {slug!r}.")
    old_path = page.url_path
    page.slug = slug
    db.session.flush()
    _relocate(page, old_path, child_path(parent, slug), 0)
    return page


def _relocate(page: Page, old_path: str, new_path: str, depth_delta: int) -> None:
    rewrite_url_paths(old_path, new_path, depth_delta)
    if page.first_published_at is not None:
        add_redirect(old_path, page)
    # A redirect whose old path is now a real page again would never fire; drop it.
    db.session.execute(sa.delete(Redirect).where(Redirect.old_path == new_path))
    db.session.flush()


def rewrite_url_paths(old_prefix: str, new_prefix: str, depth_delta: int = 0) -> int:
    """Rewrite the ``url_path`` (and depth) of a page and all its descendants in ONE UPDATE.

    Ported from Wagtail's ``_update_descendant_url_paths``: the prefix is replaced in SQL,
    so the cost does not grow with Python round trips however big the subtree is.
    """
    statement = (
        sa.update(Page)
        .where(Page.url_path.startswith(old_prefix, autoescape=True))
        .values(
            url_path=sa.literal(new_prefix) + sa.func.substr(Page.url_path, len(old_prefix) + 1),
            depth=Page.depth + depth_delta,
        )
        .execution_options(synchronize_session=False)
    )
    result = db.session.execute(statement)
    # The UPDATE bypassed the identity map: reload what the session holds, and tell the
    # page cache, which cannot see these rows change one by one.
    db.session.expire_all()
    page_cache.purge_on_commit(db.session, page_cache.subtree_tag(old_prefix), "pages")
    return result.rowcount


def add_redirect(old_path: str, page: Page) -> Redirect:
    """A permanent redirect from ``old_path`` to wherever ``page`` is (and will be)."""
    redirect = db.session.scalar(sa.select(Redirect).where(Redirect.old_path == old_path))
    if redirect is None:
        redirect = Redirect(old_path=old_path)
        db.session.add(redirect)
    redirect.page_id, redirect.target_url = page.id, ""
    return redirect


def delete_page(page: Page) -> int:
    """Delete ``page`` and its subtree; returns how many pages went."""
    if page.parent_id is None:
        raise TreeError("The home page cannot be deleted.")
    ids = list(db.session.scalars(sa.select(Page.id).where(_subtree(page))))
    page_cache.purge_on_commit(
        db.session, page_cache.subtree_tag(page.url_path), *page_cache.purge_tags(page)
    )
    # Children first, so the self-referencing foreign key never sees an orphan.
    db.session.execute(
        sa.delete(Page).where(Page.id.in_(ids)).execution_options(synchronize_session=False)
    )
    db.session.expire_all()
    return len(ids)


def _subtree(page: Page) -> sa.ColumnElement[bool]:
    return Page.url_path.startswith(page.url_path, autoescape=True)


# -- revisions and publishing --------------------------------------------------------------


def save_revision(
    page: Page, user: User | None = None, content: dict | None = None
) -> PageRevision:
    """Store ``content`` (default: the page's current state) as the page's newest revision.

    A page readers can see keeps showing its published content: the revision is a draft
    until :func:`publish`. A page that is not live takes the content at once, so the
    explorer and previews show what was written.
    """
    content = content if content is not None else page.to_snapshot()
    revision = PageRevision(page_id=page.id, user_id=user.id if user else None, content=content)
    db.session.add(revision)
    db.session.flush()
    if page.live:
        page.has_unpublished_changes = True
    else:
        _apply(page, content)
    page.latest_revision_id = revision.id
    return revision


def publish(revision: PageRevision, now: datetime | None = None) -> Page:
    """Make ``revision`` what readers see, now or at its go-live time.

    A go-live time in the future on a page that is not live marks it live with that time,
    so it appears on its own when the time comes (see ``Page.public_clause``). On a page that
    is already live, the old content stays until ``publish_scheduled`` runs.
    """
    now = now or utcnow()
    page = db.session.get(Page, revision.page_id)
    go_live_at = _parse_dt(revision.content.get("go_live_at"))
    if go_live_at is not None and go_live_at > now and page.live and not page.expired:
        revision.approved_go_live_at = go_live_at
        page.has_unpublished_changes = True
        return page
    return _make_live(page, revision, now)


def _make_live(page: Page, revision: PageRevision, now: datetime) -> Page:
    go_live_at = _parse_dt(revision.content.get("go_live_at"))
    _apply(page, revision.content)
    page.live, page.expired, page.has_unpublished_changes = True, False, False
    page.first_published_at = page.first_published_at or max(go_live_at or now, now)
    page.last_published_at = max(go_live_at or now, now)
    page.live_revision_id = revision.id
    revision.approved_go_live_at = None
    db.session.flush()
    return page


def unpublish(page: Page) -> Page:
    """Hide ``page`` from readers; its content and revisions stay for editing."""
    page.live, page.has_unpublished_changes = False, True
    db.session.execute(
        sa.update(PageRevision)
        .where(PageRevision.page_id == page.id)
        .values(approved_go_live_at=None)
    )
    db.session.flush()
    return page


def publish_scheduled(now: datetime | None = None) -> tuple[int, int]:
    """Publish revisions whose time has come and unpublish expired pages.

    Returns ``(published, expired)``. Idempotent: safe from cron on several hosts.
    """
    now = now or utcnow()
    due = db.session.scalars(
        sa.select(PageRevision)
        .where(PageRevision.approved_go_live_at <= now)
        .order_by(PageRevision.id)
    ).all()
    for revision in due:
        _make_live(db.session.get(Page, revision.page_id), revision, now)
    expired = db.session.scalars(
        sa.select(Page).where(Page.live.is_(True), Page.expire_at <= now)
    ).all()
    for page in expired:
        page.live, page.expired = False, True
    db.session.flush()
    return len(due), len(expired)


def _apply(page: Page, content: dict[str, Any]) -> None:
    page.apply_snapshot(content)
    if content.get("slug") and content["slug"] != page.slug:
        change_slug(page, content["slug"])


def _parse_dt(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None
