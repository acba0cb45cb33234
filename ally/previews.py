"""Drafts shown before they are live: the admin's preview and the headless preview token.

A preview is a page object built from a snapshot and never added to the session, so
rendering or serialising it cannot write anything.
"""

from typing import Any

from flask import current_app
from itsdangerous import BadSignature
from itsdangerous import SignatureExpired
from itsdangerous import URLSafeTimedSerializer

from ally.extensions import db
from ally.models import Image
from ally.models import Page
from ally.models import PageRevision
from ally.models import Product
from ally.models import utcnow

SALT = "ally.page-preview"


def draft_page(
    page_cls: type[Page], snapshot: dict[str, Any], url_path: str, page: Page | None
) -> Page:
    """A transient page of ``page_cls`` showing ``snapshot``; call inside ``no_autoflush``."""
    draft = page_cls(
        title=snapshot["title"],
        slug=snapshot.get("slug") or "preview",
        url_path=url_path,
        depth=url_path.count("/"),
        live=False,
    )
    draft.id = page.id if page else None
    draft.parent_id = page.parent_id if page else None
    draft.first_published_at = page.first_published_at if page else None
    draft.last_published_at = utcnow()
    draft.apply_snapshot(snapshot)
    if snapshot.get("product_id"):
        draft.product = db.session.get(Product, snapshot["product_id"])
    if snapshot.get("feed_image_id"):
        draft.feed_image = db.session.get(Image, snapshot["feed_image_id"])
    return draft


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def make_token(revision: PageRevision) -> str:
    """A signed, expiring token naming one revision, for a headless front-end's preview."""
    return _serializer().dumps({"page": revision.page_id, "revision": revision.id})


def read_token(token: str) -> tuple[int, int]:
    """``(page id, revision id)`` from a token; ValueError with a message if it is bad."""
    try:
        data = _serializer().loads(token, max_age=current_app.config["ALLY_PREVIEW_TOKEN_MAX_AGE"])
    except SignatureExpired:
        raise ValueError("preview token has expired") from None
    except BadSignature:
        raise ValueError("invalid preview token") from None
    return int(data["page"]), int(data["revision"])
