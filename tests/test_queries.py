"""SQL per request stays constant as content grows: 15 posts and 200 posts, same count,
and at most 4 statements for a page rendered from scratch (page cache off)."""

from datetime import date
from datetime import timedelta

import sqlalchemy as sa

from ally.models import Page
from ally.models.page_types import select_pages

from .factories import make_post
from .factories import make_product


def build(site, db_session, first: int, last: int, products):
    body = [
        {"type": "heading", "value": {"text": "Sleep", "level": 2}},
        {"type": "paragraph", "value": "Text with <b>bold</b>."},
        {
            "type": "product_promo",
            "value": {"product": products[0].id, "headline": "Sleep", "cta": "Add"},
        },
        {"type": "bulleted_list", "value": ["a", "b"]},
        {
            "type": "product_promo",
            "value": {"product": products[1].id, "headline": "Gut", "cta": "Add"},
        },
    ]
    for i in range(first, last):
        make_post(
            site.blog,
            title=f"Post {i}",
            day=date(2024, 1, 1) + timedelta(days=i),
            categories=[site.health, site.recovery][: 1 + i % 2],
            body=body,
        )
    db_session.commit()


def queries_for(client, count_queries, db_session, url: str) -> int:
    db_session.expire_all()
    with count_queries() as counter:
        response = client.get(url)
    assert response.status_code == 200, url
    return counter.count


URLS = [
    "/blog/",
    "/blog/category/recovery/",
    "/blog/?page=2",
    "/blog/post-3/",
    "/blog/feed.xml",
    "/",
    "/sitemap.xml",
    "/sitemap-1.xml",
    "/search/?q=sleep",
    "/blog/category/health-management/feed.xml",
]


def test_queries_per_page_do_not_grow_with_content(
    app, client, site, db_session, count_queries, monkeypatch
):
    monkeypatch.setitem(app.config, "ALLY_CACHE_ENABLED", False)
    products = [make_product("Melatonin", 2499), make_product("Probiotic", 2999)]
    build(site, db_session, 0, 15, products)
    small = {url: queries_for(client, count_queries, db_session, url) for url in URLS}
    build(site, db_session, 15, 200, products)
    large = {url: queries_for(client, count_queries, db_session, url) for url in URLS}
    assert large == small
    assert max(small.values()) <= 4, small
    # A post's categories come in its own row, and in each row of a listing.
    assert small["/blog/post-3/"] == 2 and small["/blog/"] == 3, small


def test_a_posts_categories_come_with_it_and_an_edit_wins(site, db_session, count_queries):
    """``filed_under`` reads the JSON the routing read brought, sorted by name, without a
    query; once ``categories`` is loaded (here: changed, not yet saved) it reads that."""
    post = make_post(site.blog, title="Both", categories=[site.recovery, site.health])
    db_session.commit()
    db_session.expire_all()
    post = db_session.scalar(select_pages().where(Page.id == post.id))
    with count_queries() as counter:
        assert [ref.slug for ref in post.filed_under] == ["health-management", "recovery"]
    assert counter.count == 0
    post.categories = [site.recovery]
    assert [ref.slug for ref in post.filed_under] == ["recovery"]
    db_session.rollback()
    assert sa.inspect(post).expired_attributes
