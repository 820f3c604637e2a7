"""`trailkeeper audit --fix`: the audit's failing findings as the smallest declared state that passes them.

Each failing finding that can be fixed carries its `fix`, a declaration fragment (`{"Name": ARN, ...}`); this
module merges them into one declaration per trail, which the same engine as `apply` plans and applies,
paced, in the same order of writes, through the guard (a fix only strengthens, so the guard never has to
allow anything). Pure: the AWS work is the engine's.

- CloudTrail.1 / CIS x.1 is an account's, judged per region: one trail per account is made to record
  everywhere (the --primary-trail, or the trail nearest to it), not one per region; CloudTrail.3 needs no
  fix of its own then (that trail logs).
- The same control in two standards (CloudTrail.4 and CIS 4.2) declares the same thing once.
- Nothing is created (trails, buckets, keys, log groups) and no bucket is changed: those findings keep
  their remedy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from trailkeeper.drift.findings import Audit, Finding
from trailkeeper.trail import arns
from trailkeeper.trail.compliance import CONTROLS, FAIL, STANDARDS

# (standard, control id) -> the control's key in the table
_KEYS = {(standard, c.id_in(standard)): c.key for c in CONTROLS for standard in STANDARDS if c.id_in(standard)}


def _key(finding: Finding) -> str:
    return _KEYS.get((finding.standard, finding.control), "")


def declarations(audit: Audit) -> list[dict[str, Any]]:
    """One declaration per trail to change, merging the fixes of every failing finding; [] when none.

    >>> declarations(Audit(("fsbp",), ("us-east-1",), ()))
    []
    """
    failing = [f for f in audit.findings if f.status == FAIL and f.fix is not None]
    everywhere: dict[str, Mapping[str, Any]] = {}  # account -> the one CloudTrail.1 fix
    for finding in failing:
        if _key(finding) == "multi-region":
            everywhere.setdefault(finding.account, dict(finding.fix or {}))
    merged: dict[str, dict[str, Any]] = {}
    for finding in failing:
        if _key(finding) == "multi-region" and everywhere.get(finding.account) != finding.fix:
            continue  # another region's nearest trail: the account's one fix covers every region
        if _key(finding) == "logging" and finding.account in everywhere:
            continue  # the trail made to record everywhere logs
        fix = dict(finding.fix or {})
        merged.setdefault(str(fix["Name"]), {}).update(fix)
    return [merged[name] for name in sorted(merged, key=lambda n: (arns.account_of(n), arns.region_of(n), n))]


def state_document(entries: Sequence[Mapping[str, Any]], *, standards: Sequence[str], accounts: Sequence[str]) -> str:
    """A state file (`trails:`) declaring the fixes, with a header saying where it came from."""
    header = (
        "# Written by `trailkeeper audit --fix --write-state`: the declarations that pass the failing\n"
        f"# {', '.join(standards)} controls --fix can fix, in account(s) {', '.join(accounts) or '-'}.\n"
        "# Review, commit, then `trailkeeper plan -f` / `apply -f` (and the event-driven repair) keep them.\n"
    )
    body = str(yaml.safe_dump({"trails": [dict(e) for e in entries]}, sort_keys=False, default_flow_style=False))
    return header + body
