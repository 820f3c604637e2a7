"""Direct invocations: drift-fix pipelines (Step Functions, EventBridge, CodePipeline) call the function.

`trailkeeper/routing.py` hands over the direct runs and the CloudTrail change events (never a custom
resource request, nor an organization step). They return the same JSON report as
`trailkeeper plan/apply --json`:

- `{"action": "plan" | "apply", "trails": [...]}`: the declared state inline;
- `{"action": "plan" | "apply"}`: the declared state from the SSM parameter named by the
  DESIRED_STATE_PARAMETER environment variable (the scheduled reconcile sends `{"action": "apply"}`);
  `fleet/request.py` reads both forms, for this door and the organization's account steps;
- a CloudTrail management event from EventBridge ("AWS API Call via CloudTrail": CreateTrail,
  UpdateTrail, StopLogging, StartLogging, PutEventSelectors, PutInsightSelectors, AddTags, RemoveTags,
  DeleteTrail): apply the declared state of the trail that event names, so a change made by someone
  else is undone within seconds. Every such call is made in the trail's home region, so the event's
  region (and account) say which trail it is: a trail of the same name in another region is another
  trail. The declarations that cover it are found as a run finds them (names, ARNs, patterns with
  their Match: `fleet/matching.py`), with one DescribeTrails in that region. A DeleteTrail of a trail
  declared by name or ARN cannot be undone here (trailkeeper never creates trails): it is reported as
  failed (TrailDeleted), counted and notified, never retried. A pattern does not declare that any one
  trail exists, so a trail only a pattern covered is not reported deleted.

The loop guard: an event for a call that failed (`errorCode` set) changed nothing, and an event caused
by the function's own role is its own write; both are skipped (the report says why) and never lead to
a write. EventBridge filters both out already (template.yaml); this checks again because a rule can be
edited. A write of ours that keeps failing would otherwise trigger itself forever.

An invalid request raises (Step Functions can catch it by name), and so does a state whose
declarations matched no trail at all (NothingMatched); per-trail failures are in the report. Names and
patterns are looked for in every region enabled for the account (docs/fleet.md).
When NOTIFY_TOPIC_ARN is set, a run that fixed or failed something is published to that topic.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from trailkeeper import observability
from trailkeeper.aws.calls import ANSWER_RESERVE_SECONDS, Clients, Deadline, call, function_region, shared_clients
from trailkeeper.errors import MalformedEvent, TrailDeleted, show
from trailkeeper.fleet import matching, report, request, state
from trailkeeper.fleet import reconcile as fleet
from trailkeeper.fleet.request import NOTIFY_TOPIC
from trailkeeper.trail import arns
from trailkeeper.trail.declaration import Declaration

log = logging.getLogger(__name__)

# Reading the declared state from SSM (fleet/request.py, for this door), and telling an SNS topic what was fixed.
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


def _is_arn(name_or_arn: str | None) -> bool:
    return bool(name_or_arn and name_or_arn.startswith("arn:"))


@dataclass(frozen=True)
class TrailEvent:
    """What a CloudTrail management event says: the call, the trail it names, and why to skip it (if so)."""

    name: str
    trail: str | None
    region: str
    skip: str | None = None
    account: str | None = None  # the account the call was made in, when the event says


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
    account = detail.get("recipientAccountId") or event.get("account")
    account = account if isinstance(account, str) and account else None
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
    if trail is not None and trail.startswith("arn:"):
        region, account = arns.region_of(trail) or region, arns.account_of(trail) or account
    return TrailEvent(call_name, trail, region, skip, account)


def _covering(declarations: Sequence[Declaration], seen: TrailEvent) -> list[tuple[int, Declaration]]:
    """The declarations (with their place in the state) that may cover the trail the event names."""
    trail = seen.trail or ""
    return [
        (index, declared)
        for index, declared in enumerate(declarations)
        if matching.may_cover(declared, region=seen.region, account=seen.account, trail=trail)
    ]


def _the_trail(seen: TrailEvent) -> Callable[[Mapping[str, Any]], bool]:
    """Picks, among the trails of the event's region, the one the event names (homed there)."""
    trail = seen.trail or ""
    if trail.startswith("arn:"):
        return lambda found: found.get("TrailARN") == trail

    def named(found: Mapping[str, Any]) -> bool:
        arn = str(found.get("TrailARN", ""))
        mine = not seen.account or arns.account_of(arn) == seen.account
        return found.get("Name") == trail and matching.home_region(found) == seen.region and mine

    return named


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
    for index, declared in _covering(declarations, seen):
        if declared.is_pattern:
            continue
        trail_arn = declared.name if declared.name.startswith("arn:") else seen.trail if _is_arn(seen.trail) else None
        error = TrailDeleted(
            f"{declared.name} was deleted (DeleteTrail in {seen.region}); trailkeeper keeps the settings of "
            "existing trails and cannot recreate it: recreate the trail, then the next reconcile applies its settings"
        )
        results.append(
            report.TrailResult(
                _short(seen.trail or declared.name),
                "failed",
                trail_arn,
                seen.region,
                error=error,
                declared_by=((index, declared.name),),
            )
        )
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
        if seen.name == DELETED:
            return dataclasses.replace(_deleted(everything, seen), warnings=warnings)
        covering = _covering(everything, seen)
        result = fleet.run(
            [declared for _, declared in covering],
            clients=clients(),
            default_region=_region(),
            caller_account=arns.account_of(getattr(context, "invoked_function_arn", "")) or None,
            apply=True,
            deadline=deadline,
            regions=[seen.region],  # where the trail is homed: one DescribeTrails, and only if something covers it
            only=_the_trail(seen),
            numbers=[index for index, _ in covering],
        )
        return dataclasses.replace(result, warnings=warnings)
    action, declarations = request.read(event, clients(), _region(), deadline)
    source = "event" if isinstance(event, Mapping) and "trails" in event else _state_source()
    warnings = () if declarations else (state.empty_warning(source),)
    result = fleet.run(
        declarations,
        clients=clients(),
        default_region=_region(),  # names and patterns: every region enabled for the account
        caller_account=arns.account_of(getattr(context, "invoked_function_arn", "")) or None,
        apply=action == "apply",
        deadline=deadline,
    )
    result = dataclasses.replace(result, warnings=(*warnings, *result.warnings))
    nothing = fleet.nothing_matched(declarations, result)
    if nothing is not None:  # a state that covers no trail is a mistake to surface, never a quiet success
        for warning in result.warnings:
            log.warning(warning)
        raise nothing
    return result


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
