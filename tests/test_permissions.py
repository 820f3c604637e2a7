"""Least privilege: template.yaml grants exactly the actions the code declares, and the code makes no
AWS call outside them."""

from __future__ import annotations

from typing import Any

import boto3
from devkit import template
from devkit import world as seeding

from tests.conftest import Invoker, RecordingClients
from trailkeeper import permissions
from trailkeeper.audit import buckets


def conditional_statements() -> list[tuple[str | None, dict[str, Any]]]:
    """(condition or None, statement) for each statement of the provider's role."""
    resources = template.load()["Resources"]
    (policy,) = resources["TrailSettingsRole"]["Properties"]["Policies"]
    statements: list[tuple[str | None, dict[str, Any]]] = []
    for written in policy["PolicyDocument"]["Statement"]:
        # An optional statement is written as Fn::If [condition, statement, AWS::NoValue].
        if "Fn::If" in written:
            statements.append((written["Fn::If"][0], written["Fn::If"][1]))
        else:
            statements.append((None, written))
    return statements


def role_statements() -> list[dict[str, Any]]:
    return [statement for _, statement in conditional_statements()]


def actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def test_the_template_grants_exactly_the_declared_actions() -> None:
    granted = [a for s in role_statements() for a in actions(s)]
    provider = permissions.required(
        permissions.MODULES
        + permissions.PROVIDER_MODULES
        + permissions.AUDIT_MODULES
        + permissions.GUARD_MODULES
        + permissions.REPAIR_MODULES
    )
    assert set(granted) == provider  # no more, no fewer
    # An action is granted twice only on different resources (the audit's memory is another parameter
    # than the declared state; an organization trail is another account's).
    granted_on = [(a, str(s["Resource"])) for s in role_statements() for a in actions(s)]
    assert len(granted_on) == len(set(granted_on))
    assert all("*" not in a for a in granted)  # no wildcard actions
    assert all(s["Effect"] == "Allow" for s in role_statements())


def test_a_stack_without_audit_gets_exactly_what_it_had_and_no_bucket_reads() -> None:
    optional = {"Audits", "ReadsDeliveryChain", "RepairsDelivery"}  # EnableAudit, GuardDelivery
    audit_only = [
        a
        for condition, s in conditional_statements()
        if condition in optional - {"RepairsDelivery"}
        for a in actions(s)
    ]
    without = {a for condition, s in conditional_statements() if condition not in optional for a in actions(s)}
    assert without == permissions.required(permissions.MODULES + permissions.PROVIDER_MODULES)
    assert {a for a in audit_only if a.startswith("s3:")} == set(buckets.PERMISSIONS)
    assert "ssm:PutParameter" in audit_only and "ssm:PutParameter" not in without
    assert permissions.required(permissions.AUDIT_MODULES) - without == set(audit_only) - without


def test_the_delivery_guard_reads_the_chain_and_writes_policies_only_when_it_repairs() -> None:
    by_condition: dict[str | None, set[str]] = {}
    for condition, statement in conditional_statements():
        by_condition.setdefault(condition, set()).update(actions(statement))
    guard = permissions.required(permissions.GUARD_MODULES)
    assert guard <= by_condition["ReadsDeliveryChain"] | by_condition[None] | {"sns:Publish", "ssm:GetParameter"}
    assert by_condition["RepairsDelivery"] == permissions.required(permissions.REPAIR_MODULES)
    conditions = template.load()["Conditions"]
    assert conditions["ReadsDeliveryChain"] == {"Fn::Or": [{"Condition": "Audits"}, {"Condition": "GuardsDelivery"}]}


def test_only_describe_trails_describe_regions_and_the_identity_have_an_unscoped_resource() -> None:
    unscoped = [a for s in role_statements() if s["Resource"] == "*" for a in actions(s)]
    # GetCallerIdentity (the audit's: which account it judges), ListDelegatedAdministrators (is this account
    # CloudTrail's delegated administrator?) and DescribeOrganization (the delivery standard: an organization
    # trail's folder) have no resource to narrow to.
    assert sorted(unscoped) == [
        "cloudtrail:DescribeTrails",
        "ec2:DescribeRegions",
        "organizations:DescribeOrganization",
        "organizations:ListDelegatedAdministrators",
        "sts:GetCallerIdentity",
    ]


def test_only_the_delegated_administrators_stack_reaches_the_management_accounts_trails_and_asks_organizations() -> (
    None
):
    loaded = template.load()
    assert loaded["Conditions"]["DelegatedAdministrator"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "OrganizationManagementAccountId"}, ""]}]
    }
    assert loaded["Parameters"]["OrganizationManagementAccountId"]["Default"] == ""
    by_sid = {s["Sid"]: (condition, s) for condition, s in conditional_statements()}
    management_trails = {"Fn::Sub": "arn:${AWS::Partition}:cloudtrail:*:${OrganizationManagementAccountId}:trail/*"}
    for sid, condition in (
        ("ReadOrganizationTrails", "DelegatedAdministrator"),
        ("UpdateOrganizationTrails", "DelegatedAllTrails"),  # a narrowed TrailNames names them already
    ):
        assert by_sid[sid][0] == condition and by_sid[sid][1]["Resource"] == management_trails
    reads, writes = by_sid["ReadOrganizationTrails"][1], by_sid["UpdateOrganizationTrails"][1]
    assert sorted(actions(reads)) == sorted(actions(by_sid["ReadTrailAspects"][1]))
    assert sorted(actions(writes)) == sorted(actions(by_sid["UpdateTrails"][1]))
    assert by_sid["TellDelegatedAdministrator"][0] == "DelegatedAdministrator"
    variables = loaded["Resources"]["TrailSettingsFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["TRAILKEEPER_DELEGATED_ADMINISTRATOR"] == {"Fn::If": ["DelegatedAdministrator", "true", "false"]}
    assert {c for c, s in conditional_statements() if "organizations:ListDelegatedAdministrators" in actions(s)} == {
        "DelegatedAdministrator"
    }


def test_only_the_management_account_may_forward_its_trail_changes_to_this_bus() -> None:
    loaded = template.load()
    policy = loaded["Resources"]["ForwardedTrailChangesPolicy"]
    assert policy["Condition"] == "ReceivesForwardedChanges"
    assert loaded["Conditions"]["ReceivesForwardedChanges"] == {
        "Fn::And": [{"Condition": "DelegatedAdministrator"}, {"Condition": "ReconcilesOnChanges"}]
    }
    statement = policy["Properties"]["Statement"]
    assert statement["Principal"] == {
        "AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${OrganizationManagementAccountId}:root"}
    }
    assert statement["Action"] == "events:PutEvents" and policy["Properties"]["EventBusName"] == "default"


def test_the_audit_reads_buckets_of_this_account_only_and_remembers_in_its_own_parameter() -> None:
    by_sid = {s["Sid"]: s for s in role_statements()}
    assert by_sid["AuditLogBuckets"]["Condition"] == {"StringEquals": {"s3:ResourceAccount": {"Ref": "AWS::AccountId"}}}
    memory = by_sid["AuditMemory"]
    assert sorted(actions(memory)) == ["ssm:GetParameter", "ssm:PutParameter"]
    assert memory["Resource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${AuditStateParameter}"
    }


def test_pass_role_is_only_to_cloudtrail() -> None:
    (statement,) = [s for s in role_statements() if "iam:PassRole" in actions(s)]
    assert statement["Condition"] == {"StringEquals": {"iam:PassedToService": "cloudtrail.amazonaws.com"}}


def test_every_call_the_provider_makes_is_declared(
    world: seeding.World, invoke: Invoker, clients: RecordingClients
) -> None:
    # As real CloudTrail would have it: the trail already has a key, stored as its ARN.
    boto3.client("cloudtrail", region_name="us-east-1").update_trail(Name="audit-trail", KmsKeyId=world.key_arn)
    for name in ("create", "update", "update-noop", "delete", "invalid"):
        invoke(name)
    made = {f"{c.service}:{c.operation}" for c in clients.calls}
    assert made == {"cloudtrail:DescribeTrails", "cloudtrail:UpdateTrail", "kms:DescribeKey"}
    assert made <= permissions.required()
