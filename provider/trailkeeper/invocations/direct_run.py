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
  else is undone within seconds, with one DescribeTrails in the trail's region. Which trail, whether to
  react at all (the loop guard) and which declarations cover it: `fleet/change_event.py`. A declared
  trail that was deleted is reported as failed (TrailDeleted), counted and notified, never retried.

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
from collections.abc import Mapping
from typing import Any

from trailkeeper import observability
from trailkeeper.aws.calls import ANSWER_RESERVE_SECONDS, Clients, Deadline, call, function_region, shared_clients
from trailkeeper.fleet import change_event, reconcile, report, request, state
from trailkeeper.fleet.request import NOTIFY_TOPIC
from trailkeeper.trail import arns
from trailkeeper.trail.declaration import Declaration

log = logging.getLogger(__name__)

# Reading the declared state from SSM (fleet/request.py, for this door), and telling an SNS topic what was fixed.
PERMISSIONS = ("ssm:GetParameter", "sns:Publish")


def clients() -> Clients:
    return shared_clients()


def _region() -> str:
    return function_region(fallback="us-east-1")  # Lambda always sets AWS_REGION


def _state_source() -> str:
    return request.state_source()


def _state_from_ssm(deadline: Deadline) -> list[Declaration]:
    return request.state_from_ssm(clients(), _region(), deadline)


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


def _run(event: Any, deadline: Deadline, context: Any, trail_change: bool) -> report.Report:
    if trail_change:
        seen = change_event.trail_event(event, _region())
        if seen.skip or seen.trail is None:
            log.info("event skipped", extra={"event_name": seen.name, "why": seen.skip})
            return report.Report("apply", (), skipped=seen.skip)
        everything = _state_from_ssm(deadline)
        warnings = () if everything else (state.empty_warning(_state_source()),)
        result = change_event.repair(
            seen,
            everything,
            clients=clients(),
            default_region=_region(),
            caller_account=arns.account_of(getattr(context, "invoked_function_arn", "")) or None,
            deadline=deadline,
        )
        if seen.name == change_event.DELETED and result.results:
            observability.count(observability.TRAILS_DELETED, len(result.results))
        return dataclasses.replace(result, warnings=warnings)
    action, declarations = request.read(event, clients(), _region(), deadline)
    source = "event" if isinstance(event, Mapping) and "trails" in event else _state_source()
    warnings = () if declarations else (state.empty_warning(source),)
    result = reconcile.run(
        declarations,
        clients=clients(),
        default_region=_region(),  # names and patterns: every region enabled for the account
        caller_account=arns.account_of(getattr(context, "invoked_function_arn", "")) or None,
        apply=action == "apply",
        deadline=deadline,
    )
    result = dataclasses.replace(result, warnings=(*warnings, *result.warnings))
    nothing = reconcile.nothing_matched(declarations, result)
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
