"""Regenerate conductor_oss_routes.json from a Conductor OSS checkout's Spring controllers.

    python -m tests.compat.extract_oss_routes CONDUCTOR_GIT_DIR \
        > tests/compat/conductor_oss_routes.json

Reads every ``@RestController`` under the modules the OSS ``server`` bundles (``rest``,
``scheduler``, ``ai``, ``agentspan``, ``postgres-external-storage``) at ``HEAD`` with ``git show``
and lists each (HTTP method, path) its mapping annotations declare: the class's
``@RequestMapping`` prefix joined with the method's ``@GetMapping``/``@PostMapping``/... path;
``${property:default}`` placeholders take their default. A controller guarded by a
``@ConditionalOnProperty``/``@Conditional`` keeps that guard in ``condition`` so that the test can
tell a route every server serves from one behind an opt-in flag.
This is a development helper: the test reads only the JSON it writes.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

_MODULES = ("rest/", "scheduler/", "ai/", "agentspan/", "postgres-external-storage/")
_VERBS = {"Get": "GET", "Post": "POST", "Put": "PUT", "Delete": "DELETE", "Patch": "PATCH"}
_ANNOTATION = re.compile(r"@(Get|Post|Put|Delete|Patch|Request)Mapping\b")
_CONDITION = re.compile(r"@Conditional\w*\s*\(")
_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
_ARRAY = re.compile(r'\s*\{(\s*"(?:[^"\\]|\\.)*"\s*,?)*\s*\}')
_PLACEHOLDER = re.compile(r"\$\{[^:}]*:([^}]*)\}")


def _git(repo: str, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", repo, *args], check=True, capture_output=True, text=True
    ).stdout


def _balanced(text: str, start: int) -> str:
    """The text inside the parentheses that open at ``start`` (or "" if none open there)."""
    if start >= len(text) or text[start] != "(":
        return ""
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "(":
            depth += 1
        elif text[i] == ")":
            depth -= 1
            if depth == 0:
                return text[start + 1 : i]
    raise ValueError("unbalanced annotation")


def _paths(args: str, constants: dict[str, str]) -> list[str]:
    """The paths an annotation's arguments name: its bare value, ``value =`` or ``path =``."""
    args = _PLACEHOLDER.sub(r"\1", args)
    named = re.search(r"\b(value|path)\s*=\s*", args)
    if named:
        rest = args[named.end() :]
    elif re.match(r"\s*\w+\s*=", args):  # only other attributes (produces = ...)
        return [""]
    else:
        rest = args
    array = _ARRAY.match(rest)
    body = array.group(0) if array else re.split(r",\s*\w+\s*=", rest)[0]
    found = _STRING.findall(body)
    found += [constants[w] for w in re.findall(r"\b[A-Z][A-Z_]+\b", body) if w in constants]
    return found or [""]


def _join(prefix: str, path: str) -> str:
    return "/" + "/".join(p.strip("/") for p in (prefix, path) if p.strip("/"))


def _constants(repo: str) -> dict[str, str]:
    source = _git(
        repo,
        "show",
        "HEAD:rest/src/main/java/com/netflix/conductor/rest/config/RequestMappingConstants.java",
    )
    values: dict[str, str] = {}
    for name, expr in re.findall(r"String\s+(\w+)\s*=\s*([^;]+);", source):
        parts = [p.strip() for p in expr.split("+")]
        values[name] = "".join(values.get(p, p.strip('"')) for p in parts)
    return values


def routes(repo: str) -> list[dict[str, str]]:
    constants = _constants(repo)
    files = [
        f
        for f in _git(repo, "ls-tree", "-r", "HEAD", "--name-only").splitlines()
        if f.startswith(_MODULES) and "/src/main/" in f and f.endswith(".java")
    ]
    found: list[dict[str, str]] = []
    for path in files:
        source = _git(repo, "show", f"HEAD:{path}")
        if "@RestController" not in source:
            continue
        declaration = re.search(r"\n(public\s+)?(abstract\s+)?class\s+(\w+)", source)
        assert declaration, path
        head, body = source[: declaration.start()], source[declaration.end() :]
        prefixes = [""]
        for match in _ANNOTATION.finditer(head):
            prefixes = _paths(_balanced(head, match.end()), constants)
        condition = " ".join(
            f"{m.group(0)}{_balanced(head, m.end() - 1)})" for m in _CONDITION.finditer(head)
        )
        for match in _ANNOTATION.finditer(body):
            args = _balanced(body, match.end())
            verb = match.group(1)
            if verb == "Request":
                methods = re.findall(r"RequestMethod\.(\w+)", args)
                assert methods, f"{path}: @RequestMapping without a method"
            else:
                methods = [_VERBS[verb]]
            for prefix in prefixes:
                for sub in _paths(args, constants):
                    for method in methods:
                        entry = {
                            "method": method,
                            "path": _join(prefix, sub),
                            "controller": declaration.group(3),
                            "module": path.split("/")[0],
                        }
                        if condition:
                            entry["condition"] = re.sub(r"\s+", " ", condition)
                        found.append(entry)
    return found


def main() -> None:
    repo = sys.argv[1]
    commit = _git(repo, "rev-parse", "HEAD").strip()
    version = _git(repo, "describe", "--tags").strip()
    listed = routes(repo)
    lines = [
        "{",
        '  "source": "github.com/conductor-oss/conductor",',
        f'  "commit": "{commit}",',
        f'  "version": "{version}",',
        '  "routes": [',
    ]
    lines += [f"    {json.dumps(r)}," for r in listed]
    lines[-1] = lines[-1].rstrip(",")
    lines += ["  ]", "}"]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
