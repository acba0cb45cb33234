"""Query parameters turned into SQL, in Wagtail's order: field filters, tree filters
(``child_of``, ``ancestor_of``, ``descendant_of``), ALLY's additions, ordering, search,
then ``limit``/``offset``. Every malformed value is a 400 with Wagtail's message."""

from collections.abc import Callable
from collections.abc import Mapping

import sqlalchemy as sa

from ally.cache import depends_on
from ally.extensions import db
from ally.models import BlogPage
from ally.models import Category
from ally.models import Page
from ally.models.base import MAX_ID
from ally.models.base import written
from ally.models.page_types import public_page_by_id
from ally.models.search import search_terms
from ally.site.routing import prefixes

from .endpoints import to_date
from .endpoints import to_datetime
from .errors import ApiError
from .fields import Field

# How a search matches rows: (terms, any_word) → a condition.
Matcher = Callable[[list[str], bool], sa.ColumnElement[bool]]

KNOWN = frozenset(
    {
        "limit",
        "offset",
        "fields",
        "order",
        "search",
        "search_operator",
        "rich_text_format",
        "_",
        "format",
    }
)
PAGE_KNOWN = KNOWN | {
    "type",
    "child_of",
    "descendant_of",
    "ancestor_of",
    "category",
    "first_published_at__gte",
    "first_published_at__lte",
}
RANGES = {
    "date__gte": ("date", to_date, "__ge__"),
    "date__lte": ("date", to_date, "__le__"),
    "first_published_at__gte": ("first_published_at", to_datetime, "__ge__"),
    "first_published_at__lte": ("first_published_at", to_datetime, "__le__"),
}


def filterable(fields: dict[str, Field]) -> dict[str, Field]:
    return {n: f for n, f in fields.items() if f.column is not None or f.filter is not None}


def check_params(args: Mapping, fields: dict[str, Field], known: frozenset) -> None:
    allowed = known | set(filterable(fields))
    if "date" in fields:
        allowed |= {"date__gte", "date__lte"}
    unknown = set(args) - allowed
    if unknown:
        raise ApiError(
            "query parameter is not an operation or a recognised field: "
            + ", ".join(sorted(unknown))
        )


def field_filters(query: sa.Select, args: Mapping, fields: dict[str, Field]) -> sa.Select:
    """Exact-match filters on database-backed fields (Wagtail's FieldsFilter)."""
    for name, f in filterable(fields).items():
        if name not in args:
            continue
        raw = args[name]
        try:
            value = f.coerce(raw)
        except ValueError as error:
            raise ApiError(
                f"field filter error. '{raw}' is not a valid value for {name} ({error})"
            ) from None
        if "\x00" in str(value):
            raise ApiError(f"field filter error. null characters are not allowed for {name}")
        query = query.where(f.filter(value) if f.filter else f.column == value)
    return query


def range_filters(query: sa.Select, args: Mapping) -> sa.Select:
    """``date__gte`` and friends: the inclusive range lookups Wagtail users ask for."""
    for param, (column, parse, op) in RANGES.items():
        if param in args:
            try:
                value = parse(args[param])
            except ValueError:
                raise ApiError(
                    f"{param} must be an ISO 8601 date{'time' if 'published' in param else ''}"
                ) from None
            query = query.where(getattr(getattr(Page, column), op)(value))
    return query


def public_page(raw: str, name: str, missing: str, allow_root: bool = True) -> Page:
    """The public page a tree filter refers to, by id (or ``root``: the home page)."""
    if allow_root and raw == "root":
        page = db.session.scalar(
            sa.select(Page).where(Page.parent_id.is_(None), Page.public_clause())
        )
    else:
        if not raw.isdigit():
            raise ApiError(f"{name} must be a positive integer")
        number = int(raw)
        page = None if number > MAX_ID else public_page_by_id(number)
    if page is None:
        raise ApiError(missing)
    return page


def tree_filters(query: sa.Select, args: Mapping) -> sa.Select:
    if "child_of" in args:
        parent = public_page(args["child_of"], "child_of", "parent page doesn't exist")
        query = query.where(Page.parent_id == parent.id)
    if "ancestor_of" in args:
        page = public_page(
            args["ancestor_of"], "ancestor_of", "descendant page doesn't exist", False
        )
        paths = prefixes([part for part in page.url_path.split("/") if part])[:-1]
        query = query.where(Page.url_path.in_(paths))
    if "descendant_of" in args:
        if "child_of" in args:
            raise ApiError("filtering by descendant_of with child_of is not supported")
        ancestor = public_page(
            args["descendant_of"], "descendant_of", "ancestor page doesn't exist"
        )
        query = query.where(
            Page.url_path.startswith(ancestor.url_path, autoescape=True), Page.id != ancestor.id
        )
    if "category" in args:
        depends_on("categories")
        slug = args["category"]
        category_id = (
            None
            if "\x00" in slug
            else db.session.scalar(sa.select(Category.id).where(Category.slug == slug))
        )
        if category_id is None:
            raise ApiError("category doesn't exist")
        query = query.where(  # written in, as the listing's types are (see views)
            Page.page_type == written(BlogPage.api_type),
            BlogPage.categories.any(Category.id == written(category_id)),
        )
    return range_filters(query, args)


def ordering(query: sa.Select, args: Mapping, fields: dict[str, Field], default) -> sa.Select:
    raw = args.get("order")
    if not raw:
        return query.order_by(*default)
    names = raw.split(",")
    if "random" in names:
        if len(names) > 1:
            raise ApiError("random ordering cannot be combined with other fields")
        if "offset" in args:
            raise ApiError("random ordering with offset is not supported")
        return query.order_by(sa.func.random())
    columns = []
    for name in names:
        f = fields.get(name.lstrip("-"))
        if f is None or f.column is None:
            raise ApiError(f"cannot order by '{name}' (unknown field)")
        columns.append(f.column.desc() if name.startswith("-") else f.column.asc())
    return query.order_by(*columns, *default)


def search(query: sa.Select, args: Mapping, match: Matcher) -> sa.Select:
    """Every word (``search_operator=and``, the default) or any word (``or``) must match;
    ``match(terms, any_word)`` says how a row matches them."""
    if "search" not in args:
        return query
    operator = args.get("search_operator", "and")
    if operator not in ("and", "or"):
        raise ApiError("search_operator must be 'and' or 'or'")
    terms = search_words(args)
    return query.where(match(terms, operator == "or")) if terms else query


def search_words(args: Mapping) -> list[str]:
    """The words ``search=`` asks for; none (no search, or a blank one) filters nothing."""
    return search_terms(args.get("search", ""))


def in_columns(*columns) -> Matcher:
    """A :func:`search` matcher for small tables: each word a substring of one of
    ``columns``, in any case."""

    def match(terms: list[str], any_word: bool) -> sa.ColumnElement[bool]:
        matches = [
            sa.or_(*(sa.func.lower(c).contains(t, autoescape=True) for c in columns)) for t in terms
        ]
        return sa.or_(*matches) if any_word else sa.and_(*matches)

    return match


def pagination(args: Mapping, limit_max: int) -> tuple[int, int]:
    try:
        offset = int(args.get("offset", 0))
        if offset < 0:
            raise ValueError
    except ValueError:
        raise ApiError("offset must be a positive integer") from None
    try:
        limit = int(args.get("limit", min(20, limit_max) if limit_max else 20))
        if limit < 0:
            raise ValueError
    except ValueError:
        raise ApiError("limit must be a positive integer") from None
    if limit_max and limit > limit_max:
        raise ApiError(f"limit cannot be higher than {limit_max}")
    return min(offset, MAX_ID), limit
