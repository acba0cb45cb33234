"""Tree operations, called directly (no HTTP): paths, type rules, redirects, publishing."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from ally import tree
from ally.models import BlogIndexPage
from ally.models import BlogPage
from ally.models import HomePage
from ally.models import Page
from ally.models import PageRevision
from ally.models import PromoPage
from ally.models import Redirect
from ally.models import StandardPage
from ally.models import utcnow

from .factories import make_page
from .factories import make_post


def paths(db_session) -> dict[str, int]:
    return {p.url_path: p.depth for p in db_session.scalars(sa.select(Page))}


def test_add_child_sets_path_depth_and_position(site, db_session):
    first = make_post(site.blog, title="First post")
    second = make_post(site.blog, title="Second post")
    assert (first.url_path, first.depth) == ("/blog/first-post/", 3)
    assert second.position == first.position + 1
    assert site.home.url_path == "/" and site.home.depth == 1


def test_slug_dedupe_among_siblings_only(site, db_session):
    a = make_post(site.blog, title="Sleep well")
    b = make_post(site.blog, title="Sleep well")
    c = make_post(site.blog, title="Sleep well")
    about = make_page(site.home, StandardPage, title="Sleep well")
    assert [a.slug, b.slug, c.slug] == ["sleep-well", "sleep-well-2", "sleep-well-3"]
    assert about.url_path == "/sleep-well/"


@pytest.mark.parametrize(
    ("parent_attr", "page_type"),
    [("home", BlogPage), ("blog", StandardPage), ("blog", BlogIndexPage), ("blog", PromoPage)],
)
def test_type_rules_refuse_wrong_parent(site, db_session, parent_attr, page_type):
    with pytest.raises(tree.TreeError, match="cannot be created"):
        tree.add_child(getattr(site, parent_attr), page_type(title="x"))


def test_home_page_max_count_and_root_rules(site, db_session):
    with pytest.raises(tree.TreeError):
        tree.add_child(None, HomePage(title="Second home"))
    with pytest.raises(tree.TreeError):
        tree.add_child(None, StandardPage(title="Orphan"))


@pytest.mark.parametrize(
    "slug", ["Bad Slug", "UPPER", "a_b", "-lead", "trail-", "a--b", "x" * 81, "é"]
)
def test_invalid_slugs_refused(site, db_session, slug):
    with pytest.raises(tree.TreeError):
        tree.add_child(site.blog, BlogPage(title="x", slug=slug))


def test_change_slug_rewrites_descendants_in_one_update_and_redirects(
    site, db_session, client, count_queries
):
    posts = [make_post(site.blog, title=f"Post {i}") for i in range(3)]
    db_session.commit()
    with count_queries() as counter:
        tree.change_slug(site.blog, "journal")
    updates = [s for s in counter.statements if s.lstrip().upper().startswith("UPDATE PAGES")]
    assert len(updates) <= 2  # the slug itself, then one UPDATE for the whole subtree
    db_session.commit()
    assert {p.url_path for p in posts} == {f"/journal/post-{i}/" for i in range(3)}
    # Old URLs answer 301 to the new ones, for the page and everything below it.
    response = client.get("/blog/post-1/")
    assert response.status_code == 301 and response.location == "/journal/post-1/"
    assert client.get("/blog/").location == "/journal/"
    assert client.get("/journal/post-1/").status_code == 200


def test_move_rewrites_descendant_paths_and_depths(site, db_session, client):
    section = make_page(site.home, StandardPage, title="Learn")
    nested = make_page(section, StandardPage, title="Sleep")
    leaf = make_page(nested, PromoPage, title="Melatonin")
    other = make_page(site.home, StandardPage, title="Shop")
    db_session.commit()
    tree.move_page(nested, other)
    db_session.commit()
    assert (nested.url_path, nested.depth) == ("/shop/sleep/", 3)
    assert (leaf.url_path, leaf.depth) == ("/shop/sleep/melatonin/", 4)
    assert paths(db_session)["/learn/"] == 2
    assert client.get("/learn/sleep/melatonin/").location == "/shop/sleep/melatonin/"
    # Moving again: the first redirect follows the page.
    tree.move_page(nested, section)
    db_session.commit()
    assert client.get("/shop/sleep/melatonin/").location == "/learn/sleep/melatonin/"
    assert client.get("/learn/sleep/melatonin/").status_code == 200


def test_move_refuses_cycles_wrong_types_and_slug_clash(site, db_session):
    section = make_page(site.home, StandardPage, title="Learn")
    child = make_page(section, StandardPage, title="Child")
    with pytest.raises(tree.TreeError, match="under itself"):
        tree.move_page(section, child)
    with pytest.raises(tree.TreeError):
        tree.move_page(section, site.blog)  # a standard page cannot live under the blog index
    make_page(site.home, StandardPage, title="Child")
    with pytest.raises(tree.TreeError, match="already has a child"):
        tree.move_page(child, site.home)
    with pytest.raises(tree.TreeError):
        tree.move_page(site.home, section)


def test_never_published_page_gets_no_redirect(site, db_session):
    draft = make_post(site.blog, title="Draft", live=False)
    tree.change_slug(draft, "renamed")
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Redirect)) == 0


def test_delete_removes_subtree(site, db_session):
    section = make_page(site.home, StandardPage, title="Learn")
    make_page(section, StandardPage, title="Child")
    assert tree.delete_page(section) == 2
    assert "/learn/child/" not in paths(db_session)
    with pytest.raises(tree.TreeError):
        tree.delete_page(site.home)


# -- revisions and publishing --


def test_draft_of_live_page_does_not_change_what_readers_see(site, db_session, client):
    post = make_post(site.blog, title="Melatonin", intro="Old intro")
    db_session.commit()
    content = {**post.to_snapshot(), "intro": "New intro", "title": "Melatonin, revised"}
    revision = tree.save_revision(post, content=content)
    db_session.commit()
    assert post.has_unpublished_changes and post.intro == "Old intro"
    assert b"Old intro" in client.get("/blog/").data
    tree.publish(revision)
    db_session.commit()
    assert not post.has_unpublished_changes
    assert post.live_revision_id == revision.id
    assert b"Melatonin, revised" in client.get("/blog/melatonin/").data


def test_publish_with_changed_slug_moves_the_page(site, db_session, client):
    post = make_post(site.blog, title="Sleep")
    revision = tree.save_revision(post, content={**post.to_snapshot(), "slug": "sleep-better"})
    tree.publish(revision)
    db_session.commit()
    assert post.url_path == "/blog/sleep-better/"
    assert client.get("/blog/sleep/").location == "/blog/sleep-better/"


def test_unpublish_hides_and_keeps_content(site, db_session, client):
    post = make_post(site.blog, title="Gone")
    db_session.commit()
    tree.unpublish(post)
    db_session.commit()
    assert client.get("/blog/gone/").status_code == 404
    assert post.title == "Gone" and post.status == "draft"


def test_scheduled_first_publication_appears_on_time(site, db_session):
    post = make_post(site.blog, title="Soon", live=False)
    later = utcnow() + timedelta(hours=1)
    revision = tree.save_revision(
        post, content={**post.to_snapshot(), "go_live_at": later.isoformat()}
    )
    tree.publish(revision)
    db_session.commit()
    assert post.status == "scheduled"
    assert not post.is_public() and post.is_public(later + timedelta(seconds=1))


def test_scheduled_revision_of_live_page_waits_for_publish_scheduled(site, db_session):
    post = make_post(site.blog, title="Live", intro="Current")
    later = utcnow() + timedelta(hours=1)
    content = {**post.to_snapshot(), "intro": "Future", "go_live_at": later.isoformat()}
    revision = tree.save_revision(post, content=content)
    tree.publish(revision)
    assert post.intro == "Current" and revision.approved_go_live_at == later
    assert tree.publish_scheduled(utcnow()) == (0, 0)
    assert tree.publish_scheduled(later + timedelta(minutes=1)) == (1, 0)
    assert post.intro == "Future"
    assert db_session.get(PageRevision, revision.id).approved_go_live_at is None


def test_publish_scheduled_unpublishes_expired(site, db_session):
    soon = utcnow() + timedelta(minutes=5)
    post = make_post(site.blog, title="Short lived", expire_at=soon)
    assert post.is_public()
    assert not post.is_public(soon)
    assert tree.publish_scheduled(soon + timedelta(seconds=1)) == (0, 1)
    assert (post.live, post.expired, post.status) == (False, True, "expired")


def test_timestamps_are_utc_aware(site, db_session):
    post = make_post(site.blog, title="Stamped")
    db_session.commit()
    db_session.expire_all()
    assert post.created_at.utcoffset() == timedelta(0)
    assert post.first_published_at.utcoffset() == timedelta(0)


def test_rewrite_url_paths_is_one_statement(site, db_session, count_queries):
    for i in range(20):
        make_post(site.blog, title=f"P{i}")
    with count_queries() as counter:
        changed = tree.rewrite_url_paths("/blog/", "/news/")
    assert changed == 21 and counter.count == 1
