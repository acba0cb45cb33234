"""Blog taxonomy: categories and the post-to-category link."""

import functools
from operator import attrgetter
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from .base import Base
from .base import TimestampMixin
from .sql import json_rows

post_categories = sa.Table(
    "post_categories",
    Base.metadata,
    sa.Column("page_id", sa.ForeignKey("pages.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("category_id", sa.ForeignKey("categories.id", ondelete="CASCADE"), primary_key=True),
    # Category listings join from the category side; the PK index only serves page_id.
    sa.Index("ix_post_categories_category_id", "category_id", "page_id"),
)


class Category(TimestampMixin, Base):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    slug: Mapped[str] = mapped_column(sa.String(100), unique=True)
    description: Mapped[str] = mapped_column(sa.Text, default="")

    def __repr__(self) -> str:
        return f"<Category {self.slug}>"


class CategoryRef(NamedTuple):
    """What reader pages show of a category (a post's, a listing's): no ORM object to
    build. Posts read theirs without the description, which only listings show."""

    id: int
    name: str
    slug: str
    description: str | None = None


def every_category_json() -> sa.ScalarSelect:
    """Every category (``id``, ``name``, ``slug``, ``description``) as a JSON array for a
    read that brings them beside other rows; each object carries its ``rank`` by name in
    the database's order, since SQLite can't order inside an aggregate (see
    :func:`every_category`)."""
    table = Category.__table__
    ranked = sa.select(
        table.c.id,
        table.c.name,
        table.c.slug,
        table.c.description,
        sa.func.row_number().over(order_by=table.c.name).label("rank"),
    ).subquery("ranked")
    return sa.select(json_rows(ranked)).scalar_subquery()


def every_category(rows: list[dict]) -> list[CategoryRef]:
    """Categories by name from :func:`every_category_json`'s objects."""
    ordered = sorted(rows, key=lambda row: row["rank"])
    return [CategoryRef(r["id"], r["name"], r["slug"], r["description"]) for r in ordered]


def category_refs(rows: list[dict] | None) -> list[CategoryRef]:
    """A post's categories from the JSON objects SQL aggregates for it (``id``, ``name``,
    ``slug``), by name: SQLite can't order inside an aggregate.

    Built as tuples by ``tuple.__new__``, which a named tuple's own constructor calls
    from Python: every card of a listing has its categories read here."""
    refs = [_new_ref((row["id"], row["name"], row["slug"], None)) for row in rows or ()]
    if len(refs) > 1:
        refs.sort(key=_NAME)
    return refs


_new_ref = functools.partial(tuple.__new__, CategoryRef)
_NAME = attrgetter("name")
