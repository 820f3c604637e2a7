"""The organization reconcile's steps as direct invocations of the function: list the accounts to S3,
run one account (its role assumed), and total the Map's results."""

from __future__ import annotations

import json
from typing import Any

import boto3
import jsonschema
import pytest
from devkit import organization
from devkit import world as seeding
from devkit.lambda_context import LambdaContext
from moto.iam.models import iam_backends

from tests.conftest import RESULTS_BUCKET, RecordingClients, metric_lines
from trailkeeper import handler, permissions
from trailkeeper.errors import AwsCallFailed, MalformedEvent
from trailkeeper.fleet import report, request

BUCKET = RESULTS_BUCKET
TRAILS = [{"Name": "audit-trail", "EnableLogFileValidation": True}]


pytestmark = pytest.mark.usefixtures("state_machine_steps")  # tests/conftest.py


def invoke(event: dict[str, Any]) -> Any:
    return handler.lambda_handler(event, LambdaContext())


def test_list_accounts_writes_the_maps_items_to_s3(org: organization.Organization) -> None:
    answer = invoke(
        {
            "action": "list-accounts",
            "bucket": BUCKET,
            "key": "runs/1/accounts.json",
            "ou_ids": [org.ous["prod"]],
            "exclude_accounts": [org.members["web"]],
        }
    )
    assert answer == {"bucket": BUCKET, "key": "runs/1/accounts.json", "accounts": 1}
    body = boto3.client("s3", region_name="us-east-1").get_object(Bucket=BUCKET, Key="runs/1/accounts.json")["Body"]
    assert json.loads(body.read()) == [{"account": org.members["payments"], "account_name": "payments"}]


def test_an_account_run_assumes_its_role_and_returns_the_report(
    org: organization.Organization, clients: RecordingClients
) -> None:
    payments = org.members["payments"]
    document = invoke({"action": "apply", "account": payments, "account_name": "payments", "trails": TRAILS})
    jsonschema.validate(document, report.SCHEMA)
    assert [(t["account"], t["status"]) for t in document["trails"]] == [(payments, "fixed")]
    (assumed,) = clients.named("AssumeRole")
    assert assumed.params["RoleArn"] == f"arn:aws:iam::{payments}:role/OrganizationAccountAccessRole"
    assert assumed.region == "us-east-1"  # the regional endpoint of the function's region
    own = invoke({"action": "plan", "account": seeding.ACCOUNT, "trails": TRAILS})  # no role in its own account
    assert own["summary"]["drifted"] == 1 and len(clients.named("AssumeRole")) == 1


def test_an_account_whose_role_cannot_be_assumed_raises_naming_it(org: organization.Organization) -> None:
    lab = org.members["lab"]
    iam_backends[lab]["aws"].roles.clear()
    with pytest.raises(AwsCallFailed) as raised:
        invoke({"action": "plan", "account": lab, "role_name": "Custom", "trails": TRAILS})
    # The Map's Cause: the account, the role, and what the function's operator can do about it.
    assert str(raised.value) == (
        f"account {lab}: cannot assume role Custom: no such role there, or it does not trust this function's "
        "role: deploy member-role.yaml to the account (ReconcileRoleArn: this function's role)"
    )


@pytest.mark.parametrize(
    ("event", "problem"),
    [
        ({"action": "plan", "account": "12"}, "account '12' is not a 12-digit account id"),
        ({"action": "list-accounts", "bucket": BUCKET}, "key None must be a non-empty string"),
        ({"action": "list-accounts", "bucket": BUCKET, "key": "k", "ou_ids": "ou-1"}, "ou_ids 'ou-1' must be a list"),
        ({"action": "summarise"}, "summarise needs result_writer"),
    ],
)
def test_malformed_organization_events_are_refused(org: organization.Organization, event: Any, problem: str) -> None:
    with pytest.raises(MalformedEvent, match=problem):
        invoke(event)


def test_summarise_totals_the_maps_result_files(org: organization.Organization) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    note = {"trail_arn": "arn:aws:cloudtrail:us-east-1:123456789012:trail/org", "owner_account": "123456789012"}

    def output(drifted: int, seen: int) -> str:
        summary = {"trails": drifted, "in_sync": 0, "drifted": drifted, "fixed": 0, "failed": 0}
        return json.dumps(
            {"action": "plan", "summary": summary, "trails": [], "not_owned": [{**note, "seen_in_accounts": seen}]}
        )

    # The shape Step Functions' ResultWriter writes: a manifest naming result files per status.
    succeeded = [
        {"Input": json.dumps({"account": "111111111111"}), "Output": output(2, 1), "Status": "SUCCEEDED"},
        {"Input": json.dumps({"account": "222222222222"}), "Output": output(1, 1), "Status": "SUCCEEDED"},
    ]
    failed = [
        {
            "Input": json.dumps({"account": "333333333333"}),
            "Error": "AwsCallFailed",
            "Cause": "account 3: cannot assume",
        }
    ]
    s3.put_object(Bucket=BUCKET, Key="out/SUCCEEDED_0.json", Body=json.dumps(succeeded))
    s3.put_object(Bucket=BUCKET, Key="out/FAILED_0.json", Body=json.dumps(failed))
    manifest = {
        "DestinationBucket": BUCKET,
        "ResultFiles": {
            "SUCCEEDED": [{"Key": "out/SUCCEEDED_0.json"}],
            "FAILED": [{"Key": "out/FAILED_0.json"}],
            "PENDING": [],
        },
    }
    s3.put_object(Bucket=BUCKET, Key="out/manifest.json", Body=json.dumps(manifest))
    summary = invoke({"action": "summarise", "result_writer": {"Bucket": BUCKET, "Key": "out/manifest.json"}})
    assert summary["accounts"] == 3
    assert summary["accounts_failed"] == [{"account": "333333333333", "reason": "account 3: cannot assume"}]
    assert summary["trails"] == {"in_sync": 0, "drifted": 3, "fixed": 0, "failed": 0}
    assert summary["not_owned"] == [{**note, "seen_in_accounts": 2}]


ORG_TRAIL_NOTE = {"trail_arn": "arn:aws:cloudtrail:us-east-1:111111111111:trail/org", "owner_account": "111111111111"}


def child(account: str, *, drifted: int = 0, fixed: int = 0, notes: int = 0) -> dict[str, Any]:
    """One child's line in a ResultWriter result file: its input and its report (SUCCEEDED)."""
    summary = {"trails": drifted + fixed, "in_sync": 0, "drifted": drifted, "fixed": fixed, "failed": 0}
    output = {
        "action": "plan",
        "summary": summary,
        "trails": [],
        "not_owned": [{**ORG_TRAIL_NOTE, "seen_in_accounts": 1}] * notes,
    }
    return {"Input": json.dumps({"account": account}), "Output": json.dumps(output), "Status": "SUCCEEDED"}


def failed_child(account: str) -> dict[str, Any]:
    cause = f"account {account}: cannot assume role TrailkeeperMember: no such role there"
    return {"Input": json.dumps({"account": account}), "Error": "AccessDenied", "Cause": cause, "Status": "FAILED"}


def write_results(prefix: str, succeeded: list[dict[str, Any]], failed: list[dict[str, Any]]) -> str:
    """The files Step Functions' ResultWriter writes under `prefix`: result files and their manifest."""
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.put_object(Bucket=BUCKET, Key=f"{prefix}SUCCEEDED_0.json", Body=json.dumps(succeeded))
    s3.put_object(Bucket=BUCKET, Key=f"{prefix}FAILED_0.json", Body=json.dumps(failed))
    files = {"SUCCEEDED": [{"Key": f"{prefix}SUCCEEDED_0.json"}], "FAILED": [{"Key": f"{prefix}FAILED_0.json"}]}
    manifest = {"DestinationBucket": BUCKET, "ResultFiles": {**files, "PENDING": []}}
    s3.put_object(Bucket=BUCKET, Key=f"{prefix}manifest.json", Body=json.dumps(manifest))
    return f"{prefix}manifest.json"


def test_an_organization_trail_whose_owner_reported_it_is_not_listed_as_not_owned(
    org: organization.Organization,
) -> None:
    # Every member's child notes the trail (its owner was not in *its* run); the owner's child reported it.
    members = [child("222222222222", notes=1), child("333333333333", notes=1)]
    key = write_results("reported/", [child("111111111111", drifted=1), *members], [])
    summary = invoke({"action": "summarise", "result_writer": {"Bucket": BUCKET, "Key": key}})
    assert summary["not_owned"] == [] and summary["trails"]["drifted"] == 1
    # Without the owner's child (it failed, or was not in the run) the copies are noted once.
    key = write_results("unreported/", members, [failed_child("111111111111")])
    summary = invoke({"action": "summarise", "result_writer": {"Bucket": BUCKET, "Key": key}})
    assert summary["not_owned"] == [{**ORG_TRAIL_NOTE, "seen_in_accounts": 2}]


# What the state machine sends after the Map failed (org-reconcile.asl.json's SummariseFailedRun; the
# template tests check the machine sends this shape).
def failed_map_event(execution: str, error: str, cause: str) -> dict[str, Any]:
    return {
        "action": "summarise",
        "results": {"Bucket": BUCKET, "Prefix": f"results/{execution}/"},
        "accounts": {"bucket": BUCKET, "key": f"runs/{execution}/accounts.json"},
        "map_error": {"Error": error, "Cause": cause},
    }


def test_a_map_failed_past_its_tolerance_is_totalled_counted_and_notified(
    org: organization.Organization,
    clients: RecordingClients,
    world: seeding.World,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(request.NOTIFY_TOPIC, world.topic_arn)
    s3 = boto3.client("s3", region_name="us-east-1")
    listed = [{"account": f"{n:012d}", "account_name": ""} for n in (111111111111, 222222222222, 333333333333)]
    s3.put_object(Bucket=BUCKET, Key="runs/run-9/accounts.json", Body=json.dumps(listed))
    # The Map Run's folder is named for the Map Run: the function finds it under the execution's prefix.
    write_results(
        "results/run-9/0f4b-map-run/",
        [child("111111111111")],
        [failed_child(a) for a in ("222222222222", "333333333333")],
    )
    threshold = "The specified tolerated failure threshold was exceeded"
    summary = invoke(failed_map_event("run-9", "States.ExceedToleratedFailureThreshold", threshold))
    assert summary["run_failed"] == {
        "error": "States.ExceedToleratedFailureThreshold",
        "cause": threshold,
        "accounts_listed": 3,
    }
    assert summary["accounts"] == 3 and [f["account"] for f in summary["accounts_failed"]] == [
        "222222222222",
        "333333333333",
    ]
    metrics = {name: m[name] for m in metric_lines(capsys.readouterr().out) for name in m if name[0].isupper()}
    assert (metrics["OrganizationRunsFailed"], metrics["AccountsFailed"], metrics["AccountsReconciled"]) == (
        [1.0],
        [2.0],
        [1.0],
    )
    (published,) = clients.named("Publish")  # nothing fixed, nothing drifted: the failed run alone is news
    assert published.params["Subject"].startswith(
        "trailkeeper: run FAILED (States.ExceedToleratedFailureThreshold): 3 accounts, 2 failed"
    )


def test_a_map_that_wrote_no_results_is_still_reported(
    org: organization.Organization, clients: RecordingClients, world: seeding.World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # E.g. its items could not be read: no manifest at all under the execution's prefix.
    monkeypatch.setenv(request.NOTIFY_TOPIC, world.topic_arn)
    boto3.client("s3", region_name="us-east-1").put_object(Bucket=BUCKET, Key="runs/run-8/accounts.json", Body=b"[]")
    summary = invoke(failed_map_event("run-8", "States.ItemReaderFailed", "NoSuchKey"))
    assert summary == {
        "accounts": 0,
        "accounts_failed": [],
        "trails": {"in_sync": 0, "drifted": 0, "fixed": 0, "failed": 0},
        "not_owned": [],
        "run_failed": {"error": "States.ItemReaderFailed", "cause": "NoSuchKey", "accounts_listed": 0},
    }
    assert len(clients.named("Publish")) == 1


def test_a_failed_map_event_without_its_results_is_refused(org: organization.Organization) -> None:
    with pytest.raises(MalformedEvent, match="summarise of a failed Map needs map_error"):
        invoke({"action": "summarise", "map_error": {"Error": "x"}})


def test_every_call_the_organization_steps_make_is_declared(
    org: organization.Organization, clients: RecordingClients
) -> None:
    invoke({"action": "list-accounts", "bucket": BUCKET, "key": "accounts.json"})
    invoke({"action": "apply", "account": org.members["web"], "trails": TRAILS})
    invoke({"action": "plan", "account": seeding.ACCOUNT, "trails": TRAILS})
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.put_object(Bucket=BUCKET, Key="manifest.json", Body=json.dumps({"ResultFiles": {}}))
    invoke({"action": "summarise", "result_writer": {"Bucket": BUCKET, "Key": "manifest.json"}})
    s3.put_object(Bucket=BUCKET, Key="runs/x/accounts.json", Body=b"[]")
    invoke(failed_map_event("x", "States.ItemReaderFailed", "NoSuchKey"))
    # S3 authorises ListObjectsV2 as s3:ListBucket.
    made = {f"{c.service}:{c.operation}".replace("s3:ListObjectsV2", "s3:ListBucket") for c in clients.calls}
    assert {"organizations:ListAccounts", "sts:AssumeRole", "s3:PutObject", "s3:GetObject", "s3:ListBucket"} <= made
    assert made <= permissions.required(permissions.MODULES + permissions.ORG_MODULES)


def test_an_account_run_applies_a_pattern_in_every_enabled_region_of_that_account(
    org: organization.Organization,
) -> None:
    payments = org.members["payments"]
    trails = [{"Name": "audit-trail", "S3KeyPrefix": "a"}, {"Name": "*", "EnableLogFileValidation": True}]
    document = invoke({"action": "apply", "account": payments, "trails": trails})
    jsonschema.validate(document, report.SCHEMA)
    found = sorted((t["name"], t["home_region"], [d["index"] for d in t["declared_by"]]) for t in document["trails"])
    assert found == [("audit-trail", "us-east-1", [0, 1]), ("regional-trail", "eu-west-1", [1])]
    assert document["summary"]["fixed"] == 2
    again = invoke({"action": "apply", "account": payments, "trails": trails})
    assert again["summary"]["in_sync"] == 2
