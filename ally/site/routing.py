"""From a request path to a page: one indexed lookup, then the page's own ``route()``."""

import re

import sqlalchemy as sa
from werkzeug.exceptions import NotFound

from ally.extensions import db
from ally.models import Page
from ally.models import Redirect
from ally.models import Route

MAX_PATH_LENGTH = 1024
_COMPONENT_RE = re.compile(r"^[A-Za-z0-9._-]{1,255}$")


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
    """The deepest public page on the path, asked to route what is left below it."""
    page = db.session.scalar(
        sa.select(Page)
        .where(Page.url_path.in_(prefixes(components)), Page.public_clause())
        .order_by(Page.depth.desc())
        .limit(1)
    )
    if page is None:
        raise NotFound()
    return page.route(components[page.depth - 1 :])


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
