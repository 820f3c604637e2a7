"""Try one mutant of the last `make mutate` run by hand: put it in provider/, run the tests named, put it back.

A mutant the run reports surviving may be killed by a slow test the run did not reach, or be equivalent; this
is how to tell, one at a time, and how to check that a new test kills it:

python -m devkit.mutant show NAME                      # its diff
python -m devkit.mutant run NAME tests/test_a.py ...   # KILLED (exit 0) or SURVIVED (exit 1), code restored
python -m devkit.mutant apply NAME                     # leave it in place to read it or write a test, then
python -m devkit.mutant restore                        # put the code back (also after an interrupted run)

The mutant is read from the staged run (build/mutation/mutants/, written by `make mutate`), with the stdlib's
ast only: no mutmut needed. It is refused when the function in provider/ is no longer the one mutated.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import json
import subprocess
import sys
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from devkit.mutation import ROOT, STAGE  # the staged run `make mutate` lays out

APPLIED = ROOT / "build" / "mutant-applied.json"  # what `apply` changed, for `restore`


class Refused(Exception):
    """The mutant cannot be applied: it is unknown, or its function has changed since the run."""


@dataclass(frozen=True)
class Where:
    module: Path  # trailkeeper/fleet/matching.py
    owner: str | None  # the class of a method
    function: str  # the function's own name
    generated: str  # its name in the staged file, without the __mutmut_ suffix


def where(name: str) -> Where:
    """trailkeeper.fleet.matching.x_match__mutmut_3, or trailkeeper.fleet.matching.xǁSeenǁfrom_answers__mutmut_1."""
    head, sep, _number = name.rpartition("__mutmut_")
    module, dot, generated = head.rpartition(".")
    if not (sep and dot and generated.startswith("x")):
        raise Refused(f"{name!r} is not a mutant's name (e.g. trailkeeper.fleet.matching.x_match__mutmut_3)")
    path = Path(*module.split(".")).with_suffix(".py")
    if generated.startswith("xǁ"):
        _, owner, function = generated.split("ǁ", 2)
        return Where(path, owner, function, generated)
    return Where(path, None, generated[2:], generated)


def _function(tree: ast.Module, owner: str | None, function: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    body: list[ast.stmt] = tree.body
    if owner is not None:
        classes = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == owner]
        body = classes[0].body if classes else []
    found = [n for n in body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == function]
    return found[0] if found else None


def _text(lines: Sequence[str], node: ast.stmt) -> str:
    """The function from its `def` line (decorators left out) to its end, dedented."""
    return textwrap.dedent("".join(lines[node.lineno - 1 : node.end_lineno]))


def _renamed(text: str, old: str, new: str) -> str:
    return text.replace(f"def {old}(", f"def {new}(", 1)


def staged(name: str, stage: Path = STAGE) -> tuple[str, str]:
    """The function as the run found it and as this mutant has it, both under the function's own name."""
    place = where(name)
    path = stage / "mutants" / place.module
    if not path.is_file():
        raise Refused(f"no staged run holds {place.module} ({path}): run `make mutate` first")
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    tree = ast.parse("".join(lines))
    mutant_name = name.rpartition(".")[2]
    original = _function(tree, place.owner, f"{place.generated}__mutmut_orig")
    mutant = _function(tree, place.owner, mutant_name)
    if original is None or mutant is None:
        raise Refused(f"the staged run has no mutant {name}")
    return (
        _renamed(_text(lines, original), original.name, place.function),
        _renamed(_text(lines, mutant), mutant.name, place.function),
    )


def show(name: str, stage: Path = STAGE) -> str:
    before, after = staged(name, stage)
    return "".join(difflib.unified_diff(before.splitlines(True), after.splitlines(True), name, name))


def apply(name: str, root: Path = ROOT, stage: Path = STAGE, applied: Path = APPLIED) -> Path:
    """Put the mutant in place of its function in provider/; `restore` undoes it."""
    if applied.exists():
        raise Refused(f"a mutant is still applied ({applied}): run `python -m devkit.mutant restore` first")
    place = where(name)
    before, after = staged(name, stage)
    path = root / "provider" / place.module
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines(keepends=True)
    node = _function(ast.parse(source), place.owner, place.function)
    if node is None or _text(lines, node) != before:
        raise Refused(f"{place.function} in {path} is not the function the run mutated: run `make mutate` again")
    indent = lines[node.lineno - 1][: len(lines[node.lineno - 1]) - len(lines[node.lineno - 1].lstrip())]
    replaced = [*lines[: node.lineno - 1], textwrap.indent(after, indent), *lines[node.end_lineno :]]
    applied.parent.mkdir(parents=True, exist_ok=True)
    applied.write_text(json.dumps({"mutant": name, "path": str(path), "source": source}), encoding="utf-8")
    path.write_text("".join(replaced), encoding="utf-8")
    return path


def restore(applied: Path = APPLIED) -> str | None:
    """Put back the code `apply` changed; the mutant's name, or None when nothing was applied."""
    if not applied.exists():
        return None
    saved = json.loads(applied.read_text(encoding="utf-8"))
    Path(saved["path"]).write_text(saved["source"], encoding="utf-8")
    applied.unlink()
    return str(saved["mutant"])


def pytest(tests: Sequence[str], root: Path) -> int:
    command = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "--show-capture=no", *tests]
    return subprocess.run(command, cwd=root, check=False).returncode


def run(
    name: str,
    tests: Sequence[str],
    *,
    root: Path = ROOT,
    stage: Path = STAGE,
    applied: Path = APPLIED,
    runner: Callable[[Sequence[str], Path], int] = pytest,
) -> bool:
    """True when the tests fail with the mutant in place (it is killed); the code is restored either way."""
    apply(name, root, stage, applied)
    try:
        code = runner(tests, root)
    finally:
        restore(applied)
    if code > 2:  # 3: pytest's own error, 4: a usage error (a test path that does not exist), 5: no tests
        raise Refused(f"pytest exited {code} (no test judged the mutant): check the tests named")
    if code == 2:  # interrupted, or a collection error: a mutant that breaks an import is killed too
        print("pytest exited 2: read its output before counting the mutant killed", file=sys.stderr)
    return code != 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devkit.mutant", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("show", "run", "apply", "restore"))
    parser.add_argument("name", nargs="?", help="the mutant, as `make mutate` names it")
    parser.add_argument("tests", nargs="*", help="for run: the test files (or node ids) to run")
    args = parser.parse_args(argv)
    try:
        if args.command == "restore":
            restored = restore(APPLIED)
            print(f"restored the code {restored} changed" if restored else "nothing was applied")
            return 0
        if not args.name:
            parser.error(f"{args.command} needs a mutant's name")
        if args.command == "show":
            print(show(args.name, STAGE), end="")
        elif args.command == "apply":
            print(f"{args.name} applied to {apply(args.name, ROOT, STAGE, APPLIED)}")
        else:
            killed = run(args.name, args.tests, stage=STAGE, applied=APPLIED)
            print(f"{args.name}: {'KILLED' if killed else 'SURVIVED'}")
            return 0 if killed else 1
    except Refused as refusal:
        print(f"refused: {refusal}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
