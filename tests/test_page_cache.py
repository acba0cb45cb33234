"""The page cache: who may share a response, that each reader keeps their own CSRF token,
and that every change a reader could see purges exactly the responses that showed it."""

import contextvars
import logging
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from ally import cache as page_cache
from ally import database
from ally import ops
from ally import tree
from ally.cache import responses as cache_responses
from ally.cache import store as cache_store
from ally.cache import tags as cache_tags
from ally.cache.edge import CacheEdge
from ally.config import FILE_STORE
from ally.extensions import cache
from ally.models import Category
from ally.models import Image
from ally.models import Page
from ally.models import utcnow
from ally.site import views as site_views

from .conftest import AdminActions
from .factories import make_page
from .factories import make_post
from .factories import make_product

TOKEN_RE = re.compile(r'name="csrf-token" content="([^"]+)"')


class ReaderClient(FlaskClient):
    """Each request in a context of its own, as under gunicorn: its own ``g`` and database
    session, so nothing the test loaded beforehand leaks into what a render depends on."""

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


def new_client(app) -> ReaderClient:
    return ReaderClient(app, app.response_class, use_cookies=True)


@pytest.fixture
def reader(app, db_session):
    return new_client(app)


@pytest.fixture
def editor_client(app, users):
    client = new_client(app)
    AdminActions(client).login("editor@ally.example")
    return client


@pytest.fixture
def promo(site, db_session):
    """A post promoting a product, read once by an anonymous reader (so it is cached)."""
    product = make_product("Melatonin", 2499)
    post = make_post(
        site.blog,
        title="Sleep well",
        categories=[site.recovery],
        body=[{"type": "product_promo", "value": {"product": product.id, "headline": "Sleep"}}],
    )
    db_session.commit()
    return post, product


def read(client, url: str):
    response = client.get(url)
    return response.headers.get("X-Cache"), response


def warm(client, *urls: str) -> None:
    """Read each URL until it is stored, then check it is served from the cache."""
    for url in urls:
        client.get(url)
        assert read(client, url)[0] == "HIT", url


# -- what is shared, and with whom --------------------------------------------------------


def test_second_read_is_a_hit_without_sql(site, reader, db_session, count_queries):
    make_post(site.blog, title="Sleep well")
    db_session.commit()
    first, response = read(reader, "/blog/sleep-well/")
    assert first == "MISS" and response.status_code == 200
    with count_queries() as counter:
        state, again = read(reader, "/blog/sleep-well/")
    assert state == "HIT" and counter.count == 0
    assert TOKEN_RE.sub("", again.get_data(as_text=True)) == TOKEN_RE.sub(
        "", response.get_data(as_text=True)
    )


def test_each_reader_gets_their_own_working_csrf_token(app, promo, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    first, second = new_client(app), new_client(app)
    assert read(first, "/blog/sleep-well/")[0] == "MISS"
    assert read(second, "/blog/sleep-well/")[0] == "HIT"
    html = {c: c.get("/blog/sleep-well/").get_data(as_text=True) for c in (first, second)}
    tokens = {c: TOKEN_RE.search(html[c]).group(1) for c in html}
    assert tokens[first] != tokens[second]
    for client, text in html.items():
        assert page_cache.placeholder().decode() not in text
        # The form's token is the reader's own: the add-to-cart form works.
        assert f'name="csrf_token" value="{tokens[client]}"' in text
        added = client.post(
            "/cart/add",
            data={"csrf_token": tokens[client], "id": promo[1].id, "quantity": 1},
        )
        assert added.status_code in (302, 303)
        assert client.get("/cart.js").get_json()["item_count"] == 1
    # Someone else's token is refused.
    stranger = new_client(app)
    stranger.get("/blog/sleep-well/")
    refused = stranger.post("/cart/add", data={"csrf_token": tokens[first], "id": promo[1].id})
    assert refused.status_code == 400


def test_logged_in_authors_are_never_served_nor_stored(promo, reader, editor_client):
    assert read(editor_client, "/blog/sleep-well/")[0] is None
    # The author's render was not stored: the first reader misses.
    assert read(reader, "/blog/sleep-well/")[0] == "MISS"
    assert read(reader, "/blog/sleep-well/")[0] == "HIT"
    assert read(editor_client, "/blog/sleep-well/")[0] is None


def test_a_reader_with_a_cart_gets_their_own_header(app, promo, reader):
    warm(reader, "/blog/sleep-well/")
    shopper = new_client(app)
    shopper.post("/cart/add.js", json={"id": promo[1].id, "quantity": 2})
    state, page = read(shopper, "/blog/sleep-well/")
    assert state is None
    assert "data-cart-count>2</span>" in page.get_data(as_text=True)
    # The cached page still shows an empty cart to everyone else.
    state, other = read(reader, "/blog/sleep-well/")
    assert state == "HIT" and "data-cart-count>0</span>" in other.get_data(as_text=True)


def test_only_successful_reads_are_stored(site, reader, db_session):
    assert read(reader, "/blog/not-yet/")[1].status_code == 404
    make_post(site.blog, title="Not yet")
    db_session.commit()
    state, response = read(reader, "/blog/not-yet/")
    assert (state, response.status_code) == ("MISS", 200)


def test_api_hits_answer_revalidation(app, site, reader, db_session):
    post = make_post(site.blog, title="Sleep well")
    db_session.commit()
    url = f"/api/v2/pages/{post.id}/"
    warm(reader, url)
    etag = reader.get(url).headers["ETag"]
    state, response = read(new_client(app), url)
    assert state == "HIT"
    revalidated = reader.get(url, headers={"If-None-Match": etag})
    assert revalidated.status_code == 304 and revalidated.headers["X-Cache"] == "HIT"


def test_cache_off_serves_fresh_renders(app, site, reader, db_session, monkeypatch):
    monkeypatch.setitem(app.config, "ALLY_CACHE_ENABLED", False)
    make_post(site.blog, title="Sleep well")
    db_session.commit()
    assert read(reader, "/blog/sleep-well/")[0] is None
    assert read(reader, "/blog/sleep-well/")[0] is None


def test_a_response_not_being_stored_builds_no_tags(app, promo, reader, monkeypatch):
    """Tags are what a stored response depends on: a cold one (cache off, as bench/run.py's
    cold rows serve) builds none. They cost an API listing 7% of its instructions."""
    from ally.cache import tags

    built = []
    for name in ("page_tags", "row_tag", "subtree_tags"):
        real = getattr(tags, name)
        monkeypatch.setattr(
            tags, name, lambda *a, real=real, name=name: built.append(name) or real(*a)
        )
    monkeypatch.setitem(app.config, "ALLY_CACHE_ENABLED", False)
    post, _ = promo
    for url in (
        post.url_path,
        "/blog/",
        "/blog/category/recovery/",
        "/api/v2/pages/?type=blog.BlogPage&fields=date,intro,categories&limit=20",
        f"/api/v2/pages/{post.id}/",
    ):
        assert reader.get(url).status_code == 200, url
    assert built == []
    monkeypatch.setitem(app.config, "ALLY_CACHE_ENABLED", True)
    assert read(reader, f"/api/v2/pages/{post.id}/")[0] == "MISS" and built  # a stored one does


# -- first visits, answered before Flask builds a request ------------------------------------


@pytest.fixture
def edge_hits(monkeypatch):
    """Counts the hits the WSGI edge answered (the rest went through Flask)."""
    calls = []
    answer = CacheEdge._response

    def counted(self, entry, session, environ):
        calls.append(environ["PATH_INFO"])
        return answer(self, entry, session, environ)

    monkeypatch.setattr(CacheEdge, "_response", counted)
    return calls


def _comparable(response) -> tuple:
    headers = {k: v for k, v in response.headers.items() if k not in ("Set-Cookie", "X-Request-ID")}
    html = response.get_data(as_text=True)
    return response.status_code, headers, html.replace(TOKEN_RE.search(html).group(1), "")


def test_the_edge_answers_as_flask_does(app, promo, reader, edge_hits):
    """First visits and returning readers (other cookies aside) are answered before Flask; a
    request with an ``Origin`` goes through Flask's hit. All get the same response."""
    warm(reader, "/blog/sleep-well/")
    edge_hits.clear()
    via_flask = new_client(app).get("/blog/sleep-well/", headers={"Origin": "https://x.example"})
    first_visit = new_client(app).get("/blog/sleep-well/", headers={"X-Request-ID": "req-1"})
    reader.set_cookie("_ga", "GA1.1.123")  # an analytics cookie changes nothing
    returning = reader.get("/blog/sleep-well/")

    assert edge_hits == ["/blog/sleep-well/"] * 2 and via_flask.headers["X-Cache"] == "HIT"
    assert _comparable(first_visit) == _comparable(via_flask) == _comparable(returning)
    assert first_visit.headers["X-Request-ID"] == "req-1"
    assert "HttpOnly" in first_visit.headers["Set-Cookie"]
    assert "Set-Cookie" not in returning.headers  # their session already holds a token
    for response in (first_visit, returning, via_flask):
        assert response.headers["Vary"] == "Cookie"
        assert response.headers["Content-Security-Policy"] == ops.CSP


def test_the_edges_cookie_follows_the_session_settings(app, promo, edge_hits, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    monkeypatch.setitem(app.config, "SESSION_COOKIE_NAME", "ally_session")
    warm(new_client(app), "/blog/sleep-well/")
    edge_hits.clear()
    cookie = new_client(app).get("/blog/sleep-well/").headers["Set-Cookie"]
    assert edge_hits == ["/blog/sleep-well/"]
    assert cookie.startswith("ally_session=") and "Secure" in cookie and "HttpOnly" in cookie


def test_the_edge_leaves_sessions_with_more_than_a_token_to_flask(app, promo, edge_hits):
    warm(new_client(app), "/blog/sleep-well/")
    shopper = new_client(app)
    shopper.post("/cart/add", data={"id": promo[1].id, "quantity": 1})
    edge_hits.clear()
    page = shopper.get("/blog/sleep-well/")
    assert edge_hits == [] and page.headers.get("X-Cache") is None
    forged = new_client(app)
    forged.set_cookie("session", "eyJfdXNlcl9pZCI6IjEifQ.forged.signature")
    # A cookie that does not verify is no session at all: a first visit, given a new one.
    answered = forged.get("/blog/sleep-well/")
    assert answered.headers["X-Cache"] == "HIT" and "Set-Cookie" in answered.headers


def test_a_first_visits_session_carries_a_working_token(app, promo, reader, edge_hits, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    warm(reader, "/blog/sleep-well/")
    edge_hits.clear()
    visitor = new_client(app)
    token = TOKEN_RE.search(visitor.get("/blog/sleep-well/").get_data(as_text=True)).group(1)
    assert edge_hits == ["/blog/sleep-well/"]
    added = visitor.post("/cart/add", data={"csrf_token": token, "id": promo[1].id, "quantity": 1})
    assert added.status_code == 303 and visitor.get("/cart.js").get_json()["item_count"] == 1
    assert (
        new_client(app)
        .post("/cart/add", data={"csrf_token": token, "id": promo[1].id, "quantity": 1})
        .status_code
        == 400
    )


def test_the_edges_view_memo_is_bounded_and_keeps_answering(app, site, db_session, edge_hits):
    make_post(site.blog, title="Sleep well")
    db_session.commit()
    edge = app.wsgi_app
    while not isinstance(edge, CacheEdge):
        edge = edge.wsgi_app
    edge._views.clear()
    warm(new_client(app), "/blog/sleep-well/", "/blog/")
    edge_hits.clear()
    edge.VIEWS_KEPT = 2  # shadows the class attribute for this app's edge only
    try:
        for _ in range(2):
            for url in ("/blog/sleep-well/", "/blog/", "/nope/"):
                new_client(app).get(url)
        assert len(edge._views) <= 2
        assert edge_hits == ["/blog/sleep-well/", "/blog/"] * 2
    finally:
        del edge.VIEWS_KEPT


def test_cors_requests_and_misses_go_through_flask(app, site, db_session, edge_hits, monkeypatch):
    monkeypatch.setitem(app.config, "ALLY_CORS_ORIGINS", ["https://front.example"])
    make_post(site.blog, title="Sleep well")
    db_session.commit()
    url = "/api/v2/pages/?type=blog.BlogPage"
    assert read(new_client(app), url)[0] == "MISS"
    cors = new_client(app).get(url, headers={"Origin": "https://front.example"})
    assert cors.headers["X-Cache"] == "HIT" and edge_hits == []
    assert cors.headers["Access-Control-Allow-Origin"] == "https://front.example"
    head = new_client(app).head(url)
    assert head.headers["X-Cache"] == "HIT" and head.data == b"" and edge_hits == ["/api/v2/pages/"]
    assert new_client(app).get("/blog/nope/").status_code == 404


# -- purges: exactly what showed the change ----------------------------------------------------


def test_publishing_a_post_purges_it_and_its_listings_but_not_other_posts(
    site, reader, editor_client, db_session
):
    first = make_post(site.blog, title="Sleep well")
    make_post(site.blog, title="Eat well")
    db_session.commit()
    api = "/api/v2/pages/?type=blog.BlogPage&fields=title"
    warm(reader, "/blog/sleep-well/", "/blog/eat-well/", "/blog/", "/", api)
    editor_client.post(
        f"/admin/pages/{first.id}/edit/",
        data={
            "title": "Sleep better",
            "slug": "sleep-well",
            "date": "2024-08-12",
            "intro": "",
            "body": "[]",
            "action": "publish",
            "base_revision_id": str(first.latest_revision_id),
        },
    )
    for url in ("/blog/sleep-well/", "/blog/", "/", api):
        state, response = read(reader, url)
        assert state == "MISS" and "Sleep better" in response.get_data(as_text=True), url
    assert read(reader, "/blog/eat-well/")[0] == "HIT"


def test_unpublishing_removes_the_post_everywhere(site, reader, db_session):
    post = make_post(site.blog, title="Sleep well", categories=[site.recovery])
    db_session.commit()
    detail = f"/api/v2/pages/{post.id}/"
    warm(reader, "/blog/sleep-well/", "/blog/", "/blog/category/recovery/", detail, "/sitemap.xml")
    tree.unpublish(post)
    db_session.commit()
    assert reader.get("/blog/sleep-well/").status_code == 404
    assert reader.get(detail).status_code == 404
    for url in ("/blog/", "/blog/category/recovery/", "/sitemap.xml"):
        assert "sleep-well" not in reader.get(url).get_data(as_text=True), url


def test_moving_a_page_purges_its_whole_subtree(site, reader, db_session):
    about = make_page(site.home, title="About", slug="about")
    team = make_page(about, title="Team", slug="team")
    company = make_page(site.home, title="Company", slug="company")
    db_session.commit()
    detail = f"/api/v2/pages/{team.id}/"
    warm(reader, "/about/", "/about/team/", detail)
    tree.move_page(about, company)
    db_session.commit()
    moved = reader.get("/about/team/")
    assert moved.status_code == 301 and moved.location == "/company/about/team/"
    assert reader.get("/about/").location == "/company/about/"
    html_url = reader.get(detail).get_json()["meta"]["html_url"]
    assert html_url.endswith("/company/about/team/")


def test_renaming_a_parent_purges_its_childrens_api_details(site, reader, db_session):
    """A detail shows its parent's title in ``meta.parent``, read beside the page's row:
    the parent's row is one of the detail's tags, as the page's own is."""
    post = make_post(site.blog, title="Sleep well")
    db_session.commit()
    detail = f"/api/v2/pages/{post.id}/"
    warm(reader, detail)
    site.blog.title = "Journal"
    db_session.commit()
    state, response = read(reader, detail)
    assert state == "MISS" and response.get_json()["meta"]["parent"]["title"] == "Journal"


def test_publishing_a_promo_page_purges_the_details_showing_its_product(
    site, promo, reader, db_session
):
    """A detail reads its products' promo page paths with its row, and still depends on
    the promo pages, as a query of them would have told the cache."""
    from ally.models import PromoPage

    post, product = promo
    detail = f"/api/v2/pages/{post.id}/"
    warm(reader, detail)
    assert reader.get(detail).get_json()["body"][0]["value"]["product"]["url"] is None
    make_page(site.home, PromoPage, slug="melatonin", title="Melatonin", product_id=product.id)
    db_session.commit()
    state, response = read(reader, detail)
    assert state == "MISS"
    url = response.get_json()["body"][0]["value"]["product"]["url"]
    assert url == "http://localhost/melatonin/"


def test_changing_a_slug_redirects_cached_urls(site, reader, db_session):
    make_post(site.blog, title="Sleep well")
    db_session.commit()
    warm(reader, "/blog/", "/blog/sleep-well/")
    tree.change_slug(site.blog, "journal")
    db_session.commit()
    assert reader.get("/blog/sleep-well/").location == "/journal/sleep-well/"
    assert reader.get("/blog/").location == "/journal/"
    assert "/journal/sleep-well/" in reader.get("/journal/").get_data(as_text=True)


def test_deleting_a_page_purges_it_and_below(site, reader, db_session):
    about = make_page(site.home, title="About", slug="about", show_in_menus=True)
    make_page(about, title="Team", slug="team")
    db_session.commit()
    warm(reader, "/about/team/", "/")
    assert 'href="/about/"' in reader.get("/").get_data(as_text=True)
    tree.delete_page(about)
    db_session.commit()
    assert reader.get("/about/team/").status_code == 404
    assert 'href="/about/"' not in reader.get("/").get_data(as_text=True)


def test_a_price_change_purges_the_pages_showing_the_product(
    app, site, promo, reader, users, db_session
):
    post, product = promo
    make_post(site.blog, title="Unrelated")
    db_session.commit()
    detail, listing = f"/api/v2/pages/{post.id}/", "/api/v2/products/"
    warm(reader, "/blog/sleep-well/", "/blog/unrelated/", detail, listing)
    staff = new_client(app)
    AdminActions(staff).login("editor@ally.example")
    staff.post(
        f"/admin/products/{product.id}/",
        data={"name": "Melatonin", "slug": "melatonin", "price": "19.99", "active": "y"},
    )
    state, page = read(reader, "/blog/sleep-well/")
    assert state == "MISS" and "$19.99" in page.get_data(as_text=True)
    assert "1999" in reader.get(detail).get_data(as_text=True)
    assert reader.get(listing).get_json()["items"][0]["price"] == 1999
    assert read(reader, "/blog/unrelated/")[0] == "HIT"


def test_a_price_change_purges_the_products_promo_page(app, site, reader, users, db_session):
    """A promo page reads its product with its row; the product is still one of its tags."""
    from ally.models import PromoPage

    product = make_product("Melatonin", 2499)
    make_page(site.home, PromoPage, slug="melatonin", title="Sleep", product_id=product.id)
    db_session.commit()
    warm(reader, "/melatonin/")
    staff = new_client(app)
    AdminActions(staff).login("editor@ally.example")
    staff.post(
        f"/admin/products/{product.id}/",
        data={"name": "Melatonin", "slug": "melatonin", "price": "19.99", "active": "y"},
    )
    state, page = read(reader, "/melatonin/")
    assert state == "MISS" and "$19.99" in page.get_data(as_text=True)


def test_a_category_rename_purges_posts_and_listings(app, promo, reader, users, db_session):
    post, _ = promo
    category = db_session.scalar(sa.select(Category).where(Category.slug == "recovery"))
    warm(reader, "/blog/sleep-well/", "/blog/category/recovery/", "/blog/")
    staff = new_client(app)
    AdminActions(staff).login("editor@ally.example")
    staff.post(
        f"/admin/categories/{category.id}/", data={"name": "In Recovery", "slug": "in-recovery"}
    )
    assert "In Recovery" in reader.get("/blog/sleep-well/").get_data(as_text=True)
    assert reader.get("/blog/category/recovery/").location == "/blog/category/in-recovery/"
    assert "In Recovery" in reader.get("/blog/").get_data(as_text=True)


def test_deleting_a_feed_image_purges_the_listings_and_details_showing_it(
    app, site, reader, users, db_session
):
    """A card shows its image by id only, yet the listing depends on the image's row: the
    database clears the post's ``feed_image_id`` on delete, which no flush of a page sees."""
    image = Image(title="Moon", filename="original_images/none.png", width=800, height=600)
    db_session.add(image)
    db_session.flush()
    post = make_post(site.blog, title="Pictured", feed_image_id=image.id)
    db_session.commit()
    detail = f"/api/v2/pages/{post.id}/"
    warm(reader, "/blog/", "/", detail)
    rendition = f"/media/renditions/{image.id}/fill-400x300.webp"
    assert rendition in reader.get("/blog/").get_data(as_text=True)
    assert reader.get(detail).json["feed_image"]["id"] == image.id
    staff = new_client(app)
    AdminActions(staff).login("editor@ally.example")
    assert staff.post(f"/admin/images/{image.id}/delete/").status_code == 303
    for url in ("/blog/", "/"):
        state, response = read(reader, url)
        assert state == "MISS" and rendition not in response.get_data(as_text=True), url
        assert '<span class="post-card-placeholder">P</span>' in response.get_data(as_text=True)
    # The API detail read its page detached and the image by id: the image's row purges it.
    state, response = read(reader, detail)
    assert state == "MISS" and response.json["feed_image"] is None


def test_a_new_category_joins_every_listings_filter_in_name_order(
    app, promo, reader, users, db_session
):
    """Adding a category purges every listing, and the new one takes its place in the
    filter by name, not by age."""
    warm(reader, "/blog/", "/blog/category/recovery/")
    staff = new_client(app)
    AdminActions(staff).login("editor@ally.example")
    staff.post("/admin/categories/add/", data={"name": "Anxiety", "slug": "anxiety"})
    for url in ("/blog/", "/blog/category/recovery/"):
        nav = reader.get(url).get_data(as_text=True).split('class="category-filter"')[1]
        names = re.findall(r'<a href="/blog/[^"]*"[^>]*>([^<]+)</a>', nav.split("</nav>")[0])
        assert names == ["All posts", "Anxiety", "Health Management", "Recovery"], url
    assert reader.get("/blog/category/anxiety/").status_code == 200


def test_no_entry_outlives_the_next_scheduled_go_live(app, site, reader, db_session):
    make_post(site.blog, title="Soon", go_live_at=utcnow() + timedelta(seconds=90))
    db_session.commit()
    assert reader.get("/blog/soon/").status_code == 404
    with app.test_request_context("/blog/"):
        assert 80 <= cache_store.entry_timeout() <= 91
    make_post(site.blog, title="Sooner", go_live_at=utcnow() + timedelta(seconds=30))
    db_session.commit()
    with app.test_request_context("/blog/"):
        assert 20 <= cache_store.entry_timeout() <= 31


def test_a_render_that_raced_a_purge_is_not_stored(app, site, reader, db_session, monkeypatch):
    make_post(site.blog, title="Sleep well")
    db_session.commit()
    real_store = cache_responses._store

    def publish_meanwhile(render, response):
        cache_store.bump({"pages:0"})
        real_store(render, response)

    monkeypatch.setattr(cache_responses, "_store", publish_meanwhile)
    assert read(reader, "/blog/sleep-well/")[0] == "MISS"
    monkeypatch.setattr(cache_responses, "_store", real_store)
    assert read(reader, "/blog/sleep-well/")[0] == "MISS"
    assert read(reader, "/blog/sleep-well/")[0] == "HIT"


# -- one store, several workers ----------------------------------------------------------------


def test_workers_sharing_a_store_see_each_others_purges(app, site, db_session, tmp_path):
    """Two apps on one file store play two gunicorn workers: what one stores the other
    serves, and a publish made through one purges what the other would serve."""
    from ally import create_app

    config = {
        key: app.config[key]
        for key in ("TESTING", "SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "WTF_CSRF_ENABLED")
    }
    store = {"CACHE_TYPE": FILE_STORE, "CACHE_DIR": str(tmp_path / "cache")}
    worker_a, worker_b = (create_app({**config, **store}) for _ in range(2))
    post_id = make_post(site.blog, title="Sleep well").id
    db_session.commit()
    assert read(worker_a.test_client(), "/blog/sleep-well/")[0] == "MISS"
    assert read(worker_b.test_client(), "/blog/sleep-well/")[0] == "HIT"
    with worker_a.app_context():
        from ally.extensions import db

        # post_id, not post.id: inside this context the test's own session would reload
        # ``post`` through this app's engine and keep that connection.
        page = db.session.get(Page, post_id)
        page.title = "Sleep better"
        tree.publish(tree.save_revision(page))
        db.session.commit()
        db.session.remove()
    state, response = read(worker_b.test_client(), "/blog/sleep-well/")
    assert state == "MISS" and "Sleep better" in response.get_data(as_text=True)
    for worker in (worker_a, worker_b):
        with worker.app_context():
            cache.clear()
            from ally.extensions import db

            db.session.remove()
        database.dispose(worker)


def test_a_file_store_keys_its_entries_by_the_apps_fingerprint(app, site, db_session, tmp_path):
    """Flask-Caching builds its file store without ``CACHE_KEY_PREFIX``; ALLY's adds it, so
    another code, setting or database behind the same directory never reads this one's
    pages (here: another site name)."""
    from ally import create_app

    config = {
        key: app.config[key]
        for key in ("TESTING", "SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "WTF_CSRF_ENABLED")
    }
    store = {"CACHE_TYPE": FILE_STORE, "CACHE_DIR": str(tmp_path / "cache")}
    first = create_app({**config, **store})
    renamed = create_app({**config, **store, "ALLY_SITE_NAME": "ALLY Shop"})
    make_post(site.blog, title="Sleep well")
    db_session.commit()
    assert read(first.test_client(), "/blog/sleep-well/")[0] == "MISS"
    assert read(first.test_client(), "/blog/sleep-well/")[0] == "HIT"
    state, response = read(renamed.test_client(), "/blog/sleep-well/")
    assert state == "MISS" and "ALLY Shop" in response.get_data(as_text=True)
    for worker in (first, renamed):
        with worker.app_context():
            cache.clear()
            from ally.extensions import db

            db.session.remove()
        database.dispose(worker)


def test_api_total_count_is_shared_until_pages_change(site, reader, db_session, count_queries):
    posts = [make_post(site.blog, title=f"Post {n}") for n in range(3)]
    db_session.commit()
    listing = "/api/v2/pages/?type=blog.BlogPage&limit=1"
    assert reader.get(listing).get_json()["meta"]["total_count"] == 3
    # Another page of the same listing is a new response but the same count: not recounted.
    with count_queries() as counter:
        second = reader.get(listing + "&offset=1").get_json()
    assert second["meta"]["total_count"] == 3
    assert not any("count(" in s.lower() for s in counter.statements), counter.statements
    tree.unpublish(posts[0])
    db_session.commit()
    assert reader.get(listing + "&offset=2").get_json()["meta"]["total_count"] == 2


def test_page_cache_off_still_shares_counts(
    app, site, reader, db_session, monkeypatch, count_queries
):
    monkeypatch.setitem(app.config, "ALLY_PAGE_CACHE", False)
    make_post(site.blog, title="Sleep well")
    db_session.commit()
    listing = "/api/v2/pages/?type=blog.BlogPage"
    assert read(reader, listing)[0] is None
    with count_queries() as counter:
        state, again = read(reader, listing)
    assert state is None and again.get_json()["meta"]["total_count"] == 1
    assert not any("count(" in s.lower() for s in counter.statements), counter.statements


def test_an_unreachable_store_costs_speed_not_pages_or_saves(
    app, site, reader, db_session, monkeypatch, caplog
):
    """Redis down: pages render without the cache, and a publish still commits."""
    from redis.exceptions import ConnectionError as RedisConnectionError

    def down(*args, **kwargs):
        raise RedisConnectionError("store down")

    # Apps built without TESTING (other tests) stop the "ally" logger propagating to pytest.
    monkeypatch.setattr(logging.getLogger("ally"), "propagate", True)
    post = make_post(site.blog, title="Sleep well")
    db_session.commit()
    monkeypatch.setitem(app.config, "CACHE_TYPE", "RedisCache")  # what it raises, as Redis does
    store = cache.cache
    for method in ("get", "get_many", "set", "set_many", "add", "delete"):
        monkeypatch.setattr(store, method, down)
    state, response = read(reader, "/blog/sleep-well/")
    assert response.status_code == 200 and state is None
    listing = reader.get("/api/v2/pages/?type=blog.BlogPage")
    assert listing.status_code == 200 and listing.get_json()["meta"]["total_count"] == 1
    post.title = "Sleep better"
    tree.publish(tree.save_revision(post))
    db_session.commit()
    assert db_session.get(Page, post.id).title == "Sleep better"
    assert "purge of" in caplog.text and "store unreachable" in caplog.text


def test_keys_change_with_code_settings_secret_and_database():
    """Another database behind the same store (staging and production sharing a Redis)
    must not read the other's pages or counts."""
    base = {
        "ALLY_SITE_NAME": "ALLY Essentials",
        "SECRET_KEY": "a",
        "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://ally@db/production",
        "CACHE_TYPE": "SimpleCache",
    }
    assert page_cache.fingerprint(base) == page_cache.fingerprint(dict(base))
    changes = (
        {"ALLY_SITE_NAME": "ALLY Shop"},
        {"SECRET_KEY": "b"},
        {"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://ally@db/staging"},
    )
    for change in changes:
        assert page_cache.fingerprint({**base, **change}) != page_cache.fingerprint(base)
    # Settings the pages do not show leave the keys alone.
    assert page_cache.fingerprint({**base, "CACHE_TYPE": "RedisCache"}) == page_cache.fingerprint(
        base
    )


def test_parameters_a_page_ignores_do_not_split_the_cache(site, reader, db_session):
    for n in range(12):
        make_post(site.blog, title=f"Post {n}")
    db_session.commit()
    warm(reader, "/blog/")
    # A newsletter link is the same page: served from the same entry.
    assert read(reader, "/blog/?utm_source=newsletter&utm_medium=email")[0] == "HIT"
    # Parameters the page reads are part of the key, in the order the view reads them.
    state, second = read(reader, "/blog/?page=2&utm_source=x")
    assert state == "MISS" and "Post 1<" in second.get_data(as_text=True)
    assert read(reader, "/blog/?utm_source=y&page=2")[0] == "HIT"
    first_of_two = reader.get("/blog/?page=1&page=2").get_data(as_text=True)
    assert "Post 11<" in first_of_two and "Post 1<" not in first_of_two


def test_ops_can_empty_the_cache_and_bench_seeding_purges(demo_site, reader, runner):
    warm(reader, "/blog/")
    result = runner.invoke(args=["purge-cache"])
    assert result.exit_code == 0 and "emptied" in result.output
    assert read(reader, "/blog/")[0] == "MISS"
    warm(reader, "/blog/")
    # seed-bench writes with bulk inserts, outside the session's tracking; it purges anyway.
    assert runner.invoke(args=["seed-bench", "--posts", "3"]).exit_code == 0
    state, listing = read(reader, "/blog/")
    assert state == "MISS" and "bench-post-" in listing.get_data(as_text=True)


def test_a_recent_entry_is_served_from_this_process_until_it_expires(
    app, site, reader, db_session, monkeypatch
):
    make_post(site.blog, title="Sleep well")
    db_session.commit()
    warm(reader, "/blog/sleep-well/")
    store = cache.cache
    reads = []
    real_get_many = store.get_many
    monkeypatch.setattr(store, "get_many", lambda *keys: reads.append(keys) or real_get_many(*keys))
    assert read(reader, "/blog/sleep-well/")[0] == "HIT"
    assert reads == []  # only the epoch was read, not the 12 KB entry
    # Past the entry's lifetime (its scheduled end included) the process copy is not used.
    later = cache_store.time.time() + app.config["ALLY_CACHE_TIMEOUT"] + 1
    monkeypatch.setattr(cache_store.time, "time", lambda: later)
    read(reader, "/blog/sleep-well/")
    assert len(reads) == 1


def test_a_render_that_failed_leaves_nothing_recording(app, client, site, db_session, monkeypatch):
    """A cacheable render that raised does not outlive its request: the next one in the
    same context (as a gunicorn worker runs them) records nothing and gets a real CSRF
    token, not the cache's placeholder."""
    make_post(site.blog, title="Sleep well")
    db_session.commit()

    def broken(page):
        raise RuntimeError("a template that fails")

    monkeypatch.setitem(site_views.VIEWS, "page", broken)
    with pytest.raises(RuntimeError):
        client.get("/blog/sleep-well/")
    db_session.rollback()
    assert cache_tags.current_render() is None
    login = client.get("/admin/login").get_data(as_text=True)
    token = TOKEN_RE.search(login).group(1)
    assert token and token != page_cache.placeholder().decode()
