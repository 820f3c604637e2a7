"""A stack must never get stuck on rollback (issue 15, item 5).

Create {EnableLogFileValidation: false} -> Update to true (SUCCESS) -> another resource fails ->
CloudFormation sends the rollback Update (ResourceProperties = old, OldResourceProperties = the failed
new ones). Only the stack's status (DescribeStacks: UPDATE_ROLLBACK_IN_PROGRESS) says it is a rollback.
The stack lives in moto's CloudFormation (tests/conftest.py's `stack`); the answers go to the local
HTTPS stand-in for CloudFormation.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from devkit import fidelity
from devkit import world as seeding

from tests.conftest import Invoker, RecordingClients, failure_codes, metric_lines, set_stack_status
from trailkeeper.cfn import events

ARN = "arn:aws:cloudtrail:us-east-1:123456789012:trail/audit-trail"
TOKEN = "arn:aws:lambda:us-east-1:123456789012:function:tk"
WEAK = {"ServiceToken": TOKEN, "Name": "audit-trail", "EnableLogFileValidation": "false"}
STRONG = {**WEAK, "EnableLogFileValidation": "true"}


def validation() -> bool:
    trail = boto3.client("cloudtrail", region_name="us-east-1").get_trail(Name=ARN)["Trail"]
    return bool(trail["LogFileValidationEnabled"])


def request(invoke: Invoker, kind: str, stack_id: str, new: dict[str, str], old: dict[str, str]) -> dict[str, Any]:
    extra: dict[str, Any] = {"StackId": stack_id, "ResourceProperties": new}
    if kind == "update":
        extra.update(PhysicalResourceId=ARN, OldResourceProperties=old)
    return invoke(kind, **extra)


def stack_reads(clients: RecordingClients) -> int:
    return len(clients.named("DescribeStacks"))


def test_rolling_back_a_strengthening_update_puts_the_old_settings_back_and_answers_success(
    stack: str, invoke: Invoker, clients: RecordingClients, capsys: pytest.CaptureFixture[str]
) -> None:
    assert request(invoke, "create", stack, WEAK, {})["Status"] == "SUCCESS"
    set_stack_status(stack, "UPDATE_IN_PROGRESS")
    assert request(invoke, "update", stack, STRONG, WEAK)["Status"] == "SUCCESS"
    assert validation() is True
    assert stack_reads(clients) == 0  # an Update that succeeds never asks
    capsys.readouterr()

    set_stack_status(stack, events.ROLLING_BACK)  # another resource failed: CloudFormation rolls back
    answer = request(invoke, "update", stack, WEAK, STRONG)
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["PhysicalResourceId"] == ARN and answer["Data"]["TrailArn"] == ARN
    assert answer["Data"]["ChangedProperties"] == "EnableLogFileValidation"
    assert validation() is False  # the settings the owner deployed before are back
    assert stack_reads(clients) == 1
    printed = capsys.readouterr().out
    (warning,) = [json.loads(line) for line in printed.splitlines() if "weaken audit" in line]
    assert warning["level"] == "WARNING"
    assert warning["weakened"] == ["EnableLogFileValidation true -> false (weakens Security Hub CloudTrail.4, CIS 4.2)"]
    assert any("RollbackWeakened" in metric for metric in metric_lines(printed))


def test_the_same_weakening_in_an_ordinary_update_is_still_refused(
    stack: str, invoke: Invoker, clients: RecordingClients
) -> None:
    request(invoke, "create", stack, STRONG, {})
    set_stack_status(stack, "UPDATE_IN_PROGRESS")
    answer = request(invoke, "update", stack, WEAK, STRONG)
    assert answer["Status"] == "FAILED"
    assert answer["Reason"].startswith("WeakensAudit: allow it with AllowWeakening: [EnableLogFileValidation]")
    assert validation() is True and stack_reads(clients) == 1


def test_when_the_stack_cannot_be_read_the_update_is_refused_and_the_reason_says_why(
    stack: str, invoke: Invoker, clients: RecordingClients
) -> None:
    request(invoke, "create", stack, STRONG, {})
    set_stack_status(stack, events.ROLLING_BACK)
    stubber = clients.stub("cloudformation", "us-east-1")
    stubber.add_client_error("describe_stacks", "AccessDenied", "not authorized to perform DescribeStacks")
    answer = request(invoke, "update", stack, WEAK, STRONG)
    assert answer["Status"] == "FAILED"  # today's answer: it cannot be told a rollback
    assert answer["Reason"].startswith(
        "WeakensAudit: could not tell whether the stack is rolling back (DescribeStacks: AccessDenied); "
        "allow it with AllowWeakening: [EnableLogFileValidation]"
    )
    assert validation() is True
    stubber.assert_no_pending_responses()


def test_an_update_of_a_stack_that_does_not_exist_is_an_ordinary_one(
    world: seeding.World, invoke: Invoker, clients: RecordingClients
) -> None:
    # `sam local invoke -e events/weaken.json`: no stack, so nothing is rolling back; the reason is today's.
    boto3.client("cloudtrail", region_name="us-east-1").update_trail(Name=ARN, EnableLogFileValidation=True)
    answer = invoke("weaken")
    assert answer["Status"] == "FAILED" and answer["Reason"].startswith("WeakensAudit: allow it with")
    assert stack_reads(clients) == 1


def test_a_rollback_whose_write_fails_still_answers_success_and_says_so_in_logs_and_metrics(
    stack: str, invoke: Invoker, clients: RecordingClients, capsys: pytest.CaptureFixture[str]
) -> None:
    request(invoke, "create", stack, {**WEAK, "S3KeyPrefix": "legacy"}, {})
    set_stack_status(stack, events.ROLLING_BACK)
    capsys.readouterr()
    with fidelity.refusing("UpdateTrail", "InsufficientS3BucketPolicyException"):
        answer = request(invoke, "update", stack, {**WEAK, "S3KeyPrefix": "old"}, {**WEAK, "S3KeyPrefix": "legacy"})
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert (answer["PhysicalResourceId"], answer["Data"]["TrailArn"]) == (ARN, ARN)
    assert answer["Data"]["HomeRegion"] == "us-east-1"
    printed = capsys.readouterr().out
    (error,) = [json.loads(line) for line in printed.splitlines() if "could not be put back" in line]
    assert error["level"] == "ERROR" and error["error_code"] == "InsufficientS3BucketPolicyException"
    assert error["reason"].startswith("InsufficientS3BucketPolicyException: the policy of bucket")
    assert any("RollbackNotRestored" in metric for metric in metric_lines(printed))
    assert failure_codes(printed) == ["InsufficientS3BucketPolicyException"]


def test_a_rollback_that_new_rules_would_refuse_still_answers_success(
    stack: str, invoke: Invoker, clients: RecordingClients
) -> None:
    # The failed update may have shipped stricter validation with the function: the old properties it
    # brings back are not refused as invalid in a rollback, or the stack would be stuck.
    set_stack_status(stack, events.ROLLING_BACK)
    answer = request(invoke, "update", stack, {**WEAK, "Unknown": "x"}, WEAK)
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["PhysicalResourceId"] == ARN


def test_a_failed_create_never_asks_for_the_stack(stack: str, invoke: Invoker, clients: RecordingClients) -> None:
    set_stack_status(stack, events.ROLLING_BACK)
    assert request(invoke, "create", stack, {**WEAK, "Unknown": "x"}, {})["Status"] == "FAILED"
    assert stack_reads(clients) == 0
