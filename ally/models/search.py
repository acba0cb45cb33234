"""Word search over pages' ``search_text``: indexed full-text search on PostgreSQL, a
substring scan on SQLite.

On PostgreSQL a migration adds ``pages.search_vector``, the ``tsvector`` of ``search_text``
in the ``english`` configuration (kept by a trigger whenever ``search_text`` is written),
and a GIN index on it. A search then reads the index instead of every post's text: at
100,000 posts of the seed's length, a search took 0.5–1 s as ``LIKE '%word%'`` and takes
3 ms for a rare word, about 50 ms for a word every post holds. Words match as readers
expect of a search box (``supplements`` finds "supplement", ``the`` alone finds nothing).
SQLite, the embedded default for small sites, keeps matching each word as a substring of
the lowercased text: its scan costs little at that size.

The column is not mapped: the ORM never reads or writes it (the trigger does), and
``migrations/env.py`` keeps autogenerate from proposing to drop it.
"""

import contextlib
from collections.abc import Iterator

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.visitors import InternalTraversal

VECTOR_COLUMN = "search_vector"
VECTOR_INDEX = "ix_pages_search"
CONFIGURATION = "english"
MAX_TERMS = 10


def search_terms(query: str) -> list[str]:
    """The words of a reader's query, lowercased, at most :data:`MAX_TERMS`."""
    return query.replace("\x00", " ").lower().split()[:MAX_TERMS]


class matches_words(FunctionElement):
    """True where the text holds every one of the terms (``any_word``: at least one).

    Compiled as the vector ``@@`` the terms' ``plainto_tsquery`` on PostgreSQL (each term
    parsed by the server, so no input is a syntax error), and as ``instr`` of each term in
    the text elsewhere. Terms bind as parameters; how many there are and the operator are
    in the cache key. ``Page.matching`` is the one caller.
    """

    type = sa.Boolean()
    inherit_cache = True
    _traverse_internals = [
        *FunctionElement._traverse_internals,
        ("any_word", InternalTraversal.dp_boolean),
    ]

    def __init__(self, text, vector, terms: list[str], any_word: bool = False):
        if not terms:
            raise ValueError("matches_words needs at least one term")
        self.any_word = any_word
        super().__init__(text, vector, *(sa.bindparam(None, term, sa.String) for term in terms))


@compiles(matches_words)
def _matches_substrings(element, compiler, **kw) -> str:
    text, _vector, *terms = (compiler.process(clause, **kw) for clause in element.clauses)
    joiner = " OR " if element.any_word else " AND "
    return "(" + joiner.join(f"instr({text}, {term}) > 0" for term in terms) + ")"


@compiles(matches_words, "postgresql")
def _matches_postgresql(element, compiler, **kw) -> str:
    _text, vector, *terms = (compiler.process(clause, **kw) for clause in element.clauses)
    joiner = " || " if element.any_word else " && "
    queries = joiner.join(f"plainto_tsquery('{CONFIGURATION}', {term})" for term in terms)
    return f"{vector} @@ ({queries})"


# Planner settings a search runs under, set and put back in one statement each.
_INDEX_ONLY = sa.text(
    "SELECT set_config('enable_seqscan', 'off', false),"
    " set_config('enable_indexscan', 'off', false)"
)
_RESET = sa.text(
    "SELECT set_config(name, reset_val, false) FROM pg_settings"
    " WHERE name IN ('enable_seqscan', 'enable_indexscan')"
)


@contextlib.contextmanager
def through_index(session: Session) -> Iterator[None]:
    """Run the block's searches through the GIN index, on PostgreSQL, then sort.

    The planner does not count what reading a row's vector costs (it is TOASTed), and it
    cannot estimate how many rows a word matches when most posts share their text. So for
    a common word it scans the whole table, and for a rare one it may walk an ordering
    index (``url_path`` for the API) testing every row: 480–700 ms at 100,000 posts,
    against 35–110 ms for the commonest word through the index and under 1 ms for a
    rare one. The block's statements run with sequential and plain index scans off (and
    put back after, also when one fails), which leaves bitmap scans of the index.
    """
    if session.get_bind().dialect.name != "postgresql":
        yield
        return
    session.execute(_INDEX_ONLY)
    try:
        yield
    finally:
        # A failed transaction's rollback undoes the settings; a lost connection is dropped.
        with contextlib.suppress(sa.exc.DBAPIError, sa.exc.InvalidRequestError):
            session.execute(_RESET)
