"""What search engines read: the sitemap, robots.txt and a post's structured data."""

import math

import msgspec
import sqlalchemy as sa
from flask import Response
from flask import abort
from flask import current_app
from flask import render_template
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup

from ally.cache import cacheable
from ally.cache import depends_on
from ally.extensions import db
from ally.models import BlogIndexPage
from ally.models import BlogPage
from ally.models import Category
from ally.models import Page
from ally.models.pages import category_path
from ally.templating import absolute_url

from .views import bp

# URLs per sitemap file. The protocol allows 50,000; at 10,000 each file renders in a few
# milliseconds, and a site past that gets an index of numbered files instead of a truncated list.
SITEMAP_SIZE = 10_000
MAX_SITEMAP_PARTS = 10_000  # 100 million URLs: any higher number is not a sitemap ALLY made


@bp.app_template_global()
def article_json_ld(post: BlogPage) -> Markup:
    """:func:`article_data` as JSON safe inside a ``<script>`` element, as Jinja's
    ``tojson`` writes it (``<``, ``>``, ``&`` and ``'`` as escapes), encoded by msgspec in
    the data's own order: ``tojson`` through Flask's JSON provider, sorting keys and
    asking its policies, cost a cold post page 1.4% of its instructions."""
    return htmlsafe_json_dumps(article_data(post), dumps=_json_text)


def _json_text(data: dict) -> str:
    return JSON_ENCODER.encode(data).decode()


JSON_ENCODER = msgspec.json.Encoder()


def article_data(post: BlogPage) -> dict:
    """``post`` as a schema.org ``BlogPosting``, for its page's JSON-LD: the headline,
    dates and sections search engines show. Built here rather than as a dict literal in
    the template, which Jinja evaluated item by item (1% of a cold post page)."""
    url = absolute_url(post.url_path)
    site = {
        "@type": "Organization",
        "name": current_app._get_current_object().config["ALLY_SITE_NAME"],
    }
    return {
        "@context": "https://schema.org",
        "@type": "BlogPosting",
        "headline": post.title,
        "description": post.search_description or post.intro,
        "datePublished": post.date.isoformat() if post.date else None,
        "dateModified": post.last_published_at.isoformat() if post.last_published_at else None,
        "url": url,
        "mainEntityOfPage": url,
        "articleSection": [category.name for category in post.filed_under],
        "author": site,
        "publisher": site,
    }


@bp.get("/sitemap.xml")
@cacheable(query=())
def sitemap():
    """Every public page and category listing; past ``SITEMAP_SIZE`` URLs, a sitemap index
    of ``/sitemap-<n>.xml`` files, each a slice of the pages in URL order."""
    depends_on("pages", "categories")
    total = db.session.scalar(sa.select(sa.func.count()).where(Page.public_clause()))
    if total <= SITEMAP_SIZE:
        return _urlset(1)
    parts = range(1, math.ceil(total / SITEMAP_SIZE) + 1)
    xml = render_template("site/sitemap_index.xml", parts=parts)
    return Response(xml, mimetype="application/xml")


@bp.get("/sitemap-<int:number>.xml")
@cacheable(query=())
def sitemap_part(number: int):
    depends_on("pages", "categories")
    return _urlset(number)


def _urlset(number: int) -> Response:
    """The ``number``th slice of public pages in URL order; the category listings (a few
    per blog) go with the first. A slice past the end is a 404."""
    if not 1 <= number <= MAX_SITEMAP_PARTS:
        abort(404)  # before the query: PostgreSQL refuses a negative or oversized OFFSET
    pages = db.session.execute(
        sa.select(Page.url_path, Page.last_published_at)
        .where(Page.public_clause())
        .order_by(Page.url_path)
        .offset((number - 1) * SITEMAP_SIZE)
        .limit(SITEMAP_SIZE)
    ).all()
    if number > 1 and not pages:
        abort(404)
    listings = _category_listings() if number == 1 else []
    xml = render_template("site/sitemap.xml", pages=pages, listings=listings)
    return Response(xml, mimetype="application/xml")


def _category_listings() -> list[str]:
    indexes = db.session.scalars(
        sa.select(Page.url_path).where(
            Page.page_type == BlogIndexPage.api_type, Page.public_clause()
        )
    ).all()
    slugs = db.session.scalars(sa.select(Category.slug).order_by(Category.slug)).all()
    return [category_path(index, slug) for index in indexes for slug in slugs]


@bp.get("/robots.txt")
def robots():
    body = (
        "User-agent: *\n"
        "Disallow: /admin/\n"
        "Disallow: /cart/\n"
        "Disallow: /search/\n"
        f"Sitemap: {absolute_url('/sitemap.xml')}\n"
    )
    return Response(body, mimetype="text/plain")
