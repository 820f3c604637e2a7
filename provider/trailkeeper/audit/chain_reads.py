"""Read the links of every trail's delivery chain: each key, log group, role and topic once, by its owner.

`audit/reads.py` reads the trails and `audit/buckets.py` each log bucket (its policy among its other
reads, once, by the account of the run that owns it); this module reads the rest, only what the asked
controls need and only for the trails that use it:

- a KMS key: DescribeKey (its state) and GetKeyPolicy, in its own region and account;
- a CloudWatch Logs group: DescribeLogGroups by name (does it exist?), in its region and account;
- a role: GetRole (trust policy, permissions boundary), its inline policies (ListRolePolicies,
  GetRolePolicy) and attached ones (ListAttachedRolePolicies, GetPolicy, GetPolicyVersion);
- a topic: GetTopicAttributes (its policy, its key), and that key as above;
- for an organization trail, DescribeOrganization once in its account: the folder its members' logs go to.

A link is read with the clients of the account that owns it, when that account is in the run; otherwise it
is not available, and the finding says to audit that account too. "Not found" answers are facts (the
link is missing: delivery fails); any other failure leaves the link unavailable, with AWS's reason, and is
an error of the run. Links are read `max_accounts` at a time.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from trailkeeper.audit import policy
from trailkeeper.audit.chain import BUCKET, KEY, LOG_GROUP, ROLE, TOPIC, TOPIC_KEY, Delivery, Kind, Link, Resource
from trailkeeper.audit.facts import CHAIN_BUCKET, CHAIN_KEY, CHAIN_LOGS, CHAIN_TOPIC, BucketFacts, TrailFacts
from trailkeeper.audit.findings import AuditError
from trailkeeper.aws.calls import Clients, Deadline, call
from trailkeeper.errors import AwsCallFailed, TrailkeeperError
from trailkeeper.trail import arns, record

PERMISSIONS = (
    "kms:DescribeKey",
    "kms:GetKeyPolicy",
    "logs:DescribeLogGroups",
    "iam:GetRole",
    "iam:ListRolePolicies",
    "iam:GetRolePolicy",
    "iam:ListAttachedRolePolicies",
    "iam:GetPolicy",
    "iam:GetPolicyVersion",
    "sns:GetTopicAttributes",
    "organizations:DescribeOrganization",
)
GONE = frozenset({"NotFoundException", "NoSuchEntity", "NotFound", "ResourceNotFoundException", "NoSuchBucket"})
NEEDS: Mapping[Kind, str] = {
    BUCKET: CHAIN_BUCKET,
    KEY: CHAIN_KEY,
    LOG_GROUP: CHAIN_LOGS,
    ROLE: CHAIN_LOGS,
    TOPIC: CHAIN_TOPIC,
}

Account = tuple[str, Clients]  # an account of the run, with the clients that act in it


def delivery_of(trail: TrailFacts, partition: str, organization_id: str = "") -> Delivery:
    """What a trail's delivery depends on, from its settings as DescribeTrails answered them."""
    settings = trail.record.settings

    def text(name: str) -> str:
        value = settings.get(name)
        return value if isinstance(value, str) else ""

    return Delivery(
        trail=trail.arn,
        account=trail.account,
        home_region=trail.home_region,
        partition=partition,
        bucket=trail.bucket,
        prefix=text("S3KeyPrefix"),
        key=text(record.KMS_KEY),
        validation=trail.record.validation is True,
        log_group=text(record.LOG_GROUP),
        role=text(record.LOG_ROLE),
        topic=text(record.TOPIC),
        organization=trail.record.organization is True,
        organization_id=organization_id,
    )


def _call(clients: Clients, service: str, region: str, operation: str, deadline: Deadline, **arguments: Any) -> Any:
    method = getattr(clients.client(service, region), _snake(operation))
    return call(operation, lambda: method(**arguments), deadline=deadline, facts={"region": region})


def _snake(operation: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")


def _missing(link: Link, error: AwsCallFailed) -> Resource | None:
    if error.aws_code not in GONE:
        return None
    where = f" in {link.region}" if link.region else ""
    return Resource(
        link,
        missing=f"{link.kind} {link.arn} does not exist{where} ({error.aws_code}): CloudTrail cannot deliver "
        "through it",
    )


def _key(link: Link, clients: Clients, deadline: Deadline) -> Resource:
    described = _call(clients, "kms", link.region, "DescribeKey", deadline, KeyId=link.arn)["KeyMetadata"]
    arn = str(described.get("Arn") or link.arn)
    text = _call(clients, "kms", link.region, "GetKeyPolicy", deadline, KeyId=arn, PolicyName="default")["Policy"]
    return Resource(
        Link(link.kind, arn, arns.account_of(arn), arns.region_of(arn)),
        policies=(policy.parse(text, f"the policy of key {arn}"),),
        text=str(text),
        state=str(described.get("KeyState") or ""),
    )


def _group(link: Link, clients: Clients, deadline: Deadline) -> Resource:
    name = link.name
    answer = _call(clients, "logs", link.region, "DescribeLogGroups", deadline, logGroupNamePrefix=name, limit=50)
    if any(g.get("logGroupName") == name for g in answer.get("logGroups", [])):
        return Resource(link)
    return Resource(
        link,
        missing=f"log group {name} does not exist in {link.region} of account {link.account}: CloudTrail "
        "cannot send it events",
    )


def _pages(send: Callable[[dict[str, Any]], Any], key: str) -> list[Any]:
    found: list[Any] = []
    arguments: dict[str, Any] = {}
    while True:
        answer = send(arguments)
        found += answer.get(key, [])
        if not answer.get("IsTruncated"):
            return found
        arguments = {"Marker": answer["Marker"]}


def _managed(clients: Clients, region: str, arn: str, deadline: Deadline) -> Any:
    version = _call(clients, "iam", region, "GetPolicy", deadline, PolicyArn=arn)["Policy"]["DefaultVersionId"]
    return _call(clients, "iam", region, "GetPolicyVersion", deadline, PolicyArn=arn, VersionId=version)[
        "PolicyVersion"
    ]["Document"]


def _role(link: Link, clients: Clients, deadline: Deadline, region: str) -> Resource:
    name = link.name
    role = _call(clients, "iam", region, "GetRole", deadline, RoleName=name)["Role"]
    inline = _pages(
        lambda a: _call(clients, "iam", region, "ListRolePolicies", deadline, RoleName=name, **a), "PolicyNames"
    )
    attached = _pages(
        lambda a: _call(clients, "iam", region, "ListAttachedRolePolicies", deadline, RoleName=name, **a),
        "AttachedPolicies",
    )
    policies = [
        policy.parse(
            _call(clients, "iam", region, "GetRolePolicy", deadline, RoleName=name, PolicyName=p)["PolicyDocument"],
            f"inline policy {p} of role {name}",
        )
        for p in inline
    ]
    policies += [
        policy.parse(
            _managed(clients, region, str(p["PolicyArn"]), deadline),
            f"policy {p['PolicyName']} attached to role {name}",
        )
        for p in attached
    ]
    boundary_arn = str((role.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn") or "")
    boundary = (
        policy.parse(
            _managed(clients, region, boundary_arn, deadline),
            f"the permissions boundary of role {name}",
        )
        if boundary_arn
        else None
    )
    trust = policy.parse(role.get("AssumeRolePolicyDocument") or {}, f"the trust policy of role {name}", trust=True)
    return Resource(link, policies=tuple(policies), trust=trust, boundary=boundary)


def _topic(link: Link, clients: Clients, deadline: Deadline) -> Resource:
    attributes = _call(clients, "sns", link.region, "GetTopicAttributes", deadline, TopicArn=link.arn)["Attributes"]
    text = str(attributes.get("Policy") or "")
    return Resource(
        link,
        policies=(policy.parse(text or {}, f"the policy of topic {link.name}"),),
        text=text or None,
        details={"KmsMasterKeyId": str(attributes.get("KmsMasterKeyId") or "")},
    )


def _bucket(link: Link, facts: BucketFacts | None) -> Resource:
    """A bucket's link from what `audit/buckets.py` read of it (its policy among its other reads)."""
    if facts is not None and facts.missing:
        return Resource(link, missing=facts.missing)
    if facts is None or facts.unavailable or not facts.policy_read:
        why = facts.unavailable if facts is not None and facts.unavailable else f"bucket {link.name} was not read"
        return Resource(link, unavailable=why)
    link = Link(BUCKET, link.arn, facts.owner, facts.region)
    if facts.policy is None:  # NoSuchBucketPolicy: nothing allows CloudTrail
        return Resource(link, policies=(policy.parse({"Statement": []}, f"bucket {link.name} (it has no policy)"),))
    return Resource(
        link, policies=(policy.parse(facts.policy, f"the policy of bucket {link.name}"),), text=facts.policy
    )


def read_link(link: Link, clients: Clients, deadline: Deadline, iam_region: str) -> Resource:
    """One link read with its owner's clients; a link AWS says does not exist is missing, not an error."""
    try:
        if link.kind in (KEY, TOPIC_KEY):
            return _key(link, clients, deadline)
        if link.kind == LOG_GROUP:
            return _group(link, clients, deadline)
        if link.kind == ROLE:
            return _role(link, clients, deadline, iam_region)
        return _topic(link, clients, deadline)
    except AwsCallFailed as error:
        gone = _missing(link, error)
        if gone is not None:
            return gone
        raise


def _outside(link: Link, run: Sequence[str]) -> Resource:
    return Resource(
        link,
        unavailable=f"{link.kind} {link.arn} belongs to account {link.account}, outside this run ({', '.join(run)}): "
        "audit with that account too (--organization or --accounts) to judge it",
    )


def read_all(
    links: Sequence[Link],
    accounts: Mapping[str, Clients],
    deadline: Deadline,
    *,
    iam_region: str,
    max_accounts: int,
) -> tuple[dict[str, Resource], list[AuditError]]:
    """Every link once (by ARN), with the clients of its owner; `max_accounts` links at a time."""
    run = sorted(accounts)
    errors: list[AuditError] = []

    def one(link: Link) -> Resource:
        clients = accounts.get(link.account)
        if clients is None:
            return _outside(link, run)
        try:
            return read_link(link, clients, deadline, iam_region)
        except TrailkeeperError as error:
            errors.append(AuditError(link.account, link.region, error.error_code, error.reason))
            return Resource(link, unavailable=f"{link.kind} {link.arn} could not be read: {error.reason}")

    unique = list({link.arn: link for link in links}.values())
    with ThreadPoolExecutor(max_workers=max(1, min(max_accounts, len(unique)))) as pool:
        return dict(zip([link.arn for link in unique], pool.map(one, unique), strict=True)), errors


def organization_ids(
    owners: Sequence[str], accounts: Mapping[str, Clients], deadline: Deadline, region: str
) -> dict[str, str]:
    """The organization each account (that owns an organization trail) belongs to: its id, "" when unknown."""
    found: dict[str, str] = {}
    for account in owners:
        clients = accounts.get(account)
        if clients is None:
            found[account] = ""
            continue
        try:
            answer = _call(clients, "organizations", region, "DescribeOrganization", deadline)
            found[account] = str(answer["Organization"]["Id"])
        except TrailkeeperError:
            found[account] = ""  # the member folder cannot be judged: the finding says so
    return found


def attach(
    trails: Sequence[TrailFacts],
    accounts: Mapping[str, Clients],
    buckets: Mapping[str, BucketFacts],
    needs: frozenset[str],
    deadline: Deadline,
    *,
    partition: str,
    region: str,
    max_accounts: int,
) -> tuple[list[TrailFacts], list[AuditError]]:
    """`trails` with their delivery and the links it needs, each link read once for all of them."""
    if not needs & set(NEEDS.values()):
        return list(trails), []
    owners = sorted({t.account for t in trails if t.record.organization})
    organizations = organization_ids(owners, accounts, deadline, region) if CHAIN_BUCKET in needs and owners else {}
    deliveries = [delivery_of(t, partition, organizations.get(t.account, "")) for t in trails]
    wanted = [link for d in deliveries for kind, link in d.links().items() if kind != BUCKET and NEEDS[kind] in needs]
    read, errors = read_all(wanted, accounts, deadline, iam_region=region, max_accounts=max_accounts)
    topic_keys = [_topic_key(r) for r in read.values() if r.link.kind == TOPIC and r.details.get("KmsMasterKeyId")]
    keys, key_errors = read_all(
        [k for k in topic_keys if k is not None], accounts, deadline, iam_region=region, max_accounts=max_accounts
    )
    attached = []
    shared: dict[Link, Resource] = {}  # a bucket many trails deliver to, made (its policy parsed) once
    for trail, delivery in zip(trails, deliveries, strict=True):
        chain: dict[Kind, Resource] = {}
        for kind, link in delivery.links().items():
            if NEEDS[kind] not in needs:
                continue
            if kind == BUCKET and link not in shared:
                shared[link] = _bucket(link, buckets.get(delivery.bucket))
            chain[kind] = shared[link] if kind == BUCKET else read[link.arn]
        topic = chain.get(TOPIC)
        key_id = topic.details.get("KmsMasterKeyId", "") if topic is not None else ""
        if key_id and topic is not None:
            found = _topic_key(topic)
            chain[TOPIC_KEY] = (
                keys[found.arn]
                if found is not None and found.arn in keys
                else Resource(
                    Link(TOPIC_KEY, key_id, "", ""), unavailable=f"the topic's key {key_id} could not be named"
                )
            )
        attached.append(_with(trail, delivery, chain))
    return attached, errors + key_errors


def _topic_key(topic: Resource) -> Link | None:
    """The key an encrypted topic uses, as a link to read (an alias is the topic's account's, in its region)."""
    key = topic.details.get("KmsMasterKeyId", "")
    if not key or key.endswith("alias/aws/sns"):
        return None
    if key.startswith("arn:"):
        return Link(TOPIC_KEY, key, arns.account_of(key), arns.region_of(key))
    where = topic.link
    name = key if key.startswith("alias/") else f"key/{key}"
    return Link(
        TOPIC_KEY,
        f"arn:{where.arn.split(':')[1]}:kms:{where.region}:{where.account}:{name}",
        where.account,
        where.region,
    )


def _with(trail: TrailFacts, delivery: Delivery, chain: Mapping[Kind, Resource]) -> TrailFacts:
    return dataclasses.replace(trail, delivery=delivery, chain=dict(chain))
