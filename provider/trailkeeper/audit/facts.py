"""What the audit knows and says: the facts read of trails, places and log buckets, the options, the verdict. Pure.

The AWS edge (`audit/reads.py`, `audit/buckets.py`) fills these in with only what the asked controls need
(`READS`); the controls (`audit/controls.py`) judge them; findings (`audit/findings.py`) carry the verdicts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from trailkeeper.audit.chain import Delivery, Kind, Resource
from trailkeeper.trail.record import Record
from trailkeeper.trail.selectors import Selectors

Status = Literal["PASS", "FAIL", "NOT_AVAILABLE"]
PASS: Status = "PASS"  # noqa: S105 (a control status, not a password)
FAIL: Status = "FAIL"
NOT_AVAILABLE: Status = "NOT_AVAILABLE"
STATUSES: tuple[Status, ...] = (PASS, FAIL, NOT_AVAILABLE)
Level = Literal["account", "trail", "bucket"]

# The reads a control needs beyond DescribeTrails (which answers KMS, validation and the log group).
STATUS, EVENTS, TAGS, BUCKET_PUBLIC, BUCKET_LOGGING = "status", "events", "tags", "bucket-public", "bucket-logging"
# The delivery chain's links (audit/chain_reads.py): each read once, by the account that owns it.
CHAIN_BUCKET, CHAIN_KEY, CHAIN_LOGS, CHAIN_TOPIC = "chain-bucket", "chain-key", "chain-logs", "chain-topic"
READS: Mapping[str, str] = MappingProxyType(
    {
        STATUS: "GetTrailStatus",
        EVENTS: "GetEventSelectors (only when DescribeTrails says the selectors are custom)",
        TAGS: "ListTags (20 trails a call)",
        BUCKET_PUBLIC: "GetBucketAcl, GetBucketPolicyStatus, GetPublicAccessBlock",
        BUCKET_LOGGING: "GetBucketLogging",
        CHAIN_BUCKET: "GetBucketPolicy (and DescribeOrganization, once, for an organization trail's folder)",
        CHAIN_KEY: "DescribeKey, GetKeyPolicy",
        CHAIN_LOGS: "DescribeLogGroups; GetRole, ListRolePolicies, GetRolePolicy, ListAttachedRolePolicies, "
        "GetPolicy, GetPolicyVersion",
        CHAIN_TOPIC: "GetTopicAttributes (and the topic's key: DescribeKey, GetKeyPolicy)",
    }
)


@dataclass(frozen=True)
class TrailFacts:
    """What the audit knows of one trail: its record (settings in compare form, logging, events) and more.

    `record.logging` / `record.events` are None when they were not read (not needed, or the read failed:
    then `unread` says why).
    """

    arn: str
    account: str  # the owner, from the ARN
    home_region: str
    record: Record
    bucket: str
    selectors: Selectors | None = None  # as read back (the default when DescribeTrails says so); None: not read
    tags: Mapping[str, str] | None = None  # user tags; None: not read
    delivery_error: str = ""  # GetTrailStatus' LatestCloudWatchLogsDeliveryError
    unread: str = ""  # why a needed read failed
    status: Mapping[str, Any] | None = None  # GetTrailStatus' answer; None: not read
    delivery: Delivery | None = None  # what its delivery depends on (the delivery standard)
    chain: Mapping[Kind, Resource] | None = None  # those links as read; None: not read

    @property
    def name(self) -> str:
        return self.arn.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class BucketFacts:
    """A log bucket's exposure and access logging; `unavailable` says why they could not be read."""

    name: str
    partition: str = "aws"
    owner: str = ""  # the account that owns it, when the run knows
    unavailable: str = ""
    public: tuple[str, ...] = ()  # why it is public ([] when not); valid only when available
    access_logging: bool | None = None
    region: str = ""  # the region it was read in (S3 redirects a call made elsewhere)
    located: str = ""  # where it lives, when its owner's ListBuckets said
    missing: str = ""  # it no longer exists (NoSuchBucket, read by its owner): delivery fails
    policy: str | None = None  # its bucket policy as read (None: it has none)
    policy_read: bool = False  # whether GetBucketPolicy was asked (the delivery standard)

    @property
    def arn(self) -> str:
        return f"arn:{self.partition}:s3:::{self.name}"


@dataclass(frozen=True)
class Place:
    """An account and region, and every trail seen there (the region's own and multi-region shadows)."""

    account: str
    region: str
    trails: tuple[TrailFacts, ...]
    partition: str = "aws"

    @property
    def resource(self) -> str:
        return account_resource(self.account)


# Security Hub's resource for an account-level control (ASFF Resources: Type AwsAccount, Id AWS::::Account:ID,
# with Partition and Region beside it): the same Id in every region, so a finding's region tells them apart.
ACCOUNT_RESOURCE_TYPE, ACCOUNT_RESOURCE_PREFIX = "AwsAccount", "AWS::::Account:"


def account_resource(account: str) -> str:
    """Security Hub's Id of an account as a resource.

    >>> account_resource("111122223333")
    'AWS::::Account:111122223333'
    """
    return ACCOUNT_RESOURCE_PREFIX + account


@dataclass(frozen=True)
class Verdict:
    status: Status
    reason: str
    fix: Mapping[str, Any] | None = None  # the declaration that would pass it (`Name` and the properties)
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Options:
    """The audit's parameters: CloudTrail.9's required tag keys (Security Hub's requiredTagKeys), and what
    `--fix` may declare where the remedy needs a choice only the owner can make.

    `kms_keys` is the --kms-key resolved in each account and home region ((account, region) -> key ARN; the
    AWS edge resolves it, `kms_refused` says why one has none): a key serves only its own region.
    """

    required_tags: tuple[str, ...] = ()
    kms_keys: Mapping[tuple[str, str], str] = field(default_factory=dict)
    kms_refused: Mapping[tuple[str, str], str] = field(default_factory=dict)
    # --log-group resolved like kms_keys: (account, region) -> the group's ARN there, or why there is none
    log_groups: Mapping[tuple[str, str], str] = field(default_factory=dict)
    log_group_refused: Mapping[tuple[str, str], str] = field(default_factory=dict)
    log_role: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)  # added to a trail's own
    primary_trail: str = ""  # the trail to make record everywhere (name or ARN) when none does
    now: float = 0.0  # when the audit ran (epoch seconds): how old a delivery CloudTrail reports is
