"""What a Lambda audit is asked to do: `{"action": "audit", "standards": [...], "regions": [...],
"required_tags": [...]}`, read and checked once, before any AWS call. Pure (botocore's endpoint data
says which regions exist).

Every field is optional, with the CLI's defaults: the standards `controls.DEFAULT_STANDARDS`, every
region enabled for the account (then `regions` is None: the door asks EC2), no required tag keys. Every
problem is reported at once, naming the field, the value and the rule (MalformedEvent). A field the
audit does not take is refused by name, `fix` above all: the Lambda's audit is read-only (`trailkeeper
audit --fix` is the CLI's, run by a person).

Shared by the Lambda doors that run the audit: the direct invocation (`invocations/audit_run.py`) and the
organization's account step, which takes its own fields too (`also`: account, role name, ...).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from trailkeeper.audit import controls
from trailkeeper.aws import regions as enabled_regions
from trailkeeper.errors import MalformedEvent, show
from trailkeeper.trail.tags import KEY_MAX, RESERVED

ACTION = "audit"
FIELDS = ("action", "standards", "regions", "required_tags")
MAX_PROBLEMS = 10  # named one by one; a hostile event's thousands more are counted (the reason stays small)


@dataclass(frozen=True)
class AuditRequest:
    standards: tuple[str, ...] = controls.DEFAULT_STANDARDS
    regions: tuple[str, ...] | None = None  # None: every region enabled for the account
    required_tags: tuple[str, ...] = ()

    def to_event(self) -> dict[str, Any]:
        """The event that asks for this audit (what the schedule sends, and what `parse` reads back)."""
        event: dict[str, Any] = {"action": ACTION, "standards": list(self.standards)}
        if self.regions is not None:
            event["regions"] = list(self.regions)
        if self.required_tags:
            event["required_tags"] = list(self.required_tags)
        return event


def _strings(event: Mapping[str, Any], field: str, problems: list[str]) -> list[str] | None:
    """The field's list of strings (duplicates dropped, order kept); None when absent or wrong."""
    if field not in event:
        return None
    value = event[field]
    if not isinstance(value, list) or not value:
        problems.append(f"{field}={show(value)}: must be a non-empty list of strings (or left out)")
        return None
    wrong = [item for item in value if not isinstance(item, str)]
    if wrong:
        problems.append(f"{field}={show(value)}: every item must be a string, not {show(wrong[0])}")
        return None
    return list(dict.fromkeys(value))


def parse(event: Any, also: Collection[str] = ()) -> AuditRequest:
    """The audit an event asks for, or MalformedEvent naming every problem.

    `also`: fields the calling door reads itself (the organization step's `account`, say).

    >>> parse({"action": "audit", "standards": ["cis-5.0"], "required_tags": ["owner"]})
    AuditRequest(standards=('cis-5.0',), regions=None, required_tags=('owner',))
    """
    if not isinstance(event, Mapping):
        raise MalformedEvent(f"an audit invocation takes an object, not {type(event).__name__}")
    problems: list[str] = []
    if event.get("action") != ACTION:
        problems.append(f"action={show(event.get('action'))}: must be {ACTION!r}")
    if "fix" in event:
        problems.append(
            f"fix={show(event['fix'])}: the Lambda's audit is read-only (fixes are `trailkeeper audit --fix`, "
            'run by a person, or a declared state applied with {"action": "apply"})'
        )
    unknown = [str(name) for name in event if name not in FIELDS and name not in also and name != "fix"]
    problems += [f"{show(name)}: not a field of an audit (it takes {', '.join(FIELDS)})" for name in unknown]
    standards = _strings(event, "standards", problems)
    for standard in standards or []:
        if standard not in controls.STANDARDS:
            problems.append(f"standards: {show(standard)} is not a standard ({', '.join(controls.STANDARDS)})")
    regions = _strings(event, "regions", problems)
    known = enabled_regions.known() if regions else frozenset()
    problems += [f"regions: {show(r)} is not a region CloudTrail has" for r in regions or [] if r not in known]
    tags = _strings(event, "required_tags", problems)
    problems += [
        f"required_tags: {show(key)} must be 1-{KEY_MAX} characters, not starting {RESERVED}"
        for key in tags or []
        if not 1 <= len(key) <= KEY_MAX or key.lower().startswith(RESERVED)
    ]
    if problems:
        shown = problems[:MAX_PROBLEMS] + [f"and {len(problems) - MAX_PROBLEMS} more"] * (len(problems) > MAX_PROBLEMS)
        raise MalformedEvent("; ".join(shown))
    return AuditRequest(
        tuple(standards) if standards else controls.DEFAULT_STANDARDS,
        tuple(regions) if regions else None,
        tuple(tags or ()),
    )
