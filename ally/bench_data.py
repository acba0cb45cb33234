"""Bulk content for benchmarks: ``flask seed-bench --posts N`` adds realistic posts fast.

Posts copy the seed post's blocks (headings, paragraphs, the bulleted list, a product
promo), so a benchmark renders what readers get. Rows are inserted in batches with their
paths computed directly; it is a loader for an empty blog, not an editing path.
"""

import uuid
from datetime import date
from datetime import timedelta

import sqlalchemy as sa

from ally import cache as page_cache
from ally import demo
from ally.extensions import db
from ally.models import BlogPage
from ally.models import Category
from ally.models import Page
from ally.models import Product
from ally.models import post_categories
from ally.models import references
from ally.models import utcnow

BATCH = 2000


def seed_posts(total: int) -> int:
    """Make the blog hold at least ``total`` bench posts; returns how many were added."""
    blog = db.session.scalar(sa.select(Page).where(Page.url_path == "/blog/"))
    if blog is None:
        raise RuntimeError("Run seed-demo first: bench posts go under /blog/.")
    existing = db.session.scalar(
        sa.select(sa.func.count()).where(Page.url_path.startswith("/blog/bench-post-"))
    )
    products = {p.slug: p.id for p in db.session.scalars(sa.select(Product))}
    categories = list(db.session.scalars(sa.select(Category.id).order_by(Category.id)))
    body = _body(products)
    searchable = _searchable(body)
    now = utcnow()
    for start in range(existing, total, BATCH):
        numbers = range(start, min(start + BATCH, total))
        rows = [_row(blog, n, body, searchable, now) for n in numbers]
        ids = db.session.execute(sa.insert(Page).returning(Page.id), rows).scalars().all()
        links = [
            {"page_id": pid, "category_id": categories[i % len(categories)]}
            for i, pid in enumerate(ids)
        ]
        links += [
            {"page_id": pid, "category_id": categories[-1]}
            for pid in ids[::2]
            if categories[-1] != categories[0]
        ]
        db.session.execute(sa.insert(post_categories), _unique(links))
        # Bulk inserts bypass the flush that records what bodies promote.
        references.record(db.session.connection(), {pid: body for pid in ids})
        # Bulk inserts bypass the session's purge tracking: say what they add to.
        page_cache.purge_on_commit(db.session, "pages", "posts", f"children:{blog.id}")
        db.session.commit()
    return max(0, total - existing)


def _row(blog: Page, n: int, body: list, searchable: str, now) -> dict:
    slug = f"bench-post-{n}"
    title = f"Recovery notes {n}: sleep, gut health and steady routines"
    return {
        "page_type": BlogPage.api_type,
        "parent_id": blog.id,
        "position": 1000 + n,
        "depth": blog.depth + 1,
        "slug": slug,
        "title": title,
        "url_path": f"{blog.url_path}{slug}/",
        "intro": demo.PAGES[2]["intro"],
        "body_json": [{**block, "id": str(uuid.uuid4())} for block in body],
        "search_text": f"{title.lower()} {searchable}",
        "live": True,
        "first_published_at": now,
        "last_published_at": now,
        "date": date(2020, 1, 1) + timedelta(days=n % 2000),
        "seo_title": "",
        "search_description": "",
        "show_in_menus": False,
        "has_unpublished_changes": False,
        "expired": False,
        "created_at": now,
        "updated_at": now,
    }


def _body(products: dict[str, int]) -> list:
    resolved = demo.site_document(products)["pages"][2]["body"]
    return [{"type": b["type"], "value": b["value"]} for b in resolved]


def _searchable(body: list) -> str:
    """The search text of a bench post after its title, as a saved post holds it: its
    intro and its body's words (the same for every post, so built once)."""
    page = BlogPage(title="", intro=demo.PAGES[2]["intro"], search_description="", body_json=body)
    return page.build_search_text()


def _unique(links: list[dict]) -> list[dict]:
    seen = {(link["page_id"], link["category_id"]): link for link in links}
    return list(seen.values())
