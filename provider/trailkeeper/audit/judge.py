"""`trailkeeper audit`: read every account asked (`audit/reads.py`), then judge every asked control on every
place, trail and log bucket (`audit/controls.py`). Read-only.

Accounts are read in parallel, at most `max_accounts` at a time, each let go once read (a thousand
accounts' clients held to the end would take gigabytes); an account's own log buckets are read in its turn,
one named by another account's trail after every account, by the account of the run that owns it. Judging
comes last, each control once whatever the standards that name it. A read that fails is an error of the run
(exit 1) and leaves the controls that needed it NOT_AVAILABLE (trail level) or unproven (account level),
naming why.

With `export_trails=True` (`audit --fix --write-state`), the accounts' trails are also returned as one
export (`Audit.exported`), read as `audit/reads.py` says, and `Audit.export_reads` counts the extra calls.
"""

from __future__ import annotations

import dataclasses
import itertools
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from types import MappingProxyType
from typing import Any

from trailkeeper import collector
from trailkeeper.audit import chain_reads, controls, reads
from trailkeeper.audit.facts import (
    BucketFacts,
    Options,
)
from trailkeeper.audit.findings import Audit, AuditError, Finding
from trailkeeper.audit.reads import Pending, Target
from trailkeeper.aws import regions as enabled_regions
from trailkeeper.aws.calls import Deadline
from trailkeeper.errors import AwsCallFailed, TrailkeeperError
from trailkeeper.export import read as export_read
from trailkeeper.fleet.reconcile import Progress
from trailkeeper.fleet.report import AccountRun
from trailkeeper.trail import arns, standing


def _subjects(
    level: str, seen: Sequence[reads.AccountReads], bucket_facts: Mapping[str, BucketFacts]
) -> list[tuple[Any, str, str, str, str]]:
    """What a control of `level` judges: (subject, resource, account, region, partition) for each place, trail
    or bucket."""
    if level == "bucket":
        where = {name: region for s in seen for name, region in s.bucket_names.items()}
        return [
            (bucket, bucket.arn, bucket.owner, where.get(name, ""), bucket.partition)
            for name, bucket in sorted(bucket_facts.items())
        ]
    if level == "account":
        return [(p, p.resource, p.account, p.region, p.partition) for s in seen for p in s.places]
    return [(t, t.arn, t.account, t.home_region, arns.partition_of(t.arn)) for s in seen for t in s.owned]


def _judge(
    seen: Sequence[reads.AccountReads],
    bucket_facts: Mapping[str, BucketFacts],
    standards: Sequence[str],
    options: Options,
) -> list[Finding]:
    """Every asked control on every place, owned trail and log bucket, in the table's order. The subjects of a
    level are listed once, and a control two standards share (CloudTrail.1 and CIS 4.1) judged once: its
    verdicts are reported under each."""
    asked = controls.asked(standards)
    subjects = {level: _subjects(level, seen, bucket_facts) for level in dict.fromkeys(c.level for c, _ in asked)}
    findings: list[Finding] = []
    for control, pairs in itertools.groupby(asked, key=lambda pair: pair[0]):
        verdicts = [
            (control.judge(subject, options), where)
            for subject, *where in subjects[control.level]
            if control.applies is None or control.applies(subject)
        ]
        findings += [
            Finding.of(control, standard, verdict, resource=resource, account=account, region=region, partition=part)
            for _, standard in pairs
            for verdict, (resource, account, region, part) in verdicts
        ]
    return findings


def _read_chains(
    seen: Sequence[reads.AccountReads],
    bucket_facts: Mapping[str, BucketFacts],
    needs: frozenset[str],
    deadline: Deadline,
    *,
    partition: str,
    region: str,
    max_accounts: int,
) -> list[AuditError]:
    """Each owned trail's delivery chain, every link read once by its owner (`audit/chain_reads.py`)."""
    accounts = {s.target.account: s.target.clients for s in seen if s.places}
    owned = [t for s in seen for t in s.owned]
    attached, errors = chain_reads.attach(
        owned, accounts, bucket_facts, needs, deadline, partition=partition, region=region, max_accounts=max_accounts
    )
    by_arn = {t.arn: t for t in attached}
    for account in seen:
        account.owned = [by_arn.get(t.arn, t) for t in account.owned]
    return errors


def run(
    targets: Sequence[Target | Pending],
    regions: Sequence[str] | None,
    *,
    standards: Sequence[str] = controls.DEFAULT_STANDARDS,
    options: Options | None = None,
    deadline: Deadline | None = None,
    partition: str = "aws",
    max_accounts: int = 16,  # as org.reconcile.MAX_ACCOUNTS (the CLI passes --max-accounts)
    progress: Progress | None = None,
    kms_key: str = "",
    log_group: str = "",
    export_trails: bool = False,
    home_region: str = "",
    clock: Callable[[], float] = time.time,
) -> Audit:
    """Audit every target account against `standards`; read-only.

    Each account is read in its own regions (`aws.regions.of_account`): `regions` when given, else those
    its target lists (an inventory's), else those enabled for it (one DescribeRegions there, in
    `home_region`: opt-in regions differ by account). An account whose regions cannot be listed is an error
    of the run, as one whose role cannot be assumed. `Audit.scope` says which regions each account had.

    `kms_key` (--fix --kms-key) is resolved in each home region of an unencrypted trail, so that the
    CloudTrail.2 findings can say which key --fix would declare (kms:DescribeKey, once per account and region);
    `log_group` (--fix --log-group) likewise for CloudTrail.5 (logs:DescribeLogGroups).
    `export_trails` (--fix --write-state) also declares every trail the accounts own, as `trailkeeper export`
    would (`Audit.exported`), reading only what the audit did not (`Audit.export_reads`).
    `clock` says when the audit runs: how old a delivery CloudTrail reports is (the delivery standard).
    A `Pending` target is waited for in its turn (its role being assumed beside the run); one refused is an
    error of the run, not an account of it.
    """
    deadline = deadline or Deadline()
    options = dataclasses.replace(options or Options(), now=clock())
    needs = controls.needs(standards)
    report: Progress = progress or (lambda *_: None)
    done: dict[str, reads.AccountReads] = {}
    scope: dict[str, tuple[str, ...]] = {}
    lock = threading.Lock()
    asked_in = home_region or (regions[0] if regions else "us-east-1")  # where DescribeRegions is asked

    connected: dict[str, Target] = {}
    refused: dict[str, AuditError] = {}

    def one(item: Target | Pending) -> None:
        target = _acting(item)
        with lock:
            if isinstance(target, AuditError):
                refused[item.account] = target
                report("accounts", len(done) + len(refused), len(targets))
                return
            connected[item.account] = target
        try:
            mine = enabled_regions.of_account(
                regions, target.regions, clients=target.clients, region=asked_in, deadline=deadline
            )
            with lock:
                scope[target.account] = tuple(mine)
            seen = reads.read_account(
                target, mine, needs, deadline, partition, exporting=export_trails, listing=home_region
            )
        except TrailkeeperError as error:  # e.g. the account's role cannot be assumed, or its regions listed
            seen = reads.AccountReads(target, errors=[reads.error_of(target.account, "", error)])
            seen.export_failures.append(export_read.Failure(target.account, error, target.account))
        finally:  # held to the end, a thousand accounts' clients would take gigabytes; what follows rebuilds its own
            target.clients.forget()
        with lock:
            done[target.account] = seen
            report("accounts", len(done) + len(refused), len(targets))

    with ThreadPoolExecutor(max_workers=max(1, min(max_accounts, len(targets)))) as pool:
        for future in [pool.submit(one, target) for target in targets]:
            future.result()
    failed_accounts = [refused[t.account] for t in targets if t.account in refused]
    judged = [connected[t.account] for t in targets if t.account not in refused]
    seen = _once([done[t.account] for t in judged])
    audited = tuple(dict.fromkeys(r for t in judged for r in scope.get(t.account, ())))
    if kms_key:
        options = dataclasses.replace(options, **reads.resolve_key(seen, kms_key, deadline))
    if log_group:
        options = dataclasses.replace(options, **reads.resolve_log_group(seen, log_group, deadline))
    # ListBuckets answers from any region: the caller's own, which it can reach, not the first region asked
    # (an opt-in region there would leave every bucket unjudged).
    listing = home_region or (audited[0] if audited else asked_in)
    bucket_facts, bucket_errors = reads.read_buckets(
        seen, needs, listing, deadline, partition, max_accounts=max_accounts
    )
    chain_errors = _read_chains(
        seen, bucket_facts, needs, deadline, partition=partition, region=listing, max_accounts=max_accounts
    )
    errors = [*failed_accounts, *(e for s in seen for e in s.errors), *bucket_errors, *chain_errors]
    with collector.paused_while_judging(len(seen)):
        findings = _judge(seen, bucket_facts, standards, options)
    return Audit(
        tuple(standards),
        audited,
        tuple(findings),
        tuple(errors),
        tuple(t.account for t in judged),
        exported=_exported(seen, audited, failed_accounts) if export_trails else None,
        export_reads=sum(s.export_reads for s in seen),
        deliveries={t.arn: t.delivery for s in seen for t in s.owned if t.delivery is not None},
        chains={t.arn: t.chain for s in seen for t in s.owned if t.chain is not None},
        clients={t.account: t.clients for t in judged},
        scope=MappingProxyType(scope),
        names=MappingProxyType({t.account: t.name for t in judged if t.name}),
    )


def _acting(item: Target | Pending) -> Target | AuditError:
    """`item` ready to be read: an account whose role is still being assumed is waited for (one account's
    wait, while the accounts before it are read), or says why it could not be."""
    if isinstance(item, Target):
        return item
    acting = item.connect()
    return acting if isinstance(acting, AuditError) else Target(item.account, acting, item.name, item.regions)


def _once(seen: list[reads.AccountReads]) -> list[reads.AccountReads]:
    """An organization trail judged (and exported) as its delegated administrator's only where its owner does not
    judge it in the same run, and once (trail/standing.py's `reported_once`)."""
    judged = iter(standing.reported_once([(s.target.account, t.arn) for s in seen for t in s.owned]))
    exported = iter(standing.reported_once([(s.target.account, t.trail_arn) for s in seen for t in s.exported]))
    for account in seen:
        account.owned = [t for t in account.owned if next(judged)]
        account.exported = [t for t in account.exported if next(exported)]
    return seen


def _exported(
    seen: Sequence[reads.AccountReads], regions: Sequence[str], failed_accounts: Sequence[AuditError]
) -> export_read.Export:
    """The accounts' trails as one export, ordered and grouped as `trailkeeper export` orders and groups them."""
    failures = [f for s in seen for f in s.export_failures]
    # An account that could not be audited at all (its role, say) is missing from the export: its header says so.
    failures += [
        export_read.Failure(e.account, AwsCallFailed(e.code, "audit", e.reason), e.account) for e in failed_accounts
    ]
    several = len(seen) + len(failed_accounts) > 1
    runs = (
        tuple(AccountRun(s.target.account, s.target.name) for s in seen)
        + tuple(AccountRun(e.account) for e in failed_accounts)
        if several
        else ()
    )
    return export_read.Export(
        tuple(sorted((t for s in seen for t in s.exported), key=export_read.order)),
        tuple(regions),
        tuple(sorted(failures, key=lambda f: (f.account, f.where))),
        accounts=runs,
    )
