"""The page explorer: browse the tree, add a child of an allowed type, move, delete."""

import sqlalchemy as sa
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for

from ally import audit
from ally import tree
from ally.extensions import db
from ally.models import HomePage
from ally.models import Page
from ally.site.paging import page_number_arg
from ally.site.paging import paginate
from ally.site.routing import prefixes

from .base import bp
from .base import requires
from .pages import get_page

CHILDREN_PER_PAGE = 50


@bp.get("/pages/")
def explore_root():
    home = db.session.scalar(sa.select(Page).where(Page.parent_id.is_(None)))
    if home is None:
        return render_template("admin/pages/empty.html", home_type=HomePage)
    return redirect(url_for("admin.explore", page_id=home.id))


@bp.get("/pages/<int:page_id>/")
def explore(page_id: int):
    page = get_page(page_id)
    children = paginate(children_statement(page.id), page_number_arg(), CHILDREN_PER_PAGE)
    return render_template(
        "admin/pages/explore.html", page=page, children=children, ancestors=ancestors(page)
    )


def children_statement(parent_id: int) -> sa.Select:
    """Every child of a page, drafts too, in tree order (read in ``ix_pages_children``'s
    order, so a blog of any size costs a page of rows)."""
    return sa.select(Page).where(Page.parent_id == parent_id).order_by(Page.position, Page.id)


def ancestors(page: Page) -> list[Page]:
    """The page's ancestors, root first, in one query."""
    paths = prefixes([part for part in page.url_path.split("/") if part])[:-1]
    if not paths:
        return []
    return db.session.scalars(
        sa.select(Page).where(Page.url_path.in_(paths)).order_by(Page.depth)
    ).all()


@bp.get("/pages/<int:parent_id>/add/")
def page_add(parent_id: int):
    parent = get_page(parent_id)
    types = [t for t in parent.allowed_subpage_types() if t.can_exist_under(parent)]
    if len(types) == 1:
        return redirect(
            url_for("admin.page_create", parent_id=parent.id, type_name=types[0].api_type)
        )
    return render_template("admin/pages/add.html", parent=parent, types=types)


@bp.post("/pages/add-home/")
@requires("pages.structure")
def page_add_home():
    if db.session.scalar(sa.select(Page.id).where(Page.parent_id.is_(None))):
        abort(400, description="The site already has a home page.")
    home = HomePage(title=request.form.get("title", "").strip() or "Home", slug="home")
    tree.add_child(None, home)
    db.session.commit()
    return redirect(url_for("admin.explore", page_id=home.id))


@bp.route("/pages/<int:page_id>/move/", methods=["GET", "POST"])
@requires("pages.structure")
def page_move(page_id: int):
    page = get_page(page_id)
    targets = move_targets(page)
    if request.method == "POST":
        target = next((t for t in targets if str(t.id) == request.form.get("parent_id")), None)
        if target is None:
            flash("Choose where to move the page.", "error")
        else:
            old_path = page.url_path
            try:
                tree.move_page(page, target)
                audit.record("move", page, f"{old_path} → {page.url_path}")
            except tree.TreeError as error:
                db.session.rollback()
                flash(str(error), "error")
            else:
                db.session.commit()
                flash(
                    f"“{page.title}” moved to {page.url_path}. Its old address redirects.",
                    "success",
                )
                return redirect(url_for("admin.explore", page_id=target.id), code=303)
    return render_template("admin/pages/move.html", page=page, targets=targets)


def move_targets(page: Page) -> list[Page]:
    """Pages that may hold ``page``: an allowed type, not the page itself or below it."""
    if not page.parent_page_types:
        return []
    query = (
        sa.select(Page)
        .where(Page.page_type.in_(page.parent_page_types), Page.id != page.parent_id)
        .where(sa.not_(Page.url_path.startswith(page.url_path, autoescape=True)))
        .order_by(Page.url_path)
        .limit(200)
    )
    return [t for t in db.session.scalars(query) if type(page).can_exist_under(t)]


@bp.route("/pages/<int:page_id>/delete/", methods=["GET", "POST"])
@requires("pages.structure")
def page_delete(page_id: int):
    page = get_page(page_id)
    if page.parent_id is None:
        abort(400, description="The home page cannot be deleted.")
    subtree = Page.url_path.startswith(page.url_path, autoescape=True)
    if request.method == "POST":
        parent_id = page.parent_id
        audit.record("delete", page, f"{page.title} ({page.url_path})")
        count = tree.delete_page(page)
        db.session.commit()
        flash(f"Deleted {count} page{'s' if count != 1 else ''}.", "success")
        return redirect(url_for("admin.explore", page_id=parent_id), code=303)
    count = db.session.scalar(sa.select(sa.func.count()).where(subtree))
    below = db.session.scalars(
        sa.select(Page).where(subtree, Page.id != page.id).order_by(Page.url_path).limit(20)
    ).all()
    return render_template("admin/pages/delete.html", page=page, count=count, below=below)
