"""The review diff of the definition editors: one printing for both sides, changes by line."""

from __future__ import annotations

from conductor.ui.json_diff import DiffLine, canonical, has_changes, line_diff


def test_key_order_and_spacing_make_no_difference() -> None:
    before = canonical({"name": "a", "tasks": [1, 2], "version": 1})
    after = canonical({"version": 1, "tasks": [1, 2], "name": "a"})
    lines = line_diff(before, after)
    assert not has_changes(lines)
    assert lines == [DiffLine("skipped", "8 unchanged lines", count=8)]


def test_a_changed_value_is_one_line_removed_and_one_added() -> None:
    before = canonical({"name": "flow", "timeoutPolicy": "ALERT_ONLY", "version": 1})
    after = canonical({"name": "flow", "timeoutPolicy": "TIME_OUT_WF", "version": 1})
    changed = [line for line in line_diff(before, after) if line.kind != "same"]
    assert changed == [
        DiffLine("removed", '  "timeoutPolicy": "ALERT_ONLY",', old=3),
        DiffLine("added", '  "timeoutPolicy": "TIME_OUT_WF",', new=3),
    ]


def test_long_unchanged_runs_fold_but_keep_context_around_a_change() -> None:
    before = canonical({f"k{i:02}": i for i in range(20)})
    after = canonical({**{f"k{i:02}": i for i in range(20)}, "k10": "ten"})
    lines = line_diff(before, after, context=2)
    kinds = [line.kind for line in lines]
    assert kinds == ["skipped", "same", "same", "removed", "added", "same", "same", "skipped"]
    assert lines[0] == DiffLine("skipped", "9 unchanged lines", count=9)
    assert lines[1].old == lines[1].new == 10  # line numbers survive the fold
    assert lines[-1].count == 8  # k11..k19 and the closing brace, less two


def test_a_new_definition_is_all_added() -> None:
    lines = line_diff(canonical(None), canonical({"name": "n"}))
    assert [line.kind for line in lines] == ["added", "added", "added"]
    assert [line.new for line in lines] == [1, 2, 3]


def test_text_is_kept_as_is_for_the_template_to_escape() -> None:
    hostile = "<script>window.pwned=1</script>"
    lines = line_diff(canonical({"a": 1}), canonical({"a": hostile}))
    assert any(hostile in line.text for line in lines if line.kind == "added")
