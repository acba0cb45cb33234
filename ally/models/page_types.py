"""The site's page types. Each declares its rules as class attributes (Wagtail style):
``template``, ``parent_page_types``, ``subpage_types``, ``max_count``, ``body_block``.

``api_type`` is both the polymorphic identity stored in ``pages.page_type`` and the
``app.Model`` name the JSON API reports.
"""

import functools
from typing import ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import column_property
from sqlalchemy.orm import relationship
from sqlalchemy.orm import undefer
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.util import ClauseAdapter
from werkzeug.exceptions import NotFound

from ally import late
from ally.blocks import BodyBlock
from ally.database import rows

from .base import written_in
from .blog import Category
from .blog import CategoryRef
from .blog import category_refs
from .blog import post_categories
from .commerce import Product
from .media import Image
from .pages import Page
from .pages import Route
from .references import shown_products
from .sql import detached
from .sql import json_array_agg
from .sql import json_object

BODY = BodyBlock()


def public_children(page: Page) -> list[Page]:
    late.cache_tags().depends_on(f"children:{page.id}")
    return late.extensions().db.session.scalars(_children_statement(), {"parent_id": page.id}).all()


def public_page_by_id(pk: int) -> Page | None:
    """The page ``pk`` if a reader may see it now; None for a hidden or missing page."""
    return late.extensions().db.session.scalar(_public_by_id_statement(), {"pk": pk})


@functools.cache
def _public_by_id_statement() -> sa.Select:
    return sa.select(Page).where(Page.id == sa.bindparam("pk"), Page.public_clause())


@functools.cache
def _children_statement() -> sa.Select:
    """A page's public children in tree order; built once, the parent written in (see
    :func:`~ally.models.base.written_in`)."""
    return (
        sa.select(Page)
        .where(Page.parent_id == written_in("parent_id"), Page.public_clause())
        .order_by(Page.position)
    )


class HomePage(Page):
    __mapper_args__ = {"polymorphic_identity": "home.HomePage"}
    api_type = "home.HomePage"
    verbose_name = "home page"
    template = "pages/home_page.html"
    parent_page_types = ()
    subpage_types = ("blog.BlogIndexPage", "pages.StandardPage", "shop.PromoPage")
    max_count = 1
    body_block = BODY

    def get_context(self, **kwargs):
        from .cards import public_posts

        return super().get_context(latest_posts=public_posts(limit=3), **kwargs)


class StandardPage(Page):
    __mapper_args__ = {"polymorphic_identity": "pages.StandardPage"}
    api_type = "pages.StandardPage"
    verbose_name = "standard page"
    template = "pages/standard_page.html"
    parent_page_types = ("home.HomePage", "pages.StandardPage")
    subpage_types = ("pages.StandardPage", "shop.PromoPage")
    body_block = BODY

    def get_context(self, **kwargs):
        return super().get_context(children=public_children(self), **kwargs)


class BlogIndexPage(Page):
    """The blog listing; also answers ``category/<slug>/``, ``page/<n>/`` and ``feed.xml``."""

    __mapper_args__ = {"polymorphic_identity": "blog.BlogIndexPage"}
    api_type = "blog.BlogIndexPage"
    verbose_name = "blog index"
    template = "pages/blog_index_page.html"
    parent_page_types = ("home.HomePage", "pages.StandardPage")
    subpage_types = ("blog.BlogPage",)

    def route(self, components: list[str]) -> Route:
        match components:
            case []:
                return Route(self, "listing")
            case ["feed.xml"]:
                return Route(self, "feed")
            case ["page", number]:
                return Route(self, "listing", {"page_number": _page_number(number)})
            case ["category", slug]:
                return Route(self, "listing", {"category_slug": slug})
            case ["category", slug, "feed.xml"]:
                return Route(self, "feed", {"category_slug": slug})
            case ["category", slug, "page", number]:
                return Route(
                    self, "listing", {"category_slug": slug, "page_number": _page_number(number)}
                )
        raise NotFound()


def categories_json(page_id: sa.ColumnElement) -> sa.ScalarSelect:
    """The categories of the post ``page_id`` as a JSON array of ``id``, ``name`` and
    ``slug`` objects, unordered (see :func:`~ally.models.blog.category_refs`). Of tables
    only, so a select of any page may carry it without becoming a select of posts."""
    categories = Category.__table__
    item = json_object("id", categories.c.id, "name", categories.c.name, "slug", categories.c.slug)
    return (
        sa.select(json_array_agg(item))
        .select_from(post_categories.join(categories))
        .where(post_categories.c.page_id == page_id)
        .scalar_subquery()
    )


class BlogPage(Page):
    __mapper_args__ = {"polymorphic_identity": "blog.BlogPage"}
    api_type = "blog.BlogPage"
    verbose_name = "blog post"
    template = "pages/blog_page.html"
    parent_page_types = ("blog.BlogIndexPage",)
    subpage_types = ()
    body_block = BODY
    content_fields: ClassVar = Page.content_fields + ("date", "feed_image_id", "category_ids")

    categories: Mapped[list[Category]] = relationship(
        secondary=post_categories, order_by=Category.name
    )
    # The same categories as JSON objects, computed in SQL; only loaded where a query
    # undefers it (``WITH_CATEGORIES``) or a read of rows brings it (``page_columns``:
    # routing, the API detail), so a page showing them costs no query of its own.
    categories_json: Mapped[list | None] = column_property(
        categories_json(Page.__table__.c.id), deferred=True
    )
    feed_image: Mapped[Image | None] = relationship()

    @property
    def filed_under(self) -> list[CategoryRef]:
        """The categories readers see, by name: from ``categories`` when that is loaded
        (it may hold an edit not saved yet), else from ``categories_json`` when the query
        brought it, else loaded now."""
        if "categories" in self.__dict__ or "categories_json" not in self.__dict__:
            return [CategoryRef(c.id, c.name, c.slug) for c in self.categories]
        source = self.categories_json
        cached = self.__dict__.get("_filed_under")
        if cached is None or cached[0] is not source:
            refs = category_refs(source)
            # Not loaded as rows, so not recorded by the cache: a rename must still purge.
            tags = late.cache_tags()
            if tags.current_render() is not None:
                tags.depends_on(*(tags.row_tag("categories", ref.id) for ref in refs))
            cached = self.__dict__["_filed_under"] = (source, refs)
        return cached[1]

    @property
    def category_ids(self) -> list[int]:
        return [category.id for category in self.categories]

    @category_ids.setter
    def category_ids(self, ids: list[int]) -> None:
        wanted = set(ids or [])
        self.categories = (
            list(
                late.extensions().db.session.scalars(
                    sa.select(Category).where(Category.id.in_(wanted))
                )
            )
            if wanted
            else []
        )


# For queries of posts that show their categories (listings, feeds, the API).
WITH_CATEGORIES = undefer(BlogPage.categories_json)


def page_columns() -> list[sa.ColumnElement]:
    """A page's row as :func:`unattached_page` builds it, to select beside what else a read
    needs: its columns by key, its promoted products and (for a post) its categories as
    JSON. Of the table only, so the select stays one of every page type."""
    mapper = sa.inspect(Page)
    return [
        *(_keyed(p.columns[0], p.key) for p in mapper.column_attrs if not p.deferred),
        categories_json(Page.__table__.c.id).label("categories_json"),
        mapper.column_attrs["products_json"].expression.label("products_json"),
    ]


def _keyed(column: sa.ColumnElement, key: str) -> sa.ColumnElement:
    """``column`` selected under ``key``: labelled only where its name differs, since the
    routing read's text must stay short (see :class:`~ally.models.sql.json_rows`)."""
    return column if column.key == key else column.label(key)


def detail_page(values: dict) -> Page:
    """The page of its type that ``values`` (columns of :func:`page_columns` by key) holds,
    detached as a routed page is (:func:`unattached_page`), for the API detail. A post's
    feed image, the one relationship a detail shows beyond the row, is set: read by id (a
    row the session holds is not read again; a read records it for the page cache), or
    None without a query. Joining the session instead cost a detail 11.5% of its
    instructions: the session made for it, the add's cascade, the teardown."""
    page = unattached_page(values)
    if isinstance(page, BlogPage):
        image_id = page.feed_image_id
        session = late.extensions().db.session
        image = session.get(Image, image_id) if image_id is not None else None
        set_committed_value(page, "feed_image", image)
    return page


def unattached_page(values: dict) -> Page:
    """The page of its type that ``values`` (as for :func:`detail_page`) holds, detached
    from any session: for the page a reader asked for, which nothing changes through.
    Joining the session walked the add's cascade: 2% of a post page's instructions.

    What the site shows of it comes with its row (``categories_json``, ``products_json``);
    reading a relationship raises rather than loads. The page cache records the row as it
    would a loaded one."""
    page = detached(_mapper_of(values), values)
    late.cache_tags().record_row(page)
    return page


def page_reference(values: dict) -> Page:
    """The page of its type that ``values`` holds (``id``, ``page_type`` and ``url_path``
    among them), outside any session: for a page a response shows by reference only (a
    detail's parent), which nothing reads beyond ``values``. Joining the session cost an
    API detail 5% of its instructions for its parent, and detaching it (expiring every
    attribute ``values`` lacks) 3%. The page cache records the row as it would a loaded
    one."""
    page = _mapper_of(values).class_manager.new_instance()
    page.__dict__.update(values)
    tags = late.cache_tags()
    if tags.current_render() is not None:  # the tags are built only for a render recording
        tags.depends_on(*tags.page_tags(values["id"], values["url_path"]))
    return page


def _mapper_of(values: dict):
    """The mapper of the page type ``values`` holds, leaving out ``categories_json`` for a
    type without categories (only posts have them)."""
    mapper = Page.__mapper__.polymorphic_map[values["page_type"]]
    if "categories_json" not in mapper.attrs:
        values.pop("categories_json", None)
    return mapper


class PromoPage(Page):
    """A product's own page: the product card up top, then the body."""

    __mapper_args__ = {"polymorphic_identity": "shop.PromoPage"}
    api_type = "shop.PromoPage"
    verbose_name = "product promo page"
    template = "pages/promo_page.html"
    parent_page_types = ("home.HomePage", "pages.StandardPage")
    subpage_types = ()
    body_block = BODY
    content_fields: ClassVar = Page.content_fields + ("product_id",)

    product: Mapped[Product | None] = relationship()

    @property
    def shown_product(self) -> Product | None:
        """The page's product as its read brought it (see ``promoted_products``), else
        ``product``, loaded: a promo page is then one query, as a post is."""
        if "products_json" not in self.__dict__:
            return self.product
        # The read brings the product whenever it exists (and a routed page, detached,
        # could not load it).
        return next((p for p in self.promoted_products if p.id == self.product_id), None)


def promo_paths(product_ids) -> dict[int, str | None]:
    """Each product's public promo page path (None when it has none), in one indexed
    query."""
    if not product_ids:
        return {}
    late.cache_tags().depends_on("promo-pages")
    return dict(rows(_promo_paths_statement(), {"ids": list(product_ids)}))


def promo_paths_json(pages: sa.TableClause) -> sa.ScalarSelect:
    """What :func:`promo_paths` answers for the products a row of ``pages`` shows (its
    body's promo blocks', and a promo page's own), as a JSON array of ``product`` and
    ``path`` objects: for a read that brings them with the page instead of a query of
    their own."""
    shown = shown_products(Product.id, pages.c.id, pages.c.product_id)
    item = json_object("product", Product.id, "path", _promo_path(Product.id))
    return sa.select(json_array_agg(item)).where(shown).scalar_subquery()


@functools.cache
def _promo_paths_statement() -> sa.Select:
    """Built once: building it and its cache key cost an API detail an eighth of its Python."""
    ids = sa.bindparam("ids", expanding=True)
    return sa.select(Product.id, _promo_path(Product.id).label("path")).where(Product.id.in_(ids))


def _promo_path(product_id: sa.ColumnElement) -> sa.ScalarSelect:
    """The first public promo page path of the product ``product_id``, by
    ``ix_pages_product_id``; its own alias of ``pages``, so a read of pages may carry it."""
    promo = Page.__table__.alias("promo")
    public = ClauseAdapter(promo).traverse(Page.public_clause())
    path = sa.func.min(promo.c.url_path)
    return sa.select(path).where(promo.c.product_id == product_id, public).scalar_subquery()


def _page_number(raw: str) -> int:
    """A listing page number from a path segment: digits only, 1 or more, else 404."""
    if not raw.isdigit() or not 0 < int(raw) < 100_000:
        raise NotFound()
    return int(raw)
