"""A page's revisions: who saved what and when, compare with the newest, revert."""

import difflib

import sqlalchemy as sa
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import url_for
from flask_login import current_user

from ally import audit
from ally import tree
from ally.extensions import db
from ally.models import PageRevision

from .base import bp
from .base import can_edit
from .pages import get_page
from .pages import latest_snapshot
from .pages import render_preview

COMPARED_FIELDS = (
    "title",
    "slug",
    "intro",
    "date",
    "seo_title",
    "search_description",
    "go_live_at",
    "expire_at",
    "category_ids",
    "product_id",
    "feed_image_id",
)


def get_revision(page_id: int, revision_id: int) -> PageRevision:
    revision = db.session.get(PageRevision, revision_id)
    if revision is None or revision.page_id != page_id:
        abort(404)
    return revision


@bp.get("/pages/<int:page_id>/revisions/")
def page_revisions(page_id: int):
    page = get_page(page_id)
    revisions = db.session.scalars(
        sa.select(PageRevision)
        .where(PageRevision.page_id == page.id)
        .order_by(PageRevision.id.desc())
        .limit(100)
    ).all()
    return render_template(
        "admin/pages/revisions.html", page=page, revisions=revisions, can_revert=can_edit(page)
    )


@bp.get("/pages/<int:page_id>/revisions/<int:revision_id>/compare/")
def revision_compare(page_id: int, revision_id: int):
    """Differences between an older revision and the newest content, field by field."""
    page = get_page(page_id)
    old = get_revision(page.id, revision_id).content
    new = latest_snapshot(page)
    fields = [
        (name, old.get(name), new.get(name))
        for name in COMPARED_FIELDS
        if old.get(name) != new.get(name)
    ]
    body = list(difflib.ndiff(body_lines(page, old.get("body")), body_lines(page, new.get("body"))))
    body = [line for line in body if not line.startswith("?")]
    return render_template(
        "admin/pages/compare.html",
        page=page,
        revision_id=revision_id,
        fields=fields,
        body=body,
        body_changed=any(line[:1] in "+-" for line in body),
    )


def body_lines(page, raw) -> list[str]:
    """One readable line per block: its type and its text."""
    if page.body_block is None or not isinstance(raw, list):
        return []
    value = page.body_block.to_python(raw)
    lines = []
    for child in value:
        text = child.block.get_searchable_text(child.value) if child.block else ""
        lines.append(f"[{child.block_type}] {text}")
    return lines


@bp.post("/pages/<int:page_id>/revisions/<int:revision_id>/revert/")
def revision_revert(page_id: int, revision_id: int):
    """Make an old revision the newest draft; publishing it stays a separate step."""
    page = get_page(page_id)
    if not can_edit(page):
        abort(403)
    old = get_revision(page.id, revision_id)
    try:
        tree.save_revision(page, current_user, content=dict(old.content))
        audit.record("revert", page, f"to revision {revision_id}")
    except tree.TreeError as error:
        db.session.rollback()
        flash(f"Could not revert: {error}", "error")
        return redirect(url_for("admin.page_revisions", page_id=page.id), code=303)
    db.session.commit()
    flash(
        f"Reverted to revision {revision_id} as a new draft. Publish it to show it to readers.",
        "success",
    )
    return redirect(url_for("admin.page_edit", page_id=page.id), code=303)


@bp.get("/pages/<int:page_id>/revisions/<int:revision_id>/preview/")
def revision_preview(page_id: int, revision_id: int):
    page = get_page(page_id)
    revision = get_revision(page.id, revision_id)
    return render_preview(
        type(page), {**page.to_snapshot(), **revision.content}, page.url_path, page
    )
