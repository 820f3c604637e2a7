"""Event selectors as an aspect: `EventSelectors` or `AdvancedEventSelectors`, read with GetEventSelectors,
written with PutEventSelectors. Pure. What selectors are and how they compare lives in `selectors.py`.

DescribeTrails' HasCustomEventSelectors false means CloudTrail's default selector: no read is needed.
A PutEventSelectors that adds management events runs before Insights are written (Insights need them);
one that removes management events runs after Insights are cleared. What the selectors record, and so
what a change stops logging (management events, data events), is the model's to say (`events.py`, `record.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from trailkeeper.trail.aspect import (
    ADVANCED_EVENT_SELECTORS,
    EVENT_SELECTORS,
    SELECTORS_ADDING,
    SELECTORS_REMOVING,
    Call,
    Change,
    PropertyDoc,
    Weakening,
)

if TYPE_CHECKING:
    from trailkeeper.trail.selectors import Selectors

# `selectors.py` (what selectors are) and the model of what they record (`events.py`, `record.py`) load when
# a declaration or a trail first has selectors to compare: a custom resource that declares none never does.


def property_of(value: Selectors) -> str:
    """The property a selector set is declared as: advanced selectors, or basic ones (the default is basic)."""
    from trailkeeper.trail import selectors

    return selectors.kind(value)


class SelectorsAspect:
    name: str = "selectors"
    properties: tuple[str, ...] = (EVENT_SELECTORS, ADVANCED_EVENT_SELECTORS)
    permissions: tuple[str, ...] = ("cloudtrail:GetEventSelectors", "cloudtrail:PutEventSelectors")
    docs: tuple[PropertyDoc, ...] = (
        PropertyDoc(
            EVENT_SELECTORS,
            "list",
            "at most 5 of {ReadWriteType: All|ReadOnly|WriteOnly, IncludeManagementEvents, DataResources: "
            "[{Type, Values}], ExcludeManagementEventSources}; at most 250 data resources; [] is CloudTrail's "
            "default (all management events, no data events); not with AdvancedEventSelectors",
            "Basic event selectors (PutEventSelectors); compared as sets. Logging fewer management or data "
            "events, or excluding a source, weakens audit.",
        ),
        PropertyDoc(
            ADVANCED_EVENT_SELECTORS,
            "list",
            "[{Name?, FieldSelectors: [{Field, Equals|StartsWith|EndsWith|NotEquals|NotStartsWith|NotEndsWith}]}]; "
            "at most 500 values in all; readOnly, eventCategory and resources.type take Equals only; "
            "not with EventSelectors",
            "Advanced event selectors (PutEventSelectors); field selectors compared by Field, values as sets. "
            "Logging fewer events weakens audit, judged by the events recorded (readOnly included).",
        ),
    )
    absent_when: frozenset[str] = frozenset()

    def parse(self, props: Mapping[str, object]) -> tuple[object | None, list[str]]:
        if EVENT_SELECTORS not in props and ADVANCED_EVENT_SELECTORS not in props:
            return None, []
        from trailkeeper.trail import selectors

        return selectors.parse(props)

    def known(self, trail: Mapping[str, Any]) -> object | None:
        from trailkeeper.trail import selectors

        return selectors.DEFAULT if trail.get("HasCustomEventSelectors") is False else None

    def read(self, trail_arn: str) -> Call:
        return Call("GetEventSelectors", {"TrailName": trail_arn})

    def current(self, answer: Mapping[str, Any] | None, error_code: str | None) -> object:
        from trailkeeper.trail import selectors

        return selectors.from_read(answer or {})

    def changes(self, desired: Any, current: Any) -> list[Change]:
        if desired == current:
            return []
        from trailkeeper.trail import record, selectors

        weakens = record.control_of(self.weakenings(desired, current))
        return [Change(property_of(desired), selectors.to_doc(current), selectors.to_doc(desired), weakens)]

    def writes(self, desired: Any, current: Any, trail_arn: str) -> list[Call]:
        if desired == current:
            return []
        from trailkeeper.trail import events, selectors

        phase = SELECTORS_REMOVING if events.removes_management(current, desired) else SELECTORS_ADDING
        arguments = {"TrailName": trail_arn, **selectors.to_wire(desired)}
        return [Call("PutEventSelectors", arguments, phase, (property_of(desired),))]

    def weakenings(self, desired: Any, current: Any) -> list[Weakening]:
        from trailkeeper.trail import record

        return record.weakenings(record.Record.of(events=current), record.Record.of(events=desired))


SELECTORS_ASPECT = SelectorsAspect()
