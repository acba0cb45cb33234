"""The page tree: one ``pages`` table, single-table inheritance, a page-type registry.

Tree shape is stored twice on purpose: ``parent_id`` for children, and ``url_path`` (the
page's full path, ``/blog/my-post/``) for routing in one indexed lookup and for descendant
queries with a prefix ``LIKE``. Slugs are ``[a-z0-9-]`` so prefixes never need escaping.
Mutations live in :mod:`ally.tree`; this module only describes pages and reads them.
"""

import datetime as dt
import functools
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from typing import Any
from typing import ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import Session
from sqlalchemy.orm import column_property
from sqlalchemy.orm import defer
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import object_session
from sqlalchemy.orm import relationship
from werkzeug.exceptions import NotFound

from .base import Base
from .base import TimestampMixin
from .base import UTCDateTime
from .base import utcnow
from .commerce import Product
from .references import record as record_references
from .references import shown_products
from .search import VECTOR_COLUMN
from .search import matches_words
from .sql import adopt
from .sql import json_rows
from .users import User

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"


def parent_path(url_path: str) -> str | None:
    """``/blog/a-post/`` → ``/blog/``; the home page (``/``) has no parent."""
    if url_path == "/":
        return None
    return url_path[: url_path.rstrip("/").rfind("/") + 1]


def category_path(index_path: str, slug: str) -> str:
    """A blog index's listing of one category: ``/blog/category/<slug>/``."""
    return f"{index_path}category/{slug}/"


@dataclass
class Route:
    """What a URL resolved to: the page, the site view that renders it, and its arguments."""

    page: "Page"
    view: str = "page"
    kwargs: dict[str, Any] = field(default_factory=dict)


class Page(TimestampMixin, Base):
    """A node of the tree. Subclasses are page types and declare their rules as attributes."""

    __tablename__ = "pages"
    __table_args__ = (
        sa.UniqueConstraint("parent_id", "slug"),
        # A parent's children in tree order (the admin's explorer, public children) read
        # in index order instead of sorting every child: a page of a blog of 100,000 posts
        # in the explorer took 60 ms. Also serves every lookup by parent.
        sa.Index("ix_pages_children", "parent_id", "position", "id"),
        # Listings: a parent's children newest first, live ones only.
        sa.Index("ix_pages_listing", "parent_id", "live", "date", "id"),
        # The API's listings of one type in tree order read the first rows in index order
        # instead of sorting every page of that type.
        sa.Index("ix_pages_type_url_path", "page_type", "url_path"),
        # The newest posts of every blog (the home page's latest posts), newest first.
        sa.Index("ix_pages_type_date", "page_type", "date", "id"),
        # The header menu: a handful of rows, so the planner picks it over the parent index
        # (whose estimate for "the home page's children" is the average family: thousands).
        sa.Index(
            "ix_pages_menu",
            "parent_id",
            "position",
            postgresql_where=sa.text("show_in_menus"),
            sqlite_where=sa.text("show_in_menus = 1"),
        ),
        # Descendant queries (url_path LIKE '/blog/%') whatever PostgreSQL's collation.
        sa.Index(
            "ix_pages_url_path_pattern",
            "url_path",
            postgresql_ops={"url_path": "varchar_pattern_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    page_type: Mapped[str] = mapped_column(sa.String(64))
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("pages.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=0)
    depth: Mapped[int] = mapped_column(default=1)
    slug: Mapped[str] = mapped_column(sa.String(255))
    title: Mapped[str] = mapped_column(sa.String(255))
    url_path: Mapped[str] = mapped_column(sa.String(1024), unique=True)
    seo_title: Mapped[str] = mapped_column(sa.String(255), default="")
    search_description: Mapped[str] = mapped_column(sa.Text, default="")
    show_in_menus: Mapped[bool] = mapped_column(default=False)
    intro: Mapped[str] = mapped_column(sa.Text, default="")
    body_json: Mapped[list] = mapped_column(sa.JSON, default=list)
    # Only searched in SQL and rebuilt on save: never worth loading with the page.
    search_text: Mapped[str] = mapped_column(sa.Text, default="", deferred=True)

    live: Mapped[bool] = mapped_column(default=False)
    has_unpublished_changes: Mapped[bool] = mapped_column(default=False)
    expired: Mapped[bool] = mapped_column(default=False)
    first_published_at: Mapped[datetime | None]
    last_published_at: Mapped[datetime | None]
    go_live_at: Mapped[datetime | None]
    expire_at: Mapped[datetime | None]

    owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    locked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    latest_revision_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("page_revisions.id", ondelete="SET NULL", use_alter=True)
    )
    live_revision_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("page_revisions.id", ondelete="SET NULL", use_alter=True)
    )

    # Columns of one page type; nullable because the table is shared (single-table inheritance).
    date: Mapped[dt.date | None] = mapped_column(sa.Date)
    feed_image_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("images.id", ondelete="SET NULL")
    )
    # Indexed: promo page URLs are looked up by product on cart reads and API responses.
    product_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("products.id", ondelete="SET NULL"), index=True
    )

    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])

    # The products the page shows (its body's promo blocks', as recorded in
    # ``page_products``, and a promo page's own), as JSON rows computed in SQL; only loaded
    # where a read selects it (``page_types.page_columns``), so rendering such a page costs
    # no products query of its own (see ``promoted_products``).
    products_json: Mapped[list | None] = column_property(
        sa.select(json_rows(Product.__table__))
        .where(shown_products(Product.id, id, product_id))
        .scalar_subquery(),
        deferred=True,
    )

    __mapper_args__ = {"polymorphic_on": "page_type"}

    # -- page-type rules (class attributes; see ally.models.page_types) --
    api_type: ClassVar[str] = ""
    verbose_name: ClassVar[str] = "page"
    template: ClassVar[str] = ""
    parent_page_types: ClassVar[tuple[str, ...]] = ()
    subpage_types: ClassVar[tuple[str, ...]] = ()
    max_count: ClassVar[int | None] = None
    body_block: ClassVar[Any] = None
    # Fields a revision snapshots and the import/export format carries, besides the body.
    content_fields: ClassVar[tuple[str, ...]] = (
        "title",
        "slug",
        "seo_title",
        "search_description",
        "show_in_menus",
        "intro",
        "go_live_at",
        "expire_at",
    )
    types: ClassVar[dict[str, type["Page"]]] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.api_type:
            Page.types[cls.api_type] = cls

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.url_path}>"

    # -- type rules --
    @classmethod
    def can_exist_under(cls, parent: "Page | None") -> bool:
        """Whether a page of this type may be a child of ``parent`` (``None``: the root)."""
        if parent is None:
            return not cls.parent_page_types
        return parent.api_type in cls.parent_page_types and cls.api_type in parent.subpage_types

    @classmethod
    def allowed_subpage_types(cls) -> list[type["Page"]]:
        return [Page.types[name] for name in cls.subpage_types]

    # -- visibility --
    @classmethod
    def public_clause(
        cls, now: "datetime | sa.BindParameter | None" = None
    ) -> sa.ColumnElement[bool]:
        """SQL for "a reader may see this page now".

        Go-live and expiry are checked here as well as by ``publish-scheduled``, so a page
        appears and disappears on time even when the cron job has not run yet.
        """
        if now is None:
            return _public_now()
        return sa.and_(
            Page.live.is_(True),
            sa.or_(Page.go_live_at.is_(None), Page.go_live_at <= now),
            sa.or_(Page.expire_at.is_(None), Page.expire_at > now),
        )

    def is_public(self, now: datetime | None = None) -> bool:
        now = now or utcnow()
        return (
            self.live
            and (self.go_live_at is None or self.go_live_at <= now)
            and (self.expire_at is None or self.expire_at > now)
        )

    @property
    def status(self) -> str:
        if self.live and self.go_live_at and self.go_live_at > utcnow():
            return "scheduled"
        if self.live:
            return "live + draft" if self.has_unpublished_changes else "live"
        return "expired" if self.expired else "draft"

    @classmethod
    def matching(cls, terms: list[str], any_word: bool = False) -> sa.ColumnElement[bool]:
        """Pages whose title, intro or body hold every one of ``terms`` (``any_word``: one
        of them); indexed on PostgreSQL, see :mod:`ally.models.search`."""
        vector = sa.literal_column(f"{cls.__tablename__}.{VECTOR_COLUMN}")
        return matches_words(cls.search_text, vector, terms, any_word)

    # -- body (StreamField JSON) --
    @property
    def body(self):
        """The body as a StreamValue, built once per loaded ``body_json``."""
        return self._converted_body()[1]

    @property
    def promoted_products(self) -> list:
        """The products the page shows (its body's promo blocks', and a promo page's own), as
        the page's read brought them (``products_json``, see ``page_types.page_columns``);
        empty when it did not.

        Read once per loaded ``products_json``, outside the session but where the promo
        blocks (and the API, through ``loaded``) look before querying (see
        :func:`~ally.models.sql.adopt`).
        """
        source = self.__dict__.get("products_json")
        cached = self.__dict__.get("_products_cache")
        if cached is None or cached[0] is not source:
            products = adopt(object_session(self), Product, source) if source else []
            cached = self.__dict__["_products_cache"] = (source, products)
        return cached[1]

    def _converted_body(self) -> tuple:
        cached = self.__dict__.get("_body_cache")
        if cached is None or cached[0] is not self.body_json:
            self.promoted_products  # noqa: B018 -- read first: the promo blocks look there
            value = self.body_block.to_python(self.body_json or []) if self.body_block else None
            cached = (self.body_json, value)
            self.__dict__["_body_cache"] = cached
        return cached

    def set_body(self, value) -> None:
        """Store a StreamValue (or raw stream JSON) and refresh the search text."""
        self.body_json = self.body_block.get_prep_value(value)
        self.__dict__.pop("_body_cache", None)
        self.search_text = self.build_search_text()

    def build_search_text(self) -> str:
        parts = [self.title, self.intro or "", self.search_description]
        if self.body_block is not None:
            parts.append(self.body_block.get_searchable_text(self.body))
        return " ".join(p for p in parts if p).lower()

    # -- routing --
    def route(self, components: list[str]) -> Route:
        """Resolve the path ``components`` left below this page; the default serves only itself."""
        if components:
            raise NotFound()
        return Route(self)

    def get_context(self, **kwargs) -> dict[str, Any]:
        return {"page": self, **kwargs}

    @property
    def seo_title_or_title(self) -> str:
        return self.seo_title or self.title

    # -- snapshots (revisions and import/export share this format) --
    def to_snapshot(self) -> dict[str, Any]:
        data = {name: _jsonable(getattr(self, name)) for name in self.content_fields}
        if self.body_block is not None:
            data["body"] = self.body_json or []
        return data

    def apply_snapshot(self, data: dict[str, Any]) -> None:
        """Copy content from a snapshot; the slug is left to ``tree.change_slug``."""
        for name in self.content_fields:
            if name != "slug" and name in data:
                setattr(self, name, _from_json(type(self), name, data[name]))
        if "body" in data and self.body_block is not None:
            self.set_body(data["body"])
        else:
            self.search_text = self.build_search_text()


@sa.event.listens_for(Session, "after_flush")
def _record_body_references(session: Session, _flush_context) -> None:
    """Record the products of every body the flush wrote (``page_products``, see
    :mod:`.references`), in its transaction, so the record commits with the body."""
    written = {
        page.id: page.body_json
        for page in (*session.new, *session.dirty)
        if isinstance(page, Page) and sa.inspect(page).attrs.body_json.history.has_changes()
    }
    if written:
        record_references(session.connection(), written)


# For queries listing pages whose bodies they never show (post cards, API fields without
# ``body``): the StreamField JSON would otherwise be parsed row by row.
WITHOUT_BODY = defer(Page.body_json)


@functools.cache
def _public_now() -> sa.ColumnElement[bool]:
    """``public_clause`` at the time each statement runs: built once, because building
    SQLAlchemy expressions costs more per request than executing the compiled SQL."""
    now = sa.bindparam("public_now", callable_=lambda: utcnow(), type_=UTCDateTime())
    return Page.public_clause(now)


class PageRevision(Base):
    """A full JSON snapshot of a page's content, saved on every edit (Wagtail's Revision)."""

    __tablename__ = "page_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    page_id: Mapped[int] = mapped_column(sa.ForeignKey("pages.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    content: Mapped[dict] = mapped_column(sa.JSON)
    approved_go_live_at: Mapped[datetime | None] = mapped_column(index=True)

    page: Mapped[Page] = relationship(foreign_keys=[page_id])
    user: Mapped[User | None] = relationship()


def _jsonable(value):
    if isinstance(value, dt.date | datetime):
        return value.isoformat()
    return value


def _from_json(page_cls: type[Page], name: str, value):
    column = page_cls.__table__.columns.get(name)
    if not isinstance(value, str) or column is None:
        return value
    if isinstance(column.type, UTCDateTime):
        return datetime.fromisoformat(value) if value else None
    if isinstance(column.type, sa.Date):
        return dt.date.fromisoformat(value) if value else None
    return value
