"""The drift report: one result per declared trail, as JSON for machines or a table for people.

JSON shape (`SCHEMA` below is the contract; tests validate every report against it):

    {"action": "plan" | "apply",
     "summary": {"trails": 3, "in_sync": 1, "drifted": 1, "fixed": 0, "failed": 1},
     "trails": [{"name": "audit-trail",                # as declared
                 "trail_arn": "arn:aws:cloudtrail:...", # null when it was not found
                 "home_region": "us-east-1",            # null when it was not found
                 "status": "in_sync" | "drifted" | "fixed" | "failed",
                 "changes": [{"property": "KmsKeyId", "current": "", "desired": "arn:aws:kms:...",
                              "weakens": null}],    # or the audit control a weakening change breaks
                 "error": null | {"code": "TrailNotFound", "reason": "..."}}]}

Exit codes: plan gives 0 when every trail is in sync, 2 when drift was found, 1 when any trail failed;
apply gives 0 when every trail ends in sync (fixed or already right) and 1 when any failed.

A change's `current`/`desired` is a string or boolean for a setting, a list or an object for event
selectors, Insights and tags. `weakens` names the control a change would break (the guard refuses it
on apply unless the trail's AllowWeakening, or --allow-weakening, allows it).
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

_VALUE = {"type": ["string", "boolean", "null", "array", "object"]}
SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
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
                            "required": ["property", "current", "desired", "weakens"],
                            "additionalProperties": False,
                            "properties": {
                                "property": {"type": "string"},
                                "current": _VALUE,
                                "desired": _VALUE,
                                "weakens": {"type": ["string", "null"]},
                            },
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
    },
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

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "trail_arn": self.trail_arn,
            "home_region": self.home_region,
            "status": self.status,
            "changes": [
                {"property": c.name, "current": c.current, "desired": c.desired, "weakens": c.weakens}
                for c in self.changes
            ],
            "error": None if self.error is None else {"code": self.error.error_code, "reason": self.error.reason},
        }


@dataclass(frozen=True)
class Report:
    action: Literal["plan", "apply"]
    results: tuple[TrailResult, ...]

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
        return {"action": self.action, "summary": self.summary(), "trails": [r.to_dict() for r in self.results]}

    def summary_line(self) -> str:
        counts = self.summary()
        parts = ", ".join(f"{counts[s]} {s.replace('_', ' ')}" for s in STATUSES)
        return f"{self.action}: {counts['trails']} trail(s): {parts}"


def _change_cell(change: Change) -> str:
    cell = f"{show_value(change.current)} -> {show_value(change.desired)}"
    return f"{cell}  [weakens audit: {change.weakens}]" if change.weakens else cell


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
            rows.append((*lead, change.name, _change_cell(change)))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])) + "  " + row[4] for row in rows]
    refusing = [r.name for r in report.results if r.refused and r.status == "drifted"]
    note = (
        f"\napply would refuse the changes that weaken audit on {len(refusing)} trail(s) ({', '.join(refusing)}): "
        "declare AllowWeakening for them, or pass --allow-weakening"
        if refusing
        else ""
    )
    return "\n".join(line.rstrip() for line in lines) + "\n" + report.summary_line() + note
