"""Writing in the admin over HTTP: drafts, publishing, scheduling, conflicts, validation,
revisions, preview, and the tree operations behind the explorer."""

import json
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from ally.admin.editor import to_local_input
from ally.models import BlogPage
from ally.models import Page
from ally.models import PageRevision
from ally.models import utcnow

from .factories import make_post
from .factories import make_product

BODY = [
    {"type": "heading", "value": {"text": "Why sleep matters", "level": 2}},
    {
        "type": "paragraph",
        "value": 'Sleep is <b>vital</b>. <a href="https://example.org">Read more</a>',
    },
    {"type": "bulleted_list", "value": ["One", "Two"]},
]


@pytest.fixture
def editor(auth, users, site, db_session):
    auth.login("editor@ally.example")
    return users["editor"]


def post_form(**overrides) -> dict:
    form = {
        "title": "Sleep and recovery",
        "slug": "",
        "date": "2024-08-12",
        "intro": "About sleep",
        "body": json.dumps(BODY),
        "action": "save",
        "base_revision_id": "",
    }
    form.update(overrides)
    return form


def create(client, site, **overrides):
    return client.post(
        f"/admin/pages/{site.blog.id}/add/blog.BlogPage/", data=post_form(**overrides)
    )


def the_post(db_session) -> BlogPage:
    db_session.expire_all()
    return db_session.scalar(sa.select(BlogPage).order_by(BlogPage.id.desc()))


def test_new_post_saved_as_draft_is_not_public(client, editor, site, db_session):
    response = create(client, site, categories=[str(site.recovery.id)])
    assert response.status_code == 303
    post = the_post(db_session)
    assert (post.url_path, post.live, post.owner_id) == (
        "/blog/sleep-and-recovery/",
        False,
        editor.id,
    )
    assert [c.slug for c in post.categories] == ["recovery"]
    link = '<a href="https://example.org" rel="noopener noreferrer">Read more</a>'
    assert post.body_json[1]["value"] == f"Sleep is <b>vital</b>. {link}"
    # The flash shows on the next page, so look at the editor before the public site.
    editor_page = client.get(response.location).get_data(as_text=True)
    assert "Draft of “Sleep and recovery” saved." in editor_page
    assert client.get("/blog/sleep-and-recovery/").status_code == 404


def test_publish_then_draft_then_publish_again(client, editor, site, db_session):
    create(client, site, action="publish")
    post = the_post(db_session)
    assert post.live and client.get("/blog/sleep-and-recovery/").status_code == 200
    edit = f"/admin/pages/{post.id}/edit/"
    client.post(
        edit, data=post_form(title="Sleep, revised", base_revision_id=str(post.latest_revision_id))
    )
    post = the_post(db_session)
    public = client.get("/blog/sleep-and-recovery/").get_data(as_text=True)
    assert "Sleep and recovery" in public and "Sleep, revised" not in public
    assert post.has_unpublished_changes and post.status == "live + draft"
    # The editor opens on the draft, not on what is live.
    assert 'value="Sleep, revised"' in client.get(edit).get_data(as_text=True)
    client.post(
        edit,
        data=post_form(
            title="Sleep, revised", action="publish", base_revision_id=str(post.latest_revision_id)
        ),
    )
    assert "Sleep, revised" in client.get("/blog/sleep-and-recovery/").get_data(as_text=True)


def test_schedule_needs_a_time_and_then_goes_live_on_time(client, editor, site, db_session):
    missing = create(client, site, action="schedule")
    assert missing.status_code == 400 and "Set a go-live time to schedule." in missing.get_data(
        as_text=True
    )
    assert the_post(db_session) is None
    later = utcnow() + timedelta(hours=2)
    create(client, site, action="schedule", go_live_at=to_local_input(later))
    post = the_post(db_session)
    assert post.status == "scheduled"
    assert client.get("/blog/sleep-and-recovery/").status_code == 404
    assert abs((post.go_live_at - later).total_seconds()) < 60
    assert post.is_public(later + timedelta(minutes=1))


def test_schedule_times_are_read_in_the_site_time_zone(
    app, client, editor, site, db_session, monkeypatch
):
    monkeypatch.setitem(app.config, "ALLY_TIME_ZONE", "America/New_York")
    create(client, site, action="schedule", go_live_at="2030-01-15T09:00")
    assert the_post(db_session).go_live_at.isoformat() == "2030-01-15T14:00:00+00:00"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"title": ""}, "title", "This field is required."),
        ({"date": "not-a-date"}, "date", "is not a date"),
        ({"slug": "Bad Slug!"}, "slug", "lower-case letters"),
        ({"go_live_at": "soon"}, "go_live_at", "is not a date and time"),
        ({"categories": ["999999"]}, "categories", "Unknown categories"),
    ],
)
def test_field_errors_keep_everything_typed(
    client, editor, site, db_session, overrides, field, message
):
    response = create(client, site, intro="My carefully typed intro", **overrides)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'id="{field}-error"' in page and message in page
    assert "My carefully typed intro" in page
    assert the_post(db_session) is None


def test_block_errors_are_placed_on_their_block_and_the_body_is_kept(
    client, editor, site, db_session
):
    body = BODY + [
        {"type": "call_to_action", "value": {"text": "Shop", "url": "javascript:alert(1)"}},
        {"type": "paragraph", "value": ""},
    ]
    response = create(client, site, body=json.dumps(body))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    config = json.loads(
        re.search(
            r'<script type="application/json" id="editor-config">(.*?)</script>', page, re.S
        ).group(1)
    )
    assert config["body"] == body  # exactly as posted
    assert set(config["errors"]["blockErrors"]) == {"3", "4"}
    assert "url" in config["errors"]["blockErrors"]["3"]["blockErrors"]


def test_edit_conflict_names_who_saved_and_keeps_the_text(
    client, auth, editor, site, db_session, users
):
    create(client, site)
    post = the_post(db_session)
    opened_at = str(post.latest_revision_id)
    auth.logout()
    auth.login("admin@ally.example")
    client.post(
        f"/admin/pages/{post.id}/edit/",
        data=post_form(title="Admin's title", base_revision_id=opened_at),
    )
    auth.logout()
    auth.login("editor@ally.example")
    response = client.post(
        f"/admin/pages/{post.id}/edit/",
        data=post_form(title="Editor's stale title", base_revision_id=opened_at),
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "admin@ally.example saved this page at" in page
    assert 'value="Editor&#39;s stale title"' in page or "Editor's stale title" in page
    assert the_post(db_session).title == "Admin's title"


def test_revisions_list_compare_and_revert(client, editor, site, db_session):
    create(client, site, action="publish")
    post = the_post(db_session)
    first = post.latest_revision_id
    client.post(
        f"/admin/pages/{post.id}/edit/",
        data=post_form(
            title="Second title",
            base_revision_id=str(first),
            body=json.dumps(BODY[:1] + [{"type": "paragraph", "value": "New words"}]),
        ),
    )
    listing = client.get(f"/admin/pages/{post.id}/revisions/").get_data(as_text=True)
    assert listing.count("<td>editor@ally.example</td>") == 2 and "status-live" in listing
    compare = client.get(f"/admin/pages/{post.id}/revisions/{first}/compare/").get_data(
        as_text=True
    )
    assert "<del>Sleep and recovery</del>" in compare and "<ins>Second title</ins>" in compare
    assert "<ins>[paragraph] New words</ins>" in compare
    response = client.post(f"/admin/pages/{post.id}/revisions/{first}/revert/")
    assert response.status_code == 303
    post = the_post(db_session)
    revisions = db_session.scalars(
        sa.select(PageRevision).where(PageRevision.page_id == post.id).order_by(PageRevision.id)
    ).all()
    assert len(revisions) == 3 and revisions[-1].content["title"] == "Sleep and recovery"
    assert post.has_unpublished_changes  # a revert is a draft until published


def test_preview_renders_the_public_template_without_saving(client, editor, site, db_session):
    create(client, site, action="publish")
    post = the_post(db_session)
    response = client.post(
        f"/admin/pages/{post.id}/preview/", data=post_form(title="Preview title")
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<h1>Preview title</h1>" in page and "Why sleep matters" in page
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow"
    assert response.headers["Cache-Control"] == "no-store"
    assert '<meta name="robots" content="noindex">' in page
    assert the_post(db_session).title == "Sleep and recovery"
    new = client.post(
        f"/admin/pages/{site.blog.id}/add/blog.BlogPage/preview/", data=post_form(title="Brand new")
    )
    assert "<h1>Brand new</h1>" in new.get_data(as_text=True)
    bad = client.post(f"/admin/pages/{post.id}/preview/", data=post_form(title=""))
    assert bad.status_code == 400 and "can&#39;t be previewed" in bad.get_data(
        as_text=True
    ).replace("'", "&#39;")


def test_preview_shows_the_categories_being_chosen(client, editor, site, db_session):
    """A preview shows the draft's categories; the live page keeps its own."""
    create(client, site, action="publish", categories=[str(site.recovery.id)])
    post = the_post(db_session)
    url = post.url_path
    preview = client.post(
        f"/admin/pages/{post.id}/preview/", data=post_form(categories=[str(site.health.id)])
    ).get_data(as_text=True)
    assert "Filed under" in preview and ">Health Management</a>" in preview
    assert ">Recovery</a>" not in preview
    live = client.get(url).get_data(as_text=True)
    assert ">Recovery</a>" in live and ">Health Management</a>" not in live


def test_preview_of_xss_is_inert(client, editor, site, db_session):
    body = [
        {"type": "paragraph", "value": '<img src=x onerror="alert(1)"><script>alert(2)</script>Hi'}
    ]
    page = client.post(
        f"/admin/pages/{site.blog.id}/add/blog.BlogPage/preview/",
        data=post_form(body=json.dumps(body)),
    ).get_data(as_text=True)
    assert "onerror" not in page and "<script>alert(2)" not in page


def test_unpublish(client, editor, site, db_session):
    create(client, site, action="publish")
    post = the_post(db_session)
    client.post(f"/admin/pages/{post.id}/unpublish/")
    assert client.get("/blog/sleep-and-recovery/").status_code == 404
    assert the_post(db_session).status == "draft"


def test_changing_the_slug_in_the_editor_redirects_the_old_address(
    client, editor, site, db_session
):
    create(client, site, action="publish")
    post = the_post(db_session)
    client.post(
        f"/admin/pages/{post.id}/edit/",
        data=post_form(
            slug="sleep-better", action="publish", base_revision_id=str(post.latest_revision_id)
        ),
    )
    assert client.get("/blog/sleep-and-recovery/").location == "/blog/sleep-better/"
    other = make_post(site.blog, title="Taken")
    db_session.commit()
    clash = client.post(
        f"/admin/pages/{other.id}/edit/",
        data=post_form(slug="sleep-better", base_revision_id=str(other.latest_revision_id)),
    )
    assert clash.status_code == 400 and "already uses" in clash.get_data(as_text=True)


def test_promo_page_with_product(client, editor, site, db_session):
    product = make_product("Melatonin", 2499)
    db_session.commit()
    response = client.post(
        f"/admin/pages/{site.home.id}/add/shop.PromoPage/",
        data={"title": "Melatonin", "product": str(product.id), "body": "[]", "action": "publish"},
    )
    assert response.status_code == 303
    assert "$24.99" in client.get("/melatonin/").get_data(as_text=True)


def test_explorer_shows_status_and_children(client, editor, site, db_session):
    make_post(site.blog, title="Live one")
    make_post(site.blog, title="Draft one", live=False)
    db_session.commit()
    page = client.get(f"/admin/pages/{site.blog.id}/").get_data(as_text=True)
    assert "Live one" in page and "Draft one" in page
    assert 'class="status status-live"' in page and 'class="status status-draft"' in page
    assert client.get("/admin/pages/").location == f"/admin/pages/{site.home.id}/"
    # Only allowed types are offered.
    assert client.get(f"/admin/pages/{site.blog.id}/add/").location.endswith("/add/blog.BlogPage/")
    assert client.get(f"/admin/pages/{site.blog.id}/add/pages.StandardPage/").status_code == 404


def test_move_and_delete_from_the_explorer(client, editor, site, db_session):
    from ally.models import BlogIndexPage

    from .factories import make_page

    news = make_page(site.home, BlogIndexPage, title="News")
    post = make_post(site.blog, title="Moving")
    db_session.commit()
    page = client.get(f"/admin/pages/{post.id}/move/").get_data(as_text=True)
    assert "News" in page and f'value="{site.blog.id}"' not in page
    client.post(f"/admin/pages/{post.id}/move/", data={"parent_id": str(news.id)})
    assert client.get("/blog/moving/").location == "/news/moving/"
    confirm = client.get(f"/admin/pages/{news.id}/delete/").get_data(as_text=True)
    assert "<strong>2 pages</strong>" in confirm and "Moving" in confirm
    client.post(f"/admin/pages/{news.id}/delete/")
    db_session.expire_all()
    assert (
        db_session.scalar(
            sa.select(sa.func.count()).select_from(Page).where(Page.title == "Moving")
        )
        == 0
    )


def test_author_edits_own_drafts_only(client, auth, users, site, db_session):
    auth.login("author@ally.example")
    create(client, site)
    mine = the_post(db_session)
    assert mine.owner_id == users["author"].id
    ok = client.post(
        f"/admin/pages/{mine.id}/edit/",
        data=post_form(title="Mine, edited", base_revision_id=str(mine.latest_revision_id)),
    )
    assert ok.status_code == 303
    page = client.get(ok.location).get_data(as_text=True)
    assert ">Publish</button>" not in page and "An editor publishes your drafts." in page
    other = make_post(site.blog, title="Someone else's")
    db_session.commit()
    assert client.get(f"/admin/pages/{other.id}/edit/").status_code == 403


def test_editor_hands_out_a_headless_preview_link(client, editor, site, db_session):
    create(client, site, action="publish")
    post = the_post(db_session)
    client.post(
        f"/admin/pages/{post.id}/edit/",
        data=post_form(title="Unpublished idea", base_revision_id=str(post.latest_revision_id)),
    )
    page = client.get(f"/admin/pages/{post.id}/edit/").get_data(as_text=True)
    link = re.search(r'href="(/api/v2/page_preview/\?[^"]+)"', page).group(1).replace("&amp;", "&")
    assert "content_type=blog.blogpage" in link
    draft = client.get(link)
    assert draft.status_code == 200 and draft.json["title"] == "Unpublished idea"
