"""Direct Lambda invocations for pipelines: inline state, state from SSM, schedules, CloudTrail events."""

from __future__ import annotations

import json
from typing import Any

import boto3
import jsonschema
import pytest
from devkit import world as seeding
from devkit.lambda_context import LambdaContext

from tests.conftest import RecordingClients
from trailkeeper import handler
from trailkeeper.drift import direct, report
from trailkeeper.errors import MalformedEvent

STATE = {
    "trails": [
        {"Name": "audit-trail", "S3KeyPrefix": "pipeline"},
        {"Name": "second-trail", "EnableLogFileValidation": True},
    ]
}


@pytest.fixture
def drifted(world: seeding.World, clients: RecordingClients, monkeypatch: pytest.MonkeyPatch) -> RecordingClients:
    seeding.add_trail("second-trail", "us-east-1")
    monkeypatch.setattr(direct, "clients", lambda: clients)
    return clients


@pytest.fixture
def ssm_state(drifted: RecordingClients, monkeypatch: pytest.MonkeyPatch) -> None:
    boto3.client("ssm", region_name="us-east-1").put_parameter(
        Name="/trailkeeper/desired", Value=json.dumps(STATE), Type="String"
    )
    monkeypatch.setenv(direct.STATE_PARAMETER, "/trailkeeper/desired")


def invoke(event: Any) -> dict[str, Any]:
    result = handler.lambda_handler(event, LambdaContext())
    jsonschema.validate(result, report.SCHEMA)
    return result


def test_inline_plan_returns_the_report_and_writes_nothing(drifted: RecordingClients) -> None:
    result = invoke({"action": "plan", **STATE})
    assert result["summary"]["drifted"] == 2 and drifted.named("UpdateTrail") == []


def test_apply_reads_the_state_from_ssm(ssm_state: None, drifted: RecordingClients) -> None:
    assert invoke({"action": "apply"})["summary"]["fixed"] == 2
    assert invoke({"action": "apply"})["summary"]["in_sync"] == 2


def test_a_scheduled_event_applies_everything(ssm_state: None) -> None:
    event = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
    assert invoke(event)["summary"]["fixed"] == 2


def test_a_cloudtrail_change_event_reapplies_only_that_trail(ssm_state: None, drifted: RecordingClients) -> None:
    event = {
        "source": "aws.cloudtrail",
        "detail-type": "AWS API Call via CloudTrail",
        "detail": {
            "eventSource": "cloudtrail.amazonaws.com",
            "eventName": "UpdateTrail",
            "requestParameters": {
                "name": "arn:aws:cloudtrail:us-east-1:123456789012:trail/second-trail",
                "enableLogFileValidation": False,
            },
        },
    }
    result = invoke(event)
    assert [t["name"] for t in result["trails"]] == ["second-trail"] and result["summary"]["fixed"] == 1
    assert [u.params["Name"].split("/")[-1] for u in drifted.named("UpdateTrail")] == ["second-trail"]
    assert invoke(event)["summary"]["in_sync"] == 1  # our own UpdateTrail's event finds nothing to do


def test_fixes_are_published_when_a_topic_is_set(
    ssm_state: None, drifted: RecordingClients, world: seeding.World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(direct.NOTIFY_TOPIC, world.topic_arn)
    invoke({"action": "apply"})
    (published,) = drifted.named("Publish")
    assert published.params["TopicArn"] == world.topic_arn
    assert published.params["Subject"] == "trailkeeper: 2 fixed, 0 failed"
    assert "S3KeyPrefix" in published.params["Message"]
    invoke({"action": "apply"})
    assert len(drifted.named("Publish")) == 1  # nothing fixed: no message


def test_drift_metrics(ssm_state: None, capsys: pytest.CaptureFixture[str]) -> None:
    invoke({"action": "apply"})
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    (metrics,) = [m for m in emitted if "DriftFound" in m]
    assert metrics["DriftFound"] == [2.0] and metrics["DriftFixed"] == [2.0]


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"action": "destroy"}, "action 'destroy' is not 'plan' or 'apply'"),
        ({"action": "plan"}, "no `trails` in the event and no DESIRED_STATE_PARAMETER configured"),
        (["plan"], "a direct invocation takes an object, not list"),
    ],
)
def test_invalid_requests_raise_by_name(drifted: RecordingClients, event: Any, message: str) -> None:
    with pytest.raises(MalformedEvent, match=message.replace("(", r"\(").replace("`", ".")):
        handler.lambda_handler(event, LambdaContext())
