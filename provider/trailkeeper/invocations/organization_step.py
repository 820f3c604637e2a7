"""Direct invocations for the organization reconcile (the Step Functions state machine calls these;
`trailkeeper/routing.py` tells them from the other invocations and hands them here).

- `{"action": "list-accounts", "bucket": B, "key": K, "ou_ids": [...], "exclude_accounts": [...]}`:
  the organization's ACTIVE accounts (under the OUs, if given) written to s3://B/K as a JSON list of
  `{"account", "account_name"}`, the Distributed Map's items. Returns `{"bucket", "key", "accounts": n}`.
- `{"action": "plan" | "apply", "account": "111122223333", "role_name": ..., "trails": [...]}`
  (`trails` optional: from SSM as for other direct invocations): assume the account's role (the
  function's own account uses its own credentials) and run the same engine there; returns the JSON
  report. An account that cannot be run at all raises (the Map counts the child as failed, against its
  tolerated failure percentage); per-trail failures are in the report.
- `{"action": "audit", "account": "111122223333", "role_name": ..., "standards": [...], "regions": [...],
  "required_tags": [...]}`: the same account and role, audited read-only (`org/audit.py`); returns the
  audit JSON, bounded to fit a Step Functions state.
- `{"action": "summarise", "result_writer": {"Bucket": B, "Key": manifest}}`: read the Map's results
  (ResultWriter's manifest and files), total them, publish metrics and (NOTIFY_TOPIC_ARN) one message.
  After a failed Map, `{"action": "summarise", "map_error": {Error, Cause}, "results": {"Bucket": B,
  "Prefix": P}, "accounts": {"bucket", "key"}}`: the same totals from whatever results it wrote under P,
  with `run_failed`, always notified (the state machine then fails the execution). With `"run_action":
  "audit"` the totals are the audit's (`org/audit_totals.py`); plan and apply keep theirs.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from typing import Any, TypeVar

from trailkeeper import observability
from trailkeeper.audit import request as audit_request
from trailkeeper.aws import delegation
from trailkeeper.aws.calls import ANSWER_RESERVE_SECONDS, Clients, Deadline, call, function_region, shared_clients
from trailkeeper.errors import MalformedEvent, show
from trailkeeper.fleet import request
from trailkeeper.fleet.report import STATUSES
from trailkeeper.org import accounts, audit_totals
from trailkeeper.org import audit as org_audit
from trailkeeper.org import reconcile as org_reconcile
from trailkeeper.org.credentials import AccountSessions
from trailkeeper.org.reconcile_totals import ReconcileTotals
from trailkeeper.trail import arns, standing

log = logging.getLogger(__name__)
EVERY_OWNER = frozenset({standing.EVERY_OWNER})

# Writing the account list for the Map and reading its results back; after a failed Map, finding its
# manifest under the execution's prefix (ListObjectsV2 is authorised as s3:ListBucket).
PERMISSIONS = ("s3:PutObject", "s3:GetObject", "s3:ListBucket")

ROLE_NAME = "MEMBER_ROLE_NAME"  # the role assumed in member accounts (member-role.yaml creates it)
ACCOUNTS_RECONCILED, ACCOUNTS_FAILED = "AccountsReconciled", "AccountsFailed"
RUNS_FAILED = "OrganizationRunsFailed"  # the Map failed: more accounts failed than tolerated, or no items


def clients() -> Clients:
    return shared_clients()


def _region() -> str:
    return function_region(fallback="us-east-1")


def _strings(event: Mapping[str, Any], key: str) -> list[str]:
    value = event.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise MalformedEvent(f"{key} {show(value)} must be a list of strings")
    return value


def _text(event: Mapping[str, Any], key: str, default: str | None = None) -> str:
    value = event.get(key, default)
    if not isinstance(value, str) or not value:
        raise MalformedEvent(f"{key} {show(value)} must be a non-empty string")
    return value


# What an execution of the state machine takes (org-reconcile.asl.json's Settings give each a default).
RUN_FIELDS = ("action", "ou_ids", "exclude_accounts", *org_audit.FIELDS)
RUN_ACTIONS = ("plan", "apply", "audit")


def check_run(event: Mapping[str, Any]) -> None:
    """The execution's whole input (`execution_input`, as started), checked before anything is listed: a
    field no run takes is refused by name. The state machine passes on only the fields it knows, so a
    misspelt `standard` would otherwise vanish and the run go on with the defaults, as if asked to.
    (A list-accounts invoked by hand, without it, is checked by its own fields.)"""
    if "execution_input" not in event:
        return
    run = event["execution_input"]
    if not isinstance(run, Mapping):
        raise MalformedEvent(f"the execution input must be a JSON object with {', '.join(RUN_FIELDS)}, not {show(run)}")
    problems = [
        f"{show(name)}: not a field of an organization run's input (it takes {', '.join(RUN_FIELDS)})"
        for name in run
        if name not in RUN_FIELDS
    ]
    if run.get("action", "plan") not in RUN_ACTIONS:
        problems.append(f"action={show(run.get('action'))}: must be one of {', '.join(RUN_ACTIONS)}")
    for name in ("ou_ids", "exclude_accounts"):
        value = run.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems.append(f"{name}={show(value)}: must be a list of strings")
    if run.get("action") == "audit":
        audit_fields = {k: v for k, v in run.items() if k in org_audit.FIELDS}
        try:
            org_audit.read(audit_fields, also=())
        except MalformedEvent as error:
            problems.append(error.message)
    if problems:  # a hostile input's thousands of fields are counted, not named (the Cause stays small)
        shown = problems[: audit_request.MAX_PROBLEMS]
        more = [f"and {len(problems) - len(shown)} more"] if len(problems) > len(shown) else []
        raise MalformedEvent("; ".join(shown + more))


def list_accounts(event: Mapping[str, Any], caller_arn: str, deadline: Deadline) -> dict[str, Any]:
    bucket, key = _text(event, "bucket"), _text(event, "key")
    check_run(event)  # the run's whole input first: a misspelt field fails the run here, once, by name
    if event.get("run_action") == "audit":  # refused once here, before a thousand children refuse it each
        org_audit.read(event, also=org_audit.LISTING_FIELDS)
    found = accounts.discover(
        clients(),
        _region(),
        deadline,
        caller_account=arns.account_of(caller_arn),
        partition=accounts.partition_of(caller_arn),
        ous=_strings(event, "ou_ids"),
        exclude=_strings(event, "exclude_accounts"),
    )
    items = [{"account": a.id, "account_name": a.name} for a in found]
    call(
        "PutObject",
        lambda: (
            clients()
            .client("s3", _region())
            .put_object(Bucket=bucket, Key=key, Body=json.dumps(items).encode(), ContentType="application/json")
        ),
        deadline=deadline,
    )
    return {"bucket": bucket, "key": key, "accounts": len(items)}


def _account(event: Mapping[str, Any], caller_arn: str) -> accounts.Account:
    """The account the event names, with the role to assume there (none in the function's own account)."""
    account_id = _text(event, "account")
    if not accounts.ACCOUNT_ID.match(account_id):
        raise MalformedEvent(f"account {show(account_id)} is not a 12-digit account id")
    role_name = _text(event, "role_name", os.environ.get(ROLE_NAME) or accounts.DEFAULT_ROLE_NAME)
    if not accounts.ROLE_NAME.match(role_name):
        raise MalformedEvent(
            f"role_name {show(role_name)} is not an IAM role name (1-512 of letters, digits and +=,.@_-/)"
        )
    own = account_id == arns.account_of(caller_arn)
    return accounts.Account(
        account_id,
        str(event.get("account_name") or ""),
        None if own else accounts.role_arn(accounts.partition_of(caller_arn), account_id, role_name),
    )


def audit_account(event: Mapping[str, Any], caller_arn: str, deadline: Deadline) -> dict[str, Any]:
    """`audit` in one account: every field checked, then its role assumed, then its trails read."""
    account = _account(event, caller_arn)
    asked = org_audit.read(event)
    acting = clients()
    if account.role_arn is not None:
        acting = Clients(AccountSessions(clients(), _region(), deadline).session(account))  # raises naming both
    # One child per account: each owner reports its own organization trails (org/reconcile.py's docstring).
    delegation.share(clients(), acting, EVERY_OWNER)
    try:
        answer = org_audit.run(
            asked,
            account.id,
            account.name,
            acting,
            region=_region(),
            partition=accounts.partition_of(caller_arn) or "aws",
            deadline=deadline,
        )
    finally:
        delegation.unshare(acting)
    log.info(
        "account audited", extra={"account": account.id, "summary": answer["summary"], "dropped": answer.get("dropped")}
    )
    return answer


def run_account(event: Mapping[str, Any], caller_arn: str, deadline: Deadline) -> dict[str, Any]:
    if event.get("action") == "audit":
        return audit_account(event, caller_arn, deadline)
    account = _account(event, caller_arn)
    asked = {k: v for k, v in event.items() if k in ("action", "trails")}
    action, declarations = request.read(asked, clients(), _region(), deadline)
    account_id = account.id
    result = org_reconcile.run(
        declarations,
        [account],
        clients=clients(),
        default_region=_region(),
        apply=action == "apply",
        deadline=deadline,
        reported_by_owner=EVERY_OWNER,  # one child per account: each owner reports its organization trails
    )
    (ran,) = result.accounts
    if ran.error is not None:
        raise ran.error  # the Map counts this child as failed; its Cause is the reason (account, role)
    for trail in result.results:
        if trail.error is not None:
            observability.count_failure(trail.error.error_code)
    log.info("account run", extra={"account": account_id, "summary": result.summary(), "action": action})
    return result.to_dict()


def _read_json(bucket: str, key: str, deadline: Deadline) -> Any:
    answer = call(
        "GetObject", lambda: clients().client("s3", _region()).get_object(Bucket=bucket, Key=key), deadline=deadline
    )
    return json.loads(answer["Body"].read())


def _manifest_under(bucket: str, prefix: str, deadline: Deadline) -> str | None:
    """The key of the manifest a failed Map wrote under its execution's prefix; None when it wrote none.

    The Map's error does not say where its results went (their folder is named for the Map Run), so
    the state machine gives each execution a prefix of its own and the manifest is found under it.
    """
    answer = call(
        "ListObjectsV2",
        lambda: clients().client("s3", _region()).list_objects_v2(Bucket=bucket, Prefix=prefix),
        deadline=deadline,
    )
    found = sorted(str(o["Key"]) for o in answer.get("Contents", []) if str(o["Key"]).endswith("/manifest.json"))
    return found[-1] if found else None


_T = TypeVar("_T", ReconcileTotals, audit_totals.AuditTotals)  # plan and apply's totals, or audit's


def _totals(totals: _T, bucket: str, manifest_key: str | None, deadline: Deadline) -> _T:
    """`totals` with every child of the Map's result files added (none when it wrote no manifest)."""
    if manifest_key is None:
        return totals
    manifest = _read_json(bucket, manifest_key, deadline)
    for group, files in (manifest.get("ResultFiles") or {}).items():
        for file in files:
            for child in _read_json(bucket, file["Key"], deadline):
                totals.add(group, child)
    return totals


def _failed_run(event: Mapping[str, Any], deadline: Deadline) -> tuple[str, str | None, dict[str, Any]]:
    """(bucket, manifest key or None, what failed) for the summary of a run whose Map failed."""
    failure, results = event["map_error"], event.get("results")
    if not isinstance(failure, Mapping) or not isinstance(results, Mapping):
        raise MalformedEvent("summarise of a failed Map needs map_error: {Error, Cause} and results: {Bucket, Prefix}")
    bucket = _text(results, "Bucket")
    run_failed: dict[str, Any] = {"error": str(failure.get("Error", "")), "cause": str(failure.get("Cause", ""))[:500]}
    listed = event.get("accounts")
    if isinstance(listed, Mapping):  # how many accounts the run meant to cover, to tell how many went unreported
        run_failed["accounts_listed"] = len(_read_json(_text(listed, "bucket"), _text(listed, "key"), deadline))
    return bucket, _manifest_under(bucket, _text(results, "Prefix"), deadline), run_failed


def summarise(event: Mapping[str, Any], deadline: Deadline) -> dict[str, Any]:
    """Totals over the Map's results: accounts run and failed, trails by status, copies not owned.

    After the Map failed (more accounts failed than tolerated, or its items could not be read) the same
    totals from whatever results it wrote, and `run_failed`: the run is reported, and notified, whatever
    the totals; the state machine then fails the execution.
    """
    run_failed: dict[str, Any] | None = None
    if "map_error" in event:
        bucket, manifest_key, run_failed = _failed_run(event, deadline)
    else:
        writer = event.get("result_writer")
        if not isinstance(writer, Mapping):
            raise MalformedEvent("summarise needs result_writer: {Bucket, Key} (the Map's ResultWriterDetails)")
        bucket, manifest_key = _text(writer, "Bucket"), _text(writer, "Key")
    if event.get("run_action") == "audit":
        return _summarise_audit(bucket, manifest_key, run_failed, deadline)
    totals = _totals(ReconcileTotals(), bucket, manifest_key, deadline)
    ran = totals.ran
    summary: dict[str, Any] = {
        "accounts": max(ran + len(totals.failed), int((run_failed or {}).get("accounts_listed", 0))),
        "accounts_failed": totals.failed,
        "trails": {s: totals.trails[s] for s in STATUSES},
        "not_owned": totals.not_reported_by_owner(),
    }
    if run_failed is not None:
        summary["run_failed"] = run_failed
        observability.count(RUNS_FAILED)
    observability.count(ACCOUNTS_RECONCILED, ran)
    observability.count(ACCOUNTS_FAILED, len(totals.failed))
    drift = totals.trails["drifted"] + totals.trails["fixed"]
    if drift:
        observability.count(observability.DRIFT_FOUND, drift)
    if totals.trails["fixed"]:
        observability.count(observability.DRIFT_FIXED, totals.trails["fixed"])
    _notify(summary, deadline)
    return summary


def _summarise_audit(
    bucket: str, manifest_key: str | None, run_failed: dict[str, Any] | None, deadline: Deadline
) -> dict[str, Any]:
    """An audit run's totals, metrics and message (`org/audit_totals.py`): nothing is judged again here."""
    totals = _totals(audit_totals.AuditTotals(), bucket, manifest_key, deadline)
    summary = totals.summary(int((run_failed or {}).get("accounts_listed", 0)))
    if run_failed is not None:
        summary["run_failed"] = run_failed
        observability.count(RUNS_FAILED)
    totals.count()
    observability.count(ACCOUNTS_FAILED, len(totals.failed))
    topic = os.environ.get(request.NOTIFY_TOPIC, "")
    if topic and audit_totals.newsworthy(summary):
        folder = manifest_key.rsplit("/", 1)[0] + "/" if manifest_key and "/" in manifest_key else ""
        results = f"s3://{bucket}/{folder}" if manifest_key else ""
        _publish(topic, audit_totals.subject(summary), audit_totals.message(summary, results), deadline)
    return summary


def _publish(topic: str, subject: str, message: str, deadline: Deadline) -> None:
    try:
        call(
            "Publish",
            lambda: (
                clients()
                .client("sns", arns.region_of(topic) or _region())
                .publish(TopicArn=topic, Subject=subject[:100], Message=message[:250_000])
            ),
            deadline=deadline,
        )
    except Exception:  # the run is done; a failed notification must not turn it into an error
        log.exception("could not publish the notification")


def _notify(summary: Mapping[str, Any], deadline: Deadline) -> None:
    topic = os.environ.get(request.NOTIFY_TOPIC, "")
    trails = summary["trails"]
    if not topic or not (trails["fixed"] or trails["failed"] or summary["accounts_failed"] or "run_failed" in summary):
        return
    failed = summary.get("run_failed")
    subject = "trailkeeper: " + (f"run FAILED ({failed['error']}): " if failed else "")
    subject += (
        f"{summary['accounts']} accounts, {len(summary['accounts_failed'])} failed, "
        f"{trails['fixed']} trails fixed, {trails['failed']} failed"
    )
    _publish(topic, subject, json.dumps(summary, indent=2), deadline)


def handle(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    remaining = context.get_remaining_time_in_millis() / 1000.0 if context else None
    deadline = Deadline(None if remaining is None else max(0.0, remaining - ANSWER_RESERVE_SECONDS))
    caller_arn = str(getattr(context, "invoked_function_arn", "") or "")
    if not arns.account_of(caller_arn):
        raise MalformedEvent("an organization invocation needs the Lambda context (the function's own account)")
    if event.get("action") == "list-accounts":
        return list_accounts(event, caller_arn, deadline)
    if event.get("action") == "summarise":
        return summarise(event, deadline)
    return run_account(event, caller_arn, deadline)
