"""What page bodies refer to, recorded when a body is written: Wagtail's reference index,
for the products promo blocks name.

A page is read with the products it shows (``Page.products_json``). Finding them by
parsing the body's JSON in SQL on every read cost PostgreSQL a quarter of a post page's
time at 100,000 posts (about 0.1 ms of 0.45 ms per read, the body being a TOASTed value
parsed once more); ``page_products`` answers by the page's key instead. It is written in
the same flush as the body (see ``pages._record_body_references``), so it commits or
rolls back with it, and foreign keys remove a row with its page or its product.

A body written around the ORM (a bulk ``UPDATE``, SQL by hand) leaves its row stale until
the page is saved again or ``flask rebuild-references`` runs: its promo blocks then load
their products with a query of their own, the same page as before, one query slower.
Loaders that insert pages in bulk call :func:`record` themselves (``ally.bench_data``).
"""

import sqlalchemy as sa

from .base import Base
from .base import is_id
from .commerce import Product

page_products = sa.Table(
    "page_products",
    Base.metadata,
    sa.Column("page_id", sa.ForeignKey("pages.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("product_id", sa.ForeignKey("products.id", ondelete="CASCADE"), primary_key=True),
    # A product's deletion cascades from this side; the PK index only serves page_id.
    sa.Index("ix_page_products_product_id", "product_id"),
)


def referenced_ids(bodies: list[list]) -> tuple[set[int], set[int]]:
    """Product and image ids named by product promo and image blocks of stored bodies
    (StreamField JSON); blocks naming no plausible id are skipped."""
    products, images = set(), set()
    for body in bodies:
        for block in body if isinstance(body, list) else ():
            value = block.get("value") if isinstance(block, dict) else None
            if not isinstance(value, dict):
                continue
            if block.get("type") == "product_promo" and is_id(value.get("product")):
                products.add(value["product"])
            elif block.get("type") == "image" and is_id(value.get("image")):
                images.add(value["image"])
    return products, images


def record(connection: sa.Connection, bodies: dict[int, list]) -> None:
    """Make ``page_products`` hold, for each page id of ``bodies``, the products its
    body (stored JSON) promotes, of those the database holds."""
    if not bodies:
        return
    named = {page_id: referenced_ids([body])[0] for page_id, body in bodies.items()}
    pages = sorted(bodies)
    connection.execute(sa.delete(page_products).where(page_products.c.page_id.in_(pages)))
    wanted = sorted(set().union(*named.values()))
    if not wanted:
        return
    held = set(connection.scalars(sa.select(Product.id).where(Product.id.in_(wanted))))
    links = [
        {"page_id": page_id, "product_id": product_id}
        for page_id, ids in named.items()
        for product_id in sorted(ids & held)
    ]
    if links:
        connection.execute(sa.insert(page_products), links)


def shown_products(product_id, page_id, own_product_id) -> sa.ColumnElement[bool]:
    """True for the products a page's row shows: those its body promotes, as recorded,
    and a promo page's own. ``page_id`` and ``own_product_id`` are the row's columns,
    correlated with the read around the expression.

    The page's own product joins the recorded ones by ``UNION ALL`` rather than an
    ``OR`` of two conditions, which made PostgreSQL read every product for every page
    (0.8 ms with 5,000 products) instead of each by its key."""
    promoted = (
        sa.select(page_products.c.product_id)
        .where(page_products.c.page_id == page_id)
        .correlate_except(page_products)
    )
    own = sa.select(own_product_id).correlate_except(page_products)
    return product_id.in_(promoted.union_all(own))
