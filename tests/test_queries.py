"""SQL per request stays constant as content grows: 15 posts and 200 posts, same count,
and at most 4 statements for a page rendered from scratch (page cache off)."""

from datetime import date
from datetime import timedelta
from urllib.parse import parse_qsl

import pytest
import sqlalchemy as sa
from sqlalchemy.orm.exc import DetachedInstanceError
from werkzeug.datastructures import MultiDict

from ally.admin.explorer import children_statement
from ally.extensions import db
from ally.models import Image
from ally.models import Page
from ally.models import Product
from ally.models.blog import CategoryRef
from ally.models.cards import PostCard
from ally.models.cards import public_posts
from ally.models.page_types import detail_page
from ally.models.page_types import page_columns
from ally.models.sql import loaded
from ally.site.routing import Listing
from ally.site.routing import all_categories
from ally.site.routing import first_cards
from ally.site.routing import first_listing
from ally.site.routing import resolve
from ally.site.routing import split_path

from .factories import make_page
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
    # A post page is one query: its categories and promoted products come in its row. So
    # is a listing's first page: every category (the filter) and its posts, each with its
    # categories, come in the blog's row. Later pages read their window on their own.
    assert small["/blog/post-3/"] == 1 and small["/blog/"] == 1, small
    assert small["/blog/category/recovery/"] == 1 and small["/blog/?page=2"] == 2, small


def read_page(pk: int) -> Page:
    """The page ``pk`` as the routing read and the API detail build it."""
    statement = sa.select(*page_columns()).where(Page.id == pk)
    return detail_page(db.session.connection().execute(statement).one()._asdict())


def test_a_posts_categories_come_with_it_and_an_edit_wins(site, db_session, count_queries):
    """``filed_under`` reads the JSON the routing read brought, sorted by name, without a
    query; once ``categories`` is loaded (here: changed, not yet saved) it reads that."""
    post = make_post(site.blog, title="Both", categories=[site.recovery, site.health])
    db_session.commit()
    db_session.expire_all()
    post = read_page(post.id)
    with count_queries() as counter:
        assert [ref.slug for ref in post.filed_under] == ["health-management", "recovery"]
    assert counter.count == 0
    db_session.add(post)  # read detached, as the API detail reads it; an editor's is loaded
    post.categories = [site.recovery]
    assert [ref.slug for ref in post.filed_under] == ["recovery"]
    db_session.rollback()


def promo(product) -> dict:
    return {"type": "product_promo", "value": {"product": product.id, "headline": "Try it"}}


def columns(product: Product) -> dict:
    """Each column's value and its type (SQLite's JSON gives 0 for False, which equals it)."""
    values = {column.key: getattr(product, column.key) for column in Product.__table__.columns}
    return {key: (type(value), value) for key, value in values.items()}


@pytest.mark.parametrize("forget", ["expunge_all", "expire_all"])
def test_a_pages_promoted_products_come_with_it_as_a_query_loads_them(
    site, db_session, count_queries, forget
):
    """The routing read brings the products the body promotes, and its blocks get them
    without a query: every column as a query loads it (an inactive one's flag included),
    into a fresh session or over the expired rows of one that outlived a commit."""
    on_sale = make_product("Melatonin", 2499)
    retired = make_product("Probiotic", 2999, active=False)
    post = make_post(site.blog, body=[promo(on_sale), promo(retired), promo(on_sale)])
    db_session.commit()
    expected = {product.id: columns(product) for product in (on_sale, retired)}
    post_id = post.id
    getattr(db_session, forget)()
    post = read_page(post_id)
    with count_queries() as counter:
        products = [child.value["product"] for child in post.body]
        got = {product.id: columns(product) for product in products}
    assert counter.count == 0, counter.statements
    assert [product.id for product in products] == [on_sale.id, retired.id, on_sale.id]
    assert got == expected


@pytest.mark.parametrize("end", ["commit", "rollback"])
def test_the_products_a_read_brings_stay_out_of_the_session_until_it_ends(
    site, db_session, count_queries, end
):
    """They come detached: nothing flushes through them and a relationship of theirs
    raises rather than loads. A commit or rollback forgets them, as the session expires
    its own rows: the blocks of a body read after it query the product again."""
    product = make_product("Melatonin", 2499)
    post = make_post(site.blog, body=[promo(product)])
    db_session.commit()
    post_id = post.id
    db_session.expunge_all()
    post = read_page(post_id)
    shown = post.promoted_products[0]
    assert [child.value["product"] for child in post.body] == [shown]
    assert shown not in db_session and sa.inspect(shown).detached
    with pytest.raises(DetachedInstanceError):
        _ = shown.image
    getattr(db_session, end)()
    with count_queries() as counter:  # the body converted afresh, as a later read would
        again = post.body_block.to_python(post.body_json)[0].value["product"]
    assert again is not shown and again in db_session
    assert any("FROM products" in s for s in counter.statements), counter.statements


def test_a_closed_session_forgets_the_products_a_read_brought(site, db_session):
    product = make_product("Zinc", 1299)
    post = make_post(site.blog, body=[promo(product)])
    db_session.commit()
    post_id, product_id = post.id, product.id
    db_session.expunge_all()
    assert read_page(post_id).promoted_products[0].id == product_id
    assert loaded(Product, product_id) is not None
    db_session.close()
    assert loaded(Product, product_id) is None


def test_promo_blocks_the_sql_cannot_read_are_skipped_not_fatal(
    app, client, site, db_session, monkeypatch
):
    """A stored body is rendered whatever it holds: blocks that name no product id are
    left out of the row's products (and render no card) instead of failing the save or
    the read."""
    monkeypatch.setitem(app.config, "ALLY_CACHE_ENABLED", False)
    product, other = make_product("Melatonin", 2499), make_product("Probiotic", 2999)
    post = make_post(site.blog, body=[promo(product)])
    db_session.commit()
    junk = [
        "text",
        7,
        {"type": "product_promo", "value": "x"},
        {"type": "product_promo"},
        {"type": "product_promo", "value": {"product": str(other.id)}},
        {"type": "product_promo", "value": {"product": [other.id]}},
        {"type": "paragraph", "value": {"product": other.id}},
        {"type": "product_promo", "value": {"product": 1.5}},
        {"type": "product_promo", "value": {"product": -3}},
        {"type": "product_promo", "value": {"product": 10**12}},
        promo(product),
    ]
    post.body_json = junk
    db_session.commit()
    read = read_page(post.id)
    assert [row["id"] for row in read.products_json] == [product.id]
    response = client.get(post.url_path)
    assert response.status_code == 200
    assert response.text.count('class="product-card"') == 1
    assert client.get(f"/api/v2/pages/{post.id}/").status_code == 200


@pytest.mark.parametrize(
    ("url", "window", "skipping"),
    [
        ("/blog/?page=2", "LIMIT 11 OFFSET 10", True),
        ("/blog/category/recovery/page/1/", "LIMIT 11 OFFSET 0", False),
    ],
)
def test_a_listings_window_and_blog_are_written_into_its_sql(
    app, client, site, db_session, count_queries, monkeypatch, url, window, skipping
):
    """So PostgreSQL can keep one plan per listing page instead of planning each request
    (see ``written_in``): at 100,000 posts a plan for any blog, category and window cost
    more than the one for these, and every listing was planned again. The rows are still
    the window's. Past the first page the window picks the posts' ids in a subquery, and
    the cards' columns (their categories' JSON among them) are computed for its rows only,
    not for every row it skips."""
    monkeypatch.setitem(app.config, "ALLY_CACHE_ENABLED", False)
    build(site, db_session, 0, 15, [make_product("Melatonin", 2499)] * 2)
    with count_queries() as counter:
        response = client.get(url)
    assert response.status_code == 200
    windowed = [" ".join(s.split()) for s in counter.statements if window in " ".join(s.split())]
    assert len(windowed) == 1, counter.statements
    if skipping:
        assert f"{window}) AS" in windowed[0], windowed[0]
    else:
        assert windowed[0].endswith(window), windowed[0]
    assert f"pages.parent_id = {site.blog.id} " in windowed[0], windowed[0]
    if "category" in url:
        assert f"categories.id = {site.recovery.id})" in windowed[0], windowed[0]
    if url.startswith("/blog/?page=2"):
        assert response.text.count('<article class="post-card">') == 5


def test_a_pages_children_are_read_with_its_id_written_in(
    app, client, site, db_session, count_queries, monkeypatch
):
    """The children a standard page lists are read with its id written into the SQL, as
    listings' blogs are (see ``written_in``), and each page gets its own children."""
    monkeypatch.setitem(app.config, "ALLY_CACHE_ENABLED", False)
    about = make_page(site.home, slug="about", title="About")
    make_page(about, title="Our team")
    shop = make_page(site.home, slug="shop", title="Shop")
    make_page(shop, title="Returns")
    db_session.commit()
    with count_queries() as counter:
        assert "Our team" in client.get("/about/").text
        returns = client.get("/shop/").text
    assert "Returns" in returns and "Our team" not in returns
    statements = [" ".join(s.split()) for s in counter.statements]
    children = [s for s in statements if s.endswith("ORDER BY pages.position")]
    assert len(children) == 2, statements
    for sql, page in zip(children, (about, shop), strict=True):
        assert f"pages.parent_id = {page.id} " in sql, sql


def test_later_pages_of_cards_continue_the_first(site, db_session):
    """Pages past the first read their window's ids first (see ``_posts_statement``); the
    pages must still split the posts in order, cards whole, with a category or without."""
    build(site, db_session, 0, 15, [make_product("Melatonin", 2499)] * 2)
    for category_id in (None, site.recovery.id):
        everything = public_posts(site.blog.id, category_id, limit=50)
        paged = [
            card
            for number in range(4)
            for card in public_posts(site.blog.id, category_id, limit=4, offset=4 * number)
        ]
        assert len(everything) > 4 and paged == everything


def test_the_explorer_reads_children_in_index_order(site, explain):
    """A blog's page in the admin explorer reads a page of rows from ``ix_pages_children``
    rather than sorting every child (60 ms a view at 100,000 posts before the index)."""
    plan = explain(children_statement(site.blog.id).limit(51))
    assert "ix_pages_children" in plan, plan
    assert "Sort" not in plan and "TEMP B-TREE" not in plan, plan


def test_the_page_a_reader_asks_for_is_read_outside_the_session(
    app, client, site, db_session, monkeypatch
):
    """Routed pages are detached: nothing flushes through them, and a relationship a
    template reads raises rather than loads (or silently renders nothing). A promo page
    whose product is gone renders without its card."""
    from ally.models import PromoPage
    from ally.site.routing import resolve
    from ally.site.routing import split_path

    monkeypatch.setitem(app.config, "ALLY_CACHE_ENABLED", False)
    post = make_post(site.blog, slug="detached", body=[promo(make_product("Zinc", 1299))])
    bare = make_page(site.home, PromoPage, slug="bare", title="Bare", product_id=None)
    db_session.commit()
    with app.test_request_context(post.url_path):
        page = resolve(split_path(post.url_path)).page
        assert page not in db.session and sa.inspect(page).detached
        assert page.filed_under == [] and page.promoted_products[0].name == "Zinc"
        with pytest.raises(DetachedInstanceError):
            _ = page.feed_image
    response = client.get(bare.url_path)
    assert response.status_code == 200 and 'class="product-card"' not in response.text


@pytest.mark.parametrize(
    ("target", "slug"),
    [
        ("/blog/", None),
        ("/blog/category/recovery/", "recovery"),
        ("/blog/?category=health-management", "health-management"),
    ],
)
def test_a_listings_first_page_comes_in_its_blogs_row_as_its_own_read_gives_it(
    app, site, db_session, target, slug
):
    """The routing read brings a top-level blog's first listing page as JSON (see
    ``first_listing``); its cards must be those the listing's own read gives: the same
    posts in the same order (ties on date by id), dates, aware UTC times, the feed image
    and the categories by name."""
    image = Image(title="Moon", filename="original_images/none.png", width=800, height=600)
    db_session.add(image)
    build(site, db_session, 0, 13, [make_product("Melatonin", 2499)] * 2)
    for title in ("Tied A", "Tied B"):
        make_post(
            site.blog,
            title=title,
            day=date(2024, 1, 13),
            feed_image=image,
            categories=[site.recovery, site.health],
        )
    db_session.commit()
    path = target.partition("?")[0]
    with app.test_request_context(target):
        resolve(split_path(path))
        read = first_cards(site.blog.id, slug, 11)
        category = next((c for c in all_categories() if c.slug == slug), None)
        own = public_posts(site.blog.id, category and category.id, limit=11)
    assert read is not None and len(read) >= 8
    assert read == own
    assert [type(value) for value in read[0]] == [type(value) for value in own[0]]
    assert type(read[0]) is type(own[0]) is PostCard
    assert type(read[0].filed_under[0]) is type(own[0].filed_under[0]) is CategoryRef
    assert read[0].title == "Tied B" and read[0].feed_image.id == image.id
    assert read[0].first_published_at.utcoffset() == timedelta(0)
    assert [c.slug for c in read[0].filed_under] == ["health-management", "recovery"]
    # A different window than the one read is not served from it.
    with app.test_request_context(target):
        resolve(split_path(path))
        assert first_cards(site.blog.id, slug, 5) is None
        assert first_cards(site.blog.id, "other" if slug else "recovery", 11) is None


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/blog/", Listing(None)),
        ("/blog/?page=1&utm_source=x", Listing(None)),
        ("/blog/category/recovery/", Listing("recovery")),
        ("/blog/?category=recovery", Listing("recovery")),
        ("/resources/blog/?category=recovery", Listing("recovery")),
        ("/blog/?page=2", None),
        ("/blog/category/recovery/?page=3", None),
        ("/blog/page/2/", None),
        ("/blog/feed.xml", None),
        ("/blog/category/recovery/feed.xml", None),
        ("/blog/a-post/", None),
        ("/blog/?category=%00", None),
        ("/blog/?category=", None),
        ("/resources/blog/", None),
        ("/", None),
    ],
)
def test_the_routing_read_guesses_which_listing_a_path_asks_for(target, expected):
    """Only paths shaped like a listing's first page carry one: a post's read, carrying a
    listing it never runs, cost PostgreSQL more per post page."""
    path, _, query = target.partition("?")
    args = MultiDict(parse_qsl(query, keep_blank_values=True))
    assert first_listing(split_path(path), args) == expected


def test_a_wrong_guess_costs_nothing_but_its_column(
    app, client, site, db_session, count_queries, monkeypatch
):
    """A top-level page that is no blog is read with the listing's column unrun: the page
    and its children as ever, and no card."""
    monkeypatch.setitem(app.config, "ALLY_CACHE_ENABLED", False)
    about = make_page(site.home, slug="about", title="About")
    make_page(about, title="Our team")
    make_post(site.blog, title="Top news", categories=[site.recovery])
    db_session.commit()
    for target in ("/about/", "/about/?category=recovery"):
        with count_queries() as counter:
            page = client.get(target)
        assert "Our team" in page.text and "Top news" not in page.text
        assert counter.count == 2  # the page, then its children


@pytest.mark.parametrize("by_category", [None, False, True])
def test_the_routing_reads_sql_stays_short_enough_for_psycopg_to_keep(app, by_category):
    """psycopg parses a statement's text afresh at every run once it is longer than it
    caches (4 KB): the routing read, every page's one query, cost 13% more instructions
    when it grew past that. Measured as PostgreSQL receives it, for a deep path."""
    from psycopg._queries import MAX_CACHED_STATEMENT_LENGTH
    from sqlalchemy.dialects.postgresql.psycopg import dialect

    from ally.site.routing import _resolve_statement
    from ally.site.routing import prefixes
    from ally.statements import Read

    params = {
        "paths": prefixes(["a" * 60, "b" * 60, "c" * 60]),
        "listing_limit": 11,
        "listing_category": "recovery",
    }
    with app.app_context():
        sql, _ = Read(_resolve_statement(by_category), dialect())._expanded(params)
    assert len(sql.encode()) < MAX_CACHED_STATEMENT_LENGTH - 256, len(sql)
