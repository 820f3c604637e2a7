"""A repair that meets a failed write: the writes that do not depend on it go on, StartLogging above all.

Issue 15, item 4. CloudTrail refuses writes for reasons no local AWS models (a bucket policy that does not
admit a prefix): `fidelity.refusing` makes the fidelity layer refuse them in moto's backend, so the
event-driven repair (invocations/direct_run.py) and the custom resource meet the refusal as they would in AWS.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import jsonschema
import pytest
from devkit import events, fidelity
from devkit import world as seeding
from devkit.lambda_context import LambdaContext

from tests.conftest import Invoker, RecordingClients
from trailkeeper import handler
from trailkeeper.aws.calls import Clients, Deadline
from trailkeeper.errors import REASON_LIMIT, AwsCallFailed, OutOfTime, Writes
from trailkeeper.fleet import reconcile as fleet
from trailkeeper.fleet import report, request, state
from trailkeeper.invocations import direct_run as direct
from trailkeeper.trail.aspect import (
    INSIGHTS,
    SELECTORS_ADDING,
    SELECTORS_REMOVING,
    START_LOGGING,
    TAGS,
    UPDATE_TRAIL,
    Call,
    unmet_dependency,
)

ARN = "arn:aws:cloudtrail:us-east-1:123456789012:trail/audit-trail"
BUCKET_POLICY = "InsufficientS3BucketPolicyException"
DECLARED = {"Name": "audit-trail", "IsLogging": True, "S3KeyPrefix": "legacy"}


def cloudtrail() -> Any:
    return boto3.client("cloudtrail", region_name="us-east-1")


def operations(clients: RecordingClients) -> list[str]:
    return [c.operation for c in clients.calls]


def sends(setting: str) -> Any:
    return lambda arguments: arguments.get(setting) is not None


@pytest.fixture
def tampered(world: seeding.World) -> None:
    """The declared state was true (logging, prefix legacy); someone moved the prefix and stopped logging."""
    cloudtrail().start_logging(Name=ARN)
    cloudtrail().update_trail(Name=ARN, S3KeyPrefix="elsewhere")
    cloudtrail().stop_logging(Name=ARN)


@pytest.fixture
def repair(tampered: None, clients: RecordingClients, monkeypatch: pytest.MonkeyPatch) -> RecordingClients:
    """The event-driven repair's set-up: the declared state in SSM, the function's clients recorded."""
    boto3.client("ssm", region_name="us-east-1").put_parameter(
        Name="/trailkeeper/desired", Value=json.dumps({"trails": [DECLARED]}), Type="String"
    )
    monkeypatch.setenv(request.STATE_PARAMETER, "/trailkeeper/desired")
    monkeypatch.setattr(direct, "clients", lambda: clients)
    return clients


def run_event(name: str) -> dict[str, Any]:
    result = handler.lambda_handler(events.load(f"cloudtrail/{name}"), LambdaContext())
    jsonschema.validate(result, report.SCHEMA)
    return result


def declare(invoke: Invoker, stack: str, **properties: Any) -> dict[str, Any]:
    """An ordinary Update (its stack is not rolling back) declaring `properties`."""
    props = {"ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:tk", "Name": "audit-trail", **properties}
    return invoke("update", ResourceProperties=props, PhysicalResourceId=ARN, StackId=stack)


def test_the_event_driven_repair_restarts_logging_although_its_update_trail_fails(repair: RecordingClients) -> None:
    with fidelity.refusing("UpdateTrail", BUCKET_POLICY, when=sends("s3_key_prefix")):
        result = run_event("stop-logging")
    assert [op for op in operations(repair) if not op.startswith(("Get", "Describe"))] == [
        "UpdateTrail",
        "StartLogging",
    ]
    assert cloudtrail().get_trail_status(Name=ARN)["IsLogging"] is True  # no longer blind
    (trail,) = result["trails"]
    assert (trail["status"], result["summary"]["failed"]) == ("failed", 1)  # the prefix is still wrong: said
    error = trail["error"]
    assert error["reason"].startswith(f"{BUCKET_POLICY}: already written: StartLogging; UpdateTrail failed: ")
    assert "the policy of bucket trailkeeper-demo-logs must let cloudtrail.amazonaws.com" in error["reason"]
    assert error["written"] == ["StartLogging"] and error["not_attempted"] == []
    assert [(f["operation"], f["code"]) for f in error["failed"]] == [("UpdateTrail", BUCKET_POLICY)]


def test_the_cli_table_says_what_was_written_and_what_failed(tampered: None) -> None:
    declared = state.parse({"trails": [DECLARED]}, "test")
    with fidelity.refusing("UpdateTrail", BUCKET_POLICY, when=sends("s3_key_prefix")):
        result = fleet.run(declared, clients=Clients(), default_region="us-east-1", caller_account=None, apply=True)
    table = report.table(result)
    assert "failed" in table and "already written: StartLogging; UpdateTrail failed: the policy of bucket" in table
    assert result.exit_code == report.EXIT_FAILED


def test_the_custom_resource_restarts_logging_and_says_what_was_written_and_what_failed(
    tampered: None, stack: str, invoke: Invoker, clients: RecordingClients
) -> None:
    with fidelity.refusing("UpdateTrail", BUCKET_POLICY, when=sends("s3_key_prefix")):
        answer = declare(invoke, stack, IsLogging="true", S3KeyPrefix="legacy")
    assert answer["Status"] == "FAILED"
    reason = answer["Reason"]
    assert reason.startswith(f"{BUCKET_POLICY}: already written: StartLogging; UpdateTrail failed: the policy of")
    assert len(reason) <= REASON_LIMIT
    assert cloudtrail().get_trail_status(Name=ARN)["IsLogging"] is True
    assert [op for op in operations(clients) if not op.startswith(("Describe", "Get"))] == [
        "UpdateTrail",
        "StartLogging",
    ]
    assert operations(clients)[-1] == "DescribeStacks"  # a failed Update asks whether it is a rollback: no


def test_a_failed_bucket_change_keeps_logging_stopped_and_says_why(
    world: seeding.World, stack: str, invoke: Invoker, clients: RecordingClients
) -> None:
    # Someone sent the logs to another bucket (it could be another account's) and stopped logging.
    cloudtrail().start_logging(Name=ARN)
    cloudtrail().update_trail(Name=ARN, S3BucketName=seeding.NEW_BUCKET)
    cloudtrail().stop_logging(Name=ARN)
    with fidelity.refusing("UpdateTrail", BUCKET_POLICY, when=sends("s3_bucket_name")):
        answer = declare(invoke, stack, IsLogging="true", S3BucketName=seeding.BUCKET)
    assert answer["Status"] == "FAILED"
    assert "StartLogging" not in operations(clients)  # starting would deliver audit logs to the other bucket
    assert cloudtrail().get_trail_status(Name=ARN)["IsLogging"] is False
    reason = answer["Reason"]
    assert reason.startswith(f"{BUCKET_POLICY}: nothing was written; UpdateTrail failed: the policy of bucket")
    assert reason.endswith(
        "; StartLogging not attempted: logs would go to an undeclared bucket (the bucket was not put back)"
    )
    assert len(reason) <= REASON_LIMIT


def test_every_failure_is_reported(tampered: None, stack: str, invoke: Invoker, clients: RecordingClients) -> None:
    with (
        fidelity.refusing("UpdateTrail", BUCKET_POLICY, when=sends("s3_key_prefix")),
        fidelity.refusing("StartLogging", "ConflictException", "busy"),
    ):
        answer = declare(invoke, stack, IsLogging="true", S3KeyPrefix="legacy", Tags=[{"Key": "team", "Value": "sec"}])
    written = [op for op in operations(clients) if op in ("UpdateTrail", "AddTags", "StartLogging")]
    assert written == ["UpdateTrail", "AddTags", "StartLogging"]
    reason = answer["Reason"]
    assert reason.startswith(f"{BUCKET_POLICY}: already written: AddTags; UpdateTrail failed: the policy of bucket")
    assert "; StartLogging failed (ConflictException): another change to trail" in reason
    assert len(reason) <= REASON_LIMIT


def test_a_single_failure_after_the_writes_keeps_the_old_reason() -> None:
    error = AwsCallFailed("TagsLimitExceededException", "AddTags", "too many tags")
    error.writes = Writes(("UpdateTrail",), (("AddTags", error),))
    assert error.reason == "TagsLimitExceededException: already written: UpdateTrail; then too many tags"
    assert error.full_reason == error.reason


def test_a_long_list_of_failures_still_names_each_within_the_reason_limit() -> None:
    failures = [AwsCallFailed("KmsException", op, "x" * 200) for op in ("UpdateTrail", "PutEventSelectors")]
    first = failures[0]
    first.writes = Writes(("AddTags",), tuple(zip(("UpdateTrail", "PutEventSelectors"), failures, strict=True)))
    assert len(first.reason) <= REASON_LIMIT
    assert "UpdateTrail failed: xxx" in first.reason and "PutEventSelectors failed: xxx" in first.reason
    assert first.full_reason.count("x" * 200) == 2  # the logs and the drift report get them whole


def call(operation: str, phase: int, *properties: str) -> Call:
    return Call(operation, {}, phase, properties)


@pytest.mark.parametrize(
    ("write", "failed", "waits"),
    [
        (call("PutInsightSelectors", INSIGHTS), call("PutEventSelectors", SELECTORS_ADDING), True),
        (call("PutEventSelectors", SELECTORS_REMOVING), call("PutInsightSelectors", INSIGHTS), True),
        (call("StartLogging", START_LOGGING), call("UpdateTrail", UPDATE_TRAIL, "S3BucketName"), True),
        (call("StartLogging", START_LOGGING), call("UpdateTrail", UPDATE_TRAIL, "S3KeyPrefix", "KmsKeyId"), False),
        (call("StartLogging", START_LOGGING), call("PutEventSelectors", SELECTORS_ADDING), False),
        (call("StartLogging", START_LOGGING), call("AddTags", TAGS), False),
        (call("AddTags", TAGS), call("UpdateTrail", UPDATE_TRAIL, "S3BucketName"), False),
        (call("PutInsightSelectors", INSIGHTS), call("UpdateTrail", UPDATE_TRAIL, "S3BucketName"), False),
    ],
)
def test_what_depends_on_what(write: Call, failed: Call, waits: bool) -> None:
    assert (unmet_dependency(write, [failed]) is not None) is waits


def test_insights_wait_for_the_selectors_they_need_and_the_rest_goes_on(
    world: seeding.World, stack: str, invoke: Invoker, clients: RecordingClients
) -> None:
    cloudtrail().put_event_selectors(TrailName=ARN, EventSelectors=[{"ReadWriteType": "ReadOnly"}])
    with fidelity.refusing("PutEventSelectors", "InvalidEventSelectorsException", "no"):
        answer = declare(
            invoke,
            stack,
            IsLogging="true",
            EventSelectors=[{"ReadWriteType": "All"}],
            InsightSelectors=[{"InsightType": "ApiCallRateInsight"}],
        )
    writes = [op for op in operations(clients) if op.startswith(("Put", "Start"))]
    assert writes == ["PutEventSelectors", "StartLogging"]  # Insights need the write events: not attempted
    assert answer["Reason"].startswith("InvalidEventSelectorsException: already written: StartLogging; ")
    assert (
        "PutInsightSelectors not attempted: Insights need the management events the selectors were adding"
        in (answer["Reason"])
    )


def test_out_of_time_stops_the_writes(world: seeding.World) -> None:
    from trailkeeper import engine
    from trailkeeper.aws.calls import Clients
    from trailkeeper.aws.locate import find
    from trailkeeper.trail import declaration

    clients = Clients()
    deadline = Deadline()
    trail = find(clients, "audit-trail", "us-east-1", deadline)
    declared = declaration.parse({"Name": "audit-trail", "S3KeyPrefix": "new", "IsLogging": "true"})

    def stop_after_first_write(_: str) -> None:
        if cloudtrail().describe_trails()["trailList"][0]["S3KeyPrefix"] == "new":
            deadline.stop()

    with pytest.raises(OutOfTime) as raised:
        engine.reconcile(
            declared,
            trail,
            clients=clients,
            caller_account=None,
            deadline=deadline,
            before_write=stop_after_first_write,
        )
    reason = raised.value.reason
    assert reason.startswith("OutOfTime: already written: UpdateTrail; then no time left to call StartLogging")
    assert cloudtrail().get_trail_status(Name=ARN)["IsLogging"] is False


def test_the_docs_list_every_dependency() -> None:
    from pathlib import Path

    from trailkeeper.trail.aspect import DEPENDENCIES

    page = (Path(__file__).resolve().parent.parent / "docs" / "repairs-and-rollbacks.md").read_text()
    rows = [line for line in page.splitlines() if line.startswith("| `")]
    assert len(rows) == len(DEPENDENCIES)
    assert all(any(rule.why in row for row in rows) for rule in DEPENDENCIES)
