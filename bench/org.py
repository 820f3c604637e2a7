"""An organization run at scale: N accounts x 17 regions, every call answered by fake clients after a
fixed latency (no moto: its in-process backends are neither thread-safe nor fast enough for 17,000
reads). The organization layer's own code runs for real: account selection, AssumeRole through
`AccountSessions` (one per account) and `calls.call`, the per-account engine `fleet.run` with its
region threads, the report. Figures: AWS calls beside the limit (one AssumeRole per account, one
DescribeTrails per account and region), wall time beside the ideal for that concurrency, peak memory.
The fake clients are bench/fakes.py's."""

from __future__ import annotations

import contextlib
import datetime
import math
import os
import statistics
import time
import tracemalloc
from collections import Counter
from typing import Any

from bench.common import Row
from bench.fakes import CALLER, Calls, FakeSession, FakeSessions, FakeWorld
from bench.fleet import REGIONS
from trailkeeper.aws.calls import Clients, Deadline
from trailkeeper.fleet import state
from trailkeeper.fleet.report import Report
from trailkeeper.org import reconcile as org_reconcile
from trailkeeper.org.accounts import Account, role_arn
from trailkeeper.org.credentials import AccountSessions


def _run(
    accounts: int, regions: int, latency: float, max_accounts: int, max_parallel_regions: int = 32
) -> tuple[Report, Counter[str], float, float]:
    """The report, the calls by operation, the wall time and the process's CPU time of one organization plan."""
    ids = [f"{200000000000 + n}" for n in range(accounts)]
    selected = [Account(i, f"account-{n}", role_arn("aws", i, "TrailkeeperMember")) for n, i in enumerate(ids)]
    declared = state.parse(
        {
            "trails": [
                {"Name": f"arn:aws:cloudtrail:{region}:{i}:trail/audit", "EnableLogFileValidation": True}
                for i in ids
                for region in REGIONS[:regions]
            ]
        }
    )
    calls = Calls()
    caller = FakeSession(CALLER, latency, calls, FakeWorld(REGIONS[:regions]))
    acting: Any = caller
    start, cpu = time.perf_counter(), time.process_time()
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        report = org_reconcile.run(
            declared,
            selected,
            clients=Clients(acting),
            default_region="us-east-1",
            apply=False,
            max_accounts=max_accounts,
            max_parallel_regions=max_parallel_regions,
            sessions=FakeSessions(caller),
        )
    return report, calls.counts, time.perf_counter() - start, time.process_time() - cpu


def _cpu_contributors(accounts: int, regions: int, latency: float, concurrency: tuple[int, ...]) -> list[Row]:
    """CPU per account-region: the code's own (one account and one region at a time, no latency: a region's
    work runs in its account's thread, nothing waits), and what the threads and their hand-offs add at each
    concurrency."""
    section = "Organization plan: CPU per account-region"
    places = accounts * regions
    own = min(_run(accounts, regions, 0.0, 1, 1)[3] for _ in range(3)) / places
    rows = [
        Row(
            section,
            "trailkeeper's own code (one account, one region at a time, no latency)",
            f"{own * 1e6:.0f} us",
            "",
            "",
        )
    ]
    for max_accounts in concurrency:
        cpu = _run(accounts, regions, latency, max_accounts)[3] / places
        rows.append(
            Row(
                section,
                f"{max_accounts} accounts at a time, {latency * 1000:.0f} ms per call: threads and hand-offs add",
                f"{(cpu - own) * 1e6:.0f} us",
                f"in all {cpu * 1e6:.0f} us",
                "",
                {"max_accounts": max_accounts, "cpu_us": cpu * 1e6, "own_us": own * 1e6},
            )
        )
    return rows


RUN_SECONDS = 15 * 60  # a run that fits Lambda's limit, or a shell's patience
SLOWER_LATENCY = 0.2  # 200 ms a call: an AssumeRole to another region, a busy CloudTrail


def _reach(measured: dict[str, Any], peak: int, real: int, real_cpu: float) -> Row:
    """How many accounts one process plans in 15 minutes, from the measured run: its wall time per account (at
    a slower latency, scaled by it) never below its CPU per account (one interpreter), which adds what making
    an account's real session and clients takes (the fakes skip it; real requests' own CPU is not counted, so
    this is an upper bound); and what it would hold at that size (the report whole, the running accounts'
    clients)."""
    accounts, latency, max_accounts = measured["accounts"], measured["latency_s"], measured["max_accounts"]
    per_account = measured["wall_s"] / accounts
    cpu_per_account = measured["cpu_s"] / accounts + real_cpu

    def in_time(at: float) -> int:
        return int(RUN_SECONDS / max(cpu_per_account, per_account * at / latency))

    reach, slower = in_time(latency), in_time(SLOWER_LATENCY)
    held = peak / accounts * reach + real * max_accounts
    return Row(
        f"Organization plan ({latency * 1000:.0f} ms per call)",
        f"one process's reach: the accounts it plans in 15 minutes, {max_accounts} at a time, "
        f"{measured['regions']} regions",
        f"at most {reach:,} accounts at {latency * 1000:.0f} ms per call; {slower:,} at {SLOWER_LATENCY * 1000:.0f} ms",
        f"per account {per_account * 1000:.1f} ms of wall time, {cpu_per_account * 1000:.1f} ms of CPU "
        f"({real_cpu * 1000:.1f} of it making real clients); {held / 1e9:.1f} GB held at {reach:,}",
        f"past {slower:,} accounts, or to retry one account's failure alone, the state machine (org-reconcile.yaml: "
        "an account per 512 MB child)",
        {
            "reach_accounts": reach,
            "reach_accounts_slower": slower,
            "cpu_s_per_account": cpu_per_account,
            "held_bytes_at_reach": held,
        },
    )


def _peak_memory(accounts: int, regions: int, latency: float, max_accounts: int) -> int:
    tracemalloc.start()
    try:
        _run(accounts, regions, latency, max_accounts)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


CPU_SAMPLES = 3


def _real_clients(regions: int) -> tuple[int, float]:
    """What one account's real clients cost (a botocore session with assumed credentials, a CloudTrail client
    per region), once per running account: the bytes they hold, and the CPU seconds making them takes (the
    median of `CPU_SAMPLES` accounts, untraced). The fake clients above cost neither."""
    from botocore.stub import Stubber

    caller = Clients()
    sts = caller.client("sts", "us-east-1")
    stubber = Stubber(sts)
    expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)
    issued = {"AccessKeyId": "ASIAEXAMPLEEXAMPLE01", "SecretAccessKey": "s" * 40, "SessionToken": "t" * 40}
    for _ in range(CPU_SAMPLES + 1):  # the account traced, then those timed
        stubber.add_response("assume_role", {"Credentials": {**issued, "Expiration": expires}})

    def member(account: str) -> tuple[AccountSessions, Clients]:
        sessions = AccountSessions(caller, "us-east-1", Deadline())
        made = Clients(sessions.session(Account(account, role_arn=role_arn("aws", account, "x"))))
        for region in REGIONS[:regions]:
            made.cloudtrail(region)
        return sessions, made

    with stubber:
        for region in REGIONS[:regions]:  # the shared model loader is warm, as in a long run
            caller.cloudtrail(region)
        tracemalloc.start()
        try:
            alive = member("200000000000")  # held while measured, as by a running account
            held = tracemalloc.get_traced_memory()[0]
            del alive
        finally:
            tracemalloc.stop()
        cpu = []
        for n in range(CPU_SAMPLES):
            start = time.process_time()
            member(f"20000000000{n + 1}")
            cpu.append(time.process_time() - start)
        return held, statistics.median(cpu)


# A run bound by one interpreter's CPU moves with the machine's load: each concurrency is run this many times,
# and its row gives the median run and the range.
SAMPLES = 3


def run(
    accounts: int = 1000,
    regions: int = 17,
    latency: float = 0.05,
    concurrency: tuple[int, ...] = (16, 64),
    samples: int = SAMPLES,
) -> list[Row]:
    rows = []
    section = f"Organization plan ({latency * 1000:.0f} ms per call)"
    # Untimed first: the process's kept threads and botocore's endpoint data are made once per process, not
    # per run, and would weigh on whichever concurrency ran first.
    _run(max(concurrency), regions, latency, max(concurrency))
    for max_accounts in concurrency:
        runs = sorted((_run(accounts, regions, latency, max_accounts) for _ in range(samples)), key=lambda r: r[2])
        report, counts, wall, cpu = runs[len(runs) // 2]
        assumed, described = counts["AssumeRole"], counts["DescribeTrails"]
        # Per account: one AssumeRole, then every region's DescribeTrails at once.
        ideal = math.ceil(accounts / max_accounts) * 2 * latency
        within = all(
            c["AssumeRole"] == accounts
            and c["DescribeTrails"] == accounts * regions
            and r.count("in_sync") == accounts * regions
            for r, c, _, _ in runs
        )
        walls = [r[2] for r in runs]
        spread = f" ({walls[0] / ideal:.2f}x-{walls[-1] / ideal:.2f}x over {samples} runs)" if samples > 1 else ""
        rows.append(
            Row(
                section,
                f"{accounts} accounts x {regions} regions, {max_accounts} accounts at a time",
                f"{assumed} AssumeRole + {described} DescribeTrails; {wall:.1f} s; CPU {cpu:.1f} s "
                f"({cpu / (accounts * regions) * 1e6:.0f} us per account-region)",
                f"{accounts} AssumeRole + {accounts * regions} DescribeTrails; ideal {ideal:.1f} s",
                f"{'calls at the limit' if within else 'CALLS OVER'}; {wall / ideal:.2f}x the ideal{spread}"
                + ("; bound by the CPU (one interpreter lock)" if cpu > 0.8 * wall else ""),
                {
                    "wall_s_runs": walls,
                    "accounts": accounts,
                    "regions": regions,
                    "max_accounts": max_accounts,
                    "latency_s": latency,
                    "assume_role": assumed,
                    "describe_trails": described,
                    "wall_s": wall,
                    "cpu_s": cpu,
                    "cpu_us_per_account_region": cpu / (accounts * regions) * 1e6,
                    "ideal_s": ideal,
                    "summary": report.summary(),
                },
            )
        )
    rows += _cpu_contributors(min(accounts, 200), regions, latency, concurrency)
    max_accounts = concurrency[0]
    peak = _peak_memory(accounts, regions, latency, max_accounts)
    real, real_cpu = _real_clients(regions)
    rows.append(_reach(rows[0].data, peak, real, real_cpu))
    rows.append(
        Row(
            section,
            f"peak memory, {accounts} accounts x {regions} regions, {max_accounts} at a time",
            f"{peak / 1e6:.0f} MB (tracemalloc) + real clients {real / 1e6:.1f} MB per running account",
            f"{(peak + real * max_accounts) / 1e6:.0f} MB for the CLI at {max_accounts} at a time; "
            "a Lambda child (512 MB) holds one account",
            "fits one machine; past that, or for runs longer than a shell, the state machine",
            {"peak_bytes": peak, "real_clients_bytes_per_account": real, "max_accounts": max_accounts},
        )
    )
    return rows
