"""The house: each folder one capability, the doors above them, and no import that runs back up.

docs/development.md draws the map this test holds: the pure model of a trail at the bottom, then the AWS
edge, the engine, the capabilities (fleet, export, audit, each free to build on the ones below it), the
organization layer that runs them in every account, and the doors on top, which share only what lies
below them. The old `trailkeeper.drift` names the docs once gave keep resolving, to the same objects.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "provider" / "trailkeeper"

# Floors, from the ground up; a module may import its own floor and those below, never one above.
FLOORS: tuple[tuple[str, ...], ...] = (
    ("__init__", "errors", "redaction", "observability", "collector", "botocore_model", "permissions", "typed_tuple"),
    ("trail",),
    ("aws",),
    ("engine",),
    ("fleet",),
    ("export",),
    ("audit",),
    ("org",),
    ("cfn", "cli", "invocations"),  # the doors: none imports another
    ("routing",),
    ("handler",),
    ("drift",),  # old names only
)
DOORS = FLOORS[8]


ROOMS = {p.stem for p in PACKAGE.iterdir() if p.suffix == ".py" or (p / "__init__.py").exists()}


def _room(module: str) -> str:
    """The room a module of the package is in: its folder, or the module itself at the top; a name from the
    package's face (`trailkeeper`, `from trailkeeper import __version__`) is the face's."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in ROOMS else "__init__"


def _floor(room: str) -> int:
    return next(level for level, rooms in enumerate(FLOORS) if room in rooms)


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return {name for name in found if name.startswith("trailkeeper.")}


def _modules() -> dict[str, Path]:
    return {
        ".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__"): p
        for p in PACKAGE.rglob("*.py")
    }


def _graph() -> dict[str, set[str]]:
    return {module: _imports(path) for module, path in _modules().items()}


def _wrong(graph: dict[str, set[str]]) -> list[str]:
    """Every import that runs back up (to a higher floor), and every door importing another door."""
    wrong = []
    for module, imported in graph.items():
        here = _room(module)
        for name in sorted(imported):
            there = _room(name)
            if _floor(there) > _floor(here) or (here in DOORS and there in DOORS and there != here):
                wrong.append(f"{module} -> {name}")
    return wrong


def test_every_module_has_a_floor_and_says_what_it_is_for() -> None:
    for module, path in _modules().items():
        assert _floor(_room(module)) >= 0
        assert ast.get_docstring(ast.parse(path.read_text())), f"{path.relative_to(ROOT)}: say what it is for"


def test_no_import_runs_back_up_and_no_door_imports_another() -> None:
    graph = _graph()
    assert graph["trailkeeper.cli.main"] and graph["trailkeeper.audit.judge"]  # the graph was read
    assert _wrong(graph) == []


def test_the_check_would_find_an_import_that_runs_back_up_or_a_door_that_calls_another() -> None:
    graph = _graph()
    graph["trailkeeper.trail.record"] = graph["trailkeeper.trail.record"] | {"trailkeeper.audit.controls"}
    graph["trailkeeper.cli.plan"] = graph["trailkeeper.cli.plan"] | {"trailkeeper.invocations.direct_run"}
    assert _wrong(graph) == [
        "trailkeeper.cli.plan -> trailkeeper.invocations.direct_run",
        "trailkeeper.trail.record -> trailkeeper.audit.controls",
    ]


@pytest.mark.parametrize(
    ("old", "new", "name"),
    [
        ("trailkeeper.drift.report", "trailkeeper.fleet.report", "SCHEMA"),
        ("trailkeeper.drift.findings", "trailkeeper.audit.findings", "AUDIT_SCHEMA"),
        ("trailkeeper.drift.audit", "trailkeeper.audit.reads", "PERMISSIONS"),
        ("trailkeeper.drift.audit_lambda", "trailkeeper.audit.answer", "SCHEMA"),
    ],
)
def test_the_names_the_docs_once_gave_keep_working(old: str, new: str, name: str) -> None:
    assert getattr(importlib.import_module(old), name) is getattr(importlib.import_module(new), name)


def test_the_command_line_does_not_load_the_lambdas_logging() -> None:
    # Powertools' logger writes JSON lines to stdout: loaded by the CLI, a warning would break `--json`'s one
    # document (bench/peer.py read two). Only the Lambda's doors set it up.
    code = "import sys, trailkeeper.cli.main; print('trailkeeper.observability' in sys.modules)"
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert shown.stdout.strip() == "False"
