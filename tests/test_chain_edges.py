"""The delivery chain at its edges (audit/chain.py, audit/chain_fix.py), built by hand: no AWS, no moto.

What the audit asks a policy about a trail's delivery is a list of requests: the call CloudTrail (or the
CloudWatch Logs role) makes, on which resource, named how in a reason, and what its context is known to carry,
known not to carry, or cannot be told (UNKNOWN). A policy's verdict is only as right as those requests, so they
are held here to the CloudTrail User Guide: the links a trail's settings name, each request of a whole chain
(an organization trail with a prefix, a key, digests, a log group and role, an encrypted topic), and every
condition key a policy may turn on.

What `--fix` does with a refused link is held here too: which findings it takes up, the text it writes (the
policy as read, CloudTrail's statements appended, whatever the layout), that one refusal or failed write never
costs the other links theirs, and that each write is the documented call, made with the owner's clients in the
link's region, whose failure says what went wrong where.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any, cast

import boto3
import pytest
from botocore.stub import Stubber

from trailkeeper.audit import chain_fix
from trailkeeper.audit.chain import BUCKET, KEY, LOG_GROUP, ROLE, TOPIC, Delivery, Kind, Link, Resource
from trailkeeper.audit.facts import FAIL, NOT_AVAILABLE, PASS, Status
from trailkeeper.audit.findings import Finding
from trailkeeper.audit.policy import SERVICE, Request, parse
from trailkeeper.aws.calls import Clients, Deadline

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


# --- --fix: what it writes, where, and what it says when it cannot (audit/chain_fix.py) -------------------------

FAR = "eu-west-1"  # the link lives outside the run's region
OWNER, OTHER_OWNER = "444455556666", "777788889999"
NEW_POLICY = '{"Statement": []}'
WRITES: list[tuple[Link, str, str, dict[str, str]]] = [
    (
        Link(BUCKET, "arn:aws:s3:::logs", OWNER, FAR),
        "s3",
        "put_bucket_policy",
        {"Bucket": "logs", "Policy": NEW_POLICY},
    ),
    (
        Link(KEY, f"arn:aws:kms:{FAR}:{OWNER}:key/k", OWNER, FAR),
        "kms",
        "put_key_policy",
        {"KeyId": f"arn:aws:kms:{FAR}:{OWNER}:key/k", "PolicyName": "default", "Policy": NEW_POLICY},
    ),
    (
        Link(TOPIC, f"arn:aws:sns:{FAR}:{OWNER}:notices", OWNER, FAR),
        "sns",
        "set_topic_attributes",
        {"TopicArn": f"arn:aws:sns:{FAR}:{OWNER}:notices", "AttributeName": "Policy", "AttributeValue": NEW_POLICY},
    ),
]


class OneClient:
    """The owner's clients as `apply` asks for them, holding one stubbed client: any other is a wrong turn."""

    def __init__(self, service: str, region: str) -> None:
        self.made = boto3.client(service, region_name=region)
        self.stubber = Stubber(self.made)
        self.service, self.region = service, region

    def client(self, service: str, region: str) -> Any:
        assert (service, region) == (self.service, self.region), f"a {service} client in {region}"
        return self.made

    def kms(self, region: str) -> Any:
        return self.client("kms", region)


def owners(by_account: dict[str, OneClient]) -> Callable[[str], Clients | None]:
    """`apply`'s clients_of: the stubbed clients of the accounts in the run, None for any other."""
    return lambda account: cast("Clients | None", by_account.get(account))


def edit_of(link: Link, status: chain_fix.EditStatus = "planned") -> chain_fix.PolicyEdit:
    return chain_fix.PolicyEdit(link, (TRAIL,), None, NEW_POLICY, status)


@pytest.mark.parametrize(("link", "service", "operation", "params"), WRITES, ids=[w[1] for w in WRITES])
def test_an_edit_is_written_with_the_owners_clients_where_the_link_lives(
    link: Link, service: str, operation: str, params: dict[str, str]
) -> None:
    owner = OneClient(service, FAR)
    owner.stubber.add_response(operation, {}, params)
    with owner.stubber:
        (done,) = chain_fix.apply([edit_of(link)], owners({OWNER: owner}), Deadline())
        owner.stubber.assert_no_pending_responses()
    assert (done.status, done.reason, done.after) == ("written", "", NEW_POLICY)


@pytest.mark.parametrize(("link", "service", "operation", "params"), WRITES, ids=[w[1] for w in WRITES])
def test_a_write_refused_for_bad_credentials_says_in_which_region(
    link: Link, service: str, operation: str, params: dict[str, str]
) -> None:
    owner = OneClient(service, FAR)
    owner.stubber.add_client_error(operation, "InvalidClientTokenId", "The security token is invalid.", 403, params)
    written = OneClient("s3", FAR)
    written.stubber.add_response("put_bucket_policy", {}, {"Bucket": "logs", "Policy": NEW_POLICY})
    after = edit_of(Link(BUCKET, "arn:aws:s3:::logs", OTHER_OWNER, FAR))
    with owner.stubber, written.stubber:
        failed, still = chain_fix.apply(
            [edit_of(link), after], owners({OWNER: owner, OTHER_OWNER: written}), Deadline()
        )
    assert (failed.status, failed.reason) == ("failed", f"InvalidClientTokenId: the credentials are not valid in {FAR}")
    assert still.status == "written"  # one failed write does not stop the next


def test_edits_that_are_not_planned_are_passed_on_and_the_planned_ones_after_them_still_written() -> None:
    link, service, operation, params = WRITES[0]
    owner = OneClient(service, FAR)
    owner.stubber.add_response(operation, {}, params)
    refused = dataclasses.replace(edit_of(link, "refused"), reason="not edited: someone meant it")
    with owner.stubber:
        done = chain_fix.apply([refused, edit_of(link)], owners({OWNER: owner}), Deadline())
    assert [(e.status, e.reason) for e in done] == [("refused", "not edited: someone meant it"), ("written", "")]


# --- which findings --fix takes up --------------------------------------------------------------------------------


def finding(status: Status, fix: dict[str, Any] | None) -> Finding:
    return Finding("Delivery.1", "trailkeeper", status, TRAIL, ACCOUNT, HOME, "title", "reason", "remedy", fix)


def test_only_failing_findings_whose_fix_is_a_policy_edit_are_taken_up_each_with_its_trail() -> None:
    edit = {"PolicyOf": "arn:aws:s3:::logs", "Kind": BUCKET, "Trail": TRAIL}
    other = {"PolicyOf": KEY_ARN, "Kind": KEY, "Trail": f"arn:aws:cloudtrail:{HOME}:{ACCOUNT}:trail/second"}
    findings = [
        finding(FAIL, edit),
        finding(PASS, edit),  # nothing to fix
        finding(NOT_AVAILABLE, edit),  # not judged: nothing to write on a guess
        finding(FAIL, None),  # a failure --fix leaves to a person
        finding(FAIL, {"Trail": TRAIL, "IsMultiRegionTrail": True}),  # a trail's fix, not a policy's
        finding(FAIL, other),
    ]
    assert chain_fix.failing_fixes(findings) == [(TRAIL, edit), (other["Trail"], other)]


# --- appending: every other byte kept, whatever the layout ----------------------------------------------------

PUBLISH = {"Sid": "TrailkeeperCloudTrailPublish", "Effect": "Allow", "Action": "SNS:Publish"}
ADDED = json.dumps(PUBLISH)
READERS = '{"Sid": "Readers", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"]}'
APPENDED = [  # the policy as read, and as written
    pytest.param(
        f'{{"Version":"2012-10-17","Statement":[{READERS}]}}',
        f'{{"Version":"2012-10-17","Statement":[{READERS}, {ADDED}]}}',
        id="compact, as some tools write it",
    ),
    pytest.param(
        f'\n  {{ "Statement" : [\n    {READERS}\n  ]\n}}\n',
        f'\n  {{ "Statement" : [\n    {READERS}, {ADDED}]\n}}\n',  # the list closes right after
        id="laid out, with space before the object",
    ),
    pytest.param(
        f'{{"Statement": [{READERS}], "Id": "readers[1]"}}',
        f'{{"Statement": [{READERS}, {ADDED}], "Id": "readers[1]"}}',
        id="a bracket after the list",
    ),
    pytest.param(
        '{"Statement": {"Sid": "TrailkeeperCloudTrailPublish", "Effect": "Deny"}}',
        '{"Statement": [{"Sid": "TrailkeeperCloudTrailPublish", "Effect": "Deny"}, '
        + json.dumps({**PUBLISH, "Sid": "TrailkeeperCloudTrailPublish2"})
        + "]}",
        id="one statement, not a list, whose Sid is taken",
    ),
    pytest.param(
        '{"Statement": [{"Sid": "TrailkeeperCloudTrailPublish"}, {"Sid": "TrailkeeperCloudTrailPublish2"}]}',
        '{"Statement": [{"Sid": "TrailkeeperCloudTrailPublish"}, {"Sid": "TrailkeeperCloudTrailPublish2"}, '
        + json.dumps({**PUBLISH, "Sid": "TrailkeeperCloudTrailPublish3"})
        + "]}",
        id="the next free number",
    ),
]


@pytest.mark.parametrize(("text", "written"), APPENDED)
def test_the_statements_are_appended_to_the_list_and_the_rest_of_the_text_is_kept(text: str, written: str) -> None:
    assert chain_fix.append(text, [PUBLISH]) == written


def test_a_resource_without_a_policy_gets_the_documented_one_laid_out_for_reading() -> None:
    assert chain_fix.append(None, [PUBLISH]) == (
        '{\n  "Version": "2012-10-17",\n  "Statement": [\n    {\n      "Sid": "TrailkeeperCloudTrailPublish",\n'
        '      "Effect": "Allow",\n      "Action": "SNS:Publish"\n    }\n  ]\n}'
    )


# --- plan: one refusal never costs the other links their edit ------------------------------------------------

UNREADABLE = '{"Statement": "everything"'


def chain_of(kind: Kind, text: str | None, *, parsed: bool = True) -> Resource:
    found = whole_chain().links()[kind]
    policies = (parse(text, f"the policy of {kind}"),) if text is not None and parsed else ()
    return Resource(found, policies=policies, text=text)


def big(size: int) -> str:
    return '{"Statement": [], "Padding": "' + "x" * size + '"}'


REFUSALS = [  # a key's policy refused, then the bucket's edit after it (links are planned in ARN order)
    pytest.param(UNREADABLE, True, "not edited: the policy of key is not JSON", id="unreadable"),
    pytest.param(
        '{"Version": "2012-10-17"}', False, f"not edited: the policy of {KEY_ARN} it has no Statement", id="no list"
    ),
    pytest.param(
        big(32 * 1024), True, "not edited: with CloudTrail's statements the policy would pass 32768", id="too big"
    ),
]


@pytest.mark.parametrize(("key_policy", "parsed", "why"), REFUSALS)
def test_a_refused_policy_names_its_link_and_trails_and_the_next_link_is_still_planned(
    key_policy: str, parsed: bool, why: str
) -> None:
    chains = {TRAIL: {KEY: chain_of(KEY, key_policy, parsed=parsed), BUCKET: chain_of(BUCKET, None)}}
    failing = [(TRAIL, {"PolicyOf": KEY_ARN, "Kind": KEY}), (TRAIL, {"PolicyOf": "arn:aws:s3:::logs", "Kind": BUCKET})]
    key, bucket = chain_fix.plan(failing, {TRAIL: whole_chain()}, chains)
    assert (key.link, key.trails, key.before, key.status, key.after) == (
        chains[TRAIL][KEY].link,
        (TRAIL,),
        key_policy,
        "refused",
        "",
    )
    assert key.reason.startswith(why)
    assert (bucket.link.arn, bucket.status, bucket.trails) == ("arn:aws:s3:::logs", "planned", (TRAIL,))


def test_a_planned_edit_keeps_the_policy_it_read_and_its_diff_starts_from_it() -> None:
    text = f'{{"Statement": [{READERS}]}}'
    chains = {TRAIL: {TOPIC: chain_of(TOPIC, text)}}
    (edit,) = chain_fix.plan([(TRAIL, {"PolicyOf": TOPIC_ARN, "Kind": TOPIC})], {TRAIL: whole_chain()}, chains)
    assert (edit.before, edit.status) == (text, "planned")
    diff = edit.to_dict()["diff"]
    assert diff.startswith("--- topic policy of trail-notices (now)\n+++ topic policy of trail-notices (with --fix)\n")
    assert not diff.splitlines()[2].startswith("@@ -0,0 ")  # the policy as it is now, not an empty one


def test_an_edit_reports_its_link_its_trails_and_what_became_of_it() -> None:
    link = Link(KEY, KEY_ARN, ACCOUNT, KEY_REGION)
    refused = chain_fix.PolicyEdit(link, (TRAIL,), UNREADABLE, status="refused", reason="not edited: unreadable")
    assert refused.to_dict() == {
        "resource": KEY_ARN,
        "kind": KEY,
        "account": ACCOUNT,
        "region": KEY_REGION,
        "trails": [TRAIL],
        "status": "refused",
        "reason": "not edited: unreadable",
        "diff": "",  # nothing would be written
    }
