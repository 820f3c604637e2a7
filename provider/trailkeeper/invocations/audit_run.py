"""The audit from the Lambda: `{"action": "audit", "standards": [...], "regions": [...], "required_tags": [...]}`
invoked directly, or sent by the audit schedule (template.yaml's AuditSchedule). Read-only.

`trailkeeper/routing.py` hands over an audit that names no `account` (one that does is an organization
step). It audits the function's own account, as `trailkeeper audit --json` would (the same document,
bounded to a Lambda response's 6 MB: `audit/answer.py`), then:

- publishes one `ControlFailing` metric per control of the standards asked (dimensions `Standard` and
  `Control`, valued the resources failing it), so CloudWatch can alarm on any one control;
- compares the failures with the previous run's, remembered in the SSM parameter
  AUDIT_STATE_PARAMETER names, and tells NOTIFY_TOPIC_ARN when they changed (`audit/memory.py`).

An invalid request raises MalformedEvent before any AWS call, naming each field, value and rule, and so
does a stack that was deployed without its audit (no AUDIT_STATE_PARAMETER: its role may not read log
buckets nor remember anything). A read that failed is in the report's `errors`, not raised.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from trailkeeper.audit import answer, memory, reads
from trailkeeper.audit import request as audit_request
from trailkeeper.aws import regions as enabled_regions
from trailkeeper.aws.calls import ANSWER_RESERVE_SECONDS, Clients, Deadline, call, function_region, shared_clients
from trailkeeper.errors import MalformedEvent
from trailkeeper.fleet.request import NOTIFY_TOPIC
from trailkeeper.org.accounts import partition_of

log = logging.getLogger(__name__)

# The audit's reads (no kms:DescribeKey: that is --fix's), and its memory and notification. template.yaml
# grants the ones the provider does not already need only when the stack audits (EnableAudit).
PERMISSIONS = (*reads.READS, "ssm:GetParameter", "ssm:PutParameter", "sns:Publish")


def clients() -> Clients:
    return shared_clients()


def _region() -> str:
    return function_region(fallback="us-east-1")  # Lambda always sets AWS_REGION


def handle(event: Any, context: Any) -> dict[str, Any]:
    """Audit the function's account as `event` asks; return the audit JSON (bounded)."""
    request = audit_request.parse(event)
    parameter = os.environ.get(memory.STATE_PARAMETER, "")
    if not parameter:
        raise MalformedEvent(
            f"this function's audit is off: no {memory.STATE_PARAMETER} configured (deploy the stack "
            "with EnableAudit=true, which grants the audit's reads and creates the parameter it remembers failures in)"
        )
    remaining = context.get_remaining_time_in_millis() / 1000.0 if context else None
    deadline = Deadline(None if remaining is None else max(0.0, remaining - ANSWER_RESERVE_SECONDS))
    acting, region = clients(), _region()
    identity = call("GetCallerIdentity", lambda: acting.client("sts", region).get_caller_identity(), deadline=deadline)
    account, partition = str(identity["Account"]), partition_of(str(identity.get("Arn", ""))) or "aws"
    regions = enabled_regions.of_account(request.regions, (), clients=acting, region=region, deadline=deadline)
    result = answer.run(
        [reads.Target(account, acting)], request, regions, deadline=deadline, partition=partition, home_region=region
    )
    answer.publish_metrics(result)
    for error in result.errors:
        log.warning("audit read failed", extra={"region": error.region, "code": error.code, "reason": error.reason})
    log.info("audit", extra={"summary": answer.summary_line(result), "standards": list(result.standards)})
    memory.track(
        result,
        clients=acting,
        region=region,
        parameter=parameter,
        topic=os.environ.get(NOTIFY_TOPIC, ""),
        where=f"account {account}",
        deadline=deadline,
    )
    return answer.bounded(result)
