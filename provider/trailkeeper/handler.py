"""The Lambda entry point: masks the event's secrets, sets up logs and metrics, and lets `routing.py`
hand the event to its door.

An event with a ResponseURL is a CloudFormation custom resource request and is always answered there,
by the one resource this module keeps per execution environment. Anything else (drift-fix pipelines,
audits, CloudTrail change events, organization steps) gets its report as the return value; those doors are
imported on first use only.
"""

from __future__ import annotations

from typing import Any

from trailkeeper import collector

# A cold start's imports (boto3, botocore, Powertools, ours) make some 60,000 objects that live as long as the
# process; the collector would scan them again and again while they are made and on the first event (about
# 25 ms of a cold start: docs/benchmarks.md). It pauses while they are made, then sets them aside for good.
with collector.paused_then_set_aside():
    from trailkeeper import redaction, routing
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
    return routing.route(event, context, resource)
