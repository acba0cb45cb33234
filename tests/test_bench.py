"""The benchmark's ceiling is a fair one: the page it serves from memory is ALLY's post page."""

import re

from bench import ceiling

from .test_site import SEED_POST


def outline(html: str) -> list[str]:
    """Headings, forms and links, in order: the page's structure without its values."""
    return re.findall(r"<(h[1-3]|form|a|li|meta|aside)\b", html)


def test_the_ceiling_serves_allys_post_page_markup_for_markup(client, demo_site):
    ally = client.get(SEED_POST).get_data(as_text=True)
    bare = ceiling.app.test_client().get("/post/").get_data(as_text=True)
    assert 0.9 < len(bare.encode()) / len(ally.encode()) < 1.1, (len(bare), len(ally))
    assert outline(bare) == outline(ally) and len(outline(ally)) > 40, len(outline(ally))
