"""Selects of columns compiled once per dialect and run on the driver's cursor: how
``ally.database.rows`` reads."""

import collections
import functools
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.compiler import ExpandedState

# Shapes a Read keeps (see Read._expanded): one per page number for a listing's window,
# so a bound, not a cache of every page ever asked for.
MAX_SHAPES = 64


@functools.lru_cache(maxsize=256)  # statements are built once; apps (tests) come and go
def read_for(statement: sa.Select, dialect: sa.Dialect) -> "Read":
    """``statement`` compiled for ``dialect``, once."""
    return Read(statement, dialect)


class Read:
    """A select of columns compiled once for a dialect, run on the driver's cursor.

    SQLAlchemy's execution wraps even a select of columns in an execution context and
    result metadata, and asks the driver for the cursor's description each time (psycopg
    builds an object per column for it): leaving it cut a cold post page's instructions
    by 9% and a listing's by 13%. What a read needs of it stays SQLAlchemy's own: the
    parameters (expanding ``IN``, windows written in, callables and bind processors) come
    from ``construct_expanded_state``, values pass the column types' result processors,
    and cursor-execute listeners (the tests' query counter) hear each statement, with no
    execution context. SQLAlchemy's echo does not log these reads.

    A driver error sends the read through SQLAlchemy's own execution, which raises its
    error and, for a lost server, invalidates the connection and the pool as ever.
    """

    def __init__(self, statement: sa.Select, dialect: sa.Dialect):
        self.statement = statement
        self.compiled = statement.compile(dialect=dialect)
        self.row_type = collections.namedtuple("Row", statement.selected_columns.keys())
        self.processors: list | None = None  # known from the first cursor's description
        names = self.compiled.bind_names  # each parameter's name in the SQL
        self.written_in = [name for bind, name in names.items() if bind.literal_execute]
        self.lists = [
            name for bind, name in names.items() if bind.expanding and not bind.literal_execute
        ]
        self.shapes: dict[tuple, ExpandedState] = {}

    def run(self, connection: sa.Connection, params: dict) -> list[tuple]:
        sql, values = self._expanded(params)
        cursor = connection.connection.cursor()
        try:
            if connection.dispatch.before_cursor_execute:
                connection.dispatch.before_cursor_execute(
                    connection, cursor, sql, values, None, False
                )
            cursor.execute(sql, values)
            fetched = cursor.fetchall()
            if self.processors is None:
                self.processors = self._result_processors(connection.dialect, cursor)
            if connection.dispatch.after_cursor_execute:
                connection.dispatch.after_cursor_execute(
                    connection, cursor, sql, values, None, False
                )
        except connection.dialect.loaded_dbapi.Error:
            return [self.row_type._make(row) for row in connection.execute(self.statement, params)]
        finally:
            cursor.close()
        return self._rows(fetched)

    def _expanded(self, params: dict) -> tuple[str, dict | tuple]:
        """The SQL and parameters as SQLAlchemy would send them to the driver.

        SQLAlchemy writes the SQL out again for every run with a list (``IN``) or a value
        written in (a listing's window), a tenth of a read's Python; its expansion is kept
        per shape (the lists' lengths and the written-in values) and reused.
        """
        parameters = self.compiled.construct_params(params)
        shape_key = (
            *(len(parameters[name]) for name in self.lists),
            *(_hashable(parameters[name]) for name in self.written_in),
        )
        shape = self.shapes.get(shape_key)
        if shape is None:
            shape = self.compiled.construct_expanded_state(params)
            if len(self.shapes) < MAX_SHAPES:
                self.shapes[shape_key] = shape
        expansion, processors = shape.parameter_expansion, shape.processors
        values = {}
        for name, value in parameters.items():
            if name in expansion:
                values.update(zip(expansion[name], value, strict=True))
            elif name not in self.written_in:
                values[name] = value
        for name in processors.keys() & values.keys():
            values[name] = processors[name](values[name])
        if shape.positiontup is not None:  # SQLite's qmark style
            return shape.statement, tuple(values[name] for name in shape.positiontup)
        return shape.statement, values

    def _result_processors(self, dialect: sa.Dialect, cursor) -> list[tuple[int, Callable]]:
        """Each column's result processor, by position, for those that have one."""
        processors = []
        for index, (column, described) in enumerate(
            zip(self.statement.selected_columns, cursor.description, strict=True)
        ):
            processor = column.type.dialect_impl(dialect).result_processor(dialect, described[1])
            if processor is not None:
                processors.append((index, processor))
        return processors

    def _rows(self, fetched: list[tuple]) -> list[tuple]:
        make = self.row_type._make
        if not self.processors:
            return [make(row) for row in fetched]
        result = []
        for row in fetched:
            values = list(row)
            for index, processor in self.processors:
                values[index] = processor(values[index])
            result.append(make(values))
        return result


def _hashable(value: Any) -> Any:
    """A written-in value as part of a shape's key: a list (an ``IN``) as a tuple."""
    return tuple(value) if isinstance(value, list) else value
