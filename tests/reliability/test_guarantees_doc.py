"""The README's Guarantees section cannot drift from the tests: every test it names
exists, and every promise names at least one test (the stated limits excepted)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"


def _guarantees() -> str:
    text = README.read_text(encoding="utf-8")
    return text.split("\n## Guarantees\n", 1)[1].split("\n### How the guarantees are tested", 1)[0]


REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")


def _bullets() -> list[str]:
    """The list items of the document, each joined into one string."""
    items: list[str] = []
    for line in _guarantees().splitlines():
        if line.startswith("- "):
            items.append(line)
        elif line.startswith("  ") and items:
            items[-1] += " " + line.strip()
    return items


def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name for node in tree.body if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
    }


def test_every_test_the_guarantees_name_exists() -> None:
    references = REFERENCE.findall(_guarantees())
    assert len(references) > 30
    missing = [f"{file}::{name}" for file, name in references if name not in _test_names(ROOT / file)]
    assert not missing


def test_every_promise_names_a_test() -> None:
    promises = [item for item in _bullets() if not item.startswith("- The limit")]
    assert promises
    unbacked = [item[:80] for item in promises if not REFERENCE.search(item)]
    assert not unbacked
