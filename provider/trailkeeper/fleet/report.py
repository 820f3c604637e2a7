"""The drift report: one result per trail the declarations cover (or per name not found), as JSON for machines
or a table for people; each result says which declarations covered it (`declared_by`, the DECLARED BY column).

JSON shape (`SCHEMA` below is the contract; tests validate every report against it):

    {"action": "plan" | "apply",
     "summary": {"trails": 3, "in_sync": 1, "drifted": 1, "fixed": 0, "failed": 1},
     "trails": [{"name": "audit-trail",                # the trail's name (as declared when none was found)
                 "declared_by": [{"index": 0, "name": "*"}],  # the declarations that cover it, in file order
                 "trail_arn": "arn:aws:cloudtrail:...", # null when it was not found
                 "home_region": "us-east-1",            # null when it was not found
                 "status": "in_sync" | "drifted" | "fixed" | "failed",
                 "changes": [{"property": "KmsKeyId", "current": "", "desired": "arn:aws:kms:...",
                              "weakens": null,      # or the audit control a weakening change breaks
                              "moves": false}],     # true: it moves audit logs (bucket, prefix, key, log group)
                 "error": null | {"code": "TrailNotFound", "reason": "..."}}],  # see below for failed writes
     "warnings": ["... declares no trails: nothing was checked ..."],   # only when there is one
     "skipped": "UpdateTrail failed (...): it changed nothing"}       # an event that needed no reconcile

When the run fails before there is a report (an invalid file, no credentials, a usage error), the CLI's
`--json` output is an error document instead, `{"error": {"code", "reason", "problems": [...]}}`;
`SCHEMA` accepts exactly one of the two.

An organization run (`trailkeeper.org`) adds `account` and `account_name` to every trail result,
`summary.accounts` (one entry per account: its counts, and its own `error` when it could not be run
at all, e.g. its role could not be assumed), `summary.accounts_failed` (how many of them could not
be run: a failed account has no trail results, so the trail counts alone would show none) and
`not_owned` (organization trails seen only as member-account copies, whose owner was not in the run:
noted once, never a failure). A single-account
run notes there the organization trails of another account that a name or a pattern matched.

Exit codes: plan gives 0 when every trail is in sync, 2 when drift was found, 1 when any trail (or account) failed;
apply gives 0 when every trail ends in sync (fixed or already right) and 1 when any failed.

When some of a trail's writes failed, its `error` also says what every write did: `written` (operation
names), `failed` ([{operation, code, reason}], each failure, in order) and `not_attempted` ([{operation,
why}], writes that depend on a failed one); `reason` says the same in words, e.g. "already written:
StartLogging; UpdateTrail failed: ...". A failed write does not stop the writes that do not depend on it.

A change's `current`/`desired` is a string or boolean for a setting, a list or an object for event
selectors, Insights and tags. `weakens` names the control a change would break (the guard refuses it
on apply unless the trail's AllowWeakening, or --allow-weakening, allows it). `moves` is true when the
change moves audit logs to another bucket, prefix, KMS key or log group (none removed): not a weakening,
but worth a reviewer's look (docs/guard.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from trailkeeper.errors import TrailkeeperError
from trailkeeper.trail.aspect import Change, Weakening, show_value

Status = Literal["in_sync", "drifted", "fixed", "failed"]
STATUSES: tuple[Status, ...] = ("in_sync", "drifted", "fixed", "failed")
EXIT_OK, EXIT_FAILED, EXIT_DRIFT = 0, 1, 2
MOVES = "moves audit logs"  # the mark of a change that sends logs elsewhere (Change.moves)

_VALUE = {"type": ["string", "boolean", "null", "array", "object"]}
_NAMES = {"type": "array", "items": {"type": "string"}}
_ERROR = {
    "oneOf": [
        {"type": "null"},
        {
            "type": "object",
            "required": ["code", "reason"],
            "additionalProperties": False,
            "properties": {
                "code": {"type": "string"},
                "reason": {"type": "string"},
                # When some writes failed: every write's fate (a failed write does not stop the others).
                "written": _NAMES,
                "failed": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["operation", "code", "reason"],
                        "additionalProperties": False,
                        "properties": {k: {"type": "string"} for k in ("operation", "code", "reason")},
                    },
                },
                "not_attempted": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["operation", "why"],
                        "additionalProperties": False,
                        "properties": {k: {"type": "string"} for k in ("operation", "why")},
                    },
                },
            },
        },
    ]
}
_ACCOUNT_ID = {"type": "string", "pattern": "^[0-9]{12}$"}
REPORT_SCHEMA: dict[str, Any] = {
    "title": "trailkeeper drift report",
    "type": "object",
    "required": ["action", "summary", "trails"],
    "additionalProperties": False,
    "properties": {
        "action": {"enum": ["plan", "apply"]},
        "summary": {
            "type": "object",
            "required": ["trails", *STATUSES],
            "dependentRequired": {"accounts": ["accounts_failed"], "accounts_failed": ["accounts"]},
            "additionalProperties": False,
            "properties": {
                **{key: {"type": "integer", "minimum": 0} for key in ("trails", *STATUSES)},
                "accounts_failed": {"type": "integer", "minimum": 0},  # organization runs only
                "accounts": {  # organization runs only
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["account", "account_name", "trails", *STATUSES, "error"],
                        "additionalProperties": False,
                        "properties": {
                            "account": _ACCOUNT_ID,
                            "account_name": {"type": "string"},
                            **{key: {"type": "integer", "minimum": 0} for key in ("trails", *STATUSES)},
                            "error": _ERROR,
                        },
                    },
                },
            },
        },
        "not_owned": {  # organization runs only
            "type": "array",
            "items": {
                "type": "object",
                "required": ["trail_arn", "owner_account", "seen_in_accounts"],
                "additionalProperties": False,
                "properties": {
                    "trail_arn": {"type": "string"},
                    "owner_account": _ACCOUNT_ID,
                    "seen_in_accounts": {"type": "integer", "minimum": 1},
                },
            },
        },
        "trails": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "declared_by", "trail_arn", "home_region", "status", "changes", "error"],
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string"},
                    "declared_by": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["index", "name"],
                            "additionalProperties": False,
                            "properties": {"index": {"type": "integer", "minimum": 0}, "name": {"type": "string"}},
                        },
                    },
                    "trail_arn": {"type": ["string", "null"]},
                    "home_region": {"type": ["string", "null"]},
                    "status": {"enum": list(STATUSES)},
                    "changes": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["property", "current", "desired", "weakens", "moves"],
                            "additionalProperties": False,
                            "properties": {
                                "property": {"type": "string"},
                                "current": _VALUE,
                                "desired": _VALUE,
                                "weakens": {"type": ["string", "null"]},
                                "moves": {"type": "boolean"},
                            },
                        },
                    },
                    "error": _ERROR,
                    "account": _ACCOUNT_ID,  # organization runs only
                    "account_name": {"type": "string"},
                },
            },
        },
        "warnings": {"type": "array", "items": {"type": "string"}},
        "skipped": {"type": "string"},
    },
}
ERROR_SCHEMA: dict[str, Any] = {
    "title": "trailkeeper error (the run failed before there was a report)",
    "type": "object",
    "required": ["error"],
    "additionalProperties": False,
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "reason", "problems"],
            "additionalProperties": False,
            "properties": {
                "code": {"type": "string"},
                "reason": {"type": "string"},
                "problems": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            },
        }
    },
}
SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "trailkeeper --json output: a drift report, or an error",
    "oneOf": [REPORT_SCHEMA, ERROR_SCHEMA],
}


@dataclass(frozen=True)
class TrailResult:
    name: str
    status: Status
    trail_arn: str | None = None
    home_region: str | None = None
    changes: tuple[Change, ...] = ()
    error: TrailkeeperError | None = None
    refused: tuple[Weakening, ...] = ()  # weakening changes the declaration does not allow
    account: str | None = None  # set by organization runs
    account_name: str = ""
    declared_by: tuple[tuple[int, str], ...] = ()  # (index in the state, Name or pattern) of each covering one
    # How this account changes the trail: as its owner, as CloudTrail's delegated administrator (an organization
    # trail of the management account), or unconfirmed (trail/standing.py); and what it could not check from
    # here (the report's warnings say it). Neither is in the JSON of a trail.
    standing: str = "owner"
    unchecked: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        where: dict[str, str] = (
            {} if self.account is None else {"account": self.account, "account_name": self.account_name}
        )
        return {
            "name": self.name,
            "declared_by": [{"index": index, "name": name} for index, name in self.declared_by],
            "trail_arn": self.trail_arn,
            "home_region": self.home_region,
            "status": self.status,
            "changes": [
                {"property": c.name, "current": c.current, "desired": c.desired, "weakens": c.weakens, "moves": c.moves}
                for c in self.changes
            ],
            "error": _error(self.error),
            **where,
        }


def _error(error: TrailkeeperError | None) -> dict[str, Any] | None:
    if error is None:
        return None
    document: dict[str, Any] = {"code": error.error_code, "reason": error.full_reason}
    if error.writes is not None:  # some writes failed: say what each write did
        document["written"] = list(error.writes.written)
        document["failed"] = [
            {"operation": operation, "code": failure.error_code, "reason": failure.message}
            for operation, failure in error.writes.failed
        ]
        document["not_attempted"] = [{"operation": op, "why": why} for op, why in error.writes.not_attempted]
    return document


@dataclass(frozen=True)
class AccountRun:
    """One account of an organization run; `error` when it could not be run at all."""

    account: str
    name: str = ""
    error: TrailkeeperError | None = None


@dataclass(frozen=True)
class NotOwned:
    """An organization trail seen only as member-account copies: its owner was not in the run."""

    trail_arn: str
    owner_account: str
    seen_in_accounts: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "trail_arn": self.trail_arn,
            "owner_account": self.owner_account,
            "seen_in_accounts": self.seen_in_accounts,
        }


@dataclass(frozen=True)
class Report:
    action: Literal["plan", "apply"]
    results: tuple[TrailResult, ...]
    accounts: tuple[AccountRun, ...] = ()  # organization runs only
    not_owned: tuple[NotOwned, ...] = ()
    warnings: tuple[str, ...] = ()
    skipped: str | None = None  # why an event needed no reconcile (the event-driven loop guard)

    def count(self, status: Status) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def failed_accounts(self) -> int:
        return sum(1 for a in self.accounts if a.error is not None)

    @property
    def exit_code(self) -> int:
        if self.count("failed") or self.failed_accounts:
            return EXIT_FAILED
        return EXIT_DRIFT if self.count("drifted") else EXIT_OK

    def summary(self) -> dict[str, int]:
        return {"trails": len(self.results), **{status: self.count(status) for status in STATUSES}}

    def account_summaries(self) -> list[dict[str, Any]]:
        """Per-account counts, in the order the accounts were given."""
        summaries: list[dict[str, Any]] = []
        for run in self.accounts:
            mine = [r for r in self.results if r.account == run.account]
            counts: dict[str, int] = {status: sum(1 for r in mine if r.status == status) for status in STATUSES}
            summaries.append(
                {
                    "account": run.account,
                    "account_name": run.name,
                    "trails": len(mine),
                    **counts,
                    "error": _error(run.error),
                }
            )
        return summaries

    def to_dict(self) -> dict[str, Any]:
        summary: dict[str, Any] = dict(self.summary())
        document: dict[str, Any] = {
            "action": self.action,
            "summary": summary,
            "trails": [r.to_dict() for r in self.results],
        }
        if self.accounts:
            summary["accounts_failed"] = self.failed_accounts
            summary["accounts"] = self.account_summaries()
        if self.accounts or self.not_owned:
            document["not_owned"] = [n.to_dict() for n in self.not_owned]
        if self.warnings:
            document["warnings"] = list(self.warnings)
        if self.skipped:
            document["skipped"] = self.skipped
        return document

    def summary_line(self) -> str:
        counts = self.summary()
        parts = ", ".join(f"{counts[s]} {s.replace('_', ' ')}" for s in STATUSES)
        where = f" in {len(self.accounts)} account(s), {self.failed_accounts} failed" if self.accounts else ""
        return f"{self.action}: {counts['trails']} trail(s){where}: {parts}"


def _change_cell(change: Change) -> str:
    cell = f"{show_value(change.current)} -> {show_value(change.desired)}"
    if change.weakens:
        cell += f"  [weakens audit: {change.weakens}]"
    return f"{cell}  [{MOVES}]" if change.moves else cell


def _declared_cell(result: TrailResult) -> str:
    """Which declarations cover the trail: their index in the state, and their Name or pattern."""
    return ", ".join(f"[{index}] {name}" for index, name in result.declared_by) or "-"


def _trail_rows(results: Sequence[TrailResult]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for result in results:
        status = result.status.replace("_", " ")
        head = (result.name, _declared_cell(result), result.home_region or "-", status)
        if result.error is not None:
            rows.append((*head, "", result.error.full_reason))
        elif not result.changes:
            rows.append((*head, "", ""))
        for index, change in enumerate(result.changes):
            lead = head if index == 0 else ("", "", "", "")
            rows.append((*lead, change.name, _change_cell(change)))
    return rows


def _account_rows(report: Report) -> list[tuple[str, ...]]:
    """Organization runs: the same rows grouped by account, the account named on its first row."""
    rows: list[tuple[str, ...]] = []
    for run in report.accounts:
        label = run.account + (f" ({run.name})" if run.name else "")
        if run.error is not None:
            # Whole, not cut to CloudFormation's 256 characters: the account, its role and the remedy.
            rows.append((label, "-", "-", "-", "failed", "", f"{run.error.error_code}: {run.error.message}"))
            continue
        for index, row in enumerate(_trail_rows([r for r in report.results if r.account == run.account])):
            rows.append((label if index == 0 else "", *row))
    return rows


def table(report: Report) -> str:
    """The report for people: one row per drifted property, one per trail otherwise (grouped by account)."""
    header: tuple[str, ...] = ("TRAIL", "DECLARED BY", "HOME REGION", "STATUS", "PROPERTY", "CURRENT -> DECLARED")
    rows = [header, *_trail_rows(report.results)]
    if report.accounts:
        rows = [("ACCOUNT", *header), *_account_rows(report)]
    columns = len(header) - 1 + (1 if report.accounts else 0)
    widths = [max(len(row[i]) for row in rows) for i in range(columns)]
    lines = [
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:columns])) + "  " + row[columns] for row in rows
    ]
    notes = [
        f"{n.trail_arn}: an organization trail seen in {n.seen_in_accounts} member account(s); "
        f"only its owner, account {n.owner_account} (not in this run), can change it"
        for n in report.not_owned
    ]
    after = [f"warning: {warning}" for warning in report.warnings]
    after += [f"skipped: {report.skipped}"] if report.skipped else []
    refusing = [r.name for r in report.results if r.refused and r.status == "drifted"]
    if refusing:
        after.append(
            f"apply would refuse the changes that weaken audit on {len(refusing)} trail(s) ({', '.join(refusing)}): "
            "declare AllowWeakening for them, or pass --allow-weakening"
        )
    return "\n".join([*(line.rstrip() for line in lines), *notes, report.summary_line(), *after])


def error_document(error: TrailkeeperError) -> dict[str, Any]:
    """What `--json` prints when the run fails before there is a report (`ERROR_SCHEMA`)."""
    problems = getattr(error, "problems", None) or (error.reason,)
    return {"error": {"code": error.error_code, "reason": error.reason, "problems": list(problems)}}
