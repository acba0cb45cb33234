"""Reader views. The catch-all ``serve`` is GET-only and matches last (Werkzeug ranks
static rules such as ``/search/`` above ``/<path:path>``), so ``/admin``, ``/api`` and
``/cart`` keep their own routes and methods."""

import re

import sqlalchemy as sa
from flask import Blueprint
from flask import abort
from flask import current_app
from flask import redirect
from flask import render_template
from flask import request
from flask import send_file
from flask import send_from_directory
from werkzeug.exceptions import NotFound
from werkzeug.routing import PathConverter

from ally import images
from ally.cache import cacheable
from ally.cache import depends_on
from ally.extensions import db
from ally.models import BlogIndexPage
from ally.models import Image
from ally.models import Page
from ally.models.blog import CategoryRef
from ally.models.cards import public_posts
from ally.models.pages import category_path
from ally.models.search import search_terms
from ally.models.search import through_index

from . import feeds
from .paging import page_number_arg
from .paging import paged
from .paging import paginate
from .routing import all_categories
from .routing import find_redirect
from .routing import first_cards
from .routing import resolve
from .routing import split_path

bp = Blueprint("site", __name__)


class PagePathConverter(PathConverter):
    """A page path: anything but the prefixes other blueprints own.

    So ``GET /admin/logout`` is a 405 from the admin's POST-only rule instead of a page
    lookup, and no page can shadow ``/admin``, ``/api``, ``/cart``, ``/static`` or ``/media``.
    """

    regex = r"(?!(?:admin|api|cart|static|media)(?:/|$))[^/].*?"


# Registered before the routes below, which use it.
bp.record_once(
    lambda state: state.app.url_map.converters.setdefault("page_path", PagePathConverter)
)

MAX_QUERY_LENGTH = 200


@bp.get("/", defaults={"path": ""})
@bp.get("/<page_path:path>")
@cacheable(query=("page", "category"))
def serve(path: str):
    components = split_path(path)
    if path and not path.endswith("/") and "." not in components[-1]:
        query = f"?{request.query_string.decode()}" if request.query_string else ""
        return redirect(f"/{path}/{query}", code=301)
    try:
        route = resolve(components)
        return VIEWS[route.view](route.page, **route.kwargs)
    except NotFound:
        # An old URL (a moved page, a renamed category) 404s first, then redirects.
        target = find_redirect(components, trailing_slash=not path or path.endswith("/"))
        if target is None:
            raise
        return redirect(target, code=301)


def render_page(page: Page):
    return render_template(page.template, **page.get_context())


def render_listing(index: BlogIndexPage, category_slug: str | None = None, page_number=None):
    """The blog listing, whole or for one category, ten posts a page, newest first."""
    query_category = request._get_current_object().args.get("category")
    if category_slug is None and query_category is not None:
        category_slug = query_category
    categories = all_categories()
    category = _category_or_404(category_slug, categories) if category_slug is not None else None
    number = page_number or page_number_arg()
    category_id = category.id if category else None
    slug = category.slug if category else None

    def window(limit: int, offset: int):
        read = first_cards(index.id, slug, limit) if offset == 0 else None
        if read is not None:
            return read
        return public_posts(index.id, category_id, limit=limit, offset=offset)

    per_page = current_app._get_current_object().config["ALLY_POSTS_PER_PAGE"]
    posts = paged(window, number, per_page)
    canonical = listing_url(index, category, number)
    return render_template(
        index.template,
        **index.get_context(
            posts=posts, category=category, canonical_path=canonical, categories=categories
        ),
    )


def render_feed(index: BlogIndexPage, category_slug: str | None = None):
    category = None
    if category_slug is not None:
        category = _category_or_404(category_slug, all_categories())
    posts = public_posts(index.id, category.id if category else None, limit=feeds.FEED_LENGTH)
    return feeds.rss_response(index, category, posts)


VIEWS = {"page": render_page, "listing": render_listing, "feed": render_feed}


def listing_url(index: Page, category: CategoryRef | None = None, number: int = 1) -> str:
    """The canonical URL of a listing page: the clean category route, ``?page=N`` after 1."""
    path = category_path(index.url_path, category.slug) if category else index.url_path
    return path if number == 1 else f"{path}?page={number}"


def _category_or_404(slug: str, categories: list[CategoryRef]) -> CategoryRef:
    """The category ``slug`` names, of ``categories`` (all of them, as listings read them)."""
    category = next((c for c in categories if c.slug == slug), None)
    if category is None:
        abort(404)
    return category


@bp.get("/search/")
@cacheable(query=("q", "page"))
def search():
    """Published pages whose title, intro or body hold every word of ``q``, newest first."""
    q = request.args.get("q", "").strip()
    if len(q) > MAX_QUERY_LENGTH or "\x00" in q:
        abort(400, description=f"Search for at most {MAX_QUERY_LENGTH} characters.")
    terms = search_terms(q)
    results = None
    if terms:
        depends_on("pages")
        query = (
            sa.select(Page)
            .where(Page.public_clause(), Page.depth > 1, Page.matching(terms))
            .order_by(Page.last_published_at.desc(), Page.id.desc())
        )
        with through_index(db.session):
            results = paginate(query, page_number_arg(), current_app.config["ALLY_POSTS_PER_PAGE"])
    return render_template("site/search.html", q=q, results=results)


@bp.get("/media/<path:filename>")
def media(filename: str):
    """Uploaded originals, and renditions made on first request then served from disk."""
    match = RENDITION_RE.match(filename)
    if match:
        image = db.session.get(Image, int(match["id"])) if len(match["id"]) < 10 else None
        if image is None:
            abort(404)
        try:
            path = images.rendition_file(image, match["spec"], match["ext"])
        except (images.ImageError, FileNotFoundError):
            abort(404)
        return send_file(path, max_age=31536000)
    if not filename.startswith("original_images/"):
        abort(404)
    return send_from_directory(current_app.config["ALLY_MEDIA_DIR"], filename, max_age=31536000)


RENDITION_RE = re.compile(r"^renditions/(?P<id>\d+)/(?P<spec>[a-z0-9-]+)\.(?P<ext>jpg|png|webp)$")
