"""Read every trail of an account as a declaration (`org/export.py` does it in each account of a run).

`trailkeeper export` writes what this module reads. The reads are the drift-fix pipelines' own, at
their limit: one DescribeTrails per region scanned (regions in parallel), then, for each trail homed
there, each aspect's read once through the engine (`engine.read_current`: none where DescribeTrails
already answers, as HasCustomEventSelectors / HasInsightSelectors false do) and its tags with one
ListTags per 20 trails of a home region. Per-trail reads are paced as plan paces them (about ten per
second per region, `pacing.READ_INTERVAL_SECONDS`).

Which trails: those the pattern `Name: "*"` covers, found by the fleet's own region scan and matching
(`fleet.reconcile`'s scan, `fleet/matching.py`): one implementation, shared. So every trail once: a
multi-region trail is taken in its home region (its copies elsewhere, shadows, are skipped); an
organization trail seen from a member account is not exported there but noted, and exported once by its
owner when the owner is in the run; from CloudTrail's delegated administrator it is exported as the
account's own (by ARN), once. A region or a trail that cannot be read is a failure in the result,
never silently missing from the export.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from trailkeeper import engine
from trailkeeper.aws import locate, parallel
from trailkeeper.aws.calls import Clients, Deadline
from trailkeeper.aws.locate import Trail
from trailkeeper.aws.pacing import READ_INTERVAL_SECONDS, Pacer
from trailkeeper.errors import TrailkeeperError
from trailkeeper.export.declare import declare
from trailkeeper.fleet import reconcile
from trailkeeper.fleet.reconcile import MAX_PARALLEL_REGIONS
from trailkeeper.fleet.report import AccountRun, NotOwned
from trailkeeper.trail import aspects, declaration
from trailkeeper.trail.tags import TAGS_ASPECT

log = logging.getLogger(__name__)

# The baseline pattern every trail matches: export covers exactly what `Name: "*"` would in plan.
EVERY_TRAIL = (declaration.parse({"Name": "*"}),)

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class ExportedTrail:
    """One trail as declared properties (`export.declare.declare`), and where it lives."""

    account: str
    home_region: str
    trail_arn: str
    properties: Mapping[str, Any]


@dataclass(frozen=True)
class Failure:
    """What could not be read: a region's DescribeTrails, a trail's aspects, or a whole account."""

    where: str  # the region, the trail's ARN, or the account's label
    error: TrailkeeperError
    account: str = ""

    def describe(self) -> str:
        """One line: where, then why (the reason alone when it already says where)."""
        reason = " ".join(self.error.reason.split())
        return reason if self.where in reason else f"{self.where}: {reason}"


@dataclass(frozen=True)
class Export:
    """Every trail read, in a stable order, and every failure; `accounts` for organization runs only."""

    trails: tuple[ExportedTrail, ...]
    regions: tuple[str, ...]  # the regions scanned (of every account, for an organization run)
    failures: tuple[Failure, ...] = ()
    accounts: tuple[AccountRun, ...] = ()
    not_owned: tuple[NotOwned, ...] = ()
    copies: tuple[str, ...] = ()  # ARNs of trails seen here but owned by another account

    @property
    def complete(self) -> bool:
        return not self.failures


def _tags(
    clients: Clients, trail_arns: Sequence[str], deadline: Deadline, before_read: Callable[[str], None]
) -> dict[str, object]:
    """Each trail's user tags: the shared batched ListTags (`locate.tags`), read as the tags aspect reads them."""
    found = locate.tags(clients, trail_arns, deadline, before_read)
    return {
        arn: TAGS_ASPECT.current(
            {"ResourceTagList": [{"TagsList": [{"Key": k, "Value": v} for k, v in found.get(arn, {}).items()]}]}, None
        )
        for arn in trail_arns
    }


def read_trails(
    clients: Clients,
    trails: Sequence[Trail],
    *,
    account: str,
    deadline: Deadline,
    before_read: Callable[[str], None],
    known: Mapping[str, Mapping[str, object]] | None = None,
) -> tuple[list[ExportedTrail], list[Failure]]:
    """Every aspect of `trails` (those of one home region), each read once at most: the tags batched, the
    others through the engine. `known[arn]` holds aspects already read (by name, in compare form, as the
    audit reads them): those are not read again. `before_read(region)` runs before each call."""
    known = known or {}
    exported: list[ExportedTrail] = []
    failures: list[Failure] = []
    untagged = [str(t["TrailARN"]) for t in trails if TAGS_ASPECT.name not in known.get(str(t["TrailARN"]), {})]
    try:
        tags = _tags(clients, untagged, deadline, before_read) if untagged else {}
    except TrailkeeperError as error:
        return [], [Failure(str(t["TrailARN"]), error, account) for t in trails]
    for trail in trails:
        arn = str(trail["TrailARN"])
        current: dict[str, object] = dict(known.get(arn, {}))
        current.setdefault(TAGS_ASPECT.name, tags.get(arn))
        try:
            for aspect in aspects.OTHERS:
                if aspect.name not in current:
                    current[aspect.name] = engine.read_current(
                        aspect, trail, clients=clients, deadline=deadline, before_read=before_read
                    )
        except TrailkeeperError as error:
            log.warning("trail not exported", extra={"trail": arn, "reason": error.reason})
            failures.append(Failure(arn, error, account))
            continue
        exported.append(ExportedTrail(account, locate.home_region(trail), arn, declare(trail, current)))
    return exported, failures


def order(trail: ExportedTrail) -> tuple[str, str, str]:
    return (trail.account, trail.home_region, trail.trail_arn)


def export_account(
    clients: Clients,
    regions: Sequence[str] | None,
    *,
    account: str,
    default_region: str,
    deadline: Deadline | None = None,
    read_pacer: Pacer | None = None,
    max_parallel_regions: int = MAX_PARALLEL_REGIONS,
    progress: Progress | None = None,
) -> Export:
    """Every trail of `account` homed in `regions` (None: those enabled for the account, listed from
    `default_region`), read through `clients` (that account's credentials)."""
    deadline = deadline or Deadline()
    read_pacer = read_pacer or Pacer(READ_INTERVAL_SECONDS)
    report: Progress = progress or (lambda *_: None)
    coverage = reconcile.cover(  # the fleet's own scan and matching: one implementation, shared
        EVERY_TRAIL,
        clients=clients,
        default_region=default_region,
        caller_account=account or None,
        regions=list(dict.fromkeys(regions)) if regions else None,
        deadline=deadline,
        read_pacer=read_pacer,
        progress=progress,  # None in an organization run: its regions are collected at once
        max_parallel_regions=max_parallel_regions,
    )
    failures = [Failure(region, error, account) for region, error in coverage.failed_regions.items()]
    homed: dict[str, list[Trail]] = defaultdict(list)
    for matched in coverage.matching.trails:
        homed[locate.home_region(matched.trail)].append(matched.trail)
    copies = set(coverage.matching.not_owned)

    exported: list[ExportedTrail] = []
    lock, finished, total = threading.Lock(), 0, sum(len(t) for t in homed.values())

    def one_region(region: str) -> None:
        nonlocal finished
        read, failed = read_trails(
            clients, homed[region], account=account, deadline=deadline, before_read=read_pacer.wait
        )
        with lock:
            exported.extend(read)
            failures.extend(failed)
            finished += len(homed[region])
            report("read trails", finished, total)

    with parallel.threads(min(max_parallel_regions, len(homed))) as pool:
        for pending in [pool.submit(one_region, region) for region in homed]:
            pending.result()
    return Export(
        tuple(sorted(exported, key=order)),
        coverage.scanned,
        tuple(sorted(failures, key=lambda f: (f.account, f.where))),
        copies=tuple(sorted(copies)),
    )
