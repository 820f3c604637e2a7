"""AWS calls per event, counted on the calls actually made against the local AWS (moto)."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
from devkit import fidelity, world
from devkit.cfn_server import ResponseServer
from devkit.events import load
from devkit.lambda_context import LambdaContext
from devkit.recording import RecordingClients
from moto import mock_aws

from bench.common import Row
from trailkeeper import handler
from trailkeeper.cfn import response
from trailkeeper.cfn.resource import TrailSettingsResource

Prepare = Callable[[world.World], None]


@dataclass(frozen=True)
class Scenario:
    name: str
    event: str
    properties: dict[str, Any] | None = None  # None: the sample event's own
    prepare: Prepare | None = None
    limit: tuple[int, int] = (1, 1)  # reads, writes
    note: str = ""


def _key_is_stored_as_arn(seeded: world.World) -> None:
    """Real CloudTrail stores a key as its ARN whatever form was sent (moto keeps what it got)."""
    boto3.client("cloudtrail", region_name=world.HOME).update_trail(Name=world.TRAIL, KmsKeyId=seeded.key_arn)


def _already_declared_state(seeded: world.World) -> None:
    """The trail already as update-noop.json declares it, stored the way CloudTrail stores it."""
    props = {
        k: v
        for k, v in load("update-noop")["ResourceProperties"].items()
        if k not in ("ServiceToken", "ServiceTimeout", "Name")
    }
    props.update({k: v == "true" for k, v in props.items() if v in ("true", "false")})
    props.update(KmsKeyId=seeded.key_arn, CloudWatchLogsLogGroupArn=props["CloudWatchLogsLogGroupArn"] + ":*")
    boto3.client("cloudtrail", region_name=world.HOME).update_trail(Name=world.TRAIL, **props)


def _trail_homed_elsewhere(seeded: world.World) -> None:
    world.add_trail("eu-trail", "eu-west-1", IsMultiRegionTrail=True)


ARN = "arn:aws:cloudtrail:us-east-1:123456789012:trail/audit-trail"
DATA_SELECTORS = [
    {
        "ReadWriteType": "All",
        "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::trailkeeper-demo-logs-2/"]}],
    }
]
EVERY_ASPECT = {
    "Name": "audit-trail",
    "EnableLogFileValidation": "true",
    "IsLogging": "true",
    "EventSelectors": DATA_SELECTORS,
    "InsightSelectors": [{"InsightType": "ApiCallRateInsight"}],
    "Tags": [{"Key": "team", "Value": "security"}],
}


def _cloudtrail() -> Any:
    return boto3.client("cloudtrail", region_name=world.HOME)


def _every_aspect_already_right(seeded: world.World) -> None:
    _cloudtrail().update_trail(Name=world.TRAIL, EnableLogFileValidation=True)
    _cloudtrail().put_event_selectors(TrailName=ARN, EventSelectors=DATA_SELECTORS)
    _cloudtrail().put_insight_selectors(TrailName=ARN, InsightSelectors=[{"InsightType": "ApiCallRateInsight"}])
    _cloudtrail().add_tags(ResourceId=ARN, TagsList=[{"Key": "team", "Value": "security"}])
    _cloudtrail().start_logging(Name=ARN)


def _logging(seeded: world.World) -> None:
    _cloudtrail().start_logging(Name=ARN)


def _other_tag(seeded: world.World) -> None:
    _cloudtrail().add_tags(ResourceId=ARN, TagsList=[{"Key": "owner", "Value": "nobody"}])


def _noop_with_key_arn(seeded: world.World) -> dict[str, Any]:
    return dict(load("update-noop")["ResourceProperties"], KmsKeyId=seeded.key_arn)


SCENARIOS = (
    Scenario("Create by name, 7 settings change", "create"),
    Scenario(
        "Create by ARN",
        "create",
        {
            "Name": "arn:aws:cloudtrail:us-east-1:123456789012:trail/audit-trail",
            "EnableLogFileValidation": "true",
            "S3KeyPrefix": "by-arn",
        },
    ),
    Scenario(
        "Create, trail homed in eu-west-1 (by name)",
        "create",
        {"Name": "eu-trail", "EnableLogFileValidation": "true"},
        prepare=_trail_homed_elsewhere,
    ),
    Scenario(
        "Update, nothing to change (key by ARN)", "update-noop", {}, prepare=_already_declared_state, limit=(1, 0)
    ),
    Scenario(
        "Update, nothing to change (key by alias)",
        "update-noop",
        prepare=_already_declared_state,
        limit=(2, 0),
        note="+1 read: only KMS knows which key an alias names",
    ),
    Scenario("Delete", "delete", limit=(0, 0)),
    # The whole trail (moto held to CloudTrail's behaviour by devkit.fidelity). The limit: one read per
    # declared aspect DescribeTrails does not answer, one write per aspect that differs, none in sync.
    Scenario("IsLogging: start a stopped trail", "create", {"Name": "audit-trail", "IsLogging": "true"}, limit=(2, 1)),
    Scenario(
        "IsLogging: in sync", "create", {"Name": "audit-trail", "IsLogging": "true"}, prepare=_logging, limit=(2, 0)
    ),
    Scenario(
        "EventSelectors: [] on a fresh trail",
        "create",
        {"Name": "audit-trail", "EventSelectors": []},
        limit=(1, 0),
        note="DescribeTrails says the default selector: no read",
    ),
    Scenario("EventSelectors: add data events", "create", {"Name": "audit-trail", "EventSelectors": DATA_SELECTORS}),
    Scenario(
        "InsightSelectors: turn on",
        "create",
        {"Name": "audit-trail", "InsightSelectors": [{"InsightType": "ApiCallRateInsight"}]},
        note="DescribeTrails says there are none: no read",
    ),
    Scenario(
        "Tags: one to add, one to remove",
        "create",
        {"Name": "audit-trail", "Tags": [{"Key": "team", "Value": "security"}]},
        prepare=_other_tag,
        limit=(2, 2),
        note="tags are written by RemoveTags and AddTags",
    ),
    Scenario(
        "Every aspect declared, all differ",
        "create",
        EVERY_ASPECT,
        limit=(3, 5),
        note="selectors and Insights answered by DescribeTrails",
    ),
    Scenario(
        "Every aspect declared, in sync", "create", EVERY_ASPECT, prepare=_every_aspect_already_right, limit=(5, 0)
    ),
    Scenario(
        "Weakening refused (StopLogging)",
        "create",
        {"Name": "audit-trail", "IsLogging": "false"},
        prepare=_logging,
        limit=(2, 0),
        note="FAILED WeakensAudit, nothing written",
    ),
)


def _measure(cfn: ResponseServer, scenario: Scenario) -> Row:
    with fidelity.cloudtrail_as_aws(), mock_aws():
        seeded = world.seed()
        if scenario.prepare:
            scenario.prepare(seeded)
        clients = RecordingClients()
        handler.RESOURCE = TrailSettingsResource(
            clients=lambda: clients, sender=response.Sender(ssl_context=cfn.client_context())
        )
        changes: dict[str, Any] = {}
        if scenario.properties == {}:
            changes["ResourceProperties"] = _noop_with_key_arn(seeded)
        elif scenario.properties is not None:
            changes["ResourceProperties"] = scenario.properties
        url = cfn.url()
        with contextlib.redirect_stdout(io.StringIO()):
            handler.lambda_handler(load(scenario.event, url, **changes), LambdaContext())
        handler.RESOURCE = None
    answers = cfn.for_url(url)
    reads, writes = clients.reads(), clients.writes()
    operations = ", ".join(c.operation for c in clients.calls) or "none"
    within = reads <= scenario.limit[0] and writes <= scenario.limit[1] and len(answers) == 1
    verdict = ("within" if within else "OVER") + (f"; {scenario.note}" if scenario.note else "")
    return Row(
        "AWS calls per event",
        scenario.name,
        f"{reads} read + {writes} write: {operations}",
        f"<= {scenario.limit[0]} read + {scenario.limit[1]} write",
        verdict,
        {
            "reads": reads,
            "writes": writes,
            "operations": [c.operation for c in clients.calls],
            "answers": len(answers),
            "status": answers[0].body["Status"] if answers else None,
        },
    )


def run() -> list[Row]:
    cfn = ResponseServer()
    try:
        return [_measure(cfn, scenario) for scenario in SCENARIOS]
    finally:
        cfn.close()
