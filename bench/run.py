"""`make bench`: run every section, print the table, write bench/results.json and bench/results.md.

python -m bench.run            # the full run (about 25 minutes on 2 busy cores, most of it beside Cloud Custodian)
python -m bench.run --quick    # smaller samples and fleets: a smoke test, not a measurement
python -m bench.run --peer DIR # Cloud Custodian's environment (default .venv-peer; without it, no peer)
python -m bench.run --only "audit and export"   # some sections (repeatable): their rows replace theirs in
                                                # results.json and results.md; the other rows are kept
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench import audit_export, calls, coldstart, fleet, org, peer, size, warm
from bench.common import Row, machine
from bench.peer_inputs import World

HERE = Path(__file__).resolve().parent


def sections(quick: bool, peer_venv: Path = peer.PEER_VENV) -> list[tuple[str, object]]:
    if quick:
        return [
            ("calls", calls.run),
            ("coldstart", lambda: coldstart.run(repeat=1)),
            ("warm", lambda: warm.run(repeat=20)),
            ("fleet", lambda: fleet.run(sizes=((1, 2), (3, 2)), before_parallel=2)),
            ("fleet, whole trail", lambda: fleet.run_whole_trail(regions=2, trails=2)),
            ("org", lambda: org.run(accounts=40, concurrency=(8,), samples=1)),
            (
                "audit and export",
                lambda: (
                    audit_export.run_fleet(regions=2, trails=5, repeat=1)
                    + audit_export.run_organization(accounts=20, regions=3)
                ),
            ),
            ("size", lambda: size.run(repeat=1)),
            (
                "beside Cloud Custodian",
                lambda: peer.run((World(1, 2, 1),), latency=0.0, peer=peer_venv, modes=("ARN",), cache_periods=(15,)),
            ),
        ]
    return [
        ("calls", calls.run),
        ("coldstart", coldstart.run),
        ("warm", warm.run),
        ("fleet", fleet.run),
        ("fleet, whole trail", fleet.run_whole_trail),
        ("org", org.run),
        ("audit and export", lambda: audit_export.run_fleet() + audit_export.run_organization()),
        ("size", size.run),
        ("beside Cloud Custodian", lambda: peer.run(peer=peer_venv)),
    ]


def markdown(rows: list[Row], about: dict[str, object]) -> str:
    lines = [
        f"Measured {about['when']} on {about['machine']['cpu']}, {about['machine']['cores']} cores, "  # type: ignore[index]
        f"{about['machine']['memory']}, Python {about['machine']['python']} "  # type: ignore[index]
        f"({about['machine']['system']}); local AWS = moto in-process or its server.",  # type: ignore[index]
        "",
        "| Section | Measure | Figure | Yardstick (same run) | Verdict |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {r.section} | {r.measure} | {r.figure} | {r.yardstick} | {r.verdict} |" for r in rows if not peer.is_peer(r)
    ]
    return "\n".join(lines) + "\n" + peer.table(rows)


def publish(table: str, page: Path = HERE.parent / "docs" / "benchmarks.md") -> None:
    """Put `table` between the bench markers of docs/benchmarks.md."""
    text = page.read_text(encoding="utf-8")
    start = text.index("\n", text.index("<!-- bench:start")) + 1
    end = text.index("<!-- bench:end -->")
    page.write_text(text[:start] + table + text[end:], encoding="utf-8")


def merged(before: dict[str, Any], fresh: list[Row], label: str, when: str) -> tuple[list[Row], str]:
    """The rows of an earlier run, those of fresh's sections (Row.section) replaced by `fresh` in place (a
    new section goes before the peer's tables), and a `when` saying that the `label` rows were measured `when`."""
    sections = {r.section for r in fresh}
    old = [Row(**r) for r in before["rows"]]
    kept = [r for r in old if r.section not in sections]
    at = next((i for i, r in enumerate(old) if r.section in sections), None)
    if at is None:
        at = next((i for i, r in enumerate(old) if peer.is_peer(r)), len(old))
    place = sum(1 for r in old[:at] if r.section not in sections)
    return kept[:place] + fresh + kept[place:], f"{before['when']}; {label} rows {when}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench", description="trailkeeper's costs, beside their yardsticks")
    parser.add_argument("--quick", action="store_true", help="small samples: check the benchmark runs")
    parser.add_argument("--out", type=Path, default=HERE, help="folder for results.json and results.md")
    parser.add_argument("--peer", type=Path, default=peer.PEER_VENV, help="Cloud Custodian's virtual environment")
    parser.add_argument(
        "--only", action="append", metavar="SECTION", help="run this section only (repeatable); keep the other rows"
    )
    args = parser.parse_args(argv)
    chosen = sections(args.quick, args.peer)
    unknown = set(args.only or ()) - {name for name, _ in chosen}
    if unknown:
        parser.error(f"--only {', '.join(sorted(unknown))}: the sections are {', '.join(n for n, _ in chosen)}")
    rows: list[Row] = []
    for name, section in chosen:
        if args.only and name not in args.only:
            continue
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        rows.extend(section())  # type: ignore[operator]
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    previous = args.out / "results.json"
    if args.only and previous.exists():
        rows, when = merged(json.loads(previous.read_text()), rows, ", ".join(args.only), when)
    about = {"when": when, "machine": machine(), "quick": args.quick}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps({**about, "rows": [asdict(r) for r in rows]}, indent=2) + "\n")
    table = markdown(rows, about)
    (args.out / "results.md").write_text(table)
    if args.out == HERE:  # the published table follows the latest full run (tests/test_docs.py holds them equal)
        publish(table)
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
