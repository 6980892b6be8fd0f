"""The vendored front-end files are exactly those listed, with their licences beside them."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from conductor.ui.vendor import digest, manifest

ROOT = Path(str(resources.files("conductor.ui")))


def test_every_vendored_file_matches_its_checksum() -> None:
    files = manifest()
    assert files
    for file in files:
        assert digest((ROOT / file.path).read_bytes()) == file.sha256, file.path


def test_every_vendored_package_ships_its_licence() -> None:
    for package in {f.package for f in manifest()}:
        paths = [f.path for f in manifest() if f.package == package]
        assert any(Path(p).name.upper().startswith("LICENSE") for p in paths), package


def test_nothing_unlisted_is_vendored() -> None:
    listed = {f.path for f in manifest()}
    present = {
        str(p.relative_to(ROOT)) for p in (ROOT / "static" / "vendor").rglob("*") if p.is_file()
    }
    assert present == listed
