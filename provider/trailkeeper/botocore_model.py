"""botocore's CloudTrail service model: the source of truth for parameters and error codes.

One botocore session is shared by the settings table and every client we build, so the model's
JSON is loaded once per process (it is a measurable part of a cold start).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import botocore.session


@cache
def botocore_session() -> Any:
    """The process-wide botocore session (clients and model lookups share its loader cache)."""
    return botocore.session.get_session()


@cache
def cloudtrail_model() -> Any:
    return botocore_session().get_service_model("cloudtrail")


def update_trail_parameters() -> dict[str, str]:
    """UpdateTrail's input members and their shape types, e.g. {"KmsKeyId": "string", ...}."""
    shape = cloudtrail_model().operation_model("UpdateTrail").input_shape
    return {name: member.type_name for name, member in shape.members.items()}


def trail_fields() -> frozenset[str]:
    """The members of the `Trail` structure that DescribeTrails returns."""
    return frozenset(cloudtrail_model().shape_for("Trail").members)


def update_trail_error_codes() -> frozenset[str]:
    """Every error code botocore's model lists for UpdateTrail."""
    operation = cloudtrail_model().operation_model("UpdateTrail")
    return frozenset(shape.error_code or shape.name for shape in operation.error_shapes)
