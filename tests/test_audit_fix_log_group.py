"""`audit --fix --log-group`: a log group serves only its own account and region, so --fix declares it only
where it exists (one DescribeLogGroups per home region that needs it) and refuses the rest rather than write a
group CloudTrail would reject (moto would accept it: aws-facts.md)."""

from __future__ import annotations

import boto3
from devkit import world as seeding
from devkit.recording import RecordingClients

from tests.test_audit_fix import HOME, OTHER, audit, cloudtrail, writes

NAME = seeding.LOG_GROUP


def _finding_of(result: object, trail: str) -> object:
    (finding,) = [f for f in result.findings if f.control == "CloudTrail.5" and f.resource == trail]  # type: ignore[attr-defined]
    return finding


def test_a_log_group_name_is_declared_only_in_the_regions_where_it_exists(
    world: seeding.World, clients: RecordingClients
) -> None:
    away = seeding.add_trail("away", OTHER)  # homed where no group of that name exists
    args = ("--region", OTHER, "--fix", "--log-group", NAME, "--log-role", world.role_arn)
    result = audit(clients, *args)
    here = _finding_of(result, world.trail_arn)
    there = _finding_of(result, away)
    assert here.fix == {  # type: ignore[attr-defined]
        "Name": world.trail_arn,
        "CloudWatchLogsLogGroupArn": world.log_group_arn,
        "CloudWatchLogsRoleArn": world.role_arn,
    }
    assert there.fix is None  # type: ignore[attr-defined]
    assert f"--log-group {NAME} does not exist in {OTHER} of account {seeding.ACCOUNT}" in there.reason  # type: ignore[attr-defined]
    assert sorted(c.region for c in clients.named("DescribeLogGroups")) == sorted([HOME, OTHER])
    assert "UpdateTrail" in writes(clients)
    refused = cloudtrail(OTHER).get_trail(Name=away)["Trail"]
    assert not refused.get("CloudWatchLogsLogGroupArn")  # nothing written where the group does not exist
    fixed = cloudtrail().get_trail(Name=world.trail_arn)["Trail"]
    assert fixed["CloudWatchLogsLogGroupArn"].removesuffix(":*") == world.log_group_arn


def test_a_log_group_arn_of_another_region_or_account_is_refused_without_a_call(
    world: seeding.World, clients: RecordingClients
) -> None:
    boto3.client("logs", region_name=OTHER).create_log_group(logGroupName=NAME)
    elsewhere = f"arn:aws:logs:{OTHER}:{seeding.ACCOUNT}:log-group:{NAME}"
    result = audit(clients, "--fix", "--dry-run", "--log-group", elsewhere, "--log-role", world.role_arn)
    finding = _finding_of(result, world.trail_arn)
    assert finding.fix is None  # type: ignore[attr-defined]
    assert f"it cannot serve a trail of account {seeding.ACCOUNT} homed in {HOME}" in finding.reason  # type: ignore[attr-defined]
    assert clients.named("DescribeLogGroups") == []


def test_a_log_group_that_is_not_there_any_more_is_found_missing_by_its_exact_name(
    world: seeding.World, clients: RecordingClients
) -> None:
    boto3.client("logs", region_name=HOME).create_log_group(logGroupName=NAME + "-old")  # a prefix match only
    result = audit(clients, "--fix", "--dry-run", "--log-group", NAME + "-o", "--log-role", world.role_arn)
    finding = _finding_of(result, world.trail_arn)
    assert finding.fix is None and "does not exist in us-east-1" in finding.reason  # type: ignore[attr-defined]
