"""The chain guarded, not only the trail: a change to a resource a declared trail's logs travel through.

An attacker who may not call StopLogging (which the event-driven repair undoes in seconds) can blind an
account quietly: replace the bucket policy, disable the key, delete the role. Those calls are management
events too; EventBridge hands them to the function (template.yaml's DeliveryChangeRule) and this module:

1. reads the event (`change_of`): which call, on which link (a bucket, key, log group, role or topic: the
   resource the event names, in the region and account it happened in), by whom; a call that failed, or
   one made by the function's own role (its own repair), is skipped;
2. finds the declared trails that deliver through that link (the declared state, the trails it covers:
   one DescribeTrails per region scanned); none, and nothing more is read;
3. re-judges their delivery through that link alone (GetTrailStatus per trail, the link read once), as
   the audit's delivery standard judges it (`audit/delivery.py`);
4. when it is broken, tells: one SNS message naming the trails, the resource, the call and its caller, and
   a `DeliveryBroken` metric per trail; and, only where a declaration says `RepairDelivery: true`, appends
   CloudTrail's statements to the policy as `audit --fix` does (`audit/chain_fix.py`). A change that leaves
   delivery intact tells nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from trailkeeper.audit import chain_fix, chain_reads, controls
from trailkeeper.audit.buckets import NO_POLICY
from trailkeeper.audit.chain import BUCKET, KEY, LOG_GROUP, ROLE, TOPIC, Kind, Link
from trailkeeper.audit.facts import (
    CHAIN_BUCKET,
    CHAIN_KEY,
    CHAIN_LOGS,
    CHAIN_TOPIC,
    FAIL,
    STATUS,
    BucketFacts,
    Options,
    TrailFacts,
)
from trailkeeper.audit.findings import Finding
from trailkeeper.audit.reads import Reader, read_trail
from trailkeeper.aws import locate
from trailkeeper.aws.calls import Clients, Deadline, call
from trailkeeper.aws.locate import Trail
from trailkeeper.aws.pacing import READ_INTERVAL_SECONDS, Pacer
from trailkeeper.errors import AwsCallFailed, show
from trailkeeper.fleet import change_event, reconcile
from trailkeeper.trail import arns
from trailkeeper.trail.declaration import Declaration
from trailkeeper.trail.record import Record

# The calls that can break delivery, by the link they change and where the event names it.
CALLS: Mapping[str, Kind] = {
    "PutBucketPolicy": BUCKET,
    "DeleteBucketPolicy": BUCKET,
    "DeleteBucket": BUCKET,
    "DisableKey": KEY,
    "ScheduleKeyDeletion": KEY,
    "PutKeyPolicy": KEY,
    "DeleteLogGroup": LOG_GROUP,
    "DeleteRole": ROLE,
    "UpdateAssumeRolePolicy": ROLE,
    "PutRolePolicy": ROLE,
    "DeleteRolePolicy": ROLE,
    "DetachRolePolicy": ROLE,
    "DeleteTopic": TOPIC,
    "SetTopicAttributes": TOPIC,
}
SOURCES = ("aws.s3", "aws.kms", "aws.logs", "aws.iam", "aws.sns")
TOPIC_ATTRIBUTES = ("Policy", "KmsMasterKeyId")  # the attributes of a topic that can stop CloudTrail publishing
NEEDS: Mapping[Kind, frozenset[str]] = {
    BUCKET: frozenset({STATUS, CHAIN_BUCKET}),
    KEY: frozenset({STATUS, CHAIN_KEY}),
    LOG_GROUP: frozenset({STATUS, CHAIN_LOGS}),
    ROLE: frozenset({STATUS, CHAIN_LOGS}),
    TOPIC: frozenset({STATUS, CHAIN_TOPIC}),
}
JUDGED: Mapping[Kind, tuple[str, ...]] = {  # the controls whose path goes through each kind of link
    BUCKET: ("delivery-logs", "delivery-digests"),
    KEY: ("delivery-encryption",),
    LOG_GROUP: ("delivery-cloudwatch",),
    ROLE: ("delivery-cloudwatch",),
    TOPIC: ("delivery-notifications",),
}
STANDARD = "delivery"
PERMISSIONS = (*chain_reads.PERMISSIONS, "s3:GetBucketPolicy")


@dataclass(frozen=True)
class ChainChange:
    """What a management event on a link says: the call, the link, who made it, and why to skip it (if so)."""

    call: str
    kind: Kind | None
    name: str  # the bucket, key, group, role or topic as the event names it
    region: str
    account: str
    caller: str
    skip: str | None = None

    def names(self, link: Link) -> bool:
        """Whether `link` (as a trail's settings name it) is the resource the event changed."""
        if link.kind != self.kind:
            return False
        if self.kind == BUCKET:
            return link.name == self.name
        if self.kind == ROLE:  # IAM's events give the role's name; a role ARN may carry a path
            return link.arn.rsplit("/", 1)[-1] == self.name and link.account in ("", self.account)
        if self.kind == LOG_GROUP:
            return link.name == self.name and link.region == self.region and link.account == self.account
        if self.kind == KEY and not self.name.startswith("arn:"):
            return link.arn.rsplit("/", 1)[-1] == self.name and link.region == self.region
        return link.arn == self.name


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _key_named(detail: Mapping[str, Any], parameters: Mapping[str, Any]) -> str:
    """A KMS event's key, as its ARN: `resources[0].ARN`, else what the request named (an id, an ARN)."""
    resources = detail.get("resources")
    if isinstance(resources, list) and resources and isinstance(resources[0], Mapping):
        found = _text(resources[0].get("ARN"))
        if found:
            return found
    elements = detail.get("responseElements")
    if isinstance(elements, Mapping) and _text(elements.get("keyId")).startswith("arn:"):
        return _text(elements.get("keyId"))
    return _text(parameters.get("keyId"))


_PARAMETER: Mapping[Kind, str] = {BUCKET: "bucketName", LOG_GROUP: "logGroupName", ROLE: "roleName", TOPIC: "topicArn"}


def change_of(event: Mapping[str, Any], default_region: str) -> ChainChange:
    """Read a management event on a link of the chain, or raise MalformedEvent."""
    detail, parameters, identity = change_event.detail_of(event)
    name = _text(detail.get("eventName"))
    region = _text(detail.get("awsRegion")) or default_region
    account = _text(detail.get("recipientAccountId")) or _text(event.get("account"))
    caller = _text(identity.get("arn")) or _text(identity.get("type")) or "unknown"
    kind = CALLS.get(name)
    if kind is None:
        return ChainChange(
            name, None, "", region, account, caller, f"{show(name)} is not a call that can break delivery"
        )
    named = _key_named(detail, parameters) if kind == KEY else _text(parameters.get(_PARAMETER[kind]))
    if detail.get("errorCode"):
        skip: str | None = f"{name} failed ({show(detail.get('errorCode'))}): it changed nothing"
    elif change_event.own_role(identity):
        skip = f"{name} was made by trailkeeper's own role: never reacted to (loop guard)"
    elif not named:
        skip = f"{name} names no {kind} in its request"
    elif name == "SetTopicAttributes" and _text(parameters.get("attributeName")) not in TOPIC_ATTRIBUTES:
        attribute = show(parameters.get("attributeName"))
        skip = f"SetTopicAttributes of {attribute} cannot stop CloudTrail's notifications"
    else:
        skip = None
    return ChainChange(name, kind, named, region, account, caller, skip)


# --- the trails that deliver through the link, and their delivery --------------------------------------------


@dataclass(frozen=True)
class Broken:
    """A declared trail whose delivery through the changed link fails: the findings that say how, and the
    trail as judged (its delivery and chain: what a repair appends to)."""

    trail: TrailFacts
    repair: bool  # a declaration of it says RepairDelivery: true
    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class Outcome:
    """What the guard found: the trails that depend on the link, those now broken, and what it repaired."""

    change: ChainChange
    dependent: tuple[str, ...] = ()
    broken: tuple[Broken, ...] = ()
    repaired: tuple[chain_fix.PolicyEdit, ...] = ()
    skipped: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "call": self.change.call,
            "resource": {"kind": self.change.kind, "name": self.change.name, "region": self.change.region},
            "caller": self.change.caller,
            "dependent_trails": list(self.dependent),
            "broken": [
                {"trail": b.trail.arn, "repair": b.repair, "findings": [f.to_dict() for f in b.findings]}
                for b in self.broken
            ],
            "repaired": [edit.to_dict() for edit in self.repaired],
            "skipped": self.skipped,
        }


def _facts(trail: Trail) -> TrailFacts:
    arn = str(trail["TrailARN"])
    return TrailFacts(
        arn,
        arns.account_of(arn),
        locate.home_region(trail),
        Record.from_trail(trail),
        str(trail.get("S3BucketName") or ""),
    )


def depends(change: ChainChange, trail: Trail, partition: str) -> bool:
    """Whether the trail's settings (as DescribeTrails answers them) name the changed link."""
    links = chain_reads.delivery_of(_facts(trail), partition).links()
    return any(change.names(link) for link in links.values())


def _bucket(
    facts: TrailFacts, clients: Clients, deadline: Deadline, partition: str, region: str
) -> dict[str, BucketFacts]:
    """The trail's bucket as the audit reads it: its policy, read by this account, the event's (a bucket's calls
    are seen in its owner's account and its own region)."""
    s3 = clients.client("s3", region)
    found = BucketFacts(facts.bucket, partition, facts.account, policy_read=True, region=region, located=region)
    try:
        answer = call("GetBucketPolicy", lambda: s3.get_bucket_policy(Bucket=facts.bucket), deadline=deadline)
        found = dataclasses.replace(found, policy=str(answer["Policy"]))
    except AwsCallFailed as error:
        if error.aws_code == "NoSuchBucket":
            gone = f"bucket {facts.bucket} does not exist (NoSuchBucket): CloudTrail cannot deliver to it"
            found = dataclasses.replace(found, missing=gone)
        elif error.aws_code != NO_POLICY:
            raise
    return {facts.bucket: found}


def judge(
    change: ChainChange, trail: Trail, *, clients: Clients, deadline: Deadline, partition: str, now: float
) -> tuple[TrailFacts, list[Finding]]:
    """The trail's delivery through the changed link, as the delivery standard judges it: its status and the
    link read once, then the controls whose path goes through that kind of link (those that apply)."""
    kind = change.kind
    if kind is None:
        return _facts(trail), []
    needs = NEEDS[kind]
    facts, _ = read_trail(Reader(clients, deadline, lambda _: None), trail, needs)
    buckets = _bucket(facts, clients, deadline, partition, change.region) if kind == BUCKET else {}
    (judged,), _ = chain_reads.attach(
        [facts],
        {facts.account: clients},
        buckets,
        needs,
        deadline,
        partition=partition,
        region=facts.home_region,
        max_accounts=1,
    )
    options = Options(now=now)
    findings = [
        Finding.of(
            control,
            STANDARD,
            control.judge(judged, options),
            resource=judged.arn,
            account=judged.account,
            region=judged.home_region,
            partition=partition,
        )
        for control in (controls.BY_KEY[key] for key in JUDGED[kind])
        if control.applies is None or control.applies(judged)
    ]
    return judged, findings


def guard(
    change: ChainChange,
    declarations: Sequence[Declaration],
    *,
    clients: Clients,
    region: str,
    caller_account: str | None,
    deadline: Deadline,
    now: float,
    partition: str = "aws",
) -> Outcome:
    """Find the declared trails that deliver through the changed link, judge their delivery, repair where a
    declaration asks. Nothing more is read once no declared trail depends on the link."""
    if change.skip is not None or change.kind is None:
        return Outcome(change, skipped=change.skip)
    if not declarations:
        return Outcome(change, skipped="no trail is declared")
    coverage = reconcile.cover(
        declarations,
        clients=clients,
        default_region=region,
        caller_account=caller_account,
        regions=None,
        deadline=deadline,
        read_pacer=Pacer(READ_INTERVAL_SECONDS),
        progress=None,
    )
    depending = [
        (matched.trail, matched.declarations)
        for matched in coverage.matching.trails
        if depends(change, matched.trail, partition)
    ]
    if not depending:
        return Outcome(change, skipped=f"no declared trail delivers through {change.kind} {change.name}")
    broken = []
    for trail, numbers in depending:
        judged, findings = judge(change, trail, clients=clients, deadline=deadline, partition=partition, now=now)
        failing = tuple(f for f in findings if f.status == FAIL)
        if failing:
            broken.append(Broken(judged, any(declarations[n].repair_delivery for n in numbers), failing))
    repaired = repair(broken, clients, deadline)
    return Outcome(change, tuple(str(t["TrailARN"]) for t, _ in depending), tuple(broken), tuple(repaired))


def repair(broken: Sequence[Broken], clients: Clients, deadline: Deadline) -> list[chain_fix.PolicyEdit]:
    """CloudTrail's statements appended where a broken trail's declaration asks for it and the fix is safe
    (`audit/chain_fix.py`: never a policy that cannot be read or that denies CloudTrail on purpose, never a
    deleted or disabled link), with this account's clients: a link of another account is left to it."""
    asking = [b for b in broken if b.repair]
    if not asking:
        return []
    failing = chain_fix.failing_fixes([f for b in asking for f in b.findings])
    deliveries = {b.trail.arn: b.trail.delivery for b in asking if b.trail.delivery is not None}
    chains = {b.trail.arn: b.trail.chain for b in asking if b.trail.chain is not None}
    own = {b.trail.account for b in asking}
    edits = chain_fix.plan(failing, deliveries, chains)
    return chain_fix.apply(edits, lambda account: clients if account in own else None, deadline)
