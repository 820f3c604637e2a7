"""Tell whether an Update event is CloudFormation rolling a stack back, and what a rollback answers.

A failed stack update rolls back by sending each updated custom resource another Update whose
ResourceProperties are the old ones; nothing in the event says so, but the stack's status does
(`UPDATE_ROLLBACK_IN_PROGRESS`, from DescribeStacks on the event's StackId, a nested stack's own id
included). A FAILED answer there leaves the stack in UPDATE_ROLLBACK_FAILED, recoverable only by
`continue-update-rollback` with resources to skip, so during a rollback the resource answers SUCCESS:

- it puts the old settings back, even those that weaken audit: they are what the owner deployed and
  CloudFormation accepted before the failed update (CloudFormation's own semantics), and the refusal
  would strand the stack without keeping the stronger settings anyway (the next update would have to
  skip the resource). The warning names each weakened setting; the `RollbackWeakened` metric counts it;
- when it cannot put them back (a write fails), it still answers SUCCESS, with the failure in the logs
  and the `RollbackNotRestored` and `Failures` metrics.

DescribeStacks is called only when it matters: for an Update whose plan was refused or failed. If it
fails, the resource answers as before (FAILED), and the reason says the rollback could not be told.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from trailkeeper.aws.calls import Clients, Deadline, call
from trailkeeper.trail import arns

log = logging.getLogger(__name__)

# Asking whether the stack of a refused or failed Update is rolling back.
PERMISSIONS = ("cloudformation:DescribeStacks",)

ROLLING_BACK = "UPDATE_ROLLBACK_IN_PROGRESS"


def stack_status(event: Mapping[str, Any], clients: Clients, deadline: Deadline, fallback_region: str) -> str:
    """The status of the event's stack (DescribeStacks on its StackId, in the stack's region).

    Raises AwsCallFailed or OutOfTime when CloudFormation cannot say.
    """
    stack_id = str(event.get("StackId", ""))
    region = arns.region_of(stack_id) or fallback_region
    answer = call(
        "DescribeStacks",
        lambda: clients.client("cloudformation", region).describe_stacks(StackName=stack_id),
        deadline=deadline,
        facts={"region": region},
    )
    stacks = answer.get("Stacks") or [{}]
    return str(stacks[0].get("StackStatus", ""))
