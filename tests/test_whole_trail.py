"""The whole trail end to end: the Lambda handler (and the fleet) on moto held to CloudTrail's behaviour.

moto implements the calls but not CloudTrail's rules (default selector, InsightNotEnabledException,
Insights needing management events, home regions, sorted field selectors...): `devkit.fidelity` adds
them, so an order of writes or a comparison that would fail or drift in AWS fails here too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from devkit import fidelity
from devkit import world as seeding

from tests.conftest import Invoker, RecordingClients
from trailkeeper.aws.calls import Deadline
from trailkeeper.aws.pacing import Pacer
from trailkeeper.fleet import reconcile as fleet
from trailkeeper.fleet import state

ARN = "arn:aws:cloudtrail:us-east-1:123456789012:trail/audit-trail"
ALL_MANAGEMENT = [{"ReadWriteType": "All", "IncludeManagementEvents": "true"}]
READS_ONLY = [{"ReadWriteType": "ReadOnly"}]
S3_DATA = [
    {
        "ReadWriteType": "All",
        "IncludeManagementEvents": "true",
        "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::trailkeeper-demo-logs/"]}],
    }
]
CALL_RATE = {"InsightType": "ApiCallRateInsight"}
ERROR_RATE = {"InsightType": "ApiErrorRateInsight"}


@pytest.fixture
def faithful(world: seeding.World) -> Iterator[seeding.World]:
    with fidelity.cloudtrail_as_aws():
        yield world


def cloudtrail() -> Any:
    return boto3.client("cloudtrail", region_name="us-east-1")


def operations(clients: RecordingClients) -> list[str]:
    return [c.operation for c in clients.calls]


def declare(invoke: Invoker, request: str = "create", **properties: Any) -> dict[str, Any]:
    """Run a custom resource request declaring only the trail's name and `properties`."""
    props = {"ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:tk", "Name": "audit-trail", **properties}
    extra = {"PhysicalResourceId": ARN} if request != "create" else {}
    return invoke(request, ResourceProperties=props, **extra)


def test_a_stopped_trail_is_started_and_then_left_alone(
    faithful: seeding.World, invoke: Invoker, clients: RecordingClients
) -> None:
    assert cloudtrail().get_trail_status(Name=ARN)["IsLogging"] is False  # API-made trails start stopped
    answer = declare(invoke, IsLogging="true")
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert operations(clients) == ["DescribeTrails", "GetTrailStatus", "StartLogging"]
    assert (answer["Data"]["ChangedProperties"], answer["Data"]["IsLogging"]) == ("IsLogging", "true")
    assert cloudtrail().get_trail_status(Name=ARN)["IsLogging"] is True

    clients.calls.clear()
    again = declare(invoke, "update-noop", IsLogging="true")
    assert (again["Status"], again["Data"]["ChangedProperties"]) == ("SUCCESS", "")
    assert operations(clients) == ["DescribeTrails", "GetTrailStatus"]  # one read of its own, no write


def test_settings_alone_still_cost_one_read(
    faithful: seeding.World, invoke: Invoker, clients: RecordingClients
) -> None:
    answer = declare(invoke, S3KeyPrefix="legacy", IncludeGlobalServiceEvents="true")
    assert (answer["Status"], answer["Data"]["ChangedProperties"]) == ("SUCCESS", "")
    assert operations(clients) == ["DescribeTrails"]
    assert "IsLogging" not in answer["Data"]  # not declared: not read, not reported


def test_declaring_the_default_selector_on_a_fresh_trail_reads_and_writes_nothing(
    faithful: seeding.World, invoke: Invoker, clients: RecordingClients
) -> None:
    for declared in ([], ALL_MANAGEMENT, [{"ReadWriteType": "All"}]):
        clients.calls.clear()
        answer = declare(invoke, EventSelectors=declared, InsightSelectors=[])
        assert (answer["Status"], answer["Data"]["ChangedProperties"]) == ("SUCCESS", ""), answer
        assert operations(clients) == ["DescribeTrails"]  # HasCustomEventSelectors/HasInsightSelectors answer


def test_selectors_are_applied_then_in_sync_against_the_read_back(
    faithful: seeding.World, invoke: Invoker, clients: RecordingClients
) -> None:
    answer = declare(invoke, EventSelectors=S3_DATA)
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert operations(clients) == ["DescribeTrails", "PutEventSelectors"]  # default selector known: no read
    clients.calls.clear()
    again = declare(invoke, "update-noop", EventSelectors=list(reversed(S3_DATA)))
    assert (again["Status"], again["Data"]["ChangedProperties"]) == ("SUCCESS", "")
    assert operations(clients) == ["DescribeTrails", "GetEventSelectors"]


def test_advanced_selectors_settle_although_cloudtrail_sorts_and_pads_them(
    faithful: seeding.World, invoke: Invoker, clients: RecordingClients
) -> None:
    advanced = [
        {
            "Name": "management without KMS",
            "FieldSelectors": [
                {"Field": "eventSource", "NotEquals": ["kms.amazonaws.com"]},
                {"Field": "eventCategory", "Equals": ["Management"]},
            ],
        }
    ]
    first = declare(invoke, AdvancedEventSelectors=advanced, AllowWeakening=["AdvancedEventSelectors"])
    assert first["Status"] == "SUCCESS", first["Reason"]
    read_back = cloudtrail().get_event_selectors(TrailName=ARN)["AdvancedEventSelectors"][0]["FieldSelectors"]
    assert [f["Field"] for f in read_back] == ["eventCategory", "eventSource"]  # sorted, all operators present
    clients.calls.clear()
    again = declare(invoke, "update-noop", AdvancedEventSelectors=advanced)
    assert (again["Status"], again["Data"]["ChangedProperties"]) == ("SUCCESS", ""), again


def test_excluding_kms_events_weakens_audit_and_is_refused_until_allowed(
    faithful: seeding.World, invoke: Invoker, clients: RecordingClients
) -> None:
    narrowed = [{"ReadWriteType": "All", "ExcludeManagementEventSources": ["kms.amazonaws.com"]}]
    refused = declare(invoke, EventSelectors=narrowed)
    assert refused["Status"] == "FAILED"
    assert refused["Reason"].startswith("WeakensAudit: allow it with AllowWeakening: [EventSelectors]")
    assert "excludes kms.amazonaws.com" in refused["Reason"]
    assert operations(clients) == ["DescribeTrails"]  # nothing written
    allowed = declare(invoke, EventSelectors=narrowed, AllowWeakening="true")
    assert allowed["Status"] == "SUCCESS", allowed["Reason"]
    assert clients.named("PutEventSelectors")


def test_stop_logging_is_refused_unless_allowed_by_name(
    faithful: seeding.World, invoke: Invoker, clients: RecordingClients
) -> None:
    cloudtrail().start_logging(Name=ARN)
    refused = declare(invoke, IsLogging="false")
    assert refused["Status"] == "FAILED"
    assert "IsLogging true -> false breaks Security Hub CloudTrail.1" in refused["Reason"]
    assert not clients.named("StopLogging") and cloudtrail().get_trail_status(Name=ARN)["IsLogging"]
    other = declare(invoke, IsLogging="false", AllowWeakening=["KmsKeyId"])
    assert other["Status"] == "FAILED"  # allowing another property does not allow this one
    allowed = declare(invoke, IsLogging="false", AllowWeakening=["IsLogging"])
    assert (allowed["Status"], allowed["Data"]["IsLogging"]) == ("SUCCESS", "false")
    assert cloudtrail().get_trail_status(Name=ARN)["IsLogging"] is False


def test_an_already_weak_trail_that_stays_weak_is_not_refused(faithful: seeding.World, invoke: Invoker) -> None:
    answer = declare(invoke, IsLogging="false", EnableLogFileValidation="false")  # stopped and unvalidated now
    assert (answer["Status"], answer["Data"]["ChangedProperties"]) == ("SUCCESS", ""), answer


def test_insights_come_after_the_management_events_they_need_and_start_logging_last(
    faithful: seeding.World, invoke: Invoker, clients: RecordingClients
) -> None:
    cloudtrail().put_event_selectors(TrailName=ARN, EventSelectors=[{"ReadWriteType": "ReadOnly"}])
    answer = declare(
        invoke,
        IsLogging="true",
        EnableLogFileValidation="true",
        EventSelectors=ALL_MANAGEMENT,
        InsightSelectors=[CALL_RATE, ERROR_RATE],
        Tags=[{"Key": "team", "Value": "security"}],
    )
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    writes = [op for op in operations(clients) if not op.startswith(("Describe", "Get", "List"))]
    assert writes == ["UpdateTrail", "PutEventSelectors", "PutInsightSelectors", "AddTags", "StartLogging"]
    assert answer["Data"]["ChangedProperties"] == (
        "EnableLogFileValidation,IsLogging,EventSelectors,InsightSelectors,Tags"
    )
    clients.calls.clear()
    again = declare(
        invoke,
        "update-noop",
        IsLogging="true",
        EnableLogFileValidation="true",
        EventSelectors=ALL_MANAGEMENT,
        InsightSelectors=[ERROR_RATE, CALL_RATE],
        Tags=[{"Key": "team", "Value": "security"}],
    )
    assert (again["Status"], again["Data"]["ChangedProperties"]) == ("SUCCESS", ""), again
    assert operations(clients) == [
        "DescribeTrails",
        "GetTrailStatus",
        "GetEventSelectors",
        "GetInsightSelectors",
        "ListTags",
    ]


def test_insights_are_cleared_before_the_management_events_they_need_go(
    faithful: seeding.World, invoke: Invoker, clients: RecordingClients
) -> None:
    cloudtrail().put_insight_selectors(TrailName=ARN, InsightSelectors=[CALL_RATE])
    answer = declare(invoke, EventSelectors=READS_ONLY, InsightSelectors=[], AllowWeakening="true")
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    writes = [op for op in operations(clients) if op.startswith("Put")]
    assert writes == ["PutInsightSelectors", "PutEventSelectors"]  # the other order fails in CloudTrail


def test_insight_not_enabled_means_none(faithful: seeding.World, invoke: Invoker, clients: RecordingClients) -> None:
    cloudtrail().put_insight_selectors(TrailName=ARN, InsightSelectors=[CALL_RATE])
    cloudtrail().put_insight_selectors(TrailName=ARN, InsightSelectors=[])
    with pytest.raises(ClientError, match="InsightNotEnabledException"):
        cloudtrail().get_insight_selectors(TrailName=ARN)
    answer = declare(invoke, InsightSelectors=[])
    assert (answer["Status"], answer["Data"]["ChangedProperties"]) == ("SUCCESS", ""), answer


def test_tags_are_the_declared_set_and_cloudformation_tags_are_untouched(
    faithful: seeding.World, invoke: Invoker, clients: RecordingClients
) -> None:
    fidelity.seed_cloudformation_tags(ARN)
    cloudtrail().add_tags(ResourceId=ARN, TagsList=[{"Key": "owner", "Value": "nobody"}])
    answer = declare(invoke, Tags=[{"Key": "team", "Value": "security"}])
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    (tags,) = cloudtrail().list_tags(ResourceIdList=[ARN])["ResourceTagList"]
    keys = sorted(t["Key"] for t in tags["TagsList"])
    assert keys == [
        "aws:cloudformation:logical-id",
        "aws:cloudformation:stack-id",
        "aws:cloudformation:stack-name",
        "team",
    ]
    assert [op for op in operations(clients) if op.endswith("Tags")] == ["ListTags", "RemoveTags", "AddTags"]


def test_a_later_write_that_fails_says_which_writes_landed(
    faithful: seeding.World, invoke: Invoker, clients: RecordingClients, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = clients.cloudtrail("us-east-1")

    def refuse(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "TagsLimitExceededException", "Message": "too many"}}, "AddTags")

    monkeypatch.setattr(client, "add_tags", refuse)
    answer = declare(invoke, EnableLogFileValidation="true", Tags=[{"Key": "team", "Value": "x"}])
    assert answer["Status"] == "FAILED"
    assert answer["Reason"].startswith("TagsLimitExceededException: already written: UpdateTrail; then ")
    assert "more than 50 tags" in answer["Reason"]


def test_dry_run_plans_and_writes_nothing(faithful: seeding.World, invoke: Invoker, clients: RecordingClients) -> None:
    answer = declare(
        invoke,
        DryRun="true",
        IsLogging="true",
        EnableLogFileValidation="true",
        S3KeyPrefix="trails",
        InsightSelectors=[CALL_RATE],
    )
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["Data"]["ChangedProperties"] == "S3KeyPrefix,EnableLogFileValidation,IsLogging,InsightSelectors"
    assert answer["Data"]["Plan"] == (
        "UpdateTrail: S3KeyPrefix legacy -> trails (moves audit logs), EnableLogFileValidation false -> true; "
        'PutInsightSelectors: InsightSelectors [] -> [{"InsightType":"ApiCallRateInsight"}]; '
        "StartLogging: IsLogging false -> true"
    )
    assert all(op.startswith(("Describe", "Get")) for op in operations(clients))
    assert cloudtrail().get_trail_status(Name=ARN)["IsLogging"] is False


def test_a_dry_run_names_every_aspects_change_beside_its_call_and_marks_the_weakening_ones(
    faithful: seeding.World, invoke: Invoker, clients: RecordingClients
) -> None:
    cloudtrail().put_insight_selectors(TrailName=ARN, InsightSelectors=[CALL_RATE])
    cloudtrail().add_tags(
        ResourceId=ARN, TagsList=[{"Key": "owner", "Value": "nobody"}, {"Key": "z", "Value": "9" * 30}]
    )
    answer = declare(
        invoke, DryRun="true", EventSelectors=S3_DATA, InsightSelectors=[], Tags=[{"Key": "team", "Value": "x"}]
    )
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["Data"]["Plan"] == (
        'PutEventSelectors: EventSelectors [{"ReadWriteType":"All"}] -> [{"DataResources":[{"Type":"AWS::S3::...; '
        'PutInsightSelectors: InsightSelectors [{"InsightType":"ApiCallRateInsight"}] -> [] (weakens audit); '
        'RemoveTags: Tags {"owner":"nobody","z":"99999999999999... -> {"team":"x"}; '  # 40 characters a side
        'AddTags: Tags {"owner":"nobody","z":"99999999999999... -> {"team":"x"}'
    )
    assert all(op.startswith(("Describe", "Get", "List")) for op in operations(clients))


def test_a_dry_run_of_a_weakening_change_marks_it_and_succeeds(faithful: seeding.World, invoke: Invoker) -> None:
    cloudtrail().start_logging(Name=ARN)
    answer = declare(invoke, DryRun="true", IsLogging="false")
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["Data"]["Plan"] == "StopLogging: IsLogging true -> false (weakens audit)"


def test_an_organization_trail_is_refused_from_a_member_account_for_every_aspect(
    faithful: seeding.World, invoke: Invoker, clients: RecordingClients
) -> None:
    org_arn = "arn:aws:cloudtrail:us-east-1:999999999999:trail/org"
    shadow = {"Name": "org", "TrailARN": org_arn, "HomeRegion": "us-east-1", "IsOrganizationTrail": True}
    stubber = clients.stub("cloudtrail", "us-east-1")
    stubber.add_response("describe_trails", {"trailList": [shadow]})
    answer = declare(invoke, Name=org_arn, IsLogging="true", Tags=[{"Key": "a", "Value": "b"}])
    assert answer["Status"] == "FAILED" and answer["Reason"].startswith("NotChangeableHere: ")
    # One question to Organizations (this account is in none, so it administers nothing), then no read at all.
    assert operations(clients) == ["DescribeTrails", "ListDelegatedAdministrators"]
    assert "(none: this account is in no organization)" in answer["Reason"]


def test_the_fleet_plans_and_applies_every_aspect_and_paces_the_reads(faithful: seeding.World) -> None:
    seeding.add_trail("eu-trail", "eu-west-1")
    document = {
        "trails": [
            {"Name": "audit-trail", "IsLogging": True, "Tags": [{"Key": "team", "Value": "sec"}]},
            {
                "Name": "arn:aws:cloudtrail:eu-west-1:123456789012:trail/eu-trail",
                "IsLogging": True,
                "EventSelectors": S3_DATA,
                "InsightSelectors": [CALL_RATE],
            },
        ]
    }
    declarations = state.parse(document)
    recorder = RecordingClients()
    reads: list[str] = []

    class Counting(Pacer):
        def wait(self, region: str) -> None:
            reads.append(region)

    def run(apply: bool) -> Any:
        return fleet.run(
            declarations,
            clients=recorder,
            default_region="us-east-1",
            caller_account="123456789012",
            apply=apply,
            pacer=Pacer(interval=0),
            read_pacer=Counting(),
            deadline=Deadline(),
        )

    planned = run(apply=False)
    assert [r.status for r in planned.results] == ["drifted", "drifted"]
    assert [[c.name for c in r.changes] for r in planned.results] == [
        ["IsLogging", "Tags"],
        ["IsLogging", "EventSelectors", "InsightSelectors"],
    ]
    assert sorted(reads) == ["eu-west-1", "us-east-1", "us-east-1"]  # GetTrailStatus x2, ListTags; no selector reads
    assert [r.status for r in run(apply=True).results] == ["fixed", "fixed"]
    settled = run(apply=False)
    assert [r.status for r in settled.results] == ["in_sync", "in_sync"], [r.to_dict() for r in settled.results]


def test_a_dry_run_plan_of_any_size_keeps_the_answer_within_cloudformations_4096_bytes() -> None:
    from trailkeeper.cfn import response
    from trailkeeper.cfn.resource import plan_summary
    from trailkeeper.engine import Outcome
    from trailkeeper.trail.aspect import Call, Change

    long_list = [{"Key": f"k{i}", "Value": '"quoted" ' * 20} for i in range(50)]
    changes = tuple(Change(f"P{i}", long_list, list(reversed(long_list))) for i in range(30))
    writes = tuple(Call("PutEventSelectors", {}, 3, (f"P{i}",)) for i in range(30))
    outcome = Outcome(ARN, "us-east-1", changes, writes, False, "")
    plan = plan_summary(outcome, 2048)
    assert len(plan) <= 2048 and plan.endswith(" more)")
    data = {
        "TrailArn": ARN,
        "HomeRegion": "us-east-1",
        "SnsTopicArn": "",
        "ChangedProperties": ",".join(c.name for c in changes),
    }
    document = response.body(
        {}, status=response.SUCCESS, physical_id=ARN, data={**data, "Plan": plan, "IsLogging": "true"}
    )
    assert document["Data"]["Plan"] == plan  # kept: the whole answer fits
    assert len(response.encode(document)) <= response.BODY_LIMIT


def test_a_dry_run_of_a_trail_in_sync_says_there_is_nothing_to_change_and_counts_it_in_sync(
    faithful: seeding.World, invoke: Invoker, capsys: pytest.CaptureFixture[str]
) -> None:
    answer = declare(invoke, DryRun="true", S3KeyPrefix="legacy", IsLogging="false")
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert (answer["Data"]["Plan"], answer["Data"]["ChangedProperties"]) == ("nothing to change", "")
    metrics = capsys.readouterr().out
    assert '"TrailsInSync":[1.0]' in metrics and "DryRunsPlanned" not in metrics
    declare(invoke, DryRun="true", S3KeyPrefix="trails")
    metrics = capsys.readouterr().out
    assert '"DryRunsPlanned":[1.0]' in metrics and "TrailsInSync" not in metrics
