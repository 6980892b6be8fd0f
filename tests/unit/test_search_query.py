"""The search grammar: what parses into which conditions, and what is refused with a 400."""

from __future__ import annotations

import pytest

from conductor.errors import BadRequest
from conductor.search_query import Condition, Field, Kind, SortKey, parse_query, parse_sort

FIELDS = {
    "workflowType": Field("name"),
    "correlationId": Field("correlation_id"),
    "status": Field("status", choices=frozenset({"RUNNING", "FAILED", "COMPLETED"})),
    "startTime": Field("create_time", Kind.INT),
}


def test_empty_query_is_everything() -> None:
    assert parse_query(None, FIELDS) == []
    assert parse_query("   ", FIELDS) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("workflowType = billing", [Condition("name", "=", ("billing",))]),
        ("workflowType='billing'", [Condition("name", "=", ("billing",))]),
        ('correlationId = "a b"', [Condition("correlation_id", "=", ("a b",))]),
        ("correlationId != x", [Condition("correlation_id", "!=", ("x",))]),
        ("correlationId <> x", [Condition("correlation_id", "!=", ("x",))]),
        ("status = failed", [Condition("status", "=", ("FAILED",))]),
        (
            "status IN (RUNNING, 'FAILED')",
            [Condition("status", "IN", ("RUNNING", "FAILED"))],
        ),
        (
            "startTime > 1700000000000 and startTime <= 1800000000000",
            [
                Condition("create_time", ">", (1700000000000,)),
                Condition("create_time", "<=", (1800000000000,)),
            ],
        ),
        ("workflowType = bill*", [Condition("name", "=", ("bill*",), wildcard=True)]),
        (
            "workflowType = billing AND status IN (COMPLETED) AND correlationId = c-1",
            [
                Condition("name", "=", ("billing",)),
                Condition("status", "IN", ("COMPLETED",)),
                Condition("correlation_id", "=", ("c-1",)),
            ],
        ),
    ],
)
def test_grammar(text: str, expected: list[Condition]) -> None:
    assert parse_query(text, FIELDS) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("owner = bob", "unknown field 'owner'"),
        ("startTime > yesterday", "startTime needs a number"),
        ("status = SLEEPING", "status must be one of"),
        ("workflowType > b", "can only be compared with =, != or IN"),
        ("startTime > 5*", "needs a number"),
        ("workflowType =", "expected a value"),
        ("workflowType billing", "expected an operator"),
        ("status IN ()", "at least one value"),
        ("status IN (RUNNING", "expected ',' or ')'"),
        ("workflowType = a OR workflowType = b", "expected AND"),
        ("workflowType = a; DROP TABLE workflow", "expected AND before 'DROP'"),
        ("workflowType = a \\ b", "expected AND"),
        ("workflowType = !", "cannot read"),
        ("workflowType = 'a' -- comment", "expected AND"),
        ("correlationId = x' OR '1'='1", "expected AND"),
        ("(workflowType = a)", "expected a field name"),
        ("status IN (" + ",".join(["RUNNING"] * 101) + ")", "more than 100 values"),
        (" AND ".join(["workflowType = a"] * 21), "more than 20 conditions"),
        ("workflowType = " + "x" * 5000, "longer than"),
    ],
)
def test_refusals_name_the_problem(text: str, message: str) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_query(text, FIELDS)
    assert message in caught.value.message
    assert caught.value.status == 400


def test_quoted_values_keep_sql_text_as_plain_data() -> None:
    [condition] = parse_query('correlationId = "x\'; DROP TABLE workflow; --"', FIELDS)
    assert condition.values == ("x'; DROP TABLE workflow; --",)


def test_sort() -> None:
    assert parse_sort(None, FIELDS) == []
    assert parse_sort("startTime:DESC|workflowType:asc|status", FIELDS) == [
        SortKey("create_time", True),
        SortKey("name", False),
        SortKey("status", False),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("owner:ASC", "unknown field 'owner'"),
        ("startTime:UP", "direction must be ASC or DESC"),
        ("startTime:DESC; DROP TABLE workflow", "direction must be ASC or DESC"),
        ("create_time:ASC", "unknown field 'create_time'"),
    ],
)
def test_sort_refusals(text: str, message: str) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_sort(text, FIELDS)
    assert message in caught.value.message
