"""The organization reconcile's `audit` in one account: what the state machine's child asks, and its answer.

    {"action": "audit", "account": "111122223333", "role_name": ..., "standards": ["fsbp", ...],
     "regions": ["us-east-1", ...], "required_tags": ["owner", ...]}

`standards`, `regions` and `required_tags` are optional (left out or empty, the state machine's default:
FSBP and the newest CIS, every region enabled for the account, no required tag), and checked before any
AWS call as the Lambda's own audit checks them (`audit/request.py`). The account is audited alone,
with the same reads as `trailkeeper audit` (`audit/judge.py`), through the member role (its own account
with the function's credentials), and the answer is the audit JSON bounded to fit a Step Functions state
(`drift/audit_lambda.bounded`, keeping the log buckets' findings right after the failures: the summary
matches them across accounts).

One account alone cannot see another account's buckets: a trail delivering to the Log Archive
account's bucket has that bucket NOT_AVAILABLE in its account's report; the summary groups those
buckets once, and drops one that another account of the run judged (`org/audit_totals.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trailkeeper.audit import answer, reads
from trailkeeper.audit import request as audit_request
from trailkeeper.audit.facts import FAIL, NOT_AVAILABLE
from trailkeeper.audit.request import AuditRequest
from trailkeeper.aws import delegation
from trailkeeper.aws import regions as enabled_regions
from trailkeeper.aws.calls import Clients, Deadline
from trailkeeper.errors import AwsCallFailed

# The audit's reads in one account (audit/judge.py's READS) but the identity check: the event names the
# account. The member role grants exactly these beside the engine's calls, and the reconcile role too (it
# audits its own account with them). GetTrailStatus and GetEventSelectors also on the organization trail a
# member account shows (its owner's): CloudTrail.1 is often met by it. Nor ListDelegatedAdministrators: the
# function asks it once for every child (invocations/organization_step.py), never through the member role.
PERMISSIONS = tuple(
    action for action in reads.READS if action not in ("sts:GetCallerIdentity", *delegation.PERMISSIONS)
)
FIELDS = audit_request.FIELDS[1:]  # standards, regions, required_tags
STEP_FIELDS = ("account", "account_name", "role_name")  # what an account step carries besides (the Map's item)
LISTING_FIELDS = ("bucket", "key", "ou_ids", "exclude_accounts", "run_action", "execution_input")  # list-accounts' own

# Step Functions refuses a state's output over 256 KiB (262,144 bytes), and the Lambda task's result
# wraps the payload in its own fields: the answer stays well under, whatever the account holds.
MAX_ANSWER_BYTES = 200_000

# The answer: the audit JSON, with `dropped` when it had to be cut (the summary counts all).
ANSWER_SCHEMA: dict[str, Any] = answer.SCHEMA


def read(event: Mapping[str, Any], also: tuple[str, ...] = STEP_FIELDS) -> AuditRequest:
    """The audit's fields of an account step (or of list-accounts, once for the run, with its own `also`),
    checked as the Lambda's audit checks them (MalformedEvent naming the field, the value and the rule; a
    field neither takes, `fix` above all, is refused by name). An empty list is the state machine's
    default (its Settings): the same as leaving the field out."""
    asked = {k: v for k, v in event.items() if k != "action" and not (k in FIELDS and v == [])}
    return audit_request.parse({**asked, "action": audit_request.ACTION}, also=also)


def run(
    asked: AuditRequest, account: str, name: str, clients: Clients, *, region: str, partition: str, deadline: Deadline
) -> dict[str, Any]:
    """Audit `account` alone with `clients` (acting there); its bounded JSON answer.

    Raises when the account cannot be audited at all (its regions cannot be listed, or every read failed):
    the Map counts the child as failed, its Cause the reason. Reads that fail in some regions only are
    the report's `errors`, beside the findings of the others.
    """
    regions = enabled_regions.of_account(asked.regions, (), clients=clients, region=region, deadline=deadline)
    result = answer.run(
        [reads.Target(account, clients, name)],
        asked,
        regions,
        deadline=deadline,
        partition=partition,
        home_region=region,
    )
    if result.errors and not result.findings:
        first = result.errors[0]
        raise AwsCallFailed(first.code, "audit", f"account {account}: nothing could be audited: {first.reason}")
    return answer.bounded(result, MAX_ANSWER_BYTES, rank=keep_first)


def keep_first(finding: Mapping[str, Any]) -> int:
    """Which findings an answer keeps first: failures, then log buckets (the summary matches them across
    accounts), then what is not available, then passes on trails and regions (the summary counts them)."""
    if finding["status"] == FAIL:
        return 0
    if finding["resource"].startswith("arn:") and finding["resource"].split(":")[2] == "s3":
        return 1
    return 2 if finding["status"] == NOT_AVAILABLE else 3
