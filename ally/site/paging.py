"""Listing pagination without counting the whole table.

Fetches one row more than a page holds to learn whether a next page exists: a listing
costs the same at 100 posts as at 100,000.
"""

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from flask import abort
from flask import request

from ally.extensions import db
from ally.models.base import windowed

MAX_PAGE = 100_000


@dataclass
class Paged:
    items: list
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def page_number_arg(default: int = 1) -> int:
    """``?page=N`` as an int; anything but a positive integer is a 400, never a 500."""
    raw = request._get_current_object().args.get("page")
    if raw is None:
        return default
    if not raw.isdigit() or not 0 < int(raw) <= MAX_PAGE:
        abort(400, description="The page number must be a positive whole number.")
    return int(raw)


def paginate(query: sa.Select, number: int, per_page: int) -> Paged:
    """One page of ``query``; a page past the end (other than the first) is a 404."""
    return paged(
        lambda limit, offset: db.session.scalars(
            windowed(query), {"limit": limit, "offset": offset}
        ).all(),
        number,
        per_page,
    )


def paged(fetch: Callable[[int, int], list], number: int, per_page: int) -> Paged:
    """Page ``number`` of what ``fetch(limit, offset)`` reads; past the end is a 404."""
    rows = fetch(per_page + 1, (number - 1) * per_page)
    if number > 1 and not rows:
        abort(404)
    return Paged(items=rows[:per_page], number=number, has_next=len(rows) > per_page)
