"""The audit's reads: each account's trails, each trail once, each log bucket once, at the limit. Read-only.

Only what the asked standards need (`controls.needs`) is read:

- one DescribeTrails per region (shadows included: a multi-region trail homed elsewhere covers the
  region, and is read once, in its home region);
- per trail, once: GetTrailStatus (logging, CloudWatch Logs delivery), GetEventSelectors only when
  DescribeTrails says the trail has custom selectors (otherwise it records CloudTrail's default), and
  ListTags for the trails the account owns, twenty trails of a home region a call, in that region's turn;
- per account, one ListBuckets (which buckets it owns); per log bucket, once in the whole run, by its
  owner: the reads of `audit/buckets.py` (accounts' lists and buckets `max_accounts` at a time);
- for --fix, --kms-key and --log-group looked up once per account and home region that lacks them.

CloudTrail reads are paced per account and home region like plan's (`pacing.READ_INTERVAL_SECONDS`);
regions and accounts run in parallel. A read that fails is recorded (`AccountReads.errors`) and leaves
the facts it would have given unread, naming why: the judgement says NOT_AVAILABLE or unproven.

Exporting (`audit --fix --write-state`), every trail an account owns is also declared as `trailkeeper
export` declares it (`export.read.read_trails`, `export.declare.declare`), from the reads above: only
what they did not answer is read, once per trail (GetInsightSelectors when DescribeTrails says the trail
has Insights; GetTrailStatus, GetEventSelectors or ListTags when the standards asked did not need them),
and `AccountReads.export_reads` counts those calls.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from botocore import xform_name

from trailkeeper.audit import buckets, chain_reads
from trailkeeper.audit.facts import (
    BUCKET_LOGGING,
    BUCKET_PUBLIC,
    CHAIN_BUCKET,
    EVENTS,
    STATUS,
    TAGS,
    BucketFacts,
    Place,
    TrailFacts,
)
from trailkeeper.audit.findings import AuditError
from trailkeeper.aws import delegation, locate, parallel
from trailkeeper.aws import regions as enabled_regions
from trailkeeper.aws.calls import Clients, Deadline, call
from trailkeeper.aws.locate import Trail
from trailkeeper.aws.pacing import READ_INTERVAL_SECONDS, Pacer
from trailkeeper.errors import TrailkeeperError
from trailkeeper.export import read as export_read
from trailkeeper.fleet.reconcile import MAX_PARALLEL_REGIONS, administers
from trailkeeper.trail import arns, selectors, standing
from trailkeeper.trail.record import Record
from trailkeeper.trail.selector_aspect import SELECTORS_ASPECT
from trailkeeper.trail.status import LOGGING
from trailkeeper.trail.tags import RESERVED, TAGS_ASPECT

# Every action an audit calls (read-only): the region list, the scan and ListTags (locate), the per-trail
# reads, the bucket reads, and the identity check. docs/audit.md lists them; tests hold both to the calls.
READS = (
    "sts:GetCallerIdentity",
    *enabled_regions.PERMISSIONS,
    *locate.PERMISSIONS,
    "cloudtrail:GetTrailStatus",
    "cloudtrail:GetEventSelectors",
    *buckets.PERMISSIONS,
    *chain_reads.PERMISSIONS,
    *delegation.PERMISSIONS,  # is this account CloudTrail's delegated administrator (its trails judged as its own)?
)
# --fix only: --kms-key and --log-group looked up in each home region; --write-state's export of a trail with Insights
PERMISSIONS = (*READS, "kms:DescribeKey", "logs:DescribeLogGroups", "cloudtrail:GetInsightSelectors")


@dataclass(frozen=True)
class Target:
    """One account to audit, with the clients that act in it."""

    account: str
    clients: Clients
    name: str = ""
    regions: tuple[str, ...] = ()  # the regions its inventory entry lists ((): the run's, or its enabled ones)


@dataclass(frozen=True)
class Pending:
    """One account to audit whose clients are still coming (its role being assumed): `connect` waits for them,
    or gives the run's error naming the account and the role."""

    account: str
    connect: Callable[[], Clients | AuditError]
    name: str = ""
    regions: tuple[str, ...] = ()


@dataclass
class AccountReads:
    """One account's scan and reads (phase one); judged once every account's buckets are known."""

    target: Target
    places: list[Place] = field(default_factory=list)
    owned: list[TrailFacts] = field(default_factory=list)
    bucket_names: dict[str, str] = field(default_factory=dict)  # bucket -> the region to read it in
    errors: list[AuditError] = field(default_factory=list)
    scan_failures: dict[str, TrailkeeperError] = field(default_factory=dict)  # region -> why it was not scanned
    unread: dict[str, TrailkeeperError] = field(default_factory=dict)  # trail ARN -> why a read of it failed
    exported: list[export_read.ExportedTrail] = field(default_factory=list)  # with export_trails=True
    export_failures: list[export_read.Failure] = field(default_factory=list)
    export_reads: int = 0  # the calls the export made beyond the audit's
    # In the account's own turn, when its own trails name log buckets: its ListBuckets answer (or why it failed),
    # and the reads of those buckets it owns, as `read_buckets` would make them after every account's turn.
    listed: dict[str, str] | TrailkeeperError | None = None
    own_buckets: dict[str, tuple[BucketFacts, TrailkeeperError | None]] = field(default_factory=dict)


def _scan(clients: Clients, regions: Sequence[str], deadline: Deadline) -> dict[str, list[Trail] | TrailkeeperError]:
    """Every trail each region shows (its own and shadows), one DescribeTrails per region, in parallel."""

    def one(region: str) -> list[Trail] | TrailkeeperError:
        try:
            return locate.scan(clients, region, deadline)
        except TrailkeeperError as error:
            return error

    with parallel.threads(min(MAX_PARALLEL_REGIONS, len(regions))) as pool:
        return dict(zip(regions, pool.map(one, regions), strict=True))


@dataclass(frozen=True)
class Reader:
    """Reads in one account: its clients, the run's deadline, and its read pacing (per home region)."""

    clients: Clients
    deadline: Deadline
    pace: Callable[[str], None]

    def cloudtrail(self, operation: str, arn: str, region: str, **arguments: Any) -> Mapping[str, Any]:
        method = getattr(self.clients.cloudtrail(region), xform_name(operation))
        self.pace(region)
        answer: Mapping[str, Any] = call(
            operation, lambda: method(**arguments), deadline=self.deadline, facts={"trail": arn, "region": region}
        )
        return answer


def read_trail(reader: Reader, trail: Trail, needs: frozenset[str]) -> tuple[TrailFacts, list[TrailkeeperError]]:
    """The trail's facts: DescribeTrails' answer, plus GetTrailStatus and GetEventSelectors when needed."""
    arn, home = str(trail["TrailARN"]), locate.home_region(trail)
    failures: list[TrailkeeperError] = []
    logging: bool | None = None
    delivery_error = ""
    read: selectors.Selectors | None = None
    status: Mapping[str, Any] | None = None
    if STATUS in needs:
        try:
            status = reader.cloudtrail("GetTrailStatus", arn, home, Name=arn)
            logging = bool(status.get("IsLogging"))
            delivery_error = str(status.get("LatestCloudWatchLogsDeliveryError") or "")
        except TrailkeeperError as error:
            failures.append(error)
    if EVENTS in needs and trail.get("HasCustomEventSelectors") is False:
        read = selectors.DEFAULT  # CloudTrail's default selector: no read needed
    elif EVENTS in needs:
        try:
            read = selectors.from_read(reader.cloudtrail("GetEventSelectors", arn, home, TrailName=arn))
        except TrailkeeperError as error:
            failures.append(error)
    record = Record.from_trail(trail, logging=logging, events=read)
    unread = "; ".join(f.reason for f in failures)
    bucket = str(trail.get("S3BucketName") or "")
    facts = TrailFacts(
        arn,
        arns.account_of(arn),
        home,
        record,
        bucket,
        read,
        delivery_error=delivery_error,
        unread=unread,
        status=dict(status) if status is not None else None,
    )
    return facts, failures


def _tags(reader: Reader, trail_arns: Sequence[str]) -> dict[str, dict[str, str]] | TrailkeeperError:
    """User tags of each trail (aws: keys left out), with the shared batched ListTags (20 trails a call)."""
    try:
        listed = locate.tags(reader.clients, trail_arns, reader.deadline, reader.pace)
    except TrailkeeperError as error:
        return error
    return {
        arn: {k: v for k, v in listed.get(arn, {}).items() if not k.lower().startswith(RESERVED)} for arn in trail_arns
    }


def error_of(account: str, region: str, error: TrailkeeperError) -> AuditError:
    return AuditError(account, region, error.error_code, error.reason)


def _visible(
    seen: AccountReads, scanned: Mapping[str, list[Trail] | TrailkeeperError]
) -> tuple[dict[str, Trail], dict[str, set[str]]]:
    """Each trail once (its home region's copy when scanned), and the ARNs each region shows."""
    by_arn: dict[str, Trail] = {}
    visible: dict[str, set[str]] = {}
    for region, found in scanned.items():
        if isinstance(found, TrailkeeperError):
            seen.errors.append(error_of(seen.target.account, region, found))
            seen.scan_failures[region] = found
            continue
        visible[region] = set()
        for trail in found:
            arn = str(trail["TrailARN"])
            visible[region].add(arn)
            if arn not in by_arn or locate.home_region(trail) == region:
                by_arn[arn] = trail
    return by_arn, visible


def _read_all(
    seen: AccountReads, reader: Reader, trails: Mapping[str, Trail], needs: frozenset[str], managed: frozenset[str]
) -> dict[str, TrailFacts]:
    """Every trail read once, home regions in parallel, each region's reads one after another (paced), then
    the tags of the trails the account manages (`managed`: its own, and the organization's when it is
    CloudTrail's delegated administrator; ListTags, twenty a call); another account's (organization) trail
    only for the account-level controls."""
    by_home: dict[str, list[Trail]] = defaultdict(list)
    for trail in trails.values():
        by_home[locate.home_region(trail)].append(trail)
    facts: dict[str, TrailFacts] = {}
    lock = threading.Lock()

    def read_home(home: list[Trail]) -> None:
        read: dict[str, TrailFacts] = {}
        for trail in home:
            owned = str(trail["TrailARN"]) in managed
            fact, failures = read_trail(reader, trail, needs if owned else needs & {STATUS, EVENTS})
            read[fact.arn] = fact
            with lock:
                seen.errors.extend(error_of(seen.target.account, fact.home_region, f) for f in failures)
                if failures:
                    seen.unread[fact.arn] = failures[0]
        mine = sorted(arn for arn in read if arn in managed)
        if TAGS in needs and mine:
            tags = _tags(reader, mine)
            for arn in mine:
                got = {"unread": tags.reason} if isinstance(tags, TrailkeeperError) else {"tags": tags[arn]}
                read[arn] = dataclasses.replace(read[arn], **got)
            if isinstance(tags, TrailkeeperError):
                with lock:
                    seen.errors.append(error_of(seen.target.account, read[mine[0]].home_region, tags))
                    seen.unread.update(dict.fromkeys(mine, tags))
        with lock:
            facts.update(read)

    with parallel.threads(min(MAX_PARALLEL_REGIONS, len(by_home))) as pool:
        for future in [pool.submit(read_home, home) for home in by_home.values()]:
            future.result()
    return facts


def read_account(
    target: Target,
    regions: Sequence[str],
    needs: frozenset[str],
    deadline: Deadline,
    partition: str,
    *,
    exporting: bool = False,
    listing: str = "",
) -> AccountReads:
    """Phase one for an account: scan its regions, read each trail once (and, exporting, declare it).

    The trails the account manages are judged as its own: those it owns, and, when Organizations names it
    CloudTrail's delegated administrator, the organization's (its owner's bucket then is another account's:
    NOT_AVAILABLE from here, as for any bucket of another account).

    With `listing` (the region `read_buckets` lists buckets in), an account whose own trails name log buckets
    lists its buckets and reads those it owns while its trails are read, rather than after every account's
    turn: the same calls, one account's wait instead of two more rounds of the whole run."""
    seen = AccountReads(target)
    trails, visible = _visible(seen, _scan(target.clients, regions, deadline))
    reader = Reader(target.clients, deadline, Pacer(READ_INTERVAL_SECONDS).wait)  # per account and region
    delegated = bool(regions) and administers(target.clients, trails.values(), target.account, regions[0], deadline)
    managed = frozenset(
        arn
        for arn, trail in trails.items()
        if arns.account_of(arn) == target.account
        or (delegated and standing.is_foreign_organization_trail(trail, target.account))
    )
    named: dict[str, str] = {}  # bucket -> the home region of the first trail naming it, as `bucket_names`
    for arn, described in sorted(trails.items()):
        if arn in managed and described.get("S3BucketName"):
            named.setdefault(str(described["S3BucketName"]), locate.home_region(described))
    wanted = needs & {BUCKET_PUBLIC, BUCKET_LOGGING, CHAIN_BUCKET}
    with parallel.threads(2) as pool:
        own = None
        if listing and wanted and named:
            own = pool.submit(
                lambda: _own_buckets(seen, named, wanted=wanted, region=listing, deadline=deadline, partition=partition)
            )
        facts = _read_all(seen, reader, trails, needs, managed)
    if own is not None:
        own.result()
    owned = sorted(arn for arn in facts if arn in managed)
    for region in regions:
        if region in visible:
            shown = tuple(facts[arn] for arn in sorted(visible[region]))
            seen.places.append(Place(target.account, region, shown, partition))
    seen.owned = [facts[arn] for arn in owned]
    for trail in seen.owned:
        if trail.bucket:
            seen.bucket_names.setdefault(trail.bucket, trail.home_region)
    if exporting:
        _export(seen, reader, trails)
    return seen


def _known(facts: TrailFacts) -> dict[str, object]:
    """The aspects the audit read of a trail, in the compare form `trailkeeper export` declares them from."""
    known: dict[str, object] = {}
    if facts.record.logging is not None:
        known[LOGGING.name] = facts.record.logging
    if facts.selectors is not None:
        known[SELECTORS_ASPECT.name] = facts.selectors
    if facts.tags is not None:
        known[TAGS_ASPECT.name] = dict(facts.tags)
    return known


def _export(seen: AccountReads, reader: Reader, trails: Mapping[str, Trail]) -> None:
    """Every trail the account owns, declared as `trailkeeper export` declares it, from what the audit read.

    Only the aspects the audit did not read are read (once, paced, home regions in parallel), and counted.
    A trail the audit could not read is a failure of the export, not read again.
    """
    account = seen.target.account
    seen.export_failures += [
        export_read.Failure(region, error, account) for region, error in seen.scan_failures.items()
    ]
    by_home: dict[str, list[Trail]] = defaultdict(list)
    for facts in seen.owned:
        if facts.arn in seen.unread:
            seen.export_failures.append(export_read.Failure(facts.arn, seen.unread[facts.arn], account))
        else:
            by_home[facts.home_region].append(trails[facts.arn])
    known = {facts.arn: _known(facts) for facts in seen.owned}
    lock = threading.Lock()

    def counted(region: str) -> None:
        with lock:
            seen.export_reads += 1
        reader.pace(region)

    def read_home(home: list[Trail]) -> None:
        exported, failures = export_read.read_trails(
            reader.clients, home, account=account, deadline=reader.deadline, before_read=counted, known=known
        )
        with lock:
            seen.exported += exported
            seen.export_failures += failures

    with parallel.threads(min(MAX_PARALLEL_REGIONS, len(by_home))) as pool:
        for future in [pool.submit(read_home, home) for home in by_home.values()]:
            future.result()


def _own_buckets(
    seen: AccountReads,
    named: Mapping[str, str],
    *,
    wanted: frozenset[str],
    region: str,
    deadline: Deadline,
    partition: str,
) -> None:
    """In an account's turn: its buckets listed (in `region`), and those of `named` (bucket -> its trail's
    home region) it owns read, as `read_buckets` reads a bucket by its owner."""
    seen.listed = listed = _owned(seen.target.clients, region, deadline)
    if isinstance(listed, TrailkeeperError):
        return
    for name, home in named.items():
        if name in listed:
            seen.own_buckets[name] = _read_bucket(
                seen,
                name,
                where=listed[name] or home,
                listed=listed[name],
                wanted=wanted,
                deadline=deadline,
                partition=partition,
            )


def _owned(clients: Clients, region: str, deadline: Deadline) -> dict[str, str] | TrailkeeperError:
    """The buckets the clients' account owns (`buckets.owned`), or why they could not be listed."""
    try:
        return buckets.owned(clients, region, deadline)
    except TrailkeeperError as error:
        return error


def _read_bucket(
    owner: AccountReads,
    name: str,
    *,
    where: str,
    listed: str,
    wanted: frozenset[str],
    deadline: Deadline,
    partition: str,
) -> tuple[BucketFacts, TrailkeeperError | None]:
    facts, failure = buckets.read(
        owner.target.clients, name, where, wanted, deadline, owner=owner.target.account, partition=partition
    )
    return dataclasses.replace(facts, located=listed), failure  # where it lives, only as S3 said it


def _owners(
    seen: Sequence[AccountReads], names: Mapping[str, str], region: str, deadline: Deadline, max_accounts: int
) -> tuple[dict[str, tuple[AccountReads, str, str]], list[AuditError]]:
    """Which account of the run owns each bucket (one ListBuckets per account, `max_accounts` at a time, unless
    it listed them in its turn), the region to read it in, and its region as ListBuckets says it ("" when it
    does not)."""
    asked = [account for account in seen if account.places]  # none scanned: its role or its calls failed

    def listed(account: AccountReads) -> dict[str, str] | TrailkeeperError:
        if account.listed is not None:
            return account.listed
        try:
            return _owned(account.target.clients, region, deadline)
        finally:  # a thousand accounts' S3 clients would wait for the reads; an owner builds one again
            account.target.clients.forget()

    owners: dict[str, tuple[AccountReads, str, str]] = {}
    errors: list[AuditError] = []
    with ThreadPoolExecutor(max_workers=max(1, min(max_accounts, len(asked)))) as pool:
        for account, answer in zip(asked, pool.map(listed, asked), strict=True):
            if isinstance(answer, TrailkeeperError):
                errors.append(error_of(account.target.account, region, answer))
                continue
            for name, home in names.items():
                if name in answer:
                    owners[name] = (account, answer[name] or home, answer[name])
    return owners, errors


def read_buckets(
    seen: Sequence[AccountReads],
    needs: frozenset[str],
    region: str,
    deadline: Deadline,
    partition: str,
    *,
    max_accounts: int,
) -> tuple[dict[str, BucketFacts], list[AuditError]]:
    """Each log bucket read once, by the account of the run that owns it (`max_accounts` buckets at a time);
    others are not available."""
    wanted = needs & {BUCKET_PUBLIC, BUCKET_LOGGING, CHAIN_BUCKET}
    names = {name: where for s in seen for name, where in s.bucket_names.items()}
    if not wanted or not names:
        return {}, []
    owners, errors = _owners(seen, names, region, deadline, max_accounts)
    found: dict[str, BucketFacts] = {}
    run = ", ".join(s.target.account for s in seen)
    for name in sorted(set(names) - set(owners)):
        found[name] = BucketFacts(
            name,
            partition,
            unavailable=f"bucket {name} is not among the buckets of account(s) {run}: it belongs to another "
            "account (a Log Archive account, say) or no longer exists; audit with that account too "
            "(--organization or --accounts) to judge it",
        )

    owned = sorted(owners)
    left = Counter(owners[name][0].target.account for name in owned)  # buckets each owner has yet to read
    lock = threading.Lock()

    def read(name: str) -> tuple[BucketFacts, AuditError | None]:
        owner, where, listed = owners[name]
        if name in owner.own_buckets:  # read in its owner's turn
            facts, failure = owner.own_buckets[name]
        else:
            facts, failure = _read_bucket(
                owner, name, where=where, listed=listed, wanted=wanted, deadline=deadline, partition=partition
            )
        with lock:
            left[owner.target.account] -= 1
            done = not left[owner.target.account]
        if done:  # its last bucket read: its clients are not needed again
            owner.target.clients.forget()
        return facts, None if failure is None else error_of(owner.target.account, where, failure)

    with ThreadPoolExecutor(max_workers=max(1, min(max_accounts, len(owned)))) as pool:
        for name, (facts, error) in zip(owned, pool.map(read, owned), strict=True):
            found[name] = facts
            if error is not None:
                errors.append(error)
    return found, errors


# What --fix looks up in a region for a trail's account, through the clients of the account that audited it
# (the trail's owner, or its delegated administrator): (the ARN found there, None) or (None, why it cannot serve).
Lookup = Callable[[Clients, str, str, bool], tuple[str | None, str | None]]


def _per_home_region(
    seen: Sequence[AccountReads], flag: str, lacks: Callable[[TrailFacts], bool], lookup: Lookup
) -> tuple[dict[tuple[str, str], str], dict[tuple[str, str], str]]:
    """A --fix value resolved in each account and home region of a trail that `lacks` it: (the trail's account,
    region) -> its ARN there, and (account, region) -> why it cannot serve there. Keys and log groups are
    regional: what names nothing in a region is refused for that region rather than written. The lookup is
    told whether it runs in the trail's own account (not so from CloudTrail's delegated administrator)."""
    found: dict[tuple[str, str], str] = {}
    refused: dict[tuple[str, str], str] = {}
    for account in seen:
        for owner, region in sorted({(t.account, t.home_region) for t in account.owned if lacks(t)}):
            where = (owner, region)
            try:
                arn, why_not = lookup(account.target.clients, owner, region, owner == account.target.account)
            except TrailkeeperError as error:
                arn, why_not = None, f"{flag} cannot serve {region}: {error.reason}"
            if arn is None:
                refused[where] = str(why_not)
            else:
                found[where] = arn
    return found, refused


def resolve_key(seen: Sequence[AccountReads], key: str, deadline: Deadline) -> dict[str, Any]:
    """--kms-key in each account and home region where a trail is not encrypted: its ARN there, or why not.

    A key serves only its own region: an ARN of another region is refused without a call; an alias or key
    id is looked up in the region (one DescribeKey), and a region where it names nothing is refused.
    """

    def lookup(clients: Clients, _: str, region: str, __: bool) -> tuple[str | None, str | None]:
        if key.startswith("arn:") and arns.region_of(key) != region:
            return None, f"--kms-key {key} is in {arns.region_of(key)}: it cannot serve a trail homed in {region}"
        answer = call(
            "DescribeKey",
            lambda: clients.kms(region).describe_key(KeyId=key),
            deadline=deadline,
            facts={"key": key, "region": region},
        )
        arn = str(answer["KeyMetadata"]["Arn"])
        return (
            (arn, None)
            if arns.region_of(arn) == region
            else (None, f"--kms-key {key} is the key {arn}, not in {region}")
        )

    keys, refused = _per_home_region(seen, f"--kms-key {key}", lambda t: not t.record.encrypted, lookup)
    return {"kms_keys": keys, "kms_refused": refused}


def resolve_log_group(seen: Sequence[AccountReads], group: str, deadline: Deadline) -> dict[str, Any]:
    """--log-group in each account and home region where a trail sends nothing to CloudWatch Logs: its ARN
    there, or why not.

    A log group serves only its own account and region (CloudTrail refuses another's): an ARN elsewhere is
    refused without a call; a name (or the ARN's name) is looked up in the region (one DescribeLogGroups by
    prefix: groups come sorted by name, so the exact name is the first page's first), and a region where no
    group has that name is refused.
    """
    name = group.split(":log-group:", 1)[1].removesuffix(":*") if group.startswith("arn:") else group

    def lookup(clients: Clients, account: str, region: str, here: bool) -> tuple[str | None, str | None]:
        if group.startswith("arn:") and (arns.account_of(group), arns.region_of(group)) != (account, region):
            return None, (
                f"--log-group {group} is in {arns.region_of(group)} of account {arns.account_of(group)}: "
                f"it cannot serve a trail of account {account} homed in {region}"
            )
        if not here:  # an organization trail seen from its delegated administrator: the group is its owner's
            if group.startswith("arn:"):
                return group.removesuffix(":*"), None  # not looked up: another account's groups are not listed here
            return None, (
                f"--log-group {name} names a group of account {account}, which cannot be looked up from here: "
                "give its ARN"
            )
        answer = call(
            "DescribeLogGroups",
            lambda: clients.client("logs", region).describe_log_groups(logGroupNamePrefix=name, limit=50),
            deadline=deadline,
            facts={"log_group": name, "region": region},
        )
        for found in answer.get("logGroups", []):
            if found.get("logGroupName") == name:
                return str(found["arn"]).removesuffix(":*"), None
        return None, f"--log-group {name} does not exist in {region} of account {account}"

    groups, refused = _per_home_region(seen, f"--log-group {group}", lambda t: not t.record.log_group, lookup)
    return {"log_groups": groups, "log_group_refused": refused}
