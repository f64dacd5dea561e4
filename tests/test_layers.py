"""The package's plan holds: one-way layers (import-linter's contracts in pyproject.toml), no
import loops between modules, and nothing imports the app or its pages."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = str(Path(sys.executable).parent / "lint-imports")


def lint_imports(project: Path) -> subprocess.CompletedProcess[str]:
    """Run lint-imports on the kzdash package found in `project`, with its pyproject's contracts."""
    env = {**os.environ, "PYTHONPATH": str(project)}
    return subprocess.run([LINT_IMPORTS, "--no-cache"], cwd=project, capture_output=True, text=True, env=env,
                          timeout=120)


def test_the_layer_contracts_are_kept() -> None:
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "0 broken" in done.stdout


@pytest.mark.parametrize(("module", "line", "contract"), [
    # text must not reach up into the dashboard
    ("text/textnorm.py", "from kzdash.dashboard import queries", "One-way flow"),
    # per-article extraction must not depend on how a build is stored
    ("extract/stances.py", "import kzdash.pipeline.store", "One-way flow"),
    # a lazy import counts as much as a top-level one
    ("pipeline/store.py", "def _f():\n    import kzdash.ui", "One-way flow"),
    ("dashboard/queries.py", "import streamlit", "Only the Streamlit frame imports streamlit"),
])
def test_a_deliberate_violation_fails(tmp_path: Path, module: str, line: str, contract: str) -> None:
    shutil.copytree(ROOT / "kzdash", tmp_path / "kzdash", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / "kzdash" / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")
    done = lint_imports(tmp_path)
    assert done.returncode != 0
    assert contract in done.stdout.split("Broken contracts")[1]


def test_no_module_imports_another_in_a_loop() -> None:
    graph = grimp.build_graph("kzdash")
    loops = []
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back:
                loops.append(" -> ".join([importer, *back]))
    assert not loops, "\n".join(loops)


def imported_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_nothing_imports_the_app_or_its_pages() -> None:
    files = [*ROOT.glob("kzdash/**/*.py"), *ROOT.glob("tests/**/*.py"), *ROOT.glob("bench/*.py"),
             *ROOT.glob("pages/*.py"), ROOT / "app.py"]
    offenders = [str(p.relative_to(ROOT)) for p in files if imported_names(p) & {"app", "pages"}]
    assert not offenders
