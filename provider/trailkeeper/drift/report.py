"""The drift report: one result per declared trail, as JSON for machines or a table for people.

JSON shape (`SCHEMA` below is the contract; tests validate every report against it):

    {"action": "plan" | "apply",
     "summary": {"trails": 3, "in_sync": 1, "drifted": 1, "fixed": 0, "failed": 1},
     "trails": [{"name": "audit-trail",                # as declared
                 "trail_arn": "arn:aws:cloudtrail:...", # null when it was not found
                 "home_region": "us-east-1",            # null when it was not found
                 "status": "in_sync" | "drifted" | "fixed" | "failed",
                 "changes": [{"property": "KmsKeyId", "current": "", "desired": "arn:aws:kms:..."}],
                 "error": null | {"code": "TrailNotFound", "reason": "..."}}],
     "warnings": ["... declares no trails: nothing was checked ..."],   # only when there is one
     "skipped": "UpdateTrail failed (...): it changed nothing"}       # an event that needed no reconcile

When the run fails before there is a report (an invalid file, no credentials, a usage error), the CLI's
`--json` output is an error document instead, `{"error": {"code", "reason", "problems": [...]}}`;
`SCHEMA` accepts exactly one of the two.

Exit codes: plan gives 0 when every trail is in sync, 2 when drift was found, 1 when any trail failed;
apply gives 0 when every trail ends in sync (fixed or already right) and 1 when any failed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from trailkeeper.errors import TrailkeeperError
from trailkeeper.trail.plan import Change
from trailkeeper.trail.settings import Value

Status = Literal["in_sync", "drifted", "fixed", "failed"]
STATUSES: tuple[Status, ...] = ("in_sync", "drifted", "fixed", "failed")
EXIT_OK, EXIT_FAILED, EXIT_DRIFT = 0, 1, 2

_VALUE = {"type": ["string", "boolean", "null"]}
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
            "additionalProperties": False,
            "properties": {key: {"type": "integer", "minimum": 0} for key in ("trails", *STATUSES)},
        },
        "trails": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "trail_arn", "home_region", "status", "changes", "error"],
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string"},
                    "trail_arn": {"type": ["string", "null"]},
                    "home_region": {"type": ["string", "null"]},
                    "status": {"enum": list(STATUSES)},
                    "changes": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["property", "current", "desired"],
                            "additionalProperties": False,
                            "properties": {"property": {"type": "string"}, "current": _VALUE, "desired": _VALUE},
                        },
                    },
                    "error": {
                        "oneOf": [
                            {"type": "null"},
                            {
                                "type": "object",
                                "required": ["code", "reason"],
                                "additionalProperties": False,
                                "properties": {"code": {"type": "string"}, "reason": {"type": "string"}},
                            },
                        ]
                    },
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

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "trail_arn": self.trail_arn,
            "home_region": self.home_region,
            "status": self.status,
            "changes": [{"property": c.name, "current": c.current, "desired": c.desired} for c in self.changes],
            "error": None if self.error is None else {"code": self.error.error_code, "reason": self.error.reason},
        }


@dataclass(frozen=True)
class Report:
    action: Literal["plan", "apply"]
    results: tuple[TrailResult, ...]
    warnings: tuple[str, ...] = ()
    skipped: str | None = None  # why an event needed no reconcile (the event-driven loop guard)

    def count(self, status: Status) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def exit_code(self) -> int:
        if self.count("failed"):
            return EXIT_FAILED
        return EXIT_DRIFT if self.count("drifted") else EXIT_OK

    def summary(self) -> dict[str, int]:
        return {"trails": len(self.results), **{status: self.count(status) for status in STATUSES}}

    def to_dict(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "action": self.action,
            "summary": self.summary(),
            "trails": [r.to_dict() for r in self.results],
        }
        if self.warnings:
            document["warnings"] = list(self.warnings)
        if self.skipped:
            document["skipped"] = self.skipped
        return document

    def summary_line(self) -> str:
        counts = self.summary()
        parts = ", ".join(f"{counts[s]} {s.replace('_', ' ')}" for s in STATUSES)
        return f"{self.action}: {counts['trails']} trail(s): {parts}"


def show_value(value: Value | None) -> str:
    if value is None:
        return "?"
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if value else "''"


def table(report: Report) -> str:
    """The report for people: one row per drifted property, one per trail otherwise."""
    rows: list[Sequence[str]] = [("TRAIL", "HOME REGION", "STATUS", "PROPERTY", "CURRENT -> DECLARED")]
    for result in report.results:
        status = result.status.replace("_", " ")
        head = (result.name, result.home_region or "-", status)
        if result.error is not None:
            rows.append((*head, "", result.error.reason))
        elif not result.changes:
            rows.append((*head, "", ""))
        for index, change in enumerate(result.changes):
            lead = head if index == 0 else ("", "", "")
            rows.append((*lead, change.name, f"{show_value(change.current)} -> {show_value(change.desired)}"))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])) + "  " + row[4] for row in rows]
    notes = "".join(f"\nwarning: {warning}" for warning in report.warnings)
    notes += f"\nskipped: {report.skipped}" if report.skipped else ""
    return "\n".join(line.rstrip() for line in lines) + "\n" + report.summary_line() + notes


def error_document(error: TrailkeeperError) -> dict[str, Any]:
    """What `--json` prints when the run fails before there is a report (`ERROR_SCHEMA`)."""
    problems = getattr(error, "problems", None) or (error.reason,)
    return {"error": {"code": error.error_code, "reason": error.reason, "problems": list(problems)}}
