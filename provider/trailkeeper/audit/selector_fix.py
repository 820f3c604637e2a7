"""CloudTrail.1's fix to a trail's event selectors, made in place so that Security Hub's rule passes too. Pure.

AWS Config's `multi-region-cloudtrail-enabled` (`audit/standing.py`) fails a trail any of whose selectors
excludes a management event source, and wants one selector of read *and* write management events. A fix
that appended `{ReadWriteType: All}` to `[{All, Exclude: [kms]}]` recorded every event, by the events
model, while Security Hub still failed it. So the selectors change where they stand:

1. every exclusion is removed (`ExcludeManagementEventSources`; an advanced management selector's
   `eventSource NotEquals`);
2. if no selector records read and write management events together, a management selector is widened:
   a basic `ReadOnly` / `WriteOnly` one with no data resources to `All`, an advanced one on
   `eventCategory = Management` with nothing else narrowing it loses its `readOnly`; the other
   management-only selectors it now covers go;
3. only when none can be widened without changing what else it records (a basic selector's
   `ReadWriteType` also applies to its data events: widening `{WriteOnly, S3 data}` would start paying
   for S3 reads) is one selector added: `{ReadWriteType: All}`, or an advanced one on management events;
   only where CloudTrail's quota leaves room for it (five basic selectors; 500 values across all advanced
   conditions). With no room there is no fix: the owner must merge or narrow selectors first.

Data events are kept as they are. Each step records more, never less: the guard lets it through.
"""

from __future__ import annotations

from typing import Any

from trailkeeper.audit.standing import plain_management, rule_management
from trailkeeper.trail import selectors
from trailkeeper.trail.selectors import AdvancedSelector, BasicSelector, FieldSelector, Selectors

ADDED_ADVANCED_NAME = "Management events"


ALL_MANAGEMENT = BasicSelector("All", True, frozenset(), frozenset())  # {ReadWriteType: All}, CloudTrail's default


def _basic(current: frozenset[BasicSelector]) -> frozenset[BasicSelector] | None:
    kept = {BasicSelector(s.read_write, s.management, s.data, frozenset()) for s in current}  # 1. no exclusion
    if any(s.management and s.read_write == "All" for s in kept):
        return frozenset(kept)
    widenable = sorted(
        (s for s in kept if s.management and not s.data and s.read_write in ("ReadOnly", "WriteOnly")),
        key=lambda s: s.read_write,
    )
    if widenable:  # 2. one management-only selector widened; the others it covers now go
        return frozenset(
            {s for s in kept if s not in widenable} | {BasicSelector("All", True, frozenset(), frozenset())}
        )
    if len(kept) >= selectors.MAX_BASIC_SELECTORS:
        return None  # no room for one more: the owner must merge them
    return frozenset(kept | {ALL_MANAGEMENT})  # 3.


def _without(selector: AdvancedSelector, *, exclusions: bool, read_only: bool) -> AdvancedSelector:
    fields = set()
    for condition in selector.fields:
        if read_only and condition.field == "readOnly":
            continue
        if exclusions and condition.field == "eventSource":
            kept = frozenset((op, values) for op, values in condition.operators if op != "NotEquals")
            if kept:
                fields.add(FieldSelector(condition.field, kept))
            continue
        fields.add(condition)
    return AdvancedSelector(selector.name, frozenset(fields))


def _management(selector: AdvancedSelector) -> bool:
    category = selector.field("eventCategory")
    return category is not None and category.values("Equals") == {"Management"}


def _advanced(current: frozenset[AdvancedSelector]) -> frozenset[AdvancedSelector] | None:
    kept = {_without(s, exclusions=True, read_only=False) if _management(s) else s for s in current}  # 1.
    plain = {s for s in kept if plain_management(s) and s.field("readOnly") is None}
    if plain:
        return frozenset(kept)
    widenable = sorted(
        (s for s in kept if plain_management(_without(s, exclusions=False, read_only=True))),
        key=lambda s: s.name,
    )
    if widenable:  # 2. one widened (its readOnly dropped); the management-only ones it covers go
        widened = _without(widenable[0], exclusions=False, read_only=True)
        return frozenset({s for s in kept if s not in widenable} | {widened})
    if selectors.advanced_values(kept) >= selectors.MAX_ADVANCED_VALUES:
        return None  # no room for the one value a management selector needs: the owner must make room
    category = FieldSelector("eventCategory", frozenset({("Equals", frozenset({"Management"}))}))
    return frozenset(kept | {AdvancedSelector(ADDED_ADVANCED_NAME, frozenset({category}))})  # 3.


def management_fixed(current: Selectors | None) -> dict[str, Any] | None:
    """The selectors property (EventSelectors or AdvancedEventSelectors) that passes CloudTrail.1's rule,
    changed in place as the module docstring says; None when it needs no change, was not read, or has no
    room for the selector it needs."""
    if current is None:
        return None
    both, excluded = rule_management(current)
    if both and not excluded:
        return None
    if current.advanced:
        advanced = _advanced(current.advanced)
        if advanced is None:
            return None
        fixed = Selectors(frozenset(), advanced)
    else:
        basic = _basic(current.basic)
        if basic is None:
            return None
        fixed = Selectors(basic, frozenset())
    return {selectors.kind(fixed): selectors.to_doc(fixed)}
