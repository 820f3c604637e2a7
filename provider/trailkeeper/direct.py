"""Direct invocations: events without a ResponseURL (drift-fix pipelines call the function this way)."""

from __future__ import annotations

from typing import Any


def handle(event: Any, context: Any) -> dict[str, Any]:
    return {
        "ok": False,
        "error": "NotACustomResourceEvent",
        "reason": "this event has no ResponseURL, so it is not a CloudFormation custom resource request",
    }
