"""Static files are linked with a hash of their content and cached for a year under it."""

import re

from flask import url_for
from werkzeug.routing import MapAdapter

from ally import assets


def test_pages_link_assets_by_content_hash_and_they_are_kept_a_year(client, demo_site):
    html = client.get("/").get_data(as_text=True)
    stylesheet = re.search(r'href="(/static/css/site\.css\?v=([0-9a-f]{12}))"', html)
    assert stylesheet, "the stylesheet is linked with its version"
    assert re.search(r'src="/static/js/site\.js\?v=[0-9a-f]{12}"', html)

    with client.get(stylesheet.group(1)) as versioned:
        assert versioned.status_code == 200 and "body" in versioned.get_data(as_text=True)
        cache_control = versioned.headers["Cache-Control"]
    assert "max-age=31536000" in cache_control and "immutable" in cache_control
    assert "no-cache" not in cache_control

    for stale in ("/static/css/site.css", "/static/css/site.css?v=000000000000"):
        with client.get(stale) as response:
            assert response.status_code == 200
            assert "max-age=31536000" not in response.headers.get("Cache-Control", "")


def test_a_changed_file_gets_a_new_version(tmp_path):
    (tmp_path / "a.css").write_text("body { color: red }")
    before = assets.version_of(str(tmp_path), "a.css")
    (tmp_path / "a.css").write_text("body { color: blue; }")
    after = assets.version_of(str(tmp_path), "a.css")
    assert before and after and before != after
    assert assets.version_of(str(tmp_path), "missing.css") is None


def test_reader_pages_link_the_urls_url_for_builds_under_any_prefix(
    app, client, demo_site, monkeypatch
):
    """``static_url`` builds each asset's URL once, per script root: a site mounted under
    a prefix links its assets under it."""
    monkeypatch.setitem(app.config, "ALLY_CACHE_ENABLED", False)
    with app.test_request_context("/"):
        expected = url_for("static", filename="css/site.css")
    for _ in range(2):  # built, then reused
        assert f'href="{expected}"' in client.get("/").get_data(as_text=True)
    mounted = client.get("/", environ_overrides={"SCRIPT_NAME": "/shop"}).get_data(as_text=True)
    assert f'href="/shop{expected}"' in mounted


def test_links_without_values_are_built_once_per_script_root(app, client, demo_site, monkeypatch):
    """The header's search, the subscribe form and a product card's "Add to cart" are built
    on the first view only, per script root; a URL with values, or a relative endpoint, is
    built every time by Flask's ``url_for``."""
    monkeypatch.setitem(app.config, "ALLY_CACHE_ENABLED", False)
    built = []
    build = MapAdapter.build

    def counted(adapter, endpoint, *args, **kwargs):
        built.append(endpoint)
        return build(adapter, endpoint, *args, **kwargs)

    monkeypatch.setattr(MapAdapter, "build", counted)
    post = "/blog/sleep-tight-recover-tight-melatonin-addiction-recovery/"
    client.get(post)
    built.clear()
    html = client.get(post).get_data(as_text=True)
    assert built == [], built
    assert 'action="/subscribe/"' in html and 'action="/search/"' in html
    assert 'action="/cart/add"' in html
    mounted = client.get(post, environ_overrides={"SCRIPT_NAME": "/shop"}).get_data(as_text=True)
    assert 'action="/shop/subscribe/"' in mounted and 'action="/shop/cart/add"' in mounted
    assert 'action="/subscribe/"' in client.get(post).get_data(as_text=True)
    with app.test_request_context("/", environ_overrides={"SCRIPT_NAME": "/shop"}):
        assert assets.template_url_for("site.search", q="zinc") == "/shop/search/?q=zinc"
        assert assets.template_url_for(".search") == "/shop/search/"
