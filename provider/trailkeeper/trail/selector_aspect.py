"""Event selectors as an aspect: `EventSelectors` or `AdvancedEventSelectors`, read with GetEventSelectors,
written with PutEventSelectors. Pure. What selectors are and how they compare lives in `selectors.py`.

DescribeTrails' HasCustomEventSelectors false means CloudTrail's default selector: no read is needed.
A PutEventSelectors that adds management events runs before Insights are written (Insights need them);
one that removes management events runs after Insights are cleared.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trailkeeper.trail import selectors
from trailkeeper.trail.aspect import SELECTORS_ADDING, SELECTORS_REMOVING, Call, Change, PropertyDoc, Weakening
from trailkeeper.trail.selectors import Selectors

CONTROL = "Security Hub CloudTrail.1, CIS 3.1"  # read and write management events, no excluded sources


def property_of(value: Selectors) -> str:
    """The property a selector set is declared as: advanced selectors, or basic ones (the default is basic)."""
    return selectors.ADVANCED if value.advanced else selectors.BASIC


def removes_management(desired: Selectors, current: Selectors) -> bool:
    """Does `desired` log fewer management events than `current` (fewer kinds, or more sources excluded)?"""
    before, after = selectors.management_coverage(current), selectors.management_coverage(desired)
    return (
        (before.reads and not after.reads)
        or (before.writes and not after.writes)
        or bool(after.excluded - before.excluded)
    )


class SelectorsAspect:
    name: str = "selectors"
    properties: tuple[str, ...] = (selectors.BASIC, selectors.ADVANCED)
    permissions: tuple[str, ...] = ("cloudtrail:GetEventSelectors", "cloudtrail:PutEventSelectors")
    docs: tuple[PropertyDoc, ...] = (
        PropertyDoc(
            selectors.BASIC,
            "list",
            "at most 5 of {ReadWriteType: All|ReadOnly|WriteOnly, IncludeManagementEvents, DataResources: "
            "[{Type, Values}], ExcludeManagementEventSources}; at most 250 data resources; [] is CloudTrail's "
            "default (all management events, no data events); not with AdvancedEventSelectors",
            "Basic event selectors (PutEventSelectors); compared as sets. Logging fewer management events, "
            "or excluding a source, weakens audit.",
        ),
        PropertyDoc(
            selectors.ADVANCED,
            "list",
            "[{Name?, FieldSelectors: [{Field, Equals|StartsWith|EndsWith|NotEquals|NotStartsWith|NotEndsWith}]}]; "
            "at most 500 values in all; readOnly, eventCategory and resources.type take Equals only; "
            "not with EventSelectors",
            "Advanced event selectors (PutEventSelectors); field selectors compared by Field, values as sets.",
        ),
    )
    absent_when: frozenset[str] = frozenset()

    def parse(self, props: Mapping[str, object]) -> tuple[object | None, list[str]]:
        return selectors.parse(props)

    def known(self, trail: Mapping[str, Any]) -> object | None:
        return selectors.DEFAULT if trail.get("HasCustomEventSelectors") is False else None

    def read(self, trail_arn: str) -> Call:
        return Call("GetEventSelectors", {"TrailName": trail_arn})

    def current(self, answer: Mapping[str, Any] | None, error_code: str | None) -> object:
        return selectors.from_read(answer or {})

    def changes(self, desired: Any, current: Any) -> list[Change]:
        if desired == current:
            return []
        weakens = CONTROL if self.weakenings(desired, current) else None
        return [Change(property_of(desired), selectors.to_doc(current), selectors.to_doc(desired), weakens)]

    def writes(self, desired: Any, current: Any, trail_arn: str) -> list[Call]:
        if desired == current:
            return []
        phase = SELECTORS_REMOVING if removes_management(desired, current) else SELECTORS_ADDING
        arguments = {"TrailName": trail_arn, **selectors.to_wire(desired)}
        return [Call("PutEventSelectors", arguments, phase, (property_of(desired),))]

    def weakenings(self, desired: Any, current: Any) -> list[Weakening]:
        return [Weakening(property_of(desired), text, CONTROL) for text in selectors.weakenings(current, desired)]


SELECTORS_ASPECT = SelectorsAspect()
