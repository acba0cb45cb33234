"""Load everything a page listing's bodies refer to in a few queries, not one per block.

Products and images referenced by blocks are loaded once into the session's identity map,
where chooser blocks find them (see ``ChooserBlock.bulk_to_python``); promo page URLs of
those products are read in one more query. The cost is the same for 5 posts or 200.
"""

from typing import Any

from ally.extensions import db
from ally.models import Image
from ally.models import Page
from ally.models import Product
from ally.models.base import by_ids
from ally.models.page_types import promo_paths
from ally.models.references import referenced_ids
from ally.models.sql import loaded

from .endpoints import Context
from .fields import Field


def prepare_pages(pages: list[Page], selected: list[tuple[Field, Any]], ctx: Context) -> None:
    names = {f.name for f, _ in selected}
    if not pages or not names & {"body", "product"}:
        return
    products, images = referenced_ids([p.body_json for p in pages] if "body" in names else [])
    products |= {p.product_id for p in pages if "product" in names and p.product_id}
    if products:
        # A page read with its products hands them over; only the others are queried.
        if "body" in names:
            ctx.loaded += [product for p in pages for product in p.promoted_products]
        ctx.loaded += _load(Product, {pk for pk in products if loaded(Product, pk) is None})
        # A detail's read brings its products' paths (``promo_paths_json``).
        if missing := products - ctx.product_urls.keys():
            ctx.product_urls.update(promo_paths(sorted(missing)))
    if images:
        ctx.loaded += _load(Image, images)


def _load(model, ids: set[int]) -> list:
    if not ids:
        return []
    # populate_existing: rows the session holds expired are refreshed, not left stale.
    refreshing = by_ids(model).execution_options(populate_existing=True)
    return db.session.scalars(refreshing, {"ids": sorted(ids)}).all()
