"""Direct invocations: drift-fix pipelines (Step Functions, EventBridge, CodePipeline) call the function.

Events without a ResponseURL land here and never reach the custom-resource path. They return the
same JSON report as `trailkeeper plan/apply --json`:

- `{"action": "plan" | "apply", "trails": [...]}`: the declared state inline;
- `{"action": "plan" | "apply"}`: the declared state from the SSM parameter named by the
  DESIRED_STATE_PARAMETER environment variable (the scheduled reconcile sends `{"action": "apply"}`);
- a CloudTrail management event from EventBridge ("AWS API Call via CloudTrail", e.g. UpdateTrail):
  apply the declared state of the trail that event changed, so a change made by someone else is undone
  within seconds. (Our own UpdateTrail triggers it too; the second look finds nothing to do.)

An invalid request raises (Step Functions can catch it by name); per-trail failures are in the report.
When NOTIFY_TOPIC_ARN is set, a run that fixed or failed something is published to that topic.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any

from trailkeeper import observability
from trailkeeper.aws.calls import ANSWER_RESERVE_SECONDS, Clients, Deadline, call, function_region, shared_clients
from trailkeeper.drift import fleet, report, state
from trailkeeper.errors import MalformedEvent
from trailkeeper.trail import arns
from trailkeeper.trail.declaration import Declaration

log = logging.getLogger(__name__)

# Reading the declared state from SSM, and telling an SNS topic what was fixed.
PERMISSIONS = ("ssm:GetParameter", "sns:Publish")

STATE_PARAMETER = "DESIRED_STATE_PARAMETER"
NOTIFY_TOPIC = "NOTIFY_TOPIC_ARN"
CLOUDTRAIL_EVENT = "AWS API Call via CloudTrail"


def clients() -> Clients:
    return shared_clients()


def _region() -> str:
    return function_region(fallback="us-east-1")  # Lambda always sets AWS_REGION


def _state_from_ssm(deadline: Deadline) -> list[Declaration]:
    name = os.environ.get(STATE_PARAMETER, "")
    if not name:
        raise MalformedEvent(f"no `trails` in the event and no {STATE_PARAMETER} configured to read them from")
    answer = call(
        "GetParameter",
        lambda: clients().client("ssm", _region()).get_parameter(Name=name),
        deadline=deadline,
        facts={"region": _region()},
    )
    return state.loads(answer["Parameter"]["Value"], f"ssm:{name}")


def _short(name_or_arn: str) -> str:
    return name_or_arn.split(":trail/", 1)[-1]


def _changed_trail(event: Mapping[str, Any]) -> str | None:
    parameters = (event.get("detail") or {}).get("requestParameters") or {}
    name = parameters.get("name") or parameters.get("Name")
    return str(name) if name else None


def request(event: Any, deadline: Deadline) -> tuple[str, Sequence[Declaration]]:
    """(action, declarations) for a direct invocation, or MalformedEvent."""
    if not isinstance(event, Mapping):
        raise MalformedEvent(f"a direct invocation takes an object, not {type(event).__name__}")
    if event.get("detail-type") == CLOUDTRAIL_EVENT:
        changed = _changed_trail(event)
        declared = _state_from_ssm(deadline)
        return "apply", [d for d in declared if changed and _short(d.name) == _short(changed)]
    if event.get("detail-type") == "Scheduled Event":
        return "apply", _state_from_ssm(deadline)
    action = event.get("action")
    if action not in ("plan", "apply"):
        raise MalformedEvent(f"action {action!r} is not 'plan' or 'apply'")
    if "trails" in event:
        return str(action), state.parse({"trails": event["trails"]}, "event")
    return str(action), _state_from_ssm(deadline)


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


def handle(event: Any, context: Any) -> dict[str, Any]:
    if isinstance(event, Mapping) and ("account" in event or event.get("action") in ("list-accounts", "summarise")):
        from trailkeeper.org import invocations  # the organization reconcile's steps (org-reconcile.yaml)

        return invocations.handle(event, context)
    remaining = context.get_remaining_time_in_millis() / 1000.0 if context else None
    deadline = Deadline(None if remaining is None else max(0.0, remaining - ANSWER_RESERVE_SECONDS))
    action, declarations = request(event, deadline)
    caller_account = arns.account_of(getattr(context, "invoked_function_arn", "")) or None
    result = fleet.run(
        declarations,
        clients=clients(),
        default_region=_region(),
        caller_account=caller_account,
        apply=action == "apply",
        deadline=deadline,
    )
    drifted = result.count("drifted") + result.count("fixed")
    if drifted:
        observability.count(observability.DRIFT_FOUND, drifted)
    if result.count("fixed"):
        observability.count(observability.DRIFT_FIXED, result.count("fixed"))
    for trail in result.results:
        if trail.error is not None:
            observability.count_failure(trail.error.error_code)
    log.info("drift run", extra={"summary": result.summary(), "action": action})
    try:
        _notify(result, deadline)
    except Exception:  # the fix is done; a failed notification must not turn it into an error
        log.exception("could not publish the notification")
    return result.to_dict()
