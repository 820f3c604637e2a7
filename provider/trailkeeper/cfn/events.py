"""Recognise and check CloudFormation custom resource events before anything acts on them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trailkeeper.errors import show
from trailkeeper.trail import arns

REQUEST_TYPES = ("Create", "Update", "Delete")
REQUIRED = ("RequestType", "ResponseURL", "StackId", "RequestId", "LogicalResourceId")


def is_custom_resource(event: object) -> bool:
    """An event that carries a ResponseURL must be answered there, however malformed the rest is."""
    return isinstance(event, Mapping) and "ResponseURL" in event


def problem(event: Mapping[str, Any]) -> str | None:
    """What makes `event` unusable as a custom resource request, or None."""
    missing = [k for k in REQUIRED if not isinstance(event.get(k), str) or not event[k]]
    request_type = event.get("RequestType")
    if "RequestType" not in missing and request_type not in REQUEST_TYPES:
        return f"RequestType {show(request_type)} is not Create, Update or Delete"
    if request_type in ("Update", "Delete") and not isinstance(event.get("PhysicalResourceId"), str):
        missing.append("PhysicalResourceId")
    if missing:
        return f"the event lacks {', '.join(missing)}"
    if request_type != "Delete" and not isinstance(event.get("ResourceProperties"), Mapping):
        return "ResourceProperties must be an object"
    return None


def caller_account(event: Mapping[str, Any]) -> str | None:
    """The stack's account, from its StackId (arn:aws:cloudformation:REGION:ACCOUNT:stack/...)."""
    account = arns.account_of(str(event.get("StackId", "")))
    return account if account.isdigit() else None
