"""The statements `--fix` appends for CloudTrail (audit/chain.py `statements_*`), held to the CloudTrail User Guide.

Each is compared with the policy AWS documents for CloudTrail (the bucket policy, organization trails included;
the KMS key policy with its encryption context `kms:EncryptionContext:aws:cloudtrail:arn`; the SNS topic policy),
scoped with `aws:SourceArn` to the trails that use the link, and then asked the questions a delivery asks: the
trails they were written for get through, any other trail does not, and a policy missing one of them is judged
not to let CloudTrail deliver.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from trailkeeper.audit import chain, chain_fix
from trailkeeper.audit.chain import BUCKET, KEY, LOG_GROUP, ROLE, TOPIC, Delivery, Kind, Link
from trailkeeper.audit.policy import ALLOWED, DENIED, Request, evaluate, parse
from trailkeeper.aws.calls import Deadline

ACCOUNT, OTHER, REGION = "111122223333", "444455556666", "us-east-1"
TRAIL = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/audit"
SECOND = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/data-events"
ELSEWHERE = f"arn:aws:cloudtrail:{REGION}:{OTHER}:trail/audit"  # a trail of another account
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:trail-notices"
ORGANIZATION = "o-abcdefghij"
CLOUDTRAIL = {"Service": "cloudtrail.amazonaws.com"}


def delivery(trail: str = TRAIL, **changes: Any) -> Delivery:
    account = trail.split(":")[4]
    base: dict[str, Any] = {
        "trail": trail,
        "account": account,
        "home_region": REGION,
        "partition": "aws",
        "bucket": "logs",
        "key": KEY_ARN,
        "topic": TOPIC_ARN,
    }
    return Delivery(**{**base, **changes})


def outcomes(statements: list[dict[str, Any]], requests: list[Request]) -> list[str]:
    policy = parse(json.dumps(chain.documented_policy(statements)), "the policy")
    return [evaluate([policy], r).outcome for r in requests]


def source(*trails: str) -> str | list[str]:
    """`aws:SourceArn` as the User Guide writes it: the trail's ARN, a list when several trails share the link."""
    return list(trails) if len(trails) > 1 else trails[0]


# --- what the User Guide documents (create-s3-bucket-policy-for-cloudtrail, create-kms-key-policy-for-cloudtrail,
# configure-sns-notifications-for-cloudtrail), with the Sids that say the statement is trailkeeper's ----------------


def documented_bucket(*trails: str, folders: list[str], bucket: str = "logs") -> list[dict[str, Any]]:
    objects = [f"arn:aws:s3:::{bucket}/{f}*" for f in folders]
    return [
        {
            "Sid": "TrailkeeperCloudTrailAclCheck",
            "Effect": "Allow",
            "Principal": CLOUDTRAIL,
            "Action": "s3:GetBucketAcl",
            "Resource": f"arn:aws:s3:::{bucket}",
            "Condition": {"StringEquals": {"aws:SourceArn": source(*trails)}},
        },
        {
            "Sid": "TrailkeeperCloudTrailWrite",
            "Effect": "Allow",
            "Principal": CLOUDTRAIL,
            "Action": "s3:PutObject",
            "Resource": objects if len(objects) > 1 else objects[0],
            "Condition": {
                "StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": source(*trails)}
            },
        },
    ]


def documented_key(*trails: str, owners: list[str]) -> list[dict[str, Any]]:
    contexts = [f"arn:aws:cloudtrail:*:{owner}:trail/*" for owner in owners]
    return [
        {
            "Sid": "TrailkeeperCloudTrailEncrypt",
            "Effect": "Allow",
            "Principal": CLOUDTRAIL,
            "Action": "kms:GenerateDataKey*",
            "Resource": "*",
            "Condition": {
                "StringLike": {
                    "kms:EncryptionContext:aws:cloudtrail:arn": contexts if len(contexts) > 1 else contexts[0]
                },
                "StringEquals": {"aws:SourceArn": source(*trails)},
            },
        },
        {
            "Sid": "TrailkeeperCloudTrailDescribeKey",
            "Effect": "Allow",
            "Principal": CLOUDTRAIL,
            "Action": "kms:DescribeKey",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceArn": source(*trails)}},
        },
    ]


def documented_topic(*trails: str, topic: str = TOPIC_ARN) -> list[dict[str, Any]]:
    return [
        {
            "Sid": "TrailkeeperCloudTrailPublish",
            "Effect": "Allow",
            "Principal": CLOUDTRAIL,
            "Action": "SNS:Publish",
            "Resource": topic,
            "Condition": {"StringEquals": {"aws:SourceArn": source(*trails)}},
        }
    ]


# --- the statements are the documented ones --------------------------------------------------------------------


def test_the_bucket_statements_are_the_user_guides_acl_check_and_write_scoped_to_the_trail() -> None:
    statements = chain.statements_bucket("logs", "aws", [delivery(prefix="legacy")])
    assert statements == documented_bucket(TRAIL, folders=[f"legacy/AWSLogs/{ACCOUNT}/"])


def test_an_organization_trails_write_covers_the_management_and_the_member_folders() -> None:
    organization = delivery(organization=True, organization_id=ORGANIZATION, validation=True)
    statements = chain.statements_bucket("logs", "aws", [organization])
    assert statements == documented_bucket(TRAIL, folders=[f"AWSLogs/{ACCOUNT}/", f"AWSLogs/{ORGANIZATION}/"])
    requests = [*organization.bucket_requests(), *organization.digest_requests()]
    assert len(requests) == 5  # the ACL check, then a log file and a digest file in each folder
    assert outcomes(statements, requests) == [ALLOWED] * 5


def test_an_organization_trail_whose_organization_is_unknown_gets_no_placeholder_folder() -> None:
    unknown = delivery(organization=True, organization_id="")
    statements = chain.statements_bucket("logs", "aws", [unknown])
    assert statements == documented_bucket(TRAIL, folders=[f"AWSLogs/{ACCOUNT}/"])
    assert "<" not in json.dumps(statements)


def test_the_key_statements_are_the_user_guides_encrypt_in_the_trails_context_and_describe() -> None:
    statements = chain.statements_key(KEY_ARN, [delivery()])
    assert statements == documented_key(TRAIL, owners=[ACCOUNT])  # the context key spelled as the guide spells it


def test_the_topic_statement_is_the_user_guides_publish_scoped_to_the_trail() -> None:
    assert chain.statements_topic(TOPIC_ARN, [delivery()]) == documented_topic(TRAIL)


def test_a_link_shared_by_trails_is_scoped_to_each_of_them() -> None:
    both = [delivery(SECOND), delivery(TRAIL)]
    assert chain.statements_bucket("logs", "aws", both) == documented_bucket(
        TRAIL, SECOND, folders=[f"AWSLogs/{ACCOUNT}/"]
    )
    assert chain.statements_key(KEY_ARN, both) == documented_key(TRAIL, SECOND, owners=[ACCOUNT])
    assert chain.statements_topic(TOPIC_ARN, both) == documented_topic(TRAIL, SECOND)


def test_a_key_shared_by_trails_of_two_accounts_names_each_accounts_encryption_context() -> None:
    both = [delivery(ELSEWHERE), delivery(TRAIL)]
    assert chain.statements_key(KEY_ARN, both) == documented_key(TRAIL, ELSEWHERE, owners=[ACCOUNT, OTHER])


# --- they let exactly the trails they name deliver ---------------------------------------------------------------


def requests_to(kind: Kind, trail: Delivery) -> list[Request]:
    if kind == BUCKET:
        return [*trail.bucket_requests(), *trail.digest_requests()]
    if kind == KEY:
        return trail.key_requests()
    return [trail.topic_request()]


def link(kind: Kind) -> Link:
    every = delivery(
        log_group=f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:trail",
        role=f"arn:aws:iam::{ACCOUNT}:role/CloudTrailToLogs",
    )
    return every.links()[kind]


KINDS: list[Kind] = [BUCKET, KEY, TOPIC]


@pytest.mark.parametrize("kind", KINDS)
def test_the_statements_for_a_link_let_every_request_of_its_trails_through(kind: Kind) -> None:
    trails = [delivery(TRAIL, validation=True), delivery(SECOND, validation=True), delivery(ELSEWHERE, validation=True)]
    statements = chain.statements_for(link(kind), trails)
    for trail in trails:
        requests = requests_to(kind, trail)
        assert outcomes(statements, requests) == [ALLOWED] * len(requests), trail.trail


@pytest.mark.parametrize("kind", KINDS)
def test_another_trail_cannot_use_a_link_through_the_statements_written_for_one(kind: Kind) -> None:
    statements = chain.statements_for(link(kind), [delivery(TRAIL, validation=True)])
    for other in (SECOND, ELSEWHERE):  # the confused deputy aws:SourceArn keeps out, in the account and beyond
        requests = requests_to(kind, delivery(other, validation=True))
        if kind == BUCKET:  # the same folder, so only aws:SourceArn tells the trails apart
            requests = [
                Request(r.action, r.resource.replace(f"/{OTHER}/", f"/{ACCOUNT}/"), r.context, r.absent, what=r.what)
                for r in requests
            ]
        assert outcomes(statements, requests) == [DENIED] * len(requests), other


@pytest.mark.parametrize("kind", KINDS)
def test_a_policy_missing_any_one_of_the_statements_does_not_let_cloudtrail_deliver(kind: Kind) -> None:
    trail = delivery(validation=True)
    statements = chain.statements_for(link(kind), [trail])
    for left_out in range(len(statements)):
        fewer = statements[:left_out] + statements[left_out + 1 :]
        assert DENIED in outcomes(fewer, requests_to(kind, trail)), statements[left_out]["Sid"]


def test_a_policy_missing_the_member_folder_does_not_let_an_organization_trail_deliver() -> None:
    organization = delivery(organization=True, organization_id=ORGANIZATION)
    account_only = documented_bucket(TRAIL, folders=[f"AWSLogs/{ACCOUNT}/"])
    assert outcomes(account_only, organization.bucket_requests()) == [ALLOWED, ALLOWED, DENIED]


def test_a_key_policy_whose_encryption_context_names_another_account_does_not_let_cloudtrail_encrypt() -> None:
    elsewhere = documented_key(TRAIL, owners=[OTHER])
    assert outcomes(elsewhere, delivery().key_requests()) == [DENIED, ALLOWED]


def test_an_appended_fix_turns_a_policy_without_cloudtrail_into_one_that_lets_it_deliver() -> None:
    trail = delivery(validation=True)
    readers = {"Sid": "Readers", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
               "Action": "s3:GetObject", "Resource": "arn:aws:s3:::logs/*"}  # fmt: skip
    text = json.dumps({"Version": "2012-10-17", "Statement": [readers]})
    before = [evaluate([parse(text)], r).outcome for r in requests_to(BUCKET, trail)]
    after_text = chain_fix.append(text, chain.statements_for(link(BUCKET), [trail]))
    after = [evaluate([parse(after_text)], r).outcome for r in requests_to(BUCKET, trail)]
    assert before == [DENIED] * 3 and after == [ALLOWED] * 3


def test_a_role_and_a_log_group_are_never_given_statements() -> None:
    assert chain.statements_for(link(ROLE), [delivery()]) == []
    assert chain.statements_for(link(LOG_GROUP), [delivery()]) == []


# --- the publish request ----------------------------------------------------------------------------------------


def guarded_topic(excepting_services: bool) -> list[dict[str, Any]]:
    """The documented topic statement beside a Deny of principals outside the organization."""
    condition: dict[str, Any] = {"StringNotEquals": {"aws:PrincipalOrgID": ORGANIZATION}}
    if excepting_services:
        condition["Bool"] = {"aws:PrincipalIsAWSService": "false"}
    outside = {"Sid": "DenyOutside", "Effect": "Deny", "Principal": "*", "Action": "SNS:Publish",
               "Resource": TOPIC_ARN, "Condition": condition}  # fmt: skip
    return [*documented_topic(TRAIL), outside]


def test_a_topic_deny_of_principals_outside_the_organization_stops_cloudtrail_unless_it_excepts_aws_services() -> None:
    publish = delivery().topic_request()
    assert outcomes(guarded_topic(excepting_services=False), [publish]) == [DENIED]
    assert outcomes(guarded_topic(excepting_services=True), [publish]) == [ALLOWED]


def test_a_topic_policy_without_cloudtrails_grant_says_the_publish_is_refused() -> None:
    policy = parse({"Statement": []}, "the policy of topic trail-notices")
    decision = evaluate([policy], delivery().topic_request())
    assert decision.outcome == DENIED
    assert decision.reason == "Publish to the topic: the policy of topic trail-notices does not allow it"


# --- plan: what --fix would write, and what it refuses (audit/chain_fix.py) ----------------------------------------


def resource(kind: Kind, text: str | None, policies: tuple[Any, ...] | None = None) -> chain.Resource:
    parsed = (parse(text or '{"Statement": []}', f"the policy of {kind}"),) if policies is None else policies
    return chain.Resource(link(kind), policies=parsed, text=text)


def planned(kind: Kind, text: str | None, *trails: str, policies: tuple[Any, ...] | None = None) -> list[Any]:
    found = resource(kind, text, policies)
    failing = [(t, {"PolicyOf": found.link.arn, "Kind": kind}) for t in trails]
    deliveries = {t: delivery(t) for t in trails}
    return chain_fix.plan(failing, deliveries, {t: {kind: found} for t in trails})


def test_a_plan_names_each_trail_once_in_the_order_they_failed() -> None:
    (edit,) = planned(BUCKET, None, SECOND, TRAIL, SECOND)
    assert (edit.status, edit.trails, edit.before, edit.reason) == ("planned", (SECOND, TRAIL), None, "")
    statements = json.loads(edit.after)["Statement"]
    assert statements == chain.statements_for(link(BUCKET), [delivery(SECOND), delivery(TRAIL)])


def test_a_policy_that_cannot_be_read_is_refused_naming_why() -> None:
    text = '{"Statement": "everything"'
    (edit,) = planned(TOPIC, text, TRAIL)
    problem = parse(text, f"the policy of {TOPIC}").problem
    assert problem
    assert (edit.status, edit.trails, edit.before, edit.after) == ("refused", (TRAIL,), text, "")
    assert edit.reason == f"not edited: {problem} (it could hold anything: a person must fix it)"
    assert edit.to_dict()["diff"] == ""


def test_a_policy_without_a_statement_to_append_to_is_refused() -> None:
    text = '{"Version": "2012-10-17"}'
    (edit,) = planned(BUCKET, text, TRAIL, policies=())
    assert (edit.status, edit.before, edit.after) == ("refused", text, "")
    assert edit.reason == f"not edited: the policy of {link(BUCKET).arn} it has no Statement to append to"


@pytest.mark.parametrize(("kind", "limit"), [(BUCKET, 20 * 1024), (KEY, 32 * 1024), (TOPIC, 30 * 1024)])
def test_a_policy_that_would_pass_what_aws_takes_is_refused_and_one_just_under_is_not(kind: Kind, limit: int) -> None:
    added = len(chain_fix.append('{"Statement": []}', chain.statements_for(link(kind), [delivery()])).encode()) - 17

    def text(size: int) -> str:
        padding = size - added - len('{"Statement": [], "Padding": ""}')
        return '{"Statement": [], "Padding": "' + "x" * padding + '"}'

    (fits,) = planned(kind, text(limit), TRAIL)
    assert fits.status == "planned" and len(fits.after.encode()) == limit
    (over,) = planned(kind, text(limit + 1), TRAIL)
    assert (over.status, over.after) == ("refused", "")
    assert (
        over.reason
        == f"not edited: with CloudTrail's statements the policy would pass {limit} bytes, the most AWS takes"
    )


class _Unreachable:
    """Clients for a write that must not be made: any call fails the test."""

    def client(self, service: str, region: str) -> Any:
        return self

    def kms(self, region: str) -> Any:
        return self

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"{name} called with no time left")


@pytest.mark.parametrize(
    ("kind", "operation"), [(BUCKET, "PutBucketPolicy"), (KEY, "PutKeyPolicy"), (TOPIC, "SetTopicAttributes")]
)
def test_an_edit_with_no_time_left_fails_naming_the_write_it_could_not_make(kind: Kind, operation: str) -> None:
    (edit,) = planned(kind, None if kind == BUCKET else '{"Statement": []}', TRAIL)
    (done,) = chain_fix.apply([edit], lambda account: _Unreachable(), Deadline(0.0))  # type: ignore[arg-type,return-value]
    assert (done.status, done.after) == ("failed", edit.after)
    assert done.reason == f"OutOfTime: no time left to call {operation}; raise the function's timeout and retry"
