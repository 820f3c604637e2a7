"""Direct invocations: drift-fix pipelines (Step Functions, EventBridge, CodePipeline) call the function.

`trailkeeper/routing.py` hands over the direct runs and the CloudTrail change events (never a custom
resource request, nor an organization step). They return the same JSON report as
`trailkeeper plan/apply --json`:

- `{"action": "plan" | "apply", "trails": [...]}`: the declared state inline;
- `{"action": "plan" | "apply"}`: the declared state from the SSM parameter named by the
  DESIRED_STATE_PARAMETER environment variable (the scheduled reconcile sends `{"action": "apply"}`);
  `drift/request.py` reads both forms, for this door and the organization's account steps;
- a CloudTrail management event from EventBridge ("AWS API Call via CloudTrail": CreateTrail,
  UpdateTrail, StopLogging, StartLogging, PutEventSelectors, PutInsightSelectors, AddTags, RemoveTags,
  DeleteTrail): apply the declared state of the trail that event names, so a change made by someone
  else is undone within seconds. A DeleteTrail of a declared trail cannot be undone here (trailkeeper
  never creates trails): it is reported as failed (TrailDeleted), counted and notified, never retried.

The loop guard: an event for a call that failed (`errorCode` set) changed nothing, and an event caused
by the function's own role is its own write; both are skipped (the report says why) and never lead to
a write. EventBridge filters both out already (template.yaml); this checks again because a rule can be
edited. A write of ours that keeps failing would otherwise trigger itself forever.

An invalid request raises (Step Functions can catch it by name); per-trail failures are in the report.
When NOTIFY_TOPIC_ARN is set, a run that fixed or failed something is published to that topic.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from trailkeeper import observability
from trailkeeper.aws.calls import ANSWER_RESERVE_SECONDS, Clients, Deadline, call, function_region, shared_clients
from trailkeeper.drift import fleet, report, request, state
from trailkeeper.drift.request import NOTIFY_TOPIC
from trailkeeper.errors import MalformedEvent, TrailDeleted, show
from trailkeeper.trail import arns
from trailkeeper.trail.declaration import Declaration

log = logging.getLogger(__name__)

# Reading the declared state from SSM (drift/request.py, for this door), and telling an SNS topic what was fixed.
PERMISSIONS = ("ssm:GetParameter", "sns:Publish")

ROLE_ARN = "TRAILKEEPER_ROLE_ARN"  # the function's own role (template.yaml sets it; Lambda does not)
# The CloudTrail calls that change a trail, and the request parameter that names it (a name or an ARN).
TRAIL_PARAMETER = {
    "CreateTrail": "name",
    "UpdateTrail": "name",
    "StartLogging": "name",
    "StopLogging": "name",
    "DeleteTrail": "name",
    "PutEventSelectors": "trailName",
    "PutInsightSelectors": "trailName",
    "AddTags": "resourceId",
    "RemoveTags": "resourceId",
}
DELETED = "DeleteTrail"


def clients() -> Clients:
    return shared_clients()


def _region() -> str:
    return function_region(fallback="us-east-1")  # Lambda always sets AWS_REGION


def _state_source() -> str:
    return request.state_source()


def _state_from_ssm(deadline: Deadline) -> list[Declaration]:
    return request.state_from_ssm(clients(), _region(), deadline)


def _short(name_or_arn: str) -> str:
    return name_or_arn.split(":trail/", 1)[-1]


@dataclass(frozen=True)
class TrailEvent:
    """What a CloudTrail management event says: the call, the trail it names, and why to skip it (if so)."""

    name: str
    trail: str | None
    region: str
    skip: str | None = None


def _own_role(identity: Mapping[str, Any]) -> bool:
    """True when the call was made by this function's role (so reacting to it could loop).

    With TRAILKEEPER_ROLE_ARN set (template.yaml does), only that exact role counts: only Lambda can
    assume it, so nobody else can pass for it. Without it, the role session Lambda names after the
    function (`assumed-role/<role>/<function name>`) is the evidence; a session name can be chosen by
    anyone who can assume some role, which is why the role ARN is preferred.
    """
    if identity.get("type") != "AssumedRole":
        return False
    context = identity.get("sessionContext")
    issuer = context.get("sessionIssuer") if isinstance(context, Mapping) else None
    issuer_arn = str(issuer.get("arn", "")) if isinstance(issuer, Mapping) else ""
    caller = str(identity.get("arn", ""))
    role_arn = os.environ.get(ROLE_ARN, "")
    if role_arn:
        if issuer_arn:
            return issuer_arn == role_arn
        role_name, account = role_arn.rsplit("/", 1)[-1], arns.account_of(role_arn)
        return arns.account_of(caller) == account and caller.split(":", 5)[-1].split("/")[1:2] == [role_name]
    function = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
    session = caller.rsplit("/", 1)[-1] if ":assumed-role/" in caller else ""
    return bool(function) and session == function


def trail_event(event: Mapping[str, Any]) -> TrailEvent:
    """Read a CloudTrail management event, or raise MalformedEvent."""
    detail = event.get("detail")
    if not isinstance(detail, Mapping):
        raise MalformedEvent(f"a CloudTrail event's detail must be an object, not {type(detail).__name__}")
    parameters = detail.get("requestParameters")
    if parameters is not None and not isinstance(parameters, Mapping):
        raise MalformedEvent(f"requestParameters must be an object, not {type(parameters).__name__}")
    identity = detail.get("userIdentity")
    if identity is not None and not isinstance(identity, Mapping):
        raise MalformedEvent(f"userIdentity must be an object, not {type(identity).__name__}")
    call_name = detail.get("eventName")
    region = detail.get("awsRegion")
    region = region if isinstance(region, str) and region else _region()
    if not isinstance(call_name, str) or call_name not in TRAIL_PARAMETER:
        return TrailEvent(str(call_name), None, region, f"{show(call_name)} is not a trail change trailkeeper watches")
    named = (parameters or {}).get(TRAIL_PARAMETER[call_name])
    trail = named if isinstance(named, str) and named else None
    if detail.get("errorCode"):
        skip = f"{call_name} failed ({show(detail.get('errorCode'))}): it changed nothing"
    elif _own_role(identity or {}):
        skip = f"{call_name} was made by trailkeeper's own role: never reacted to (loop guard)"
    elif trail is None:
        skip = f"{call_name} names no trail in requestParameters.{TRAIL_PARAMETER[call_name]}"
    else:
        skip = None
    return TrailEvent(call_name, trail, region, skip)


def _names(declared: Declaration, trail: str) -> bool:
    if declared.name.startswith("arn:") and trail.startswith("arn:"):
        return declared.name == trail
    return _short(declared.name) == _short(trail)


def _notify(result: report.Report, deadline: Deadline) -> None:
    topic = os.environ.get(NOTIFY_TOPIC, "")
    if not topic or not (result.count("fixed") or result.count("failed")):
        return
    message = report.table(result) + "\n\n" + json.dumps(result.to_dict(), indent=2)
    subject = f"trailkeeper: {result.count('fixed')} fixed, {result.count('failed')} failed"
    call(
        "Publish",
        lambda: (
            clients()
            .client("sns", arns.region_of(topic) or _region())
            .publish(TopicArn=topic, Subject=subject[:100], Message=message[:250_000])
        ),
        deadline=deadline,
    )


def _deleted(declarations: Sequence[Declaration], seen: TrailEvent) -> report.Report:
    """A declared trail was deleted: say so loudly; there is nothing this tool can write to repair it."""
    results = []
    for declared in declarations:
        trail_arn = declared.name if declared.name.startswith("arn:") else None
        error = TrailDeleted(
            f"{declared.name} was deleted (DeleteTrail in {seen.region}); trailkeeper keeps the settings of "
            "existing trails and cannot recreate it: recreate the trail, then the next reconcile applies its settings"
        )
        results.append(report.TrailResult(declared.name, "failed", trail_arn, seen.region, error=error))
    if results:
        observability.count(observability.TRAILS_DELETED, len(results))
    return report.Report("apply", tuple(results))


def _run(event: Any, deadline: Deadline, context: Any, trail_change: bool) -> report.Report:
    if trail_change:
        seen = trail_event(event)
        if seen.skip or seen.trail is None:
            log.info("event skipped", extra={"event_name": seen.name, "why": seen.skip})
            return report.Report("apply", (), skipped=seen.skip)
        everything = _state_from_ssm(deadline)
        warnings = () if everything else (state.empty_warning(_state_source()),)
        declarations: Sequence[Declaration] = [d for d in everything if _names(d, seen.trail)]
        if seen.name == DELETED:
            return dataclasses.replace(_deleted(declarations, seen), warnings=warnings)
        action = "apply"
    else:
        action, declarations = request.read(event, clients(), _region(), deadline)
        source = "event" if isinstance(event, Mapping) and "trails" in event else _state_source()
        warnings = () if declarations else (state.empty_warning(source),)
    result = fleet.run(
        declarations,
        clients=clients(),
        default_region=_region(),
        caller_account=arns.account_of(getattr(context, "invoked_function_arn", "")) or None,
        apply=action == "apply",
        deadline=deadline,
    )
    return dataclasses.replace(result, warnings=warnings)


def handle(event: Any, context: Any, trail_change: bool = False) -> dict[str, Any]:
    """Serve a direct run, or (`trail_change`, as routing.py found it) a CloudTrail change event."""
    remaining = context.get_remaining_time_in_millis() / 1000.0 if context else None
    deadline = Deadline(None if remaining is None else max(0.0, remaining - ANSWER_RESERVE_SECONDS))
    result = _run(event, deadline, context, trail_change)
    if result.skipped:
        return result.to_dict()
    for warning in result.warnings:
        log.warning(warning)
    drifted = result.count("drifted") + result.count("fixed")
    if drifted:
        observability.count(observability.DRIFT_FOUND, drifted)
    if result.count("fixed"):
        observability.count(observability.DRIFT_FIXED, result.count("fixed"))
    for trail in result.results:
        if trail.error is not None:
            observability.count_failure(trail.error.error_code)
    log.info("drift run", extra={"summary": result.summary(), "action": result.action})
    try:
        _notify(result, deadline)
    except Exception:  # the fix is done; a failed notification must not turn it into an error
        log.exception("could not publish the notification")
    return result.to_dict()
