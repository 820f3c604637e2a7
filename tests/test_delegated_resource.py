"""The custom resource from CloudTrail's delegated administrator: the management account's organization trail,
managed with the calls its owner makes, every one naming the trail by ARN in its home region (by name,
CloudTrail looks in the caller's own account: native AWS::CloudTrail::Trail fails there). A plain member is
refused, naming who may change the trail, and writes nothing.

The local AWS models the delegated administrator (devkit/delegation.py): registration, the organization trail
seen from every account under its owner's ARN, calls by name not found and by ARN allowed to the delegated
administrator only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
from devkit import organization
from devkit.cfn_server import ResponseServer
from devkit.recording import Call

from tests.conftest import Invoker, RecordingClients
from trailkeeper import handler
from trailkeeper.cfn import response
from trailkeeper.cfn.resource import TrailSettingsResource

WHOLE: dict[str, Any] = {
    "Name": organization.ORGANIZATION_TRAIL,
    "EnableLogFileValidation": "true",
    "IsLogging": "true",
    "EventSelectors": [
        {
            "ReadWriteType": "All",
            "IncludeManagementEvents": "true",
            "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::trailkeeper-demo-logs/"]}],
        }
    ],
    "InsightSelectors": [{"InsightType": "ApiCallRateInsight"}],
    "Tags": [{"Key": "owner", "Value": "security"}],
}
TRAIL_PARAMETERS = ("Name", "TrailName", "ResourceId", "ResourceIdList")
READS = ("Describe", "Get", "List")


def by_name(calls: list[Call]) -> list[Call]:
    """The CloudTrail calls that name a trail otherwise than by its ARN."""
    named = []
    for made in (c for c in calls if c.service == "cloudtrail"):
        for key in TRAIL_PARAMETERS:
            values = made.params.get(key)
            for value in values if isinstance(values, list) else [] if values is None else [values]:
                if not str(value).startswith("arn:aws:cloudtrail:"):
                    named.append(made)
    return named


def writes(calls: list[Call]) -> list[str]:
    return [c.operation for c in calls if not c.operation.startswith(READS)]


def owner_view(trail_arn: str) -> dict[str, Any]:
    """The organization trail as its owner, the management account, reads it."""
    client = boto3.client("cloudtrail", region_name="us-east-1")
    return {
        "trail": client.get_trail(Name=trail_arn)["Trail"],
        "logging": client.get_trail_status(Name=trail_arn)["IsLogging"],
        "tags": client.list_tags(ResourceIdList=[trail_arn])["ResourceTagList"][0]["TagsList"],
        "insights": client.get_insight_selectors(TrailName=trail_arn)["InsightSelectors"]
        if client.get_trail(Name=trail_arn)["Trail"]["HasInsightSelectors"]
        else [],
    }


@pytest.fixture
def stack_in(cfn: ResponseServer, monkeypatch: pytest.MonkeyPatch) -> Callable[[RecordingClients, str], Invoker]:
    """An Invoker whose provider acts through `clients` for stacks of `account` (the event's StackId)."""

    def make(clients: RecordingClients, account: str) -> Invoker:
        resource = TrailSettingsResource(
            clients=lambda: clients, sender=response.Sender(ssl_context=cfn.client_context(), sleep=lambda _: None)
        )
        monkeypatch.setattr(handler, "RESOURCE", resource)
        return AccountInvoker(cfn, account)

    return make


class AccountInvoker(Invoker):
    """An Invoker whose events come from a stack of `account`."""

    def __init__(self, cfn: ResponseServer, account: str) -> None:
        super().__init__(cfn)
        self.account = account

    def __call__(self, name: str, context: Any = None, **changes: Any) -> dict[str, Any]:
        stack = f"arn:aws:cloudformation:us-east-1:{self.account}:stack/org-trail-settings/1a2b3c4d-5e6f-7a8b-9c0d"
        return super().__call__(name, context, StackId=stack, **changes)


def declare(invoke: Invoker, request: str = "create", physical_id: str = "", **properties: Any) -> dict[str, Any]:
    props = {"ServiceToken": "arn:aws:lambda:us-east-1:222233334444:function:tk", **properties}
    extra = {"PhysicalResourceId": physical_id} if request != "create" else {}
    return invoke(request, ResourceProperties=props, **extra)


def test_create_update_and_delete_from_the_delegated_administrator_manage_the_organization_trail_by_arn(
    delegated: organization.Delegated,
    administrator_clients: RecordingClients,
    stack_in: Callable[[RecordingClients, str], Invoker],
) -> None:
    invoke = stack_in(administrator_clients, delegated.administrator)
    arn = delegated.trail_arn

    created = declare(invoke, **WHOLE)
    assert created["Status"] == "SUCCESS", created["Reason"]
    assert created["PhysicalResourceId"] == arn and created["Data"]["TrailArn"] == arn
    assert created["Data"]["ChangedProperties"] == (
        "EnableLogFileValidation,IsLogging,EventSelectors,InsightSelectors,Tags"
    )
    seen = owner_view(arn)  # the management account's trail changed, as declared
    assert seen["trail"]["LogFileValidationEnabled"] is True and seen["logging"] is True
    assert seen["tags"] == [{"Key": "owner", "Value": "security"}]
    assert seen["insights"] == [{"InsightType": "ApiCallRateInsight"}]
    calls = administrator_clients.calls
    assert by_name(calls) == []  # every trail call by ARN (a name fails from here: TrailNotFoundException)
    trail_calls = [(c.operation, c.region) for c in calls if c.service == "cloudtrail"]
    assert [call for call in trail_calls if call[0] != "DescribeTrails"] == [
        (operation, "us-east-1")
        for operation in (
            "GetTrailStatus",  # the reads DescribeTrails does not answer (no custom selectors, no Insights yet)
            "ListTags",
            "UpdateTrail",  # the writes, in the owner's order
            "PutEventSelectors",
            "PutInsightSelectors",
            "AddTags",
            "StartLogging",
        )
    ]
    # Found by name: the name lookup sees no trail of this account, the listing shows the owner's ARN.
    assert [c.params for c in calls if c.operation == "DescribeTrails"] == [
        {"trailNameList": [organization.ORGANIZATION_TRAIL], "includeShadowTrails": True},
        {"includeShadowTrails": True},
    ]

    seen = list(calls)
    administrator_clients.calls.clear()
    again = declare(invoke, **WHOLE)  # a second run writes nothing; Organizations is not asked again
    assert again["Status"] == "SUCCESS" and again["Data"]["ChangedProperties"] == ""
    assert writes(administrator_clients.calls) == []
    assert administrator_clients.named("ListDelegatedAdministrators") == []
    assert by_name(administrator_clients.calls) == []  # now custom selectors and Insights: read, by ARN
    seen += administrator_clients.calls

    administrator_clients.calls.clear()
    updated = declare(invoke, "update", arn, **{**WHOLE, "Tags": [{"Key": "team", "Value": "audit"}]})
    assert updated["Status"] == "SUCCESS" and updated["Data"]["ChangedProperties"] == "Tags"
    assert sorted(writes(administrator_clients.calls)) == ["AddTags", "RemoveTags"]
    assert by_name(administrator_clients.calls) == []
    assert owner_view(arn)["tags"] == [{"Key": "team", "Value": "audit"}]
    seen += administrator_clients.calls
    # Every read and write of a trail the engine makes went by ARN (StopLogging: the guard's test, below).
    assert {c.operation for c in seen if c.service == "cloudtrail"} == {
        "DescribeTrails",
        "GetTrailStatus",
        "GetEventSelectors",
        "GetInsightSelectors",
        "ListTags",
        "UpdateTrail",
        "StartLogging",
        "PutEventSelectors",
        "PutInsightSelectors",
        "AddTags",
        "RemoveTags",
    }

    administrator_clients.calls.clear()
    deleted = declare(invoke, "delete", arn, **WHOLE)
    assert deleted["Status"] == "SUCCESS" and deleted["PhysicalResourceId"] == arn
    assert administrator_clients.calls == []  # removing the resource stops managing the trail; it writes nothing
    assert owner_view(arn)["logging"] is True


def test_the_delegated_administrator_makes_the_calls_the_owner_makes(
    delegated: organization.Delegated,
    administrator_clients: RecordingClients,
    clients: RecordingClients,
    stack_in: Callable[[RecordingClients, str], Invoker],
) -> None:
    # Two organization trails alike: the owner manages one from its own stack, the administrator the other.
    twin = organization.organization_trail(name="org-trail-twin")
    owner = declare(stack_in(clients, delegated.organization.management), **{**WHOLE, "Name": "org-trail-twin"})
    assert owner["Status"] == "SUCCESS", owner["Reason"]
    done = declare(stack_in(administrator_clients, delegated.administrator), **WHOLE)
    assert done["Status"] == "SUCCESS", done["Reason"]

    def trail_calls(made: list[Call], arn: str) -> list[tuple[str, str, str]]:
        return [
            (c.operation, c.region, repr(c.params).replace(arn, "<trail ARN>"))
            for c in made
            if c.service == "cloudtrail" and c.operation != "DescribeTrails"
        ]

    assert trail_calls(administrator_clients.calls, delegated.trail_arn) == trail_calls(clients.calls, twin)
    assert by_name(clients.calls) == []


def test_the_guard_dry_run_and_allow_weakening_hold_from_the_delegated_administrator(
    delegated: organization.Delegated,
    administrator_clients: RecordingClients,
    stack_in: Callable[[RecordingClients, str], Invoker],
) -> None:
    invoke = stack_in(administrator_clients, delegated.administrator)
    assert declare(invoke, **WHOLE)["Status"] == "SUCCESS"
    administrator_clients.calls.clear()

    planned = declare(invoke, **{**WHOLE, "IsLogging": "false", "DryRun": "true"})
    assert planned["Status"] == "SUCCESS"
    assert planned["Data"]["Plan"] == "StopLogging: IsLogging true -> false (weakens audit)"
    refused = declare(invoke, **{**WHOLE, "IsLogging": "false"})
    assert refused["Status"] == "FAILED" and refused["Reason"].startswith("WeakensAudit: allow it with AllowWeakening")
    assert writes(administrator_clients.calls) == []
    assert owner_view(delegated.trail_arn)["logging"] is True

    allowed = declare(invoke, **{**WHOLE, "IsLogging": "false", "AllowWeakening": ["IsLogging"]})
    assert allowed["Status"] == "SUCCESS" and writes(administrator_clients.calls) == ["StopLogging"]
    assert owner_view(delegated.trail_arn)["logging"] is False
    assert by_name(administrator_clients.calls) == []


def test_the_same_stack_in_a_plain_member_fails_naming_who_may_change_the_trail_and_writes_nothing(
    delegated: organization.Delegated, stack_in: Callable[[RecordingClients, str], Invoker]
) -> None:
    web = delegated.organization.members["web"]
    member = RecordingClients(session=organization.session_in(web))
    before = owner_view(delegated.trail_arn)
    answer = declare(stack_in(member, web), **WHOLE)
    assert answer["Status"] == "FAILED"
    # Organizations does not answer a plain member; CloudTrail refused it at its first call that may not reach
    # another account's trail (ListTags: tags are the owner's and its delegated administrator's).
    assert answer["Reason"] == (
        f"NotChangeableHere: org-trail is an organization trail of management account "
        f"{delegated.organization.management}: only it or CloudTrail's delegated administrator may change it; "
        f"CloudTrail refused account {web} (ListTags: CloudTrailARNInvalidException)"
    )
    assert writes(member.calls) == []
    assert owner_view(delegated.trail_arn) == before


def test_a_plain_member_is_refused_at_the_first_write_when_nothing_read_refuses_it(
    delegated: organization.Delegated, stack_in: Callable[[RecordingClients, str], Invoker]
) -> None:
    web = delegated.organization.members["web"]
    member = RecordingClients(session=organization.session_in(web))
    properties = {k: v for k, v in WHOLE.items() if k != "Tags"}
    answer = declare(stack_in(member, web), **properties)
    assert answer["Status"] == "FAILED"
    assert answer["Reason"].startswith("NotChangeableHere: org-trail is an organization trail of management account")
    assert answer["Reason"].endswith(f"refused account {web} (UpdateTrail: NotOrganizationMasterAccountException)")
    assert writes(member.calls) == ["UpdateTrail"]  # refused; the other writes are not even tried
    assert owner_view(delegated.trail_arn)["trail"]["LogFileValidationEnabled"] is False
    assert owner_view(delegated.trail_arn)["logging"] is False


def test_a_member_organizations_answers_is_refused_before_any_read_naming_the_delegated_administrator(
    delegated: organization.Delegated, stack_in: Callable[[RecordingClients, str], Invoker]
) -> None:
    # A delegated administrator of another service (GuardDuty) may ask Organizations: it is not CloudTrail's.
    web = delegated.organization.members["web"]
    boto3.client("organizations", region_name="us-east-1").register_delegated_administrator(
        AccountId=web, ServicePrincipal="guardduty.amazonaws.com"
    )
    member = RecordingClients(session=organization.session_in(web))
    answer = declare(stack_in(member, web), **WHOLE)
    assert answer["Status"] == "FAILED"
    assert answer["Reason"] == (
        f"NotChangeableHere: org-trail is an organization trail of management account "
        f"{delegated.organization.management}: only it or CloudTrail's delegated administrator (account "
        f"{delegated.administrator}) may change it, not account {web}"
    )
    assert [c.operation for c in member.calls] == ["DescribeTrails", "DescribeTrails", "ListDelegatedAdministrators"]


def test_converting_the_organization_trail_is_refused_from_the_delegated_administrator_before_any_write(
    delegated: organization.Delegated,
    administrator_clients: RecordingClients,
    stack_in: Callable[[RecordingClients, str], Invoker],
) -> None:
    invoke = stack_in(administrator_clients, delegated.administrator)
    answer = declare(invoke, Name=delegated.trail_arn, IsOrganizationTrail="false", AllowWeakening=True)
    assert answer["Status"] == "FAILED"
    assert answer["Reason"] == (
        f"InvalidProperties: IsOrganizationTrail=false: only the management account "
        f"{delegated.organization.management} may convert org-trail to or from an organization trail "
        f"(CloudTrail's rule), not account {delegated.administrator}: declare it there, or leave "
        "IsOrganizationTrail out"
    )
    assert writes(administrator_clients.calls) == []
    # Declared as it is, it is no conversion: in sync.
    same = declare(invoke, Name=delegated.trail_arn, IsOrganizationTrail="true")
    assert same["Status"] == "SUCCESS" and same["Data"]["ChangedProperties"] == ""


def test_a_key_alias_of_another_account_is_said_to_be_unchecked_not_written(
    delegated: organization.Delegated,
    administrator_clients: RecordingClients,
    stack_in: Callable[[RecordingClients, str], Invoker],
    world: Any,
) -> None:
    # The trail's key is the management account's (in a landing zone, the Security account's); its alias lives
    # there too, and KMS does not find it from the delegated administrator.
    boto3.client("cloudtrail", region_name="us-east-1").update_trail(Name=delegated.trail_arn, KmsKeyId=world.key_arn)
    invoke = stack_in(administrator_clients, delegated.administrator)
    alias = "alias/trailkeeper-demo"
    answer = declare(invoke, Name=delegated.trail_arn, KmsKeyId=alias, EnableLogFileValidation="true")
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["Data"]["ChangedProperties"] == "EnableLogFileValidation"
    assert answer["Reason"] == (
        f"KmsKeyId alias/trailkeeper-demo not compared: account {delegated.administrator} cannot resolve it "
        f"(DescribeKey: NotFoundException); the trail's key is {world.key_arn}: declare that key's ARN to compare it"
    )
    (update,) = administrator_clients.named("UpdateTrail")
    assert update.params == {"Name": delegated.trail_arn, "EnableLogFileValidation": True}
    # Declared by its ARN, the key compares without KMS: in sync.
    administrator_clients.calls.clear()
    by_arn = declare(invoke, Name=delegated.trail_arn, KmsKeyId=world.key_arn)
    assert by_arn["Status"] == "SUCCESS" and by_arn["Reason"] == "" and by_arn["Data"]["ChangedProperties"] == ""
    assert administrator_clients.named("DescribeKey") == []


def test_the_check_finds_any_trail_call_made_by_name() -> None:
    arn = "arn:aws:cloudtrail:us-east-1:111111111111:trail/org-trail"
    made = [
        Call("cloudtrail", "StartLogging", "us-east-1", {"Name": arn}),
        Call("cloudtrail", "GetEventSelectors", "us-east-1", {"TrailName": "org-trail"}),
        Call("cloudtrail", "ListTags", "us-east-1", {"ResourceIdList": [arn, "org-trail"]}),
        Call("cloudtrail", "AddTags", "us-east-1", {"ResourceId": "org-trail", "TagsList": []}),
        Call("ssm", "GetParameter", "us-east-1", {"Name": "/trailkeeper/desired-state"}),  # not a trail
    ]
    assert [c.operation for c in by_name(made)] == ["GetEventSelectors", "ListTags", "AddTags"]
