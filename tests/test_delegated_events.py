"""The Lambda's runs from CloudTrail's delegated administrator: direct and scheduled runs, and the event-driven
repair of the organization trail when the management account changes it (its event is recorded there, in the
account that made the call: examples/management-account/forward-trail-changes.yaml forwards it, as is, to the
delegated administrator's default bus, where the provider stack's rule hands it to the function)."""

from __future__ import annotations

import copy
import json
from typing import Any

import boto3
import jsonschema
import pytest
from devkit import events, organization
from devkit.lambda_context import LambdaContext

from tests.conftest import RecordingClients
from tests.test_delegated_resource import by_name, writes
from trailkeeper import handler
from trailkeeper.fleet import change_event, report, request
from trailkeeper.invocations import direct_run as direct

STATE = {"trails": [{"Name": "org-*", "IsLogging": True, "EnableLogFileValidation": True}]}
PARAMETER = "/trailkeeper/desired-state"


class AdministratorContext(LambdaContext):
    """The provider's function deployed in the delegated administrator's account."""

    def __init__(self, account: str) -> None:
        super().__init__()
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:{account}:function:{self.function_name}"


@pytest.fixture
def function(
    delegated: organization.Delegated, administrator_clients: RecordingClients, monkeypatch: pytest.MonkeyPatch
) -> RecordingClients:
    """The function in the delegated administrator's account, its declared state in SSM there, its stack set up
    as the administrator's (template.yaml's TRAILKEEPER_DELEGATED_ADMINISTRATOR), its own role named."""
    session = organization.session_in(delegated.administrator)
    session.client("ssm", region_name="us-east-1").put_parameter(Name=PARAMETER, Value=json.dumps(STATE), Type="String")
    monkeypatch.setenv(request.STATE_PARAMETER, PARAMETER)
    monkeypatch.setenv("TRAILKEEPER_DELEGATED_ADMINISTRATOR", "true")
    monkeypatch.setenv(
        change_event.ROLE_ARN, f"arn:aws:iam::{delegated.administrator}:role/trailkeeper-TrailSettingsRole-1A2B3C"
    )
    monkeypatch.setattr(direct, "clients", lambda: administrator_clients)
    return administrator_clients


def invoke(event: Any, delegated: organization.Delegated) -> dict[str, Any]:
    result = handler.lambda_handler(event, AdministratorContext(delegated.administrator))
    jsonschema.validate(result, report.SCHEMA)
    return result


def owner() -> Any:
    return boto3.client("cloudtrail", region_name="us-east-1")


@pytest.mark.parametrize(
    "event",
    [
        {"action": "apply"},
        {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}},
        {"action": "apply", "trails": STATE["trails"]},
    ],
    ids=["direct", "scheduled", "inline"],
)
def test_direct_and_scheduled_runs_fix_the_organization_trail_by_arn(
    delegated: organization.Delegated, function: RecordingClients, event: dict[str, Any]
) -> None:
    result = invoke(event, delegated)
    assert [(t["trail_arn"], t["status"]) for t in result["trails"]] == [(delegated.trail_arn, "fixed")]
    assert writes(function.calls) == ["UpdateTrail", "StartLogging"] and by_name(function.calls) == []
    assert owner().get_trail_status(Name=delegated.trail_arn)["IsLogging"] is True
    function.calls.clear()
    assert [t["status"] for t in invoke(event, delegated)["trails"]] == ["in_sync"]  # a second run writes nothing
    assert writes(function.calls) == []


def forwarded() -> dict[str, Any]:
    """The management account's StopLogging of the organization trail, by name, as the forwarding rule delivers
    it: `account` and `detail.recipientAccountId` are the management account's."""
    return events.load("cloudtrail/forwarded-stop-logging")


def test_a_change_made_from_the_management_account_and_forwarded_is_repaired(
    delegated: organization.Delegated, function: RecordingClients
) -> None:
    assert invoke({"action": "apply"}, delegated)["summary"]["fixed"] == 1  # as declared: logging
    owner().stop_logging(Name=organization.ORGANIZATION_TRAIL)  # someone in the management account
    function.calls.clear()
    event = forwarded()
    assert event["account"] == event["detail"]["recipientAccountId"] == delegated.organization.management
    assert event["detail"]["requestParameters"] == {"name": organization.ORGANIZATION_TRAIL}
    result = invoke(event, delegated)
    assert [(t["trail_arn"], t["status"]) for t in result["trails"]] == [(delegated.trail_arn, "fixed")]
    assert writes(function.calls) == ["StartLogging"] and by_name(function.calls) == []
    assert owner().get_trail_status(Name=delegated.trail_arn)["IsLogging"] is True
    # One DescribeTrails, in the trail's home region (the event's): no scan of every region.
    assert [(c.operation, c.region) for c in function.calls if c.operation == "DescribeTrails"] == [
        ("DescribeTrails", "us-east-1")
    ]


def test_a_forwarded_change_by_arn_or_by_the_administrators_own_console_user_is_repaired(
    delegated: organization.Delegated, function: RecordingClients
) -> None:
    owner().update_trail(Name=delegated.trail_arn, EnableLogFileValidation=False)
    event = copy.deepcopy(forwarded())
    event["detail"]["eventName"] = "UpdateTrail"
    event["detail"]["requestParameters"] = {"name": delegated.trail_arn, "enableLogFileValidation": False}
    result = invoke(event, delegated)
    assert [t["status"] for t in result["trails"]] == ["fixed"]
    assert owner().get_trail(Name=delegated.trail_arn)["Trail"]["LogFileValidationEnabled"] is True


def test_a_forwarded_copy_of_the_functions_own_write_is_never_reacted_to(
    delegated: organization.Delegated, function: RecordingClients
) -> None:
    # Should the management account also receive the administrator's calls (as the trail's owner) and forward
    # them, the function's own writes come back: the loop guard still knows its role.
    event = copy.deepcopy(forwarded())
    role = f"arn:aws:iam::{delegated.administrator}:role/trailkeeper-TrailSettingsRole-1A2B3C"
    event["detail"]["userIdentity"] = {
        "type": "AssumedRole",
        "arn": f"arn:aws:sts::{delegated.administrator}:assumed-role/trailkeeper-TrailSettingsRole-1A2B3C/fn",
        "accountId": delegated.administrator,
        "sessionContext": {"sessionIssuer": {"type": "Role", "arn": role, "accountId": delegated.administrator}},
    }
    result = invoke(event, delegated)
    assert result["skipped"] == "StopLogging was made by trailkeeper's own role: never reacted to (loop guard)"
    assert function.calls == []


def test_the_rule_of_the_provider_stack_matches_a_forwarded_event(delegated: organization.Delegated) -> None:
    from devkit import template
    from moto.events.models import EventPattern

    rule = template.load()["Resources"]["TrailChangeReconcileRule"]["Properties"]["EventPattern"]
    pattern = json.loads(
        json.dumps(rule).replace('{"Fn::GetAtt": ["TrailSettingsRole", "Arn"]}', '"arn:aws:iam::1:role/x"')
    )
    assert EventPattern.load(json.dumps(pattern)).matches_event(forwarded())


def test_the_management_accounts_forwarder_sends_what_the_provider_listens_for_to_the_administrators_bus() -> None:
    from pathlib import Path

    from devkit import template
    from moto.events.models import EventPattern

    path = Path(__file__).resolve().parent.parent / "examples" / "management-account" / "forward-trail-changes.yaml"
    resources = template.load(path)["Resources"]
    forward = resources["ForwardTrailChanges"]["Properties"]
    listened = template.load()["Resources"]["TrailChangeReconcileRule"]["Properties"]["EventPattern"]
    assert forward["EventPattern"]["detail"]["eventName"] == listened["detail"]["eventName"]
    assert EventPattern.load(json.dumps(forward["EventPattern"])).matches_event(forwarded())
    (target,) = forward["Targets"]
    bus = {
        "Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${DelegatedAdministratorAccountId}:event-bus/default"
    }
    assert target["Arn"] == bus and target["RoleArn"] == {"Fn::GetAtt": ["ForwardRole", "Arn"]}
    (policy,) = resources["ForwardRole"]["Properties"]["Policies"]
    assert policy["PolicyDocument"]["Statement"] == [{"Effect": "Allow", "Action": "events:PutEvents", "Resource": bus}]
