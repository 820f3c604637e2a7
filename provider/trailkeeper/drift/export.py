"""Read every trail of an account (or of each account of an organization run) as a declaration.

`trailkeeper export` writes what this module reads. The reads are the drift-fix pipelines' own, at
their limit: one DescribeTrails per region scanned (regions in parallel), then, for each trail homed
there, each aspect's read once through the engine (`engine.read_current`: none where DescribeTrails
already answers, as HasCustomEventSelectors / HasInsightSelectors false do) and its tags with one
ListTags per 20 trails of a home region. Per-trail reads are paced as plan paces them (about ten per
second per region, `pacing.READ_INTERVAL_SECONDS`).

Which trails: those the pattern `Name: "*"` covers, found by the fleet's own region scan and matching
(`drift.fleet`'s scan, `trail/matching.py`): one implementation, shared. So every trail once: a
multi-region trail is taken in its home region (its copies elsewhere, shadows, are skipped); an
organization trail seen from a member account is not exported there but noted, and exported once by its
owner when the owner is in the run. A region or a trail that cannot be read is a failure in the result,
never silently missing from the export.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from trailkeeper import engine
from trailkeeper.aws import locate
from trailkeeper.aws.calls import Clients, Deadline
from trailkeeper.aws.locate import Trail
from trailkeeper.aws.pacing import READ_INTERVAL_SECONDS, Pacer
from trailkeeper.drift import fleet
from trailkeeper.drift.fleet import MAX_PARALLEL_REGIONS
from trailkeeper.drift.report import AccountRun, NotOwned
from trailkeeper.errors import AwsCallFailed, TrailkeeperError
from trailkeeper.org.accounts import Account
from trailkeeper.org.credentials import AccountSessions
from trailkeeper.org.run import MAX_ACCOUNTS
from trailkeeper.org.run import _named as named_for_account
from trailkeeper.trail import arns, aspects, declaration, matching
from trailkeeper.trail.export import declare
from trailkeeper.trail.tags import TAGS_ASPECT

log = logging.getLogger(__name__)

# The baseline pattern every trail matches: export covers exactly what `Name: "*"` would in plan.
EVERY_TRAIL = (declaration.parse({"Name": "*"}),)

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class ExportedTrail:
    """One trail as declared properties (`trail.export.declare`), and where it lives."""

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


def _read_region(
    clients: Clients,
    region: str,
    trails: Sequence[Trail],
    *,
    account: str,
    deadline: Deadline,
    read_pacer: Pacer,
) -> tuple[list[ExportedTrail], list[Failure]]:
    """Every aspect of the trails homed in `region`: the tags batched, the others one read each at most."""
    exported: list[ExportedTrail] = []
    failures: list[Failure] = []
    try:
        tags = _tags(clients, [str(t["TrailARN"]) for t in trails], deadline, read_pacer.wait)
    except TrailkeeperError as error:
        return [], [Failure(str(t["TrailARN"]), error, account) for t in trails]
    for trail in trails:
        arn = str(trail["TrailARN"])
        current: dict[str, object] = {TAGS_ASPECT.name: tags[arn]}
        try:
            for aspect in aspects.OTHERS:
                if aspect.name not in current:
                    current[aspect.name] = engine.read_current(
                        aspect, trail, clients=clients, deadline=deadline, before_read=read_pacer.wait
                    )
        except TrailkeeperError as error:
            log.warning("trail not exported", extra={"trail": arn, "error_code": error.error_code})
            failures.append(Failure(arn, error, account))
            continue
        exported.append(ExportedTrail(account, region, arn, declare(trail, current)))
    return exported, failures


def _order(trail: ExportedTrail) -> tuple[str, str, str]:
    return (trail.account, trail.home_region, trail.trail_arn)


def export_account(
    clients: Clients,
    regions: Sequence[str],
    *,
    account: str,
    deadline: Deadline | None = None,
    read_pacer: Pacer | None = None,
    max_parallel_regions: int = MAX_PARALLEL_REGIONS,
    progress: Progress | None = None,
) -> Export:
    """Every trail of `account` homed in `regions`, read through `clients` (that account's credentials)."""
    deadline = deadline or Deadline()
    read_pacer = read_pacer or Pacer(READ_INTERVAL_SECONDS)
    report: Progress = progress or (lambda *_: None)
    regions = list(dict.fromkeys(regions))
    answers, failed_regions = fleet._scan(  # the fleet's own scan (private there; shared here on purpose)
        clients, regions, deadline=deadline, progress=report, max_parallel_regions=max_parallel_regions
    )
    failures = [Failure(region, error, account) for region, error in failed_regions.items()]
    found = matching.match(EVERY_TRAIL, matching.Seen.from_answers(answers), caller_account=account or None)
    homed: dict[str, list[Trail]] = defaultdict(list)
    for matched in found.trails:
        homed[locate.home_region(matched.trail)].append(matched.trail)
    copies = set(found.not_owned)

    exported: list[ExportedTrail] = []
    lock, finished, total = threading.Lock(), 0, sum(len(t) for t in homed.values())

    def one_region(region: str) -> None:
        nonlocal finished
        read, failed = _read_region(
            clients, region, homed[region], account=account, deadline=deadline, read_pacer=read_pacer
        )
        with lock:
            exported.extend(read)
            failures.extend(failed)
            finished += len(homed[region])
            report("read trails", finished, total)

    workers = max(1, min(max_parallel_regions, len(homed)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="export") as pool:
        for pending in [pool.submit(one_region, region) for region in homed]:
            pending.result()
    return Export(
        tuple(sorted(exported, key=_order)),
        tuple(regions),
        tuple(sorted(failures, key=lambda f: (f.account, f.where))),
        copies=tuple(sorted(copies)),
    )


RegionsOf = Callable[[Account, Clients], Sequence[str]]  # the regions to scan in an account


def export_accounts(
    accounts: Sequence[Account],
    *,
    clients: Clients,
    regions_of: RegionsOf,
    region: str,
    deadline: Deadline | None = None,
    max_accounts: int = MAX_ACCOUNTS,
    max_parallel_regions: int = MAX_PARALLEL_REGIONS,
    sessions: AccountSessions | None = None,
    progress: Progress | None = None,
) -> Export:
    """Every trail of every account, grouped by account as an organization run groups them.

    Each account is read with its own credentials (its role, assumed once; the caller's own account with
    the caller's) and its own read pacing; an account that cannot be read fails alone, named with its
    role, and the others go on. An organization trail is exported once, from its owner; when the owner
    is not in the run, its copies are noted (`not_owned`), as plan notes them.
    """
    deadline = deadline or Deadline()
    sessions = sessions or AccountSessions(clients, region, deadline)
    report: Progress = progress or (lambda *_: None)
    outcomes: dict[str, tuple[AccountRun, Export | None]] = {}
    lock = threading.Lock()

    def one(account: Account) -> None:
        result: Export | None = None
        run = AccountRun(account.id, account.name)
        try:
            mine = clients if account.role_arn is None else Clients(sessions.session(account))
            result = export_account(
                mine,
                regions_of(account, mine),
                account=account.id,
                deadline=deadline,
                max_parallel_regions=max_parallel_regions,
            )
        except TrailkeeperError as error:
            failure = named_for_account(error, account)
            log.warning("account failed", extra={"account": account.id, "error_code": failure.error_code})
            run = AccountRun(account.id, account.name, failure)
        except Exception as error:  # one broken account must not end the others' export
            log.exception("account failed unexpectedly", extra={"account": account.id})
            failure = AwsCallFailed(type(error).__name__, "export", f"{account.label}: unexpected error: {error}")
            run = AccountRun(account.id, account.name, failure)
        finally:
            if account.role_arn is not None:
                sessions.forget(account)
        with lock:
            outcomes[account.id] = (run, result)
            report("accounts", len(outcomes), len(accounts))

    with ThreadPoolExecutor(max_workers=max(1, min(max_accounts, len(accounts))), thread_name_prefix="account") as pool:
        for future in [pool.submit(one, account) for account in accounts]:
            future.result()

    by_id = {account.id: account for account in accounts}
    runs = [outcomes[a.id][0] for a in accounts]
    done = [result for _, result in (outcomes[a.id] for a in accounts) if result is not None]
    failures = [Failure(by_id[run.account].label, run.error, run.account) for run in runs if run.error is not None] + [
        dataclasses.replace(f, error=named_for_account(f.error, by_id[f.account]))
        for result in done
        for f in result.failures
    ]
    in_run = set(by_id)
    seen = Counter(arn for result in done for arn in result.copies)
    not_owned = tuple(
        NotOwned(arn, arns.account_of(arn), count)
        for arn, count in sorted(seen.items())
        if arns.account_of(arn) not in in_run  # its owner is in the run: exported from there
    )
    return Export(
        tuple(sorted((t for result in done for t in result.trails), key=_order)),
        tuple(dict.fromkeys(r for result in done for r in result.regions)),
        tuple(failures),
        accounts=tuple(runs),
        not_owned=not_owned,
    )
