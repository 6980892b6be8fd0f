"""The layer order (docs/architecture.md): a module imports only its own layer and those below.

Every module of the server belongs to exactly one layer, so a new top-level module must be
placed here before it can be imported by anything.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Lowest first.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("errors", ("conductor.errors",)),
    ("engine", ("conductor.engine",)),
    (
        "base",
        (
            "conductor.clock",
            "conductor.config",
            "conductor.metrics",
            "conductor.wakeups",
            "conductor.search_query",
            "conductor.background",
            "conductor.roles",
            "conductor.logs",
            "conductor.faults",
        ),
    ),
    ("store", ("conductor.store",)),
    ("wire", ("conductor.wire",)),
    ("executor", ("conductor.executor", "conductor.group_commit", "conductor.hand_off")),
    ("timers", ("conductor.timers",)),
    ("services", ("conductor.services",)),
    ("api", ("conductor.api",)),
    ("ui", ("conductor.ui",)),
    (
        "composition",
        (
            "conductor.wiring",
            "conductor.app",
            "conductor.cli",
            "conductor.cli_keys",
            "conductor.cli_db",
            "conductor.cli_client",
            "conductor.preflight",
            "conductor.processes",
            "conductor.testing",
            "conductor.__main__",
        ),
    ),
)
ENGINE_MAY_IMPORT = ("conductor.engine", "conductor.errors")
ENGINE_FORBIDDEN = {"asyncio", "asyncpg", "aiohttp", "time", "random", "uuid", "os", "socket"}


def layer_of(module: str) -> int | None:
    for index, (_name, prefixes) in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return index
    return None


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.level:  # relative: resolve against the importing package
                package = module_name(path).split(".")[: -node.level]
                yield ".".join([*package, node.module])
            else:
                yield node.module


SERVER_MODULES = sorted((ROOT / "conductor").rglob("*.py"))


@pytest.mark.parametrize("path", SERVER_MODULES, ids=lambda p: module_name(p))
def test_every_module_belongs_to_a_layer(path: Path) -> None:
    assert layer_of(module_name(path)) is not None, "add it to LAYERS"


@pytest.mark.parametrize("path", SERVER_MODULES, ids=lambda p: module_name(p))
def test_no_module_imports_a_layer_above_its_own(path: Path) -> None:
    own = layer_of(module_name(path))
    assert own is not None
    for name in imports(path):
        if not name.startswith("conductor.") or name.startswith("conductor.client"):
            continue
        target = layer_of(name)
        assert target is not None, f"{name} belongs to no layer"
        assert target <= own, (
            f"{module_name(path)} ({LAYERS[own][0]}) imports {name} ({LAYERS[target][0]})"
        )


def test_the_layer_table_catches_an_upward_import() -> None:
    assert layer_of("conductor.executor") > layer_of("conductor.store")  # type: ignore[operator]
    assert layer_of("conductor.services.lanes") > layer_of("conductor.timers.routes")  # type: ignore[operator]
    assert layer_of("conductor.somewhere_new") is None


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


def test_the_worker_library_imports_nothing_of_the_server() -> None:
    for path in (ROOT / "workers").rglob("*.py"):
        for name in imports(path):
            assert name.split(".")[0] != "conductor", f"{path} imports {name}"
