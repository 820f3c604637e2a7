"""A DryRun's answer stays within CloudFormation's 4,096 bytes by trimming its Plan, never by losing TrailArn.

Issue 15, item 12: the bound is bytes of the encoded answer, and a non-ASCII character is a six-byte JSON
escape (twelve beyond the Basic Multilingual Plane), so a Plan capped in characters could still push the
answer past it, and the whole Data (TrailArn with it) was dropped.
"""

from __future__ import annotations

from typing import Any

import boto3
from devkit import world as seeding
from devkit.cfn_server import ResponseServer
from devkit.events import load
from devkit.lambda_context import LambdaContext

from trailkeeper import handler
from trailkeeper.cfn import response
from trailkeeper.cfn.resource import TrailSettingsResource, plan_summary
from trailkeeper.engine import Outcome
from trailkeeper.trail.aspect import UPDATE_TRAIL, Call, Change

ARN = "arn:aws:cloudtrail:us-east-1:123456789012:trail/audit-trail"
EMOJI, CJK = "\U0001f600", "\u65e5\u5fd7"  # twelve bytes as a JSON escape; six bytes each


def answer_of(cfn: ResponseServer, name: str, **properties: Any) -> tuple[dict[str, Any], int]:
    """The answer CloudFormation got for sample event `name` declaring `properties`, and its size in bytes."""
    url = cfn.url()
    props = {"ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:tk", "Name": "audit-trail", **properties}
    handler.lambda_handler(load(name, url, ResourceProperties=props), LambdaContext())
    (received,) = cfn.for_url(url)
    return received.body, int(received.headers["content-length"])


def test_a_dry_run_full_of_non_ascii_values_keeps_trail_arn_and_as_much_plan_as_fits(
    world: seeding.World, provider: TrailSettingsResource, cfn: ResponseServer
) -> None:
    trail = boto3.client("cloudtrail", region_name="us-east-1")
    trail.start_logging(Name=ARN)
    trail.update_trail(Name=ARN, S3KeyPrefix=EMOJI * 200)  # someone moved the prefix (200: CloudTrail's most)
    tags = [{"Key": f"team{i}", "Value": CJK * 100} for i in range(40)]
    answer, size = answer_of(cfn, "create", DryRun="true", IsLogging="false", S3KeyPrefix="\U0001f4dc" * 200, Tags=tags)
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert size <= response.BODY_LIMIT
    data = answer["Data"]
    assert (data["TrailArn"], data["HomeRegion"]) == (ARN, "us-east-1")  # `!GetAtt X.TrailArn` still works
    assert data["ChangedProperties"] == "S3KeyPrefix,IsLogging,Tags"
    # StopLogging fits whole; UpdateTrail's 400 emoji (4,800 bytes) cannot: it and what follows are counted.
    assert data["Plan"] == "StopLogging: IsLogging true -> false (weakens audit) (+2 more)"


def outcome_of(values: list[str]) -> Outcome:
    changes = tuple(Change(f"P{i}", "", value) for i, value in enumerate(values))
    writes = tuple(Call("UpdateTrail", {}, UPDATE_TRAIL, (f"P{i}",)) for i in range(len(values)))
    return Outcome(ARN, "us-east-1", changes, writes, False, "")


def test_the_plan_takes_every_byte_the_answer_has_left_and_not_one_more() -> None:
    event = {"StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/s/" + "a" * 36, "RequestId": "r" * 36}
    outcome = outcome_of([CJK * 40] * 30)  # each part ~500 bytes encoded; 30 of them: far too many
    data = {"TrailArn": ARN, "HomeRegion": "us-east-1", "ChangedProperties": ",".join(f"P{i}" for i in range(30))}
    document = response.body(
        event,
        status=response.SUCCESS,
        physical_id=ARN,
        data=data,
        fitted={"Plan": lambda room: plan_summary(outcome, room, response.encoded_size)},
        keep=("TrailArn",),
    )
    size = len(response.encode(document))
    plan = document["Data"]["Plan"]
    assert size <= response.BODY_LIMIT and document["Data"]["TrailArn"] == ARN
    shown = plan.count("UpdateTrail: ")
    assert 1 < shown < 30 and plan.endswith(f" (+{30 - shown} more)")
    one_more = plan_summary(outcome_of([CJK * 40] * (shown + 1)), 10**6)  # one part more would not fit
    assert size - response.encoded_size(plan) + response.encoded_size(one_more) > response.BODY_LIMIT


def test_trail_arn_is_kept_when_the_other_values_cannot_fit() -> None:
    data = {"TrailArn": ARN, "Big": EMOJI * 400}
    document = response.body({}, status=response.SUCCESS, physical_id=ARN, data=data, keep=("TrailArn",))
    assert document["Data"] == {"TrailArn": ARN} and len(response.encode(document)) <= response.BODY_LIMIT
