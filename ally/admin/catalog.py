"""Products (prices typed in dollars, stored in cents) and blog categories."""

import sqlalchemy as sa
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import url_for

from ally import audit
from ally.extensions import db
from ally.models import BlogIndexPage
from ally.models import Category
from ally.models import Product
from ally.models import Redirect
from ally.models.pages import category_path
from ally.templating import money

from .base import bp
from .base import requires
from .forms import CategoryForm
from .forms import ProductForm


@bp.get("/products/")
@requires("catalog")
def product_list():
    products = db.session.scalars(sa.select(Product).order_by(Product.name)).all()
    return render_template("admin/catalog/products.html", products=products)


@bp.route("/products/add/", methods=["GET", "POST"])
@bp.route("/products/<int:product_id>/", methods=["GET", "POST"])
@requires("catalog")
def product_edit(product_id: int | None = None):
    product = db.session.get(Product, product_id) or abort(404) if product_id else None
    form = ProductForm(obj=product)
    if product is not None and not form.is_submitted():
        form.price.data = money(product.price_cents).lstrip("$").replace(",", "")
    if form.validate_on_submit() and _slug_free(Product, form, product):
        product = product or Product()
        form.populate_obj(product)
        product.price_cents = form.price_cents
        db.session.add(product)
        db.session.flush()
        audit.record("product_save", product, f"{product.name} at {money(product.price_cents)}")
        db.session.commit()
        flash(f"“{product.name}” saved at {money(product.price_cents)}.", "success")
        return redirect(url_for("admin.product_list"), code=303)
    status = 400 if form.is_submitted() else 200
    return render_template("admin/catalog/product_edit.html", form=form, product=product), status


def _slug_free(model, form, current) -> bool:
    taken = db.session.scalar(
        sa.select(model.id).where(
            model.slug == form.slug.data, model.id != (current.id if current else -1)
        )
    )
    if taken:
        form.slug.errors.append("Another one already uses this slug.")
    return not taken


@bp.get("/categories/")
@requires("catalog")
def category_list():
    categories = db.session.scalars(sa.select(Category).order_by(Category.name)).all()
    return render_template("admin/catalog/categories.html", categories=categories)


@bp.route("/categories/add/", methods=["GET", "POST"])
@bp.route("/categories/<int:category_id>/", methods=["GET", "POST"])
@requires("catalog")
def category_edit(category_id: int | None = None):
    """Create or edit a category; a changed slug keeps the old listing URL as a 301."""
    category = db.session.get(Category, category_id) or abort(404) if category_id else None
    form = CategoryForm(obj=category)
    if (
        form.validate_on_submit()
        and _slug_free(Category, form, category)
        and _name_free(form, category)
    ):
        old_slug = category.slug if category else None
        category = category or Category()
        form.populate_obj(category)
        db.session.add(category)
        if old_slug and old_slug != category.slug:
            redirect_listings(old_slug, category.slug)
        db.session.flush()
        audit.record("category_save", category, f"{category.name} ({category.slug})")
        db.session.commit()
        flash(f"Category “{category.name}” saved.", "success")
        return redirect(url_for("admin.category_list"), code=303)
    status = 400 if form.is_submitted() else 200
    return render_template("admin/catalog/category_edit.html", form=form, category=category), status


def _name_free(form, current) -> bool:
    taken = db.session.scalar(
        sa.select(Category.id).where(
            Category.name == form.name.data, Category.id != (current.id if current else -1)
        )
    )
    if taken:
        form.name.errors.append("Another category already has this name.")
    return not taken


def redirect_listings(old_slug: str, new_slug: str) -> None:
    """Send every blog's old category listing (and its feed and pages) to the new one."""
    for index_path in db.session.scalars(sa.select(BlogIndexPage.url_path)):
        old_path, new_path = (
            category_path(index_path, old_slug),
            category_path(index_path, new_slug),
        )
        row = db.session.scalar(sa.select(Redirect).where(Redirect.old_path == old_path))
        if row is None:
            row = Redirect(old_path=old_path)
            db.session.add(row)
        row.page_id, row.target_url = None, new_path
        # The new listing is real now: an older redirect away from it would shadow nothing,
        # but keep the table honest.
        db.session.execute(sa.delete(Redirect).where(Redirect.old_path == new_path))
