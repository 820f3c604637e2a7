"""The Lambda entry point.

An event with a ResponseURL is a CloudFormation custom resource request and is always answered there.
Anything else is a direct invocation (drift-fix pipelines; see `direct.py`) and gets its report as the
return value; that module is imported on first use only.
"""

from __future__ import annotations

from typing import Any

from trailkeeper import redaction
from trailkeeper.cfn import events
from trailkeeper.cfn.resource import TrailSettingsResource
from trailkeeper.observability import logger, metrics

RESOURCE: TrailSettingsResource | None = None


def resource() -> TrailSettingsResource:
    """The custom resource, built on first use and kept for warm invocations."""
    global RESOURCE  # noqa: PLW0603 - one per Lambda execution environment, by design
    if RESOURCE is None:
        RESOURCE = TrailSettingsResource()
    return RESOURCE


@metrics.log_metrics
@logger.inject_lambda_context(correlation_id_path="RequestId", log_event=False, clear_state=True)
def lambda_handler(event: Any, context: Any) -> Any:
    redaction.protect(event)
    if events.is_custom_resource(event):
        resource()(event, context)
        return None
    # Imported here: the drift path (fleet, reports, YAML) is not needed to serve CloudFormation, and
    # a custom resource's cold start should not pay for it (bench/coldstart.py measures both).
    from trailkeeper.drift import direct

    return direct.handle(event, context)
