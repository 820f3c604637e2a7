"""What a rollback does for each way the Update can fail, and what CloudFormation is answered.

tests/test_rollback.py walks the main story (a strengthening update rolled back, a refused rollback, a
failed write). These are the other cases a stack owner meets: the old settings weaken audit *and* the
write fails; the properties cannot even be read; the trail has a topic, or none; the resource's physical
id names no trail. In every case the answer is SUCCESS (a FAILED one would leave the stack in
UPDATE_ROLLBACK_FAILED), and its attributes are those of the trail the resource keeps, so that `!GetAtt`s
still resolve. The stack lives in moto's CloudFormation (tests/conftest.py's `stack`); the answers
go to the local HTTPS stand-in for CloudFormation.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import boto3
import pytest
from devkit import fidelity
from devkit import world as seeding
from devkit.recording import RecordingClients

from tests.conftest import Invoker, failure_codes, metric_lines, set_stack_status
from trailkeeper.cfn import events
from trailkeeper.cfn.resource import plan_summary
from trailkeeper.engine import Outcome
from trailkeeper.trail.aspect import Call, Change

ARN = "arn:aws:cloudtrail:us-east-1:123456789012:trail/audit-trail"
TOKEN = "arn:aws:lambda:us-east-1:123456789012:function:tk"
WEAK = {"ServiceToken": TOKEN, "Name": "audit-trail", "EnableLogFileValidation": "false"}
STRONG = {**WEAK, "EnableLogFileValidation": "true"}
FAILED_CREATE = "trailkeeper-failed-create-0b7a1c52-1f0e-4a47-9d7b-5c0e4e3b0a01"  # the id a failed Create answers
REFUSED = "InsufficientS3BucketPolicyException"


def trail() -> dict[str, Any]:
    return dict(boto3.client("cloudtrail", region_name="us-east-1").get_trail(Name=ARN)["Trail"])


def roll_back(
    invoke: Invoker, stack: str, old: Mapping[str, str], failed: Mapping[str, str], physical_id: str = ARN
) -> dict[str, Any]:
    """CloudFormation rolling `stack` back: the Update that brings the `old` properties back over the `failed` ones."""
    set_stack_status(stack, events.ROLLING_BACK)
    return invoke(
        "update",
        StackId=stack,
        PhysicalResourceId=physical_id,
        ResourceProperties=dict(old),
        OldResourceProperties=dict(failed),
    )


def attributes(arn: str = ARN, topic: str = "") -> dict[str, str]:
    """The Data of a rollback that put nothing back: the trail's attributes, nothing changed."""
    return {"TrailArn": arn, "HomeRegion": "us-east-1", "SnsTopicArn": topic, "ChangedProperties": ""}


def logged(printed: str, words: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in printed.splitlines() if words in line]


# --- the old settings cannot be put back: SUCCESS all the same, the trail's attributes kept --------------


def test_a_rollback_to_weaker_settings_whose_write_fails_answers_success_and_logs_the_write_failure(
    stack: str, invoke: Invoker, capsys: pytest.CaptureFixture[str]
) -> None:
    invoke("create", StackId=stack, ResourceProperties=STRONG)
    capsys.readouterr()
    with fidelity.refusing("UpdateTrail", REFUSED):
        answer = roll_back(invoke, stack, old=WEAK, failed=STRONG)
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["PhysicalResourceId"] == ARN and answer["Data"] == attributes()
    assert trail()["LogFileValidationEnabled"] is True  # not put back: CloudTrail refused the write
    printed = capsys.readouterr().out
    # What failed is the write, not the weakening the rollback is allowed to make.
    (error,) = logged(printed, "could not be put back")
    assert error["error_code"] == REFUSED
    assert failure_codes(printed) == [REFUSED]
    assert not logged(printed, "they weaken audit")
    assert not any("RollbackWeakened" in metric for metric in metric_lines(printed))


def test_a_rollback_write_that_cloudtrail_refuses_is_not_sent_again(
    stack: str, invoke: Invoker, clients: RecordingClients
) -> None:
    # Only a refused weakening is planned again (allowed, in a rollback); a refused write would be refused again.
    invoke("create", StackId=stack, ResourceProperties={**WEAK, "S3KeyPrefix": "new"})
    writes_before = len(clients.named("UpdateTrail"))
    with fidelity.refusing("UpdateTrail", REFUSED):
        answer = roll_back(invoke, stack, old={**WEAK, "S3KeyPrefix": "old"}, failed={**WEAK, "S3KeyPrefix": "new"})
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert len(clients.named("UpdateTrail")) == writes_before + 1
    assert trail()["S3KeyPrefix"] == "new"


def test_a_rollback_whose_write_fails_answers_the_trails_topic(
    world: seeding.World, stack: str, invoke: Invoker
) -> None:
    boto3.client("cloudtrail", region_name="us-east-1").update_trail(Name=ARN, SnsTopicName=seeding.TOPIC)
    invoke("create", StackId=stack, ResourceProperties={**WEAK, "S3KeyPrefix": "new"})
    with fidelity.refusing("UpdateTrail", REFUSED):
        answer = roll_back(invoke, stack, old={**WEAK, "S3KeyPrefix": "old"}, failed={**WEAK, "S3KeyPrefix": "new"})
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["Data"] == attributes(topic=world.topic_arn)


def test_a_rollback_whose_write_fails_answers_an_empty_topic_for_a_trail_without_one(
    stack: str, invoke: Invoker
) -> None:
    invoke("create", StackId=stack, ResourceProperties={**WEAK, "S3KeyPrefix": "new"})
    assert "SnsTopicARN" not in trail()
    with fidelity.refusing("UpdateTrail", REFUSED):
        answer = roll_back(invoke, stack, old={**WEAK, "S3KeyPrefix": "old"}, failed={**WEAK, "S3KeyPrefix": "new"})
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["Data"] == attributes(topic="")


def test_a_rollback_to_properties_that_cannot_be_read_answers_the_attributes_of_the_trail_its_id_names(
    stack: str, invoke: Invoker
) -> None:
    # The function was updated with stricter rules: the old properties no longer parse, so no trail is
    # located; the physical id (the trail's ARN) still says which trail the resource keeps.
    answer = roll_back(invoke, stack, old={**WEAK, "Unknown": "x"}, failed=WEAK)
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["PhysicalResourceId"] == ARN
    assert answer["Data"] == attributes()


def test_a_rollback_of_a_resource_whose_id_names_no_trail_answers_the_trail_its_properties_name(
    stack: str, invoke: Invoker
) -> None:
    # A physical id that is no ARN (here the one a failed Create answers): a rollback that locates the trail
    # but cannot write to it answers that trail's attributes, and keeps the id CloudFormation knows.
    with fidelity.refusing("UpdateTrail", REFUSED):
        answer = roll_back(invoke, stack, old={**WEAK, "S3KeyPrefix": "old"}, failed=WEAK, physical_id=FAILED_CREATE)
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["PhysicalResourceId"] == FAILED_CREATE
    assert answer["Data"] == attributes()


def test_a_rollback_that_names_no_trail_at_all_answers_no_trail_attributes(stack: str, invoke: Invoker) -> None:
    # Neither readable properties nor an ARN as physical id: no attribute would be true, so none is given.
    answer = roll_back(invoke, stack, old={**WEAK, "Unknown": "x"}, failed=WEAK, physical_id=FAILED_CREATE)
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["PhysicalResourceId"] == FAILED_CREATE
    assert answer["Data"] == {}


# --- which stack is asked ------------------------------------------------------------------------------


def test_an_event_naming_its_stack_by_name_asks_the_functions_own_region(
    stack: str, invoke: Invoker, clients: RecordingClients, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A hand-written event may give the stack's name, which says no region; a runtime may set only
    # AWS_REGION (the SDK's own default, AWS_DEFAULT_REGION, unset). The function's region is asked.
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    set_stack_status(stack, events.ROLLING_BACK)
    answer = invoke(
        "update",
        StackId="trail-settings",
        PhysicalResourceId=ARN,
        ResourceProperties={**WEAK, "Unknown": "x"},
        OldResourceProperties=WEAK,
    )
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["Data"] == attributes()
    assert [call.region for call in clients.named("DescribeStacks")] == ["us-east-1"]


# --- plan_summary, the DryRun answer's Plan: the one case the engine's plans never reach ----------------


def test_a_planned_call_that_changes_no_listed_setting_is_shown_by_its_name_alone() -> None:
    calls = (Call("StartLogging", {}, 6, ()), Call("UpdateTrail", {}, 2, ("S3KeyPrefix",)))
    outcome = Outcome(ARN, "us-east-1", (Change("S3KeyPrefix", "new", "old"),), calls, False, "")
    assert plan_summary(outcome) == "StartLogging; UpdateTrail: S3KeyPrefix new -> old"
