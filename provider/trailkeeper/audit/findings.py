"""The audit report: one finding per control, standard and resource, as JSON, OCSF or a table for people.

JSON shape (`SCHEMA` below is the contract; tests validate every report against it):

    {"standards": ["fsbp", "cis-6.0"], "regions": ["us-east-1"], "accounts": ["123456789012"],
     "summary": {"findings": 9, "PASS": 6, "FAIL": 2, "NOT_AVAILABLE": 1, "errors": 0,
                 "controls": [{"control": "CloudTrail.1", "standard": "fsbp", "PASS": 1, "FAIL": 0,
                               "NOT_AVAILABLE": 0}, ...]},
     "findings": [{"control": "CloudTrail.4", "standard": "fsbp", "status": "FAIL",
                   "resource": "arn:aws:cloudtrail:us-east-1:123456789012:trail/audit",  # or AWS::::Account:ID
                   "account": "123456789012", "region": "us-east-1",
                   "title": "CloudTrail log file validation should be enabled",
                   "reason": "log file validation is disabled",
                   "remedy": "declare EnableLogFileValidation: true",
                   "fix": {"Name": "arn:...", "EnableLogFileValidation": true},   # or null
                   "warnings": []}],
     "errors": [{"account": "...", "region": "...", "code": "AccessDenied", "reason": "..."}]}

`fix` is the declaration (a `trails:` entry of a state file) that would pass the control, when one
can be told without a choice only the owner can make (which key, which log group, which tags).

Exit codes as plan's: 0 when no control fails, 2 when some control fails, 1 when a read failed (an
error), whatever the findings. NOT_AVAILABLE alone (a log bucket in an account outside the run) is
not a failure.

`--format ocsf` prints a JSON list of OCSF 1.5 Detection Findings (class_uid 2004, category_uid 2),
one per finding, with `compliance` (control, standards, status_id) as Security Hub and Security Lake
ingest them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from trailkeeper.audit.chain import Delivery, Kind, Resource
from trailkeeper.audit.chain_fix import PolicyEdit
from trailkeeper.audit.controls import STANDARDS, Control
from trailkeeper.audit.facts import (
    ACCOUNT_RESOURCE_PREFIX,
    FAIL,
    STATUSES,
    Status,
    Verdict,
)
from trailkeeper.aws.calls import Clients
from trailkeeper.fleet import report
from trailkeeper.fleet.report import EXIT_DRIFT, EXIT_FAILED, EXIT_OK, Report

if TYPE_CHECKING:
    from trailkeeper.export.read import Export

_ACCOUNT_ID = {"type": "string", "pattern": "^([0-9]{12})?$"}  # '' for a bucket no account of the run owns
_COUNTS = {status: {"type": "integer", "minimum": 0} for status in STATUSES}
AUDIT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "trailkeeper audit --json output",
    "type": "object",
    "required": ["standards", "regions", "accounts", "summary", "findings", "errors"],
    "additionalProperties": False,
    "properties": {
        "standards": {"type": "array", "items": {"enum": list(STANDARDS)}, "minItems": 1},
        "regions": {"type": "array", "items": {"type": "string"}},
        "accounts": {"type": "array", "items": _ACCOUNT_ID},
        "summary": {
            "type": "object",
            "required": ["findings", *STATUSES, "errors", "controls"],
            "additionalProperties": False,
            "properties": {
                "findings": {"type": "integer", "minimum": 0},
                "errors": {"type": "integer", "minimum": 0},
                **_COUNTS,
                "controls": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["control", "standard", *STATUSES],
                        "additionalProperties": False,
                        "properties": {"control": {"type": "string"}, "standard": {"enum": list(STANDARDS)}, **_COUNTS},
                    },
                },
            },
        },
        "findings": {
            "type": "array",
            "items": {
                "type": "object",
                "required": [
                    "control",
                    "standard",
                    "status",
                    "resource",
                    "account",
                    "region",
                    "title",
                    "reason",
                    "remedy",
                    "fix",
                    "warnings",
                ],
                "additionalProperties": False,
                "properties": {
                    "control": {"type": "string"},
                    "standard": {"enum": list(STANDARDS)},
                    "status": {"enum": list(STATUSES)},
                    # an ARN (trail, bucket), or Security Hub's account Id for an account-level control
                    "resource": {"type": "string", "pattern": f"^(arn:|{ACCOUNT_RESOURCE_PREFIX}[0-9]{{12}}$)"},
                    "account": _ACCOUNT_ID,
                    "region": {"type": "string"},
                    "title": {"type": "string"},
                    "reason": {"type": "string", "minLength": 1},
                    "remedy": {"type": "string", "minLength": 1},
                    "fix": {
                        "oneOf": [
                            {"type": "null"},
                            {"type": "object", "required": ["Name"], "properties": {"Name": {"type": "string"}}},
                            # the delivery standard: CloudTrail's statements appended to a bucket, key or topic policy
                            {
                                "type": "object",
                                "required": ["PolicyOf", "Kind", "Trail"],
                                "additionalProperties": False,
                                "properties": {
                                    "PolicyOf": {"type": "string", "pattern": "^arn:"},
                                    "Kind": {"enum": ["bucket", "key", "topic"]},
                                    "Trail": {"type": "string", "pattern": "^arn:"},
                                },
                            },
                        ]
                    },
                    "warnings": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
        "fix": {  # --fix only
            "type": "object",
            "required": ["declarations", "report", "state_file", "state_trails", "export_reads", "policies"],
            "additionalProperties": False,
            "properties": {
                "policies": {  # the delivery chain: policies extended with CloudTrail's statements
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["resource", "kind", "account", "region", "trails", "status", "reason", "diff"],
                        "additionalProperties": False,
                        "properties": {
                            "resource": {"type": "string"},
                            "kind": {"enum": ["bucket", "key", "topic"]},
                            "account": {"type": "string"},
                            "region": {"type": "string"},
                            "trails": {"type": "array", "items": {"type": "string"}},
                            "status": {"enum": ["planned", "written", "refused", "failed"]},
                            "reason": {"type": "string"},
                            "diff": {"type": "string"},
                        },
                    },
                },
                "declarations": {
                    "type": "array",
                    "items": {"type": "object", "required": ["Name"], "properties": {"Name": {"type": "string"}}},
                },
                "report": {"oneOf": [{"type": "null"}, report.REPORT_SCHEMA]},  # plan (--dry-run) or apply
                "state_file": {"type": ["string", "null"]},  # --write-state
                "state_trails": {"type": ["integer", "null"], "minimum": 0},  # the trails it declares
                "export_reads": {"type": ["integer", "null"], "minimum": 0},  # its reads beyond the audit's
            },
        },
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["account", "region", "code", "reason"],
                "additionalProperties": False,
                "properties": {
                    "account": {"type": "string"},
                    "region": {"type": "string"},
                    "code": {"type": "string"},
                    "reason": {"type": "string"},
                },
            },
        },
    },
}


@dataclass(frozen=True, slots=True)  # a 1,000-account audit holds some 230,000
class Finding:
    control: str  # as the standard names it: CloudTrail.1, 4.1, ...
    standard: str
    status: Status
    resource: str
    account: str
    region: str
    title: str
    reason: str
    remedy: str
    fix: Mapping[str, Any] | None = None
    warnings: tuple[str, ...] = ()
    partition: str = "aws"  # OCSF's cloud_partition (an account resource's Id does not say it)

    @property
    def where(self) -> str:
        """The resource as a person reads it: an account-level finding names its region too."""
        return f"{self.resource} {self.region}" if self.resource.startswith(ACCOUNT_RESOURCE_PREFIX) else self.resource

    @staticmethod
    def of(
        control: Control,
        standard: str,
        verdict: Verdict,
        *,
        resource: str,
        account: str,
        region: str,
        partition: str = "aws",
    ) -> Finding:
        fix = verdict.fix if verdict.status == FAIL else None
        return Finding(
            str(control.id_in(standard)),
            standard,
            verdict.status,
            resource,
            account,
            region,
            control.title,
            verdict.reason,
            control.remedy,
            fix,
            verdict.warnings,
            partition,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "control": self.control,
            "standard": self.standard,
            "status": self.status,
            "resource": self.resource,
            "account": self.account,
            "region": self.region,
            "title": self.title,
            "reason": self.reason,
            "remedy": self.remedy,
            "fix": dict(self.fix) if self.fix is not None else None,
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class AuditError:
    """A read that failed: the run is incomplete there (exit 1)."""

    account: str
    region: str
    code: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"account": self.account, "region": self.region, "code": self.code, "reason": self.reason}


@dataclass(frozen=True)
class Fix:
    """What --fix declared, and the engine's plan (--dry-run) or apply report, or the state file written."""

    declarations: tuple[Mapping[str, Any], ...]
    report: Report | None = None
    state_file: str | None = None
    state_trails: int | None = None  # --write-state: the trails the file declares (every trail audited)
    export_reads: int | None = None  # --write-state: the calls it took beyond the audit's own reads
    policies: tuple[PolicyEdit, ...] = ()  # the delivery chain's policies extended (or planned, or refused)

    def to_dict(self) -> dict[str, Any]:
        return {
            "declarations": [dict(d) for d in self.declarations],
            "report": self.report.to_dict() if self.report else None,
            "state_file": self.state_file,
            "state_trails": self.state_trails,
            "export_reads": self.export_reads,
            "policies": [p.to_dict() for p in self.policies],
        }


@dataclass(frozen=True)
class Audit:
    standards: tuple[str, ...]
    regions: tuple[str, ...]
    findings: tuple[Finding, ...]
    errors: tuple[AuditError, ...] = ()
    accounts: tuple[str, ...] = ()
    fix: Fix | None = None
    exported: Export | None = None  # every trail owned, declared as `export` would (--write-state only)
    export_reads: int = 0  # the calls that declaration made beyond the audit's own reads
    # What --fix needs of the run beyond its findings (never in the JSON): each owned trail's delivery and
    # chain as read (trail ARN ->), and the clients acting in each account of the run.
    deliveries: Mapping[str, Delivery] = field(default_factory=dict, compare=False, repr=False)
    chains: Mapping[str, Mapping[Kind, Resource]] = field(default_factory=dict, compare=False, repr=False)
    clients: Mapping[str, Clients] = field(default_factory=dict, compare=False, repr=False)
    # account -> the regions it was audited in (each account's own: given, its inventory's, or its enabled
    # ones); an account missing here could not be audited at all. `regions` is their union.
    scope: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    names: Mapping[str, str] = field(default_factory=dict)  # account -> its name, when the selection said one

    def regions_of(self, account: str) -> tuple[str, ...]:
        """The regions `account` was audited in (every region of the run when the scope was not recorded)."""
        return tuple(self.scope.get(account, ())) if self.scope else self.regions

    def count(self, status: Status) -> int:
        return sum(1 for f in self.findings if f.status == status)

    @property
    def exit_code(self) -> int:
        """1 an error (a read, or a fix that failed); 2 a control fails and stays failing; 0 otherwise.

        With --fix (applied), a failing control whose fix was applied no longer counts; with --dry-run or
        --write-state nothing changed in AWS, so every failure still does.
        """
        fixing = self.fix.report if self.fix and self.fix.report and self.fix.report.action == "apply" else None
        if self.errors or (fixing and fixing.exit_code == EXIT_FAILED):
            return EXIT_FAILED
        # Every failing finding with a fix is covered by the declarations applied (audit_fix.declarations), a
        # delivery finding by its policy's edit, once written.
        written = {p.link.arn for p in self.fix.policies if p.status == "written"} if self.fix else set()
        if self.fix and any(p.status == "failed" for p in self.fix.policies):
            return EXIT_FAILED

        def fixed(finding: Finding) -> bool:
            if finding.fix is None:
                return False
            if "PolicyOf" in finding.fix:
                return finding.fix["PolicyOf"] in written
            return fixing is not None

        left = [f for f in self.findings if f.status == FAIL and not fixed(f)]
        return EXIT_DRIFT if left else EXIT_OK

    def by_control(self) -> list[tuple[str, str, dict[Status, int]]]:
        """(control, standard, counts per status), in the order the controls were judged."""
        counts: dict[tuple[str, str], dict[Status, int]] = {}
        for finding in self.findings:
            row = counts.setdefault((finding.control, finding.standard), dict.fromkeys(STATUSES, 0))
            row[finding.status] += 1
        return [(control, standard, row) for (control, standard), row in counts.items()]

    def to_dict(self) -> dict[str, Any]:
        return {
            "standards": list(self.standards),
            "regions": list(self.regions),
            "accounts": list(self.accounts),
            "summary": {
                "findings": len(self.findings),
                **{status: self.count(status) for status in STATUSES},
                "errors": len(self.errors),
                "controls": [
                    {"control": control, "standard": standard, **row} for control, standard, row in self.by_control()
                ],
            },
            "findings": [f.to_dict() for f in self.findings],
            "errors": [e.to_dict() for e in self.errors],
            **({"fix": self.fix.to_dict()} if self.fix else {}),
        }
