"""Direct Lambda invocations for pipelines: inline state, state from SSM, schedules, CloudTrail events."""

from __future__ import annotations

import json
from typing import Any

import boto3
import jsonschema
import pytest
from devkit import events, template
from devkit import world as seeding
from devkit.lambda_context import LambdaContext
from moto.events.models import EventPattern

from tests.conftest import RecordingClients, failure_codes, metric_lines
from trailkeeper import handler
from trailkeeper.errors import MalformedEvent, NothingMatched
from trailkeeper.fleet import change_event, report, request
from trailkeeper.invocations import direct_run as direct

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
    monkeypatch.setenv(request.STATE_PARAMETER, "/trailkeeper/desired")


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
    monkeypatch.setenv(request.NOTIFY_TOPIC, world.topic_arn)
    invoke({"action": "apply"})
    (published,) = drifted.named("Publish")
    assert published.params["TopicArn"] == world.topic_arn
    assert published.params["Subject"] == "trailkeeper: 2 fixed, 0 failed"
    assert "S3KeyPrefix" in published.params["Message"]
    invoke({"action": "apply"})
    assert len(drifted.named("Publish")) == 1  # nothing fixed: no message


def test_drift_metrics(ssm_state: None, capsys: pytest.CaptureFixture[str]) -> None:
    invoke({"action": "apply"})
    (metrics,) = [m for m in metric_lines(capsys.readouterr().out) if "DriftFound" in m]
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


ROLE_ARN = "arn:aws:iam::123456789012:role/trail-settings-TrailSettingsRole-1A2B3C4D5E6F"
FUNCTION = "trailkeeper-TrailSettingsFunction"


@pytest.fixture
def deployed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment template.yaml and Lambda give the function."""
    monkeypatch.setenv(change_event.ROLE_ARN, ROLE_ARN)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", FUNCTION)


def sample(name: str) -> dict[str, Any]:
    return events.load(f"cloudtrail/{name}")


@pytest.mark.parametrize(
    ("name", "trail"),
    [
        ("create-trail", "second-trail"),
        ("update-trail", "second-trail"),
        ("stop-logging", "audit-trail"),
        ("start-logging", "audit-trail"),
        ("put-event-selectors", "audit-trail"),
        ("put-insight-selectors", "audit-trail"),
        ("add-tags", "audit-trail"),
        ("remove-tags", "audit-trail"),
    ],
)
def test_each_trail_change_reapplies_the_trail_it_names(
    ssm_state: None, deployed: None, drifted: RecordingClients, name: str, trail: str
) -> None:
    result = invoke(sample(name))
    assert [t["name"] for t in result["trails"]] == [trail] and result["summary"]["fixed"] == 1
    assert [u.params["Name"].split("/")[-1] for u in drifted.named("UpdateTrail")] == [trail]


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("update-trail-failed", "UpdateTrail failed ('InsufficientS3BucketPolicyException'): it changed nothing"),
        ("update-trail-own-role", "UpdateTrail was made by trailkeeper's own role: never reacted to (loop guard)"),
    ],
)
def test_the_loop_guard_skips_failed_calls_and_our_own_writes(
    ssm_state: None, deployed: None, drifted: RecordingClients, name: str, why: str
) -> None:
    result = invoke(sample(name))
    assert result["skipped"] == why and result["trails"] == [] and result["summary"]["trails"] == 0
    assert drifted.named("UpdateTrail") == [] and drifted.named("GetParameter") == []


def test_without_the_role_variable_our_own_session_is_still_recognised(
    ssm_state: None, drifted: RecordingClients, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", FUNCTION)
    assert "loop guard" in invoke(sample("update-trail-own-role"))["skipped"]
    monkeypatch.setenv(change_event.ROLE_ARN, "arn:aws:iam::123456789012:role/another-role")
    # With the role named, only that role counts: a session that merely has the function's name does not.
    assert invoke(sample("update-trail-own-role"))["summary"]["trails"] == 1


def test_a_write_that_keeps_failing_does_not_loop(ssm_state: None, deployed: None, drifted: RecordingClients) -> None:
    """Our failed UpdateTrail is itself an event: feeding it back in must not lead to another write."""
    failed = sample("update-trail-failed")
    for _ in range(3):
        assert invoke(failed)["skipped"]
    assert drifted.named("UpdateTrail") == []


def test_a_deleted_declared_trail_is_reported_failed_counted_and_notified_never_written(
    ssm_state: None,
    deployed: None,
    drifted: RecordingClients,
    world: seeding.World,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(request.NOTIFY_TOPIC, world.topic_arn)
    result = invoke(sample("delete-trail"))
    (trail,) = result["trails"]
    assert trail["name"] == "second-trail" and trail["status"] == "failed"
    assert trail["error"]["code"] == "TrailDeleted" and "cannot recreate it" in trail["error"]["reason"]
    assert [c.operation for c in drifted.calls if c.service == "cloudtrail"] == []  # no read, no write
    (published,) = drifted.named("Publish")
    assert "TrailDeleted" in published.params["Message"]
    out = capsys.readouterr().out
    assert [m["TrailsDeleted"] for m in metric_lines(out) if "TrailsDeleted" in m] == [[1.0]]
    assert failure_codes(out) == ["TrailDeleted"]


def test_an_undeclared_trail_deleted_is_nothing_to_report(ssm_state: None, deployed: None) -> None:
    event = sample("delete-trail")
    event["detail"]["requestParameters"]["name"] = "scratch-trail"
    assert invoke(event)["trails"] == []


@pytest.mark.parametrize(
    ("detail", "message"),
    [
        ("UpdateTrail", "a CloudTrail event's detail must be an object, not str"),
        (None, "a CloudTrail event's detail must be an object, not NoneType"),
        ({"eventName": "UpdateTrail", "requestParameters": ["name"]}, "requestParameters must be an object, not list"),
        ({"eventName": "UpdateTrail", "userIdentity": "root"}, "userIdentity must be an object, not str"),
    ],
)
def test_a_malformed_cloudtrail_event_is_malformed_event(ssm_state: None, detail: Any, message: str) -> None:
    event = {"source": "aws.cloudtrail", "detail-type": "AWS API Call via CloudTrail", "detail": detail}
    with pytest.raises(MalformedEvent, match=message):
        handler.lambda_handler(event, LambdaContext())


def test_an_empty_state_is_reported_in_the_summary(drifted: RecordingClients, monkeypatch: pytest.MonkeyPatch) -> None:
    result = invoke({"action": "apply", "trails": []})
    assert result["warnings"] == ["event declares no trails: nothing was checked (an emptied file or parameter?)"]
    boto3.client("ssm", region_name="us-east-1").put_parameter(Name="/tk/empty", Value="trails: []", Type="String")
    monkeypatch.setenv(request.STATE_PARAMETER, "/tk/empty")
    assert invoke({"action": "apply"})["warnings"][0].startswith("ssm:/tk/empty declares no trails")
    assert "warnings" not in invoke({"action": "plan", **STATE})


TEMPLATE_RULE = template.load()["Resources"]["TrailChangeReconcileRule"]["Properties"]["EventPattern"]


def pattern(role_arn: str) -> Any:
    """The rule's pattern as EventBridge sees it once CloudFormation put the role's ARN in."""
    text = json.dumps(TEMPLATE_RULE).replace(
        json.dumps({"Fn::GetAtt": ["TrailSettingsRole", "Arn"]}), json.dumps(role_arn)
    )
    return EventPattern.load(text)


@pytest.mark.parametrize("name", sorted(p.stem for p in (events.EVENTS / "cloudtrail").glob("*.json")))
def test_the_rule_matches_changes_by_others_and_filters_the_loop_out(name: str) -> None:
    event = sample(name)
    expected = name not in ("update-trail-failed", "update-trail-own-role")
    assert pattern(ROLE_ARN).matches_event(event) is expected


def test_the_rule_still_matches_iam_users_and_root() -> None:
    event = sample("stop-logging")
    event["detail"]["userIdentity"] = {"type": "Root", "arn": "arn:aws:iam::123456789012:root"}
    assert pattern(ROLE_ARN).matches_event(event)


def test_the_rule_listens_for_every_call_direct_handles() -> None:
    assert set(TEMPLATE_RULE["detail"]["eventName"]) == set(change_event.TRAIL_PARAMETER)


def test_the_template_tells_the_function_its_own_role() -> None:
    function = template.load()["Resources"]["TrailSettingsFunction"]["Properties"]
    assert function["Role"] == {"Fn::GetAtt": ["TrailSettingsRole", "Arn"]}
    assert function["Environment"]["Variables"][change_event.ROLE_ARN] == function["Role"]


def test_a_stop_logging_by_someone_else_is_undone_within_the_event(
    world: seeding.World, clients: RecordingClients, deployed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The attacker's first move (StopLogging, MITRE ATT&CK T1562.008) is repaired by the event it causes."""
    monkeypatch.setattr(direct, "clients", lambda: clients)
    state = {"trails": [{"Name": "audit-trail", "IsLogging": True}]}
    boto3.client("ssm", region_name="us-east-1").put_parameter(
        Name="/trailkeeper/desired", Value=json.dumps(state), Type="String"
    )
    monkeypatch.setenv(request.STATE_PARAMETER, "/trailkeeper/desired")
    cloudtrail = boto3.client("cloudtrail", region_name="us-east-1")
    cloudtrail.start_logging(Name=world.trail_arn)
    cloudtrail.stop_logging(Name=world.trail_arn)
    event = sample("stop-logging")
    assert "account" in event  # EventBridge says where it happened: not an organization step
    result = invoke(event)
    assert result["summary"]["fixed"] == 1 and result["trails"][0]["changes"][0]["property"] == "IsLogging"
    assert [c.operation for c in clients.calls if c.operation.endswith("Logging")] == ["StartLogging"]
    assert cloudtrail.get_trail_status(Name=world.trail_arn)["IsLogging"] is True


# --- which trail an event names: region and account aware (issue 15 item 11), patterns (issue 16) ---


def _state(monkeypatch: pytest.MonkeyPatch, *entries: dict[str, Any]) -> None:
    boto3.client("ssm", region_name="us-east-1").put_parameter(
        Name="/trailkeeper/fleet", Value=json.dumps({"trails": list(entries)}), Type="String"
    )
    monkeypatch.setenv(request.STATE_PARAMETER, "/trailkeeper/fleet")


def _in_region(event: dict[str, Any], region: str, name: str) -> dict[str, Any]:
    event["region"] = event["detail"]["awsRegion"] = region
    event["detail"]["requestParameters"]["name"] = name
    return event


def test_a_trail_of_the_same_name_deleted_in_another_region_is_not_the_declared_arn(
    deployed: None, drifted: RecordingClients, world: seeding.World, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.setenv(request.NOTIFY_TOPIC, world.topic_arn)
    _state(monkeypatch, {"Name": world.trail_arn, "S3KeyPrefix": "pipeline"})  # audit-trail, us-east-1
    result = invoke(_in_region(sample("delete-trail"), "us-west-2", "audit-trail"))
    assert result["trails"] == [] and drifted.named("Publish") == []
    out = capsys.readouterr().out
    assert not [m for m in metric_lines(out) if "TrailsDeleted" in m] and failure_codes(out) == []
    # The declared trail itself deleted (its region, its account) is still reported.
    (trail,) = invoke(_in_region(sample("delete-trail"), "us-east-1", "audit-trail"))["trails"]
    assert trail["error"]["code"] == "TrailDeleted" and trail["trail_arn"] == world.trail_arn
    assert trail["declared_by"] == [{"index": 0, "name": world.trail_arn}]


def test_an_event_in_another_account_is_not_the_declared_arn(
    deployed: None, drifted: RecordingClients, world: seeding.World, monkeypatch: pytest.MonkeyPatch
) -> None:
    _state(monkeypatch, {"Name": world.trail_arn, "S3KeyPrefix": "pipeline"})
    event = _in_region(sample("delete-trail"), "us-east-1", "audit-trail")
    event["account"] = event["detail"]["recipientAccountId"] = "210987654321"
    assert invoke(event)["trails"] == []


def test_an_event_for_a_trail_only_a_pattern_covers_is_repaired_with_one_read(
    deployed: None, drifted: RecordingClients, monkeypatch: pytest.MonkeyPatch
) -> None:
    _state(monkeypatch, {"Name": "*", "EnableLogFileValidation": True}, {"Name": "audit-trail", "S3KeyPrefix": "x"})
    seeding.add_trail("second-trail", "eu-west-1")  # the same name in another region: another trail
    drifted.calls.clear()
    result = invoke(sample("update-trail"))  # second-trail, us-east-1
    (trail,) = result["trails"]
    assert trail["status"] == "fixed" and trail["declared_by"] == [{"index": 0, "name": "*"}]
    assert trail["trail_arn"] == "arn:aws:cloudtrail:us-east-1:123456789012:trail/second-trail"
    cloudtrail = [(c.operation, c.region) for c in drifted.calls if c.service in ("cloudtrail", "ec2")]
    assert cloudtrail == [("DescribeTrails", "us-east-1"), ("UpdateTrail", "us-east-1")]
    drifted.calls.clear()
    assert invoke(sample("update-trail"))["summary"]["in_sync"] == 1 and drifted.writes() == 0


def test_a_pattern_narrowed_away_from_the_trail_does_not_repair_it(
    deployed: None, drifted: RecordingClients, monkeypatch: pytest.MonkeyPatch
) -> None:
    _state(
        monkeypatch,
        {"Name": "second-*", "Match": {"Regions": ["eu-west-1"]}, "EnableLogFileValidation": True},
        {"Name": "*", "Match": {"Tags": {"team": None}}, "EnableLogFileValidation": True},
    )
    drifted.calls.clear()
    assert invoke(sample("update-trail"))["trails"] == []  # us-east-1, and no `team` tag
    assert drifted.writes() == 0 and [c.operation for c in drifted.calls if c.service == "cloudtrail"] == [
        "DescribeTrails",
        "ListTags",
    ]


def test_a_trail_only_a_pattern_covered_is_not_reported_deleted(
    deployed: None, drifted: RecordingClients, monkeypatch: pytest.MonkeyPatch
) -> None:
    _state(monkeypatch, {"Name": "*", "EnableLogFileValidation": True})
    assert invoke(sample("delete-trail"))["trails"] == []


def test_a_scheduled_run_of_a_state_that_matches_nothing_is_an_error(
    deployed: None, drifted: RecordingClients, monkeypatch: pytest.MonkeyPatch
) -> None:
    _state(monkeypatch, {"Name": "nobody-*", "EnableLogFileValidation": True})
    with pytest.raises(NothingMatched, match="matched no trail at all"):
        handler.lambda_handler(
            {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}, LambdaContext()
        )
    assert drifted.writes() == 0


def test_direct_and_scheduled_runs_apply_a_pattern_in_every_enabled_region(
    deployed: None, drifted: RecordingClients, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeding.add_trail("third-trail", "ap-south-1")
    drifted.calls.clear()
    planned = invoke({"action": "plan", "trails": [{"Name": "*-trail", "EnableLogFileValidation": True}]})
    assert sorted(t["name"] for t in planned["trails"]) == ["audit-trail", "second-trail", "third-trail"]
    assert planned["summary"]["drifted"] == 3 and drifted.writes() == 0
    assert len(drifted.named("DescribeRegions")) == 1 and len(drifted.named("DescribeTrails")) == 17
    _state(monkeypatch, {"Name": "*", "EnableLogFileValidation": True})
    scheduled = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
    assert invoke(scheduled)["summary"]["fixed"] == 3
    assert invoke(scheduled)["summary"]["in_sync"] == 3
