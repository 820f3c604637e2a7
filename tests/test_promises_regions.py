"""Where the provider looks, and what it compares, when the obvious source is missing.

A function without AWS_REGION (a local run, a custom runtime) reads trails in its stack's region; a stack
whose ARN names no account does not count as another account. And what is compared stays exact: only a
log group loses its ':*', and the log group and role are sent together even when only one is given.
"""

from __future__ import annotations

from typing import Any

import pytest
from devkit import world as seeding

from tests.conftest import Invoker, RecordingClients
from trailkeeper.cfn import events
from trailkeeper.trail import arns
from trailkeeper.trail.arns import TrailHome
from trailkeeper.trail.normalise import current_view
from trailkeeper.trail.plan import plan

HOME = TrailHome("aws", "us-east-1", "123456789012", "audit")
GROUP = "arn:aws:logs:us-east-1:123456789012:log-group:audit"
ROLE = "arn:aws:iam::123456789012:role/ct"
TRAIL: dict[str, Any] = {
    "Name": "audit",
    "TrailARN": "arn:aws:cloudtrail:us-east-1:123456789012:trail/audit",
    "S3BucketName": "logs",
    "CloudWatchLogsLogGroupArn": GROUP + ":*",
    "CloudWatchLogsRoleArn": ROLE,
}


def test_without_a_function_region_the_trail_is_read_in_the_stacks_region(
    world: seeding.World, invoke: Invoker, clients: RecordingClients, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeding.add_trail("west-trail", "eu-west-1")
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    stack = "arn:aws:cloudformation:eu-west-1:123456789012:stack/trail-settings/1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d"
    props = {"Name": "west-trail", "EnableLogFileValidation": "true"}
    answer = invoke("create", StackId=stack, ResourceProperties=props)
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert [c.region for c in clients.calls] == ["eu-west-1", "eu-west-1"]


@pytest.mark.parametrize(
    ("stack", "account"),
    [
        ("arn:aws:cloudformation:us-east-1:123456789012:stack/s/1", "123456789012"),
        ("arn:aws:cloudformation:us-east-1:ACCOUNT:stack/s/1", None),  # a template placeholder left in
        ("arn:aws:cloudformation:us-east-1::stack/s/1", None),
        ("stack-without-arn", None),
    ],
)
def test_the_callers_account_is_read_from_the_stack_only_when_it_is_one(stack: str, account: str | None) -> None:
    assert events.caller_account({"StackId": stack}) == account


def test_only_a_log_group_loses_its_star_in_the_comparison() -> None:
    current = current_view(dict(TRAIL, S3KeyPrefix="audit:*"))
    assert current["CloudWatchLogsLogGroupArn"] == GROUP and current["S3KeyPrefix"] == "audit:*"
    assert plan({"S3KeyPrefix": "audit:*"}, current, HOME) == {}


def test_a_changed_log_group_is_sent_with_the_role_the_trail_already_has() -> None:
    other = "arn:aws:logs:us-east-1:123456789012:log-group:other"
    current = current_view(TRAIL)
    assert plan({"CloudWatchLogsLogGroupArn": other}, current, HOME) == {
        "CloudWatchLogsLogGroupArn": other + ":*",
        "CloudWatchLogsRoleArn": ROLE,
    }
    unknown = {"CloudWatchLogsLogGroupArn": "", "CloudWatchLogsRoleArn": None}
    assert plan({"CloudWatchLogsLogGroupArn": other}, unknown, HOME) == {
        "CloudWatchLogsLogGroupArn": other + ":*",
        "CloudWatchLogsRoleArn": "",
    }


def test_any_arn_says_its_region_and_account_even_with_colons_in_its_resource() -> None:
    group = "arn:aws:logs:eu-west-1:111122223333:log-group:audit:*"
    assert (arns.region_of(group), arns.account_of(group)) == ("eu-west-1", "111122223333")
    assert (arns.region_of("not:an:arn"), arns.account_of("")) == ("", "")


def test_a_trail_arn_says_where_the_trail_lives() -> None:
    home = TrailHome.from_arn("arn:aws-cn:cloudtrail:cn-north-1:111122223333:trail/audit")
    assert home == TrailHome("aws-cn", "cn-north-1", "111122223333", "audit")
    with pytest.raises(ValueError, match=r"^not a trail ARN: 'audit'$"):
        TrailHome.from_arn("audit")
