"""Beside the peer: trailkeeper and Cloud Custodian (c7n; c7n-org for accounts) on one local AWS with the
same drift, each run as its own process against moto's server (with trailkeeper's fidelity layer), every
request counted at the server and slowed by the same latency.

For each tool: the plan (Custodian: `--dryrun`), the apply (Custodian: a run) and a second apply, each
with its wall time, CPU time (the process and its children), AWS calls by operation, writes, and the
smallest gap between two writes to one account and region. trailkeeper runs the world declared by ARN,
by name and by one pattern, and is held to its call limit (`peer_inputs.trailkeeper_limit`); Custodian
runs with its default cache (15 minutes) and with `--cache-period 0`. Custodian comes from its own
environment (`make bench` builds .venv-peer from requirements-peer.txt); without it only trailkeeper runs.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import yaml
from devkit import fidelity, world
from devkit.organization import session_in
from devkit.recording_server import RecordingMotoServer, write_gaps

from bench import peer_inputs
from bench.common import Row
from bench.fleet import REGIONS
from bench.peer_inputs import Mode, Stage, World
from bench.peer_world import Seeded, seed_account, seed_organization
from trailkeeper.trail import settings

ROOT = Path(__file__).resolve().parent.parent
PEER_VENV = ROOT / ".venv-peer"
ROLE = "OrganizationAccountAccessRole"  # moto's create_account makes it in every member
SECTION = "Beside Cloud Custodian"
# The same world declared three ways: every trail by ARN, each name once (found in every region scanned),
# one pattern (`Name: "*"`).
TRAILKEEPER_MODES: tuple[Mode, ...] = peer_inputs.MODES
PROCESS_TIMEOUT = 1800.0
EXPECTED_STATUS = {"plan": "drifted", "apply": "fixed", "again": "in_sync"}
STAGE_NAMES = {"plan": "plan / dry run", "apply": "apply / run", "again": "second run"}


@dataclass(frozen=True)
class Measured:
    """One process run against the world, as the server saw it."""

    wall_s: float
    cpu_s: float
    operations: Counter[str]
    writes: int
    smallest_gap_s: float | None
    median_gap_s: float | None
    output: str  # the process's stdout (trailkeeper's JSON report)


def _run(server: RecordingMotoServer, command: Sequence[str], env: dict[str, str], cwd: Path) -> Measured:
    server.forget()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        list(command), env=env, cwd=cwd, capture_output=True, text=True, timeout=PROCESS_TIMEOUT, check=False
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    requests = list(server.requests)
    writes = [r for r in requests if r.service == "cloudtrail" and r.is_write]  # AssumeRole writes no trail
    gaps = write_gaps(writes)
    if done.returncode not in (0, 2):  # trailkeeper's 2 is "drift found"
        raise RuntimeError(f"{command[0]} {command[1]} exited {done.returncode}: {done.stderr[-2000:]}")
    return Measured(
        wall,
        cpu,
        Counter(r.operation for r in requests),
        len(writes),
        min(gaps, default=None),
        statistics.median(gaps) if gaps else None,
        done.stdout,
    )


def _environment(url: str) -> dict[str, str]:
    """The child processes' environment: local credentials, every client sent to moto's server."""
    world.use_local_credentials()  # this process keeps no endpoint: other sections use moto in-process
    return {**os.environ, "AWS_ENDPOINT_URL": url}


@contextlib.contextmanager
def _aside(server: RecordingMotoServer) -> Iterator[None]:
    """Calls the benchmark makes itself (seeding, reading back): no latency, not counted."""
    latency, server.latency = server.latency, 0.0
    try:
        yield
    finally:
        server.latency = latency
        server.forget()


def _in_baseline(server: RecordingMotoServer, seeded: Seeded, regions: tuple[str, ...]) -> int:
    """How many of the world's trails now have the baseline, read back directly."""
    table = settings.table()
    wanted = {str(table[k].read_as): v for k, v in peer_inputs.BASELINE.items() if k != peer_inputs.LOGGING}
    logging = peer_inputs.BASELINE.get(peer_inputs.LOGGING)
    with _aside(server):
        sessions = [session_in(a, server.url) for a in seeded.accounts] or [boto3.session.Session()]
        good = 0
        for session in sessions:
            for region in regions:
                cloudtrail = session.client("cloudtrail", region_name=region, endpoint_url=server.url)
                for trail in cloudtrail.describe_trails()["trailList"]:
                    status = cloudtrail.get_trail_status(Name=trail["TrailARN"])
                    good += all(trail.get(k) == v for k, v in wanted.items()) and status["IsLogging"] == logging
        return good


def _fresh_world(server: RecordingMotoServer, shape: World) -> Seeded:
    """moto emptied and the drifted world seeded again."""
    with _aside(server):
        server.reset()
        regions = REGIONS[: shape.regions]
        if shape.accounts == 1:
            return seed_account(server.url, regions, shape.trails)
        return seed_organization(server.url, shape.accounts, regions, shape.trails)


def _write(folder: Path, name: str, document: Any) -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def _measure_trailkeeper(
    server: RecordingMotoServer, shape: World, mode: Mode, folder: Path
) -> Iterator[tuple[Stage, Measured, int]]:
    seeded = _fresh_world(server, shape)
    regions = REGIONS[: shape.regions]
    state = _write(folder, f"state-{mode}.yaml", peer_inputs.trailkeeper_state(mode, seeded.trail_arns))
    # The regions scanned, the same for every mode and for Custodian (without them: every enabled region).
    where = [arg for r in regions for arg in ("--region", r)]
    if seeded.accounts:
        where += ["--accounts", str(_write(folder, "accounts.yml", peer_inputs.accounts_file(seeded.accounts, ROLE)))]
    env = _environment(server.url)
    for stage in peer_inputs.STAGES:
        action = "plan" if stage == "plan" else "apply"
        command = [sys.executable, "-m", "trailkeeper.cli.main", action, "-f", str(state), "--json", *where]
        measured = _run(server, command, env, folder)
        fixed = _in_baseline(server, seeded, regions) if stage == "apply" else -1
        yield stage, measured, fixed


def _measure_custodian(
    server: RecordingMotoServer, shape: World, cache_period: int, folder: Path, peer: Path
) -> Iterator[tuple[Stage, Measured, int]]:
    seeded = _fresh_world(server, shape)
    regions = REGIONS[: shape.regions]
    policy = _write(folder, "policy.yml", peer_inputs.custodian_policies())
    cache = folder / f"cache-{cache_period}"
    cache.mkdir(exist_ok=True)
    where = [arg for r in regions for arg in ("-r", r)]  # the same regions (`-r all` asks EC2 for every one)
    if seeded.accounts:
        accounts = _write(folder, "accounts.yml", peer_inputs.accounts_file(seeded.accounts, ROLE))
        command = [str(peer / "bin" / "c7n-org"), "run", "-c", str(accounts), "-u", str(policy)]
        command += ["--cache-path", str(cache), "--cache-period", str(cache_period), *where]
    else:
        command = [str(peer / "bin" / "custodian"), "run", str(policy)]
        command += ["--cache", str(cache / "c7n.cache"), "--cache-period", str(cache_period), *where]
    env = _environment(server.url)
    for stage in peer_inputs.STAGES:
        output = folder / f"out-{cache_period}-{stage}"
        measured = _run(server, [*command, "-s", str(output), *(["--dryrun"] if stage == "plan" else [])], env, folder)
        fixed = _in_baseline(server, seeded, regions) if stage == "apply" else -1
        yield stage, measured, fixed


def _calls(operations: Counter[str]) -> str:
    return ", ".join(f"{count} {name}" for name, count in sorted(operations.items(), key=lambda i: (-i[1], i[0])))


def _trailkeeper_verdict(measured: Measured, limit: Counter[str], stage: Stage, total: int) -> str:
    over = {k: measured.operations[k] - limit[k] for k in measured.operations if measured.operations[k] > limit[k]}
    under = {k: limit[k] - measured.operations[k] for k in limit if measured.operations[k] < limit[k]}
    summary = json.loads(measured.output)["summary"] if measured.output.strip() else {}
    status = EXPECTED_STATUS[stage]
    done = f"{summary.get(status, 0)}/{total} {status}"
    if over:
        return f"CALLS OVER ({_calls(Counter(over))}); {done}"
    if under:
        return f"CALLS UNDER ({_calls(Counter(under))}); {done}"
    return f"calls at the limit; {done}"


def _section(shape: World, latency: float) -> str:
    accounts = f"{shape.accounts} account{'s' if shape.accounts > 1 else ''}"
    return f"{SECTION}: {accounts} x {shape.regions} regions x {shape.trails} trails ({latency * 1000:.0f} ms per call)"


def _gap(seconds: float | None) -> str:
    return "none" if seconds is None else f"{seconds * 1000:.0f} ms"


def _gaps(smallest: float | None, median: float | None) -> str:
    return "none" if smallest is None or median is None else f"{_gap(smallest)} ({_gap(median)})"


def _row(
    section: str,
    stage: Stage,
    measured: Measured,
    *,
    tool: str,
    how: str,
    fixed: int,
    limit: Counter[str] | None,
    verdict: str,
) -> Row:
    return Row(
        section,
        f"{STAGE_NAMES[stage]}: {tool}, {how}",
        f"{measured.wall_s:.1f} s, CPU {measured.cpu_s:.1f} s; {sum(measured.operations.values())} calls, "
        f"{measured.writes} writes; smallest write gap {_gap(measured.smallest_gap_s)}",
        f"limit {sum(limit.values())} calls" if limit is not None else "",
        verdict,
        {
            "tool": tool,
            "how": how,
            "stage": stage,
            "wall_s": measured.wall_s,
            "cpu_s": measured.cpu_s,
            "operations": dict(measured.operations),
            "writes": measured.writes,
            "smallest_write_gap_s": measured.smallest_gap_s,
            "median_write_gap_s": measured.median_gap_s,
            "in_baseline_after": fixed if fixed >= 0 else None,
            "limit": dict(limit) if limit is not None else None,
        },
    )


def is_peer(row: Row) -> bool:
    return row.section.startswith(SECTION)


def table(rows: Sequence[Row]) -> str:
    """The side-by-side tables (one per world) of the peer rows, from their data."""
    lines: list[str] = []
    sections = list(dict.fromkeys(r.section for r in rows if is_peer(r)))
    for section in sections:
        lines += [
            "",
            f"**{section}**",
            "",
            "| Run | Tool, how | Wall | CPU | AWS calls (by operation) | CloudTrail writes | Gap between two writes "
            "to one region: smallest (median) | Verdict |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for row in (r for r in rows if r.section == section):
            d = row.data
            operations = Counter(d["operations"])
            lines.append(
                f"| {STAGE_NAMES[d['stage']]} | {d['tool']}, {d['how']} | {d['wall_s']:.1f} s | {d['cpu_s']:.1f} s "
                f"| {sum(operations.values())}: {_calls(operations)} | {d['writes']} "
                f"| {_gaps(d['smallest_write_gap_s'], d['median_write_gap_s'])} | {row.verdict} |"
            )
    return "\n".join(lines) + "\n" if lines else ""


def _custodian_verdict(measured: Measured, stage: Stage, fixed: int, total: int) -> str:
    if stage == "apply":
        return f"{fixed}/{total} trails in the baseline after it"
    if stage == "again":
        return "wrote nothing" if measured.writes == 0 else f"re-sent {measured.writes} writes"
    return ""


def run(
    shapes: tuple[World, ...] = (World(1, 17, 5), World(5, 17, 5)),
    latency: float = 0.05,
    peer: Path = PEER_VENV,
    modes: tuple[Mode, ...] = TRAILKEEPER_MODES,
    cache_periods: tuple[int, ...] = (15, 0),
) -> list[Row]:
    """Rows for each world: trailkeeper in each mode, then Custodian (c7n-org for several accounts) with
    each cache period, when its environment is installed."""
    world.use_local_credentials()
    peer = peer.resolve()  # the tools run with a scratch folder as their working directory
    rows: list[Row] = []
    have_peer = (peer / "bin" / "custodian").exists() and (peer / "bin" / "c7n-org").exists()
    with (
        tempfile.TemporaryDirectory(prefix="peer-bench-") as scratch,
        fidelity.cloudtrail_as_aws(),
        RecordingMotoServer(latency=latency) as server,
    ):
        for shape in shapes:
            section = _section(shape, latency)
            folder = Path(scratch) / f"{shape.accounts}x{shape.regions}x{shape.trails}"
            folder.mkdir()
            for mode in modes:
                for stage, measured, fixed in _measure_trailkeeper(server, shape, mode, folder):
                    limit = peer_inputs.trailkeeper_limit(shape, stage, assumed=shape.accounts > 1)
                    verdict = _trailkeeper_verdict(measured, limit, stage, shape.total)
                    if fixed >= 0:
                        verdict += f"; {fixed}/{shape.total} trails in the baseline after it"
                    rows.append(
                        _row(
                            section,
                            stage,
                            measured,
                            tool="trailkeeper",
                            how=f"by {mode}",
                            fixed=fixed,
                            limit=limit,
                            verdict=verdict,
                        )
                    )
            tool = "c7n-org" if shape.accounts > 1 else "Custodian"
            if not have_peer:
                print(f"bench: {peer} has no custodian/c7n-org (make bench installs it): peer not run", file=sys.stderr)
                continue
            for period in cache_periods:
                label = f"--cache-period {period}" + (" (default)" if period == 15 else "")
                for stage, measured, fixed in _measure_custodian(server, shape, period, folder, peer):
                    verdict = _custodian_verdict(measured, stage, fixed, shape.total)
                    rows.append(
                        _row(section, stage, measured, tool=tool, how=label, fixed=fixed, limit=None, verdict=verdict)
                    )
    return rows
