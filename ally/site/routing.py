"""From a request path to a page: one indexed lookup, then the page's own ``route()``."""

import functools
import re
from operator import itemgetter
from typing import NamedTuple

import sqlalchemy as sa
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
from ally.models.page_types import page_columns
from ally.models.page_types import unattached_page
from ally.models.sql import json_array_agg
from ally.models.sql import json_object

MAX_PATH_LENGTH = 1024
MENU_KEY = "ally.menu"
MENU_COLUMN = "ally_menu"  # the menu's JSON, beside the page's columns
CATEGORIES_KEY = "ally.categories"
CATEGORIES_COLUMN = "ally_categories"  # every category's JSON, for a blog index
_COMPONENT_RE = re.compile(r"^[A-Za-z0-9._-]{1,255}$")


class MenuItem(NamedTuple):
    """A header and footer menu link."""

    title: str
    url_path: str


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
    by them), so that a page costs one query and one ORM object for all.
    """
    found = rows(_resolve_statement(), {"paths": prefixes(components)})
    if not found:
        raise NotFound()
    values = found[0]._asdict()
    menu_json = values.pop(MENU_COLUMN)
    categories_json = values.pop(CATEGORIES_COLUMN)
    page = unattached_page(values)
    if isinstance(page, BlogIndexPage):
        request.environ[CATEGORIES_KEY] = every_category(categories_json or [])
    depends_on("menu")
    request.environ[MENU_KEY] = [
        MenuItem(item["title"], item["url_path"])
        for item in sorted(menu_json or (), key=itemgetter("position"))
    ]
    return page.route(components[page.depth - 1 :])


def menu() -> list[MenuItem]:
    """Public children of the home page flagged ``show_in_menus``, in tree order: those
    :func:`resolve` read with the page, else one query of their own."""
    if has_request_context() and MENU_KEY in (environ := request._get_current_object().environ):
        return environ[MENU_KEY]
    depends_on("menu")
    return [MenuItem(row.title, row.url_path) for row in rows(_menu_statement())]


def all_categories() -> list[CategoryRef]:
    """Every category by name: those :func:`resolve` read with a blog index, else one
    query of their own."""
    depends_on("categories")
    if has_request_context() and CATEGORIES_KEY in request.environ:
        return request.environ[CATEGORIES_KEY]
    return every_category(rows(_categories_statement())[0].categories or [])


@functools.cache
def _categories_statement() -> sa.Select:
    return sa.select(every_category_json().label("categories"))


@functools.cache
def _resolve_statement() -> sa.Select:
    """The deepest public page on the path as :func:`page_from_row` builds it, the menu
    as JSON (see :func:`_menu_json`) and, when it is a blog index, every category. Built
    once: the statement never changes (the paths and ``now`` bind when it runs).
    """
    paths = sa.bindparam("paths", expanding=True)
    # Correlated, so the database reads the categories for the row of a blog index only.
    is_index = Page.page_type == sa.literal(BlogIndexPage.api_type, literal_execute=True)
    return (
        sa.select(
            *page_columns(),
            _menu_json().label(MENU_COLUMN),
            every_category_json().where(is_index).label(CATEGORIES_COLUMN),
        )
        .where(Page.url_path.in_(paths), Page.public_clause())
        .order_by(Page.depth.desc())
        .limit(1)
    )


def _menu_json() -> sa.ScalarSelect:
    """The menu's items as a JSON array of objects, unordered (SQLite can't order inside
    an aggregate): each carries its ``position``."""
    items = _menu_statement().subquery()
    item = json_object(
        "title", items.c.title, "url_path", items.c.url_path, "position", items.c.position
    )
    return sa.select(json_array_agg(item)).scalar_subquery()


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
