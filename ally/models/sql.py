"""JSON built in SQL, spelled once for PostgreSQL and SQLite (SQLAlchemy's ``@compiles``),
and read back into the session.

A page's small related lists (a post's categories, the products its body promotes) come
back as a JSON column of the row that needs them, so reading them costs no round trip of
their own. Whole rows come back as ORM objects through :func:`adopt`.
"""

import functools
from collections.abc import Callable
from datetime import UTC
from datetime import date
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.sql.functions import FunctionElement

from ally import late
from ally.database import AT_HAND
from ally.database import current_reads

from .base import UTCDateTime


class json_object(FunctionElement):
    """A JSON object from alternating keys and values: ``json_object("id", Category.id)``."""

    type = sa.JSON()
    inherit_cache = True

    def __init__(self, *pairs):
        if not all(key.isidentifier() for key in pairs[::2]):
            raise ValueError("json_object keys are identifiers, written into the SQL")
        keys_and_values = [
            sa.literal_column(f"'{item}'") if index % 2 == 0 else item
            for index, item in enumerate(pairs)
        ]
        super().__init__(*keys_and_values)


class json_array_agg(FunctionElement):
    """The JSON array of an expression over a group's rows; ``NULL`` for no rows on
    PostgreSQL, ``[]`` on SQLite. Unordered: SQLite can't order inside an aggregate."""

    type = sa.JSON()
    inherit_cache = True


@compiles(json_object)
def _object(element, compiler, **kw) -> str:
    return f"json_object({compiler.process(element.clauses, **kw)})"


@compiles(json_object, "postgresql")
def _object_postgresql(element, compiler, **kw) -> str:
    return f"json_build_object({compiler.process(element.clauses, **kw)})"


@compiles(json_array_agg)
def _array_agg(element, compiler, **kw) -> str:
    return f"json_group_array({compiler.process(element.clauses, **kw)})"


@compiles(json_array_agg, "postgresql")
def _array_agg_postgresql(element, compiler, **kw) -> str:
    return f"json_agg({compiler.process(element.clauses, **kw)})"


class json_rows(FunctionElement):
    """The JSON array of a table's or a named subquery's rows, each an object of all its
    columns by name: ``json_rows(Product.__table__)``. Unordered, as :class:`json_array_agg`.

    PostgreSQL aggregates the whole row (``json_agg(products)``; so no column may bear its
    subquery's name, which PostgreSQL would read instead); SQLite names each column.
    Spelled short because the routing read carries four such arrays, and psycopg parses a
    statement's text afresh at every run once it passes 4 KB (a cold listing's
    instructions rose 13% when it did)."""

    type = sa.JSON()
    inherit_cache = True

    def __init__(self, rows: sa.TableClause | sa.Subquery):
        super().__init__(*rows.c)


@compiles(json_rows)
def _rows(element, compiler, **kw) -> str:
    # SQLite's JSON, taken through a subquery's column, arrives as text: json() reads it.
    item = json_object(
        *(
            part
            for column in element.clauses.clauses
            for part in (
                column.key,
                sa.func.json(column) if isinstance(column.type, sa.JSON) else column,
            )
        )
    )
    return compiler.process(json_array_agg(item), **kw)


@compiles(json_rows, "postgresql")
def _rows_postgresql(element, compiler, **kw) -> str:
    rows = element.clauses.clauses[0].table
    if isinstance(rows, sa.Table):
        return f"json_agg({compiler.preparer.format_table(rows)})"
    return f"json_agg({compiler.preparer.quote(rows.name)})"


def _rows_at_hand(session: Session | None, create: bool) -> dict | None:
    """Where adopted rows are kept: the read-only request's (``database.Reads``) while one
    is under way, else ``session``'s (None: the app context's)."""
    reads = current_reads()
    if reads is not None:
        return reads.adopted
    if session is None:
        session = late.extensions().db.session()
    return session.info.setdefault(AT_HAND, {}) if create else session.info.get(AT_HAND)


def adopt(session: Session | None, model, rows: list[dict]) -> list:
    """Rows of ``model`` read as JSON (:class:`json_rows`), as detached objects that
    reads find (:func:`at_hand`) until the read-only request ends, or ``session`` (None:
    the request's) commits, rolls back or closes.

    For rows a page shows and nothing changes through: the products its promo blocks show.
    Joining the session walked the add's cascade for rows nothing would flush: 1.3% of a
    post page's instructions for its one product. Detached, a relationship of theirs
    raises rather than loads. The page cache records them as it records loaded rows.
    ``model`` is a mapped class without subclasses.
    """
    record_row = late.cache_tags().record_row
    mapper = sa.inspect(model)
    readers = _json_readers(model)
    kept = _rows_at_hand(session, create=True)
    adopted = []
    for row in rows:
        obj = detached(
            mapper,
            {
                key: value if value is None or (read := readers[key]) is None else read(value)
                for key, value in row.items()
            },
        )
        record_row(obj)
        kept[model, obj.id] = obj
        adopted.append(obj)
    return adopted


def loaded(model, pk: int):
    """The row if the request's session already holds it fresh, or a read of the page
    brought it (:func:`adopt`), else None (an expired one would reload alone): what
    ``base.by_ids`` need not read again."""
    scoped = late.extensions().db.session
    if not scoped.registry.has():  # none made: it holds nothing (a page's read)
        return at_hand(None, model, pk)
    session = scoped()
    row = session.identity_map.get(session.identity_key(model, pk))
    if row is not None:
        state = sa.inspect(row)
        # Its columns, that is: an expired relationship loads when used, as an unloaded one.
        if state.expired_attributes.isdisjoint(state.mapper.column_attrs.keys()):
            return row
    return at_hand(session, model, pk)


def at_hand(session: Session | None, model, pk):
    """The row of ``model`` with id ``pk`` that :func:`adopt` read in this read-only request,
    or in ``session`` since its last commit, rollback or close, or None."""
    kept = _rows_at_hand(session, create=False)
    return kept.get((model, pk)) if kept else None


def detached(mapper, values: dict):
    """The row ``values`` holds (its columns by key, ``id`` among them) as a detached object
    of ``mapper``'s class, as a query would have loaded it before its session closed.

    Set as a load sets them, into the new instance's state: the constructor would fire an
    attribute event per column. Attributes ``values`` lacks are expired: read, they raise
    (no session to load them from) until the object joins one.
    """
    obj = mapper.class_manager.new_instance()
    obj.__dict__.update(values)
    make_transient_to_detached(obj)
    return obj


@functools.cache
def json_readers(model, keys: tuple[str, ...]) -> tuple[tuple[int, Callable], ...]:
    """How to read ``model``'s columns ``keys`` from JSON: the position and reader of each
    that needs one (see :func:`_json_readers`), for values taken out in that order."""
    readers = _json_readers(model)
    return tuple((index, readers[key]) for index, key in enumerate(keys) if readers[key])


@functools.cache
def _json_readers(model) -> dict:
    """Per column, how its value comes back from JSON (None: as JSON gives it): booleans
    from SQLite's 0/1, dates from their ISO text, datetimes as aware UTC."""
    readers = {}
    for column in model.__table__.columns:
        if isinstance(column.type, sa.Boolean):
            readers[column.key] = bool
        elif isinstance(column.type, UTCDateTime):
            readers[column.key] = _utc_datetime
        elif isinstance(column.type, sa.Date):
            readers[column.key] = date.fromisoformat
        else:
            readers[column.key] = None
    return readers


def _utc_datetime(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
