"""Powertools Logger and Metrics for the Lambda function, and the metric names we emit.

The Logger writes JSON with the request's RequestId as correlation id; our modules log through
standard `logging.getLogger(__name__)` loggers under "trailkeeper", which this Logger's handler formats.
Metrics go out as EMF: settings applied, trails already in sync, and failures by error code; an audit
adds one ControlFailing datapoint per control it judged, with the standard and control as dimensions.
"""

from __future__ import annotations

import json
import os
import sys
import warnings

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

SERVICE = "trailkeeper"
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Trailkeeper")

SETTINGS_APPLIED = "SettingsApplied"
IN_SYNC = "TrailsInSync"
TRAILS_UPDATED = "TrailsUpdated"
FAILURES = "Failures"
DRIFT_FOUND = "DriftFound"
DRIFT_FIXED = "DriftFixed"
DRY_RUNS = "DryRunsPlanned"  # a DryRun found something it would change
TRAILS_DELETED = "TrailsDeleted"  # a declared trail was deleted: nothing to repair, everything to report
ROLLBACK_WEAKENED = "RollbackWeakened"  # a stack's rollback put back settings that weaken audit
ROLLBACK_NOT_RESTORED = "RollbackNotRestored"  # a rollback could not restore the old settings (answered SUCCESS)
CONTROL_FAILING = "ControlFailing"  # per Standard and Control: the resources failing it (0: it passes)
CONTROLS_FAILING = "ControlsFailing"  # an audit's failing controls (standard and control pairs)
FINDINGS_FAILING = "FindingsFailing"  # an audit's FAIL findings
AUDIT_ERRORS = "AuditErrors"  # reads an audit could not make (the controls there are unproven)
DELIVERY_BROKEN = "DeliveryBroken"  # per Trail: a change to its bucket, key, log group, role or topic broke delivery

# The function's own log lines (EMF metrics included) go to its log group through Lambda's agent.
PERMISSIONS = ("logs:CreateLogStream", "logs:PutLogEvents")


class _CurrentStdout:
    """Writes to whatever sys.stdout is now (Powertools would keep the stream it saw at import)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


def _message(text: str) -> object:
    """Powertools tries every message as JSON (a JSON message becomes a structured one), raising and catching
    an exception for each plain sentence, which ours all are; only what could be JSON is decoded."""
    return json.loads(text) if text.startswith(("{", "[")) else text


logger = Logger(service=SERVICE, stream=_CurrentStdout(), json_deserializer=_message)  # type: ignore[arg-type]
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


def count(name: str, value: int = 1) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def count_failure(error_code: str) -> None:
    """One failure, with its error code as a dimension (flushed at once, apart from the others)."""
    with single_metric(name=FAILURES, unit=MetricUnit.Count, value=1, namespace=NAMESPACE) as metric:
        metric.add_dimension(name="service", value=SERVICE)
        metric.add_dimension(name="ErrorCode", value=error_code)


def control_failing(standard: str, control: str, resources: int, name: str = CONTROL_FAILING) -> None:
    """How many resources fail `control` of `standard` (0 when it passes), flushed at once with its own
    dimensions, so that an alarm can watch exactly one control (`name`: the organization's run has its own)."""
    with single_metric(name=name, unit=MetricUnit.Count, value=resources, namespace=NAMESPACE) as metric:
        metric.add_dimension(name="service", value=SERVICE)
        metric.add_dimension(name="Standard", value=standard)
        metric.add_dimension(name="Control", value=control)


def delivery_broken(trail: str) -> None:
    """One trail whose delivery a change broke (the delivery guard), with the trail's ARN as its dimension."""
    with single_metric(name=DELIVERY_BROKEN, unit=MetricUnit.Count, value=1, namespace=NAMESPACE) as metric:
        metric.add_dimension(name="service", value=SERVICE)
        metric.add_dimension(name="Trail", value=trail)


# Delete and failures add no metric to the shared set (failures go out at once, with their own
# dimension), so Powertools would warn that there was nothing to publish. That is expected here.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)
