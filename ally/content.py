"""The one validation path for page content: the editor, ``import-pages`` and the API all
call :func:`clean_page_data`, so a page accepted by one is accepted by all.

Input is the import/export shape (``title``, ``slug``, type fields, ``categories``,
``body`` as stream JSON); output is a revision snapshot (see ``Page.to_snapshot``).
"""

from datetime import UTC
from datetime import date
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ally.blocks import BlockValidationError
from ally.extensions import db
from ally.models import BlogPage
from ally.models import Category
from ally.models import Image
from ally.models import Page
from ally.models import Product
from ally.models import PromoPage
from ally.models.base import is_id
from ally.tree import TreeError
from ally.tree import validate_slug

TEXT_LIMITS = {"title": 255, "seo_title": 255, "search_description": 1000, "intro": 1000}


class PageDataError(ValueError):
    """Validation errors by field; ``body`` holds the block errors' JSON shape."""

    def __init__(self, errors: dict[str, Any]):
        self.errors = errors
        super().__init__("; ".join(self.lines()))

    def lines(self) -> list[str]:
        out = []
        for name, error in self.errors.items():
            if isinstance(error, BlockValidationError):
                out += error.flatten(name)
            else:
                out += [f"{name}: {message}" for message in error]
        return out

    def as_json_data(self) -> dict[str, Any]:
        return {
            name: error.as_json_data() if isinstance(error, BlockValidationError) else error
            for name, error in self.errors.items()
        }


def clean_page_data(page_cls: type[Page], data: dict[str, Any]) -> dict[str, Any]:
    """Validate ``data`` for a page of ``page_cls``; return a snapshot or raise PageDataError."""
    if not isinstance(data, dict):
        raise PageDataError({"page": ["Expected an object."]})
    errors: dict[str, Any] = {}
    cleaned: dict[str, Any] = {}
    for name, limit in TEXT_LIMITS.items():
        _collect(
            errors, cleaned, name, lambda n=name, lim=limit: _text(data.get(n), lim, n == "title")
        )
    _collect(errors, cleaned, "slug", lambda: _slug(data.get("slug")))
    _collect(errors, cleaned, "show_in_menus", lambda: _bool(data.get("show_in_menus", False)))
    for name in ("go_live_at", "expire_at"):
        _collect(errors, cleaned, name, lambda n=name: _datetime(data.get(n)))
    if issubclass(page_cls, BlogPage):
        _collect(errors, cleaned, "date", lambda: _date(data.get("date")))
        _collect(errors, cleaned, "category_ids", lambda: _categories(data.get("categories", [])))
        _collect(errors, cleaned, "feed_image_id", lambda: _ref(Image, data.get("feed_image")))
    if issubclass(page_cls, PromoPage):
        _collect(errors, cleaned, "product_id", lambda: _ref(Product, data.get("product")))
    if page_cls.body_block is not None:
        try:
            cleaned["body"] = clean_body(page_cls, data.get("body", []))
        except BlockValidationError as error:
            errors["body"] = error
    if errors:
        raise PageDataError(errors)
    return cleaned


def clean_body(page_cls: type[Page], raw: Any) -> list[dict[str, Any]]:
    """Validate and sanitise stream JSON; return it in storage form."""
    if not isinstance(raw, list) or not all(
        isinstance(item, dict) and isinstance(item.get("type"), str) for item in raw
    ):
        raise BlockValidationError('The body must be a list of {"type", "value"} blocks.')
    block = page_cls.body_block
    return block.get_prep_value(block.clean(block.to_python(raw)))


def _collect(errors: dict, cleaned: dict, name: str, clean) -> None:
    try:
        cleaned[name] = clean()
    except ValueError as error:
        errors[name] = [str(error)]


def _text(value: Any, limit: int, required: bool) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValueError("Enter text.")
    value = value.strip()
    if required and not value:
        raise ValueError("This field is required.")
    if "\x00" in value:
        raise ValueError("Null characters are not allowed.")
    if len(value) > limit:
        raise ValueError(f"Ensure this value has at most {limit} characters (it has {len(value)}).")
    return value


def _slug(value: Any) -> str:
    if value in (None, ""):
        return ""
    try:
        return validate_slug(value)
    except TreeError as error:
        raise ValueError(str(error)) from None


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("Must be true or false.")
    return value


def _date(value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    if not isinstance(value, str) or not value:
        raise ValueError("Enter a date as YYYY-MM-DD.")
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise ValueError(f"{value!r} is not a date; use YYYY-MM-DD.") from None


def _datetime(value: Any) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ValueError("Enter a date and time in ISO 8601 format.")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO 8601 date and time.") from None
    if parsed.tzinfo is None:
        raise ValueError("Include a time zone, e.g. 2024-08-12T09:00:00+00:00.")
    return parsed.astimezone(UTC).isoformat()


def _categories(value: Any) -> list[int]:
    """Categories by slug (import files) or id (the editor's checkboxes)."""
    if not isinstance(value, list) or not all(isinstance(v, str) or is_id(v) for v in value):
        raise ValueError("Expected a list of category slugs or ids.")
    slugs = {v for v in value if isinstance(v, str)}
    ids = {v for v in value if isinstance(v, int)}
    rows = db.session.execute(
        sa.select(Category.id, Category.slug).where(
            sa.or_(Category.slug.in_(slugs), Category.id.in_(ids))
        )
    ).all()
    unknown = (slugs - {r.slug for r in rows}) | {str(i) for i in ids - {r.id for r in rows}}
    if unknown:
        raise ValueError(f"Unknown categories: {', '.join(sorted(unknown))}.")
    return sorted({row.id for row in rows})


def _ref(model, value: Any) -> int | None:
    if value is None:
        return None
    if not is_id(value) or db.session.get(model, value) is None:
        raise ValueError(f"No {model.__name__.lower()} with id {value!r}.")
    return value
