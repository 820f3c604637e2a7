"""Least privilege: template.yaml grants exactly the actions the code declares, and the code makes no
AWS call outside them."""

from __future__ import annotations

from typing import Any

import boto3
from devkit import template
from devkit import world as seeding

from tests.conftest import Invoker, RecordingClients
from trailkeeper import permissions


def role_statements() -> list[dict[str, Any]]:
    resources = template.load()["Resources"]
    (policy,) = resources["TrailSettingsRole"]["Properties"]["Policies"]
    statements = []
    for written in policy["PolicyDocument"]["Statement"]:
        # An optional statement is written as Fn::If [condition, statement, AWS::NoValue].
        statements.append(written["Fn::If"][1] if "Fn::If" in written else written)
    return statements


def actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def test_the_template_grants_exactly_the_declared_actions() -> None:
    granted = [a for s in role_statements() for a in actions(s)]
    assert sorted(granted) == sorted(permissions.required())  # no more, no fewer, no duplicates
    assert all("*" not in a for a in granted)  # no wildcard actions
    assert all(s["Effect"] == "Allow" for s in role_statements())


def test_only_describe_trails_and_describe_regions_have_an_unscoped_resource() -> None:
    unscoped = [a for s in role_statements() if s["Resource"] == "*" for a in actions(s)]
    assert unscoped == ["cloudtrail:DescribeTrails", "ec2:DescribeRegions"]


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
