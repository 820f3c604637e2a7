"""The guard against weakening audit: which changes take something away, and whether the declaration allows it. Pure.

What weakens audit is not listed here: it follows from the model of what a trail records and how its
record is protected (`record.py`). A change weakens audit when the declared trail would record or protect
less than the current one; a trail that is already weak and stays weak is not a change. Each aspect asks
the model about its own dimensions (status.py, selector_aspect.py, insights.py); this module asks it about
the UpdateTrail settings, says which properties AllowWeakening may name, and refuses what the declaration
does not allow — before any write.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from trailkeeper.errors import WeakensAudit
from trailkeeper.trail.aspect import Weakening

if TYPE_CHECKING:
    from trailkeeper.trail.record import Record

# The model of what a trail records (`record.py`) loads when a change is first weighed, not when the guard is
# imported: a cold start that changes nothing never loads it; what selectors record (`events.py`, `selectors.py`)
# loads only when selectors are weighed.

log = logging.getLogger(__name__)
ALLOW = "AllowWeakening"
Allowance = bool | frozenset[str]


Settings = Mapping[str, bool | str | None]


def _records(desired: Settings, current: Settings) -> tuple[Record, Record]:
    """The current trail's record, and the one it would have with the declared settings applied."""
    from trailkeeper.trail import record

    return record.Record.of(current), record.Record.of({**current, **desired})


def setting_weakenings(desired: Settings, current: Settings) -> list[Weakening]:
    """The declared settings that would weaken audit, from `current` to `desired` (compare forms).

    >>> [w.describe() for w in setting_weakenings({"SnsTopicName": ""}, {"SnsTopicName": "arn:aws:sns:us-east-1:1:t"})]
    ["SnsTopicName arn:aws:sns:us-east-1:1:t -> removed breaks delivery notifications (the topic's subscribers \
no longer hear of new log files)"]
    """
    from trailkeeper.trail import record

    return record.weakenings(*_records(desired, current))


def setting_moves(desired: Settings, current: Settings) -> frozenset[str]:
    """The declared settings whose change moves audit logs elsewhere (not a weakening; plans mark it)."""
    from trailkeeper.trail import record

    return frozenset(record.moves(*_records(desired, current)))


def setting_effects(changed: Settings, current: Settings) -> tuple[list[Weakening], frozenset[str]]:
    """`setting_weakenings` and `setting_moves` of the settings that change, from one pair of records;
    nothing changes, nothing to work out (settings declared as they are add nothing to either).

    >>> setting_effects({}, {"SnsTopicName": "arn:aws:sns:us-east-1:1:t"})
    ([], frozenset())
    """
    if not changed:
        return [], frozenset()
    from trailkeeper.trail import record

    before, after = _records(changed, current)
    return record.weakenings(before, after), frozenset(record.moves(before, after))


def weakenable() -> frozenset[str]:
    """Every property name AllowWeakening may list: those whose change can weaken audit, by the model."""
    from trailkeeper.trail import record

    return record.weakenable()


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
