"""The guard against weakening audit: which changes take something away, and whether the declaration allows it. Pure.

A change weakens audit when, from the trail's current value to the declared one, it switches off or
removes something Security Hub's CloudTrail controls and the CIS AWS Foundations Benchmark require.
A trail that is already weak and stays weak is not a change, so it is not a weakening. Aspects other
than the settings describe their own weakenings (status.py, selectors, insights.py); this module holds
the settings' rules, gathers them all, and refuses what the declaration does not allow — before any write.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from trailkeeper.errors import WeakensAudit
from trailkeeper.trail.aspect import Weakening

# Setting -> the audit control it serves. A boolean weakens when it goes true -> false; a string when it
# is removed (a value -> "").
SETTINGS: Mapping[str, str] = {
    "IsMultiRegionTrail": "Security Hub CloudTrail.1, CIS 3.1",  # a multi-region trail
    "IncludeGlobalServiceEvents": "Security Hub CloudTrail.1, CIS 3.1",  # IAM and other global services
    "EnableLogFileValidation": "Security Hub CloudTrail.4, CIS 3.2",  # log file validation
    "KmsKeyId": "Security Hub CloudTrail.2, CIS 3.7",  # encryption at rest with KMS
    "CloudWatchLogsLogGroupArn": "Security Hub CloudTrail.5, CIS 3.4",  # CloudWatch Logs integration
}

log = logging.getLogger(__name__)
ALLOW = "AllowWeakening"
Allowance = bool | frozenset[str]


def setting_weakenings(desired: Mapping[str, object], current: Mapping[str, object]) -> list[Weakening]:
    """The declared settings that would weaken audit, from `current` to `desired` (compare forms)."""
    found: list[Weakening] = []
    for name, control in SETTINGS.items():
        if name not in desired:
            continue
        before, after = current.get(name), desired[name]
        if before is True and after is False:
            found.append(Weakening(name, "true -> false", control))
        elif isinstance(before, str) and before and after == "":
            found.append(Weakening(name, f"{before} -> removed", control))
    return found


def weakenable() -> frozenset[str]:
    """Every property name AllowWeakening may list."""
    from trailkeeper.trail import aspects  # the registry imports this module: look it up at call time

    return frozenset(SETTINGS) | frozenset(p for a in aspects.OTHERS for p in a.properties if a.name != "tags")


def refused(weakenings: Sequence[Weakening], allowance: Allowance) -> list[Weakening]:
    """The weakenings the declaration does not allow."""
    if allowance is True:
        return []
    allowed = allowance if isinstance(allowance, frozenset) else frozenset()
    return [w for w in weakenings if w.property not in allowed]


def check(weakenings: Sequence[Weakening], allowance: Allowance, trail_arn: str) -> None:
    """Raise WeakensAudit, naming each refused change, its control and how to allow it."""
    refusals = refused(weakenings, allowance)
    if not refusals:
        return
    names = ", ".join(dict.fromkeys(w.property for w in refusals))
    problems = [w.describe() for w in refusals]
    log.warning("refused: weakens audit", extra={"trail": trail_arn, "refused": problems})
    raise WeakensAudit(problems, f"allow it with {ALLOW}: [{names}]; nothing was written")
