"""Layering rules that keep the engine pure and the worker library independent."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENGINE_MAY_IMPORT = ("conductor.engine", "conductor.errors")
ENGINE_FORBIDDEN = {"asyncio", "asyncpg", "aiohttp", "time", "random", "uuid", "os", "socket"}


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_engine_is_pure() -> None:
    for path in (ROOT / "conductor" / "engine").glob("*.py"):
        for name in imports(path):
            top = name.split(".")[0]
            assert top not in ENGINE_FORBIDDEN, f"{path.name} imports {name}"
            if top == "conductor":
                assert name.startswith(ENGINE_MAY_IMPORT), f"{path.name} imports {name}"


def test_engine_never_reads_the_clock() -> None:
    for path in (ROOT / "conductor" / "engine").glob("*.py"):
        text = path.read_text()
        for call in ("datetime.now", "datetime.utcnow", "date.today", "time.time"):
            assert call not in text, f"{path.name} calls {call}"


def test_store_never_imports_the_api_or_services() -> None:
    for path in (ROOT / "conductor" / "store").glob("*.py"):
        for name in imports(path):
            assert not name.startswith(
                ("conductor.api", "conductor.timers", "conductor.services")
            ), f"{path.name} imports {name}"
