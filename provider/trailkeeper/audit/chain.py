"""The chain a trail's logs travel through, and what CloudTrail asks of each link. Pure.

A trail delivers log files (and, with validation on, digest files) to its S3 bucket, encrypted with its
KMS key when it has one; sends its events to a CloudWatch Logs group through a role it assumes; and tells
an SNS topic of each delivery. Each of those is a *link*, named by its ARN: the audit reads a link once for
every trail that uses it (`audit/chain_reads.py`), and a change event names one (`audit/chain_guard.py`).

`requests_*` build the requests CloudTrail makes to each link, with the context those requests carry, as
AWS documents the policies CloudTrail needs (the CloudTrail User Guide's bucket, key, CloudWatch Logs and
SNS policy pages; aws-facts.md "Delivery"): the service principal `cloudtrail.amazonaws.com`, the trail's
ARN as `aws:SourceArn` and its owner as `aws:SourceAccount` (an organization trail's: the management
account's), TLS, and for S3 the `bucket-owner-full-control` ACL and the encryption header (`aws:kms` for log
files of a trail with a key, `AES256` for digest files, which are always SSE-S3). What the documentation
does not say stays unknown (`policy.Request`: any key not given nor declared absent): a policy that turns
on it cannot be judged, and says so.

`statements_*` are the statements `--fix` appends for CloudTrail (`audit/chain_fix.py`), the documented
ones, each scoped with `aws:SourceArn` to the trails that use the link.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from trailkeeper.audit.policy import SERVICE, Policy, Request
from trailkeeper.trail import arns

Kind = Literal["bucket", "key", "log group", "role", "topic", "topic key"]
BUCKET: Kind = "bucket"
KEY: Kind = "key"
LOG_GROUP: Kind = "log group"
ROLE: Kind = "role"
TOPIC: Kind = "topic"
TOPIC_KEY: Kind = "topic key"  # the key an encrypted topic uses: known once the topic is read

# What a service principal's request never carries: it is no IAM identity and no member of an organization
# (hence the `aws:PrincipalIsAWSService` exception Deny statements on aws:PrincipalOrgID need).
_NOT_AN_IDENTITY = frozenset(
    {
        "aws:principalorgid",
        "aws:principalorgpaths",
        "aws:principalarn",
        "aws:principaltype",
        "aws:userid",
        "aws:username",
        "aws:principaltag/",
        "aws:principalservicenamelist",
        "aws:multifactorauthpresent",
        "aws:multifactorauthage",
    }
)
SAMPLE_DAY = "2026/01/01"  # an object key needs a date; policies scope by prefix, never by day
SAMPLE_TIME = "20260101T0000Z"


@dataclass(frozen=True)
class Link:
    """A resource a trail's delivery needs, named as a change event or a read names it."""

    kind: Kind
    arn: str
    account: str  # "" when the ARN does not say (a bucket's)
    region: str  # "" when the run has not learned it yet (a bucket's)

    @property
    def name(self) -> str:
        """The resource's own name: a bucket, key id, log group name, role name or topic name."""
        if self.kind == BUCKET:
            return self.arn.split(":::", 1)[-1]
        if self.kind == LOG_GROUP:
            return self.arn.split(":log-group:", 1)[-1].removesuffix(":*")
        return self.arn.rsplit("/", 1)[-1].rsplit(":", 1)[-1]


@dataclass(frozen=True)
class Resource:
    """A link as the run read it.

    `unavailable`: why it could not be read (another account, a read that failed) — the controls that need
    it say NOT_AVAILABLE; `missing`: it does not exist (the bucket, key, group, role or topic was deleted) —
    they fail. `policies` decide CloudTrail's requests to it (a resource policy; a role's inline and attached
    policies), `text` is the resource policy as read (what `--fix` appends to, byte for byte).
    """

    link: Link
    unavailable: str = ""
    missing: str = ""
    policies: tuple[Policy, ...] = ()
    text: str | None = None  # None: the resource has no policy of its own (a bucket without one)
    trust: Policy | None = None  # a role's trust policy
    boundary: Policy | None = None  # a role's permissions boundary
    state: str = ""  # a key's KeyState
    details: Mapping[str, str] = field(default_factory=dict)  # e.g. a key's region, a topic's KmsMasterKeyId


@dataclass(frozen=True)
class Delivery:
    """What a trail's delivery depends on: the links named by its settings, and who it delivers for."""

    trail: str  # ARN
    account: str  # the owner (an organization trail's: the management account)
    home_region: str
    partition: str
    bucket: str
    prefix: str = ""
    key: str = ""  # KmsKeyId, a key ARN
    validation: bool = False
    log_group: str = ""  # CloudWatchLogsLogGroupArn without ":*"
    role: str = ""
    topic: str = ""  # SnsTopicARN
    organization: bool = False
    organization_id: str = ""  # "" when the run does not know it

    def links(self) -> dict[Kind, Link]:
        found: dict[Kind, Link] = {}
        if self.bucket:
            found[BUCKET] = Link(BUCKET, f"arn:{self.partition}:s3:::{self.bucket}", "", "")
        for kind, arn in ((KEY, self.key), (LOG_GROUP, self.log_group), (ROLE, self.role), (TOPIC, self.topic)):
            if arn.startswith("arn:"):
                found[kind] = Link(kind, arn, arns.account_of(arn), "" if kind == ROLE else arns.region_of(arn))
        return found

    # --- the requests ---------------------------------------------------------------------------------------

    def _common(self) -> dict[str, list[str]]:
        return {
            "aws:sourcearn": [self.trail],
            "aws:sourceaccount": [self.account],
            "aws:securetransport": ["true"],
            "aws:principalisawsservice": ["true"],
            **({"aws:sourceorgid": [self.organization_id]} if self.organization_id else {}),
        }

    def log_prefixes(self) -> list[str]:
        """Where log files go under the bucket: `AWSLogs/<account>/`, and `AWSLogs/<org id>/` for an organization
        trail (member accounts' files; None known when the run does not know the organization's id)."""
        base = f"{self.prefix}/" if self.prefix else ""
        found = [f"{base}AWSLogs/{self.account}/"]
        if self.organization:
            found.append(f"{base}AWSLogs/{self.organization_id or '<organization id>'}/")
        return found

    def object_arn(self, folder: str, digest: bool = False) -> str:
        """A sample object key CloudTrail writes under `folder` (a log file, or a digest file)."""
        region, account = self.home_region, self.account
        member = f"{account}/" if folder.rstrip("/").rsplit("/", 1)[-1].startswith("o-") else ""
        kind = "CloudTrail-Digest" if digest else "CloudTrail"
        name = f"{account}_{kind}_{region}_{SAMPLE_TIME}_sample.json.gz"
        return f"arn:{self.partition}:s3:::{self.bucket}/{folder}{member}{kind}/{region}/{SAMPLE_DAY}/{name}"

    def bucket_requests(self) -> list[Request]:
        """GetBucketAcl, then PutObject of a log file (each prefix) and of a digest file (validation on)."""
        bucket_arn = f"arn:{self.partition}:s3:::{self.bucket}"
        absent = _NOT_AN_IDENTITY | {"s3:x-amz-server-side-encryption-aws-kms-key-id"}
        found = [
            Request(
                "s3:GetBucketAcl",
                bucket_arn,
                self._common(),
                absent | {"s3:x-amz-acl", "s3:x-amz-server-side-encryption"},
                what="GetBucketAcl of the bucket",
            )
        ]
        for folder in self.log_prefixes():
            if "<" in folder:
                continue  # the organization's id is not known: that folder cannot be asked about
            logs = {**self._common(), "s3:x-amz-acl": ["bucket-owner-full-control"]}
            if self.key:
                logs["s3:x-amz-server-side-encryption"] = ["aws:kms"]
            # Without a key, whether the request names SSE-S3 or leaves it to the bucket's default encryption
            # cannot be told from here: the header is neither carried nor absent (UNKNOWN).
            found.append(
                Request(
                    "s3:PutObject",
                    self.object_arn(folder),
                    logs,
                    _NOT_AN_IDENTITY,
                    what=f"PutObject of a log file under {folder}",
                )
            )
        return found

    def digest_requests(self) -> list[Request]:
        """PutObject of a digest file (always SSE-S3: AES256, whatever the trail's key)."""
        digests = {
            **self._common(),
            "s3:x-amz-acl": ["bucket-owner-full-control"],
            "s3:x-amz-server-side-encryption": ["AES256"],
        }
        absent = _NOT_AN_IDENTITY | {"s3:x-amz-server-side-encryption-aws-kms-key-id"}
        return [
            Request(
                "s3:PutObject",
                self.object_arn(folder, digest=True),
                digests,
                absent,
                what=f"PutObject of a digest file under {folder}",
            )
            for folder in self.log_prefixes()
            if "<" not in folder
        ]

    def key_requests(self) -> list[Request]:
        """GenerateDataKey in the trail's encryption context, and DescribeKey."""
        context = {
            **self._common(),
            "kms:encryptioncontext:aws:cloudtrail:arn": [self.trail],
            "kms:encryptioncontext:aws:s3:arn": [self.object_arn(self.log_prefixes()[0])],
            "kms:encryptioncontextkeys": ["aws:cloudtrail:arn", "aws:s3:arn"],
        }
        encryption = {"kms:encryptioncontext:aws:cloudtrail:arn", "kms:encryptioncontext:aws:s3:arn"}
        return [
            Request("kms:GenerateDataKey", self.key, context, _NOT_AN_IDENTITY, what="GenerateDataKey for a log file"),
            Request(
                "kms:DescribeKey",
                self.key,
                self._common(),
                _NOT_AN_IDENTITY | encryption | {"kms:encryptioncontextkeys"},
                what="DescribeKey",
            ),
        ]

    def trust_request(self) -> Request:
        """CloudTrail assuming the CloudWatch Logs role (the trust policy's `aws:SourceArn` is not documented)."""
        return Request(
            "sts:AssumeRole",
            self.role,
            {"aws:securetransport": ["true"], "aws:principalisawsservice": ["true"]},
            _NOT_AN_IDENTITY,
            what="AssumeRole of the CloudWatch Logs role",
        )

    def stream_arn(self) -> str:
        group = self.log_group.removesuffix(":*")
        return f"{group}:log-stream:{self.account}_CloudTrail_{self.home_region}"

    def stream_requests(self) -> list[Request]:
        """The role's CreateLogStream and PutLogEvents on the trail's stream (its policies name no principal)."""
        context = {"aws:securetransport": ["true"], "aws:principalisawsservice": ["false"]}
        absent = frozenset({"aws:sourcearn", "aws:sourceaccount"})  # "the role policy doesn't support them"
        return [
            Request(
                action,
                self.stream_arn(),
                context,
                absent,
                principal="",
                what=f"{action.split(':')[1]} to the log group",
            )
            for action in ("logs:CreateLogStream", "logs:PutLogEvents")
        ]

    def topic_request(self) -> Request:
        return Request("sns:Publish", self.topic, self._common(), _NOT_AN_IDENTITY, what="Publish to the topic")

    def topic_key_requests(self, key: str) -> list[Request]:
        """An encrypted topic: CloudTrail's GenerateDataKey and Decrypt with the topic's key."""
        return [
            Request(action, key, self._common(), _NOT_AN_IDENTITY, what=f"{action.split(':')[1]} with the topic's key")
            for action in ("kms:GenerateDataKey", "kms:Decrypt")
        ]


# --- the statements --fix appends ------------------------------------------------------------------------------


def _scoped(trails: Sequence[str]) -> dict[str, Any]:
    return {"StringEquals": {"aws:SourceArn": list(trails) if len(trails) > 1 else trails[0]}}


def statements_bucket(bucket: str, partition: str, deliveries: Sequence[Delivery]) -> list[dict[str, Any]]:
    """CloudTrail's two documented bucket statements (ACL check, write), for `deliveries` into `bucket`."""
    trails = sorted({d.trail for d in deliveries})
    folders = sorted({f for d in deliveries for f in d.log_prefixes() if "<" not in f})
    bucket_arn = f"arn:{partition}:s3:::{bucket}"
    return [
        {
            "Sid": "TrailkeeperCloudTrailAclCheck",
            "Effect": "Allow",
            "Principal": {"Service": SERVICE},
            "Action": "s3:GetBucketAcl",
            "Resource": bucket_arn,
            "Condition": _scoped(trails),
        },
        {
            "Sid": "TrailkeeperCloudTrailWrite",
            "Effect": "Allow",
            "Principal": {"Service": SERVICE},
            "Action": "s3:PutObject",
            "Resource": [f"{bucket_arn}/{f}*" for f in folders] if len(folders) > 1 else f"{bucket_arn}/{folders[0]}*",
            "Condition": {
                "StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", **_scoped(trails)["StringEquals"]}
            },
        },
    ]


def statements_key(key: str, deliveries: Sequence[Delivery]) -> list[dict[str, Any]]:
    """CloudTrail's documented key statements: GenerateDataKey* in its encryption context, and DescribeKey."""
    trails = sorted({d.trail for d in deliveries})
    owners = sorted({d.account for d in deliveries})
    partition = deliveries[0].partition
    contexts = [f"arn:{partition}:cloudtrail:*:{owner}:trail/*" for owner in owners]
    return [
        {
            "Sid": "TrailkeeperCloudTrailEncrypt",
            "Effect": "Allow",
            "Principal": {"Service": SERVICE},
            "Action": "kms:GenerateDataKey*",
            "Resource": "*",
            "Condition": {
                "StringLike": {
                    "kms:EncryptionContext:aws:cloudtrail:arn": contexts if len(contexts) > 1 else contexts[0]
                },
                **_scoped(trails),
            },
        },
        {
            "Sid": "TrailkeeperCloudTrailDescribeKey",
            "Effect": "Allow",
            "Principal": {"Service": SERVICE},
            "Action": "kms:DescribeKey",
            "Resource": "*",
            "Condition": _scoped(trails),
        },
    ]


def statements_topic(topic: str, deliveries: Sequence[Delivery]) -> list[dict[str, Any]]:
    """CloudTrail's documented topic statement: Publish, scoped to the trails."""
    trails = sorted({d.trail for d in deliveries})
    return [
        {
            "Sid": "TrailkeeperCloudTrailPublish",
            "Effect": "Allow",
            "Principal": {"Service": SERVICE},
            "Action": "SNS:Publish",
            "Resource": topic,
            "Condition": _scoped(trails),
        }
    ]


def statements_for(link: Link, deliveries: Sequence[Delivery]) -> list[dict[str, Any]]:
    """The statements `--fix` appends to `link`'s policy for `deliveries` ([] for a link it never edits)."""
    if link.kind == BUCKET:
        return statements_bucket(link.name, deliveries[0].partition, deliveries)
    if link.kind == KEY:
        return statements_key(link.arn, deliveries)
    if link.kind == TOPIC:
        return statements_topic(link.arn, deliveries)
    return []  # a role's policies and a log group are the owner's to decide: never edited


def documented_policy(statements: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A whole policy of `statements`, for a resource that has none yet (a bucket without a policy)."""
    return {"Version": "2012-10-17", "Statement": [dict(s) for s in statements]}
