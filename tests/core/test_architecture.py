"""The shape of the code: three layers, no import cycles, views that never touch the session,
and services that commit once."""
from __future__ import annotations

import ast
import itertools
import pathlib
import subprocess
import sys

import grimp
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "residency"


def _modules(folder: pathlib.Path):
    for path in sorted(folder.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"))


def test_import_linter_keeps_every_contract():
    lint = pathlib.Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " 0 broken" in result.stdout


def test_no_module_imports_another_that_imports_it_back():
    graph = grimp.build_graph("residency")
    modules = sorted(graph.modules)
    cycles = []
    for importer, imported in itertools.permutations(modules, 2):
        if importer < imported and graph.direct_import_exists(importer=importer, imported=imported):
            if graph.find_shortest_chain(importer=imported, imported=importer):
                cycles.append((importer, imported))
    assert cycles == []


def test_no_imports_hide_inside_functions():
    inside = []
    for path, tree in _modules(PACKAGE):
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for inner in ast.walk(node):
                    if isinstance(inner, (ast.Import, ast.ImportFrom)):
                        inside.append(f"{path.relative_to(ROOT)}:{inner.lineno}")
    assert inside == []


def test_no_web_module_touches_the_database_session():
    offenders = []
    for path, tree in _modules(PACKAGE / "web"):
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr == "session" and isinstance(node.value, ast.Name) \
                    and node.value.id == "db":
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            if isinstance(node, ast.ImportFrom) and node.module == "residency.core.extensions" \
                    and any(a.name == "db" for a in node.names):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} imports db")
    assert offenders == []


def test_only_the_unit_of_work_commits_or_rolls_back():
    allowed = {PACKAGE / "core" / "uow.py", PACKAGE / "demo.py"}
    offenders = []
    for path, tree in _modules(PACKAGE):
        if path in allowed:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr in ("commit", "rollback") and "session" in ast.unparse(node.func.value):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {ast.unparse(node.func)}")
    assert offenders == []


def test_only_the_workflow_engine_assigns_a_status():
    offenders = []
    for path, tree in _modules(PACKAGE):
        if path == PACKAGE / "core" / "workflow.py" or path.name == "demo.py":
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Attribute) and target.attr == "status":
                        offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


@pytest.mark.parametrize("area", sorted(p.name for p in (PACKAGE / "domain").iterdir()
                                        if p.is_dir() and (p / "__init__.py").exists()))
def test_every_domain_area_is_a_package_of_its_own(area):
    folder = PACKAGE / "domain" / area
    assert any(folder.glob("*.py"))
    for path, tree in _modules(folder):
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module in ("flask",):
                names = {a.name for a in node.names}
                assert not names & {"request", "session", "flash", "render_template", "redirect", "g"}, path
