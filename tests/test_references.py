"""The products page bodies promote, recorded as the bodies are written (``page_products``),
which a page's read looks up by the page's key instead of parsing its body each time."""

import sqlalchemy as sa
from flask_migrate import downgrade
from flask_migrate import upgrade

from ally import tree
from ally.extensions import db
from ally.models import Page
from ally.models import page_products
from ally.models.page_types import page_columns

from .factories import make_post
from .factories import make_product

BEFORE_THE_RECORD = "6207ce642c5c"  # the migration before page_products


def promo(product_id: int) -> dict:
    return {"type": "product_promo", "value": {"product": product_id, "headline": "Try it"}}


def recorded(page_id: int) -> list[int]:
    column = page_products.c.product_id
    statement = sa.select(column).where(page_products.c.page_id == page_id).order_by(column)
    return list(db.session.scalars(statement))


def test_saving_and_publishing_a_body_records_what_it_promotes(site, db_session):
    """Each product once, whatever blocks surround it; a live page's draft leaves the record
    as readers see the page, and publishing the draft replaces it."""
    a, b, c = make_product("Melatonin"), make_product("Probiotic"), make_product("Omega")
    paragraph = {"type": "paragraph", "value": "<p>Sleep well.</p>"}
    post = make_post(site.blog, body=[promo(a.id), paragraph, promo(b.id), promo(a.id)])
    db_session.commit()
    assert recorded(post.id) == [a.id, b.id]

    draft = tree.save_revision(post, content={**post.to_snapshot(), "body": [promo(c.id)]})
    db_session.commit()
    assert recorded(post.id) == [a.id, b.id]

    tree.publish(draft)
    db_session.commit()
    assert recorded(post.id) == [c.id]

    post.set_body([paragraph])
    db_session.commit()
    assert recorded(post.id) == []


def test_the_record_goes_with_its_product_and_its_page(site, db_session):
    a, b = make_product("Melatonin"), make_product("Probiotic")
    post = make_post(site.blog, body=[promo(a.id), promo(b.id)])
    db_session.commit()
    db_session.delete(a)
    db_session.commit()
    assert recorded(post.id) == [b.id]
    post_id = post.id
    tree.delete_page(post)
    db_session.commit()
    assert recorded(post_id) == []


def test_a_body_naming_a_product_that_is_gone_saves_and_records_the_rest(site, db_session):
    product = make_product("Melatonin")
    post = make_post(site.blog, body=[promo(999_999), promo(product.id)])
    db_session.commit()
    assert recorded(post.id) == [product.id]


def test_a_body_written_around_the_orm_still_shows_its_own_products(
    app, client, site, db_session, monkeypatch
):
    """A stale record costs the page a query, never the wrong products."""
    monkeypatch.setitem(app.config, "ALLY_CACHE_ENABLED", False)
    old, new = make_product("Melatonin Gummies"), make_product("Probiotic Capsules")
    post = make_post(site.blog, body=[promo(old.id)])
    db_session.commit()
    db_session.execute(sa.update(Page).where(Page.id == post.id).values(body_json=[promo(new.id)]))
    db_session.commit()
    assert recorded(post.id) == [old.id]
    page = client.get(post.url_path).text
    assert "Probiotic Capsules" in page and "Melatonin Gummies" not in page


def test_rebuilding_the_record_catches_up_with_bodies_written_around_the_orm(
    runner, site, db_session
):
    old, new = make_product("Melatonin"), make_product("Probiotic")
    posts = [make_post(site.blog, body=[promo(old.id)]) for _ in range(3)]
    db_session.commit()
    ids = [post.id for post in posts]
    db_session.execute(
        sa.update(Page).where(Page.id.in_(ids[1:])).values(body_json=[promo(new.id)])
    )
    db_session.commit()
    result = runner.invoke(args=["rebuild-references"])
    assert result.exit_code == 0, result.output
    assert "Recorded the products of 5 page(s)." in result.output  # home, blog, 3 posts
    assert [recorded(pk) for pk in ids] == [[old.id], [new.id], [new.id]]


def test_a_pages_read_finds_its_products_by_its_key_not_its_body(app, db_session):
    sql = str(sa.select(*page_columns()).compile(dialect=db.engine.dialect))
    assert "page_products.page_id = pages.id" in sql
    assert "json_array_elements" not in sql and "json_each" not in sql


def test_the_migration_fills_the_record_from_the_stored_bodies(app, site, db_session):
    """What bodies saved before the record existed promote, as the read used to find it:
    whole integer ids of products the database holds, each once."""
    a, b = make_product("Melatonin"), make_product("Probiotic")
    junk = [
        "text",
        {"type": "product_promo", "value": "x"},
        {"type": "product_promo", "value": {"product": str(b.id)}},
        {"type": "product_promo", "value": {"product": b.id + 0.5}},
        {"type": "paragraph", "value": {"product": b.id}},
        promo(-3),
        promo(999_999),
    ]
    post = make_post(site.blog, body=[promo(a.id), *junk, promo(a.id)])
    other = make_post(site.blog, body=[promo(b.id)])
    db_session.commit()
    ids = a.id, b.id, post.id, other.id
    db_session.close()  # its connection's locks would hold the migration up
    downgrade(revision=BEFORE_THE_RECORD)
    upgrade()
    a_id, b_id, post_id, other_id = ids
    assert recorded(post_id) == [a_id]
    assert recorded(other_id) == [b_id]
