"""Plan or apply a declared state across many trails and regions (the drift-fix pipelines' engine).

Reads are batched and concurrent: one DescribeTrails per region covers every trail declared there, and
regions are read in parallel. Each trail is then reconciled by the same engine as the custom
resource; writes go to each trail's home region, paced to CloudTrail's limit (`pacing.Pacer`: about one
write per second per region), and so are the per-trail reads of the other aspects (about ten per
second), with regions working in parallel. Trails are independent: one failure is recorded and the rest
go on.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed

from trailkeeper import engine
from trailkeeper.aws import locate
from trailkeeper.aws.calls import Clients, Deadline
from trailkeeper.aws.locate import Trail
from trailkeeper.aws.pacing import READ_INTERVAL_SECONDS, Pacer
from trailkeeper.drift.report import Report, Status, TrailResult
from trailkeeper.errors import AmbiguousTrailName, TrailkeeperError
from trailkeeper.trail.declaration import Declaration

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]  # (stage, done, total)
# Every region at once: a region costs one read, and its writes are paced to one per second, so its
# thread mostly waits. Capping this at 8 made 17 regions take three rounds (bench/fleet.py: 3.0x the
# slowest region; 1.0x now).
MAX_PARALLEL_REGIONS = 32


def _read(
    clients: Clients,
    declarations: Sequence[Declaration],
    *,
    default_region: str,
    deadline: Deadline,
    progress: Progress,
    max_parallel_regions: int,
) -> dict[str, Trail | TrailkeeperError]:
    by_region: dict[str, list[str]] = defaultdict(list)
    for declared in declarations:
        by_region[locate.lookup_region(declared.name, default_region)].append(declared.name)
    found: dict[str, Trail | TrailkeeperError] = {}
    workers = max(1, min(max_parallel_regions, len(by_region)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="read") as pool:
        futures = {
            pool.submit(locate.find_many, clients, names, region, deadline): names
            for region, names in by_region.items()
        }
        for done, future in enumerate(as_completed(futures), start=1):
            names = futures[future]
            try:
                found.update(future.result())
            except TrailkeeperError as error:  # the region's one read failed: every trail there fails
                found.update(dict.fromkeys(names, error))
            progress("read regions", done, len(futures))
    return found


def _same_trail_declared_twice(declarations: Sequence[Declaration], found: dict[str, Trail | TrailkeeperError]) -> None:
    """A trail declared once by name and once by ARN would be fought over: fail both."""
    by_arn: dict[str, list[str]] = defaultdict(list)
    for declared in declarations:
        trail = found[declared.name]
        if not isinstance(trail, TrailkeeperError):
            by_arn[str(trail["TrailARN"])].append(declared.name)
    for arn, names in by_arn.items():
        if len(names) > 1:
            for name in names:
                found[name] = AmbiguousTrailName(f"{arn} is declared more than once ({', '.join(names)}); keep one")


def run(
    declarations: Sequence[Declaration],
    *,
    clients: Clients,
    default_region: str,
    caller_account: str | None,
    apply: bool,
    pacer: Pacer | None = None,
    read_pacer: Pacer | None = None,
    deadline: Deadline | None = None,
    progress: Progress | None = None,
    max_parallel_regions: int = MAX_PARALLEL_REGIONS,
    allow_weakening: bool = False,
) -> Report:
    """Read every declared trail, then plan (apply=False) or fix its drift; one result per declaration.

    `allow_weakening` allows every change that weakens audit (the CLI's --allow-weakening); without it,
    only what each trail's AllowWeakening lists.
    """
    deadline = deadline or Deadline()
    pacer = pacer or Pacer()
    read_pacer = read_pacer or Pacer(READ_INTERVAL_SECONDS)
    report_progress: Progress = progress or (lambda *_: None)
    found = _read(
        clients,
        declarations,
        default_region=default_region,
        deadline=deadline,
        progress=report_progress,
        max_parallel_regions=max_parallel_regions,
    )
    _same_trail_declared_twice(declarations, found)

    results: dict[str, TrailResult] = {}
    by_home: dict[str, list[tuple[Declaration, Trail]]] = defaultdict(list)
    for declared in declarations:
        trail = found[declared.name]
        if isinstance(trail, TrailkeeperError):
            results[declared.name] = TrailResult(declared.name, "failed", error=trail)
        else:
            by_home[locate.home_region(trail)].append((declared, trail))

    stage = "apply trails" if apply else "plan trails"
    total, finished, lock = sum(len(items) for items in by_home.values()), 0, threading.Lock()

    def reconcile_region(items: list[tuple[Declaration, Trail]]) -> None:
        nonlocal finished
        aliases: dict[tuple[str, str], str] = {}  # one region per worker: nothing shared between threads
        for declared, trail in items:
            result = _reconcile_one(
                declared,
                trail,
                clients=clients,
                caller_account=caller_account,
                apply=apply,
                pacers=(pacer, read_pacer),
                deadline=deadline,
                aliases=aliases,
                allow_weakening=allow_weakening,
            )
            with lock:  # progress per trail: a paced region can take minutes
                results[result.name] = result
                finished += 1
                report_progress(stage, finished, total)

    workers = max(1, min(max_parallel_regions, len(by_home)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="reconcile") as pool:
        for future in [pool.submit(reconcile_region, items) for items in by_home.values()]:
            future.result()
    return Report("apply" if apply else "plan", tuple(results[d.name] for d in declarations))


def _reconcile_one(
    declared: Declaration,
    trail: Trail,
    *,
    clients: Clients,
    caller_account: str | None,
    apply: bool,
    pacers: tuple[Pacer, Pacer],
    deadline: Deadline,
    aliases: dict[tuple[str, str], str],
    allow_weakening: bool,
) -> TrailResult:
    arn, home = str(trail["TrailARN"]), locate.home_region(trail)
    try:
        outcome = engine.reconcile(
            declared,
            trail,
            clients=clients,
            caller_account=caller_account,
            deadline=deadline,
            apply=apply,
            before_write=pacers[0].wait,
            before_read=pacers[1].wait,
            aliases=aliases,
            allow_weakening=allow_weakening,
        )
    except TrailkeeperError as error:
        log.warning("trail failed", extra={"trail": arn, "error_code": error.error_code})
        return TrailResult(declared.name, "failed", arn, home, error=error)
    if not outcome.changes:
        return TrailResult(declared.name, "in_sync", arn, home)
    status: Status = "fixed" if outcome.applied else "drifted"
    return TrailResult(declared.name, status, arn, home, outcome.changes, refused=outcome.refused)
