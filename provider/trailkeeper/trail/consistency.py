"""Rules that tie settings together and need the trail's current state. Pure.

A multi-region trail must include global service events; where the declaration leaves one of the
two out, the trail's current value decides.
"""

from __future__ import annotations

from collections.abc import Mapping

from trailkeeper.errors import InvalidProperties
from trailkeeper.trail.normalise import Current
from trailkeeper.trail.settings import Value

MULTI, GLOBAL = "IsMultiRegionTrail", "IncludeGlobalServiceEvents"


def check(declared: Mapping[str, Value], current: Current) -> None:
    """Raise InvalidProperties if the declared settings, applied to `current`, break a combined rule."""
    if MULTI not in declared and GLOBAL not in declared:
        return
    multi = declared.get(MULTI, current.get(MULTI))
    global_events = declared.get(GLOBAL, current.get(GLOBAL))
    if multi is True and global_events is False:
        if GLOBAL in declared:
            culprit = f"{GLOBAL}=false"
        else:
            culprit = f"{MULTI}=true (the trail has {GLOBAL}=false; declare {GLOBAL}: true)"
        raise InvalidProperties([f"{culprit}: a multi-region trail must include global service events"])
