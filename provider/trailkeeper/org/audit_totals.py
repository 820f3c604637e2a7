"""The totals of an organization `audit` run: what summarise makes of the accounts' answers (`org/audit.py`).

Read from each child's answer, never judged again: each account's `summary` (complete, whatever `bound`
left out of its findings) gives the counts per control; its kept findings give the log buckets, so
that a bucket NOT_AVAILABLE in one account (it belongs to another) is listed once for the run, and not
at all when the account owning it judged it in its own child.

Metrics (EMF): `OrganizationControlFailing` per standard and control, the failing findings across the run (0 for a
control judged and passed everywhere, so that an alarm on it returns to OK; none for a control no account
could judge), `AccountsAudited` and
`AccountsFailed`. The SNS message lists the failing controls with their counts and the worst accounts.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Mapping
from typing import Any

from trailkeeper import observability
from trailkeeper.audit.facts import FAIL, NOT_AVAILABLE, PASS, STATUSES

# Dimensions Standard and Control. Not the Lambda's own `ControlFailing` (one account, audit/answer.py):
# both may run in the management account, in the same namespace, and one series must not mix the two.
CONTROL_FAILING = "OrganizationControlFailing"
ACCOUNTS_AUDITED = "AccountsAudited"
WORST_ACCOUNTS = 10  # in the summary and the message: the accounts with the most failing findings


@dataclasses.dataclass
class AuditTotals:
    """What the audit children's answers add up to (the `_Totals` of plan and apply, for audit)."""

    ran: int = 0
    failed: list[dict[str, str]] = dataclasses.field(default_factory=list)
    findings: Counter[str] = dataclasses.field(default_factory=Counter)
    failing: dict[tuple[str, str], Counter[str]] = dataclasses.field(default_factory=dict)  # FAIL, accounts
    accounts_failing: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    incomplete: list[str] = dataclasses.field(default_factory=list)
    unseen_buckets: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    judged_buckets: set[str] = dataclasses.field(default_factory=set)
    standards: dict[str, None] = dataclasses.field(default_factory=dict)

    def add(self, group: str, child: Mapping[str, Any]) -> None:
        item = json.loads(child.get("Input") or "{}")
        account = str(item.get("account", "?"))
        if group != "SUCCEEDED":
            cause = str(child.get("Cause") or child.get("Error") or group)
            self.failed.append({"account": account, "reason": cause[:500]})
            return
        self.ran += 1
        answer = json.loads(child.get("Output") or "{}")
        summary = answer.get("summary", {})
        self.standards.update(dict.fromkeys(answer.get("standards", [])))
        self.findings.update({s: int(summary.get(s, 0)) for s in STATUSES})
        for row in summary.get("controls", []):
            counts = self.failing.setdefault((str(row["standard"]), str(row["control"])), Counter())
            counts[FAIL] += int(row.get(FAIL, 0))
            counts["accounts"] += 1 if row.get(FAIL, 0) else 0
            counts["judged"] += int(row.get(FAIL, 0)) + int(row.get(PASS, 0))
            # NOT_AVAILABLE where this account's reads failed: whether it passes there is not known.
            counts["unread"] += 1 if summary.get("errors") and row.get(NOT_AVAILABLE, 0) else 0
        if summary.get(FAIL):
            name = str(item.get("account_name") or "")
            self.accounts_failing.append({"account": account, "account_name": name, FAIL: int(summary[FAIL])})
        if summary.get("errors"):
            self.incomplete.append(account)
        for finding in answer.get("findings", []):
            resource = str(finding["resource"])
            if resource.split(":")[2:3] != ["s3"]:
                continue
            if finding["status"] != NOT_AVAILABLE:
                self.judged_buckets.add(resource)
                continue
            seen = self.unseen_buckets.setdefault(resource, {"bucket": resource, "accounts": [], "reason": ""})
            seen["reason"] = seen["reason"] or str(finding["reason"])
            if account not in seen["accounts"]:
                seen["accounts"].append(account)

    def summary(self, listed: int = 0) -> dict[str, Any]:
        """The run's totals (the execution's output, and the message's content)."""
        worst = sorted(self.accounts_failing, key=lambda a: (-a[FAIL], a["account"]))
        failing = [
            {"standard": standard, "control": control, FAIL: counts[FAIL], "accounts": counts["accounts"]}
            for (standard, control), counts in self.failing.items()
            if counts[FAIL]
        ]
        unseen = [
            {**note, "accounts": sorted(note["accounts"])}
            for arn, note in sorted(self.unseen_buckets.items())
            if arn not in self.judged_buckets
        ]
        return {
            "action": "audit",
            "standards": list(self.standards),
            "accounts": max(self.ran + len(self.failed), listed),
            "accounts_audited": self.ran,
            "accounts_failed": self.failed,
            "accounts_incomplete": sorted(self.incomplete),
            "accounts_with_failures": len(worst),
            "worst_accounts": worst[:WORST_ACCOUNTS],
            "findings": {s: self.findings[s] for s in STATUSES},
            "failing_controls": failing,
            "buckets_not_available": unseen,
        }

    def count(self) -> None:
        """The run's metrics: failing findings per judged control, accounts audited and failed. A control no
        account could judge (only NOT_AVAILABLE, e.g. a Log Archive bucket) has no datapoint, never a 0; nor
        has one failing nowhere but left NOT_AVAILABLE by an account's failed reads (0 would claim a pass)."""
        for (standard, control), counts in self.failing.items():
            if counts["judged"] and (counts[FAIL] or not counts["unread"]):
                observability.control_failing(standard, control, counts[FAIL], name=CONTROL_FAILING)
        observability.count(ACCOUNTS_AUDITED, self.ran)


def newsworthy(summary: Mapping[str, Any]) -> bool:
    """Whether the run is worth a message: a control fails, an account failed or was incomplete, or the run."""
    return bool(summary["failing_controls"] or summary["accounts_failed"] or summary["accounts_incomplete"]) or (
        "run_failed" in summary
    )


def subject(summary: Mapping[str, Any]) -> str:
    failed = summary.get("run_failed")
    text = "trailkeeper audit: " + (f"run FAILED ({failed['error']}): " if failed else "")
    text += (
        f"{summary['findings'][FAIL]} failing in {summary['accounts_with_failures']} of "
        f"{summary['accounts']} accounts, {len(summary['accounts_failed'])} not audited"
    )
    return text[:100]  # SNS's limit for a subject


def message(summary: Mapping[str, Any], results: str) -> str:
    """For people first (the failing controls, the worst accounts), then the whole summary as JSON."""
    lines = [subject(summary), ""]
    if summary.get("run_failed"):
        lines += [f"The run failed: {summary['run_failed']['error']}: {summary['run_failed']['cause']}", ""]
    if summary["failing_controls"]:
        lines.append("Failing controls (findings, accounts):")
        lines += [
            f"  {c['standard']} {c['control']}: {c[FAIL]} in {c['accounts']} account(s)"
            for c in summary["failing_controls"]
        ]
        lines.append("")
    if summary["worst_accounts"]:
        lines.append(f"Worst accounts (of {summary['accounts_with_failures']} with failures):")
        lines += [
            f"  {a['account']}{' (' + a['account_name'] + ')' if a['account_name'] else ''}: {a[FAIL]} failing"
            for a in summary["worst_accounts"]
        ]
        lines.append("")
    if summary["accounts_failed"]:
        lines.append("Accounts not audited:")
        lines += [f"  {a['account']}: {a['reason']}" for a in summary["accounts_failed"][:WORST_ACCOUNTS]]
        lines.append("")
    if summary["accounts_incomplete"]:
        lines += [f"Accounts with reads that failed: {', '.join(summary['accounts_incomplete'])}", ""]
    if summary["buckets_not_available"]:
        lines.append("Log buckets no account of the run could judge (CloudTrail.6, .7):")
        lines += [f"  {b['bucket']} (trails of {', '.join(b['accounts'])})" for b in summary["buckets_not_available"]]
        lines.append("")
    if results:
        lines += [f"Every account's findings: {results}", ""]
    text = "\n".join(lines)
    return text + "\n" + json.dumps(summary, indent=2)[: 250_000 - len(text)]
