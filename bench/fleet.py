"""Fleet plan and apply: N trails across R regions against the local AWS, each call slowed by a fixed
latency. Calls made beside their limit; wall time beside the slowest region alone (same run)."""

from __future__ import annotations

import contextlib
import os
import statistics
import time
from collections.abc import Iterator
from typing import Any

from devkit import fidelity, world
from devkit.recording import RecordingClients
from moto import mock_aws

from bench.common import Row
from trailkeeper.fleet import reconcile, state
from trailkeeper.fleet.report import Report, Status

REGIONS = (
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1",
    "eu-north-1", "ap-south-1", "ap-southeast-1", "ap-southeast-2", "ap-northeast-1", "ap-northeast-2",
    "ap-northeast-3", "ca-central-1", "sa-east-1",
)  # fmt: skip


PLAN_REPEAT = 5


class SlowClients(RecordingClients):
    """Counts every call and makes each one take `latency` seconds longer, as a far endpoint would."""

    def __init__(self, latency: float) -> None:
        super().__init__()
        self.latency = latency

    def hook(self, made: Any, service: str, region: str) -> None:
        super().hook(made, service, region)
        made.meta.events.register("before-call", lambda **_: time.sleep(self.latency))


@contextlib.contextmanager
def _fleet(regions: int, trails: int) -> Iterator[list[Any]]:
    """A fresh local AWS with `trails` trails in each of the first `regions` regions; yields the declarations."""
    with mock_aws():
        world.seed()
        entries = []
        for region in REGIONS[:regions]:
            for index in range(trails):
                arn = world.add_trail(f"fleet-{index}", region)
                entries.append({"Name": arn, "EnableLogFileValidation": True, "S3KeyPrefix": "fleet"})
        yield state.parse({"trails": entries})


def _run(regions: int, trails: int, apply: bool, latency: float, parallel: int) -> tuple[Report, SlowClients, float]:
    """One run; a plan (a fraction of a second, so noisy) is repeated and its median wall time kept."""
    if not apply:
        runs = [_run_once(regions, trails, apply, latency, parallel) for _ in range(PLAN_REPEAT)]
        report, clients, _ = runs[0]
        return report, clients, statistics.median(wall for _, _, wall in runs)
    return _run_once(regions, trails, apply, latency, parallel)


def _run_once(
    regions: int, trails: int, apply: bool, latency: float, parallel: int
) -> tuple[Report, SlowClients, float]:
    with _fleet(regions, trails) as declared:
        clients = SlowClients(latency)
        for region in REGIONS[:regions]:  # clients are built before the clock starts, as in a warm process
            clients.cloudtrail(region)
        start = time.perf_counter()
        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):  # the engine's log lines
            report = reconcile.run(
                declared,
                clients=clients,
                default_region="us-east-1",
                caller_account=world.ACCOUNT,
                apply=apply,
                max_parallel_regions=parallel,
            )
        return report, clients, time.perf_counter() - start


def run(
    sizes: tuple[tuple[int, int], ...] = ((1, 5), (5, 5), (17, 5)), latency: float = 0.05, before_parallel: int = 8
) -> list[Row]:
    world.use_local_credentials()
    rows = []
    for action in ("plan", "apply"):
        apply = action == "apply"
        trails = max(n for _, n in sizes)
        _, _, alone = _run(1, trails, apply, latency, reconcile.MAX_PARALLEL_REGIONS)  # the slowest region, alone
        for regions, per_region in sizes:
            report, clients, wall = _run(regions, per_region, apply, latency, reconcile.MAX_PARALLEL_REGIONS)
            reads = len(clients.named("DescribeTrails"))
            writes = len(clients.named("UpdateTrail"))
            total = regions * per_region
            limit_writes = total if apply else 0
            within = reads == regions and writes == limit_writes and report.count("failed") == 0
            data = {
                "regions": regions,
                "trails_per_region": per_region,
                "describe_trails": reads,
                "update_trail": writes,
                "wall_s": wall,
                "slowest_region_alone_s": alone,
                "summary": report.summary(),
            }
            rows.append(
                Row(
                    f"Fleet {action} ({latency * 1000:.0f} ms per call)",
                    f"{regions} regions x {per_region} trails",
                    f"{reads} DescribeTrails + {writes} UpdateTrail; {wall:.2f} s",
                    f"{regions} DescribeTrails + {limit_writes} UpdateTrail; slowest region alone {alone:.2f} s",
                    f"{'calls at the limit' if within else 'CALLS OVER'}; {wall / alone:.2f}x the slowest region",
                    data,
                )
            )
        if apply and max(r for r, _ in sizes) > before_parallel:
            regions, per_region = max(sizes)
            _, _, before = _run(regions, per_region, True, latency, before_parallel)
            after = rows[-1].data["wall_s"]
            rows.append(
                Row(
                    f"Fleet {action} ({latency * 1000:.0f} ms per call)",
                    f"before: {before_parallel} regions at a time ({regions} x {per_region})",
                    f"{before:.2f} s",
                    f"after: all regions at once {after:.2f} s",
                    f"{before / alone:.2f}x -> {after / alone:.2f}x the slowest region",
                    {"before_s": before, "after_s": after, "before_parallel": before_parallel},
                )
            )
    return rows


def _whole_trail_entry(arn: str) -> dict[str, Any]:
    return {
        "Name": arn,
        "EnableLogFileValidation": True,
        "IsLogging": True,
        "EventSelectors": [
            {"ReadWriteType": "All", "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}]}
        ],
        "InsightSelectors": [{"InsightType": "ApiCallRateInsight"}],
        "Tags": [{"Key": "team", "Value": "security"}],
    }


def run_whole_trail(regions: int = 17, trails: int = 5, latency: float = 0.05) -> list[Row]:
    """Every aspect declared on fresh trails: plan, apply, plan again; calls and wall time beside the limits.

    CloudTrail allows about 10 reads and 1 write per second per region: a region's reads and writes are
    paced to that, so the ideal wall time is what the busiest region's paced calls take.
    """
    world.use_local_credentials()
    rows: list[Row] = []
    total = regions * trails
    with fidelity.cloudtrail_as_aws(), mock_aws():
        world.seed()
        entries = [
            _whole_trail_entry(world.add_trail(f"fleet-{i}", r)) for r in REGIONS[:regions] for i in range(trails)
        ]
        declared = state.parse({"trails": entries})
        for stage, apply, reads_per_trail, writes_per_trail in (
            ("plan, all differ", False, 2, 0),  # GetTrailStatus, ListTags; DescribeTrails answers the rest
            ("apply", True, 2, 5),  # + UpdateTrail, PutEventSelectors, PutInsightSelectors, AddTags, StartLogging
            ("plan again, in sync", False, 4, 0),
        ):
            clients = SlowClients(latency)
            for region in REGIONS[:regions]:
                clients.cloudtrail(region)
            start = time.perf_counter()
            with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
                report = reconcile.run(
                    declared, clients=clients, default_region="us-east-1", caller_account=world.ACCOUNT, apply=apply
                )
            wall = time.perf_counter() - start
            reads, writes = clients.reads(), clients.writes()
            limit_reads, limit_writes = regions + total * reads_per_trail, total * writes_per_trail
            # The busiest region's paced calls, one after another: its reads at 10/s, each write a second after
            # the previous one was answered (pacing.Pacer.done), so a second plus its round trip apart.
            ideal = trails * reads_per_trail * 0.1 + max(0, trails * writes_per_trail - 1) * (1.0 + latency)
            expected: Status = "in_sync" if stage.endswith("in sync") else ("fixed" if apply else "drifted")
            within = reads == limit_reads and writes == limit_writes and report.count(expected) == total
            rows.append(
                Row(
                    f"Fleet, every aspect declared ({latency * 1000:.0f} ms per call)",
                    f"{stage}: {regions} regions x {trails} trails",
                    f"{reads} reads + {writes} writes; {wall:.2f} s",
                    f"{limit_reads} reads + {limit_writes} writes; paced ideal {ideal:.1f} s",
                    f"{'calls at the limit' if within else 'CALLS OVER'}; {report.count(expected)}/{total} {expected}",
                    {"reads": reads, "writes": writes, "wall_s": wall, "ideal_s": ideal, "summary": report.summary()},
                )
            )
    return rows
