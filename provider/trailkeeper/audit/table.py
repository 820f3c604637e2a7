"""The audit report for people (`--format table`): each control with its counts, then every finding that did
not pass under its control, with the remedy, and what --fix did."""

from __future__ import annotations

from trailkeeper.audit.facts import (
    FAIL,
    NOT_AVAILABLE,
    PASS,
)
from trailkeeper.audit.findings import Audit, Fix
from trailkeeper.fleet import report


def table(audit: Audit) -> str:
    """For people: controls with their counts, then each finding that did not pass under its control."""
    header = ("CONTROL", "STANDARD", "PASS", "FAIL", "N/A", "TITLE")
    titles = {(f.control, f.standard): f.title for f in audit.findings}
    rows = [header] + [
        (control, standard, str(row[PASS]), str(row[FAIL]), str(row[NOT_AVAILABLE]), titles[(control, standard)])
        for control, standard, row in audit.by_control()
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])) + "  " + row[-1] for row in rows]
    details: list[str] = []
    for control, standard, _ in audit.by_control():
        mine = [f for f in audit.findings if (f.control, f.standard) == (control, standard)]
        shown = [f for f in mine if f.status != PASS or f.warnings]
        if not shown:
            continue
        details.append(f"\n{standard} {control}: {mine[0].title}")
        for finding in shown:
            details.append(f"  {finding.status:<13} {finding.where}: {finding.reason}")
            details += [f"  {'WARNING':<13} {warning}" for warning in finding.warnings]
        if any(f.status == FAIL for f in shown):
            details.append(f"  {'remedy':<13} {mine[0].remedy}")
    summary = (
        f"audit: {len(audit.findings)} finding(s) in {len(audit.accounts)} account(s), {len(audit.regions)} region(s): "
        f"{audit.count(PASS)} pass, {audit.count(FAIL)} fail, {audit.count(NOT_AVAILABLE)} not available"
    )
    errors = [f"error: {e.account}{' ' + e.region if e.region else ''}: {e.reason}" for e in audit.errors]
    return "\n".join([*(line.rstrip() for line in lines), *details, "", summary, *errors, *_fix_lines(audit.fix)])


def _policy_lines(fix: Fix) -> list[str]:
    """Each policy of the delivery chain --fix extends: written, planned (with its diff), or why not."""
    lines = []
    for edit in fix.policies:
        what = f"the {edit.link.kind} policy of {edit.link.arn} for {len(edit.trails)} trail(s)"
        if edit.status == "written":
            lines.append(f"fix: appended CloudTrail's statements to {what}")
        elif edit.status == "planned":
            lines += [f"fix: would append CloudTrail's statements to {what}:", edit.diff().rstrip()]
        else:
            lines.append(f"fix: {edit.status}: {what}: {edit.reason}")
    return lines


def _fix_lines(fix: Fix | None) -> list[str]:
    if fix is None:
        return []
    policies = _policy_lines(fix)
    if fix.state_file is not None:
        return [
            "",
            f"fix: wrote {fix.state_trails} trail(s) to {fix.state_file}, {len(fix.declarations)} with their fixes "
            f"merged in ({fix.export_reads} read(s) beyond the audit's); nothing was applied",
            *policies,
        ]
    if fix.report is None:
        return ["", *(policies or ["fix: nothing --fix can fix"])]
    return ["", "fix:", report.table(fix.report), *policies]
