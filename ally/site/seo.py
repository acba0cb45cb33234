"""What search engines read: the sitemap and robots.txt."""

import sqlalchemy as sa
from flask import Response
from flask import render_template

from ally.cache import cacheable
from ally.cache import depends_on
from ally.extensions import db
from ally.models import BlogIndexPage
from ally.models import Category
from ally.models import Page
from ally.models.pages import category_path
from ally.templating import absolute_url

from .views import bp

SITEMAP_LIMIT = 50_000  # the sitemaps.org limit for one file


@bp.get("/sitemap.xml")
@cacheable(query=())
def sitemap():
    depends_on("pages", "categories")
    pages = db.session.execute(
        sa.select(Page.url_path, Page.last_published_at, Page.page_type)
        .where(Page.public_clause())
        .order_by(Page.url_path)
        .limit(SITEMAP_LIMIT)
    ).all()
    indexes = [row.url_path for row in pages if row.page_type == BlogIndexPage.api_type]
    slugs = db.session.scalars(sa.select(Category.slug).order_by(Category.slug)).all()
    listings = [category_path(index, slug) for index in indexes for slug in slugs]
    xml = render_template("site/sitemap.xml", pages=pages, listings=listings)
    return Response(xml, mimetype="application/xml")


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
