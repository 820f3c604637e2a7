"""A CloudTrail change event (EventBridge's "AWS API Call via CloudTrail"): which trail it names, whether to
react to it at all (the loop guard), which declarations cover that trail, and the repair: those declarations
applied to that trail alone.

Every call that changes a trail is made in the trail's home region, so the event's region (and account)
say which trail it is: a trail of the same name in another region is another trail. The declarations
that cover it are found as a run finds them (names, ARNs, patterns with their Match: `fleet/matching.py`).

The loop guard: an event for a call that failed (`errorCode` set) changed nothing, and an event caused by
the function's own role is its own write; both are skipped (the report says why) and never lead to a
write. EventBridge filters both out already (template.yaml); this checks again because a rule can be
edited. A write of ours that keeps failing would otherwise trigger itself forever.

A DeleteTrail of a trail declared by name or ARN cannot be undone (trailkeeper never creates trails): it
is reported as failed (TrailDeleted), never retried. A pattern does not declare that any one trail
exists, so a trail only a pattern covered is not reported deleted.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from trailkeeper.aws.calls import Clients, Deadline
from trailkeeper.errors import MalformedEvent, TrailDeleted, show
from trailkeeper.fleet import matching, reconcile, report
from trailkeeper.trail import arns
from trailkeeper.trail.declaration import Declaration

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


def own_role(identity: Mapping[str, Any]) -> bool:
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


def detail_of(event: Mapping[str, Any]) -> tuple[Mapping[str, Any], Mapping[str, Any], Mapping[str, Any]]:
    """A CloudTrail event's detail, its requestParameters and its userIdentity (empty when absent), or raise
    MalformedEvent when one of them is not an object."""
    detail = event.get("detail")
    if not isinstance(detail, Mapping):
        raise MalformedEvent(f"a CloudTrail event's detail must be an object, not {type(detail).__name__}")
    parameters = detail.get("requestParameters")
    if parameters is not None and not isinstance(parameters, Mapping):
        raise MalformedEvent(f"requestParameters must be an object, not {type(parameters).__name__}")
    identity = detail.get("userIdentity")
    if identity is not None and not isinstance(identity, Mapping):
        raise MalformedEvent(f"userIdentity must be an object, not {type(identity).__name__}")
    return detail, parameters or {}, identity or {}


def trail_event(event: Mapping[str, Any], default_region: str) -> TrailEvent:
    """Read a CloudTrail management event (`default_region` when it names none), or raise MalformedEvent."""
    detail, parameters, identity = detail_of(event)
    call_name = detail.get("eventName")
    region = detail.get("awsRegion")
    region = region if isinstance(region, str) and region else default_region
    account = detail.get("recipientAccountId") or event.get("account")
    account = account if isinstance(account, str) and account else None
    if not isinstance(call_name, str) or call_name not in TRAIL_PARAMETER:
        return TrailEvent(str(call_name), None, region, f"{show(call_name)} is not a trail change trailkeeper watches")
    named = parameters.get(TRAIL_PARAMETER[call_name])
    trail = named if isinstance(named, str) and named else None
    if detail.get("errorCode"):
        skip = f"{call_name} failed ({show(detail.get('errorCode'))}): it changed nothing"
    elif own_role(identity):
        skip = f"{call_name} was made by trailkeeper's own role: never reacted to (loop guard)"
    elif trail is None:
        skip = f"{call_name} names no trail in requestParameters.{TRAIL_PARAMETER[call_name]}"
    else:
        skip = None
    if trail is not None and trail.startswith("arn:"):
        region, account = arns.region_of(trail) or region, arns.account_of(trail) or account
    return TrailEvent(call_name, trail, region, skip, account)


def covering(declarations: Sequence[Declaration], seen: TrailEvent) -> list[tuple[int, Declaration]]:
    """The declarations (with their place in the state) that may cover the trail the event names."""
    trail = seen.trail or ""
    return [
        (index, declared)
        for index, declared in enumerate(declarations)
        if matching.may_cover(declared, region=seen.region, account=seen.account, trail=trail)
    ]


def the_trail(seen: TrailEvent) -> Callable[[Mapping[str, Any]], bool]:
    """Picks, among the trails of the event's region, the one the event names (homed there)."""
    trail = seen.trail or ""
    if trail.startswith("arn:"):
        return lambda found: found.get("TrailARN") == trail

    def named(found: Mapping[str, Any]) -> bool:
        arn = str(found.get("TrailARN", ""))
        mine = not seen.account or arns.account_of(arn) == seen.account
        return found.get("Name") == trail and matching.home_region(found) == seen.region and mine

    return named


def deleted(declarations: Sequence[Declaration], seen: TrailEvent) -> report.Report:
    """A declared trail was deleted: say so loudly; there is nothing this tool can write to repair it."""
    results = []
    for index, declared in covering(declarations, seen):
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
    return report.Report("apply", tuple(results))


def repair(
    seen: TrailEvent,
    declarations: Sequence[Declaration],
    *,
    clients: Clients,
    default_region: str,
    caller_account: str | None,
    deadline: Deadline,
) -> report.Report:
    """Apply the declarations that cover the trail `seen` names, to that trail alone (one DescribeTrails in its
    region, and only if something covers it); a declared trail that was deleted is reported, not written."""
    if seen.name == DELETED:
        return deleted(declarations, seen)
    covering_ones = covering(declarations, seen)
    return reconcile.run(
        [declared for _, declared in covering_ones],
        clients=clients,
        default_region=default_region,
        caller_account=caller_account,
        apply=True,
        deadline=deadline,
        regions=[seen.region],  # where the trail is homed
        only=the_trail(seen),
        numbers=[index for index, _ in covering_ones],
    )
