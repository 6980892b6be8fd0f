"""Conductor's search syntax, parsed into values; never pasted into SQL.

`query` is conditions joined by AND: `<field> <op> <value>`, with ops `=`, `!=`, `>`, `>=`, `<`,
`<=` and `IN (a, b, c)`. Values are bare, 'single' or "double" quoted; `*` in an `=` or `!=`
value is a wildcard. `sort` is `field:ASC|DESC`, several joined by `|`. Fields are checked
against the caller's allow-list, values against the field's type; anything else is a 400 that
names the problem.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from conductor.errors import BadRequest

MAX_QUERY_LENGTH = 4096
MAX_CONDITIONS = 20
MAX_IN_VALUES = 100


class Kind(StrEnum):
    TEXT = "text"
    INT = "int"  # epoch-ms times, versions


@dataclass(frozen=True)
class Field:
    """A searchable field: the store maps `key` to a column; `choices` limits text values."""

    key: str
    kind: Kind = Kind.TEXT
    choices: frozenset[str] | None = None


@dataclass(frozen=True)
class Condition:
    key: str
    op: str  # one of OPERATORS, or "IN"
    values: tuple[str | int, ...]
    wildcard: bool = False  # a text `=`/`!=` value with `*` in it


@dataclass(frozen=True)
class SortKey:
    key: str
    descending: bool


OPERATORS = frozenset({"=", "!=", ">", ">=", "<", "<="})

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<open>\() | (?P<close>\)) | (?P<comma>,)
      | (?P<op>!=|<>|>=|<=|=|>|<)
      | '(?P<single>[^']*)' | "(?P<double>[^"]*)"
      | (?P<word>[^\s(),=<>!'"]+)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class SearchRequest:
    """A parsed search: what to match, in which order, and which page."""

    conditions: tuple[Condition, ...] = ()
    free_text: str | None = None
    sort: tuple[SortKey, ...] = ()
    start: int = 0
    size: int = 100
    # Workflows by their tasks: the conditions and free text are about tasks, and a workflow
    # matches when one of its tasks does.
    by_tasks: bool = False


@dataclass(frozen=True)
class _Token:
    kind: str  # open, close, comma, op, value (quoted), word
    text: str


def parse_query(text: str | None, fields: dict[str, Field]) -> list[Condition]:
    text = (text or "").strip()
    if not text:
        return []
    if len(text) > MAX_QUERY_LENGTH:
        raise BadRequest(f"Invalid query: longer than {MAX_QUERY_LENGTH} characters")
    tokens = _tokenize(text)
    conditions: list[Condition] = []
    position = 0
    while True:
        condition, position = _condition(tokens, position, fields)
        conditions.append(condition)
        if len(conditions) > MAX_CONDITIONS:
            raise BadRequest(f"Invalid query: more than {MAX_CONDITIONS} conditions")
        if position == len(tokens):
            return conditions
        joiner = tokens[position]
        if joiner.kind != "word" or joiner.text.upper() != "AND":
            raise BadRequest(f"Invalid query: expected AND before '{joiner.text}'")
        position += 1


def parse_sort(text: str | None, fields: dict[str, Field]) -> list[SortKey]:
    keys: list[SortKey] = []
    for part in (text or "").split("|"):
        part = part.strip()
        if not part:
            continue
        name, _, direction = part.partition(":")
        field = fields.get(name.strip())
        if field is None:
            raise BadRequest(f"Invalid sort: unknown field '{name.strip()}'")
        direction = direction.strip().upper() or "ASC"
        if direction not in ("ASC", "DESC"):
            raise BadRequest(f"Invalid sort: direction must be ASC or DESC, not '{direction}'")
        keys.append(SortKey(field.key, direction == "DESC"))
    return keys


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(text):
        if text[position:].isspace():
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise BadRequest(f"Invalid query: cannot read '{text[position : position + 20]}'")
        kind = match.lastgroup or ""
        value = match.group(kind)
        if kind in ("single", "double"):
            kind = "value"
        tokens.append(_Token(kind, "!=" if value == "<>" else value))
        position = match.end()
    return tokens


def _condition(
    tokens: list[_Token], position: int, fields: dict[str, Field]
) -> tuple[Condition, int]:
    name = _take(tokens, position, "a field name")
    if name.kind != "word":
        raise BadRequest(f"Invalid query: expected a field name, found '{name.text}'")
    field = fields.get(name.text)
    if field is None:
        known = ", ".join(sorted(fields))
        raise BadRequest(f"Invalid query: unknown field '{name.text}' (fields: {known})")
    operator = _take(tokens, position + 1, f"an operator after {name.text}")
    if operator.kind == "word" and operator.text.upper() == "IN":
        values, position = _list(tokens, position + 2)
        parsed = tuple(_value(field, name.text, v) for v in values)
        return Condition(field.key, "IN", parsed), position
    if operator.kind != "op":
        raise BadRequest(f"Invalid query: expected an operator after {name.text}")
    raw = _take(tokens, position + 2, f"a value after {name.text} {operator.text}")
    if raw.kind not in ("value", "word"):
        raise BadRequest(f"Invalid query: expected a value after {name.text} {operator.text}")
    wildcard = field.kind is Kind.TEXT and "*" in raw.text
    if wildcard and operator.text not in ("=", "!="):
        raise BadRequest(f"Invalid query: '*' needs = or != ({name.text})")
    if field.kind is Kind.TEXT and operator.text not in ("=", "!="):
        raise BadRequest(f"Invalid query: {name.text} can only be compared with =, != or IN")
    value = raw.text if wildcard else _value(field, name.text, raw.text)
    return Condition(field.key, operator.text, (value,), wildcard), position + 3


def _list(tokens: list[_Token], position: int) -> tuple[list[str], int]:
    if _take(tokens, position, "'(' after IN").kind != "open":
        raise BadRequest("Invalid query: expected '(' after IN")
    values: list[str] = []
    position += 1
    while True:
        token = _take(tokens, position, "a value or ')'")
        if token.kind == "close" and not values:
            raise BadRequest("Invalid query: IN needs at least one value")
        if token.kind not in ("value", "word"):
            raise BadRequest(f"Invalid query: expected a value in IN (...), found '{token.text}'")
        values.append(token.text)
        if len(values) > MAX_IN_VALUES:
            raise BadRequest(f"Invalid query: more than {MAX_IN_VALUES} values in IN (...)")
        separator = _take(tokens, position + 1, "',' or ')'")
        position += 2
        if separator.kind == "close":
            return values, position
        if separator.kind != "comma":
            raise BadRequest(f"Invalid query: expected ',' or ')', found '{separator.text}'")


def _value(field: Field, name: str, text: str) -> str | int:
    if field.kind is Kind.INT:
        try:
            return int(text)
        except ValueError:
            raise BadRequest(f"Invalid query: {name} needs a number, not '{text}'") from None
    if field.choices is not None and text.upper() not in field.choices:
        allowed = ", ".join(sorted(field.choices))
        raise BadRequest(f"Invalid query: {name} must be one of {allowed}, not '{text}'")
    return text.upper() if field.choices is not None else text


def _take(tokens: list[_Token], position: int, wanted: str) -> _Token:
    if position >= len(tokens):
        raise BadRequest(f"Invalid query: expected {wanted} at the end")
    return tokens[position]
