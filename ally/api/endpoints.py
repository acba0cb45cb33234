"""What each endpoint serves: its fields (Wagtail's body and meta fields), which of them
are database-backed (so filterable and orderable), and its base query.

Pages expose the fields of their type only when ``?type=`` names one type, as in Wagtail.
"""

from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload

from ally import images
from ally.models import BlogPage
from ally.models import Category
from ally.models import Image
from ally.models import Page
from ally.models import Product
from ally.models import PromoPage
from ally.models.base import MAX_ID
from ally.models.page_types import WITH_CATEGORIES
from ally.models.page_types import public_page_by_id
from ally.models.pages import WITHOUT_BODY

from .errors import ApiError
from .fields import Field


@dataclass
class Context:
    """What serialisers need to know about the request."""

    api_base: str
    site_base: str
    rich_text_format: str = "db_html"
    product_urls: dict[int, str] = field(default_factory=dict)
    # Public parents (None: not public) of pages read with theirs, by page id.
    parents: dict[int, "Page | None"] = field(default_factory=dict)
    # Prefetched records, held here because the session's identity map only keeps weak
    # references: without this they could be collected before the blocks look them up.
    loaded: list = field(default_factory=list)

    def detail_url(self, endpoint: str, pk: int) -> str:
        return f"{self.api_base}/api/v2/{endpoint}/{pk}/"

    def html_url(self, path: str) -> str:
        return f"{self.site_base}{path}"

    def as_block_context(self) -> dict[str, Any]:
        return {"api": self, "rich_text_format": self.rich_text_format}


# -- filter value parsers (their ValueError text goes into Wagtail's message) ------------------


def to_int(value: str) -> int:
    number = int(value)
    if not -MAX_ID <= number <= MAX_ID:
        raise ValueError("out of range")
    return number


def to_bool(value: str) -> bool:
    if value in ("true", "1"):
        return True
    if value in ("false", "0"):
        return False
    raise ValueError(f"expected 'true' or 'false', got '{value}'")


def to_date(value: str) -> date:
    return date.fromisoformat(value)


def to_datetime(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("include a time zone, e.g. Z")
    return moment


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def flat(*names: str) -> dict[str, Field]:
    """Sub-fields of a relation that serialises as a plain object."""
    return {name: Field(name, read=None) for name in names}


# -- images --------------------------------------------------------------------------------


def image_rendition(image: Image | None, ctx: Context, spec: str = "width-800") -> dict | None:
    """An image as a rendition object: URL, absolute URL, size and alt text."""
    if image is None:
        return None
    url = images.rendition_url(image, spec)
    width, height = images.rendition_size(image, spec)
    return {
        "id": image.id,
        "title": image.title,
        "url": url,
        "full_url": ctx.html_url(url),
        "width": width,
        "height": height,
        "alt": image.alt,
    }


RENDITION_FIELDS = flat("id", "title", "url", "full_url", "width", "height", "alt")


# -- pages ---------------------------------------------------------------------------------


def _page_parent(page: Page, ctx: Context) -> dict | None:
    """The public parent, as the detail query read it (``ctx.parents``) or read now."""
    if page.parent_id is None:
        return None
    parents = ctx.parents
    parent = parents[page.id] if page.id in parents else public_page_by_id(page.parent_id)
    if parent is None:
        return None
    return {
        "id": parent.id,
        "meta": {
            "type": parent.api_type,
            "detail_url": ctx.detail_url("pages", parent.id),
            "html_url": ctx.html_url(parent.url_path),
        },
        "title": parent.title,
    }


def _body(page: Page, ctx: Context) -> list:
    return page.body_block.get_api_representation(page.body, ctx.as_block_context())


def product_json(product: Product | None, ctx: Context) -> dict | None:
    if product is None:
        return None
    url = ctx.product_urls.get(product.id)
    return product.api_json(current_app.config["ALLY_CURRENCY"], ctx.html_url(url) if url else None)


PRODUCT_FIELDS = flat("id", "name", "slug", "price", "currency", "url")

PAGE_BODY_FIELDS = [
    Field("id", lambda p, c: p.id, column=Page.id, coerce=to_int),
    Field("title", lambda p, c: p.title, column=Page.title, coerce=str),
]
PAGE_META_FIELDS = [
    Field("type", lambda p, c: p.api_type, meta=True),
    Field("detail_url", lambda p, c: c.detail_url("pages", p.id), meta=True),
    Field("html_url", lambda p, c: c.html_url(p.url_path), meta=True),
    Field("slug", lambda p, c: p.slug, meta=True, column=Page.slug, coerce=str),
    Field(
        "show_in_menus",
        lambda p, c: p.show_in_menus,
        meta=True,
        column=Page.show_in_menus,
        coerce=to_bool,
    ),
    Field("seo_title", lambda p, c: p.seo_title, meta=True, column=Page.seo_title, coerce=str),
    Field(
        "search_description",
        lambda p, c: p.search_description,
        meta=True,
        column=Page.search_description,
        coerce=str,
    ),
    Field(
        "first_published_at",
        lambda p, c: iso(p.first_published_at),
        meta=True,
        column=Page.first_published_at,
        coerce=to_datetime,
    ),
    Field("alias_of", lambda p, c: None, meta=True),
    Field("parent", _page_parent, meta=True, detail_only=True),
]
INTRO = Field("intro", lambda p, c: p.intro, column=Page.intro, coerce=str)
BODY = Field("body", _body)
TYPE_FIELDS: dict[str, list[Field]] = {
    "home.HomePage": [INTRO, BODY],
    "pages.StandardPage": [INTRO, BODY],
    "blog.BlogIndexPage": [INTRO],
    "blog.BlogPage": [
        Field(
            "date",
            lambda p, c: p.date.isoformat() if p.date else None,
            column=Page.date,
            coerce=to_date,
        ),
        INTRO,
        Field(
            "categories",
            lambda p, c: [ref._asdict() for ref in p.filed_under],
            coerce=to_int,
            nested=flat("id", "name", "slug"),
            nested_default=("id", "name", "slug"),
            filter=lambda v: BlogPage.categories.any(Category.id == v),
        ),
        Field(
            "feed_image",
            lambda p, c: image_rendition(p.feed_image, c, "fill-800x600"),
            column=Page.feed_image_id,
            coerce=to_int,
            nested=RENDITION_FIELDS,
            nested_default=tuple(RENDITION_FIELDS),
        ),
        BODY,
    ],
    "shop.PromoPage": [
        INTRO,
        Field(
            "product",
            lambda p, c: product_json(p.shown_product, c),
            column=Page.product_id,
            coerce=to_int,
            nested=PRODUCT_FIELDS,
            nested_default=tuple(PRODUCT_FIELDS),
        ),
        BODY,
    ],
}
LOADERS = {
    "categories": WITH_CATEGORIES,
    "feed_image": selectinload(BlogPage.feed_image),
    "product": selectinload(PromoPage.product),
}


def load_options(names: set[str]) -> list:
    """What a listing loads with its pages: the relations its fields show, and the body
    JSON (parsed row by row) only when ``body`` is one of them."""
    options = [LOADERS[name] for name in sorted(names) if name in LOADERS]
    return options if "body" in names else [*options, WITHOUT_BODY]


def page_types(raw: str | None) -> list[type[Page]]:
    """``?type=`` as page classes; none given means every type."""
    if raw is None:
        return []
    names = raw.split(",")
    if any(name not in Page.types for name in names):
        raise ApiError("type doesn't exist")
    return [Page.types[name] for name in names]


def page_fields(types: list[type[Page]]) -> dict[str, Field]:
    """Available fields: the type's own only when exactly one type is asked for."""
    extra = TYPE_FIELDS.get(types[0].api_type, []) if len(types) == 1 else []
    return {f.name: f for f in [*PAGE_BODY_FIELDS, *extra, *PAGE_META_FIELDS]}


PAGE_LISTING_DEFAULT = (
    "id",
    "type",
    "detail_url",
    "title",
    "html_url",
    "slug",
    "first_published_at",
)


# -- images, categories, products ------------------------------------------------------------

IMAGE_FIELDS = {
    f.name: f
    for f in [
        Field("id", lambda i, c: i.id, column=Image.id, coerce=to_int),
        Field("title", lambda i, c: i.title, column=Image.title, coerce=str),
        Field("width", lambda i, c: i.width, column=Image.width, coerce=to_int),
        Field("height", lambda i, c: i.height, column=Image.height, coerce=to_int),
        Field("type", lambda i, c: "wagtailimages.Image", meta=True),
        Field("detail_url", lambda i, c: c.detail_url("images", i.id), meta=True),
        Field("tags", lambda i, c: [], meta=True),
        Field("download_url", lambda i, c: c.html_url(f"/media/{i.filename}"), meta=True),
        Field("alt", lambda i, c: i.alt, column=Image.alt, coerce=str),
        Field(
            "rendition",
            lambda i, c: image_rendition(i, c),
            nested=RENDITION_FIELDS,
            nested_default=tuple(RENDITION_FIELDS),
        ),
    ]
}
CATEGORY_FIELDS = {
    f.name: f
    for f in [
        Field("id", lambda x, c: x.id, column=Category.id, coerce=to_int),
        Field("name", lambda x, c: x.name, column=Category.name, coerce=str),
        Field("slug", lambda x, c: x.slug, column=Category.slug, coerce=str),
        Field("description", lambda x, c: x.description, column=Category.description, coerce=str),
        Field("type", lambda x, c: "blog.BlogCategory", meta=True),
        Field("detail_url", lambda x, c: c.detail_url("categories", x.id), meta=True),
    ]
}
PRODUCT_ENDPOINT_FIELDS = {
    f.name: f
    for f in [
        Field("id", lambda x, c: x.id, column=Product.id, coerce=to_int),
        Field("name", lambda x, c: x.name, column=Product.name, coerce=str),
        Field("slug", lambda x, c: x.slug, column=Product.slug, coerce=str),
        Field("description", lambda x, c: x.description, column=Product.description, coerce=str),
        Field("price", lambda x, c: x.price_cents, column=Product.price_cents, coerce=to_int),
        Field("currency", lambda x, c: current_app.config["ALLY_CURRENCY"]),
        Field("url", lambda x, c: product_json(x, c)["url"]),
        Field("type", lambda x, c: "shop.Product", meta=True),
        Field("detail_url", lambda x, c: c.detail_url("products", x.id), meta=True),
    ]
}


@dataclass
class Endpoint:
    """A model endpoint other than pages: fixed fields, id order, search over text columns."""

    name: str
    model: Any
    fields: dict[str, Field]
    listing_default: tuple[str, ...]
    search_columns: tuple[Any, ...]
    where: Any = None

    def base_query(self) -> sa.Select:
        query = sa.select(self.model)
        return query if self.where is None else query.where(self.where)


ENDPOINTS = {
    "images": Endpoint(
        "images",
        Image,
        IMAGE_FIELDS,
        ("id", "type", "detail_url", "title", "tags", "download_url"),
        (Image.title, Image.alt),
    ),
    "categories": Endpoint(
        "categories",
        Category,
        CATEGORY_FIELDS,
        ("id", "type", "detail_url", "name", "slug"),
        (Category.name, Category.description),
    ),
    "products": Endpoint(
        "products",
        Product,
        PRODUCT_ENDPOINT_FIELDS,
        ("id", "type", "detail_url", "name", "slug", "price", "currency", "url"),
        (Product.name, Product.description),
        where=Product.active.is_(True),
    ),
}
