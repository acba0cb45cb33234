"""The page editor's form: request data ⇄ the import shape that :mod:`ally.content` cleans.

The browser posts ordinary fields plus the block editor's output as stream JSON in one
hidden ``body`` field. Nothing here validates content: ``clean_page_data`` is the only
authority, and on any error the form is shown again with exactly what was posted.
"""

import json
from datetime import UTC
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask import url_for
from werkzeug.datastructures import MultiDict

from ally import images
from ally.blocks import BlockValidationError
from ally.blocks import BodyBlock
from ally.content import PageDataError
from ally.content import clean_page_data
from ally.extensions import db
from ally.models import BlogPage
from ally.models import Category
from ally.models import Image
from ally.models import Page
from ally.models import Product
from ally.models import PromoPage

TEXT_FIELDS = ("title", "slug", "seo_title", "search_description", "intro")
TIME_FIELDS = ("go_live_at", "expire_at")


def site_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["ALLY_TIME_ZONE"])


def to_local_input(value: str | datetime | None) -> str:
    """A stored UTC time as a ``datetime-local`` value in the site's time zone."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(site_zone()).strftime("%Y-%m-%dT%H:%M")


def from_local_input(value: str) -> str | None:
    """A ``datetime-local`` value, read in the site's time zone, as an aware ISO string."""
    value = value.strip()
    if not value:
        return None
    try:
        naive = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a date and time.") from None
    return naive.replace(tzinfo=site_zone()).astimezone(UTC).isoformat()


def form_to_data(page_cls: type[Page], form: MultiDict) -> tuple[dict[str, Any], dict]:
    """Build the import-shaped dict from posted fields; returns it with parse errors."""
    data: dict[str, Any] = {name: form.get(name, "") for name in TEXT_FIELDS}
    data["show_in_menus"] = form.get("show_in_menus") == "on"
    errors: dict[str, list[str]] = {}
    for name in TIME_FIELDS:
        try:
            data[name] = from_local_input(form.get(name, ""))
        except ValueError as error:
            errors[name] = [str(error)]
    if issubclass(page_cls, BlogPage):
        data["date"] = form.get("date", "")
        data["categories"] = [_int_or_raw(v) for v in form.getlist("categories")]
        data["feed_image"] = _optional_id(form.get("feed_image", ""))
    if issubclass(page_cls, PromoPage):
        data["product"] = _optional_id(form.get("product", ""))
    try:
        data["body"] = json.loads(form.get("body") or "[]")
    except json.JSONDecodeError:
        data["body"] = None
        errors["body"] = ["The editor's content could not be read; reload and try again."]
    return data, errors


def clean_form(page_cls: type[Page], form: MultiDict) -> dict[str, Any]:
    """Validate posted fields with the shared page validation; raise PageDataError."""
    data, errors = form_to_data(page_cls, form)
    try:
        snapshot = clean_page_data(page_cls, {k: v for k, v in data.items() if k not in errors})
    except PageDataError as error:
        errors = {**error.errors, **errors}
        raise PageDataError(errors) from None
    if errors:
        raise PageDataError(errors)
    return snapshot


def snapshot_to_values(snapshot: dict[str, Any]) -> dict[str, Any]:
    """Form values (strings, as posted) from a stored snapshot."""
    values = {name: snapshot.get(name) or "" for name in TEXT_FIELDS}
    values["show_in_menus"] = bool(snapshot.get("show_in_menus"))
    values.update({name: to_local_input(snapshot.get(name)) for name in TIME_FIELDS})
    values["date"] = snapshot.get("date") or ""
    values["categories"] = [str(i) for i in snapshot.get("category_ids") or []]
    values["feed_image"] = str(snapshot.get("feed_image_id") or "")
    values["product"] = str(snapshot.get("product_id") or "")
    values["body"] = json.dumps(snapshot.get("body") or [])
    return values


def form_values(form: MultiDict) -> dict[str, Any]:
    """What the author posted, to show again after an error: nothing typed is lost."""
    values = {name: form.get(name, "") for name in (*TEXT_FIELDS, *TIME_FIELDS, "date")}
    values["show_in_menus"] = form.get("show_in_menus") == "on"
    values["categories"] = form.getlist("categories")
    values["feed_image"] = form.get("feed_image", "")
    values["product"] = form.get("product", "")
    values["body"] = form.get("body") or "[]"
    return values


def editor_config(values: dict[str, Any], errors: dict | None, options: dict) -> dict[str, Any]:
    """Everything editor.js needs, serialised into a non-executable JSON script tag.

    ``options`` is :func:`choices`: the form's selects and the editor's tools share it.
    """
    try:
        body = json.loads(values["body"])
    except json.JSONDecodeError:
        body = []
    body_errors = errors.get("body") if errors else None
    is_block_error = isinstance(body_errors, BlockValidationError)
    return {
        "body": body if isinstance(body, list) else [],
        "errors": body_errors.as_json_data() if is_block_error else None,
        # Errors of the body as a whole ("at most 500 blocks", unreadable JSON).
        "bodyMessages": body_errors.messages if is_block_error else body_errors or [],
        "schema": BodyBlock().to_schema(),
        "products": [
            {"id": p.id, "name": p.name, "price": p.price_cents} for p in options["products"]
        ],
        "images": [image_json(i) for i in options["images"]],
        "uploadUrl": url_for("admin.image_upload_json"),
    }


def image_json(image: Image) -> dict[str, Any]:
    return {
        "id": image.id,
        "title": image.title,
        "alt": image.alt,
        "thumbnail": images.rendition_url(image, "fill-160x160"),
    }


def choices() -> dict[str, list]:
    """Options for the categories, feed image and product fields."""
    return {
        "categories": db.session.scalars(sa.select(Category).order_by(Category.name)).all(),
        "images": db.session.scalars(sa.select(Image).order_by(Image.title)).all(),
        "products": db.session.scalars(sa.select(Product).order_by(Product.name)).all(),
    }


def _int_or_raw(value: str) -> Any:
    return int(value) if value.isdigit() and len(value) < 10 else value


def _optional_id(value: str) -> Any:
    return None if value == "" else _int_or_raw(value)
