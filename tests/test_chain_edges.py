"""The delivery chain at its edges (audit/chain.py), built by hand: no AWS, no moto.

What the audit asks a policy about a trail's delivery is a list of requests: the call CloudTrail (or the
CloudWatch Logs role) makes, on which resource, named how in a reason, and what its context is known to carry,
known not to carry, or cannot be told (UNKNOWN). A policy's verdict is only as right as those requests, so they
are held here to the CloudTrail User Guide: the links a trail's settings name, each request of a whole chain
(an organization trail with a prefix, a key, digests, a log group and role, an encrypted topic), and every
condition key a policy may turn on.
"""

from __future__ import annotations

from typing import Any

import pytest

from trailkeeper.audit.chain import BUCKET, KEY, LOG_GROUP, ROLE, TOPIC, Delivery, Link
from trailkeeper.audit.policy import SERVICE, Request

ACCOUNT, HOME, KEY_REGION = "111122223333", "us-east-1", "eu-west-1"
TRAIL = f"arn:aws:cloudtrail:{HOME}:{ACCOUNT}:trail/audit"
ORGANIZATION = "o-abcdefghij"
KEY_ARN = f"arn:aws:kms:{KEY_REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
GROUP = f"arn:aws:logs:{HOME}:{ACCOUNT}:log-group:trail"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/CloudTrailToLogs"
TOPIC_ARN = f"arn:aws:sns:{HOME}:{ACCOUNT}:trail-notices"
TOPIC_KEY = f"arn:aws:kms:{HOME}:{ACCOUNT}:key/topic-key"
PREFIX = "audit/cloudtrail"
UNKNOWN = "UNKNOWN"


def whole_chain(**changes: Any) -> Delivery:
    """An organization trail that uses every link: a prefixed bucket, a key in another region, digests, a log
    group and its role, and a topic."""
    base: dict[str, Any] = {
        "trail": TRAIL,
        "account": ACCOUNT,
        "home_region": HOME,
        "partition": "aws",
        "bucket": "logs",
        "prefix": PREFIX,
        "key": KEY_ARN,
        "validation": True,
        "log_group": GROUP,
        "role": ROLE_ARN,
        "topic": TOPIC_ARN,
        "organization": True,
        "organization_id": ORGANIZATION,
    }
    return Delivery(**{**base, **changes})


def every_request(trail: Delivery) -> list[Request]:
    return [
        *trail.bucket_requests(),
        *trail.digest_requests(),
        *trail.key_requests(),
        trail.trust_request(),
        *trail.stream_requests(),
        trail.topic_request(),
        *trail.topic_key_requests(TOPIC_KEY),
    ]


# --- the links a trail's settings name --------------------------------------------------------------------------


def test_each_link_is_named_by_its_arn_with_the_account_and_region_the_arn_says() -> None:
    assert whole_chain().links() == {
        BUCKET: Link(BUCKET, "arn:aws:s3:::logs", "", ""),  # a bucket's ARN names neither
        KEY: Link(KEY, KEY_ARN, ACCOUNT, KEY_REGION),
        LOG_GROUP: Link(LOG_GROUP, GROUP, ACCOUNT, HOME),
        ROLE: Link(ROLE, ROLE_ARN, ACCOUNT, ""),  # IAM is global
        TOPIC: Link(TOPIC, TOPIC_ARN, ACCOUNT, HOME),
    }


def test_a_setting_that_is_no_arn_names_no_link() -> None:
    links = whole_chain(bucket="", key="alias/trail", log_group="", role="", topic="trail-notices").links()
    assert links == {}


# --- each request: the call, the resource, and how a reason names it --------------------------------------------

LOG = f"{ACCOUNT}_CloudTrail_{HOME}_20260101T0000Z_sample.json.gz"
DIGEST = f"{ACCOUNT}_CloudTrail-Digest_{HOME}_20260101T0000Z_sample.json.gz"
OWN = f"{PREFIX}/AWSLogs/{ACCOUNT}/"
MEMBERS = f"{PREFIX}/AWSLogs/{ORGANIZATION}/"
STREAM = f"{GROUP}:log-stream:{ACCOUNT}_CloudTrail_{HOME}"
WHOLE_CHAIN = [
    ("GetBucketAcl of the bucket", "s3:GetBucketAcl", "arn:aws:s3:::logs", SERVICE),
    (
        f"PutObject of a log file under {OWN}",
        "s3:PutObject",
        f"arn:aws:s3:::logs/{OWN}CloudTrail/{HOME}/2026/01/01/{LOG}",
        SERVICE,
    ),
    (  # member accounts' files go one folder deeper, under their own account
        f"PutObject of a log file under {MEMBERS}",
        "s3:PutObject",
        f"arn:aws:s3:::logs/{MEMBERS}{ACCOUNT}/CloudTrail/{HOME}/2026/01/01/{LOG}",
        SERVICE,
    ),
    (
        f"PutObject of a digest file under {OWN}",
        "s3:PutObject",
        f"arn:aws:s3:::logs/{OWN}CloudTrail-Digest/{HOME}/2026/01/01/{DIGEST}",
        SERVICE,
    ),
    (
        f"PutObject of a digest file under {MEMBERS}",
        "s3:PutObject",
        f"arn:aws:s3:::logs/{MEMBERS}{ACCOUNT}/CloudTrail-Digest/{HOME}/2026/01/01/{DIGEST}",
        SERVICE,
    ),
    ("GenerateDataKey for a log file", "kms:GenerateDataKey", KEY_ARN, SERVICE),
    ("DescribeKey", "kms:DescribeKey", KEY_ARN, SERVICE),
    ("AssumeRole of the CloudWatch Logs role", "sts:AssumeRole", ROLE_ARN, SERVICE),
    ("CreateLogStream to the log group", "logs:CreateLogStream", STREAM, ""),  # the role calls: no principal
    ("PutLogEvents to the log group", "logs:PutLogEvents", STREAM, ""),
    ("Publish to the topic", "sns:Publish", TOPIC_ARN, SERVICE),
    ("GenerateDataKey with the topic's key", "kms:GenerateDataKey", TOPIC_KEY, SERVICE),
    ("Decrypt with the topic's key", "kms:Decrypt", TOPIC_KEY, SERVICE),
]


def test_a_whole_chain_asks_each_call_cloudtrail_makes_on_the_resource_it_makes_it_on() -> None:
    found = [(r.what, r.action, r.resource, r.principal) for r in every_request(whole_chain())]
    assert found == WHOLE_CHAIN


def test_the_log_group_stream_is_named_alike_whether_the_group_arn_ends_in_a_wildcard_or_not() -> None:
    assert whole_chain(log_group=f"{GROUP}:*").stream_arn() == STREAM


def test_an_organization_whose_id_is_unknown_asks_only_about_the_management_accounts_folder() -> None:
    unknown = whole_chain(organization_id="")
    asked = [r.what for r in [*unknown.bucket_requests(), *unknown.digest_requests()]]
    assert asked == [
        "GetBucketAcl of the bucket",
        f"PutObject of a log file under {OWN}",
        f"PutObject of a digest file under {OWN}",
    ]


def test_a_trail_without_a_prefix_writes_straight_under_awslogs() -> None:
    plain = whole_chain(prefix="")
    assert [r.resource for r in plain.bucket_requests()[1:]] == [
        f"arn:aws:s3:::logs/AWSLogs/{ACCOUNT}/CloudTrail/{HOME}/2026/01/01/{LOG}",
        f"arn:aws:s3:::logs/AWSLogs/{ORGANIZATION}/{ACCOUNT}/CloudTrail/{HOME}/2026/01/01/{LOG}",
    ]


# --- what each request carries: a value, nothing (None), or what cannot be told (UNKNOWN) ---------------------

KEYS = [  # spelled as policies spell them
    "aws:SourceArn",
    "aws:SourceAccount",
    "aws:SourceOrgID",
    "aws:SecureTransport",
    "aws:PrincipalIsAWSService",
    "aws:PrincipalOrgID",
    "aws:PrincipalTag/team",
    "s3:x-amz-acl",
    "s3:x-amz-server-side-encryption",
    "s3:x-amz-server-side-encryption-aws-kms-key-id",
    "kms:EncryptionContext:aws:cloudtrail:arn",
    "kms:EncryptionContext:aws:s3:arn",
    "kms:EncryptionContextKeys",
]
# CloudTrail's own requests: its trail, its owner, its organization, TLS, a service (no identity, no org member)
CLOUDTRAIL: dict[str, Any] = {
    "aws:SourceArn": (TRAIL,),
    "aws:SourceAccount": (ACCOUNT,),
    "aws:SourceOrgID": (ORGANIZATION,),
    "aws:SecureTransport": ("true",),
    "aws:PrincipalIsAWSService": ("true",),
    "aws:PrincipalOrgID": None,
    "aws:PrincipalTag/team": None,
    "s3:x-amz-acl": UNKNOWN,
    "s3:x-amz-server-side-encryption": UNKNOWN,
    "s3:x-amz-server-side-encryption-aws-kms-key-id": UNKNOWN,
    "kms:EncryptionContext:aws:cloudtrail:arn": UNKNOWN,
    "kms:EncryptionContext:aws:s3:arn": UNKNOWN,
    "kms:EncryptionContextKeys": UNKNOWN,
}
NO_S3_HEADERS = {
    "s3:x-amz-acl": None,
    "s3:x-amz-server-side-encryption": None,
    "s3:x-amz-server-side-encryption-aws-kms-key-id": None,
}
FULL_CONTROL = {"s3:x-amz-acl": ("bucket-owner-full-control",)}
NO_CONTEXT = {
    "kms:EncryptionContext:aws:cloudtrail:arn": None,
    "kms:EncryptionContext:aws:s3:arn": None,
    "kms:EncryptionContextKeys": None,
}
# the role's own calls: TLS, not a service; the role policy cannot scope them to a trail; the rest is not told
ROLE_CALL = {
    **{key: UNKNOWN for key in KEYS},
    "aws:SourceArn": None,
    "aws:SourceAccount": None,
    "aws:SecureTransport": ("true",),
    "aws:PrincipalIsAWSService": ("false",),
}
CARRIED: list[tuple[str, dict[str, Any]]] = [
    ("GetBucketAcl of the bucket", {**CLOUDTRAIL, **NO_S3_HEADERS}),
    (
        f"PutObject of a log file under {OWN}",
        {**CLOUDTRAIL, **FULL_CONTROL, "s3:x-amz-server-side-encryption": ("aws:kms",)},
    ),
    (
        f"PutObject of a log file under {MEMBERS}",
        {**CLOUDTRAIL, **FULL_CONTROL, "s3:x-amz-server-side-encryption": ("aws:kms",)},
    ),
    (
        f"PutObject of a digest file under {OWN}",  # always SSE-S3, whatever the trail's key
        {
            **CLOUDTRAIL,
            **FULL_CONTROL,
            "s3:x-amz-server-side-encryption": ("AES256",),
            "s3:x-amz-server-side-encryption-aws-kms-key-id": None,
        },
    ),
    (
        f"PutObject of a digest file under {MEMBERS}",
        {
            **CLOUDTRAIL,
            **FULL_CONTROL,
            "s3:x-amz-server-side-encryption": ("AES256",),
            "s3:x-amz-server-side-encryption-aws-kms-key-id": None,
        },
    ),
    (
        "GenerateDataKey for a log file",
        {
            **CLOUDTRAIL,
            "kms:EncryptionContext:aws:cloudtrail:arn": (TRAIL,),
            "kms:EncryptionContext:aws:s3:arn": (f"arn:aws:s3:::logs/{OWN}CloudTrail/{HOME}/2026/01/01/{LOG}",),
            "kms:EncryptionContextKeys": ("aws:cloudtrail:arn", "aws:s3:arn"),
        },
    ),
    ("DescribeKey", {**CLOUDTRAIL, **NO_CONTEXT}),
    (
        "AssumeRole of the CloudWatch Logs role",  # the trust policy's aws:SourceArn is not documented
        {**CLOUDTRAIL, "aws:SourceArn": UNKNOWN, "aws:SourceAccount": UNKNOWN, "aws:SourceOrgID": UNKNOWN},
    ),
    ("CreateLogStream to the log group", ROLE_CALL),
    ("PutLogEvents to the log group", ROLE_CALL),
    ("Publish to the topic", CLOUDTRAIL),
    ("GenerateDataKey with the topic's key", CLOUDTRAIL),
    ("Decrypt with the topic's key", CLOUDTRAIL),
]


def carried(request: Request) -> dict[str, Any]:
    return {key: request.value(key) for key in KEYS}


@pytest.mark.parametrize(("what", "expected"), CARRIED, ids=[what for what, _ in CARRIED])
def test_each_request_carries_what_the_user_guide_says_and_nothing_is_guessed(
    what: str, expected: dict[str, Any]
) -> None:
    (request,) = [r for r in every_request(whole_chain()) if r.what == what]
    assert carried(request) == expected


def test_a_trail_whose_organization_is_unknown_leaves_aws_source_org_id_untold() -> None:
    unknown = whole_chain(organization=False, organization_id="")
    assert {r.what: r.value("aws:SourceOrgID") for r in every_request(unknown) if r.principal} == {
        r.what: UNKNOWN for r in every_request(unknown) if r.principal
    }


def test_a_log_file_of_a_trail_without_a_key_may_carry_any_encryption_header() -> None:
    (_, log_file, _) = whole_chain(key="").bucket_requests()
    assert carried(log_file) == {**CLOUDTRAIL, **FULL_CONTROL}  # the bucket's default encryption: not told
