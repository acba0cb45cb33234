"""Writing pages: create and edit in the block editor, save drafts, publish, schedule,
unpublish, and preview the public template over unsaved content."""

from typing import Any
from urllib.parse import urlencode

from flask import abort
from flask import current_app
from flask import flash
from flask import make_response
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_login import current_user

from ally import audit
from ally import tree
from ally.content import PageDataError
from ally.extensions import db
from ally.models import Page
from ally.models import PageRevision
from ally.models import User
from ally.models import utcnow
from ally.previews import draft_page
from ally.previews import make_token

from . import editor
from .base import bp
from .base import can
from .base import can_edit

# clean_page_data names some fields by column; the form names them as the author sees them.
FIELD_NAMES = {"category_ids": "categories", "feed_image_id": "feed_image", "product_id": "product"}
ACTIONS = {"save", "publish", "schedule"}


def get_page(page_id: int) -> Page:
    return db.session.get(Page, page_id) or abort(404)


def page_type_or_404(parent: Page, type_name: str) -> type[Page]:
    page_cls = Page.types.get(type_name)
    if page_cls is None or not page_cls.can_exist_under(parent):
        abort(404)
    return page_cls


def latest_snapshot(page: Page) -> dict[str, Any]:
    """What the editor opens with: the newest revision (a draft may be ahead of live)."""
    if page.latest_revision_id:
        revision = db.session.get(PageRevision, page.latest_revision_id)
        if revision is not None:
            return {**page.to_snapshot(), **revision.content}
    return page.to_snapshot()


def render_editor(
    page_cls, *, page=None, parent=None, values, errors=None, conflict=None, status=200
):
    errors = {FIELD_NAMES.get(k, k): v for k, v in (errors or {}).items()}
    options = editor.choices()
    html = render_template(
        "admin/editor/edit.html",
        page=page,
        parent=parent,
        page_cls=page_cls,
        values=values,
        errors=errors,
        conflict=conflict,
        choices=options,
        editor_config=editor.editor_config(values, errors, options),
        base_revision_id=request.form.get(
            "base_revision_id", page.latest_revision_id if page else ""
        ),
        can_publish=can("pages.publish"),
        headless_preview=headless_preview_url(page),
    )
    return html, status


def headless_preview_url(page: Page | None) -> str | None:
    """Where a headless front-end shows this page's newest revision (a signed token)."""
    revision = (
        db.session.get(PageRevision, page.latest_revision_id)
        if page and page.latest_revision_id
        else None
    )
    if revision is None:
        return None
    query = urlencode({"content_type": page.api_type.lower(), "token": make_token(revision)})
    base = current_app.config["ALLY_HEADLESS_PREVIEW_URL"] or url_for("api.page_preview")
    return f"{base}?{query}"


@bp.route("/pages/<int:parent_id>/add/<type_name>/", methods=["GET", "POST"])
def page_create(parent_id: int, type_name: str):
    parent = get_page(parent_id)
    page_cls = page_type_or_404(parent, type_name)
    if request.method == "GET":
        values = editor.snapshot_to_values(
            {"date": utcnow().astimezone(editor.site_zone()).date().isoformat()}
        )
        return render_editor(page_cls, parent=parent, values=values)
    action = _action()
    try:
        snapshot = _clean(page_cls, action)
    except PageDataError as error:
        return render_editor(
            page_cls,
            parent=parent,
            values=editor.form_values(request.form),
            errors=error.errors,
            status=400,
        )
    page = page_cls(title=snapshot["title"], slug=snapshot["slug"], owner_id=current_user.id)
    try:
        tree.add_child(parent, page)
    except tree.TreeError as error:
        return render_editor(
            page_cls,
            parent=parent,
            values=editor.form_values(request.form),
            errors={"slug": [str(error)]},
            status=400,
        )
    snapshot["slug"] = page.slug
    return _save(page, snapshot, action, parent=parent)


@bp.route("/pages/<int:page_id>/edit/", methods=["GET", "POST"])
def page_edit(page_id: int):
    page = get_page(page_id)
    if not can_edit(page):
        abort(403)
    page_cls = type(page)
    if request.method == "GET":
        return render_editor(
            page_cls, page=page, values=editor.snapshot_to_values(latest_snapshot(page))
        )
    action = _action()
    values = editor.form_values(request.form)
    try:
        snapshot = _clean(page_cls, action)
    except PageDataError as error:
        return render_editor(page_cls, page=page, values=values, errors=error.errors, status=400)
    conflict = _conflict(page)
    if conflict:
        return render_editor(page_cls, page=page, values=values, conflict=conflict, status=409)
    snapshot["slug"] = snapshot["slug"] or page.slug
    if snapshot["slug"] != page.slug and snapshot["slug"] in tree.sibling_slugs(
        db.session.get(Page, page.parent_id) if page.parent_id else None, exclude=page
    ):
        return render_editor(
            page_cls,
            page=page,
            values=values,
            status=400,
            errors={"slug": [f"Another page here already uses {snapshot['slug']!r}."]},
        )
    return _save(page, snapshot, action)


def _action() -> str:
    action = request.form.get("action", "save")
    if action not in ACTIONS:
        abort(400, description="Unknown editor action.")
    if action != "save" and not can("pages.publish"):
        abort(403)
    return action


def _clean(page_cls: type[Page], action: str) -> dict:
    snapshot = editor.clean_form(page_cls, request.form)
    if action == "schedule" and not snapshot.get("go_live_at"):
        raise PageDataError({"go_live_at": ["Set a go-live time to schedule."]})
    return snapshot


def _conflict(page: Page) -> str | None:
    """A message when someone saved this page after the author opened it, else None."""
    base = request.form.get("base_revision_id", "")
    current = page.latest_revision_id
    if current is None or base == str(current):
        return None
    revision = db.session.get(PageRevision, current)
    who = revision.user.display_name if revision and revision.user else "someone else"
    when = editor.to_local_input(revision.created_at).replace("T", " ") if revision else ""
    return (
        f"{who} saved this page at {when} after you opened it. Your changes have not been "
        "saved and are still below: copy what you need, then reload to see their version."
    )


def _save(page: Page, snapshot: dict, action: str, parent: Page | None = None):
    """Store a revision, publish or schedule it when asked, commit, and go back to the editor.

    ``parent`` is given for a page being created: an error then shows the "add" form again.
    """
    try:
        revision = tree.save_revision(page, current_user, content=snapshot)
        if action in ("publish", "schedule"):
            tree.publish(revision)
        audit.record(action if parent is None else f"create+{action}", page, page.title)
    except tree.TreeError as error:
        db.session.rollback()
        target = {"parent": parent} if parent is not None else {"page": page}
        return render_editor(
            type(page),
            **target,
            values=editor.form_values(request.form),
            status=400,
            errors={"slug": [str(error)]},
        )
    db.session.commit()
    flash(_saved_message(page, revision, action), "success")
    return redirect(url_for("admin.page_edit", page_id=page.id), code=303)


def _saved_message(page: Page, revision: PageRevision, action: str) -> str:
    if action == "save":
        return f"Draft of “{page.title}” saved." + (
            " Readers still see the published version until you publish." if page.live else ""
        )
    if revision.approved_go_live_at or page.status == "scheduled":
        when = editor.to_local_input(revision.approved_go_live_at or page.go_live_at).replace(
            "T", " "
        )
        return f"“{page.title}” is scheduled to go live at {when}."
    return f"“{page.title}” is published."


@bp.post("/pages/<int:page_id>/unpublish/")
def page_unpublish(page_id: int):
    page = get_page(page_id)
    if not can("pages.publish"):
        abort(403)
    tree.unpublish(page)
    audit.record("unpublish", page, page.title)
    db.session.commit()
    flash(f"“{page.title}” is unpublished; readers no longer see it.", "success")
    return redirect(url_for("admin.page_edit", page_id=page.id), code=303)


# -- preview -------------------------------------------------------------------------------


@bp.post("/pages/<int:page_id>/preview/")
def page_preview(page_id: int):
    page = get_page(page_id)
    if not can_edit(page):
        abort(403)
    return _preview(type(page), page.url_path, page)


@bp.post("/pages/<int:parent_id>/add/<type_name>/preview/")
def page_preview_new(parent_id: int, type_name: str):
    parent = get_page(parent_id)
    page_cls = page_type_or_404(parent, type_name)
    return _preview(page_cls, f"{parent.url_path}preview/", None)


def _preview(page_cls, url_path: str, page: Page | None):
    try:
        snapshot = editor.clean_form(page_cls, request.form)
    except PageDataError as error:
        errors = {FIELD_NAMES.get(k, k): v for k, v in error.errors.items()}
        return render_template("admin/editor/preview_error.html", errors=errors), 400
    return render_preview(page_cls, snapshot, url_path, page)


def render_preview(page_cls, snapshot: dict, url_path: str, page: Page | None):
    """The public template over content that is not live: never indexed, never cached."""
    with db.session.no_autoflush:
        draft = draft_page(page_cls, snapshot, url_path, page)
        html = render_template(page_cls.template, preview=True, **draft.get_context())
    db.session.rollback()
    response = make_response(html)
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def author_name(user_id: int | None) -> str:
    user = db.session.get(User, user_id) if user_id else None
    return user.display_name if user else "—"
