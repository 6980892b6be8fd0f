"""Module directives are refused before jq compiles them (compiling one reads files)."""

from __future__ import annotations

import pytest

from conductor.services.jq_runner import MODULES_REFUSED, check_syntax


@pytest.mark.parametrize(
    "query",
    [
        'import "a" as $a; $a',
        'include "a"; .',
        "module {a: 1}; .",
        '\n\t  import "a" as a; .',
        '# first a comment\nimport "a" as $a; $a',
        '# a comment ending in CR LF\r\ninclude "a"; .',
        'import "a" as $a; $a | (((',  # refused before the later syntax error counts
    ],
)
def test_a_module_directive_is_refused(query: str) -> None:
    assert check_syntax(query) == MODULES_REFUSED


@pytest.mark.parametrize(
    "query",
    [
        ".import",
        "{import: 1, include: 2, module: 3}",
        '"import \\"a\\" as $a;" | ascii_upcase',
        '# import "a" as $a;\n.',
        '# a comment continued by a backslash \\\nimport "a" as $a; .',  # all comment for jq
    ],
)
def test_words_that_are_not_directives_are_not_refused(query: str) -> None:
    assert check_syntax(query) != MODULES_REFUSED


def test_syntax_errors_keep_their_own_message() -> None:
    problem = check_syntax('"unexpected import" | (')
    assert problem is not None and "unexpected end of file" in problem
