"""What a reader sees: the seed post, listings, categories, search, subscribing, errors."""

import builtins
import gc
import html
import json
import re
import sys
import weakref
from datetime import date
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import template_rendered
from werkzeug import local

from ally import tree
from ally.models import Category
from ally.models import Page
from ally.models import Subscriber
from ally.models import utcnow

from .factories import make_page
from .factories import make_post
from .factories import make_product

SEED_POST = "/blog/sleep-tight-recover-tight-melatonin-addiction-recovery/"
# A copy of shared/seed/ally-blog.txt, the page ALLY grew from.
SEED_TEXT = Path(__file__).parent / "data" / "ally-blog.txt"


def text_of(response) -> str:
    """The page's visible text with tags removed and whitespace collapsed."""
    body = response.get_data(as_text=True)
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    body = re.sub(r"</?(a|b|strong|i|em|span|time)\b[^>]*>", "", body)  # inline: no break
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body))).strip()


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


# -- the seed page, as readers must recognise it ---------------------------------------------


def test_seed_post_shows_the_seed_text(client, demo_site):
    response = client.get(SEED_POST)
    assert response.status_code == 200
    page = text_of(response)
    for line in [
        "Click Here To Subscribe and avail of the 15% off discount code",
        "Free Shipping With Orders Above $50",
        "Cart 0 $0.00",
        "Sleep Tight, Recover Tight: The Role of Melatonin in Addiction Recovery",
        "Aug 12, 2024 | Health Management, Recovery",
        "What is Melatonin?",
        "Why Choose ALLY Essentials?",
        "Tailored for Recovery: Our Melatonin Supplements are specifically designed",
        "Conclusion: Invest in Your Sleep, Invest in Your Recovery",
        "My cart",
        "Your cart is empty.",
        "Looks like you haven't made a choice yet.",
    ]:
        assert line in page, line


def test_every_paragraph_of_the_first_seed_post_is_on_the_page(client, demo_site):
    seed = SEED_TEXT.read_text(encoding="utf-8")
    first_post = seed.split("Cart 0 $0.00", 1)[1].split("When it comes to addiction recovery", 1)[0]
    page = text_of(client.get(SEED_POST))
    for paragraph in filter(None, (squash(p.replace("•", "")) for p in first_post.split("\n\n"))):
        assert paragraph in page, paragraph


def test_second_seed_post_has_numbered_tips_and_promo(client, demo_site):
    response = client.get("/blog/gut-health-recovery-probiotic-supplements/")
    body = response.get_data(as_text=True)
    assert re.search(r"<ol class=\"block-list\">\s*<li><b>Add a Probiotic Supplement", body)
    assert body.count("<li>") >= 5
    assert "ALLY Essentials Probiotic Supplement: Gut Health Support for Recovery" in body
    assert 'class="product-card-price" data-price="2999">$29.99<' in body


def test_post_meta_links_categories_and_promo_card_has_price(client, demo_site):
    body = client.get(SEED_POST).get_data(as_text=True)
    assert (
        '<a href="/blog/category/health-management/" rel="category tag">Health Management</a>'
        in body
    )
    assert '<a href="/blog/category/recovery/" rel="category tag">Recovery</a>' in body
    assert "$24.99" in body and ">Add to cart</button>" in body
    assert re.search(r'<ul class="block-list">\s*<li><b>Tailored for Recovery:</b>', body)


def test_post_meta_escapes_what_authors_name(client, site, db_session):
    """The date-and-categories line (built in Python, not a template) escapes a category's
    name on the post and on its card, and separates the links."""
    from .factories import make_category

    odd = make_category("Mind & <Body>", slug="mind-body")
    make_post(site.blog, title="Calm", day=date(2024, 8, 12), categories=[odd, site.recovery])
    db_session.commit()
    meta = (
        '<p class="post-meta"><time datetime="2024-08-12">Aug 12, 2024</time> | '
        '<a href="/blog/category/mind-body/" rel="category tag">Mind &amp; &lt;Body&gt;</a>, '
        '<a href="/blog/category/recovery/" rel="category tag">Recovery</a></p>'
    )
    for url in ("/blog/calm/", "/blog/"):
        assert meta in client.get(url).get_data(as_text=True), url


def test_post_meta_follows_a_rename_a_move_and_a_new_date(
    app, client, site, db_session, monkeypatch
):
    """The line is made once per path, date and categories: any change to them shows at
    once, with no cache to purge (the page cache is off here)."""
    from ally import tree

    monkeypatch.setitem(app.config, "ALLY_CACHE_ENABLED", False)
    post = make_post(site.blog, title="Calm", day=date(2024, 8, 12), categories=[site.recovery])
    db_session.commit()
    assert ">Recovery</a></p>" in client.get("/blog/").get_data(as_text=True)
    site.recovery.name = "Recovery Tips"
    post.date = date(2024, 9, 1)
    db_session.commit()
    for url in ("/blog/", "/blog/calm/"):
        body = client.get(url).get_data(as_text=True)
        assert ">Recovery Tips</a></p>" in body and "Sep 01, 2024" in body, url
    tree.change_slug(post, "calm-again")
    db_session.commit()
    body = client.get("/blog/calm-again/").get_data(as_text=True)
    assert 'href="/blog/category/recovery/" rel="category tag">Recovery Tips<' in body


@pytest.mark.parametrize("url", [SEED_POST, "/blog/", "/"])
def test_a_rendered_page_is_freed_when_its_request_ends(app, client, demo_site, url):
    """Nothing a render makes holds the page in a reference cycle, which would keep the
    page, its body and the render's objects until the collector's next full pass: the
    workers' memory target rests on it (macros imported with their context made one)."""
    seen = []

    def keep(sender, template, context, **extra):
        seen.extend(weakref.ref(context[name]) for name in ("page", "posts") if name in context)

    gc.collect()
    gc.disable()
    try:
        with template_rendered.connected_to(keep, app):
            assert client.get(url).status_code == 200
        assert seen and [ref() for ref in seen] == [None] * len(seen)
    finally:
        gc.enable()


def test_post_has_canonical_opengraph_and_json_ld(client, demo_site):
    body = client.get(SEED_POST).get_data(as_text=True)
    assert f'<link rel="canonical" href="http://localhost{SEED_POST}">' in body
    assert '<meta property="og:type" content="article">' in body
    ld = json.loads(
        re.search(r'<script type="application/ld\+json">(.*?)</script>', body, re.S).group(1)
    )
    assert ld["@type"] == "BlogPosting"
    assert ld["datePublished"] == "2024-08-12"
    assert ld["articleSection"] == ["Health Management", "Recovery"]
    assert ld["url"] == ld["mainEntityOfPage"] == f"http://localhost{SEED_POST}"
    assert ld["publisher"] == ld["author"] == {"@type": "Organization", "name": "ALLY Essentials"}


def test_json_ld_cannot_be_broken_out_of(client, site, db_session):
    title = "</script><script>alert('1' & \"2\")</script> – café"
    make_post(site.blog, title=title, intro="x")
    db_session.commit()
    post = db_session.scalar(sa.select(Page).where(Page.depth == 3))
    body = client.get(post.url_path).get_data(as_text=True)
    assert "<script>alert(" not in body
    script = re.search(r'<script type="application/ld\+json">(.*?)</script>', body, re.S)
    assert not set("<>&'") & set(script.group(1))
    assert json.loads(script.group(1))["headline"] == title


def test_seed_demo_is_idempotent(runner, client, demo_site, db_session):
    before = sorted(db_session.scalars(sa.select(Page.url_path)))
    result = runner.invoke(args=["seed-demo"])
    assert "0 page(s) created" in result.output
    assert sorted(db_session.scalars(sa.select(Page.url_path))) == before
    assert len(before) == 8


# -- listings ------------------------------------------------------------------------------


def titles(response) -> list[str]:
    return re.findall(
        r'<h2 class="post-card-title"><a href="[^"]+">([^<]+)</a>', response.get_data(as_text=True)
    )


def test_blog_lists_newest_first_ten_a_page(client, site, db_session):
    for day in range(1, 13):
        make_post(site.blog, title=f"Day {day:02d}", day=date(2024, 8, day))
    db_session.commit()
    first = client.get("/blog/")
    assert titles(first) == [f"Day {d:02d}" for d in range(12, 2, -1)]
    assert 'href="/blog/?page=2"' in first.get_data(as_text=True)
    second = client.get("/blog/?page=2")
    assert titles(second) == ["Day 02", "Day 01"]
    assert '<link rel="canonical" href="http://localhost/blog/?page=2">' in second.get_data(
        as_text=True
    )
    assert titles(client.get("/blog/page/2/")) == ["Day 02", "Day 01"]
    assert client.get("/blog/?page=3").status_code == 404


def test_category_routes_and_filter(client, site, db_session):
    make_post(site.blog, title="Sleep", categories=[site.health, site.recovery])
    make_post(site.blog, title="Gut", categories=[site.health])
    make_post(site.blog, title="Plain")
    db_session.commit()
    assert set(titles(client.get("/blog/category/recovery/"))) == {"Sleep"}
    assert set(titles(client.get("/blog/category/health-management/"))) == {"Sleep", "Gut"}
    filtered = client.get("/blog/?category=recovery")
    assert set(titles(filtered)) == {"Sleep"}
    assert (
        '<link rel="canonical" href="http://localhost/blog/category/recovery/">'
        in filtered.get_data(as_text=True)
    )
    assert set(titles(client.get("/blog/"))) == {"Sleep", "Gut", "Plain"}


def test_new_category_gets_its_listing_and_feed_at_once(client, site, db_session):
    from .factories import make_category

    category = make_category("Nutrition")
    make_post(site.blog, title="Eat well", categories=[category])
    db_session.commit()
    assert titles(client.get("/blog/category/nutrition/")) == ["Eat well"]
    assert client.get("/blog/category/nutrition/feed.xml").status_code == 200


def test_the_category_filter_lists_every_category_in_the_databases_order(client, site, db_session):
    """The listing's filter reads every category with the blog's row (in the database's
    order by name, whatever its collation), the current one marked, descriptions shown."""
    from .factories import make_category

    make_category("zinc")
    make_category("apple cider", slug="apple-cider").description = "Tart & <sweet>"
    db_session.commit()
    names = db_session.scalars(sa.select(Category.name).order_by(Category.name)).all()
    page = client.get("/blog/category/apple-cider/").get_data(as_text=True)
    nav = page[page.index('class="category-filter"') :]
    listed = re.findall(
        r'<li><a href="/blog/category/[^"]+/"(?: aria-current="page")?>([^<]+)<', nav
    )
    assert [html.unescape(name) for name in listed] == names
    assert 'aria-current="page">apple cider<' in nav
    assert '<p class="lead">Tart &amp; &lt;sweet&gt;</p>' in page


# -- visibility ----------------------------------------------------------------------------


@pytest.fixture
def hidden_posts(site, db_session):
    """A draft, a post scheduled for tomorrow and an expired post, beside one live post."""
    now = utcnow()
    make_post(site.blog, title="Visible post", categories=[site.recovery])
    make_post(site.blog, title="Draft secret", live=False, categories=[site.recovery])
    scheduled = make_post(
        site.blog, title="Scheduled secret", live=False, categories=[site.recovery]
    )
    revision = tree.save_revision(
        scheduled,
        content={**scheduled.to_snapshot(), "go_live_at": (now + timedelta(days=1)).isoformat()},
    )
    tree.publish(revision)
    make_post(
        site.blog,
        title="Expired secret",
        categories=[site.recovery],
        expire_at=now - timedelta(minutes=1),
    )
    db_session.commit()
    return ["draft-secret", "scheduled-secret", "expired-secret"]


@pytest.mark.parametrize(
    "url",
    [
        "/blog/",
        "/blog/category/recovery/",
        "/blog/feed.xml",
        "/blog/category/recovery/feed.xml",
        "/sitemap.xml",
        "/search/?q=secret",
        "/",
    ],
)
def test_hidden_posts_appear_nowhere(client, hidden_posts, url):
    body = client.get(url).get_data(as_text=True)
    for slug in hidden_posts:
        assert slug not in body
        assert slug.replace("-", " ").capitalize() not in body
    if url != "/search/?q=secret":
        assert "Visible post" in body or "visible-post" in body


@pytest.mark.parametrize("slug", ["draft-secret", "scheduled-secret", "expired-secret"])
def test_hidden_post_pages_are_404(client, hidden_posts, slug):
    assert client.get(f"/blog/{slug}/").status_code == 404


def test_hidden_parent_hides_listing_route(client, site, db_session):
    make_post(site.blog, title="Child")
    tree.unpublish(site.blog)
    db_session.commit()
    assert client.get("/blog/").status_code == 404
    assert client.get("/blog/category/recovery/").status_code == 404


def main_menu(response) -> list[tuple[str, str, bool]]:
    """The header menu's links: (path, title, marked current)."""
    nav = re.search(r'<nav class="main-nav".*?</nav>', response.get_data(as_text=True), re.S)
    links = re.findall(r'<a href="([^"]+)"( aria-current="page")?>([^<]+)</a>', nav.group(0))
    return [(path, title, bool(current)) for path, current, title in links]


def test_the_menu_shows_the_home_pages_public_menu_pages_in_tree_order(
    app, client, site, db_session, monkeypatch
):
    monkeypatch.setitem(app.config, "ALLY_CACHE_ENABLED", False)
    about = make_page(site.home, title="About us", slug="about", show_in_menus=True)
    make_page(site.home, title="Draft page", slug="draft", show_in_menus=True, live=False)
    make_page(site.home, title="Not in menus", slug="quiet")
    make_page(about, title="Team", slug="team", show_in_menus=True)  # not the home's child
    about.position, site.blog.position = site.blog.position - 1, site.blog.position
    make_post(site.blog, title="A post")
    db_session.commit()

    about_first = [("/about/", "About us", False), ("/blog/", "Blog", False)]
    assert main_menu(client.get("/")) == about_first
    assert main_menu(client.get("/blog/a-post/")) == [about_first[0], ("/blog/", "Blog", True)]
    assert main_menu(client.get("/blog/category/recovery/"))[1] == ("/blog/", "Blog", True)
    assert main_menu(client.get("/search/")) == about_first
    missing = client.get("/no-such-page/")
    assert missing.status_code == 404 and main_menu(missing) == about_first


# -- search, feeds, sitemap, robots --------------------------------------------------------


def test_search_matches_title_intro_and_body(client, site, db_session):
    make_post(site.blog, title="Melatonin basics", intro="About sleep")
    make_post(
        site.blog,
        title="Gut",
        intro="Probiotics",
        body=[{"type": "paragraph", "value": "Fermented <b>kimchi</b> helps"}],
    )
    db_session.commit()
    assert "Melatonin basics" in client.get("/search/?q=MELATONIN").get_data(as_text=True)
    assert "Melatonin basics" in client.get("/search/?q=sleep").get_data(as_text=True)
    found = client.get("/search/?q=kimchi+fermented").get_data(as_text=True)
    assert "Gut" in found and "Melatonin basics" not in found
    assert "Nothing matched" in client.get("/search/?q=100%25_").get_data(as_text=True)


def test_feeds_parse_as_rss(client, demo_site):
    import feedparser

    feed = feedparser.parse(client.get("/blog/feed.xml").data)
    assert not feed.bozo and feed.version == "rss20"
    assert [e.title for e in feed.entries][0] == (
        "Sleep Tight, Recover Tight: The Role of Melatonin in Addiction Recovery"
    )
    assert feed.entries[0].link == f"http://localhost{SEED_POST}"
    assert {t.term for t in feed.entries[0].tags} == {"Health Management", "Recovery"}
    recovery = feedparser.parse(client.get("/blog/category/recovery/feed.xml").data)
    assert [e.title for e in recovery.entries] == [feed.entries[0].title]
    # The channel links to the listing readers open; the feed names itself as atom:link.
    assert feed.feed.link == "http://localhost/blog/"
    assert recovery.feed.link == "http://localhost/blog/category/recovery/"
    raw = client.get("/blog/feed.xml").get_data(as_text=True)
    assert '<atom:link href="http://localhost/blog/feed.xml" rel="self"/>' in raw


def test_listing_advertises_feeds(client, demo_site):
    body = client.get("/blog/category/recovery/").get_data(as_text=True)
    assert (
        'type="application/rss+xml"' in body and 'href="/blog/category/recovery/feed.xml"' in body
    )


def test_sitemap_and_robots(client, demo_site):
    sitemap = client.get("/sitemap.xml")
    assert sitemap.mimetype == "application/xml"
    body = sitemap.get_data(as_text=True)
    assert f"<loc>http://localhost{SEED_POST}</loc>" in body
    assert "<loc>http://localhost/blog/category/recovery/</loc>" in body
    robots = client.get("/robots.txt").get_data(as_text=True)
    assert "Disallow: /admin/" in robots and "Sitemap: http://localhost/sitemap.xml" in robots


def test_site_url_setting_drives_absolute_links(app, client, demo_site, monkeypatch):
    monkeypatch.setitem(app.config, "ALLY_SITE_URL", "https://blog.ally.example")
    assert "<loc>https://blog.ally.example/blog/</loc>" in client.get("/sitemap.xml").get_data(
        as_text=True
    )


# -- subscribe banner ----------------------------------------------------------------------


def test_subscribe_stores_once_and_shows_code(client, db_session):
    first = client.post("/subscribe/", data={"email": "Reader@Example.com"})
    assert first.status_code == 200 and "ALLY15" in first.get_data(as_text=True)
    again = client.post("/subscribe/", data={"email": "reader@example.com "})
    assert "already on the list" in again.get_data(as_text=True)
    assert db_session.scalars(sa.select(Subscriber.email)).all() == ["reader@example.com"]


def test_subscribe_json_for_the_banner_script(client, db_session):
    response = client.post(
        "/subscribe/", data={"email": "a@b.example"}, headers={"Accept": "application/json"}
    )
    assert response.json == {"code": "ALLY15", "new": True}
    bad = client.post("/subscribe/", data={"email": "nope"}, headers={"Accept": "application/json"})
    assert bad.status_code == 400 and "valid e-mail" in bad.json["message"]


@pytest.mark.parametrize("email", ["", "not-an-email", "a@", "x" * 250 + "@b.co"])
def test_subscribe_bad_email_keeps_input_and_stores_nothing(client, db_session, email):
    response = client.post("/subscribe/", data={"email": email})
    assert response.status_code == 400
    assert 'class="field-error"' in response.get_data(as_text=True)
    if email:
        assert html.escape(email) in response.get_data(as_text=True)
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Subscriber)) == 0


def test_subscribe_refuses_without_csrf_token(app, client, db_session, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    response = client.post("/subscribe/", data={"email": "a@b.example"})
    assert response.status_code == 400
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Subscriber)) == 0


# -- bad input never gives a 500 -----------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/no-such-page/", 404),
        ("/blog/no-such-post/", 404),
        ("/blog/category/unknown/", 404),
        ("/blog/category/unknown/feed.xml", 404),
        ("/blog/?category=unknown", 404),
        ("/blog/?category=%00", 404),
        ("/blog/?page=abc", 400),
        ("/blog/?page=-1", 400),
        ("/blog/?page=0", 400),
        ("/blog/?page=1.5", 400),
        ("/blog/?page=99999999999999999999", 400),
        ("/blog/?page=50", 404),
        ("/blog/page/0/", 404),
        ("/blog/page/abc/", 404),
        ("/blog/page/2/extra/", 404),
        ("/" + "a/" * 600, 404),
        ("/blog%00/", 404),
        ("/blog/%00/", 404),
        ("/%C3%A9t%C3%A9/", 404),
        ("/%FF%FE/", 404),
        ("/blog/..%2f..%2fetc/passwd/", 404),
        ("/search/?q=" + "x" * 300, 400),
        ("/search/?q=%00", 400),
        ("/search/?q=ok&page=abc", 400),
    ],
)
def test_bad_input_is_a_clear_4xx(client, demo_site, url, status):
    response = client.get(url)
    assert response.status_code == status
    assert "text/html" in response.content_type


def test_missing_trailing_slash_redirects_keeping_query(client, demo_site):
    response = client.get("/blog?category=recovery")
    assert response.status_code == 301 and response.location == "/blog/?category=recovery"


def test_designed_404_page(client, demo_site):
    response = client.get("/nothing-here/")
    body = response.get_data(as_text=True)
    assert "We couldn't find that page" in body and "Cart 0 $0.00" in text_of(response)


def test_designed_500_page_and_rollback(tmp_path):
    from ally import create_app

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db",
            "SECRET_KEY": "x",
            "PROPAGATE_EXCEPTIONS": False,
        }
    )

    @app.get("/boom")
    def boom():
        raise RuntimeError("boom")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.get_data(as_text=True)
    assert "boom" not in response.get_data(as_text=True)


def test_a_large_site_gets_a_sitemap_index_of_every_page(
    client, demo_site, db_session, monkeypatch
):
    from ally.models import Page
    from ally.site import seo

    monkeypatch.setattr(seo, "SITEMAP_SIZE", 3)
    index = client.get("/sitemap.xml").get_data(as_text=True)
    assert "<sitemapindex" in index
    parts = re.findall(r"<loc>http://localhost(/sitemap-\d+\.xml)</loc>", index)
    public = db_session.scalars(sa.select(Page.url_path).where(Page.public_clause())).all()
    assert len(parts) == -(-len(public) // 3) > 1

    listed = []
    for number, part in enumerate(parts, start=1):
        urls = re.findall(
            r"<loc>http://localhost([^<]*)</loc>", client.get(part).get_data(as_text=True)
        )
        pages = [url for url in urls if "/category/" not in url]
        assert len(pages) <= 3 and (number == 1 or len(pages) == len(urls))
        listed += urls
    assert sorted(u for u in listed if "/category/" not in u) == sorted(public)
    assert "/blog/category/recovery/" in listed and len(listed) == len(set(listed))
    assert client.get(f"/sitemap-{len(parts) + 1}.xml").status_code == 404
    for number in (0, 10**12, 2**63):
        assert client.get(f"/sitemap-{number}.xml").status_code == 404


@pytest.mark.parametrize(
    ("site_url", "path", "expected"),
    [
        ("", "/blog/a/", "http://localhost/blog/a/"),
        ("https://ally.example", "/blog/a/", "https://ally.example/blog/a/"),
        ("https://ally.example/shop", "/blog/", "https://ally.example/shop/blog/"),
        ("https://ally.example", "media/x.jpg", "https://ally.example/media/x.jpg"),
        (
            "https://ally.example",
            "//elsewhere.example/x",
            "https://ally.example/elsewhere.example/x",
        ),
        ("https://ally.example", "https://cdn.example/x.jpg", "https://cdn.example/x.jpg"),
    ],
)
def test_absolute_url_puts_site_paths_on_the_public_site(
    app, monkeypatch, site_url, path, expected
):
    from ally.templating import absolute_url

    monkeypatch.setitem(app.config, "ALLY_SITE_URL", site_url)
    with app.test_request_context("/"):
        assert absolute_url(path) == expected


@pytest.mark.parametrize(
    ("base_url", "headers"),
    [
        ("http://127.0.0.1:8000", {}),
        ("https://blog.example", {}),
        ("http://localhost", {"Host": "xn--caf-dma.example:8443"}),
        ("http://localhost", {"Host": "ally%2Eexample"}),
    ],
)
def test_the_request_host_is_werkzeugs_own(app, base_url, headers):
    """``host_url`` is remembered per scheme and host, and is what werkzeug says."""
    from flask import request

    from ally.templating import host_url

    for _ in range(2):  # worked out, then remembered
        with app.test_request_context("/blog/", base_url=base_url, headers=headers):
            assert host_url(request) == request.host_url


def test_post_dates_read_as_the_blog_prints_them():
    from datetime import datetime as dt

    from ally.templating import long_date

    assert long_date(date(2024, 8, 12)) == "Aug 12, 2024"
    assert long_date(dt(2025, 5, 3, 23, 59)) == "May 03, 2025"
    assert [long_date(date(2024, m, 1))[:3] for m in (1, 12)] == ["Jan", "Dec"]
    assert long_date(None) == ""


READER_TEMPLATES = [
    path
    for path in (Path(__file__).parents[1] / "ally" / "templates").rglob("*.html")
    if "admin" not in path.parts
]


@pytest.mark.parametrize("path", READER_TEMPLATES, ids=lambda path: path.name)
def test_reader_templates_write_typography_as_entities(path):
    """A page of ASCII content then renders as ASCII text, which Python joins and encodes
    byte for byte: one en dash in a listing's title made every string of the page two
    bytes a character, 4% of a cold listing's instructions (``bench/RESULTS.md``)."""
    text = path.read_text()
    assert text.isascii(), [ch for ch in text if not ch.isascii()]


@pytest.fixture
def reader_urls(site, db_session) -> list[str]:
    """A post with a product promo, the listings and the API, as readers ask for them."""
    product = make_product("Melatonin", 2499)
    post = make_post(
        site.blog,
        categories=[site.recovery],
        body=[{"type": "product_promo", "value": {"product": product.id, "headline": "Sleep"}}],
    )
    db_session.commit()
    urls = [post.url_path, "/blog/", "/blog/category/recovery/", "/blog/?category=recovery"]
    api = ["/api/v2/pages/?type=blog.BlogPage&fields=date,intro", f"/api/v2/pages/{post.id}/"]
    return urls + api


def _allys_caller(depth: int, skipping: str) -> str | None:
    """``file:line`` of the first frame outside ``skipping`` if it is ALLY's code (its
    templates included), else None."""
    frame = sys._getframe(depth)
    while frame.f_code.co_filename == skipping:
        frame = frame.f_back
    where = frame.f_code.co_filename
    return f"{where}:{frame.f_lineno}" if "/ally/" in where and "/tests/" not in where else None


def test_reader_pages_read_nothing_through_flasks_proxies_in_allys_code(
    app, client, reader_urls, monkeypatch
):
    """An attribute read through ``request``, ``current_app`` or ``session`` costs five
    times the read of the object itself; ALLY's code (its templates included) on the
    reader's path reads the objects (``proxy._get_current_object()``). Flask's own reads
    are Flask's."""
    monkeypatch.setitem(app.config, "ALLY_CACHE_ENABLED", False)  # every request renders
    read_by = []
    lookup = local._ProxyLookup.__get__

    def noted(descriptor, proxy, owner=None):
        if proxy is not None and (where := _allys_caller(2, local.__file__)):
            read_by.append(f"{where} {descriptor.name}")
        return lookup(descriptor, proxy, owner)

    monkeypatch.setattr(local._ProxyLookup, "__get__", noted)
    for url in reader_urls:
        assert client.get(url).status_code == 200, url
    assert read_by == [], read_by


def test_reader_pages_import_nothing_as_they_render(app, client, reader_urls, monkeypatch):
    """A function-level import runs the import machinery at every call (8,000
    instructions); what ALLY's code on the reader's path needs of modules that import the
    models it asks ``ally.late`` for."""
    monkeypatch.setitem(app.config, "ALLY_CACHE_ENABLED", False)
    for url in reader_urls:  # what loads once (Pillow, a first template) has loaded
        client.get(url)
    imported_by = []
    real_import = builtins.__import__

    def noted(name, *args, **kwargs):
        if where := _allys_caller(1, __file__):
            imported_by.append(f"{where} {name}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", noted)
    for url in reader_urls:
        assert client.get(url).status_code == 200, url
    assert imported_by == [], imported_by


def test_a_listing_of_ascii_posts_is_ascii(client, site, db_session):
    make_post(site.blog, title="Sleep well", categories=[site.recovery])
    db_session.commit()
    page = client.get("/blog/category/recovery/").get_data(as_text=True)
    assert page.isascii()
    assert "<title>Recovery &ndash; ALLY Essentials</title>" in page


SEO_MACRO = """{% macro seo(page, canonical_path, description=None) -%}
  {% set url = absolute_url(canonical_path) %}
  {% set description = description or page.search_description or page.intro %}
  {% set description = description|truncate(300) if description else "" %}
  <link rel="canonical" href="{{ url }}">
  {% if description %}<meta name="description" content="{{ description }}">{% endif %}
  <meta property="og:site_name" content="{{ config.ALLY_SITE_NAME }}">
  <meta property="og:title" content="{{ page.seo_title_or_title }}">
  <meta property="og:url" content="{{ url }}">
  {% if description %}<meta property="og:description" content="{{ description }}">{% endif %}
{%- endmacro %}{{ seo(page, path, given) }}"""


@pytest.mark.parametrize(
    ("intro", "search_description", "given"),
    [
        ("Short <b>intro</b> & more", "", None),
        ("word " * 100, "", None),
        ("ignored", 'Search "text" <x>', None),
        ("ignored", "ignored too", "A category's own words"),
        ("", "", None),
    ],
)
def test_seo_tags_are_what_the_macro_they_replace_printed(
    app, site, db_session, intro, search_description, given
):
    """``seo_tags`` (Python, for speed) prints what the template macro did, but for the
    blank lines between its tags: escaping, the 300-character truncation, the fallbacks."""
    page = make_page(
        site.home,
        slug="about",
        title='About "us" <script>',
        intro=intro,
        search_description=search_description,
    )
    db_session.commit()
    with app.test_request_context("/about/"):
        macro = app.jinja_env.from_string(SEO_MACRO)
        expected = macro.render(page=page, path=page.url_path, given=given)
        printed = app.jinja_env.from_string("{{ seo_tags(page, path, given) }}").render(
            page=page, path=page.url_path, given=given
        )
    assert [line.strip() for line in printed.splitlines()] == [
        line.strip() for line in expected.splitlines() if line.strip()
    ]
    assert "<script>" not in printed and "&lt;script&gt;" in printed
