"""The layout's promises that the import contract (pyproject.toml, `lint-imports`) cannot state:
no import cycle, a package root of entry points and folders, small files, a core that reads
no clock."""

from __future__ import annotations

import re

import grimp

from tests.paths import ROOT

PACKAGE = ROOT / "monitor"
CLOCK = re.compile(r"\b(?:datetime\.now|datetime\.utcnow|date\.today|time\.time|time\.monotonic)\(")
PURE = ["core", "digest/model.py", "digest/build.py", "digest/steps.py"]
MAX_LINES = 330  # "about 300": a file past this is two files


def test_no_module_takes_part_in_an_import_cycle() -> None:
    graph = grimp.build_graph("monitor", exclude_type_checking_imports=True)
    cycles = []
    for module in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            if imported != module and graph.chain_exists(importer=imported, imported=module):
                cycles.append(f"{module} -> {imported}")
    assert cycles == []


def test_the_package_root_holds_only_the_entry_points_and_folders() -> None:
    files = sorted(p.name for p in PACKAGE.iterdir() if p.is_file())
    assert files == ["__init__.py", "__main__.py", "cli.py"]


def test_no_module_is_longer_than_about_300_lines() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def test_the_pure_core_never_reads_the_clock() -> None:
    paths = [
        p
        for part in PURE
        for p in ([PACKAGE / part] if part.endswith(".py") else (PACKAGE / part).rglob("*.py"))
    ]
    assert len(paths) > 5
    readers = [str(p.relative_to(ROOT)) for p in paths if CLOCK.search(p.read_text())]
    assert readers == []
