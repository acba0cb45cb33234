"""The benchmark's yardsticks are fair ones: the ceiling serves ALLY's post page from memory,
the floor the same page from one PostgreSQL read."""

import re

import pytest

from bench import ceiling
from bench import floor

from .test_site import SEED_POST


def outline(html: str) -> list[str]:
    """Headings, forms and links, in order: the page's structure without its values."""
    return re.findall(r"<(h[1-3]|form|a|li|meta|aside)\b", html)


def test_the_ceiling_serves_allys_post_page_markup_for_markup(client, demo_site):
    ally = client.get(SEED_POST).get_data(as_text=True)
    bare = ceiling.app.test_client().get("/post/").get_data(as_text=True)
    assert 0.9 < len(bare.encode()) / len(ally.encode()) < 1.1, (len(bare), len(ally))
    assert outline(bare) == outline(ally) and len(outline(ally)) > 40, len(outline(ally))


def test_the_floor_serves_the_same_page_from_one_postgresql_read(
    app, runner, demo_site, db_session, monkeypatch
):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if not url.startswith("postgresql"):
        pytest.skip("the floor reads through psycopg: PostgreSQL only (.ci/run)")
    assert runner.invoke(args=["seed-bench", "--posts", "8"]).exit_code == 0
    db_session.commit()
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setattr(floor, "_worker", {})
    bare = ceiling.app.test_client().get("/post/").get_data(as_text=True)
    response = floor.app.test_client().get("/post/")
    assert response.status_code == 200 and outline(response.get_data(as_text=True)) == outline(bare)
    assert "Recovery notes 7" in response.get_data(as_text=True)  # the row's title, not memory's
    floor._worker["connection"].close()
