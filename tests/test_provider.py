"""The custom resource end to end: Lambda handler, moto for state, Stubber where moto falls short,
and a real local HTTPS server receiving the response PUT."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from devkit import world as seeding
from devkit.lambda_context import LambdaContext

from tests.conftest import Invoker, RecordingClients
from trailkeeper.cfn.resource import TrailSettingsResource

ARN = "arn:aws:cloudtrail:us-east-1:123456789012:trail/audit-trail"


def trail(name: str = "audit-trail", region: str = "us-east-1") -> dict:
    client = boto3.client("cloudtrail", region_name=region)
    (found,) = [t for t in client.describe_trails()["trailList"] if t["Name"] == name]
    return found


def writes(clients: RecordingClients) -> list:
    return clients.named("UpdateTrail")


def test_create_makes_the_trail_match_and_answers_success(
    world: seeding.World, invoke: Invoker, clients: RecordingClients
) -> None:
    answer = invoke("create")
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["PhysicalResourceId"] == world.trail_arn == ARN
    assert answer["Data"] == {
        "TrailArn": ARN,
        "HomeRegion": "us-east-1",
        "SnsTopicArn": world.topic_arn,
        "ChangedProperties": "S3KeyPrefix,SnsTopicName,IsMultiRegionTrail,EnableLogFileValidation,"
        "CloudWatchLogsLogGroupArn,CloudWatchLogsRoleArn,KmsKeyId",
    }
    assert (answer["StackId"], answer["LogicalResourceId"]) == (
        "arn:aws:cloudformation:us-east-1:123456789012:stack/trail-settings/1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d",
        "AuditTrailSettings",
    )
    (update,) = writes(clients)
    assert update.region == "us-east-1"
    assert update.params == {
        "Name": ARN,
        "S3KeyPrefix": "audit",
        "SnsTopicName": "trail-deliveries",
        "IsMultiRegionTrail": True,
        "EnableLogFileValidation": True,
        "CloudWatchLogsLogGroupArn": world.log_group_arn + ":*",
        "CloudWatchLogsRoleArn": world.role_arn,
        "KmsKeyId": "alias/trailkeeper-demo",  # the trail had no key: CloudTrail resolves the alias
    }  # S3BucketName and IncludeGlobalServiceEvents were already right: not sent
    now = trail()
    assert now["LogFileValidationEnabled"] and now["IsMultiRegionTrail"]
    assert [c.operation for c in clients.calls] == ["DescribeTrails", "UpdateTrail"]  # one read, one write


def test_the_same_event_again_writes_nothing_and_answers_the_same(
    world: seeding.World, invoke: Invoker, clients: RecordingClients
) -> None:
    first = invoke("create")
    # Real CloudTrail stores the key's ARN whatever form was sent (moto keeps the alias): do as AWS does.
    boto3.client("cloudtrail", region_name="us-east-1").update_trail(Name="audit-trail", KmsKeyId=world.key_arn)
    clients.calls.clear()
    again = invoke("create")
    assert again["Status"] == "SUCCESS"
    assert again["PhysicalResourceId"] == first["PhysicalResourceId"]
    assert again["Data"] == dict(first["Data"], ChangedProperties="")
    assert writes(clients) == []
    # CloudTrail stored the key ARN; the declared alias differs as a string, so KMS says which key it names.
    assert [c.operation for c in clients.calls] == ["DescribeTrails", "DescribeKey"]


def test_update_then_no_op_update(world: seeding.World, invoke: Invoker, clients: RecordingClients) -> None:
    invoke("create")
    clients.calls.clear()
    answer = invoke("update")
    assert answer["Status"] == "SUCCESS" and answer["Data"]["ChangedProperties"] == "S3KeyPrefix"
    assert [w.params for w in writes(clients)] == [{"Name": ARN, "S3KeyPrefix": "audit/v2"}]
    clients.calls.clear()
    assert invoke("update-noop")["Data"]["ChangedProperties"] == ""
    assert writes(clients) == []


def test_an_update_naming_another_trail_answers_with_that_trails_arn(
    world: seeding.World, invoke: Invoker, clients: RecordingClients
) -> None:
    other = seeding.add_trail("second-trail", "us-east-1")
    props = invoke.properties("update", Name="second-trail")
    answer = invoke("update", ResourceProperties=props)
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["PhysicalResourceId"] == other != ARN
    assert {w.params["Name"] for w in writes(clients)} == {other}


def test_a_trail_homed_elsewhere_is_found_by_name_and_written_in_its_home_region(
    world: seeding.World, invoke: Invoker, clients: RecordingClients
) -> None:
    homed = seeding.add_trail("org-audit", "eu-west-1", IsMultiRegionTrail=True)
    props = {"Name": "org-audit", "EnableLogFileValidation": "true"}
    answer = invoke("create", ResourceProperties=props)
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["Data"]["HomeRegion"] == "eu-west-1" and answer["PhysicalResourceId"] == homed
    assert [(c.operation, c.region) for c in clients.calls] == [
        ("DescribeTrails", "us-east-1"),
        ("UpdateTrail", "eu-west-1"),
    ]
    assert trail("org-audit", "eu-west-1")["LogFileValidationEnabled"] is True


def test_a_trail_arn_is_read_in_its_own_region(
    world: seeding.World, invoke: Invoker, clients: RecordingClients
) -> None:
    homed = seeding.add_trail("regional", "ap-southeast-2")
    answer = invoke("create", ResourceProperties={"Name": homed, "S3KeyPrefix": "syd"})
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert [(c.operation, c.region) for c in clients.calls] == [
        ("DescribeTrails", "ap-southeast-2"),
        ("UpdateTrail", "ap-southeast-2"),
    ]


def test_delete_writes_nothing_and_succeeds_for_any_id(
    world: seeding.World, invoke: Invoker, clients: RecordingClients
) -> None:
    for physical_id in (ARN, "trailkeeper-failed-create-abc", "arn:aws:cloudtrail:us-east-1:123456789012:trail/gone"):
        answer = invoke("delete", PhysicalResourceId=physical_id)
        assert (answer["Status"], answer["PhysicalResourceId"]) == ("SUCCESS", physical_id)
    assert clients.calls == []


def test_delete_does_not_sleep(world: seeding.World, invoke: Invoker, provider: TrailSettingsResource) -> None:
    context = LambdaContext(timeout_seconds=300)
    invoke("delete", context=context)
    assert context.get_remaining_time_in_millis() > 295_000  # crhelper would have slept 120 s
    assert provider._sleep_on_delete == 0


def test_invalid_properties_fail_before_any_aws_call(
    world: seeding.World, invoke: Invoker, clients: RecordingClients, capsys: pytest.CaptureFixture[str]
) -> None:
    answer = invoke("invalid")
    assert answer["Status"] == "FAILED"
    reason = answer["Reason"]
    assert reason.startswith("InvalidProperties: S3BucketName='Trail_Logs': a bucket name is 3-63 of a-z 0-9")
    assert reason.endswith("--x-s3/--table-s3 (+2 more)")  # the first whole; the count intact
    assert len(reason) <= 256
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"request failed"' in line]
    assert [line["problems"][1:] for line in logged] == [
        [
            "EnableLogFileValidaton: unknown property; did you mean EnableLogFileValidation?",
            "IsMultiRegionTrail='yes': must be true or false",
        ]
    ]
    assert answer["PhysicalResourceId"] == "trailkeeper-failed-create-0b7a1c52-1f0e-4a47-9d7b-5c0e4e3b0a05"
    assert clients.calls == []


def test_a_short_invalid_declaration_lists_every_problem(world: seeding.World, invoke: Invoker) -> None:
    answer = invoke("create", ResourceProperties={"Name": "audit-trail", "KmsKey": "x", "IsMultiRegionTrail": "yes"})
    assert answer["Reason"] == (
        "InvalidProperties: KmsKey: unknown property; did you mean KmsKeyId?; "
        "IsMultiRegionTrail='yes': must be true or false"
    )


@pytest.mark.parametrize(
    "properties",
    [{"Name": "*"}, {"Name": "audit-*", "Match": {"Regions": ["us-east-1"]}, "EnableLogFileValidation": "true"}],
)
def test_a_pattern_is_refused_with_a_pointer_to_the_pipelines(
    world: seeding.World, invoke: Invoker, clients: RecordingClients, properties: dict[str, Any]
) -> None:
    answer = invoke("create", ResourceProperties=properties)
    assert answer["Status"] == "FAILED" and clients.calls == []
    assert answer["Reason"].startswith(f"InvalidProperties: Name='{properties['Name']}': a pattern covers many trails")
    assert "drift-fix state file" in answer["Reason"]


def test_a_failed_update_keeps_the_old_physical_id(world: seeding.World, invoke: Invoker) -> None:
    answer = invoke("update", ResourceProperties={"Name": "audit-trail", "S3KeyPrefix": "p" * 201})
    assert answer["Status"] == "FAILED" and answer["PhysicalResourceId"] == ARN


def test_a_missing_trail_fails_with_its_name(world: seeding.World, invoke: Invoker, clients: RecordingClients) -> None:
    answer = invoke("create", ResourceProperties={"Name": "no-such-trail", "S3KeyPrefix": "x"})
    assert answer["Status"] == "FAILED"
    assert answer["Reason"].startswith("TrailNotFound: no trail 'no-such-trail' in us-east-1")
    assert writes(clients) == []


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("arn:aws:cloudtrail:us-east-1:999999999999:trail/audit-trail", "names account 999999999999"),
        ("arn:aws-cn:cloudtrail:cn-north-1:123456789012:trail/audit-trail", "is in partition aws-cn"),
    ],
)
def test_an_arn_of_another_account_or_partition_names_the_mismatch(
    world: seeding.World, invoke: Invoker, clients: RecordingClients, name: str, said: str
) -> None:
    answer = invoke("create", ResourceProperties={"Name": name, "S3KeyPrefix": "x"})
    assert answer["Status"] == "FAILED" and answer["Reason"].startswith("TrailNotFound: ")
    assert said in answer["Reason"] and "these credentials act in" in answer["Reason"]
    assert [c.region for c in clients.named("DescribeTrails")] in ([], ["us-east-1"])  # never cn-north-1
    assert writes(clients) == []


def test_multi_region_without_global_events_is_refused_against_current_state(
    world: seeding.World, invoke: Invoker, clients: RecordingClients
) -> None:
    seeding.add_trail("no-global", "us-east-1", IncludeGlobalServiceEvents=False)
    answer = invoke("create", ResourceProperties={"Name": "no-global", "IsMultiRegionTrail": "true"})
    assert answer["Reason"].startswith(
        "InvalidProperties: IsMultiRegionTrail=true (the trail has IncludeGlobalServiceEvents"
    )
    assert writes(clients) == []


def test_an_alias_already_in_effect_costs_one_kms_read_and_no_write(
    world: seeding.World, invoke: Invoker, clients: RecordingClients
) -> None:
    boto3.client("cloudtrail", region_name="us-east-1").update_trail(Name="audit-trail", KmsKeyId=world.key_arn)
    answer = invoke("create", ResourceProperties={"Name": "audit-trail", "KmsKeyId": "alias/trailkeeper-demo"})
    assert answer["Data"]["ChangedProperties"] == ""
    assert [(c.operation, c.region) for c in clients.calls] == [
        ("DescribeTrails", "us-east-1"),
        ("DescribeKey", "us-east-1"),
    ]
    clients.calls.clear()
    invoke("create", ResourceProperties={"Name": "audit-trail", "KmsKeyId": world.key_id})
    assert [c.operation for c in clients.calls] == ["DescribeTrails"]


def test_an_organization_trail_seen_from_a_member_account_is_refused(
    world: seeding.World, invoke: Invoker, clients: RecordingClients
) -> None:
    org_arn = "arn:aws:cloudtrail:us-east-1:999999999999:trail/org-trail"
    stubber = clients.stub("cloudtrail", "us-east-1")
    stubber.add_response(
        "describe_trails",
        {
            "trailList": [
                {
                    "Name": "org-trail",
                    "TrailARN": org_arn,
                    "HomeRegion": "us-east-1",
                    "IsOrganizationTrail": True,
                    "IsMultiRegionTrail": True,
                    "S3BucketName": "org-logs",
                }
            ]
        },
    )
    answer = invoke("create", ResourceProperties={"Name": "org-trail", "EnableLogFileValidation": "true"})
    assert answer["Status"] == "FAILED"
    assert answer["Reason"] == (
        "NotChangeableHere: org-trail is an organization trail of management account 999999999999: only it or "
        "CloudTrail's delegated administrator (none: this account is in no organization) may change it, not "
        "account 123456789012"
    )
    assert writes(clients) == []
    stubber.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (
            "InvalidHomeRegionException",
            "InvalidHomeRegionException: trail arn:aws:cloudtrail:us-east-1:123456789012:"
            "trail/audit-trail must be changed from its home region",
        ),
        (
            "InsufficientS3BucketPolicyException",
            "InsufficientS3BucketPolicyException: the policy of bucket "
            "trailkeeper-demo-logs must let cloudtrail.amazonaws.com",
        ),
        (
            "InsufficientEncryptionPolicyException",
            "InsufficientEncryptionPolicyException: the policy of KMS key arn:aws:kms",
        ),
        ("NotOrganizationMasterAccountException", "NotOrganizationMasterAccountException: organization trails"),
    ],
)
def test_update_time_errors_become_reasons_with_a_fix(
    world: seeding.World, invoke: Invoker, clients: RecordingClients, code: str, expected: str
) -> None:
    current = trail()
    stubber = clients.stub("cloudtrail", "us-east-1")
    stubber.add_response("describe_trails", {"trailList": [current]})
    stubber.add_client_error("update_trail", code, "AWS says no", 400)
    props = {"Name": "audit-trail", "EnableLogFileValidation": "true", "KmsKeyId": world.key_arn}
    answer = invoke("create", ResourceProperties=props)
    assert answer["Status"] == "FAILED"
    assert answer["Reason"].startswith(expected), answer["Reason"]
    assert len(answer["Reason"]) <= 256


def test_the_bucket_policy_remedy_names_the_path_cloudtrail_writes_to(
    world: seeding.World, invoke: Invoker, clients: RecordingClients
) -> None:
    stubber = clients.stub("cloudtrail", "us-east-1")
    stubber.add_response("describe_trails", {"trailList": [trail()]})
    stubber.add_client_error("update_trail", "InsufficientS3BucketPolicyException", "no", 400)
    answer = invoke("create", ResourceProperties={"Name": "audit-trail", "S3KeyPrefix": "org/audit"})
    assert answer["Reason"].endswith("s3:PutObject on org/audit/AWSLogs/*")
    stubber.add_response("describe_trails", {"trailList": [dict(trail(), S3KeyPrefix="")]})
    stubber.add_client_error("update_trail", "InsufficientS3BucketPolicyException", "no", 400)
    answer = invoke("create", ResourceProperties={"Name": "audit-trail", "EnableLogFileValidation": "true"})
    assert answer["Reason"].endswith("s3:PutObject on AWSLogs/*")


def test_throttling_is_retried_with_backoff(
    world: seeding.World, invoke: Invoker, clients: RecordingClients, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept: list[float] = []
    monkeypatch.setattr("trailkeeper.aws.calls._sleep", slept.append)
    current = trail()
    stubber = clients.stub("cloudtrail", "us-east-1")
    stubber.add_response("describe_trails", {"trailList": [current]})
    stubber.add_client_error("update_trail", "ThrottlingException", "Rate exceeded", 400)
    stubber.add_client_error("update_trail", "ThrottlingException", "Rate exceeded", 400)
    stubber.add_response("update_trail", {})
    answer = invoke("create", ResourceProperties={"Name": "audit-trail", "EnableLogFileValidation": "true"})
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert len(writes(clients)) == 3
    assert len(slept) == 2 and 0.5 <= slept[0] <= 1.0 and 1.0 <= slept[1] <= 2.0
    stubber.assert_no_pending_responses()
