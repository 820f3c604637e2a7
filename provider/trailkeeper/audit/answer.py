"""What a Lambda run of the audit returns and publishes, shared by the doors that run it.

- `run`: audit some accounts as an `AuditRequest` asks (`audit/request.py`), read-only;
- `bounded`: the audit JSON (`findings.Audit.to_dict()`, the document `trailkeeper audit --json` prints),
  cut to fit a payload limit: a Lambda response is at most 6 MB (`RESPONSE_LIMIT`), a Step Functions
  state 256 KB (the organization's account step, `org/audit.py`, with its own ranking). The summary
  always counts every finding; when the document does not fit, the errors are kept while they fit, then
  the findings by rank (by default failing, then not-available, then passing ones, each in the audit's
  order) up to the first that does not fit, and `dropped` says how many of each were left out and why
  (`SCHEMA` is the audit's schema with that one optional key);
- `publish_metrics`: one `ControlFailing` datapoint per control of the standards asked, with `Standard` and `Control` as
  dimensions, valued the number of resources failing it (0 when it passes, so an alarm on one control
  sees it recover; a missing datapoint means no audit ran), plus `ControlsFailing`, `FindingsFailing`
  and `AuditErrors` totals.

The direct invocation (`invocations/audit_run.py`) uses all three; the organization reconcile's account
steps can too (one account per step).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from trailkeeper import observability
from trailkeeper.audit import controls, judge
from trailkeeper.audit.facts import FAIL, NOT_AVAILABLE, PASS, STATUSES, Options
from trailkeeper.audit.findings import AUDIT_SCHEMA, Audit
from trailkeeper.audit.reads import Target
from trailkeeper.audit.request import AuditRequest
from trailkeeper.aws.calls import Deadline

RESPONSE_LIMIT = 6 * 1024 * 1024 - 64 * 1024  # Lambda's 6 MB response, less room for its envelope
STEP_FUNCTIONS_LIMIT = 256 * 1024 - 16 * 1024  # a Step Functions state's 256 KB, less the item's own fields
KEPT_FIRST = (FAIL, NOT_AVAILABLE, PASS)  # what a bounded report keeps first

SCHEMA: dict[str, Any] = copy.deepcopy(AUDIT_SCHEMA)
SCHEMA["title"] = "trailkeeper audit from the Lambda (the --json document, bounded in size)"
SCHEMA["properties"]["dropped"] = {
    "type": "object",
    "required": ["findings", *STATUSES, "errors", "reason"],
    "additionalProperties": False,
    "properties": {
        "findings": {"type": "integer", "minimum": 0},
        **{str(status): {"type": "integer", "minimum": 0} for status in STATUSES},
        "errors": {"type": "integer", "minimum": 0},
        "reason": {"type": "string"},
    },
}


def run(
    targets: Sequence[Target],
    request: AuditRequest,
    regions: Sequence[str],
    *,
    deadline: Deadline,
    partition: str = "aws",
    home_region: str = "",
) -> Audit:
    """Audit `targets` in `regions` as `request` asks (its regions, when given, are the caller's to pass);
    `home_region` is the function's (where the account-wide bucket list is asked)."""
    return judge.run(
        targets,
        regions,
        standards=request.standards,
        options=Options(request.required_tags),
        deadline=deadline,
        partition=partition,
        home_region=home_region,
    )


def _size(value: Any) -> int:
    return len(json.dumps(value).encode())  # as Lambda serialises a return value


def by_status(finding: Mapping[str, Any]) -> int:
    """The rank a bounded report keeps a finding by: failing first, then not available, then passing."""
    return KEPT_FIRST.index(finding["status"])


def bounded(
    result: Audit, limit: int = RESPONSE_LIMIT, rank: Callable[[Mapping[str, Any]], int] = by_status
) -> dict[str, Any]:
    """The audit JSON, at most `limit` bytes once serialised: whole when it fits; else the summary whole, the
    errors while they fit, and the findings by `rank` (lowest first; the audit's order within a rank) up to
    the first that does not fit, and `dropped` counting what was left out (see the module docstring).

    >>> bounded(Audit(("fsbp",), ("us-east-1",), ()))["summary"]["findings"]
    0
    """
    document = result.to_dict()
    if _size(document) <= limit:
        return document
    findings, errors = document["findings"], document["errors"]
    placeholder: dict[str, Any] = {"findings": len(findings), "errors": len(errors), "reason": _reason(limit)}
    placeholder.update(dict.fromkeys(STATUSES, len(findings)))
    budget = limit - _size({**document, "findings": [], "errors": [], "dropped": placeholder})
    kept_errors = []
    for error in errors:
        cost = _size(error) + 2  # and its ", " separator
        if cost > budget:
            break
        kept_errors.append(error)
        budget -= cost
    keep: set[int] = set()
    for index in sorted(range(len(findings)), key=lambda i: rank(findings[i])):  # stable: the audit's order
        cost = _size(findings[index]) + 2
        if cost > budget:
            break  # the rest of this rank, and every rank after it, are left out
        keep.add(index)
        budget -= cost
    left_out = [f for i, f in enumerate(findings) if i not in keep]
    document["findings"] = [f for i, f in enumerate(findings) if i in keep]
    document["errors"] = kept_errors
    document["dropped"] = {
        "findings": len(left_out),
        **{status: sum(1 for f in left_out if f["status"] == status) for status in STATUSES},
        "errors": len(errors) - len(kept_errors),
        "reason": _reason(limit),
    }
    return document


def _reason(limit: int) -> str:
    return (
        f"the report was over {limit} bytes, what this invocation may return: the summary counts every finding; "
        "the errors and findings kept are the first that fit, failing findings first and passing ones last "
        "(run `trailkeeper audit --json` for all of them)"
    )


def control_counts(result: Audit) -> dict[tuple[str, str], int]:
    """(standard, control) -> the resources failing it: every control judged (a PASS or FAIL finding), and,
    when no read failed, 0 for a control with nothing there to judge (no trail, no bucket). A control
    left unjudged because reads failed has no count: its alarm sees missing data, never a pass. So has one
    that passes where it was judged but is NOT_AVAILABLE somewhere a read failed: 0 would claim a pass
    there (a failing one counts its failures: they are known)."""
    counts = {}
    if not result.errors:
        counts = {(standard, str(control.id_in(standard))): 0 for control, standard in controls.asked(result.standards)}
    for control, standard, row in result.by_control():
        if result.errors and row[NOT_AVAILABLE] and not row[FAIL]:
            continue
        if row[FAIL] or row[PASS]:
            counts[(standard, control)] = row[FAIL]
    return counts


def publish_metrics(result: Audit) -> None:
    """One ControlFailing datapoint per control judged (`control_counts`), and the audit's totals."""
    counts = control_counts(result)
    for (standard, control), failing in counts.items():
        observability.control_failing(standard, control, failing)
    observability.count(observability.CONTROLS_FAILING, sum(1 for n in counts.values() if n))
    observability.count(observability.FINDINGS_FAILING, result.count(FAIL))
    observability.count(observability.AUDIT_ERRORS, len(result.errors))


def summary_line(result: Audit) -> Mapping[str, int]:
    """The counts a log line carries (never the findings themselves)."""
    return {"findings": len(result.findings), **{s: result.count(s) for s in STATUSES}, "errors": len(result.errors)}
