"""JSON built in SQL, spelled once for PostgreSQL and SQLite (SQLAlchemy's ``@compiles``).

A page's small related lists (a post's categories) come back as a JSON column of the row
that needs them, so reading them costs no round trip of its own.
"""

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


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
