"""Normalisation and the plan: pure, table-driven, no AWS."""

from __future__ import annotations

from typing import Any

import pytest

from trailkeeper.errors import InvalidProperties
from trailkeeper.trail import consistency
from trailkeeper.trail.arns import TrailHome
from trailkeeper.trail.normalise import current_view, desired_view, kms_key_arn
from trailkeeper.trail.plan import Change, drift, plan

HOME = TrailHome("aws", "us-east-1", "123456789012", "audit")
KEY_ID = "12345678-1234-1234-1234-123456789012"
KEY_ARN = f"arn:aws:kms:us-east-1:123456789012:key/{KEY_ID}"
MRK = "mrk-1234abcd12ab34cd56ef1234567890ab"
GROUP = "arn:aws:logs:us-east-1:123456789012:log-group:audit"
ROLE = "arn:aws:iam::123456789012:role/ct"
TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:deliveries"
TRAIL: dict[str, Any] = {
    "Name": "audit",
    "TrailARN": "arn:aws:cloudtrail:us-east-1:123456789012:trail/audit",
    "HomeRegion": "us-east-1",
    "S3BucketName": "logs",
    "S3KeyPrefix": "audit",
    "SnsTopicName": "deliveries",  # deprecated in reads; never used
    "SnsTopicARN": TOPIC_ARN,
    "IncludeGlobalServiceEvents": True,
    "IsMultiRegionTrail": True,
    "LogFileValidationEnabled": True,
    "CloudWatchLogsLogGroupArn": GROUP + ":*",
    "CloudWatchLogsRoleArn": ROLE,
    "KmsKeyId": KEY_ARN,
    "IsOrganizationTrail": False,
}


def no_lookup(alias: str) -> str:
    raise AssertionError(f"KMS was asked about {alias} although the strings already decide")


def desired(declared: dict[str, Any], lookup: Any = no_lookup) -> dict[str, Any]:
    current = current_view(TRAIL)
    if "KmsKeyId" in declared:
        declared = dict(declared, KmsKeyId=kms_key_arn(declared["KmsKeyId"], current["KmsKeyId"], HOME, lookup))
    return desired_view(declared, HOME)


def test_the_current_view_uses_read_names_and_defaults() -> None:
    view = current_view(TRAIL)
    assert view["EnableLogFileValidation"] is True
    assert view["SnsTopicName"] == TOPIC_ARN
    assert view["CloudWatchLogsLogGroupArn"] == GROUP
    assert view["RecursiveLogging"] is True  # absent from the read: CloudTrail's default
    assert current_view({"TrailARN": TRAIL["TrailARN"]})["KmsKeyId"] == ""


@pytest.mark.parametrize(
    "declared",
    [
        {"S3BucketName": "logs", "S3KeyPrefix": "audit"},
        {"EnableLogFileValidation": True, "IsMultiRegionTrail": True, "IncludeGlobalServiceEvents": True},
        {"SnsTopicName": "deliveries"},
        {"SnsTopicName": TOPIC_ARN},
        {"CloudWatchLogsLogGroupArn": GROUP, "CloudWatchLogsRoleArn": ROLE},
        {"CloudWatchLogsLogGroupArn": GROUP + ":*", "CloudWatchLogsRoleArn": ROLE},
        {"KmsKeyId": KEY_ARN},
        {"KmsKeyId": KEY_ID},
        {"RecursiveLogging": True},
        {"IsOrganizationTrail": False},
        {},
    ],
    ids=lambda d: ",".join(f"{k}={v}" for k, v in d.items())[:60] or "nothing",
)
def test_equal_settings_in_any_form_plan_nothing(declared: dict[str, Any]) -> None:
    assert plan(desired(declared), current_view(TRAIL), HOME) == {}


def test_an_alias_is_resolved_only_when_the_strings_differ() -> None:
    asked: list[str] = []

    def lookup(alias: str) -> str:
        asked.append(alias)
        return KEY_ARN

    assert plan(desired({"KmsKeyId": "alias/audit"}, lookup), current_view(TRAIL), HOME) == {}
    assert asked == ["alias/audit"]
    trail_with_alias_string = dict(TRAIL, KmsKeyId="alias/audit")  # moto stores what it was sent
    assert (
        kms_key_arn("alias/audit", current_view(trail_with_alias_string)["KmsKeyId"], HOME, no_lookup) == "alias/audit"
    )


def test_an_alias_for_a_trail_without_a_key_is_sent_as_is_without_a_lookup() -> None:
    bare = current_view({"TrailARN": TRAIL["TrailARN"]})
    declared = {"KmsKeyId": kms_key_arn("alias/audit", bare["KmsKeyId"], HOME, no_lookup)}
    assert plan(desired_view(declared, HOME), bare, HOME) == {"KmsKeyId": "alias/audit"}


def test_key_ids_and_mrk_ids_become_arns_in_the_home_region_without_a_lookup() -> None:
    assert kms_key_arn(KEY_ID, "", HOME, no_lookup) == KEY_ARN
    assert kms_key_arn(MRK, "", HOME, no_lookup) == f"arn:aws:kms:us-east-1:123456789012:key/{MRK}"
    assert kms_key_arn("", KEY_ARN, HOME, no_lookup) == ""


def test_a_key_id_is_the_current_key_whatever_account_holds_it() -> None:
    # An organization trail's key is usually the Security account's, not the trail's account's: the id names
    # that one key, so declaring it is in sync (it read as a key of the trail's account: a perpetual drift).
    security = f"arn:aws:kms:us-east-1:444455556666:key/{KEY_ID}"
    assert kms_key_arn(KEY_ID, security, HOME, no_lookup) == security
    other = "arn:aws:kms:us-east-1:444455556666:key/87654321-4321-4321-4321-210987654321"
    assert kms_key_arn(KEY_ID, other, HOME, no_lookup) == KEY_ARN  # another key: the id's key, in the home account


def test_a_different_key_is_sent_as_its_arn() -> None:
    other = "arn:aws:kms:us-east-1:123456789012:key/87654321-4321-4321-4321-210987654321"
    assert plan(desired({"KmsKeyId": "alias/new"}, lambda _: other), current_view(TRAIL), HOME) == {"KmsKeyId": other}


def test_only_what_differs_is_planned() -> None:
    arguments = plan(
        desired({"S3BucketName": "logs", "S3KeyPrefix": "new", "EnableLogFileValidation": False}),
        current_view(TRAIL),
        HOME,
    )
    assert arguments == {"S3KeyPrefix": "new", "EnableLogFileValidation": False}


def test_drift_reports_current_and_desired_in_table_order() -> None:
    changes = drift(desired({"S3KeyPrefix": "", "IsMultiRegionTrail": False}), current_view(TRAIL))
    assert changes == [Change("S3KeyPrefix", "audit", ""), Change("IsMultiRegionTrail", True, False)]


def test_empty_string_and_absent_are_the_same() -> None:
    bare = {"TrailARN": TRAIL["TrailARN"], "S3BucketName": "logs"}
    assert (
        plan(desired_view({"KmsKeyId": "", "SnsTopicName": "", "S3KeyPrefix": ""}, HOME), current_view(bare), HOME)
        == {}
    )
    assert plan(desired_view({"KmsKeyId": ""}, HOME), current_view(TRAIL), HOME) == {"KmsKeyId": ""}


def test_a_topic_of_the_trails_account_and_region_is_sent_by_name_others_by_arn() -> None:
    bare = current_view({"TrailARN": TRAIL["TrailARN"]})
    assert plan(desired_view({"SnsTopicName": TOPIC_ARN}, HOME), bare, HOME) == {"SnsTopicName": "deliveries"}
    foreign = "arn:aws:sns:us-east-1:999999999999:central"
    assert plan(desired_view({"SnsTopicName": foreign}, HOME), bare, HOME) == {"SnsTopicName": foreign}


def test_log_group_and_role_are_sent_together_and_the_group_with_its_star() -> None:
    new_role = "arn:aws:iam::123456789012:role/other"
    arguments = plan(
        desired({"CloudWatchLogsLogGroupArn": GROUP, "CloudWatchLogsRoleArn": new_role}), current_view(TRAIL), HOME
    )
    assert arguments == {"CloudWatchLogsLogGroupArn": GROUP + ":*", "CloudWatchLogsRoleArn": new_role}
    bare = current_view({"TrailARN": TRAIL["TrailARN"]})
    cleared = plan(
        desired_view({"CloudWatchLogsLogGroupArn": "", "CloudWatchLogsRoleArn": ""}, HOME), current_view(TRAIL), HOME
    )
    assert cleared == {"CloudWatchLogsLogGroupArn": "", "CloudWatchLogsRoleArn": ""}
    assert plan(desired_view({"CloudWatchLogsLogGroupArn": "", "CloudWatchLogsRoleArn": ""}, HOME), bare, HOME) == {}


def test_a_setting_cloudtrail_does_not_report_is_always_planned() -> None:
    assert plan({"FutureToggle": True}, current_view(TRAIL), HOME) == {"FutureToggle": True}


def test_drift_lists_settings_in_table_order_whatever_the_declared_order_and_unknown_ones_last() -> None:
    declared: dict[str, str | bool] = {"FutureToggle": True, "IsMultiRegionTrail": False, "S3KeyPrefix": ""}
    assert drift(declared, current_view(TRAIL)) == [
        Change("S3KeyPrefix", "audit", ""),
        Change("IsMultiRegionTrail", True, False),
        Change("FutureToggle", None, True),  # CloudTrail does not report it: always a change
    ]


@pytest.mark.parametrize(
    ("declared", "current", "culprit"),
    [
        ({"IncludeGlobalServiceEvents": False}, {"IsMultiRegionTrail": True}, "IncludeGlobalServiceEvents=false"),
        ({"IsMultiRegionTrail": True}, {"IncludeGlobalServiceEvents": False}, "IsMultiRegionTrail=true"),
        ({"IsMultiRegionTrail": True, "IncludeGlobalServiceEvents": False}, {}, "IncludeGlobalServiceEvents=false"),
    ],
)
def test_a_multi_region_trail_keeps_global_service_events(
    declared: dict[str, Any], current: dict[str, Any], culprit: str
) -> None:
    with pytest.raises(InvalidProperties) as caught:
        consistency.check(declared, current)
    assert caught.value.problems[0].startswith(culprit)


@pytest.mark.parametrize(
    ("declared", "current"),
    [
        ({"IsMultiRegionTrail": True}, {"IncludeGlobalServiceEvents": True}),
        ({"IncludeGlobalServiceEvents": False}, {"IsMultiRegionTrail": False}),
        ({"IsMultiRegionTrail": False, "IncludeGlobalServiceEvents": False}, {"IsMultiRegionTrail": True}),
        ({"S3KeyPrefix": "x"}, {"IsMultiRegionTrail": True, "IncludeGlobalServiceEvents": False}),
    ],
)
def test_consistent_combinations_pass(declared: dict[str, Any], current: dict[str, Any]) -> None:
    consistency.check(declared, current)
