"""Pages as JSON: ``export-pages`` and ``import-pages``.

The file is ``{"categories": [...], "products": [...], "pages": [...]}``; each page is
``{"type": "blog.BlogPage", "parent": "/blog/", "title", "slug", "live", …type fields…,
"categories": ["recovery"], "body": <stream JSON>}``, parents before children. A bare list
of pages is accepted too. Products are matched by slug on import and product ids in bodies
are rewritten to the importing site's ids, so an export loads into an empty database.
Import validates every page with :func:`ally.content.clean_page_data` before the caller
commits: one bad page and nothing is written.
"""

from typing import Any

import sqlalchemy as sa

from ally import tree
from ally.content import PageDataError
from ally.content import clean_page_data
from ally.extensions import db
from ally.models import BlogPage
from ally.models import Category
from ally.models import Page
from ally.models import Product
from ally.models import PromoPage
from ally.models.pages import parent_path


class PagesImportError(ValueError):
    """An import that must not be applied; the message names the page and the problem."""


def export_site() -> dict[str, Any]:
    pages = db.session.scalars(sa.select(Page).order_by(Page.depth, Page.position, Page.id))
    return {
        "categories": [
            {"name": c.name, "slug": c.slug, "description": c.description}
            for c in db.session.scalars(sa.select(Category).order_by(Category.id))
        ],
        "products": [
            {
                "id": p.id,
                "name": p.name,
                "slug": p.slug,
                "description": p.description,
                "price_cents": p.price_cents,
                "active": p.active,
            }
            for p in db.session.scalars(sa.select(Product).order_by(Product.id))
        ],
        "pages": [export_page(page) for page in pages],
    }


def export_page(page: Page) -> dict[str, Any]:
    snapshot = page.to_snapshot()
    data: dict[str, Any] = {"type": page.api_type, "parent": parent_path(page.url_path)}
    data.update(
        {k: v for k, v in snapshot.items() if not k.endswith("_id") and k != "category_ids"}
    )
    data["live"] = page.live
    if isinstance(page, BlogPage):
        data["categories"] = [c.slug for c in page.categories]
        data["feed_image"] = page.feed_image_id
    if isinstance(page, PromoPage):
        data["product"] = page.product_id
    return data


def import_site(document: Any) -> list[Page]:
    """Create the pages of ``document``; raises PagesImportError naming the first bad page."""
    if isinstance(document, list):
        document = {"pages": document}
    if not isinstance(document, dict) or not isinstance(document.get("pages"), list):
        raise PagesImportError('Expected {"pages": [...]} or a list of pages.')
    for data in document.get("categories", []):
        _upsert(Category, data, ("name", "description"))
    product_ids = {
        data.get("id"): _upsert(Product, data, ("name", "description", "price_cents", "active")).id
        for data in document.get("products", [])
    }
    return [
        _import_page(number, data, product_ids)
        for number, data in enumerate(document["pages"], start=1)
    ]


def _import_page(number: int, data: Any, product_ids: dict) -> Page:
    label = _label(number, data)
    if not isinstance(data, dict):
        raise PagesImportError(f"{label}: expected an object.")
    page_cls = Page.types.get(data.get("type"))
    if page_cls is None:
        raise PagesImportError(f"{label}: unknown page type {data.get('type')!r}.")
    data = _remap_products(data, product_ids)
    try:
        snapshot = clean_page_data(page_cls, data)
    except PageDataError as error:
        raise PagesImportError(f"{label}: " + "; ".join(error.lines())) from None
    parent = _find_parent(label, data.get("parent"))
    page = page_cls(title=snapshot["title"], slug=snapshot["slug"] or "")
    try:
        tree.add_child(parent, page)
    except tree.TreeError as error:
        raise PagesImportError(f"{label}: {error}") from None
    snapshot["slug"] = page.slug
    revision = tree.save_revision(page, content=snapshot)
    if data.get("live"):
        tree.publish(revision)
    return page


def _find_parent(label: str, path: Any) -> Page | None:
    if path is None:
        return None
    parent = (
        db.session.scalar(sa.select(Page).where(Page.url_path == path))
        if isinstance(path, str)
        else None
    )
    if parent is None:
        raise PagesImportError(f"{label}: parent {path!r} does not exist (list parents first).")
    return parent


def _remap_products(data: dict, product_ids: dict) -> dict:
    """Point product references at this site's ids for products the file carried."""
    if not product_ids:
        return data
    data = dict(data)
    if data.get("product") in product_ids:
        data["product"] = product_ids[data["product"]]
    if isinstance(data.get("body"), list):
        data["body"] = [_remap_block(block, product_ids) for block in data["body"]]
    return data


def _remap_block(block: Any, product_ids: dict) -> Any:
    value = block.get("value") if isinstance(block, dict) else None
    if (
        block.get("type") == "product_promo"
        and isinstance(value, dict)
        and value.get("product") in product_ids
    ):
        return {**block, "value": {**value, "product": product_ids[value["product"]]}}
    return block


def _upsert(model, data: Any, fields: tuple[str, ...]):
    if not isinstance(data, dict) or not isinstance(data.get("slug"), str):
        raise PagesImportError(f"{model.__name__} entries need a slug: {data!r}")
    row = db.session.scalar(sa.select(model).where(model.slug == data["slug"]))
    if row is None:
        row = model(slug=data["slug"])
        db.session.add(row)
    for name in fields:
        if name in data:
            setattr(row, name, data[name])
    if model is Product and not (
        isinstance(row.name, str)
        and row.name
        and isinstance(row.price_cents, int)
        and not isinstance(row.price_cents, bool)
        and 0 <= row.price_cents < 2**31
    ):
        raise PagesImportError(f"product {data['slug']!r}: needs a name and price_cents >= 0.")
    db.session.flush()
    return row


def _label(number: int, data: Any) -> str:
    title = data.get("title") if isinstance(data, dict) else None
    return f"page {number}" + (f" ({title!r})" if title else "")
