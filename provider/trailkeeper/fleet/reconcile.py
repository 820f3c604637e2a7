"""Plan or apply a declared state across many trails and regions (the drift-fix pipelines' engine).

Reads are batched and concurrent: the regions to scan are those given (`--region`, repeatable) or those
enabled for the account (one DescribeRegions, only when a name or a pattern needs them); each region
whose trails some declaration can match is read with one DescribeTrails, shared by every declaration,
and regions are read in parallel. `fleet/matching.py` then decides which declarations cover which trail
(names in every region, patterns, ARNs) and merges the layers of each; a conflict between two layers
stops the run before any write. Each trail is then reconciled by the same engine as the custom
resource; writes go to each trail's home region, paced to CloudTrail's limit (`pacing.Pacer`: about one
write per second per region), and so are the per-trail reads of the other aspects (about ten per
second), with regions working in parallel. Trails are independent: one failure is recorded and the rest
go on.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import as_completed, wait
from dataclasses import dataclass
from types import MappingProxyType

from trailkeeper import engine
from trailkeeper.aws import delegation, locate, parallel, regions
from trailkeeper.aws.calls import Clients, Deadline
from trailkeeper.aws.locate import Trail
from trailkeeper.aws.pacing import READ_INTERVAL_SECONDS, Pacer
from trailkeeper.aws.regions import partition_of
from trailkeeper.errors import ConflictingDeclarations, NothingMatched, TrailkeeperError, TrailNotFound
from trailkeeper.fleet import matching
from trailkeeper.fleet.report import NotOwned, Report, Status, TrailResult
from trailkeeper.trail import arns, standing
from trailkeeper.trail.declaration import Declaration

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]  # (stage, done, total)
# Every region at once: a region costs one read, and its writes are paced to one per second, so its
# thread mostly waits. Capping this at 8 made 17 regions take three rounds (bench/fleet.py: 3.0x the
# slowest region; 1.0x now).
MAX_PARALLEL_REGIONS = 32
SHOWN_REGIONS = 5  # a TrailNotFound names this many of the regions scanned, then counts the rest


def _scan(
    clients: Clients,
    to_read: Sequence[str],
    *,
    deadline: Deadline,
    progress: Progress | None,
    max_parallel_regions: int,
) -> tuple[dict[str, list[Trail]], dict[str, TrailkeeperError]]:
    """One DescribeTrails per region, in parallel: the trails of each region read, and the regions that failed."""
    answers: dict[str, list[Trail]] = {}
    failed: dict[str, TrailkeeperError] = {}
    if not to_read:
        return answers, failed
    with parallel.threads(min(max_parallel_regions, len(to_read))) as pool:
        futures = {pool.submit(locate.scan, clients, region, deadline): region for region in to_read}
        # Each region's answer as it comes, when someone watches; else all at once, without waking this thread
        # for every region (an organization run: 64 accounts x 17 regions of wake-ups, bench/org.py).
        arrived = as_completed(futures) if progress else wait(futures).done
        for done, future in enumerate(arrived, start=1):
            region = futures[future]
            try:
                answers[region] = future.result()
            except TrailkeeperError as error:  # the region's one read failed: what it would hold is unknown
                failed[region] = error
            if progress:
                progress("read regions", done, len(futures))
    return answers, failed


def scanned_regions(
    clients: Clients,
    declarations: Sequence[Declaration],
    *,
    default_region: str,
    regions_given: Sequence[str] | None,
    deadline: Deadline,
) -> list[str]:
    """The regions given, or (only when a name or a pattern needs them) those enabled for the account."""
    named = regions.chosen(regions_given)  # an organization run has put the inventory's in regions_given
    if named is not None:
        return named
    if not matching.needs_region_list(declarations):
        return []
    return regions.enabled(clients, default_region, deadline)


def _not_found(
    index: int, declared: Declaration, scanned: Sequence[str], caller: tuple[str | None, str]
) -> TrailResult:
    """`caller`: the account and partition the credentials act in (an ARN of another is said to be)."""
    elsewhere = arns.elsewhere(declared.name, account=caller[0], partition=caller[1])
    if declared.name.startswith("arn:") and elsewhere:
        error = TrailNotFound(f"no trail {declared.name!r} among this account's: {elsewhere}")
    elif declared.name.startswith("arn:"):
        error = TrailNotFound(f"no trail {declared.name!r} in its region; check Name")
    else:
        shown = ", ".join(scanned[:SHOWN_REGIONS]) + (
            f" and {len(scanned) - SHOWN_REGIONS} more" if len(scanned) > SHOWN_REGIONS else ""
        )
        error = TrailNotFound(
            f"no trail named {declared.name!r} in the {len(scanned)} region(s) scanned ({shown or 'none'}; shadow "
            "trails included); check Name, pass --region, or give the trail's ARN"
        )
    return TrailResult(declared.name, "failed", error=error, declared_by=((index, declared.name),))


@dataclass(frozen=True)
class Coverage:
    """What a run found before reconciling anything: the regions scanned, the ones whose read failed,
    and which declarations cover which trail (`export` and `audit` start from the same)."""

    scanned: tuple[str, ...]
    failed_regions: Mapping[str, TrailkeeperError]
    matching: matching.Matching
    delegated: bool = False  # the account is CloudTrail's delegated administrator: it covers organization trails


def cover(
    declarations: Sequence[Declaration],
    *,
    clients: Clients,
    default_region: str,
    caller_account: str | None,
    regions: Sequence[str] | None,
    deadline: Deadline,
    read_pacer: Pacer,
    progress: Progress | None,
    max_parallel_regions: int = MAX_PARALLEL_REGIONS,
    only: Callable[[Trail], bool] | None = None,
) -> Coverage:
    """Scan the regions (one DescribeTrails each, in parallel), read the tags a Match needs, and match."""
    scanned = scanned_regions(
        clients, declarations, default_region=default_region, regions_given=regions, deadline=deadline
    )
    to_read = matching.regions_to_read(declarations, scanned)
    if only is not None:
        to_read = [r for r in to_read if r in scanned]
    # A region only an ARN of another partition names: these credentials cannot read there (the ARN's
    # declaration is reported as in another partition, not as a region whose read failed).
    partition = partition_of(default_region)
    to_read = [r for r in to_read if r in scanned or partition_of(r) == partition]
    answers, failed_regions = _scan(
        clients, to_read, deadline=deadline, progress=progress, max_parallel_regions=max_parallel_regions
    )
    seen = matching.Seen.from_answers(answers, attempted=to_read)
    delegated = administers(clients, seen.trails.values(), caller_account, default_region, deadline)
    wanted_tags = matching.tags_needed(declarations, seen, caller_account, delegated, only)
    tags = locate.tags(clients, wanted_tags, deadline, read_pacer.wait) if wanted_tags else {}
    found = matching.match(declarations, seen, caller_account=caller_account, tags=tags, only=only, delegated=delegated)
    return Coverage(tuple(scanned), MappingProxyType(failed_regions), found, delegated)


def administers(
    clients: Clients, trails: Iterable[Trail], caller_account: str | None, region: str, deadline: Deadline
) -> bool:
    """Whether the account changes the organization trails it sees as CloudTrail's delegated administrator:
    asked (once per `clients`) only when the trails seen hold one of another account; False when Organizations
    could not say, and in a run over many accounts where their owner reports them."""
    foreign = [trail for trail in trails if standing.is_foreign_organization_trail(trail, caller_account)]
    if not foreign:
        return False
    answer = delegation.administrators(clients, region, deadline)
    owners = {arns.account_of(str(trail["TrailARN"])) for trail in foreign}
    return answer.includes(caller_account) is True and not any(answer.reports(owner) for owner in owners)


def run(
    declarations: Sequence[Declaration],
    *,
    clients: Clients,
    default_region: str,
    caller_account: str | None,
    apply: bool,
    regions: Sequence[str] | None = None,
    pacer: Pacer | None = None,
    read_pacer: Pacer | None = None,
    deadline: Deadline | None = None,
    progress: Progress | None = None,
    max_parallel_regions: int = MAX_PARALLEL_REGIONS,
    allow_weakening: bool = False,
    only: Callable[[Trail], bool] | None = None,
    numbers: Sequence[int] | None = None,
    try_unconfirmed: bool = True,
) -> Report:
    """Find the trails the declarations cover, then plan (apply=False) or fix their drift; one result per trail.

    `regions`: the regions to scan (default: those enabled for the account). `allow_weakening` allows
    every change that weakens audit (the CLI's --allow-weakening); without it, only what each
    declaration's AllowWeakening lists, for what that declaration declares. `only` keeps the trails it
    accepts and reads only the regions given (the event-driven repair: the trail an event names).
    `numbers` are the declarations' places in the state file when they are a part of it (an account's
    share in an organization run); reports and errors name declarations by them.
    `try_unconfirmed` False refuses an organization trail of another account unless Organizations confirms
    this account is CloudTrail's delegated administrator (an organization run; engine.check_owner).
    Raises ConflictingDeclarations, before any write, when two declarations give one trail's property
    different values.
    """
    deadline = deadline or Deadline()
    pacer = pacer or Pacer()
    read_pacer = read_pacer or Pacer(READ_INTERVAL_SECONDS)
    report_progress: Progress = progress or (lambda *_: None)
    covered = cover(
        declarations,
        clients=clients,
        default_region=default_region,
        caller_account=caller_account,
        regions=regions,
        deadline=deadline,
        read_pacer=read_pacer,
        progress=progress,
        max_parallel_regions=max_parallel_regions,
        only=only,
    )
    scanned, failed_regions, found = covered.scanned, covered.failed_regions, covered.matching

    place = list(numbers) if numbers is not None else list(range(len(declarations)))
    # Alias -> key ARN per home region: what layering looks up (to tell one key in two spellings from two
    # keys) the engine reuses, so a run asks KMS once per alias and region. Each region's is read and written
    # by the main thread here, then by that region's one worker only.
    aliases: dict[str, dict[tuple[str, str], str]] = defaultdict(dict)

    def key_lookup(trail: Trail) -> matching.KeyLookup:
        region = locate.home_region(trail)

        def lookup(alias: str) -> str:
            return engine.key_arn_of(alias, clients=clients, region=region, deadline=deadline, known=aliases[region])

        return lookup

    layered = {
        str(m.trail["TrailARN"]): matching.layer(
            declarations, m.declarations, str(m.trail["TrailARN"]), place, key_arn=key_lookup(m.trail)
        )
        for m in found.trails
    }
    conflicts = [problem for layers in layered.values() for problem in layers.conflicts]
    if conflicts:
        raise ConflictingDeclarations(conflicts)

    early: list[tuple[tuple[int, str, str], TrailResult]] = []
    for region, error in failed_regions.items():
        for index, declared in enumerate(declarations):
            if region in matching.regions_to_read([declared], scanned):
                result = TrailResult(
                    declared.name,
                    "failed",
                    home_region=region,
                    error=error,
                    declared_by=((place[index], declared.name),),
                )
                early.append(((index, region, ""), result))
    if only is None:
        for index in found.missing:
            declared = declarations[index]
            if not any(r in failed_regions for r in matching.regions_to_read([declared], scanned)):
                caller = (caller_account, partition_of(default_region))
                early.append(((index, "", ""), _not_found(place[index], declared, scanned, caller)))

    by_home: dict[str, list[tuple[matching.Matched, Declaration]]] = defaultdict(list)
    for matched in found.trails:
        merged = layered[str(matched.trail["TrailARN"])].declaration
        assert merged is not None  # no conflicts, so every trail has its merged declaration
        by_home[locate.home_region(matched.trail)].append((matched, merged))

    stage = "apply trails" if apply else "plan trails"
    total, finished, lock = sum(len(items) for items in by_home.values()), 0, threading.Lock()
    reconciled: list[tuple[tuple[int, str, str], TrailResult]] = []

    def reconcile_region(region: str, items: list[tuple[matching.Matched, Declaration]]) -> None:
        nonlocal finished
        for matched, merged in items:
            declared_by = tuple((place[i], declarations[i].name) for i in matched.declarations)
            result = _reconcile_one(
                merged,
                matched.trail,
                declared_by=declared_by,
                clients=clients,
                caller_account=caller_account,
                apply=apply,
                pacers=(pacer, read_pacer),
                deadline=deadline,
                aliases=aliases[region],  # this region's worker alone uses it now
                allow_weakening=allow_weakening,
                try_unconfirmed=try_unconfirmed,
            )
            key = (matched.declarations[0], result.home_region or "", result.trail_arn or "")
            with lock:  # progress per trail: a paced region can take minutes
                reconciled.append((key, result))
                finished += 1
                report_progress(stage, finished, total)

    # Threads pay where a trail's reconcile waits on AWS; where every one only compares (a plan that DescribeTrails
    # answered), they would only add hand-offs, and the regions run in this thread.
    waits = any(
        engine.may_call(merged, matched.trail, apply=apply, caller_account=caller_account, aliases=aliases[region])
        for region, items in by_home.items()
        for matched, merged in items
    )
    with parallel.threads(min(max_parallel_regions, len(by_home)) if waits else 1) as pool:
        for future in [pool.submit(reconcile_region, region, items) for region, items in by_home.items()]:
            future.result()
    results = tuple(result for _, result in sorted([*early, *reconciled], key=lambda pair: pair[0]))
    warnings = () if only is not None else tuple(_unmatched(declarations, found.unmatched_patterns, scanned, place))
    warnings += tuple(f"{r.trail_arn}: {note}" for r in results for note in r.unchecked)
    not_owned = tuple(NotOwned(arn, arns.account_of(arn), 1) for arn in found.not_owned)
    return Report("apply" if apply else "plan", results, not_owned=not_owned, warnings=warnings)


def _unmatched(
    declarations: Sequence[Declaration], indexes: Sequence[int], scanned: Sequence[str], place: Sequence[int]
) -> list[str]:
    return [
        f"{matching.label(place[i], declarations[i])} matched no trail in the {len(scanned)} region(s) scanned"
        for i in indexes
    ]


def nothing_matched(declarations: Sequence[Declaration], result: Report) -> NothingMatched | None:
    """A state that declares trails but covered none at all: an error, never a silent success."""
    if not declarations or result.results or result.not_owned or result.failed_accounts:
        return None
    return NothingMatched(
        f"the {len(declarations)} declaration(s) matched no trail at all, so nothing was checked: check the "
        "patterns and their Match, and the regions (--region) and accounts selected"
    )


def _reconcile_one(
    declared: Declaration,
    trail: Trail,
    *,
    declared_by: tuple[tuple[int, str], ...],
    clients: Clients,
    caller_account: str | None,
    apply: bool,
    pacers: tuple[Pacer, Pacer],
    deadline: Deadline,
    aliases: dict[tuple[str, str], str],
    allow_weakening: bool,
    try_unconfirmed: bool = True,
) -> TrailResult:
    arn, home = str(trail["TrailARN"]), locate.home_region(trail)
    name = str(trail.get("Name") or arn.split(":trail/", 1)[-1])
    try:
        outcome = engine.reconcile(
            declared,
            trail,
            clients=clients,
            caller_account=caller_account,
            deadline=deadline,
            apply=apply,
            before_write=pacers[0].wait,
            after_write=pacers[0].done,  # the next write an interval after this one ended, not started
            before_read=pacers[1].wait,
            aliases=aliases,
            allow_weakening=allow_weakening,
            try_unconfirmed=try_unconfirmed,
        )
    except TrailkeeperError as error:
        log.warning("trail failed", extra={"trail": arn, "error_code": error.error_code})
        return TrailResult(name, "failed", arn, home, error=error, declared_by=declared_by)
    status: Status = "in_sync" if not outcome.changes else "fixed" if outcome.applied else "drifted"
    return TrailResult(
        name,
        status,
        arn,
        home,
        outcome.changes,
        refused=outcome.refused if outcome.changes else (),
        declared_by=declared_by,
        standing=outcome.standing,
        unchecked=outcome.unchecked,
    )
