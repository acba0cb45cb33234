"""Post cards: what listings, feeds and the home page show of each post, read as rows.

A listing of ten posts built as pages cost more Python than the rest of its request, so
a card is a named tuple of the columns it shows. A listing reads its window with
:func:`public_posts`, or, for a blog's first page, takes the cards the routing read
brought as JSON (:func:`first_cards_json`).
"""

import datetime as dt
import functools
from datetime import datetime
from operator import itemgetter
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.sql.util import ClauseAdapter

from ally import late
from ally.database import rows

from .base import windowed
from .base import written_in
from .blog import Category
from .blog import CategoryRef
from .blog import category_refs
from .blog import post_categories
from .media import ImageRef
from .page_types import BlogPage
from .page_types import categories_json
from .pages import Page
from .sql import json_readers
from .sql import json_rows


class PostCard(NamedTuple):
    """What a post card and a feed entry show of a post, read as a row: a listing of ten
    posts built as pages cost more Python than the rest of its request."""

    id: int
    title: str
    url_path: str
    date: dt.date | None
    intro: str
    search_description: str
    first_published_at: datetime | None
    created_at: datetime
    feed_image: ImageRef | None
    filed_under: list[CategoryRef]


# A card's own columns, and its feed image's: what a listing's select reads of each post.
CARD_COLUMNS = (*PostCard._fields[:-2], "feed_image_id")


def public_posts(
    blog_id: int | None = None, category_id: int | None = None, *, limit: int, offset: int = 0
) -> list[PostCard]:
    """Public posts newest first, of one blog and one category when given, in one query
    (see :func:`_posts_statement`).

    The page cache learns what they show (see :func:`noted`).
    """
    params = {"blog_id": blog_id, "category_id": category_id, "limit": limit, "offset": offset}
    statement = _posts_statement(blog_id is not None, category_id is not None, offset > 0)
    return noted([_card(*row) for row in rows(statement, params)], blog_id)


def noted(cards: list[PostCard], blog_id: int | None) -> list[PostCard]:
    """``cards`` of the blog ``blog_id`` (of every blog: None), the page cache told what
    they show: the blog's children, and each card's rows as it would have learnt them
    from loading the posts as pages, when it is recording this response (the tags cost a
    cold listing 2% of its instructions to build for nothing)."""
    tags = late.cache_tags()
    tags.depends_on("posts" if blog_id is None else f"children:{blog_id}")
    if tags.current_render() is not None:
        for card in cards:
            tags.depends_on(*tags.page_tags(card.id, card.url_path), *_card_tags(card))
    return cards


def _card(*columns) -> PostCard:
    """A card from its columns, the feed image's id and the categories' JSON (the select
    of :func:`_posts_statement`); made by ``tuple.__new__``, as :func:`category_refs`."""
    *own, image_id, categories = columns
    own += (ImageRef(image_id) if image_id else None, category_refs(categories))
    return _new_card(own)


_new_card = functools.partial(tuple.__new__, PostCard)


def first_cards_json(blog_id: sa.ColumnElement, by_category: bool) -> sa.ScalarSelect:
    """The first window of the blog ``blog_id``'s cards as :func:`public_posts` reads them
    (``listing_limit`` of them; of the category whose slug is ``listing_category`` when
    ``by_category``), as a JSON array of objects for :func:`cards_from_json`: for a read
    that brings a blog index's listing with the index (routing). Correlated, so the
    database reads them only for a row that needs them."""
    post = Page.__table__.alias("post")
    criteria = [post.c.parent_id == blog_id, ClauseAdapter(post).traverse(Page.public_clause())]
    if by_category:
        categories = Category.__table__
        criteria.append(
            sa.exists().where(
                post_categories.c.page_id == post.c.id,
                post_categories.c.category_id == categories.c.id,
                categories.c.slug == sa.bindparam("listing_category"),
            )
        )
    order = (post.c.date.desc(), post.c.id.desc())
    window = (
        sa.select(
            *(post.c[name] for name in CARD_COLUMNS),
            categories_json(post.c.id).label("categories"),
            sa.func.row_number().over(order_by=order).label("rank"),
        )
        .where(*criteria)
        .order_by(*order)
        .limit(written_in("listing_limit"))
        .correlate(blog_id.table)
        .subquery("cards")
    )
    return sa.select(json_rows(window)).scalar_subquery()


def cards_from_json(items: list[dict] | None) -> list[PostCard]:
    """:func:`first_cards_json`'s cards in listing order, as :func:`public_posts` gives
    them (SQLite can't order inside an aggregate: each carries its ``rank``)."""
    cards, readers = [], json_readers(Page, CARD_COLUMNS)
    for item in sorted(items or (), key=_RANK):
        values = list(_CARD_VALUES(item))
        for index, read in readers:
            if values[index] is not None:
                values[index] = read(values[index])
        cards.append(_card(*values))
    return cards


_RANK = itemgetter("rank")
_CARD_VALUES = itemgetter(*CARD_COLUMNS, "categories")


def _card_tags(card: PostCard) -> list[str]:
    """The rows besides the post's own that ``card`` shows: its categories and image."""
    row_tag = late.cache_tags().row_tag
    tags = [row_tag("categories", category.id) for category in card.filed_under]
    return [*tags, row_tag("images", card.feed_image.id)] if card.feed_image else tags


@functools.cache
def _posts_statement(in_blog: bool, in_category: bool, skipping: bool) -> sa.Select:
    """A card's columns by name, then what its last two are built from: the feed image's
    id and the categories as JSON (see ``BlogPage.categories_json``).

    Built once per shape, the blog, the category and the window written in when it runs
    (see :func:`~ally.models.base.written_in`), the time a parameter: building and hashing a
    statement cost a listing more than PostgreSQL takes to run it.

    Past the first page (``skipping``), the window's ids are found first and the columns
    computed for those rows only: the database computed them, categories and all, for
    every row it skipped, and page 5,000 of ``/blog/`` took a third of a second.
    """
    criteria = [Page.public_clause()]
    if in_blog:
        criteria.append(BlogPage.parent_id == written_in("blog_id"))
    if in_category:
        criteria.append(BlogPage.categories.any(Category.id == written_in("category_id")))
    order = (BlogPage.date.desc(), BlogPage.id.desc())
    columns = sa.select(
        *(getattr(BlogPage, name) for name in CARD_COLUMNS), BlogPage.categories_json
    )
    if not skipping:
        return windowed(columns.where(*criteria).order_by(*order))
    window = windowed(sa.select(BlogPage.id).where(*criteria).order_by(*order)).subquery()
    return columns.join(window, BlogPage.id == window.c.id).order_by(*order)
