"""The delivery guard: a call that breaks a declared trail's delivery (its bucket policy replaced, its key
disabled, its role's policy deleted...) is judged within the event, told once (SNS, a DeliveryBroken metric
per trail) and, only where the declaration says RepairDelivery, repaired as --fix would; a change that
leaves delivery intact, or that no declared trail depends on, tells nothing and reads no further."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from devkit import events, template
from devkit import world as seeding
from devkit.lambda_context import LambdaContext

from tests.conftest import RecordingClients, metric_lines
from trailkeeper import handler, routing
from trailkeeper.audit import chain_guard
from trailkeeper.fleet import request
from trailkeeper.invocations import delivery_change

PARAMETER = "/trailkeeper/desired"
HOME = seeding.HOME


@pytest.fixture
def queue(world: seeding.World, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The notification topic, with a queue subscribed to read what was told."""
    sns, sqs = boto3.client("sns", region_name=HOME), boto3.client("sqs", region_name=HOME)
    topic = sns.create_topic(Name="trailkeeper-notes")["TopicArn"]
    url = sqs.create_queue(QueueName="notes")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    monkeypatch.setenv(request.NOTIFY_TOPIC, topic)
    yield url


@pytest.fixture
def guarded(
    world: seeding.World, clients: RecordingClients, queue: str, monkeypatch: pytest.MonkeyPatch
) -> RecordingClients:
    """The world's trail logging, declared in SSM; the function's clients recorded."""
    declare({"Name": "audit-trail", "IsLogging": True})
    boto3.client("cloudtrail", region_name=HOME).start_logging(Name=world.trail_arn)
    monkeypatch.setenv(request.STATE_PARAMETER, PARAMETER)
    monkeypatch.setattr(delivery_change, "clients", lambda: clients)
    return clients


def declare(*trails: dict[str, Any]) -> None:
    boto3.client("ssm", region_name=HOME).put_parameter(
        Name=PARAMETER, Value=json.dumps({"trails": list(trails)}), Type="String", Overwrite=True
    )


def told(url: str) -> list[dict[str, Any]]:
    answer = boto3.client("sqs", region_name=HOME).receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in answer.get("Messages", [])]


def replace_bucket_policy() -> None:
    readers = events.load("delivery/put-bucket-policy")["detail"]["requestParameters"]["bucketPolicy"]
    boto3.client("s3").put_bucket_policy(Bucket=seeding.BUCKET, Policy=json.dumps(readers))


def guard_event(name: str, **detail: Any) -> dict[str, Any]:
    event = events.load(f"delivery/{name}")
    event["detail"].update(detail)
    result: dict[str, Any] = handler.lambda_handler(event, LambdaContext())
    return result


def test_every_call_the_rule_sends_is_one_the_guard_reads_and_routes() -> None:
    rule = template.load()["Resources"]["DeliveryChangeRule"]["Properties"]["EventPattern"]
    assert rule["detail"]["eventName"] == list(chain_guard.CALLS)
    assert rule["source"] == list(chain_guard.SOURCES) == list(routing.DELIVERY_SOURCES)
    for name in ("put-bucket-policy", "disable-key", "delete-role-policy", "set-topic-attributes"):
        assert routing.kind(events.load(f"delivery/{name}")) == routing.DELIVERY_CHANGE
    assert routing.kind(events.load("cloudtrail/stop-logging")) == routing.TRAIL_CHANGE


def test_a_replaced_bucket_policy_is_told_once_with_the_trail_the_call_and_its_caller(
    guarded: RecordingClients, queue: str, capsys: pytest.CaptureFixture[str]
) -> None:
    replace_bucket_policy()
    outcome = guard_event("put-bucket-policy")
    assert outcome["dependent_trails"] == [f"arn:aws:cloudtrail:{HOME}:{seeding.ACCOUNT}:trail/audit-trail"]
    (broken,) = outcome["broken"]
    assert [f["control"] for f in broken["findings"]] == ["Delivery.1"] and outcome["repaired"] == []
    (note,) = told(queue)
    assert note["Subject"].startswith("trailkeeper: PutBucketPolicy on bucket trailkeeper-demo-logs broke delivery")
    assert "arn:aws:sts::123456789012:assumed-role/Admin/alice" in note["Message"]  # who made the call
    assert "Delivery.1" in note["Message"] and "does not allow it" in note["Message"]
    (metric,) = [m for m in metric_lines(capsys.readouterr().out) if "DeliveryBroken" in m]
    assert metric["Trail"] == broken["trail"] and metric["DeliveryBroken"] == [1.0]
    assert (
        json.loads(boto3.client("s3").get_bucket_policy(Bucket=seeding.BUCKET)["Policy"])["Statement"][0]["Sid"]
        == "ReadersOnly"
    )  # RepairDelivery not declared: told, never written


def test_repair_delivery_restores_cloudtrails_statements_and_says_so(guarded: RecordingClients, queue: str) -> None:
    declare({"Name": "audit-trail", "RepairDelivery": True})
    replace_bucket_policy()
    outcome = guard_event("put-bucket-policy")
    (edit,) = outcome["repaired"]
    assert edit["status"] == "written" and edit["resource"] == f"arn:aws:s3:::{seeding.BUCKET}"
    statements = json.loads(boto3.client("s3").get_bucket_policy(Bucket=seeding.BUCKET)["Policy"])["Statement"]
    assert [s["Sid"] for s in statements] == [
        "ReadersOnly",
        "TrailkeeperCloudTrailAclCheck",
        "TrailkeeperCloudTrailWrite",
    ]
    (note,) = told(queue)
    assert (
        "RepairDelivery: CloudTrail's statements in the bucket policy" in note["Message"]
        and "restored" in note["Message"]
    )
    # The repair is the function's own call: its event never comes back (the rule and the guard skip it).
    own = {"type": "AssumedRole", "arn": "arn:aws:sts::123456789012:assumed-role/tk/fn"}
    own["sessionContext"] = {"sessionIssuer": {"arn": "arn:aws:iam::123456789012:role/tk"}}  # type: ignore[assignment]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TRAILKEEPER_ROLE_ARN", "arn:aws:iam::123456789012:role/tk")
        assert "loop guard" in str(guard_event("put-bucket-policy", userIdentity=own)["skipped"])


def test_a_change_that_leaves_delivery_intact_tells_nothing(guarded: RecordingClients, queue: str) -> None:
    outcome = guard_event(
        "put-bucket-policy"
    )  # the policy still lets CloudTrail write (the event's body is not trusted)
    assert outcome["dependent_trails"] and outcome["broken"] == [] and told(queue) == []


def test_a_resource_no_declared_trail_uses_reads_nothing_more(guarded: RecordingClients, queue: str) -> None:
    outcome = guard_event("put-bucket-policy", requestParameters={"bucketName": "someone-elses-bucket"})
    assert outcome["skipped"] == "no declared trail delivers through bucket someone-elses-bucket"
    chain = {"GetBucketPolicy", "GetTrailStatus", "GetKeyPolicy", "GetTopicAttributes", "GetRole"}
    assert not [c.operation for c in guarded.calls if c.operation in chain] and told(queue) == []


def test_a_failed_call_changed_nothing(guarded: RecordingClients) -> None:
    outcome = guard_event("put-bucket-policy", errorCode="AccessDenied")
    assert "changed nothing" in str(outcome["skipped"]) and guarded.calls == []


def test_a_disabled_key_is_told_and_never_re_enabled_even_when_repair_is_declared(
    world: seeding.World, guarded: RecordingClients, queue: str
) -> None:
    declare({"Name": "audit-trail", "RepairDelivery": True})
    boto3.client("cloudtrail", region_name=HOME).update_trail(Name=world.trail_arn, KmsKeyId=world.key_arn)
    boto3.client("kms", region_name=HOME).disable_key(KeyId=world.key_id)
    key = {"accountId": seeding.ACCOUNT, "type": "AWS::KMS::Key", "ARN": world.key_arn}
    outcome = guard_event("disable-key", requestParameters={"keyId": world.key_id}, resources=[key])
    (broken,) = outcome["broken"]
    assert [f["control"] for f in broken["findings"]] == ["Delivery.5"] and "is Disabled" in broken["findings"][0][
        "reason"
    ]
    assert outcome["repaired"] == [] and len(told(queue)) == 1
    assert (
        boto3.client("kms", region_name=HOME).describe_key(KeyId=world.key_id)["KeyMetadata"]["KeyState"] == "Disabled"
    )


def test_a_role_that_lost_its_permissions_is_told(world: seeding.World, guarded: RecordingClients, queue: str) -> None:
    group = world.log_group_arn + ":*"
    boto3.client("cloudtrail", region_name=HOME).update_trail(
        Name=world.trail_arn, CloudWatchLogsLogGroupArn=group, CloudWatchLogsRoleArn=world.role_arn
    )
    boto3.client("iam").delete_role_policy(RoleName=seeding.ROLE, PolicyName="cloudtrail-logs")
    (broken,) = guard_event("delete-role-policy")["broken"]
    assert [f["control"] for f in broken["findings"]] == ["Delivery.3"] and len(told(queue)) == 1


def test_a_stack_cannot_ask_for_repair(world: seeding.World, invoke: Any) -> None:
    answer = invoke("create", ResourceProperties={**invoke.properties("create"), "RepairDelivery": "true"})
    assert answer["Status"] == "FAILED" and "RepairDelivery: the delivery guard reads" in answer["Reason"]
