"""`conductor` is a namespace package shared with the official SDK (`conductor.client`)."""

from __future__ import annotations

import importlib
from pathlib import Path


def test_server_has_no_top_level_init() -> None:
    root = Path(__file__).resolve().parents[2]
    assert not (root / "conductor" / "__init__.py").exists()


def test_server_and_official_sdk_import_side_by_side() -> None:
    server = importlib.import_module("conductor.engine.decider")
    sdk = importlib.import_module("conductor.client.configuration.configuration")
    assert hasattr(server, "decide")
    assert hasattr(sdk, "Configuration")


def test_worker_library_never_imports_the_server() -> None:
    root = Path(__file__).resolve().parents[2] / "workers"
    for path in root.rglob("*.py"):
        text = path.read_text()
        assert "import conductor" not in text and "from conductor" not in text, path
