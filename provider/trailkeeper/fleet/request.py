"""What a Lambda run of the drift engine is asked to do: the action, and the declared state it runs on.

Shared by the two doors that run the engine from an invocation, below both: direct invocations
(`invocations/direct_run.py`) and the organization reconcile's account steps (`invocations/organization_step.py`).

- `{"action": "plan" | "apply", "trails": [...]}`: the declared state inline;
- `{"action": "plan" | "apply"}`: the declared state from the SSM parameter named by the
  DESIRED_STATE_PARAMETER environment variable;
- the schedule's EventBridge event ("Scheduled Event"): apply the state from SSM.

Where a run's outcome is told (NOTIFY_TOPIC_ARN) is named here too, since both doors publish there.
The clients and region are passed in: each door keeps its own (and tests hand each door theirs).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from trailkeeper.aws.calls import Clients, Deadline, call
from trailkeeper.errors import MalformedEvent, show
from trailkeeper.fleet import state
from trailkeeper.trail.declaration import Declaration

STATE_PARAMETER = "DESIRED_STATE_PARAMETER"
NOTIFY_TOPIC = "NOTIFY_TOPIC_ARN"
SCHEDULED_EVENT = "Scheduled Event"  # the detail-type of an EventBridge schedule's event


def state_source() -> str:
    return f"ssm:{os.environ.get(STATE_PARAMETER, '')}"


def state_from_ssm(clients: Clients, region: str, deadline: Deadline) -> list[Declaration]:
    name = os.environ.get(STATE_PARAMETER, "")
    if not name:
        raise MalformedEvent(f"no `trails` in the event and no {STATE_PARAMETER} configured to read them from")
    answer = call(
        "GetParameter",
        lambda: clients.client("ssm", region).get_parameter(Name=name),
        deadline=deadline,
        facts={"region": region},
    )
    return state.loads(answer["Parameter"]["Value"], f"ssm:{name}")


def read(event: Any, clients: Clients, region: str, deadline: Deadline) -> tuple[str, Sequence[Declaration]]:
    """(action, declarations) for a run of the engine, or MalformedEvent."""
    if not isinstance(event, Mapping):
        raise MalformedEvent(f"a direct invocation takes an object, not {type(event).__name__}")
    if event.get("detail-type") == SCHEDULED_EVENT:
        return "apply", state_from_ssm(clients, region, deadline)
    action = event.get("action")
    if not isinstance(action, str) or action not in ("plan", "apply"):
        raise MalformedEvent(f"action {show(action)} is not 'plan' or 'apply'")
    if "trails" in event:
        return action, state.parse({"trails": event["trails"]}, "event")
    return action, state_from_ssm(clients, region, deadline)
