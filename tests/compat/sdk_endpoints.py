"""The HTTP endpoints the official SDKs' client classes call, read from the installed packages.

Python: every public method of the ``*ResourceApi`` classes in ``conductor-python``
(``conductor/client/http/api/*.py``), followed through the ``*_with_http_info`` method it
delegates to until the ``call_api(path, method, ...)`` call. The SDK's base URL ends in ``/api``,
so its paths get that prefix here.
JavaScript: every ``static`` method of the generated service classes (``var XResource = class``)
in ``@io-orkes/conductor-javascript``'s ``dist/index.mjs``, which call
``(options.client ?? client).get({... url: "/api/..." ...})``.
"""

from __future__ import annotations

import ast
import re
import sysconfig
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON_API_DIR = Path(sysconfig.get_paths()["purelib"]) / "conductor" / "client" / "http" / "api"
JS_PACKAGE = ROOT / "tests" / "e2e" / "js" / "node_modules" / "@io-orkes" / "conductor-javascript"


@dataclass(frozen=True)
class Endpoint:
    sdk: str  # "python" or "javascript"
    client: str  # the client class
    name: str  # the method
    method: str  # HTTP method
    path: str  # path template, from /api


def _call_api(node: ast.AST) -> tuple[str, str] | None:
    for call in ast.walk(node):
        if (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr == "call_api"
            and len(call.args) >= 2
            and isinstance(call.args[0], ast.Constant)
            and isinstance(call.args[1], ast.Constant)
        ):
            return str(call.args[1].value).upper(), "/api" + str(call.args[0].value)
    return None


def _delegates(node: ast.AST) -> list[str]:
    return [
        call.func.attr
        for call in ast.walk(node)
        if isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and isinstance(call.func.value, ast.Name)
        and call.func.value.id == "self"
    ]


def python_endpoints(api_dir: Path = PYTHON_API_DIR) -> list[Endpoint]:
    found = []
    for module in sorted(api_dir.glob("*_api.py")):
        tree = ast.parse(module.read_text())
        for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
            methods = {
                f.name: f for f in cls.body if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)
            }
            for name, function in methods.items():
                if name.startswith("_") or name.endswith("_with_http_info"):
                    continue
                target, seen = _call_api(function), {name}
                queue = _delegates(function)
                while target is None and queue:
                    callee = queue.pop(0)
                    if callee in methods and callee not in seen:
                        seen.add(callee)
                        target = _call_api(methods[callee])
                        queue += _delegates(methods[callee])
                if target is not None:
                    found.append(Endpoint("python", cls.name, name, *target))
    return found


_JS_CLASS = re.compile(r"^var (\w+) = class \{$", re.M)
_JS_METHOD = re.compile(
    r"^  static (\w+)\(options\) \{\n\s*return \(options(?:\?)?\.client \?\? client\)\.(\w+)\(\{"
    r"(.*?)^  \}$",
    re.M | re.S,
)
_JS_URL = re.compile(r'\burl: "([^"]+)"')


def javascript_endpoints(package: Path = JS_PACKAGE) -> list[Endpoint]:
    source = (package / "dist" / "index.mjs").read_text()
    starts = list(_JS_CLASS.finditer(source))
    found = []
    for i, start in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(source)
        for method in _JS_METHOD.finditer(source, start.end(), end):
            url = _JS_URL.search(method.group(3))
            if url is not None:
                found.append(
                    Endpoint(
                        "javascript",
                        start.group(1),
                        method.group(1),
                        method.group(2).upper(),
                        url.group(1),
                    )
                )
    return found
