"""The CLI's tables and times: aligned columns, one line per row, long or multi-line cells cut."""

from __future__ import annotations

import io

from conductor.cli_client.output import MAX_CELL, millis, print_table


def test_columns_line_up_and_cells_stay_on_one_line() -> None:
    out = io.StringIO()
    rows = [{"id": "a", "note": "short"}, {"id": "bbbb", "note": "two\nlines\tand tabs"}]
    print_table(rows, [("ID", lambda r: r["id"]), ("NOTE", lambda r: r["note"])], out)
    lines = out.getvalue().splitlines()
    assert lines == ["ID    NOTE", "a     short", "bbbb  two lines and tabs"]


def test_long_cells_are_cut_and_empty_tables_say_so() -> None:
    out = io.StringIO()
    print_table([{"v": "x" * 200}, {"v": None}], [("V", lambda r: r["v"])], out)
    first, long, blank = out.getvalue().splitlines()
    assert first == "V" and len(long) == MAX_CELL and long.endswith("…") and blank == ""
    empty = io.StringIO()
    print_table([], [("V", lambda r: r["v"])], empty)
    assert empty.getvalue().splitlines() == ["V", "(none)"]


def test_epoch_milliseconds_read_as_utc() -> None:
    assert millis(1_700_000_000_000) == "2023-11-14 22:13:20"
    assert millis(0) == "" and millis(None) == ""
