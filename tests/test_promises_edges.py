"""Edges of the documented rules that real templates and real accounts reach, each at its limit.

Roles with a path (CloudTrail's log delivery role is often `role/service-role/...`), names at their
maximum length and one past it, the reserved bucket prefixes and suffixes, a log group ARN followed by
junk, and direct invocations that do not say which account they run in, or run in a member account
against an organization trail.
"""

from __future__ import annotations

from typing import Any

import pytest
from devkit import world as seeding
from devkit.lambda_context import LambdaContext

from tests.conftest import RecordingClients
from trailkeeper import handler
from trailkeeper.errors import InvalidProperties, show
from trailkeeper.invocations import direct_run as direct
from trailkeeper.trail import declaration, rules

GROUP = "arn:aws:logs:us-east-1:123456789012:log-group:audit"


def problems(**props: Any) -> list[str]:
    try:
        declaration.parse({"Name": "audit", **props})
    except InvalidProperties as error:
        return list(error.problems)
    return []


@pytest.mark.parametrize(
    "role",
    [
        "arn:aws:iam::123456789012:role/service-role/CloudTrailRoleForCloudWatchLogs_audit",
        "arn:aws:iam::123456789012:role/a/b/c/ct+logs=1,x.y@z-w",
        "arn:aws-us-gov:iam::123456789012:role/ct",
        "arn:aws:iam::123456789012:role/" + "r" * 64,
    ],
)
def test_roles_with_a_path_or_at_their_limits_are_valid(role: str) -> None:
    assert problems(CloudWatchLogsLogGroupArn=GROUP, CloudWatchLogsRoleArn=role) == []


@pytest.mark.parametrize(
    "role",
    [
        "arn:aws:iam::123456789012:role/" + "r" * 65,
        "arn:aws:iam::123456789012:role/",
        "arn:aws:iam::123456789012:role/path/",
        "arn:aws:iam::12345678901:role/ct",
        "arn:aws:iam:us-east-1:123456789012:role/ct",
        "arn:aws:iam::123456789012:user/ct",
        "arn:aws:iam::123456789012:role/ct ",
    ],
)
def test_roles_that_are_not_role_arns_are_refused(role: str) -> None:
    problem, pair = problems(CloudWatchLogsLogGroupArn=GROUP, CloudWatchLogsRoleArn=role)
    assert pair.startswith("CloudWatchLogsLogGroupArn: declare CloudWatchLogsRoleArn with it")
    assert problem.startswith("CloudWatchLogsRoleArn=") and problem.endswith(
        ": an IAM role ARN is arn:PARTITION:iam::ACCOUNT:role/NAME"
    )


@pytest.mark.parametrize(
    "bucket",
    [
        "a" * 63,
        "abc",
        "my.bucket-1",
        "1bucket9",
        "s3alias-logs",
        "ol-s3-logs",
        "logs-xn--x",
        "logs-sthree-x",
        "logs-amzn-s3-demo",
        "mrap-logs",
        "logs-x-s3",
        "table-s3-logs",
    ],
)
def test_buckets_at_their_limits_are_valid(bucket: str) -> None:
    assert problems(S3BucketName=bucket) == []


@pytest.mark.parametrize(
    "bucket",
    [
        "a" * 64,
        "ab",
        "xn--logs",
        "sthree-logs",
        "sthree-configurator",
        "logs-s3alias",
        "logs--ol-s3",
        "amzn-s3-demo-bucket",
        "logs.mrap",
        "logs--x-s3",
        "logs--table-s3",
        "192.168.5.4",
        "my..bucket",
        "-logs",
        "logs-",
        ".logs",
        "Logs",
        "logs_1",
    ],
)
def test_buckets_that_break_a_documented_rule_are_refused(bucket: str) -> None:
    assert problems(S3BucketName=bucket) == [f"S3BucketName={show(bucket)}: {rules.BUCKET_RULE}"]


def test_a_key_prefix_is_at_most_200_characters() -> None:
    assert problems(S3KeyPrefix="p" * 200) == []
    assert problems(S3KeyPrefix="p" * 201) == [
        f"S3KeyPrefix='{'p' * 57}...': an S3 key prefix is at most 200 characters"
    ]


def test_a_topic_of_256_characters_is_valid_and_257_is_not() -> None:
    assert problems(SnsTopicName="t" * 256) == []
    assert problems(SnsTopicName="arn:aws:sns:us-east-1:123456789012:" + "t" * 221) == []  # 256 in all
    (too_long,) = problems(SnsTopicName="t" * 257)
    assert too_long.endswith(": an SNS topic name or ARN is at most 256 characters")
    (arn_too_long,) = problems(SnsTopicName="arn:aws:sns:us-east-1:123456789012:" + "t" * 222)
    assert arn_too_long.endswith(": an SNS topic name or ARN is at most 256 characters")


@pytest.mark.parametrize(
    ("topic", "rule"),
    [
        ("my.topic", "an SNS topic name is 1-256 letters, digits, '-' or '_' (or give the topic's ARN)"),
        ("arn:aws:sns:us-east-1:123456789012:", "an SNS topic ARN is arn:PARTITION:sns:REGION:ACCOUNT:NAME"),
        ("arn:aws:sns:us-east-1:123456789012:t/x", "an SNS topic ARN is arn:PARTITION:sns:REGION:ACCOUNT:NAME"),
    ],
)
def test_topics_that_break_the_rule_say_which_rule(topic: str, rule: str) -> None:
    assert problems(SnsTopicName=topic) == [f"SnsTopicName={topic!r}: {rule}"]


@pytest.mark.parametrize("group", [GROUP, GROUP + ":*", "arn:aws:logs:us-east-1:123456789012:log-group:/aws/x.y#z_1-2"])
def test_log_group_arns_with_or_without_the_star_are_valid(group: str) -> None:
    assert rules.log_group_arn(group) is None


@pytest.mark.parametrize(
    "group",
    [
        GROUP + ":*junk",
        GROUP + ":* ",
        GROUP + ":",
        GROUP + " trailing",
        "arn:aws:logs:us-east-1:123456789012:log-group:",
        "arn:aws:logs:us-east-1:123456789012:log-group:" + "g" * 513,
        "x" + GROUP,
    ],
)
def test_a_log_group_arn_followed_or_preceded_by_junk_is_refused(group: str) -> None:
    assert rules.log_group_arn(group) == (
        "a CloudWatch Logs group ARN is arn:PARTITION:logs:REGION:ACCOUNT:log-group:NAME, with or without ':*'"
    )


@pytest.mark.parametrize(
    "key",
    [
        "alias/audit",
        "alias/" + "a" * 250,
        "arn:aws:kms:us-east-1:123456789012:alias/audit",
        "12345678-1234-1234-1234-123456789012",
        "mrk-1234abcd12ab34cd56ef1234567890ab",
        "arn:aws:kms:us-east-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab",
    ],
)
def test_every_documented_form_of_a_kms_key_is_valid(key: str) -> None:
    assert rules.kms_key(key) is None


@pytest.mark.parametrize(
    "key",
    ["alias/" + "a" * 251, "audit", "alias/", "12345678-1234-1234-1234-12345678901", "mrk-1234", "alias/a b"],
)
def test_anything_else_is_not_a_kms_key(key: str) -> None:
    assert rules.kms_key(key) == (
        "a KMS key is alias/NAME, an alias ARN, a key ARN, a key id (UUID) or a multi-Region key id (mrk-...)"
    )


@pytest.mark.parametrize(
    "name",
    ["abc", "a" * 128, "a.b_c-d", "arn:aws:cloudtrail:us-east-1:123456789012:trail/audit", "1.2.3.x"],
)
def test_trail_names_at_their_limits_are_valid(name: str) -> None:
    assert rules.trail_name_or_arn(name) is None


@pytest.mark.parametrize(
    "name",
    ["ab", "a" * 129, "a..b", "a._b", "-abc", "abc_", "10.0.0.1", "::1", "a b c"],
)
def test_trail_names_that_break_the_rule_are_refused(name: str) -> None:
    assert rules.trail_name_or_arn(name) == rules.TRAIL_NAME_RULE


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:cloudtrail:us-east-1:123456789012:trail/ab",
        "arn:aws:cloudtrail:us-east-1:123456789012:trail/",
        "arn:aws:cloudtrail:us-east-1:123456789012:audit",
        "arn:aws:cloudtrail::123456789012:trail/audit",
    ],
)
def test_trail_arns_name_their_shape_and_the_name_rule(arn: str) -> None:
    assert rules.trail_name_or_arn(arn) == (
        f"a trail ARN is arn:PARTITION:cloudtrail:REGION:ACCOUNT:trail/NAME, where {rules.TRAIL_NAME_RULE}"
    )


class ContextWithoutArn:
    """A context that says how much time is left but not which function (and so which account) runs."""

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


ORG_TRAIL = {
    "Name": "org-trail",
    "TrailARN": "arn:aws:cloudtrail:us-east-1:999999999999:trail/org-trail",
    "HomeRegion": "us-east-1",
    "IsOrganizationTrail": True,
    "IsMultiRegionTrail": True,
    "S3BucketName": "org-logs",
}


@pytest.fixture
def direct_clients(world: seeding.World, clients: RecordingClients, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(direct, "clients", lambda: clients)
    return clients


@pytest.mark.parametrize("context", [None, ContextWithoutArn()], ids=["no context", "no function ARN"])
def test_a_direct_invocation_that_does_not_say_its_account_still_plans(
    direct_clients: RecordingClients, context: Any
) -> None:
    event = {"action": "plan", "trails": [{"Name": "audit-trail", "EnableLogFileValidation": True}]}
    result = direct.handle(event, context)
    assert result["summary"]["drifted"] == 1 and result["trails"][0]["status"] == "drifted"
    assert direct_clients.named("UpdateTrail") == []


def test_a_direct_invocation_from_a_member_account_refuses_the_organization_trail(
    direct_clients: RecordingClients,
) -> None:
    stubber = direct_clients.stub("cloudtrail", "us-east-1")
    stubber.add_response("describe_trails", {"trailList": [ORG_TRAIL]})
    event = {"action": "apply", "trails": [{"Name": "org-trail", "EnableLogFileValidation": True}]}
    result = handler.lambda_handler(event, LambdaContext())  # runs in account 123456789012
    (trail,) = result["trails"]
    assert trail["status"] == "failed" and trail["error"]["code"] == "NotChangeableHere"
    assert "organization trail of management account 999999999999" in trail["error"]["reason"]
    assert direct_clients.named("UpdateTrail") == []
    stubber.assert_no_pending_responses()
