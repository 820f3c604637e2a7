"""Recognise and check CloudFormation custom resource events before anything acts on them, and tell an
Update that is CloudFormation rolling its stack back.

A failed stack update rolls back by sending each updated custom resource another Update whose
ResourceProperties are the old ones; nothing in the event says so, but the stack's status does
(`UPDATE_ROLLBACK_IN_PROGRESS`, from DescribeStacks on the event's StackId, a nested stack's own id
included). The resource asks only for an Update whose plan was refused or failed (cfn/resource.py
says what a rollback then answers, docs/repairs-and-rollbacks.md why).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trailkeeper.aws.calls import Clients, Deadline, call
from trailkeeper.errors import AwsCallFailed, show
from trailkeeper.trail import arns

# Asking whether the stack of a refused or failed Update is rolling back.
PERMISSIONS = ("cloudformation:DescribeStacks",)
ROLLING_BACK = "UPDATE_ROLLBACK_IN_PROGRESS"

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


def stack_status(event: Mapping[str, Any], clients: Clients, deadline: Deadline, fallback_region: str) -> str:
    """The status of the event's stack (DescribeStacks on its StackId, in the stack's region); "" when
    there is no such stack (an event replayed by hand, `sam local invoke -e`: nothing is rolling back).

    Raises AwsCallFailed or OutOfTime when CloudFormation cannot say.
    """
    stack_id = str(event.get("StackId", ""))
    region = arns.region_of(stack_id) or fallback_region
    try:
        answer = call(
            "DescribeStacks",
            lambda: clients.client("cloudformation", region).describe_stacks(StackName=stack_id),
            deadline=deadline,
            facts={"region": region},
        )
    except AwsCallFailed as error:
        if error.aws_code == "ValidationError" and "does not exist" in error.message:
            return ""
        raise
    stacks = answer.get("Stacks") or [{}]
    return str(stacks[0].get("StackStatus", ""))
