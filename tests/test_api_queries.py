"""An API listing of 20 posts costs the same SQL for 5 posts or 200: at most 4 statements
for the fields a listing shows, a few more with every field (``fields=*`` adds categories,
images and the products promoted in each body, each loaded in one batch)."""

from datetime import date
from datetime import timedelta

import pytest
import sqlalchemy as sa

from ally.models import Image

from .factories import make_page
from .factories import make_post
from .factories import make_product


def build(site, db_session, first, last, products, image):
    body = [
        {"type": "paragraph", "value": "Text"},
        {"type": "product_promo", "value": {"product": products[0].id, "headline": "A"}},
        {"type": "product_promo", "value": {"product": products[1].id, "headline": "B"}},
        {"type": "image", "value": {"image": image.id, "alt": "Alt", "caption": ""}},
    ]
    for i in range(first, last):
        make_post(
            site.blog,
            title=f"Post {i}",
            day=date(2024, 1, 1) + timedelta(days=i),
            categories=[site.health, site.recovery][: 1 + i % 2],
            body=body,
            feed_image_id=image.id,
        )
    db_session.commit()


URLS = [
    "/api/v2/pages/?type=blog.BlogPage&fields=*&limit=20",
    "/api/v2/pages/?type=blog.BlogPage&fields=date,intro&limit=20&order=-date",
    "/api/v2/pages/?fields=*&limit=20",
    "/api/v2/pages/?category=recovery&limit=20",
    "/api/v2/products/",
]


def test_api_listing_queries_do_not_grow(app, client, site, db_session, count_queries, monkeypatch):
    monkeypatch.setitem(app.config, "ALLY_CACHE_ENABLED", False)
    products = [make_product("Melatonin", 2499), make_product("Probiotic", 2999)]
    image = Image(title="Moon", filename="original_images/none.png", width=800, height=600)
    db_session.add(image)
    db_session.commit()

    def measure():
        counts = {}
        for url in URLS:
            db_session.expire_all()
            with count_queries() as counter:
                response = client.get(url)
            assert response.status_code == 200, response.json
            counts[url] = counter.count
        return counts

    build(site, db_session, 0, 5, products, image)
    small = measure()
    build(site, db_session, 5, 200, products, image)
    large = measure()
    assert large == small
    assert max(small.values()) <= 8, small
    assert small[URLS[1]] <= 4 and small[URLS[3]] <= 4, small


def test_a_post_detail_reads_its_parent_and_categories_with_it(
    app, client, site, db_session, count_queries, monkeypatch
):
    monkeypatch.setitem(app.config, "ALLY_CACHE_ENABLED", False)
    product = make_product("Melatonin", 2499)
    promo = {"type": "product_promo", "value": {"product": product.id, "headline": "A"}}
    post = make_post(site.blog, categories=[site.recovery, site.health], body=[promo])
    db_session.commit()
    url, blog_id = f"/api/v2/pages/{post.id}/", site.blog.id
    db_session.expire_all()
    with count_queries() as counter:
        data = client.get(url).get_json()
    assert data["meta"]["parent"]["id"] == blog_id
    assert [c["slug"] for c in data["categories"]] == ["health-management", "recovery"]
    assert data["body"][0]["value"]["product"]["price"] == 2499
    # The post with its parent, categories, promoted products and their promo pages.
    assert counter.count == 1, counter.statements


def test_a_detail_reads_the_promo_pages_of_the_products_it_shows_with_it(
    app, client, site, db_session, count_queries, monkeypatch
):
    """A product's ``url`` is its public promo page, for the body's products and a promo
    page's own, read with the detail; a product with none (or a draft) has no URL."""
    from ally.models import PromoPage

    monkeypatch.setitem(app.config, "ALLY_CACHE_ENABLED", False)
    promoted, plain, hidden = (make_product(name, 999) for name in ("Melatonin", "Zinc", "Iron"))
    shop = make_page(site.home, slug="shop", title="Shop")
    make_page(shop, PromoPage, slug="melatonin", title="Melatonin", product_id=promoted.id)
    make_page(shop, PromoPage, slug="iron", title="Iron", product_id=hidden.id, live=False)
    body = [
        {"type": "product_promo", "value": {"product": product.id, "headline": "A"}}
        for product in (promoted, plain, hidden)
    ]
    post = make_post(site.blog, body=body)
    promo_page = db_session.scalar(sa.select(PromoPage).where(PromoPage.slug == "melatonin"))
    db_session.commit()
    post_url, promo_url = f"/api/v2/pages/{post.id}/", f"/api/v2/pages/{promo_page.id}/"
    with count_queries() as counter:
        shown = client.get(post_url).get_json()
    urls = [block["value"]["product"]["url"] for block in shown["body"]]
    assert urls == ["http://localhost/shop/melatonin/", None, None]
    assert counter.count == 1, counter.statements
    own = client.get(promo_url).get_json()
    assert own["product"]["url"] == "http://localhost/shop/melatonin/"


def test_a_promo_page_is_one_query_on_the_site_and_in_the_api(
    app, client, site, db_session, count_queries, monkeypatch
):
    """A promo page's own product comes in its row with its body's (``products_json``),
    as a post's promoted products do."""
    from ally.models import PromoPage

    monkeypatch.setitem(app.config, "ALLY_CACHE_ENABLED", False)
    own, other = make_product("Melatonin", 2499), make_product("Zinc", 1299)
    promo = {"type": "product_promo", "value": {"product": other.id, "headline": "Also"}}
    page = make_page(
        site.home, PromoPage, slug="melatonin", title="Sleep", product_id=own.id, body=[promo]
    )
    db_session.commit()
    detail = f"/api/v2/pages/{page.id}/"
    with count_queries() as counter:
        html = client.get("/melatonin/").get_data(as_text=True)
        data = client.get(detail).get_json()
    assert html.count('class="product-card"') == 2 and "$24.99" in html and "$12.99" in html
    assert data["product"]["price"] == 2499 and data["product"]["url"].endswith("/melatonin/")
    assert data["body"][0]["value"]["product"]["price"] == 1299
    assert counter.count == 2, counter.statements  # one each


@pytest.mark.parametrize(
    ("query", "written"),
    [
        ("type=blog.BlogPage&limit=3&offset=1", "pages.page_type IN ('blog.BlogPage')"),
        ("type=blog.BlogPage,pages.StandardPage", "IN ('blog.BlogPage', 'pages.StandardPage')"),
        ("category=recovery", "categories.id = {recovery}"),
    ],
)
def test_an_api_listing_writes_its_types_and_window_into_its_sql(
    app, client, site, db_session, count_queries, monkeypatch, query, written
):
    """So PostgreSQL keeps one plan per listing instead of planning every request (see
    ``written``): at 100,000 posts a plan for any type, category and window cost more than
    the one for these. The rows are still the window's."""
    monkeypatch.setitem(app.config, "ALLY_CACHE_ENABLED", False)
    for number in range(5):
        make_post(site.blog, title=f"Post {number}", categories=[site.recovery])
    db_session.commit()
    written = written.format(recovery=site.recovery.id)
    url = f"/api/v2/pages/?{query}&order=title&fields=title"
    client.get(url)  # the count is shared from here on
    with count_queries() as counter:
        items = client.get(url).get_json()["items"]
    sql = " ".join(counter.statements[-1].split())
    assert written in sql, sql
    if "limit=3" in query:
        assert sql.endswith("LIMIT 3 OFFSET 1"), sql
        assert [item["title"] for item in items] == ["Post 1", "Post 2", "Post 3"]
