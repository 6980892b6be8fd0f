"""What a JSON value must not hold to be stored: PostgreSQL's text and jsonb refuse the NUL
character, and the JSON encoder stops at a nesting depth (orjson: 255 levels)."""

from __future__ import annotations

from typing import Any

# Below orjson's recursion limit, with room for the envelope a value is stored in.
MAX_DEPTH = 200


def unstorable_part(value: Any, path: str) -> tuple[str, str] | None:
    """(where, what is wrong) for the first part of `value` that cannot be stored, or None."""
    stack: list[tuple[Any, str, int]] = [(value, path, 1)]
    while stack:
        item, where, depth = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return where, "must not contain the NUL character (\\u0000)"
        elif isinstance(item, dict | list):
            if depth > MAX_DEPTH:
                return where, f"is nested deeper than {MAX_DEPTH} levels"
            if isinstance(item, dict):
                for key, child in item.items():
                    if isinstance(key, str) and "\x00" in key:
                        return where, "has a key with the NUL character (\\u0000)"
                    stack.append((child, f"{where}.{key}", depth + 1))
            else:
                stack.extend((child, f"{where}[{i}]", depth + 1) for i, child in enumerate(item))
    return None
