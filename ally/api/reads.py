"""How an API page listing reads its pages: from a statement built once per set of page
types, and for a plain window (no filter, search or order, no relation shown) as rows made
into pages by reference rather than through the ORM's query."""

import functools

import sqlalchemy as sa

from ally.database import rows
from ally.models import Page
from ally.models.base import written
from ally.models.base import written_in
from ally.models.page_types import page_columns
from ally.models.page_types import page_reference


@functools.lru_cache(maxsize=64)
def public_pages(types: tuple[type[Page], ...]) -> sa.Select:
    """The public pages of ``types`` (of every type when none), where a listing's filters
    start: built once per set of types, not per request (3% of an API listing's
    instructions). A single type's own criterion is a parameter, so it is written in too."""
    query = sa.select(types[0] if len(types) == 1 else Page).where(Page.public_clause())
    if types:
        query = query.where(Page.page_type.in_(written([t.api_type for t in types])))
    return query


# A listing asking for no more than these is a plain window of its types' pages in tree order.
PLAIN = frozenset({"type", "fields", "limit", "offset"})
# Fields read from a page's relations or body, which the ORM's loaders bring with the pages.
RELATED = frozenset({"categories", "feed_image", "product", "body"})


def is_plain(args, shown: set[str]) -> bool:
    """Whether a listing with these parameters, showing the fields named ``shown``, is a
    plain window (see :func:`plain_window`)."""
    return args.keys() <= PLAIN and not shown & RELATED


def plain_window(types: tuple[type[Page], ...], offset: int, limit: int) -> list[Page]:
    """A window of the public pages of ``types`` in tree order, for a listing that neither
    filters, searches nor orders, and shows only the pages' own columns (the common
    front-end read: ``?type=blog.BlogPage&fields=date,intro``).

    Read as rows of a statement built once per set of types, as the site reads its pages,
    and made pages by reference (:func:`page_reference`: outside any session, recorded by
    the page cache as loaded rows), where the ORM's query and loading cost such a listing
    15% of its instructions. Detached pages, which expire every relationship they lack, cost
    more than the ORM's. A field reading a relation must be in ``RELATED``: a test holds
    every other field's output to the ORM's.
    """
    found = rows(_window_statement(types), {"offset": offset, "limit": limit})
    return [page_reference(row._asdict()) for row in found]


@functools.lru_cache(maxsize=64)
def _window_statement(types: tuple[type[Page], ...]) -> sa.Select:
    own = [c for c in page_columns() if c.key not in WINDOW_LEAVES]
    window = public_pages(types).with_only_columns(*own).order_by(Page.url_path)
    return window.offset(written_in("offset")).limit(written_in("limit"))


# What a plain window leaves unread: the body and the JSON of a page's relations.
WINDOW_LEAVES = frozenset({"body_json", "categories_json", "products_json"})
