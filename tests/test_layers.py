"""The package's layering holds: the import-linter contracts in pyproject.toml, and no import
cycle anywhere in ``switchyard`` (function-level and TYPE_CHECKING imports count too, so a
deferred import cannot hide one)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import grimp

import switchyard

SRC = Path(switchyard.__file__).resolve().parent.parent
REPO = SRC.parent


def test_the_import_contracts_hold() -> None:
    # `lint-imports`, as `make lint` runs it, on this tree's package (not an installed one)
    command = "from importlinter.cli import lint_imports_command; lint_imports_command()"
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    result = subprocess.run(
        [sys.executable, "-c", command, "--no-cache"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_module_imports_itself_back() -> None:
    graph = grimp.build_graph("switchyard", cache_dir=None)  # every import, however deferred
    cycles: set[tuple[str, ...]] = set()
    for importer in graph.modules:
        for imported in graph.find_modules_directly_imported_by(importer):
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back is not None:  # importer -> imported -> ... -> importer
                ring = (importer, *back[:-1])
                first = ring.index(min(ring))  # one spelling per cycle
                cycles.add((*ring[first:], *ring[:first], ring[first]))
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in sorted(cycles))
