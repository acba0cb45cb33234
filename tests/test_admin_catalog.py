"""Images, products, categories and subscribers in the admin."""

import csv
import io
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image as PILImage

from ally.models import Category
from ally.models import Image
from ally.models import Page
from ally.models import Product
from ally.models import Subscriber

from .factories import make_post


@pytest.fixture
def staff(auth, users, site):
    auth.login("editor@ally.example")


def picture(fmt: str = "PNG", size=(1200, 800), color=(40, 90, 80)) -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", size, color).save(buffer, fmt)
    return buffer.getvalue()


def fetch(client, url: str):
    """GET a media file, read whole (buffered: the file handle is closed at once)."""
    response = client.get(url, buffered=True)
    return response.status_code, response.mimetype, response.data


def upload(client, data: bytes, name="moon.png", title="Moon", alt="A full moon"):
    return client.post(
        "/admin/images/",
        data={"file": (io.BytesIO(data), name), "title": title, "alt": alt},
        content_type="multipart/form-data",
    )


# -- images --------------------------------------------------------------------------------


def test_upload_valid_image_and_make_renditions_once(app, client, staff, db_session):
    assert upload(client, picture("JPEG"), "moon.jpg").status_code == 303
    image = db_session.scalar(sa.select(Image))
    assert (image.width, image.height, image.alt) == (1200, 800, "A full moon")
    media = Path(app.config["ALLY_MEDIA_DIR"])
    assert (media / image.filename).is_file() and image.filename.endswith(".jpg")
    url = f"/media/renditions/{image.id}/width-800.webp"
    assert fetch(client, url)[:2] == (200, "image/webp")
    rendition = media / f"renditions/{image.id}/width-800.webp"
    with PILImage.open(rendition) as made:
        assert made.size == (800, 533)
    mtime = rendition.stat().st_mtime_ns
    assert fetch(client, url)[0] == 200
    assert rendition.stat().st_mtime_ns == mtime  # served from disk, not made again
    with PILImage.open(
        io.BytesIO(fetch(client, f"/media/renditions/{image.id}/fill-400x300.jpg")[2])
    ) as fill:
        assert fill.size == (400, 300) and fill.format == "JPEG"


@pytest.mark.parametrize(
    "url_tail",
    ["width-801.webp", "fill-9999x9999.webp", "width-800.gif", "width-800.svg", "../../etc/passwd"],
)
def test_only_known_renditions_exist(client, staff, db_session, url_tail):
    upload(client, picture())
    image = db_session.scalar(sa.select(Image))
    assert fetch(client, f"/media/renditions/{image.id}/{url_tail}")[0] == 404


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (picture()[:200], "broken.png", "not an image Pillow can read"),
        (b"%PDF-1.4 this is a document", "doc.png", "not an image Pillow can read"),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>',
            "x.svg",
            "SVG images are not accepted",
        ),
        (b'<?xml version="1.0"?><svg></svg>', "innocent.png", "SVG images are not accepted"),
        (picture("BMP", size=(80, 60)), "old.bmp", "BMP images are not accepted"),
    ],
)
def test_bad_uploads_are_refused_with_a_reason(client, staff, db_session, data, name, message):
    response = upload(client, data, name)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Image)) == 0


def test_oversized_upload_is_refused(app, client, staff, db_session, monkeypatch):
    # Small sizes keep the test client's upload in memory (big ones spill to temp files).
    monkeypatch.setitem(app.config, "ALLY_IMAGE_MAX_BYTES", 64 * 1024)
    noisy = PILImage.effect_noise((300, 300), 64).convert("RGB")
    buffer = io.BytesIO()
    noisy.save(buffer, "PNG")
    response = upload(client, buffer.getvalue())
    assert response.status_code == 400 and "larger than 64 KB" in response.get_data(as_text=True)


def test_alt_text_is_required(client, staff, db_session):
    response = upload(client, picture(), alt="")
    assert response.status_code == 400 and "Describe the image" in response.get_data(as_text=True)


def test_editor_upload_endpoint_returns_the_image(client, staff, db_session):
    response = client.post(
        "/admin/images/upload.json",
        data={"file": (io.BytesIO(picture()), "a.png"), "alt": "Alt"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201
    assert set(response.json) == {"id", "title", "alt", "thumbnail"}
    bad = client.post(
        "/admin/images/upload.json",
        data={"file": (io.BytesIO(b"nope"), "a.png")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 400 and "not an image" in bad.json["message"]


def test_image_block_and_feed_image_use_renditions(client, staff, site, db_session):
    upload(client, picture())
    image = db_session.scalar(sa.select(Image))
    make_post(
        site.blog,
        title="Pictured",
        feed_image_id=image.id,
        body=[
            {
                "type": "image",
                "value": {"image": image.id, "alt": "Moonrise", "caption": "Over the bay"},
            }
        ],
    )
    db_session.commit()
    post = client.get("/blog/pictured/").get_data(as_text=True)
    assert f"/media/renditions/{image.id}/width-800.webp" in post and 'alt="Moonrise"' in post
    assert "<figcaption>Over the bay</figcaption>" in post
    listing = client.get("/blog/").get_data(as_text=True)
    assert f"/media/renditions/{image.id}/fill-400x300.webp" in listing


# -- products ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "cents"), [("24.99", 2499), ("$1,024.50", 102450), ("0", 0), ("7", 700)]
)
def test_product_price_typed_in_dollars_stored_in_cents(client, staff, db_session, typed, cents):
    response = client.post(
        "/admin/products/add/",
        data={"name": "Melatonin", "slug": "melatonin", "price": typed, "active": "y"},
    )
    assert response.status_code == 303
    assert db_session.scalar(sa.select(Product.price_cents)) == cents


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("-1", "cannot be negative"),
        ("24.999", "at most two decimals"),
        ("abc", "Enter a price"),
        ("NaN", "cannot be negative"),
        ("1e9", "at most $100,000.00"),
        ("", "This field is required"),
    ],
)
def test_bad_prices_are_refused(client, staff, db_session, typed, message):
    response = client.post(
        "/admin/products/add/", data={"name": "Melatonin", "slug": "melatonin", "price": typed}
    )
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Product)) == 0


def test_edit_product_shows_dollars_and_price_change_reaches_the_page(
    client, staff, site, db_session
):
    client.post(
        "/admin/products/add/",
        data={"name": "Melatonin", "slug": "melatonin", "price": "24.99", "active": "y"},
    )
    product = db_session.scalar(sa.select(Product))
    assert 'value="24.99"' in client.get(f"/admin/products/{product.id}/").get_data(as_text=True)
    make_post(
        site.blog,
        title="Promo",
        body=[{"type": "product_promo", "value": {"product": product.id, "headline": "Sleep"}}],
    )
    db_session.commit()
    client.post(
        f"/admin/products/{product.id}/",
        data={"name": "Melatonin", "slug": "melatonin", "price": "19.99", "active": "y"},
    )
    assert "$19.99" in client.get("/blog/promo/").get_data(as_text=True)


# -- categories ----------------------------------------------------------------------------


def test_new_category_has_listing_and_feed_at_once(client, staff, site, db_session):
    client.post("/admin/categories/add/", data={"name": "Nutrition", "slug": "nutrition"})
    assert client.get("/blog/category/nutrition/").status_code == 200
    assert client.get("/blog/category/nutrition/feed.xml").status_code == 200


def test_renaming_a_category_slug_keeps_the_old_url_with_301(client, staff, site, db_session):
    category = db_session.scalar(sa.select(Category).where(Category.slug == "recovery"))
    make_post(site.blog, title="Sleep", categories=[category])
    db_session.commit()
    response = client.post(
        f"/admin/categories/{category.id}/", data={"name": "Recovery", "slug": "in-recovery"}
    )
    assert response.status_code == 303
    old = client.get("/blog/category/recovery/")
    assert old.status_code == 301 and old.location == "/blog/category/in-recovery/"
    assert (
        client.get("/blog/category/recovery/feed.xml").location
        == "/blog/category/in-recovery/feed.xml"
    )
    assert client.get("/blog/category/in-recovery/").status_code == 200
    # Renaming back makes the original URL real again.
    client.post(f"/admin/categories/{category.id}/", data={"name": "Recovery", "slug": "recovery"})
    assert client.get("/blog/category/recovery/").status_code == 200
    assert client.get("/blog/category/in-recovery/").location == "/blog/category/recovery/"


def test_category_slug_and_name_must_be_unique(client, staff, site, db_session):
    response = client.post(
        "/admin/categories/add/", data={"name": "Recovery", "slug": "recovery-2"}
    )
    assert response.status_code == 400 and "already has this name" in response.get_data(
        as_text=True
    )
    response = client.post("/admin/categories/add/", data={"name": "Other", "slug": "recovery"})
    assert response.status_code == 400 and "already uses this slug" in response.get_data(
        as_text=True
    )


# -- subscribers ---------------------------------------------------------------------------


def test_subscribers_listed_and_exported_as_csv(client, staff, db_session):
    db_session.add_all(
        [
            Subscriber(email="a@ally.example", code="ALLY15"),
            Subscriber(email="=cmd|'/c calc'!A1@x.example", code="ALLY15"),
        ]
    )
    db_session.commit()
    assert "a@ally.example" in client.get("/admin/subscribers/").get_data(as_text=True)
    response = client.get("/admin/subscribers.csv")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["email", "code", "subscribed_at"]
    assert rows[1][:2] == ["a@ally.example", "ALLY15"]
    assert rows[2][0].startswith("'=")  # no formula injection into the mailing tool's sheet


# -- audit log -----------------------------------------------------------------------------


def test_admin_actions_are_audited(client, auth, users, site, db_session):
    from ally.models import AuditEntry

    auth.login("editor@ally.example", password="wrong")
    auth.login("editor@ally.example")
    client.post(
        f"/admin/pages/{site.blog.id}/add/blog.BlogPage/",
        data={"title": "Audited", "date": "2024-08-12", "body": "[]", "action": "publish"},
    )
    post_id = db_session.scalar(sa.select(Page.id).where(Page.title == "Audited"))
    client.post(f"/admin/pages/{post_id}/unpublish/")
    client.post(f"/admin/pages/{post_id}/delete/")
    client.post("/admin/products/add/", data={"name": "Zinc", "slug": "zinc", "price": "9.99"})
    auth.logout()
    entries = db_session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [e.action for e in entries] == [
        "login_failed",
        "login",
        "create+publish",
        "unpublish",
        "delete",
        "product_save",
        "logout",
    ]
    assert {e.actor for e in entries[1:]} == {"editor@ally.example"}
    assert entries[0].actor == "" and "editor@ally.example" in entries[0].summary
    assert entries[2].object_type == "BlogPage" and entries[2].object_id == post_id
    auth.login("admin@ally.example")
    page = client.get("/admin/audit/").get_data(as_text=True)
    assert "create+publish" in page and "Zinc at $9.99" in page
    auth.logout()
    auth.login("editor@ally.example")
    assert client.get("/admin/audit/").status_code == 403
