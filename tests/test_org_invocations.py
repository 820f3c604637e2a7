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

from tests.conftest import RecordingClients
from tests.org_gaps import real_aws_rules  # noqa: F401 - a fixture
from trailkeeper import handler, permissions
from trailkeeper.drift import direct, report
from trailkeeper.errors import AwsCallFailed, MalformedEvent
from trailkeeper.org import invocations

BUCKET = "reconcile-results"
TRAILS = [{"Name": "audit-trail", "EnableLogFileValidation": True}]


@pytest.fixture
def org(
    world: seeding.World,
    real_aws_rules: dict[str, Any],  # noqa: F811
    clients: RecordingClients,
    monkeypatch: pytest.MonkeyPatch,
) -> organization.Organization:
    monkeypatch.setattr(invocations, "clients", lambda: clients)
    monkeypatch.setattr(direct, "clients", lambda: clients)
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
    return organization.seed()


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
    with pytest.raises(AwsCallFailed, match=f"account {lab}: cannot assume arn:aws:iam::{lab}:role/Custom"):
        invoke({"action": "plan", "account": lab, "role_name": "Custom", "trails": TRAILS})


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


def test_every_call_the_organization_steps_make_is_declared(
    org: organization.Organization, clients: RecordingClients
) -> None:
    invoke({"action": "list-accounts", "bucket": BUCKET, "key": "accounts.json"})
    invoke({"action": "apply", "account": org.members["web"], "trails": TRAILS})
    invoke({"action": "plan", "account": seeding.ACCOUNT, "trails": TRAILS})
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.put_object(Bucket=BUCKET, Key="manifest.json", Body=json.dumps({"ResultFiles": {}}))
    invoke({"action": "summarise", "result_writer": {"Bucket": BUCKET, "Key": "manifest.json"}})
    made = {f"{c.service}:{c.operation}" for c in clients.calls}
    assert {"organizations:ListAccounts", "sts:AssumeRole", "s3:PutObject", "s3:GetObject"} <= made
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
