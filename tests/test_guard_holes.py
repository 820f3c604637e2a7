"""Issue 15, "The guard has holes", end to end: the custom resource and the drift-fix pipeline on moto held
to CloudTrail's behaviour (conftest's `aws` fixture installs devkit.fidelity).

Each hole the issue reproduced is closed here the way a user would meet it: the change is refused with
WeakensAudit and nothing is written, and it is applied when AllowWeakening names it.
"""

from __future__ import annotations

from typing import Any

import boto3
import jsonschema
import pytest
from devkit import world as seeding
from moto.cloudtrail import models as ct_models

from tests.conftest import Invoker, RecordingClients
from trailkeeper.aws.pacing import Pacer
from trailkeeper.fleet import reconcile as fleet
from trailkeeper.fleet import report, state

ACCOUNT, HOME = seeding.ACCOUNT, seeding.HOME
ARN = f"arn:aws:cloudtrail:{HOME}:{ACCOUNT}:trail/{seeding.TRAIL}"
ORG = "org-trail"
ORG_ARN = f"arn:aws:cloudtrail:{HOME}:{ACCOUNT}:trail/{ORG}"
S3_ALL = [{"DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}]}]


def cloudtrail() -> Any:
    return boto3.client("cloudtrail", region_name=HOME)


def declare(invoke: Invoker, name: str = seeding.TRAIL, request: str = "create", **properties: Any) -> dict[str, Any]:
    props = {"ServiceToken": f"arn:aws:lambda:{HOME}:{ACCOUNT}:function:tk", "Name": name, **properties}
    return invoke(request, ResourceProperties=props)


def run(path: Any, *, apply: bool) -> report.Report:
    """The drift-fix pipeline (plan or apply) over the state file at `path`, as the CLI runs it."""
    return fleet.run(
        state.load(path),
        clients=RecordingClients(),
        default_region=HOME,
        caller_account=ACCOUNT,
        apply=apply,
        pacer=Pacer(interval=0),
        read_pacer=Pacer(interval=0),
    )


def writes(clients: RecordingClients) -> list[str]:
    return [c.operation for c in clients.calls if not c.operation.startswith(("Describe", "Get", "List"))]


@pytest.fixture
def org_trail(world: seeding.World) -> str:
    """An organization trail owned by this account (the management account)."""
    cloudtrail().create_trail(Name=ORG, S3BucketName=seeding.BUCKET, IsOrganizationTrail=True, IsMultiRegionTrail=True)
    return ORG_ARN


def test_item_1_an_organization_trail_is_not_switched_off_without_consent(
    org_trail: str, invoke: Invoker, clients: RecordingClients
) -> None:
    refused = declare(invoke, ORG, IsOrganizationTrail="false")
    assert refused["Status"] == "FAILED"
    assert refused["Reason"].startswith("WeakensAudit: allow it with AllowWeakening: [IsOrganizationTrail]")
    assert (
        "IsOrganizationTrail true -> false breaks Security Hub CloudTrail.1, CIS 4.1 in every member"
        in (refused["Reason"])
    )
    assert writes(clients) == []
    assert cloudtrail().get_trail(Name=ORG)["Trail"]["IsOrganizationTrail"] is True


def test_item_1_an_organization_trail_is_switched_off_when_allowed_by_name(
    org_trail: str, invoke: Invoker, clients: RecordingClients
) -> None:
    allowed = declare(invoke, ORG, IsOrganizationTrail="false", AllowWeakening=["IsOrganizationTrail"])
    assert allowed["Status"] == "SUCCESS", allowed["Reason"]
    assert writes(clients) == ["UpdateTrail"]
    assert cloudtrail().get_trail(Name=ORG)["Trail"]["IsOrganizationTrail"] is False


def test_item_1_the_plan_marks_it_and_apply_refuses_it(org_trail: str, tmp_path: Any) -> None:
    path = tmp_path / "state.json"
    path.write_text(f'{{"trails": [{{"Name": "{ORG_ARN}", "IsOrganizationTrail": false}}]}}')
    planned = run(path, apply=False)
    (change,) = planned.results[0].changes
    assert change.weakens and "every member account" in change.weakens
    assert planned.results[0].refused
    applied = run(path, apply=True)
    assert applied.results[0].status == "failed"
    assert applied.results[0].error is not None and applied.results[0].error.error_code == "WeakensAudit"
    assert cloudtrail().get_trail(Name=ORG)["Trail"]["IsOrganizationTrail"] is True


def test_item_2_removing_the_sns_topic_is_refused(
    world: seeding.World, invoke: Invoker, clients: RecordingClients
) -> None:
    cloudtrail().update_trail(Name=ARN, SnsTopicName=seeding.TOPIC)
    refused = declare(invoke, SnsTopicName="")
    assert refused["Status"] == "FAILED" and "AllowWeakening: [SnsTopicName]" in refused["Reason"]
    assert writes(clients) == []
    assert cloudtrail().get_trail(Name=ARN)["Trail"]["SnsTopicARN"] == world.topic_arn


def test_item_2_removing_data_event_selectors_is_refused(
    world: seeding.World, invoke: Invoker, clients: RecordingClients
) -> None:
    cloudtrail().put_event_selectors(TrailName=ARN, EventSelectors=S3_ALL)
    refused = declare(invoke, EventSelectors=[])
    assert refused["Status"] == "FAILED"
    assert (
        "EventSelectors stops logging read data events of AWS::S3::Object: every resource breaks CIS 4.9"
        in (refused["Reason"])
    )
    assert writes(clients) == []
    allowed = declare(invoke, EventSelectors=[], AllowWeakening=["EventSelectors"])
    assert allowed["Status"] == "SUCCESS", allowed["Reason"]
    assert cloudtrail().get_event_selectors(TrailName=ARN)["EventSelectors"][0]["DataResources"] == []


def test_item_2_and_15_recursive_logging_is_guarded_and_settles(
    world: seeding.World, invoke: Invoker, clients: RecordingClients
) -> None:
    refused = declare(invoke, RecursiveLogging="false")
    assert refused["Status"] == "FAILED" and "RecursiveLogging true -> false" in refused["Reason"]
    assert writes(clients) == []
    allowed = declare(invoke, RecursiveLogging="false", AllowWeakening=["RecursiveLogging"])
    assert allowed["Status"] == "SUCCESS", allowed["Reason"]
    assert cloudtrail().get_trail(Name=ARN)["Trail"]["RecursiveLogging"] is False
    again = declare(invoke, RecursiveLogging="false")  # read back as written: in sync, nothing to allow
    assert (again["Status"], again["Data"]["ChangedProperties"]) == ("SUCCESS", ""), again
    assert writes(clients) == ["UpdateTrail"]


def test_item_3_an_unknown_insights_category_read_back_is_kept_and_its_removal_refused(
    world: seeding.World, invoke: Invoker, clients: RecordingClients
) -> None:
    # CloudTrail answers a category newer than this botocore (the layer, rightly, refuses to put one).
    trail = ct_models.cloudtrail_backends[ACCOUNT][HOME].trails[seeding.TRAIL]
    trail.insight_selectors = [{"InsightType": "ApiCallRateInsight", "EventCategories": ["Management", "Future"]}]
    refused = declare(invoke, InsightSelectors=[{"InsightType": "ApiCallRateInsight"}])
    assert refused["Status"] == "FAILED"
    assert "InsightSelectors ApiCallRateInsight stops watching Future events" in refused["Reason"]
    assert writes(clients) == []
    assert cloudtrail().get_insight_selectors(TrailName=ARN)["InsightSelectors"][0]["EventCategories"] == [
        "Management",
        "Future",
    ]


def test_moving_the_logs_is_applied_and_marked_in_the_dry_run_plan(world: seeding.World, invoke: Invoker) -> None:
    answer = declare(invoke, DryRun="true", S3BucketName=seeding.NEW_BUCKET)
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["Data"]["Plan"] == (
        f"UpdateTrail: S3BucketName {seeding.BUCKET} -> {seeding.NEW_BUCKET} (moves audit logs)"
    )
    applied = declare(invoke, S3BucketName=seeding.NEW_BUCKET)  # not a weakening: no AllowWeakening needed
    assert applied["Status"] == "SUCCESS", applied["Reason"]


def test_moving_the_logs_is_marked_in_the_json_report(world: seeding.World, tmp_path: Any) -> None:
    path = tmp_path / "state.json"
    path.write_text(f'{{"trails": [{{"Name": "{ARN}", "S3KeyPrefix": "elsewhere"}}]}}')
    document = run(path, apply=False).to_dict()
    (change,) = document["trails"][0]["changes"]
    assert (change["property"], change["moves"], change["weakens"]) == ("S3KeyPrefix", True, None)
    jsonschema.validate(document, report.SCHEMA)
    assert "[moves audit logs]" in report.table(run(path, apply=False))
