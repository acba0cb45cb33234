"""Search over pages, on the site and in the API: what matches, on both databases, and on
PostgreSQL that it reads the index however common the word."""

import pytest
import sqlalchemy as sa

from ally import tree
from ally.extensions import db
from ally.models import Page
from ally.models.search import through_index

from .factories import make_post


def paragraph(text: str) -> list[dict]:
    return [{"type": "paragraph", "value": f"<p>{text}</p>"}]


def titles(response) -> list[str]:
    return [item["title"] for item in response.json["items"]]


def found(client, q: str) -> str:
    response = client.get("/search/", query_string={"q": q})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def api_search(client, search: str, **args) -> list[str]:
    query = {"search": search, "fields": "title", "order": "title", **args}
    response = client.get("/api/v2/pages/", query_string=query)
    assert response.status_code == 200, response.json
    return titles(response)


@pytest.fixture
def posts(site, db_session):
    make_post(site.blog, title="Melatonin basics", body=paragraph("Sleep and magnesium."))
    make_post(site.blog, title="Gut health", body=paragraph("Fermented kimchi and magnesium."))
    make_post(site.blog, title="Hidden draft", body=paragraph("Magnesium kimchi."), live=False)
    db_session.commit()


def test_every_word_must_match_and_drafts_never_show(client, posts):
    both = found(client, "magnesium")
    assert "Melatonin basics" in both and "Gut health" in both and "Hidden draft" not in both
    one = found(client, "kimchi magnesium")
    assert "Gut health" in one and "Melatonin basics" not in one and "Hidden draft" not in one
    assert "Nothing matched" in found(client, "kimchi sleep")


def test_api_search_and_or(client, posts):
    assert api_search(client, "magnesium") == ["Gut health", "Melatonin basics"]
    assert api_search(client, "kimchi sleep") == []
    assert api_search(client, "kimchi sleep", search_operator="or") == [
        "Gut health",
        "Melatonin basics",
    ]
    # Two searches of one shape (the compiled statement is reused) bind their own words.
    assert api_search(client, "sleep") == ["Melatonin basics"]
    assert api_search(client, "kimchi") == ["Gut health"]


def test_an_edit_changes_what_a_page_is_found_by(client, site, db_session):
    post = make_post(site.blog, title="Routines", body=paragraph("Walking every morning."))
    db_session.commit()
    assert "Routines" in found(client, "walking")
    post.set_body(paragraph("Swimming every evening."))
    tree.publish(tree.save_revision(post))
    db_session.commit()
    assert "Routines" in found(client, "swimming")
    assert "Nothing matched" in found(client, "walking")


@pytest.mark.parametrize(
    "q", ["'", "\\", "a:*", "&|!", "(", "<->", "''b''", "%_", "the", "\u00e9t\u00e9", "-"]
)
def test_no_query_is_an_error(client, posts, q):
    assert "Search" in found(client, q)
    api_search(client, q)
    api_search(client, q, search_operator="or")


@pytest.mark.parametrize("search", ["", "   "])
def test_a_search_without_words_is_the_plain_listing(
    app, client, posts, count_queries, search, monkeypatch
):
    """No words (empty or blank) filters nothing and costs what the
    listing costs: no planner settings changed around it."""
    monkeypatch.setitem(app.config, "ALLY_CACHE_ENABLED", False)
    url, args = "/api/v2/pages/", {"fields": "title", "order": "title"}
    plain = client.get(url, query_string=args).json  # the count is shared from here on
    with count_queries() as counter:
        searched = client.get(url, query_string={**args, "search": search}).json
    with count_queries() as listing:
        client.get(url, query_string=args)
    assert searched["items"] == plain["items"]
    assert counter.count == listing.count, counter.statements


def postgresql_only():
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the search index is PostgreSQL's")


def test_postgresql_matches_words_as_written_or_inflected(client, site, db_session):
    postgresql_only()
    make_post(site.blog, title="Stacks", body=paragraph("Which supplement helps recovery?"))
    db_session.commit()
    assert "Stacks" in found(client, "supplements")
    assert "Stacks" in found(client, "Helping")
    # Only stop words: nothing to look for, so nothing found (and no error).
    assert "Nothing matched" in found(client, "which the")


def setting(name: str) -> str:
    return db.session.execute(sa.text(f"SHOW {name}")).scalar_one()


def test_postgresql_reads_the_index_even_for_a_word_every_page_holds(site, db_session, explain):
    """However the planner misjudges a word's frequency, a search neither scans the table
    nor walks an ordering index testing every row; the settings are put back after."""
    postgresql_only()
    for number in range(30):
        make_post(site.blog, title=f"Sleep {number}", body=paragraph("Sleep matters."))
    db_session.commit()
    db_session.execute(sa.text("ANALYZE pages"))
    by_path = sa.select(Page.id).where(Page.matching(["sleep"])).order_by(Page.url_path)
    with through_index(db_session):
        plan = explain(by_path, as_is=True)  # left to the planner but for through_index
        assert "ix_pages_search" in plan and "Seq Scan" not in plan
    assert (setting("enable_seqscan"), setting("enable_indexscan")) == ("on", "on")
    with pytest.raises(RuntimeError), through_index(db_session):
        raise RuntimeError("a search that fails")
    assert (setting("enable_seqscan"), setting("enable_indexscan")) == ("on", "on")
    db_session.rollback()


def test_the_migrations_build_what_the_models_map(app, db_session):
    """Autogenerate finds nothing to change: the models and the migrations agree, and the
    search vector the ORM does not map is left alone (``migrations/env.py``)."""
    result = app.test_cli_runner().invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output
