"""`make mutate`: mutation testing of the pure core and the CloudFormation edge, and its report.

mutmut 3 names each mutant after its file's path relative to where it runs (provider/trailkeeper/trail/rules.py
gives provider.trailkeeper.trail.rules.x_...), while the tests import trailkeeper.trail.rules: the two never
match, and every mutant would be reported "no tests". mutmut only strips a leading "src." and only puts
mutants/, mutants/src and mutants/source on sys.path. So this script lays out a staging copy,
build/mutation/, with trailkeeper/ at its root beside tests/ (pyproject.toml's [tool.mutmut] is written for
that layout), runs mutmut there and writes build/mutation-report.md: the score per module, every surviving
mutant with its diff, and the mutants tests/mutation/equivalent.md sets aside as equivalent (with why).

python -m devkit.mutation                 # stage afresh, run everything, report
python -m devkit.mutation --jobs 2        # mutmut's --max-children (make mutate uses 2, MUTATE_JOBS; default here 1)
python -m devkit.mutation --keep          # reuse the previous run's results (mutmut re-tests what changed)
python -m devkit.mutation --jobs 2 'trailkeeper.trail.tags.*'   # re-test only these, keep the other results
python -m devkit.mutation --report-only   # only write the report from the last run
python -m devkit.mutation --jobs 2 --two-pass 'trailkeeper.trail.*'   # pure tests first, then the survivors

--two-pass runs each mutant first against the tests that start no local AWS (devkit/mutation_order.py), where
most die in a second or two, then re-tests only the survivors (and the mutants no such test reaches) against
every test that reaches them, with the statistics traced again. The verdicts are the same as one full pass:
a mutant survives only if the whole selection lets it.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import re
import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAGE = ROOT / "build" / "mutation"
REPORT = ROOT / "build" / "mutation-report.md"
EQUIVALENT = ROOT / "tests" / "mutation" / "equivalent.md"
COPIED = (  # what the tests read besides the code (pyproject.toml's also_copy lists the same for mutmut)
    "tests",
    "devkit",
    "events",
    "examples",
    "docs",
    "template.yaml",
    "org-reconcile.yaml",
    "org-reconcile.asl.json",
    "member-role.yaml",
    "Makefile",
    "README.md",
    "pyproject.toml",
)
KILLED = frozenset({"killed", "timeout", "caught by type check"})
UNTESTED = frozenset({"not checked", "check was interrupted by user", "skipped"})  # not run: no verdict
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis", "*.egg-info")
_RESULT = re.compile(r"^\s+(?P<name>\S+): (?P<status>.+)$")
_LISTED = re.compile(r"^- `(?P<name>[^`]+)`: (?P<reason>.+)$")


def mutmut() -> str:
    return str(Path(sys.executable).with_name("mutmut"))


def stage(keep: bool) -> None:
    """Copy the code and the tests into the staging directory, trailkeeper/ at its root."""
    if not keep and STAGE.exists():
        shutil.rmtree(STAGE)
    STAGE.mkdir(parents=True, exist_ok=True)
    for name in ("trailkeeper", *COPIED):
        target = STAGE / name
        if target.is_dir():
            shutil.rmtree(target)
        source = ROOT / "provider" / name if name == "trailkeeper" else ROOT / name
        if source.is_dir():
            shutil.copytree(source, target, ignore=_IGNORE)
        else:
            shutil.copy2(source, target)
    if keep:  # mutmut copies the tests into mutants/ once; refresh them so new tests count
        for name in COPIED:
            source, target = STAGE / name, STAGE / "mutants" / name
            if target.is_dir():
                shutil.rmtree(target)
                shutil.copytree(source, target, ignore=_IGNORE)


STATS = STAGE / "mutants" / "mutmut-stats.json"  # which tests reach which function, traced by mutmut


def run(jobs: int, names: list[str], pure: bool = False) -> None:
    env = {**os.environ, "TRAILKEEPER_MUTATE_PURE": "1" if pure else "0"}
    subprocess.run([mutmut(), "run", "--max-children", str(jobs), *names], cwd=STAGE, check=True, env=env)


def two_passes(jobs: int, names: list[str]) -> None:
    """The pure tests first; then what they left alive, against every test, with the reach traced again."""
    run(jobs, names, pure=True)
    wanted = [m.name for m in results() if m.status not in KILLED and matches(m.name, names)]
    if not wanted:
        return
    STATS.unlink(missing_ok=True)  # the first pass traced the pure tests only
    stage(keep=True)
    run(jobs, wanted)


def matches(name: str, patterns: list[str]) -> bool:
    return not patterns or any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


@dataclass(frozen=True)
class Mutant:
    name: str
    status: str

    @property
    def module(self) -> str:
        parts = self.name.split(".")
        index = next(i for i, part in enumerate(parts) if part.startswith(("x_", "xǁ")))
        return ".".join(parts[:index])


def results() -> list[Mutant]:
    out = subprocess.run(
        [mutmut(), "results", "--all", "true"], cwd=STAGE, check=True, capture_output=True, text=True
    ).stdout
    return [Mutant(m["name"], m["status"].strip()) for m in map(_RESULT.match, out.splitlines()) if m]


def equivalent() -> dict[str, str]:
    """Mutants set aside (names or globs), with the reason, from EQUIVALENT: `- `name`: reason` lines."""
    lines = EQUIVALENT.read_text().splitlines() if EQUIVALENT.exists() else []
    return {m["name"]: m["reason"] for m in map(_LISTED.match, lines) if m}


def set_aside(mutants: list[Mutant], listed: dict[str, str]) -> set[str]:
    """The names of the mutants a line of EQUIVALENT matches."""
    return {m.name for m in mutants if any(fnmatch.fnmatchcase(m.name, pattern) for pattern in listed)}


def diff(name: str) -> str:
    shown = subprocess.run([mutmut(), "show", name], cwd=STAGE, check=True, capture_output=True, text=True).stdout
    lines = [line for line in shown.splitlines() if line.startswith(("-", "+")) and not line.startswith(("---", "+++"))]
    return "\n".join(lines)


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "-"


def report(mutants: list[Mutant], listed: dict[str, str]) -> str:
    by_module: dict[str, list[Mutant]] = defaultdict(list)
    unchecked = sum(1 for m in mutants if m.status in UNTESTED)
    mutants = [m for m in mutants if m.status not in UNTESTED]
    aside = set_aside(mutants, listed)
    for mutant in mutants:
        by_module[mutant.module].append(mutant)
    lines = [
        "# Mutation testing (make mutate)",
        "",
        "Score = killed / (mutants - equivalent); 'killed' counts timeouts too. Equivalent mutants are listed,",
        f"with the reason, in {EQUIVALENT.relative_to(ROOT)}.",
        "",
        "| Module | Mutants | Killed | Survived | No tests | Equivalent | Score |",
        "|---|---|---|---|---|---|---|",
    ]
    totals: Counter[str] = Counter()
    for module, group in sorted(by_module.items()):
        count = Counter("killed" if m.status in KILLED else m.status for m in group if m.name not in aside)
        count["killed"] += sum(1 for m in group if m.name in aside and m.status in KILLED)
        same = sum(1 for m in group if m.name in aside and m.status not in KILLED)
        row = Counter(
            mutants=len(group),
            killed=count["killed"],
            survived=sum(n for status, n in count.items() if status not in ("killed", "no tests")),
            none=count["no tests"],
            equivalent=same,
        )
        totals.update(row)
        lines.append(
            f"| {module} | {row['mutants']} | {row['killed']} | {row['survived']} | {row['none']} | {same} "
            f"| {percent(row['killed'], row['mutants'] - same)} |"
        )
    lines.append(
        f"| **all** | {totals['mutants']} | {totals['killed']} | {totals['survived']} | {totals['none']} "
        f"| {totals['equivalent']} | **{percent(totals['killed'], totals['mutants'] - totals['equivalent'])}** |"
    )
    if unchecked:
        lines += ["", f"{unchecked} mutants were not run (an interrupted or partial run); they are left out above."]
    alive = [m for m in mutants if m.status not in KILLED and m.name not in aside]
    lines += ["", f"## Surviving mutants ({len(alive)})", ""]
    for mutant in alive:
        lines += [f"### `{mutant.name}` ({mutant.status})", "", "```diff", diff(mutant.name), "```", ""]
    survivors = [m for m in mutants if m.status not in KILLED]
    lines += ["## Set aside as equivalent", ""]
    for pattern, reason in listed.items():
        matched = sum(1 for m in survivors if fnmatch.fnmatchcase(m.name, pattern))
        lines.append(f"- `{pattern}` ({matched}): {reason}")
    lines.append("")
    alive_names = {m.name for m in survivors}
    tested = {m.module for m in mutants}  # a line about a module this run did not test is not stale
    stale = sorted(
        p
        for p in listed
        if any(p.startswith(f"{module}.") for module in tested)
        and not any(fnmatch.fnmatchcase(name, p) for name in alive_names)
    )
    if stale:
        lines += ["## Listed as equivalent but killed or gone (update the list)", ""]
        lines += [f"- `{name}`" for name in stale]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1, help="mutants tested at once (mutmut --max-children)")
    parser.add_argument("--keep", action="store_true", help="keep the previous run's results")
    parser.add_argument("--report-only", action="store_true", help="only write the report of the last run")
    parser.add_argument("--two-pass", action="store_true", help="the tests without a local AWS first, then the rest")
    parser.add_argument("names", nargs="*", help="mutant names or globs to (re)test, e.g. 'trailkeeper.errors.*'")
    args = parser.parse_args(argv)
    if not args.report_only:
        stage(keep=args.keep or bool(args.names))
        if args.two_pass:
            two_passes(args.jobs, args.names)
        else:
            run(args.jobs, args.names)
    mutants = results()
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(report(mutants, equivalent()))
    print(f"wrote {REPORT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
