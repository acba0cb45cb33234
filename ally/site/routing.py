"""From a request path to a page: one indexed lookup, then the page's own ``route()``."""

import functools
import re
from operator import itemgetter
from typing import NamedTuple

import sqlalchemy as sa
from flask import current_app
from flask import has_request_context
from flask import request
from sqlalchemy.orm import aliased
from werkzeug.exceptions import NotFound

from ally.cache import depends_on
from ally.database import rows
from ally.extensions import db
from ally.models import BlogIndexPage
from ally.models import Page
from ally.models import Redirect
from ally.models import Route
from ally.models.blog import CategoryRef
from ally.models.blog import every_category
from ally.models.blog import every_category_json
from ally.models.cards import PostCard
from ally.models.cards import cards_from_json
from ally.models.cards import first_cards_json
from ally.models.cards import noted
from ally.models.page_types import page_columns
from ally.models.page_types import unattached_page
from ally.models.sql import json_rows

MAX_PATH_LENGTH = 1024
MENU_KEY = "ally.menu"
MENU_COLUMN = "ally_menu"  # the menu's JSON, beside the page's columns
CATEGORIES_KEY = "ally.categories"
CATEGORIES_COLUMN = "ally_categories"  # every category's JSON, for a blog index
CARDS_KEY = "ally.first_cards"
CARDS_COLUMN = "ally_cards"  # a blog index's first listing page, as JSON
_COMPONENT_RE = re.compile(r"^[A-Za-z0-9._-]{1,255}$")


class MenuItem(NamedTuple):
    """A header and footer menu link; ``current`` when the request's path is at or below
    it (the header marks it ``aria-current``), worked out once where the menu is read:
    asked in the template, it cost a post page 1% of its instructions."""

    title: str
    url_path: str
    current: bool


def split_path(path: str) -> list[str]:
    """Path components, or 404 for anything no page could ever be served at.

    Rejecting odd characters here (NUL bytes, control characters, percent-decoded
    non-ASCII) keeps them away from the database, where some are errors.
    """
    if len(path) > MAX_PATH_LENGTH:
        raise NotFound()
    components = [part for part in path.split("/") if part]
    if not all(_COMPONENT_RE.match(part) for part in components):
        raise NotFound()
    return components


def prefixes(components: list[str]) -> list[str]:
    """``["blog", "a"]`` → ``["/", "/blog/", "/blog/a/"]``: every ancestor's ``url_path``."""
    paths = ["/"]
    for part in components:
        paths.append(f"{paths[-1]}{part}/")
    return paths


def resolve(components: list[str]) -> Route:
    """The deepest public page on the path, asked to route what is left below it.

    The same read brings the header menu as JSON in the page's row, kept for :func:`menu`,
    and for a blog index every category, kept for :func:`all_categories` (its listings filter
    by them), and the posts of the listing page the path looks like (see
    :func:`first_listing`), kept for :func:`first_cards`, so that a page costs one query and
    one ORM object for all.
    """
    reading = request._get_current_object()
    # Most pages have no query string: werkzeug would parse one for nothing (1% of a post).
    listing = first_listing(components, reading.args if reading.query_string else {})
    limit = None
    if listing is not None:
        limit = current_app._get_current_object().config["ALLY_POSTS_PER_PAGE"] + 1
    found = rows(
        _resolve_statement(None if listing is None else listing.category_slug is not None),
        {
            "paths": prefixes(components),
            "listing_limit": limit,
            "listing_category": listing and listing.category_slug,
        },
    )
    if not found:
        raise NotFound()
    values = found[0]._asdict()
    menu_json = values.pop(MENU_COLUMN)
    categories_json = values.pop(CATEGORIES_COLUMN)
    cards_json = values.pop(CARDS_COLUMN)
    page = unattached_page(values)
    if isinstance(page, BlogIndexPage):
        reading.environ[CATEGORIES_KEY] = every_category(categories_json or [])
        if listing is not None:
            reading.environ[CARDS_KEY] = (page.id, listing.category_slug, limit, cards_json)
    depends_on("menu")
    reading.environ[MENU_KEY] = [
        MenuItem(item["title"], item["url_path"], reading.path.startswith(item["url_path"]))
        for item in sorted(menu_json or (), key=itemgetter("position"))
    ]
    return page.route(components[page.depth - 1 :])


class Listing(NamedTuple):
    """The first page of a blog listing, whole or of one category."""

    category_slug: str | None


def first_listing(components: list[str], args) -> Listing | None:
    """The first page of a blog listing the routing read should bring with the page, for a
    path that looks like one (see ``BlogIndexPage.route``): one ending ``category/<slug>/``,
    one asking ``?category=``, or a top-level page (blogs are the home page's children).

    A guess, never a rule: a wrong one costs a listing the query of its own it had anyway.
    Guessing for every path was not free: a post's read carrying the listing it never runs
    cost PostgreSQL 10% more per post page (the larger plan is set up at every run).
    """
    if args.get("page", "1") != "1":
        return None
    if components[-2:-1] == ["category"]:
        return Listing(components[-1])
    slug = args.get("category")
    if slug is not None and not _COMPONENT_RE.match(slug):
        return None  # no category has it (a NUL byte would be the database's error)
    if len(components) == 1 or slug is not None:
        return Listing(slug)
    return None


def first_cards(index_id: int, category_slug: str | None, limit: int) -> list[PostCard] | None:
    """The first ``limit`` cards of the blog index ``index_id``'s listing (of the category
    ``category_slug``) if :func:`resolve` read them with the index, else None."""
    read = request._get_current_object().environ.get(CARDS_KEY)
    if read is None or read[:3] != (index_id, category_slug, limit):
        return None
    return noted(cards_from_json(read[3]), index_id)


def menu() -> list[MenuItem]:
    """Public children of the home page flagged ``show_in_menus``, in tree order: those
    :func:`resolve` read with the page, else one query of their own."""
    path = None
    if has_request_context():
        reading = request._get_current_object()
        if MENU_KEY in reading.environ:
            return reading.environ[MENU_KEY]
        path = reading.path
    depends_on("menu")
    return [
        MenuItem(row.title, row.url_path, path is not None and path.startswith(row.url_path))
        for row in rows(_menu_statement())
    ]


def all_categories() -> list[CategoryRef]:
    """Every category by name: those :func:`resolve` read with a blog index, else one
    query of their own."""
    depends_on("categories")
    if has_request_context():
        environ = request._get_current_object().environ
        if CATEGORIES_KEY in environ:
            return environ[CATEGORIES_KEY]
    return every_category(rows(_categories_statement())[0].categories or [])


@functools.cache
def _categories_statement() -> sa.Select:
    return sa.select(every_category_json().label("categories"))


@functools.cache
def _resolve_statement(by_category: bool | None) -> sa.Select:
    """The deepest public page on the path as :func:`unattached_page` builds it, the menu
    as JSON (see :func:`_menu_json`) and, when it is a blog index, every category and the
    first page of its listing (of one category when ``by_category``; none when None).
    Built once per shape: the paths, the category and ``now`` bind when it runs.
    """
    paths = sa.bindparam("paths", expanding=True)
    # Correlated, so the database reads these for the row of a blog index only.
    is_index = Page.page_type == sa.literal(BlogIndexPage.api_type, literal_execute=True)
    if by_category is None:
        cards = sa.null()
    else:
        cards = first_cards_json(Page.id, by_category).where(is_index)
    return (
        sa.select(
            *page_columns(),
            _menu_json().label(MENU_COLUMN),
            every_category_json().where(is_index).label(CATEGORIES_COLUMN),
            cards.label(CARDS_COLUMN),
        )
        .where(Page.url_path.in_(paths), Page.public_clause())
        .order_by(Page.depth.desc())
        .limit(1)
    )


def _menu_json() -> sa.ScalarSelect:
    """The menu's items as a JSON array of objects, unordered (SQLite can't order inside
    an aggregate): each carries its ``position``."""
    return sa.select(json_rows(_menu_statement().subquery("menu"))).scalar_subquery()


@functools.cache
def _menu_statement() -> sa.Select:
    """The menu's columns, in tree order; by parent_id (indexed: a filter on depth alone
    would scan every page)."""
    return (
        sa.select(Page.title, Page.url_path, Page.position)
        .where(Page.parent_id == _home_id(), Page.show_in_menus)
        .where(Page.public_clause())
        .order_by(Page.position)
    )


def _home_id() -> sa.ScalarSelect:
    home = aliased(Page)
    return sa.select(home.id).where(home.parent_id.is_(None)).scalar_subquery()


def find_redirect(components: list[str], trailing_slash: bool = True) -> str | None:
    """Where an old URL moved to, following the page if it moved again since.

    A redirect on an ancestor path also covers what was below it, so one row per move
    suffices however large the moved subtree was.
    """
    paths = prefixes(components)
    redirect = db.session.scalar(
        sa.select(Redirect)
        .where(Redirect.old_path.in_(paths[1:]))
        .order_by(sa.func.length(Redirect.old_path).desc())
        .limit(1)
    )
    if redirect is None:
        return None
    requested = paths[-1] if trailing_slash else paths[-1].rstrip("/")
    remainder = requested[len(redirect.old_path) :]
    if redirect.page_id is not None:
        target = db.session.get(Page, redirect.page_id)
        return target.url_path + remainder if target is not None else None
    return redirect.target_url + remainder if redirect.target_url else None
