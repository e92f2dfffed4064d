"""Adding an audit kind means one folder under audits/kinds/ and one line in the registry:
nothing else in the product names a kind."""

import ast
import re
from pathlib import Path

import pytest

from audits.kinds.registry import KINDS

ROOT = Path(__file__).resolve().parents[2]
NAMES = [module.KIND.name for module in KINDS]
# A kind may build on another's pure probe or results; that is a use, not a registration.
# Every kind that reports per group names its groups as the fairness audit does.
BUILDS_ON = {"fairness": {"drift", "data_quality", "robustness", "privacy", "efficiency"},
             "privacy": {"dp_retraining"}, "robustness": {"poisoning"}}
# The drift review feature (batches, schedules, recommendations) is the drift kind's own app.
FEATURE_APPS = {"drift": "audits/drift/"}
ALLOWED = ("audits/kinds/registry.py", "governance/demo/")  # the one line per kind; the demo plays them


def _allowed(path: str, kind: str) -> bool:
    if path.startswith(f"audits/kinds/{kind}/") or path.startswith(ALLOWED) or "/migrations/" in path:
        return True
    if kind in FEATURE_APPS and path.startswith(FEATURE_APPS[kind]):
        return True
    return any(path.startswith(f"audits/kinds/{user}/") for user in BUILDS_ON.get(kind, ()))


def _mentions(path: Path, kind: str) -> list[int]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".html":
        return [i for i, line in enumerate(text.splitlines(), 1) if re.search(rf"[\"']{kind}[\"']", line)]
    lines = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Constant) and node.value == kind:
            lines.append(node.lineno)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            if any(m == f"audits.kinds.{kind}" or m.startswith(f"audits.kinds.{kind}.") for m in modules):
                lines.append(node.lineno)
    return lines


def test_the_registry_lists_every_kind_folder_once():
    folders = sorted(p.parent.name for p in (ROOT / "audits" / "kinds").glob("*/kind.py"))
    assert sorted(NAMES) == folders


@pytest.mark.parametrize("kind", NAMES)
def test_nothing_outside_the_kinds_folder_names_it(kind):
    found = []
    for top in ("governance", "audits"):
        for path in sorted((ROOT / top).rglob("*")):
            rel = path.relative_to(ROOT).as_posix()
            if path.suffix not in (".py", ".html") or _allowed(rel, kind):
                continue
            found += [f"{rel}:{line}" for line in _mentions(path, kind)]
    assert found == []
