"""`trailkeeper audit --fix`: the audit's failing findings as the smallest declared state that passes them.

Each failing finding that can be fixed carries its `fix`, a declaration fragment (`{"Name": ARN, ...}`); this
module merges them into one declaration per trail, which the same engine as `apply` plans and applies,
paced, in the same order of writes, through the guard (a fix only strengthens, so the guard never has to
allow anything). Pure: the AWS work is the engine's (and the audit's reads).

- CloudTrail.1 / CIS x.1 is an account's, judged per region: one trail per account is made to record
  everywhere (the --primary-trail, or the trail nearest to it), not one per region; CloudTrail.3 needs no
  fix of its own then (that trail logs).
- The same control in two standards (CloudTrail.4 and CIS 4.2) declares the same thing once.
- Nothing is created (trails, buckets, keys, log groups) and no bucket is changed: those findings keep
  their remedy.

`--write-state` writes the fixes merged into the export of every trail audited (`state_document`): the
whole declared state that passes, as `trailkeeper export` writes it, not the fixes alone.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from trailkeeper.audit.controls import CONTROLS, STANDARDS
from trailkeeper.audit.facts import FAIL
from trailkeeper.audit.findings import Audit, Finding
from trailkeeper.export.declare import with_fix
from trailkeeper.export.read import Export, ExportedTrail, order
from trailkeeper.export.write import state_file
from trailkeeper.trail import arns

# (standard, control id) -> the control's key in the table
_KEYS = {(standard, c.id_in(standard)): c.key for c in CONTROLS for standard in STANDARDS if c.id_in(standard)}


def _key(finding: Finding) -> str:
    return _KEYS.get((finding.standard, finding.control), "")


def declarations(audit: Audit) -> list[dict[str, Any]]:
    """One declaration per trail to change, merging the fixes of every failing finding; [] when none.

    >>> declarations(Audit(("fsbp",), ("us-east-1",), ()))
    []
    """
    # A delivery finding's fix edits a policy, not the trail (audit/chain_fix.py).
    failing = [f for f in audit.findings if f.status == FAIL and f.fix is not None and "Name" in f.fix]
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


def state_document(
    exported: Export,
    entries: Sequence[Mapping[str, Any]],
    audit: Audit,
    *,
    caller_account: str,
    now: datetime,
) -> tuple[str, int]:
    """The declared state that passes: every trail audited as `trailkeeper export` writes it (`exported`), with
    the fixes (`entries`) merged in, each fixed trail headed by a comment naming what changed and why.

    A fixed trail the export could not read (its header lists it) is declared by its fix alone. Returns the
    text and the number of trails it declares.
    """
    fixes = {str(entry["Name"]): entry for entry in entries}
    trails = [
        dataclasses.replace(t, properties=with_fix(t.properties, fixes[t.trail_arn])) if t.trail_arn in fixes else t
        for t in exported.trails
    ]
    read = {t.trail_arn for t in trails}
    trails += [
        ExportedTrail(arns.account_of(name), arns.region_of(name), name, dict(entry))
        for name, entry in fixes.items()
        if name not in read
    ]
    merged = dataclasses.replace(exported, trails=tuple(sorted(trails, key=order)))
    notes = {name: _note(entry, audit) for name, entry in fixes.items()}
    then = [
        "Written by `trailkeeper audit --fix --write-state`: every trail audited, as `trailkeeper export` writes it,",
        f"with the fixes of the failing {', '.join(audit.standards)} controls merged in ({len(fixes)} trail(s), each "
        "under an `audit --fix` comment).",
        "Nothing was applied. Review it, commit it, then `trailkeeper plan -f` this file: it shows only the fixes;",
        "`apply -f` makes them, and from then on plan/apply and the event-driven repair keep the trails as declared.",
    ]
    text = state_file(merged, caller_account=caller_account, now=now, then=then, notes=notes)
    return text, len(merged.trails)


def _note(entry: Mapping[str, Any], audit: Audit) -> str:
    """What --fix changed in a trail, and for which failing controls."""
    name = entry["Name"]
    controls = dict.fromkeys(
        f"{f.standard} {f.control}"
        for f in audit.findings
        if f.status == FAIL and f.fix is not None and f.fix.get("Name") == name
    )
    changed = ", ".join(key for key in entry if key != "Name")
    return f"audit --fix: {changed} (for {', '.join(controls)})"
