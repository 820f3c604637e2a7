"""`trailkeeper export --organization | --accounts`: every account's trails, read as one account's are.

As `org/reconcile.py` runs plan in each account, this reads each account with `export.read.export_account`:
its own credentials (its role, assumed once; the caller's own account with the caller's), its own read
pacing and its own regions. An account that cannot be read fails alone, named with its role, and the
others go on. Results are grouped by account; an organization trail is exported once, from its owner (or,
without it, from CloudTrail's delegated administrator, which the caller asks Organizations about once for
the run), and its copies are noted when neither is in the run, as plan notes them.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from trailkeeper import collector
from trailkeeper.aws import delegation
from trailkeeper.aws.calls import Clients, Deadline
from trailkeeper.errors import AwsCallFailed, TrailkeeperError
from trailkeeper.export.read import Export, Failure, Progress, export_account, order
from trailkeeper.fleet.reconcile import MAX_PARALLEL_REGIONS
from trailkeeper.fleet.report import AccountRun, NotOwned
from trailkeeper.org.accounts import Account, named_for
from trailkeeper.org.credentials import AccountSessions
from trailkeeper.org.reconcile import MAX_ACCOUNTS
from trailkeeper.trail import arns, standing

log = logging.getLogger(__name__)

RegionsOf = Callable[[Account], Sequence[str] | None]  # an account's regions to scan (None: its enabled ones)


def run(
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
    # Only the CLI exports: a refused role is worded for a person's credentials, not the function's role.
    sessions = sessions or AccountSessions(clients, region, deadline, caller="cli")
    report: Progress = progress or (lambda *_: None)
    outcomes: dict[str, tuple[AccountRun, Export | None]] = {}
    lock = threading.Lock()

    def one(account: Account) -> None:
        result: Export | None = None
        run = AccountRun(account.id, account.name)
        try:
            mine = clients if account.role_arn is None else Clients(sessions.session(account))
            delegation.share(clients, mine, owners)  # who CloudTrail's delegated administrator is: asked once
            result = export_account(
                mine,
                regions_of(account),
                account=account.id,
                default_region=region,
                deadline=deadline,
                max_parallel_regions=max_parallel_regions,
            )
        except TrailkeeperError as error:
            failure = named_for(error, account)
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

    owners = frozenset(a.id for a in accounts)  # they export their own organization trails
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
        delegation.unshare(clients)

    by_id = {account.id: account for account in accounts}
    runs = [outcomes[a.id][0] for a in accounts]
    done = [result for _, result in (outcomes[a.id] for a in accounts) if result is not None]
    trails = [t for result in done for t in result.trails]
    # An organization trail exported by its delegated administrator: once, and not where its owner exports it.
    trails = [
        t
        for t, keep in zip(trails, standing.reported_once([(t.account, t.trail_arn) for t in trails]), strict=True)
        if keep
    ]
    exported = {t.trail_arn for t in trails}
    failures = [Failure(by_id[run.account].label, run.error, run.account) for run in runs if run.error is not None] + [
        dataclasses.replace(f, error=named_for(f.error, by_id[f.account])) for result in done for f in result.failures
    ]
    in_run = set(by_id)
    seen = Counter(arn for result in done for arn in result.copies)
    not_owned = tuple(
        NotOwned(arn, arns.account_of(arn), count)
        for arn, count in sorted(seen.items())
        if arns.account_of(arn) not in in_run  # its owner is in the run: exported from there
        and arn not in exported  # nor by its delegated administrator
    )
    return Export(
        tuple(sorted(trails, key=order)),
        tuple(dict.fromkeys(r for result in done for r in result.regions)),
        tuple(failures),
        accounts=tuple(runs),
        not_owned=not_owned,
    )
