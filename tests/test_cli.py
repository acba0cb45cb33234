"""Command-line tools: users, scheduled publishing, and export/import of pages."""

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from ally import tree
from ally.models import Category
from ally.models import Page
from ally.models import Product
from ally.models import Redirect
from ally.models import User
from ally.models import utcnow

from .factories import make_post


def run(runner, *args, **kwargs):
    return runner.invoke(args=list(args), **kwargs)


def test_seed_demo_creates_admin_once_and_prints_credentials(runner, db_session):
    first = run(runner, "seed-demo")
    assert first.exit_code == 0
    assert "Demo admin created: admin@ally.example / " in first.output
    password = first.output.rsplit(" / ", 1)[1].strip()
    admin = db_session.scalar(sa.select(User))
    assert admin.role == "admin" and admin.check_password(password)
    second = run(runner, "seed-demo")
    assert "Demo admin" not in second.output
    assert db_session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_create_user_with_password_and_prompt(runner, db_session):
    result = run(
        runner,
        "create-user",
        "Editor@Ally.Example",
        "--role",
        "editor",
        "--password",
        "s3cret-pass",
    )
    assert result.exit_code == 0, result.output
    user = db_session.scalar(sa.select(User).where(User.email == "editor@ally.example"))
    assert user.role == "editor" and user.check_password("s3cret-pass")
    assert user.password_hash != "s3cret-pass"
    prompted = run(runner, "create-user", "author@ally.example", input="long-enough\nlong-enough\n")
    assert prompted.exit_code == 0, prompted.output
    assert (
        db_session.scalar(sa.select(User.role).where(User.email == "author@ally.example"))
        == "author"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nobody", "--password", "long-enough"], "enter an e-mail address"),
        (["a@b.example", "--password", "short"], "at least 8 characters"),
        (["a@b.example", "--role", "owner", "--password", "long-enough"], "Invalid value"),
    ],
)
def test_create_user_refuses_bad_input(runner, db_session, args, message):
    result = run(runner, "create-user", *args)
    assert result.exit_code != 0 and message in result.output
    assert db_session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_create_user_refuses_duplicate(runner, db_session):
    run(runner, "create-user", "a@b.example", "--password", "long-enough")
    result = run(runner, "create-user", "A@B.example", "--password", "long-enough")
    assert result.exit_code == 1 and "already exists" in result.output


def test_publish_scheduled_command(runner, site, db_session, client):
    soon = utcnow() + timedelta(seconds=1)
    post = make_post(site.blog, title="Live")
    revision = tree.save_revision(
        post, content={**post.to_snapshot(), "title": "New title", "go_live_at": soon.isoformat()}
    )
    tree.publish(revision)
    db_session.commit()
    assert run(runner, "publish-scheduled").output.startswith("Published 0")
    # Time passes: the scheduled moment is now in the past.
    past = utcnow() - timedelta(seconds=1)
    revision.content = {**revision.content, "go_live_at": past.isoformat()}
    revision.approved_go_live_at = past
    db_session.commit()
    result = run(runner, "publish-scheduled")
    assert "Published 1, unpublished 0" in result.output
    assert b"New title" in client.get("/blog/live/").data


# -- export / import -----------------------------------------------------------------------


def without_ids(block: dict) -> tuple:
    """A block without its product id (ids differ between databases; names are compared)."""
    value = block["value"]
    if block["type"] == "product_promo":
        value = {**value, "product": None}
    return block["type"], value


def site_state(db_session) -> list[tuple]:
    pages = db_session.scalars(sa.select(Page).order_by(Page.url_path)).all()
    return [
        (
            p.url_path,
            p.api_type,
            p.title,
            p.live,
            p.intro,
            [without_ids(b) for b in p.body_json] if p.body_block else None,
            [c.slug for c in p.categories] if hasattr(p, "categories") else None,
            p.date,
        )
        for p in pages
    ]


def product_names_in_bodies(db_session) -> set[str]:
    names = set()
    for page in db_session.scalars(sa.select(Page)):
        for block in page.body_json or []:
            if block["type"] == "product_promo":
                names.add(db_session.get(Product, block["value"]["product"]).name)
    return names


def wipe(db_session):
    for model in (Redirect, Page, Product, Category):
        db_session.execute(sa.delete(model))
    db_session.commit()


def test_export_then_import_into_empty_database_gives_the_same_site(
    runner, demo_site, db_session, tmp_path
):
    out = tmp_path / "pages.json"
    assert run(runner, "export-pages", "--out", str(out)).exit_code == 0
    before, promos = site_state(db_session), product_names_in_bodies(db_session)
    document = json.loads(out.read_text())
    assert document["pages"][0]["type"] == "home.HomePage"
    assert {p["type"] for p in document["pages"]} == set(Page.types)
    wipe(db_session)
    # Products come back with new ids; promo blocks must follow them.
    db_session.add(Product(name="Unrelated", slug="unrelated", price_cents=1))
    db_session.commit()
    result = run(runner, "import-pages", str(out))
    assert result.exit_code == 0, result.output
    assert "Imported 8 page(s)" in result.output
    db_session.expire_all()
    assert site_state(db_session) == before
    assert product_names_in_bodies(db_session) == promos


def test_export_to_stdout_is_json(runner, demo_site):
    result = runner.invoke(args=["export-pages"])
    assert json.loads(result.stdout)["pages"][1]["parent"] == "/"


BAD_PAGES = [
    (
        {"type": "blog.BlogPage", "parent": "/blog/", "title": "", "date": "2024-01-01"},
        "title: This field is required",
    ),
    (
        {"type": "blog.BlogPage", "parent": "/blog/", "title": "X", "date": "12/08/2024"},
        "is not a date",
    ),
    (
        {
            "type": "blog.BlogPage",
            "parent": "/blog/",
            "title": "X",
            "date": "2024-01-01",
            "categories": ["nope"],
        },
        "Unknown categories: nope",
    ),
    (
        {"type": "blog.BlogPage", "parent": "/nowhere/", "title": "X", "date": "2024-01-01"},
        "parent '/nowhere/' does not exist",
    ),
    (
        {"type": "blog.BlogPage", "parent": "/", "title": "X", "date": "2024-01-01"},
        "cannot be created",
    ),
    ({"type": "blog.Nope", "parent": "/blog/", "title": "X"}, "unknown page type 'blog.Nope'"),
    (
        {
            "type": "blog.BlogPage",
            "parent": "/blog/",
            "title": "X",
            "date": "2024-01-01",
            "slug": "Bad Slug",
        },
        "slug:",
    ),
    (
        {
            "type": "blog.BlogPage",
            "parent": "/blog/",
            "title": "X",
            "date": "2024-01-01",
            "body": [{"type": "paragraph", "value": ""}],
        },
        "body.0: This field is required",
    ),
    (
        {
            "type": "blog.BlogPage",
            "parent": "/blog/",
            "title": "X",
            "date": "2024-01-01",
            "body": [
                {"type": "call_to_action", "value": {"text": "Go", "url": "javascript:alert(1)"}}
            ],
        },
        "body.0.url",
    ),
    (
        {
            "type": "blog.BlogPage",
            "parent": "/blog/",
            "title": "X",
            "date": "2024-01-01",
            "body": "not a list",
        },
        "body: The body must be a list",
    ),
    (
        {
            "type": "blog.BlogPage",
            "parent": "/blog/",
            "title": "X",
            "date": "2024-01-01",
            "go_live_at": "2024-01-01T10:00:00",
        },
        "Include a time zone",
    ),
    ("just a string", "expected an object"),
]


@pytest.mark.parametrize(("bad", "message"), BAD_PAGES)
def test_import_with_one_bad_page_names_it_and_imports_nothing(
    runner, site, db_session, tmp_path, bad, message
):
    good = {
        "type": "blog.BlogPage",
        "parent": "/blog/",
        "title": "Good post",
        "slug": "good",
        "date": "2024-08-12",
        "live": True,
        "categories": ["recovery"],
        "body": [{"type": "paragraph", "value": "<b>ok</b>"}],
    }
    before = site_state(db_session)
    path = tmp_path / "pages.json"
    path.write_text(json.dumps([good, good | {"slug": "good-two"}, bad]))
    result = run(runner, "import-pages", str(path))
    assert result.exit_code == 1
    assert "page 3" in result.output and message in result.output, result.output
    assert "Nothing was imported" in result.output
    db_session.expire_all()
    assert site_state(db_session) == before


def test_import_sanitises_rich_text(runner, site, db_session, tmp_path, client):
    page = {
        "type": "blog.BlogPage",
        "parent": "/blog/",
        "title": "Clean",
        "date": "2024-08-12",
        "live": True,
        "body": [{"type": "paragraph", "value": '<b onclick="x()">hi</b><script>bad()</script>'}],
    }
    path = tmp_path / "pages.json"
    path.write_text(json.dumps({"pages": [page]}))
    assert run(runner, "import-pages", str(path)).exit_code == 0
    body = client.get("/blog/clean/").get_data(as_text=True)
    assert "<b>hi</b>bad()" in body and "onclick" not in body and "<script>bad" not in body


@pytest.mark.parametrize("content", [b"{not json", b"\xff\xfe", b'{"pages": 5}', b"42"])
def test_import_refuses_malformed_files(runner, site, db_session, tmp_path, content):
    path = tmp_path / "pages.json"
    path.write_bytes(content)
    result = run(runner, "import-pages", str(path))
    assert result.exit_code != 0
    assert "Error" in result.output
