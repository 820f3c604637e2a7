"""Run the per-account engine (`fleet.reconcile.run`) in every account of an organization run.

Each account gets its own credentials (its role, assumed once; the caller's own account uses the
caller's), its own clients and its own write pacing (CloudTrail's limits are per account and region),
and runs the same plan/apply as a single-account run, its regions in parallel. Accounts run in
parallel too, at most `max_accounts` at a time. An account that cannot be run (its role cannot be
assumed) or whose calls are denied fails alone, with a reason naming the account and the role.

A trail declared by name, and a pattern, apply in every account (in every region scanned there: those
given with --region, else the inventory's `regions` for the account, else those enabled for it); one
declared by ARN only in the account it names.
An organization trail appears in each member account as a copy only its owner may change: those
copies are not failures. The owner reports the trail when it is in the run; otherwise CloudTrail's
delegated administrator does, when it is in the run (once, by the first such account); otherwise it is
noted once (`Report.not_owned`). Who the delegated administrator is, the caller asks Organizations once
for the whole run (`aws/delegation.share`: a member may not ask, and every denied question would be an
AccessDenied in its trail), and no member is left to let CloudTrail decide (`try_unconfirmed` False):
every member would read the trail, and every one would be refused.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections import Counter, defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from trailkeeper import collector
from trailkeeper.aws import delegation
from trailkeeper.aws import regions as enabled_regions
from trailkeeper.aws.calls import Clients, Deadline
from trailkeeper.aws.error_table import Caller
from trailkeeper.aws.pacing import Pacer
from trailkeeper.errors import AwsCallFailed, NotChangeableHere, TrailkeeperError
from trailkeeper.fleet import reconcile
from trailkeeper.fleet.reconcile import Progress
from trailkeeper.fleet.report import AccountRun, NotOwned, Report, TrailResult
from trailkeeper.org.accounts import Account, named_for
from trailkeeper.org.credentials import AccountSessions
from trailkeeper.trail import arns, standing
from trailkeeper.trail.declaration import Declaration

log = logging.getLogger(__name__)

# Accounts at once. Each runs its regions in parallel (up to reconcile.MAX_PARALLEL_REGIONS threads that
# mostly wait on AWS), so 16 accounts x 17 regions is about 270 threads; bench/org.py measures it.
MAX_ACCOUNTS = 16


@dataclasses.dataclass
class _AccountOutcome:
    run: AccountRun
    results: list[TrailResult]
    copies: list[str]  # ARNs of organization trails seen here as copies owned by another account


class Applicable:
    """Which declarations apply in an account: every name, and the ARNs naming that account.

    Indexed once per run: a state file of per-region trails for a thousand accounts holds tens of
    thousands of ARNs, and scanning them all for every account would cost more than the AWS calls.
    """

    def __init__(self, declarations: Sequence[Declaration]) -> None:
        self._order = {d.name: index for index, d in enumerate(declarations)}
        self._names = [d for d in declarations if not d.name.startswith("arn:")]
        self._by_account: dict[str, list[Declaration]] = defaultdict(list)
        for declared in declarations:
            if declared.name.startswith("arn:"):
                self._by_account[arns.account_of(declared.name)].append(declared)

    def __call__(self, account_id: str) -> list[Declaration]:
        mine = [*self._names, *self._by_account.get(account_id, [])]
        return sorted(mine, key=lambda d: self._order[d.name])  # as declared

    def numbers(self, mine: Sequence[Declaration]) -> list[int]:
        """Each declaration's place in the whole state (reports name declarations by it)."""
        return [self._order[d.name] for d in mine]


def _run_account(
    account: Account,
    applicable: Applicable,
    *,
    caller_clients: Clients,
    sessions: AccountSessions,
    default_region: str,
    apply: bool,
    deadline: Deadline,
    max_parallel_regions: int,
    allow_weakening: bool = False,
    regions: Sequence[str] | None = None,
    reported_by_owner: frozenset[str] = frozenset(),
) -> _AccountOutcome:
    mine = applicable(account.id)
    if not mine:  # nothing declared for this account: no role to assume, no call to make
        return _AccountOutcome(AccountRun(account.id, account.name), [], [])
    try:
        clients = caller_clients if account.role_arn is None else Clients(sessions.session(account))
        delegation.share(caller_clients, clients, reported_by_owner)  # asked once, by the caller
        report = reconcile.run(
            mine,
            clients=clients,
            default_region=account.regions[0] if account.regions else default_region,
            caller_account=account.id,
            apply=apply,
            pacer=Pacer(),  # CloudTrail's write limit is per account and region
            deadline=deadline,
            max_parallel_regions=max_parallel_regions,
            allow_weakening=allow_weakening,  # the same guard against weakening audit in every account
            regions=enabled_regions.chosen(regions, account.regions),  # else its own enabled ones
            numbers=applicable.numbers(mine),
            try_unconfirmed=False,  # a member's copy is refused before any read (the module's docstring)
        )
    except TrailkeeperError as error:
        failure = named_for(error, account)
        # The account and the role in the line itself: the CLI's log format shows the message only.
        log.warning(
            "account failed: %s: %s",
            failure.error_code,
            failure.message,
            extra={"account": account.id, "error_code": failure.error_code},
        )
        return _AccountOutcome(AccountRun(account.id, account.name, failure), [], [])
    except Exception as error:  # one broken account must not end the others' run
        log.exception("account failed unexpectedly", extra={"account": account.id})
        failure = AwsCallFailed(type(error).__name__, "run", f"{account.label}: unexpected error: {error}")
        return _AccountOutcome(AccountRun(account.id, account.name, failure), [], [])
    finally:
        if account.role_arn is not None:
            sessions.forget(account)
    results, copies = [], [n.trail_arn for n in report.not_owned]  # copies a name or a pattern matched
    for result in report.results:
        owner = arns.account_of(result.trail_arn or "")
        if isinstance(result.error, NotChangeableHere) and result.error.organization_trail and owner != account.id:
            # A member account's copy of an organization trail (IsOrganizationTrail read back true): its
            # owner reports it. Another account's ordinary trail seen here is not a copy: the credentials
            # act in another account than this one, a failure reported below with the account and role.
            copies.append(str(result.trail_arn))
            continue
        named = None if result.error is None else named_for(result.error, account)
        results.append(dataclasses.replace(result, error=named, account=account.id, account_name=account.name))
    return _AccountOutcome(AccountRun(account.id, account.name), results, copies)


def run(
    declarations: Sequence[Declaration],
    accounts: Sequence[Account],
    *,
    clients: Clients,
    default_region: str,
    apply: bool,
    deadline: Deadline | None = None,
    progress: Progress | None = None,
    max_accounts: int = MAX_ACCOUNTS,
    max_parallel_regions: int = reconcile.MAX_PARALLEL_REGIONS,
    sessions: AccountSessions | None = None,
    allow_weakening: bool = False,
    caller: Caller = "function",
    regions: Sequence[str] | None = None,
    reported_by_owner: frozenset[str] | None = None,
) -> Report:
    """Plan (apply=False) or fix drift in every account; one result per (account, applicable declaration).

    `clients` are the caller's: they serve the caller's own account and make the AssumeRole calls, and ask
    Organizations (once) who CloudTrail's delegated administrator is, for every account of the run;
    `caller` says whose they are (the CLI's person, the reconcile function), for the remedies' wording.
    `reported_by_owner`: the owners whose organization trails their own run reports (default: the accounts
    of this run; the state machine, which runs one account per child, says every owner).
    """
    owners = frozenset(a.id for a in accounts) if reported_by_owner is None else reported_by_owner
    deadline = deadline or Deadline()
    sessions = sessions or AccountSessions(clients, default_region, deadline, caller=caller)
    report_progress: Progress = progress or (lambda *_: None)
    outcomes: dict[str, _AccountOutcome] = {}
    lock = threading.Lock()
    applicable = Applicable(declarations)

    def one(account: Account) -> None:
        outcome = _run_account(
            account,
            applicable,
            caller_clients=clients,
            sessions=sessions,
            default_region=default_region,
            apply=apply,
            deadline=deadline,
            max_parallel_regions=max_parallel_regions,
            allow_weakening=allow_weakening,
            regions=regions,
            reported_by_owner=owners,
        )
        with lock:
            outcomes[account.id] = outcome
            report_progress("accounts", len(outcomes), len(accounts))

    try:
        with (
            collector.what_lives_on_set_aside(len(accounts)),
            ThreadPoolExecutor(
                max_workers=max(1, min(max_accounts, len(accounts))), thread_name_prefix="account"
            ) as pool,
        ):
            for future in [pool.submit(one, account) for account in accounts]:
                future.result()
    finally:
        delegation.unshare(clients)  # the caller's own account's share (the function's clients outlive the run)

    ordered = [outcomes[a.id] for a in accounts]
    in_run = {a.id for a in accounts}
    results = [result for outcome in ordered for result in outcome.results]
    # An organization trail changed as its delegated administrator: reported once, and not where its owner does.
    by = [(str(r.account), str(r.trail_arn) if r.error is None else "") for r in results]  # failures stay
    results = [result for result, keep in zip(results, standing.reported_once(by), strict=True) if keep]
    reported = {str(r.trail_arn) for r in results if r.error is None}
    copies = Counter(arn for outcome in ordered for arn in set(outcome.copies))
    not_owned = tuple(
        NotOwned(arn, arns.account_of(arn), seen)
        for arn, seen in sorted(copies.items())
        if arns.account_of(arn) not in in_run  # the owner is in the run: it reports the trail itself
        and arn not in reported  # nor its delegated administrator
    )
    return Report(
        "apply" if apply else "plan",
        tuple(results),
        accounts=tuple(outcome.run for outcome in ordered),
        not_owned=not_owned,
        warnings=_nothing_checked(declarations, accounts, applicable),
    )


def _nothing_checked(
    declarations: Sequence[Declaration], accounts: Sequence[Account], applicable: Applicable
) -> tuple[str, ...]:
    """A warning when no declaration applies to any selected account: "0 trails" must not read as in sync.

    (An empty state is warned about where it is read, the same for one account and many.)
    """
    if not declarations or any(applicable(account.id) for account in accounts):
        return ()
    return (
        f"no declared trail applies to the {len(accounts)} selected account(s): nothing was checked "
        "(a trail declared by ARN applies only in the account the ARN names)",
    )
