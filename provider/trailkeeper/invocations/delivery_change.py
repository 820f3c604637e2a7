"""The door of the delivery guard: a management event on a bucket, key, log group, role or topic a declared
trail's logs travel through (template.yaml's DeliveryChangeRule; `routing.py` calls it a delivery change).

The event is read, the declared state read from the SSM parameter DESIRED_STATE_PARAMETER names, and the
guard (`audit/chain_guard.py`) finds the declared trails that deliver through that resource and judges
their delivery again. When a change broke it: one `DeliveryBroken` metric per trail, and one message to
NOTIFY_TOPIC_ARN naming the trails, the resource, the call and its caller, what fails and what was
repaired (only where a declaration says `RepairDelivery: true`). A change that leaves delivery intact, a
failed call and a call of the function's own role tell nothing. Returns the guard's outcome as JSON.
"""

from __future__ import annotations

import json
import logging
import os
import time
from typing import Any

from trailkeeper import observability
from trailkeeper.audit import chain_guard
from trailkeeper.aws.calls import ANSWER_RESERVE_SECONDS, Clients, Deadline, call, function_region, shared_clients
from trailkeeper.fleet import request
from trailkeeper.fleet.request import NOTIFY_TOPIC
from trailkeeper.trail import arns

log = logging.getLogger(__name__)

# The guard's reads (audit/chain_guard.py) and its notification; the declared state's read is direct_run's.
PERMISSIONS = ("sns:Publish", "ssm:GetParameter")


def clients() -> Clients:
    return shared_clients()


def _region() -> str:
    return function_region(fallback="us-east-1")


def message(outcome: chain_guard.Outcome) -> tuple[str, str]:
    """The subject and body of the one message a broken delivery sends."""
    change = outcome.change
    trails = [b.trail.arn for b in outcome.broken]
    subject = f"trailkeeper: {change.call} on {change.kind} {change.name} broke delivery of {len(trails)} trail(s)"
    lines = [
        f"{change.call} on {change.kind} {change.name} (in {change.region}, account {change.account}) "
        f"by {change.caller}",
        f"broke the delivery of {len(trails)} declared trail(s):",
        "",
    ]
    for broken in outcome.broken:
        lines.append(f"- {broken.trail.arn}")
        lines += [f"  {f.control} {f.title}: {f.reason}" for f in broken.findings]
        lines.append(f"  remedy: {broken.findings[0].remedy}")
    for edit in outcome.repaired:
        state = "restored" if edit.status == "written" else f"not restored ({edit.status}: {edit.reason})"
        lines.append(
            f"RepairDelivery: CloudTrail's statements in the {edit.link.kind} policy of {edit.link.arn} {state}"
        )
    return subject[:100], "\n".join(lines) + "\n\n" + json.dumps(outcome.to_dict(), indent=2)


def _publish(outcome: chain_guard.Outcome, deadline: Deadline) -> None:
    topic = os.environ.get(NOTIFY_TOPIC, "")
    if not topic:
        return
    subject, body = message(outcome)
    call(
        "Publish",
        lambda: (
            clients()
            .client("sns", arns.region_of(topic) or _region())
            .publish(TopicArn=topic, Subject=subject, Message=body[:250_000])
        ),
        deadline=deadline,
    )


def handle(event: Any, context: Any, clock: Any = time.time) -> dict[str, Any]:
    """Judge the delivery of the declared trails the event's resource serves; tell when it broke."""
    remaining = context.get_remaining_time_in_millis() / 1000.0 if context else None
    deadline = Deadline(None if remaining is None else max(0.0, remaining - ANSWER_RESERVE_SECONDS))
    change = chain_guard.change_of(event, _region())
    if change.skip is not None:
        log.info("event skipped", extra={"event_name": change.call, "why": change.skip})
        return chain_guard.Outcome(change, skipped=change.skip).to_dict()
    declarations = request.state_from_ssm(clients(), _region(), deadline)
    outcome = chain_guard.guard(
        change,
        declarations,
        clients=clients(),
        region=_region(),
        caller_account=arns.account_of(getattr(context, "invoked_function_arn", "")) or None,
        deadline=deadline,
        now=clock(),
    )
    for broken in outcome.broken:
        observability.delivery_broken(broken.trail.arn)
    log.info(
        "delivery change",
        extra={"event_name": change.call, "dependent": len(outcome.dependent), "broken": len(outcome.broken)},
    )
    if outcome.broken:
        try:
            _publish(outcome, deadline)
        except Exception:  # the judgement (and any repair) is done; a failed notification must not undo it
            log.exception("could not publish the delivery guard's message")
    return outcome.to_dict()
