"""What a Lambda invocation is, decided once here, and the door that serves it.

- **custom resource**: an event with a ResponseURL is a CloudFormation request, however malformed the
  rest is, and is answered there (`cfn/`); nothing is returned.
- **trail change**: a CloudTrail management event from EventBridge (detail-type "AWS API Call via
  CloudTrail") of CloudTrail itself: `invocations/direct_run.py` re-applies the declared state of the trail
  it names.
- **delivery change**: the same kind of event from S3, KMS, CloudWatch Logs, IAM or SNS (a bucket policy
  replaced, a key disabled, a role deleted...): `invocations/delivery_change.py` judges the delivery of the
  declared trails that use that resource.
- **organization step**: a step of the organization reconcile (org-reconcile.yaml) — an `account` to
  run in, or the `list-accounts` / `summarise` action, never with a detail-type (EventBridge events
  carry `account` too: the account they happened in): `invocations/organization_step.py`.
- **audit run**: `{"action": "audit", ...}` without an `account` (the function's own account; with one,
  it is an organization step) nor a detail-type: `invocations/audit_run.py`, read-only.
- **direct run**: anything else — `{"action": "plan" | "apply", ...}`, the schedule's "Scheduled Event",
  or something unreadable, which `invocations/direct_run.py` refuses by name (MalformedEvent).

The doors are imported on first use: a custom resource's cold start pays for neither the drift paths
(fleet, reports, PyYAML) nor the organization layer (bench/coldstart.py measures it). The doors import
nothing from here or from each other; what they share lives below them (`fleet/request.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from trailkeeper.cfn import events

CUSTOM_RESOURCE = "custom resource"
TRAIL_CHANGE = "trail change"
DELIVERY_CHANGE = "delivery change"
ORGANIZATION_STEP = "organization step"
AUDIT_RUN = "audit run"
DIRECT_RUN = "direct run"
KINDS = (CUSTOM_RESOURCE, TRAIL_CHANGE, DELIVERY_CHANGE, ORGANIZATION_STEP, AUDIT_RUN, DIRECT_RUN)

CLOUDTRAIL_EVENT = "AWS API Call via CloudTrail"  # EventBridge's detail-type for a management event
# The services whose calls can break a trail's delivery (audit/chain_guard.py's SOURCES, held equal by a test).
DELIVERY_SOURCES = ("aws.s3", "aws.kms", "aws.logs", "aws.iam", "aws.sns")
ORGANIZATION_ACTIONS = ("list-accounts", "summarise")  # the organization reconcile's own steps
AUDIT = "audit"


def kind(event: Any) -> str:
    """Which of KINDS `event` is."""
    if events.is_custom_resource(event):
        return CUSTOM_RESOURCE
    if not isinstance(event, Mapping):
        return DIRECT_RUN
    if event.get("detail-type") == CLOUDTRAIL_EVENT:
        return DELIVERY_CHANGE if event.get("source") in DELIVERY_SOURCES else TRAIL_CHANGE
    if "detail-type" not in event and ("account" in event or event.get("action") in ORGANIZATION_ACTIONS):
        return ORGANIZATION_STEP
    if "detail-type" not in event and event.get("action") == AUDIT:
        return AUDIT_RUN
    return DIRECT_RUN


def route(event: Any, context: Any, custom_resource: Callable[[], Callable[[Any, Any], None]]) -> Any:
    """Hand `event` to its door and return what the door returns (None for a custom resource request).

    `custom_resource` gives the CloudFormation door: handler.py builds it once per execution environment.
    """
    found = kind(event)
    if found == CUSTOM_RESOURCE:
        custom_resource()(event, context)
        return None
    if found == ORGANIZATION_STEP:
        from trailkeeper.invocations import organization_step as invocations

        return invocations.handle(event, context)
    if found == DELIVERY_CHANGE:
        from trailkeeper.invocations import delivery_change

        return delivery_change.handle(event, context)
    if found == AUDIT_RUN:
        from trailkeeper.invocations import audit_run as audit_direct

        return audit_direct.handle(event, context)
    from trailkeeper.invocations import direct_run as direct

    return direct.handle(event, context, trail_change=found == TRAIL_CHANGE)
