"""Admin accounts: logging in and out, safe ``next``, and every admin URL's permissions."""

import pytest

from ally.models import BlogPage
from ally.models import Category
from ally.models import Image
from ally.models import PageRevision
from ally.models import Product
from ally.models import User

from .conftest import PASSWORD
from .factories import make_post


def test_login_form_has_the_promised_labels(client, db_session):
    page = client.get("/admin/login").get_data(as_text=True)
    assert '<label for="email">Email</label>' in page
    assert '<label for="password">Password</label>' in page
    assert ">Log in</button>" in page


def test_login_and_logout(client, auth, users):
    response = auth.login("editor@ally.example")
    assert response.status_code == 302 and response.location == "/admin/"
    assert client.get("/admin/pages/").status_code in (200, 302)
    assert auth.logout().status_code == 302
    assert client.get("/admin/pages/").status_code == 302


def test_logout_clears_a_remember_me_cookie(client, auth, users):
    """Flask-Login's cookie hook runs where authors log out (it left the public pages)."""
    auth.login("editor@ally.example")
    client.set_cookie("remember_token", "an-old-remembered-login")
    response = auth.logout()
    cleared = [c for c in response.headers.getlist("Set-Cookie") if "remember_token=" in c]
    assert cleared and "remember_token=;" in cleared[0] and "Expires=Thu, 01 Jan 1970" in cleared[0]
    assert client.get_cookie("remember_token") is None


def test_logout_needs_post(client, auth, users):
    auth.login("editor@ally.example")
    assert client.get("/admin/logout").status_code == 405


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("editor@ally.example", "wrong"),
        ("nobody@ally.example", PASSWORD),
        ("gone@ally.example", PASSWORD),
    ],
)
def test_failed_login_says_the_same_thing_whatever_failed(client, auth, users, email, password):
    response = auth.login(email, password)
    assert response.status_code == 401
    assert "That e-mail and password don&#39;t match an active account." in response.get_data(
        as_text=True
    )
    assert client.get("/admin/pages/").status_code == 302


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/admin/images/", "/admin/images/"),
        ("https://evil.example/", "/admin/"),
        ("//evil.example/x", "/admin/"),
        ("/\\evil.example", "/admin/"),
        ("javascript:alert(1)", "/admin/"),
    ],
)
def test_next_only_goes_to_same_site_paths(auth, users, next_url, expected):
    assert auth.login("admin@ally.example", next_url=next_url).location == expected


def test_anonymous_is_sent_to_login_with_next(client, db_session):
    response = client.get("/admin/images/?page=2")
    assert response.status_code == 302
    assert response.location == "/admin/login?next=/admin/images/?page%3D2"


def test_deactivated_user_is_logged_out_on_next_request(client, auth, users, db_session):
    auth.login("author@ally.example")
    assert client.get("/admin/images/").status_code == 200
    users["author"].is_active = False
    db_session.commit()
    assert client.get("/admin/images/").status_code == 302


def test_session_cookie_is_http_only_and_lax(client, auth, users):
    auth.login("editor@ally.example")
    cookie = client.get_cookie("session")
    assert cookie.http_only and cookie.same_site == "Lax"


def test_login_refuses_without_csrf(app, client, users, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    response = client.post(
        "/admin/login", data={"email": "editor@ally.example", "password": PASSWORD}
    )
    assert response.status_code == 400
    assert client.get("/admin/pages/").status_code == 302


# -- every admin URL against every role -----------------------------------------------------


@pytest.fixture
def world(site, users, db_session):
    """One of everything the admin URLs point at, owned by the editor except the author's post."""
    post = make_post(site.blog, title="Editor's post", owner_id=users["editor"].id)
    own = make_post(site.blog, title="Author's post", owner_id=users["author"].id, live=False)
    product = Product(name="Melatonin", slug="melatonin", price_cents=2499)
    image = Image(title="Moon", filename="original_images/none.png", width=10, height=10)
    db_session.add_all([product, image])
    db_session.commit()
    revision = db_session.scalar(
        PageRevision.__table__.select()
        .where(PageRevision.page_id == post.id)
        .order_by(PageRevision.id)
    )
    return {
        "post": post.id,
        "own": own.id,
        "blog": site.blog.id,
        "home": site.home.id,
        "product": product.id,
        "category": site.health.id,
        "image": image.id,
        "user": users["editor"].id,
        "revision": revision,
    }


# (method, url template, roles allowed). Everything else gets 403; anonymous gets a redirect.
ALL = {"admin", "editor", "author"}
STAFF = {"admin", "editor"}
ADMIN_URLS = [
    ("GET", "/admin/", ALL),
    ("GET", "/admin/pages/", ALL),
    ("GET", "/admin/pages/{home}/", ALL),
    ("GET", "/admin/pages/{blog}/add/", ALL),
    ("GET", "/admin/pages/{blog}/add/blog.BlogPage/", ALL),
    ("GET", "/admin/pages/{post}/edit/", STAFF),
    ("GET", "/admin/pages/{own}/edit/", ALL),
    ("POST", "/admin/pages/{post}/preview/", STAFF),
    ("POST", "/admin/pages/{post}/unpublish/", STAFF),
    ("GET", "/admin/pages/{post}/revisions/", ALL),
    ("GET", "/admin/pages/{post}/revisions/{revision}/compare/", ALL),
    ("GET", "/admin/pages/{post}/revisions/{revision}/preview/", ALL),
    ("POST", "/admin/pages/{post}/revisions/{revision}/revert/", STAFF),
    ("GET", "/admin/pages/{post}/move/", STAFF),
    ("GET", "/admin/pages/{post}/delete/", STAFF),
    ("POST", "/admin/pages/add-home/", STAFF),
    ("GET", "/admin/images/", ALL),
    ("GET", "/admin/images/{image}/", ALL),
    ("POST", "/admin/images/upload.json", ALL),
    ("POST", "/admin/images/{image}/delete/", STAFF),
    ("GET", "/admin/products/", STAFF),
    ("GET", "/admin/products/add/", STAFF),
    ("GET", "/admin/products/{product}/", STAFF),
    ("GET", "/admin/categories/", STAFF),
    ("GET", "/admin/categories/add/", STAFF),
    ("GET", "/admin/categories/{category}/", STAFF),
    ("GET", "/admin/subscribers/", STAFF),
    ("GET", "/admin/subscribers.csv", STAFF),
    ("GET", "/admin/users/", {"admin"}),
    ("GET", "/admin/users/add/", {"admin"}),
    ("GET", "/admin/audit/", {"admin"}),
    ("GET", "/admin/users/{user}/", {"admin"}),
]


def test_every_admin_rule_is_in_the_permission_table(app):
    listed = {url.split("{")[0].rstrip("/") for _, url, _ in ADMIN_URLS}
    for rule in app.url_map.iter_rules():
        if (
            rule.rule.startswith("/admin")
            and rule.endpoint != "admin.login"
            and rule.endpoint != "admin.logout"
        ):
            prefix = rule.rule.split("<")[0].rstrip("/")
            assert any(item.startswith(prefix) or prefix.startswith(item) for item in listed), (
                rule.rule
            )


@pytest.mark.parametrize(
    ("method", "url", "allowed"), ADMIN_URLS, ids=[f"{m} {u}" for m, u, _ in ADMIN_URLS]
)
@pytest.mark.parametrize("role", ["anonymous", "author", "editor", "admin"])
def test_admin_permissions(client, auth, world, method, url, allowed, role):
    if role != "anonymous":
        auth.login(f"{role}@ally.example")
    response = client.open(url.format(**world), method=method)
    if role == "anonymous":
        assert response.status_code == 302 and response.location.startswith("/admin/login?next=")
    elif role in allowed:
        assert (
            response.status_code not in (302, 401, 403)
            or response.location
            and "login" not in response.location
        )
        assert response.status_code != 403
    else:
        assert response.status_code == 403


def test_author_cannot_publish_even_by_posting_the_action(client, auth, world, db_session):
    auth.login("author@ally.example")
    form = {
        "title": "Mine",
        "date": "2024-08-12",
        "body": "[]",
        "action": "publish",
        "base_revision_id": "",
    }
    assert client.post(f"/admin/pages/{world['own']}/edit/", data=form).status_code == 403
    assert (
        client.post(f"/admin/pages/{world['blog']}/add/blog.BlogPage/", data=form).status_code
        == 403
    )
    assert db_session.get(BlogPage, world["own"]).live is False
    assert db_session.query(BlogPage).filter_by(title="Mine").count() == 0


def test_users_admin_creates_resets_and_deactivates(client, auth, users, db_session):
    auth.login("admin@ally.example")
    created = client.post(
        "/admin/users/add/",
        data={
            "email": "New@Ally.example",
            "name": "New",
            "role": "author",
            "password": "long-enough-1",
        },
    )
    assert created.status_code == 303
    new = db_session.query(User).filter_by(email="new@ally.example").one()
    assert new.role == "author" and new.check_password("long-enough-1")
    client.post(
        f"/admin/users/{new.id}/",
        data={"name": "New", "role": "editor", "password": "another-pass-2"},
    )
    db_session.refresh(new)
    assert new.role == "editor" and new.check_password("another-pass-2") and new.is_active is False
    duplicate = client.post(
        "/admin/users/add/",
        data={"email": "new@ally.example", "role": "author", "password": "long-enough-1"},
    )
    assert duplicate.status_code == 400 and "already exists" in duplicate.get_data(as_text=True)


def test_admin_cannot_lock_themselves_out(client, auth, users, db_session):
    auth.login("admin@ally.example")
    me = users["admin"]
    response = client.post(
        f"/admin/users/{me.id}/", data={"name": "", "role": "author", "is_active": "y"}
    )
    assert response.status_code == 400
    db_session.refresh(me)
    assert me.role == "admin"


def test_categories_listed(client, auth, world, db_session):
    auth.login("editor@ally.example")
    assert "Health Management" in client.get("/admin/categories/").get_data(as_text=True)
    assert db_session.get(Category, world["category"]) is not None
