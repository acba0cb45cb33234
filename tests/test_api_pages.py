"""/api/v2/: the Wagtail v2 vectors (b.15), the shapes, ALLY's additions, HTTP caching."""

from datetime import timedelta
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa

from ally import tree
from ally.models import BlogPage
from ally.models import Page
from ally.models import PageRevision
from ally.models import StandardPage
from ally.models import utcnow
from ally.previews import make_token

from .factories import make_page
from .factories import make_post

SEED_POST = "/blog/sleep-tight-recover-tight-melatonin-addiction-recovery/"


@pytest.fixture
def api(client, demo_site, db_session):
    """The seed site plus a draft, a scheduled and an expired post that must never show."""
    blog = db_session.scalar(sa.select(Page).where(Page.url_path == "/blog/"))
    make_post(blog, title="Draft secret", live=False)
    make_post(blog, title="Expired secret", expire_at=utcnow() - timedelta(minutes=1))
    scheduled = make_post(blog, title="Scheduled secret", live=False)
    tree.publish(
        tree.save_revision(
            scheduled,
            content={
                **scheduled.to_snapshot(),
                "go_live_at": (utcnow() + timedelta(days=1)).isoformat(),
            },
        )
    )
    db_session.commit()

    def get(path="/api/v2/pages/", **params):
        return client.get(path + ("?" + urlencode(params) if params else ""))

    return get


def page_id(db_session, url_path: str) -> int:
    return db_session.scalar(sa.select(Page.id).where(Page.url_path == url_path))


# -- b.15 vectors ------------------------------------------------------------------------------


def test_b15_1_listing_shape(api):
    data = api().json
    assert list(data) == ["meta", "items"] and isinstance(data["meta"]["total_count"], int)
    for item in data["items"]:
        assert list(item) == ["id", "meta", "title"]
        assert list(item["meta"]) == [
            "type",
            "detail_url",
            "html_url",
            "slug",
            "first_published_at",
        ]


def test_a_listing_asks_the_time_at_every_request(api, monkeypatch):
    """The start of a typed listing is built once, but what is public is decided when each
    request runs: a day later the scheduled post is listed (and the expired one still not)."""

    def titles(limit: int) -> set[str]:  # a URL of its own, so the page cache has not seen it
        return {item["title"] for item in api(type="blog.BlogPage", limit=limit).json["items"]}

    assert not {"Scheduled secret", "Expired secret"} & titles(20)
    later = utcnow() + timedelta(days=2)
    monkeypatch.setattr("ally.models.pages.utcnow", lambda: later)
    assert "Scheduled secret" in titles(19) and "Expired secret" not in titles(18)


PLAIN_LISTINGS = [
    "/api/v2/pages/",
    "/api/v2/pages/?type=blog.BlogPage&fields=date,intro&limit=3&offset=1",
    "/api/v2/pages/?type=blog.BlogPage&fields=*,-categories,-feed_image,-body",
    "/api/v2/pages/?type=shop.PromoPage&fields=*,-product,-body",
    "/api/v2/pages/?type=blog.BlogIndexPage&fields=*",
    "/api/v2/pages/?type=home.HomePage,pages.StandardPage&fields=_,id,title&offset=1",
    "/api/v2/pages/?type=pages.StandardPage&fields=*,-body&limit=0",
]


@pytest.mark.parametrize("url", PLAIN_LISTINGS)
def test_a_plain_window_serves_what_the_orms_pages_would(app, api, monkeypatch, url):
    """A listing that neither filters nor shows a relation reads rows into pages by
    reference; every field it may show, for every page type, and the validators, are
    exactly what the ORM's loaded pages give."""
    from ally.api import views

    windows = []
    read_window = views.plain_window
    monkeypatch.setattr(views, "plain_window", lambda *a: windows.append(a) or read_window(*a))

    def served():
        with app.test_request_context(url):  # the view itself: no page cache between
            response = app.make_response(views.pages_listing())
        return response.get_data(), response.headers["ETag"], response.last_modified

    plain = served()
    monkeypatch.setattr(views, "is_plain", lambda *args: False)  # the ORM's path
    assert len(windows) == 1
    assert plain == served() and len(windows) == 1
    assert b'"items":[' in plain[0]


def test_b15_2_type_specific_fields(api):
    items = api(type="blog.BlogPage", fields="title,date,feed_image").json["items"]
    assert {tuple(item) for item in items} == {("id", "meta", "title", "date", "feed_image")}


@pytest.mark.parametrize(
    ("fields", "keys"),
    [
        ("-title", ["id", "meta"]),
        ("-id", ["meta", "title"]),
        ("-type,-detail_url,-slug,-first_published_at,-html_url", ["id", "title"]),
    ],
)
def test_b15_3_negated_fields(api, fields, keys):
    assert all(list(item) == keys for item in api(fields=fields).json["items"])


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"fields": "title,*"}, "fields error: '*' must be in the first position"),
        ({"fields": "path"}, "unknown fields: path"),
        ({"fields": "parent"}, "unknown fields: parent"),
        ({"order": "random", "offset": "10"}, "random ordering with offset is not supported"),
        ({"order": "-random"}, "cannot order by '-random' (unknown field)"),
        ({"order": "random,title"}, "random ordering cannot be combined with other fields"),
        ({"limit": "21"}, "limit cannot be higher than 20"),
        ({"limit": "abc"}, "limit must be a positive integer"),
        ({"limit": "-1"}, "limit must be a positive integer"),
        ({"offset": "-5"}, "offset must be a positive integer"),
        ({"offset": "x"}, "offset must be a positive integer"),
        ({"child_of": "abc"}, "child_of must be a positive integer"),
        (
            {"descendant_of": "root", "child_of": "root"},
            "filtering by descendant_of with child_of is not supported",
        ),
        ({"foo": "bar"}, "query parameter is not an operation or a recognised field: foo"),
        (
            {"foo": "1", "bar": "2"},
            "query parameter is not an operation or a recognised field: bar, foo",
        ),
        ({"type": "blog.Nope"}, "type doesn't exist"),
        ({"date": "2024-08-12"}, "query parameter is not an operation or a recognised field: date"),
        ({"fields": "title ,date"}, "fields error: unexpected whitespace at position 5"),
        (
            {"fields": "title("},
            "fields error: unexpected end of input (did you miss out a close bracket?)",
        ),
        ({"fields": "title(id)"}, "'title' does not support nested fields"),
        ({"fields": "_,-title"}, "fields error: negated fields with '_' doesn't make sense"),
        ({"fields": "*,title"}, "fields error: additional fields with '*' doesn't make sense"),
        ({"fields": "-*"}, "fields error: '*' cannot be negated"),
        ({"fields": "a,,b"}, "fields error: unexpected char ',' at position 2"),
        (
            {"id": "abc"},
            "field filter error. 'abc' is not a valid value for id (invalid literal for int() with base 10: 'abc')",
        ),
        ({"slug": "a\x00b"}, "field filter error. null characters are not allowed for slug"),
        (
            {"show_in_menus": "yes"},
            "field filter error. 'yes' is not a valid value for show_in_menus (expected 'true' or 'false', got 'yes')",
        ),
        ({"child_of": "99999"}, "parent page doesn't exist"),
        ({"ancestor_of": "root"}, "ancestor_of must be a positive integer"),
        ({"ancestor_of": "99999999999999999999"}, "descendant page doesn't exist"),
        ({"order": "body"}, "cannot order by 'body' (unknown field)"),
        ({"rich_text_format": "markdown"}, "rich_text_format must be one of: db_html, html"),
        ({"category": "nope"}, "category doesn't exist"),
        (
            {"type": "blog.BlogPage", "date__gte": "12/08/2024"},
            "date__gte must be an ISO 8601 date",
        ),
        ({"search": "x", "search_operator": "xor"}, "search_operator must be 'and' or 'or'"),
    ],
)
def test_b15_bad_parameters_are_400_with_wagtails_message(api, params, message):
    response = api(**params)
    assert response.status_code == 400
    assert response.json == {"message": message}


def test_b15_9_child_of_root(api, db_session):
    paths = {item["meta"]["html_url"] for item in api(child_of="root").json["items"]}
    assert paths == {
        "http://localhost/blog/",
        "http://localhost/products/",
        "http://localhost/about/",
    }


def test_b15_12_find(api, db_session):
    assert api("/api/v2/pages/find/").status_code == 404
    assert api("/api/v2/pages/find/").json == {"message": "not found"}
    response = api("/api/v2/pages/find/", html_path="blog", fields="_,id,type")
    blog = page_id(db_session, "/blog/")
    assert response.status_code == 302
    assert response.location == f"/api/v2/pages/{blog}/?fields=_,id,type"
    # Routable sub-paths resolve to their page; drafts are never found.
    assert api("/api/v2/pages/find/", html_path="/blog/category/recovery/").location.startswith(
        f"/api/v2/pages/{blog}/"
    )
    assert api("/api/v2/pages/find/", html_path="/blog/draft-secret/").status_code == 404
    assert api("/api/v2/pages/find/", html_path="/blog/%00/").status_code == 404
    post = page_id(db_session, SEED_POST)
    assert api("/api/v2/pages/find/", id=str(post)).location == f"/api/v2/pages/{post}/"


def test_b15_13_detail_home_has_null_parent_and_drafts_404(api, db_session):
    home = api(f"/api/v2/pages/{page_id(db_session, '/')}/").json
    assert home["meta"]["parent"] is None
    draft = db_session.scalar(sa.select(Page.id).where(Page.title == "Draft secret"))
    response = api(f"/api/v2/pages/{draft}/")
    assert response.status_code == 404 and response.json == {
        "message": "No Page matches the given query."
    }
    assert api("/api/v2/pages/99999999999999/").status_code == 404


def test_detail_of_a_live_page_under_an_unpublished_one_has_no_parent(api, db_session):
    home = db_session.scalar(sa.select(Page).where(Page.url_path == "/"))
    hidden = make_page(home, StandardPage, title="Unlisted section", live=False)
    child = make_page(hidden, StandardPage, title="Reachable child")
    db_session.commit()
    data = api(f"/api/v2/pages/{child.id}/").json
    assert data["title"] == "Reachable child"
    assert data["meta"]["parent"] is None


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"type": "blog.BlogPage"},
        {"search": "secret"},
        {"child_of": "root"},
        {"order": "random"},
        {"descendant_of": "root"},
    ],
)
def test_hidden_pages_never_appear(api, params):
    body = api(**params).get_data(as_text=True)
    assert "secret" not in body.lower()


# -- shapes ------------------------------------------------------------------------------------


def test_detail_field_order_and_parent(api, db_session):
    data = api(f"/api/v2/pages/{page_id(db_session, SEED_POST)}/").json
    assert list(data) == [
        "id",
        "meta",
        "title",
        "date",
        "intro",
        "categories",
        "feed_image",
        "body",
    ]
    assert list(data["meta"]) == [
        "type",
        "detail_url",
        "html_url",
        "slug",
        "show_in_menus",
        "seo_title",
        "search_description",
        "first_published_at",
        "alias_of",
        "parent",
    ]
    assert data["meta"]["parent"] == {
        "id": page_id(db_session, "/blog/"),
        "meta": {
            "type": "blog.BlogIndexPage",
            "detail_url": f"http://localhost/api/v2/pages/{page_id(db_session, '/blog/')}/",
            "html_url": "http://localhost/blog/",
        },
        "title": "Blog",
    }
    assert data["date"] == "2024-08-12"
    assert [c["slug"] for c in data["categories"]] == ["health-management", "recovery"]
    assert set(data["categories"][0]) == {"id", "name", "slug"}


def test_a_details_feed_image_comes_with_it_or_is_null(api, db_session, count_queries):
    """The detail reads its page detached; a post's feed image, its one relationship the
    detail shows, is read by id (one query) or is null (none)."""
    from ally.models import Image

    blog = db_session.scalar(sa.select(Page).where(Page.url_path == "/blog/"))
    image = Image(title="Moon", filename="original_images/none.png", width=800, height=600)
    db_session.add(image)
    db_session.flush()
    pictured = make_post(blog, title="Pictured", feed_image_id=image.id)
    bare = make_post(blog, title="Bare")
    db_session.commit()
    db_session.expire_all()
    with count_queries() as counter:
        shown = api(f"/api/v2/pages/{pictured.id}/").json["feed_image"]
    assert shown["id"] == image.id and shown["title"] == "Moon"
    assert shown["url"] == f"/media/renditions/{image.id}/fill-800x600.webp"
    assert any("FROM images" in s for s in counter.statements), counter.statements
    assert api(f"/api/v2/pages/{bare.id}/").json["feed_image"] is None


def test_listings_load_bodies_only_when_asked(api, db_session):
    post = page_id(db_session, SEED_POST)
    detail = api(f"/api/v2/pages/{post}/").json["body"]
    listed = api(type="blog.BlogPage", fields="body").json["items"]
    assert next(item["body"] for item in listed if item["id"] == post) == detail
    assert all("body" not in item for item in api(type="blog.BlogPage").json["items"])


def test_body_inlines_products_for_one_request_rendering(api, db_session):
    body = api(f"/api/v2/pages/{page_id(db_session, SEED_POST)}/").json["body"]
    assert [set(block) for block in body] == [{"type", "value", "id"}] * len(body)
    promo = next(block for block in body if block["type"] == "product_promo")
    assert promo["value"]["product"] == {
        "id": promo["value"]["product"]["id"],
        "name": "ALLY Essentials Melatonin Supplements",
        "slug": "melatonin",
        "price": 2499,
        "currency": "USD",
        "url": "http://localhost/products/melatonin/",
    }
    bullets = next(block for block in body if block["type"] == "bulleted_list")
    assert bullets["value"][0].startswith("<b>Tailored for Recovery:</b>")


def test_nested_field_selection(api):
    # As in Wagtail, sub-fields add to the nested defaults; "_" starts from nothing.
    items = api(type="blog.BlogPage", fields="_,id,categories(_,slug)").json["items"]
    assert all(list(item) == ["id", "categories"] for item in items)
    assert all(set(c) == {"slug"} for item in items for c in item["categories"])
    full = api(type="blog.BlogPage", fields="_,categories(slug)").json["items"]
    assert all(set(c) == {"id", "name", "slug"} for item in full for c in item["categories"])
    assert api(type="blog.BlogPage", fields="categories(nope)").json == {
        "message": "unknown fields: nope"
    }
    # Checked before any row is read, as Wagtail builds its serializer: no post has a feed
    # image, or none matches, and the mistake is still reported.
    for params in ({}, {"slug": "no-such-post"}):
        response = api(type="blog.BlogPage", fields="feed_image(nope)", **params)
        assert response.status_code == 400
        assert response.json == {"message": "unknown fields: nope"}


def test_filters_order_and_pagination(api, db_session):
    posts = api(type="blog.BlogPage", order="-date").json["items"]
    assert [p["meta"]["slug"] for p in posts] == [
        "sleep-tight-recover-tight-melatonin-addiction-recovery",
        "gut-health-recovery-probiotic-supplements",
    ]
    assert (
        api(type="blog.BlogPage", order="date", limit="1")
        .json["items"][0]["meta"]["slug"]
        .startswith("gut")
    )
    assert api(type="blog.BlogPage", limit="1", offset="1").json["meta"]["total_count"] == 2
    assert api(slug="about").json["items"][0]["title"] == "About"
    assert api(show_in_menus="true").json["meta"]["total_count"] == 3
    recovery = db_session.scalar(sa.text("SELECT id FROM categories WHERE slug = 'recovery'"))
    assert api(type="blog.BlogPage", categories=str(recovery)).json["meta"]["total_count"] == 1
    assert api(type="pages.StandardPage,shop.PromoPage").json["meta"]["total_count"] == 4
    assert api(limit="0").json["items"] == []
    assert api(offset="99999999999").json["items"] == []


def test_tree_filters(api, db_session):
    blog = page_id(db_session, "/blog/")
    post = page_id(db_session, SEED_POST)
    assert api(child_of=str(blog)).json["meta"]["total_count"] == 2
    assert api(descendant_of="root").json["meta"]["total_count"] == 7
    ancestors = [i["meta"]["html_url"] for i in api(ancestor_of=str(post)).json["items"]]
    assert ancestors == ["http://localhost/", "http://localhost/blog/"]


def test_allys_additions(api, db_session):
    assert api(category="recovery").json["meta"]["total_count"] == 1
    assert api(type="blog.BlogPage", date__gte="2024-08-10").json["meta"]["total_count"] == 1
    assert api(type="blog.BlogPage", date__lte="2024-08-10").json["meta"]["total_count"] == 1
    assert api(first_published_at__gte="2000-01-01T00:00:00Z").json["meta"]["total_count"] == 8
    assert api(first_published_at__lte="2000-01-01T00:00:00Z").json["meta"]["total_count"] == 0
    assert api(search="melatonin").json["meta"]["total_count"] >= 2
    assert (
        api(search="melatonin probiotic", search_operator="or").json["meta"]["total_count"]
        >= api(search="melatonin probiotic").json["meta"]["total_count"]
    )


def test_rich_text_format_html_makes_site_links_absolute(api, db_session):
    promo = page_id(db_session, "/products/melatonin/")
    stored = api(f"/api/v2/pages/{promo}/").json["body"][0]["value"]
    expanded = api(f"/api/v2/pages/{promo}/", rich_text_format="html").json["body"][0]["value"]
    assert 'href="/blog/sleep-tight' in stored
    assert 'href="http://localhost/blog/sleep-tight' in expanded


def test_html_url_uses_the_site_url_setting(api, app, monkeypatch):
    monkeypatch.setitem(app.config, "ALLY_SITE_URL", "https://blog.ally.example")
    item = api().json["items"][0]
    assert item["meta"]["html_url"] == "https://blog.ally.example/"
    assert item["meta"]["detail_url"].startswith("http://localhost/api/v2/")


def test_other_endpoints(api, db_session):
    products = api("/api/v2/products/").json
    assert products["meta"]["total_count"] == 2
    assert list(products["items"][0]) == ["id", "meta", "name", "slug", "price", "currency", "url"]
    categories = api("/api/v2/categories/", fields="_,slug").json["items"]
    assert categories == [{"slug": "health-management"}, {"slug": "recovery"}]
    assert api("/api/v2/images/").json == {"meta": {"total_count": 0}, "items": []}
    assert api("/api/v2/products/99999/").status_code == 404
    assert api("/api/v2/images/find/", id="1").json == {"message": "not found"}


# -- HTTP --------------------------------------------------------------------------------------


def test_etag_last_modified_and_304(api, client):
    first = api(type="blog.BlogPage")
    assert first.headers["Cache-Control"] == "public, max-age=60"
    etag = first.headers["ETag"]
    assert (
        client.get("/api/v2/pages/?type=blog.BlogPage", headers={"If-None-Match": etag}).status_code
        == 304
    )
    since = first.headers["Last-Modified"]
    assert (
        client.get(
            "/api/v2/pages/?type=blog.BlogPage", headers={"If-Modified-Since": since}
        ).status_code
        == 304
    )
    assert (
        client.get(
            "/api/v2/pages/?type=blog.BlogPage", headers={"If-None-Match": '"other"'}
        ).status_code
        == 200
    )
    # Any condition is answered, not only the two a browser sends.
    listing = "/api/v2/pages/?type=blog.BlogPage"
    assert client.get(listing, headers={"If-Match": '"other"'}).status_code == 412
    assert client.get(listing, headers={"If-Match": etag}).status_code == 200


def test_etag_changes_when_content_changes(api, client, db_session):
    etag = api(type="blog.BlogPage").headers["ETag"]
    post = db_session.scalar(sa.select(BlogPage).where(BlogPage.url_path == SEED_POST))
    tree.publish(tree.save_revision(post, content={**post.to_snapshot(), "title": "New title"}))
    db_session.commit()
    assert (
        client.get("/api/v2/pages/?type=blog.BlogPage", headers={"If-None-Match": etag}).status_code
        == 200
    )


def test_cors_for_configured_origins(api, app, client, monkeypatch):
    assert "Access-Control-Allow-Origin" not in api().headers
    monkeypatch.setitem(app.config, "ALLY_CORS_ORIGINS", ["https://front.example"])
    ok = client.get("/api/v2/pages/", headers={"Origin": "https://front.example"})
    assert ok.headers["Access-Control-Allow-Origin"] == "https://front.example"
    assert "Origin" in ok.headers["Vary"]
    other = client.get("/api/v2/pages/", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
    preflight = client.options(
        "/api/v2/pages/",
        headers={"Origin": "https://front.example", "Access-Control-Request-Method": "GET"},
    )
    assert (
        preflight.status_code == 200 and "GET" in preflight.headers["Access-Control-Allow-Methods"]
    )


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/v2/nope/", 404),
        ("POST", "/api/v2/pages/", 405),
        ("DELETE", "/api/v2/pages/1/", 405),
    ],
)
def test_json_errors_under_api(client, db_session, method, path, status):
    response = client.open(path, method=method)
    assert response.status_code == status and set(response.json) == {"message"}


def test_server_errors_are_json_under_api(tmp_path):
    from ally import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db", "SECRET_KEY": "x"})

    @app.get("/api/v2/boom/")
    def boom():
        raise RuntimeError("boom")

    response = app.test_client().get("/api/v2/boom/")
    assert response.status_code == 500 and response.is_json and set(response.json) == {"message"}
    assert "boom" not in response.get_data(as_text=True)


# -- headless preview ----------------------------------------------------------------------------


def test_preview_token_serves_the_draft(api, db_session, app, monkeypatch):
    post = db_session.scalar(sa.select(BlogPage).where(BlogPage.url_path == SEED_POST))
    revision = tree.save_revision(post, content={**post.to_snapshot(), "title": "Draft title"})
    db_session.commit()
    with app.test_request_context():
        token = make_token(revision)
    response = api("/api/v2/page_preview/", content_type="blog.blogpage", token=token)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert response.json["title"] == "Draft title" and response.json["id"] == post.id
    # A preview reads its parent on its own (no detail query brought it).
    assert response.json["meta"]["parent"]["meta"]["html_url"].endswith("/blog/")
    assert api(f"/api/v2/pages/{post.id}/").json["title"].startswith("Sleep Tight")
    assert api("/api/v2/page_preview/", token=token + "x").json == {
        "message": "invalid preview token"
    }
    monkeypatch.setitem(app.config, "ALLY_PREVIEW_TOKEN_MAX_AGE", -1)
    assert api("/api/v2/page_preview/", token=token).json == {
        "message": "preview token has expired"
    }
    assert (
        db_session.scalar(
            sa.select(sa.func.count())
            .select_from(PageRevision)
            .where(PageRevision.page_id == post.id)
        )
        >= 2
    )
