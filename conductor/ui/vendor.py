"""The web UI's third-party front-end files: built files of pinned npm packages, listed with
their checksums in vendor.json and served from static/vendor/. Nothing is fetched at run time.

`python -m conductor.ui.vendor --verify` fetches each pinned package with `npm pack` and checks
that the files here are byte for byte the package's own (needs npm and the registry).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path


@dataclass(frozen=True)
class VendoredFile:
    package: str  # name@version on npm
    path: str  # under conductor/ui
    source: str  # inside the npm tarball
    sha256: str


def manifest() -> list[VendoredFile]:
    text = resources.files("conductor.ui").joinpath("vendor.json").read_text("utf-8")
    return [
        VendoredFile(entry["npm"], path, spec["from"], spec["sha256"])
        for entry in json.loads(text).values()
        for path, spec in entry["files"].items()
    ]


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def verify_against_npm() -> list[str]:
    """Problems found comparing the vendored files with freshly packed npm tarballs."""
    problems: list[str] = []
    root = Path(str(resources.files("conductor.ui")))
    with tempfile.TemporaryDirectory() as work:
        for package in sorted({f.package for f in manifest()}):
            packed = subprocess.run(
                ["npm", "pack", package, "--silent"],
                cwd=work,
                capture_output=True,
                text=True,
                check=True,
                timeout=120,
            ).stdout.split()[-1]
            with tarfile.open(Path(work) / packed) as tarball:
                for file in (f for f in manifest() if f.package == package):
                    member = tarball.extractfile(file.source)
                    if member is None or digest(member.read()) != file.sha256:
                        problems.append(f"{file.path}: not {package}'s {file.source}")
                    if digest((root / file.path).read_bytes()) != file.sha256:
                        problems.append(f"{file.path}: differs from vendor.json")
    return problems


if __name__ == "__main__":
    if sys.argv[1:] != ["--verify"]:
        sys.exit("usage: python -m conductor.ui.vendor --verify")
    found = verify_against_npm()
    print("\n".join(found) or "every vendored file matches its npm package")
    sys.exit(1 if found else 0)
