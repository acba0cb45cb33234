"""The ``fields`` parameter: Wagtail's grammar, parser and selection rules, ported.

``fields := item ("," item)*``, ``item := ["-"] ident ["(" fields ")"]``, where ident is
``*``, ``_`` or ``[A-Za-z0-9_]+``. No whitespace anywhere. Messages match Wagtail's so a
client's error handling keeps working.
"""

from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from .errors import ApiError

FieldsConfig = list[tuple[str, bool, "FieldsConfig | None"]]


class FieldsParameterParseError(ValueError):
    pass


def parse_fields_parameter(text: str) -> FieldsConfig:
    """Parse ``?fields=``; raises FieldsParameterParseError on a syntax error."""

    def position(rest: str) -> int:
        return len(text) - len(rest)

    def unexpected(char: str, rest: str) -> FieldsParameterParseError:
        return FieldsParameterParseError(f"unexpected char '{char}' at position {position(rest)}")

    def identifier(rest: str) -> tuple[str, bool, str]:
        ident, negated, first = "", False, True
        while rest:
            char = rest[0]
            if char in "(),":
                if not ident or (ident in ("*", "_") and char == "("):
                    raise unexpected(char, rest)
                return ident, negated, rest
            if char == "-":
                if not first:
                    raise unexpected(char, rest)
                negated = True
            elif char in "*_":
                if ident and char == "*":
                    raise unexpected(char, rest)
                ident += char
            elif char.isascii() and (char.isalnum() or char == "_"):
                if ident == "*":
                    raise unexpected(char, rest)
                ident += char
            elif char.isspace():
                raise FieldsParameterParseError(
                    f"unexpected whitespace at position {position(rest)}"
                )
            else:
                raise unexpected(char, rest)
            first = False
            rest = rest[1:]
        return ident, negated, rest

    def fields(rest: str, expect_close: bool = False) -> tuple[FieldsConfig, str]:
        first_ident, is_first, out = None, True, []
        while rest:
            sub = None
            ident, negated, rest = identifier(rest)
            if ident in ("*", "_"):
                if not is_first:
                    raise FieldsParameterParseError(f"'{ident}' must be in the first position")
                if negated:
                    raise FieldsParameterParseError(f"'{ident}' cannot be negated")
            if rest and rest[0] == "(":
                if negated:
                    raise unexpected("(", rest)
                sub, rest = fields(rest[1:], expect_close=True)
            if is_first:
                first_ident = ident
            elif first_ident == "_" and negated:
                raise FieldsParameterParseError("negated fields with '_' doesn't make sense")
            elif first_ident == "*" and not negated and not sub:
                raise FieldsParameterParseError("additional fields with '*' doesn't make sense")
            out.append((ident, negated, sub))
            if rest and rest[0] == ")":
                if not expect_close:
                    raise unexpected(")", rest)
                return out, rest[1:]
            if rest and rest[0] == ",":
                rest = rest[1:]
                if not rest or rest[0] == ",":
                    raise unexpected(",", rest)
            is_first = False
        if expect_close:
            raise FieldsParameterParseError(
                "unexpected end of input (did you miss out a close bracket?)"
            )
        return out, rest

    return fields(text)[0]


@dataclass
class Field:
    """One field an endpoint can return: how to read it, and whether it can be filtered."""

    name: str
    read: Callable[[Any, Any], Any]  # (object, context) -> JSON value
    meta: bool = False
    column: Any = None  # SQL column for filtering and ordering, when DB-backed
    coerce: Callable[[str], Any] | None = None  # filter value parser
    nested: dict[str, "Field"] | None = None  # sub-fields of a relation
    nested_default: tuple[str, ...] = ()
    detail_only: bool = False
    filter: Callable[[Any], Any] | None = None  # custom SQL condition builder
    extra: dict = field(default_factory=dict)


def select_fields(
    available: dict[str, Field], defaults: Iterable[str], config: FieldsConfig | None, listing: bool
) -> list[tuple[Field, FieldsConfig | None]]:
    """Which fields to return, in declaration order (Wagtail's ``_get_serializer_class``)."""
    all_names = [n for n, f in available.items() if not (listing and f.detail_only)]
    chosen = set(defaults)
    config = list(config or [])
    if config and config[0][0] == "*":
        chosen, config = set(all_names), config[1:]
    elif config and config[0][0] == "_":
        chosen, config = set(), config[1:]
    mentioned, sub_fields = set(), {}
    for name, negated, sub in config:
        if negated:
            chosen.discard(name)
        else:
            chosen.add(name)
            if sub:
                sub_fields[name] = sub
        mentioned.add(name)
    unknown = mentioned - set(all_names)
    if unknown:
        raise ApiError(f"unknown fields: {', '.join(sorted(unknown))}")
    for name in sub_fields:
        if available[name].nested is None:
            raise ApiError(f"'{name}' does not support nested fields")
    return [(available[n], sub_fields.get(n)) for n in all_names if n in chosen]


def serialize(obj: Any, selected: list[tuple[Field, FieldsConfig | None]], context: Any) -> dict:
    """One object as Wagtail orders it: ``id``, then ``meta`` (if any), then body fields."""
    return serializer(selected, context)(obj)


def serializer(
    selected: list[tuple[Field, FieldsConfig | None]], context: Any
) -> Callable[[Any], dict]:
    """:func:`serialize` for the objects of a listing, the fields' order and readers (and
    nested fields' names, checked here) worked out once rather than for every object."""
    with_id = any(f.name == "id" and not f.meta for f, _ in selected)
    meta = [(f.name, _reader(f, sub)) for f, sub in selected if f.meta]
    body = [(f.name, _reader(f, sub)) for f, sub in selected if not f.meta]

    def serialize_one(obj: Any) -> dict:
        data: dict[str, Any] = {"id": None} if with_id else {}
        if meta:
            data["meta"] = {name: read(obj, context) for name, read in meta}
        for name, read in body:
            data[name] = read(obj, context)
        return data

    return serialize_one


def _reader(f: Field, sub: FieldsConfig | None) -> Callable[[Any, Any], Any]:
    """How to read ``f`` of an object: its reader, narrowed to the chosen nested fields."""
    if f.nested is None:
        return f.read
    names = [nf.name for nf, _ in select_fields(f.nested, f.nested_default, sub, listing=False)]

    def read_nested(obj: Any, context: Any) -> Any:
        value = f.read(obj, context)
        if value is None:
            return None
        if isinstance(value, list):
            return [{name: item[name] for name in names} for item in value]
        return {name: value[name] for name in names}

    return read_nested
