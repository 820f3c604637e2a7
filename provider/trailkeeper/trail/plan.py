"""The plan: from (desired, current) settings to the exact UpdateTrail arguments. Pure.

An empty plan means nothing to write. A setting already right is never in it, with one exception
CloudTrail imposes: the CloudWatch Logs group and role are sent together when either changes.
"""

from __future__ import annotations

from collections.abc import Mapping

from trailkeeper.trail import settings
from trailkeeper.trail.arns import TrailHome
from trailkeeper.trail.aspect import Change
from trailkeeper.trail.normalise import Current, wire_value
from trailkeeper.trail.settings import Value

SENT_TOGETHER = ("CloudWatchLogsLogGroupArn", "CloudWatchLogsRoleArn")
__all__ = ["Change", "drift", "plan"]


_POSITIONS = settings.of_table(lambda rows: {name: place for place, name in enumerate(rows)})


def drift(desired: Mapping[str, Value], current: Current) -> list[Change]:
    """The declared settings whose current value differs, in the settings table's order."""
    positions = _POSITIONS()
    names = sorted(desired, key=lambda n: positions.get(n, len(positions)))
    return [Change(n, current.get(n), desired[n]) for n in names if current.get(n) != desired[n]]


def plan(desired: Mapping[str, Value], current: Current, home: TrailHome) -> dict[str, Value]:
    """UpdateTrail's arguments (without Name) that make `current` match `desired`; {} if in sync.

    >>> home = TrailHome("aws", "us-east-1", "111122223333", "audit")
    >>> plan({"EnableLogFileValidation": True}, {"EnableLogFileValidation": False}, home)
    {'EnableLogFileValidation': True}
    """
    changed = {c.name: c.desired for c in drift(desired, current)}
    if any(name in changed for name in SENT_TOGETHER):
        for name in SENT_TOGETHER:
            value = desired.get(name, current.get(name))
            changed.setdefault(name, value if value is not None else "")
    return {name: wire_value(name, value, home) for name, value in changed.items()}
