"""How one trail stands for an account-level control, as the standard's own documented rule reads it. Pure.

An account-level control (CloudTrail.1, CloudTrail.3, CIS S3 data events) passes in a region when one
trail seen there passes it. For each trail, a `Standing` says what the rule finds short (`lacking`), what
it needs that could not be read (`unread`: a denied GetTrailStatus or GetEventSelectors proves nothing,
so a region whose only hope is such a trail is NOT_AVAILABLE, never FAIL), and where trailkeeper's model
of the events a trail records (`trail/events.py`, the guard's) judges otherwise (`differs`).

The status is the rule's (docs/controls.md names each rule and its source):

- **CloudTrail.1 / CIS 3.1 / 4.1** is AWS Config's `multi-region-cloudtrail-enabled` with Security Hub's
  parameters `readWriteType: ALL`, `includeManagementEvents: true`: a multi-region trail that is logging
  with a selector recording read *and* write management events (one selector: `ReadWriteType: All` with
  `IncludeManagementEvents`), and NON_COMPLIANT "if the `ExcludeManagementEventSources` field is not
  empty" on any of its selectors, even when another selector records those events. Advanced selectors
  are read as the basic selector they stand for (AWS does not publish how the rule reads them): a selector
  on `eventCategory = Management` with no `readOnly` and no other condition is `ReadWriteType: All`;
  `eventSource NotEquals` on a management selector is an exclusion. The events model passes more: read
  and write recorded by two selectors, or an exclusion another selector makes up for; then the reason
  says so.
- **CloudTrail.3** is `cloudtrail-enabled`: a trail that is logging.
- **CIS 3.8 / 3.9, 4.8 / 4.9** are `cloudtrail-all-write-s3-data-event-check` and
  `cloudtrail-all-read-s3-data-event-check` (and the CIS text): a *multi-region* trail that is logging and
  records that kind of S3 data event for all current and future buckets (read by the events model).
"""

from __future__ import annotations

from dataclasses import dataclass

from trailkeeper.audit.facts import TrailFacts
from trailkeeper.trail.control_names import READ, WRITE
from trailkeeper.trail.events import S3_OBJECT, Events
from trailkeeper.trail.selectors import AdvancedSelector, Selectors

MANAGEMENT = "Management"
# What a management selector may hold and still be Config's `ReadWriteType: All` (with exclusions apart).
PLAIN_MANAGEMENT_FIELDS = frozenset({"eventCategory", "eventSource"})


@dataclass(frozen=True)
class Standing:
    """One trail against one account-level control's rule."""

    lacking: tuple[str, ...] = ()  # what the rule finds short
    unread: tuple[str, ...] = ()  # evidence the rule needs that could not be read (and why)
    differs: str = ""  # where the events model judges the trail otherwise

    @property
    def passes(self) -> bool:
        return not self.lacking and not self.unread

    @property
    def unknown(self) -> bool:
        """Nothing known fails it, but some of what it needs could not be read."""
        return not self.lacking and bool(self.unread)

    def words(self) -> str:
        return "; ".join((*self.lacking, *self.unread))


def _unread(trail: TrailFacts, what: str) -> str:
    return f"its {what} could not be read ({trail.unread or 'no reason given'})"


def _logging(trail: TrailFacts) -> tuple[list[str], list[str]]:
    if trail.record.logging is None:
        return [], [_unread(trail, "status (GetTrailStatus)")]
    return ([] if trail.record.logging else ["is not logging"]), []


def logging(trail: TrailFacts) -> Standing:
    """CloudTrail.3 (`cloudtrail-enabled`): the trail is logging."""
    lacking, unread = _logging(trail)
    return Standing(tuple(lacking), tuple(unread))


def _management_selector(selector: AdvancedSelector) -> bool:
    category = selector.field("eventCategory")
    return category is not None and dict(category.operators) == {"Equals": frozenset({MANAGEMENT})}


def _exclusions(selector: AdvancedSelector) -> frozenset[str]:
    source = selector.field("eventSource")
    return source.values("NotEquals") if source is not None else frozenset()


def plain_management(selector: AdvancedSelector) -> bool:
    """An advanced selector Config's rule can read as `ReadWriteType: All` with management events: on
    `eventCategory = Management`, no `readOnly`, nothing narrowing it but an exclusion (`eventSource
    NotEquals`)."""
    if not _management_selector(selector) or any(f.field not in PLAIN_MANAGEMENT_FIELDS for f in selector.fields):
        return False
    source = selector.field("eventSource")
    return source is None or {op for op, _ in source.operators} == {"NotEquals"}


def rule_management(value: Selectors) -> tuple[bool, frozenset[str]]:
    """As `multi-region-cloudtrail-enabled` reads selectors: (a selector records read and write management
    events, the sources any selector excludes from management events)."""
    if value.advanced:
        managing = [s for s in value.advanced if _management_selector(s)]
        excluded = frozenset().union(*(_exclusions(s) for s in managing))
        return any(plain_management(s) for s in managing), excluded
    excluded = frozenset().union(*(s.excluded for s in value.basic))
    return any(s.management and s.read_write == "All" for s in value.basic), excluded


def _model_lacking(events: Events) -> list[str]:
    """What the events model finds short of every read and write management event, no source excluded."""
    lacking = [
        f"does not record {kind} management events" for kind in (READ, WRITE) if events.management.get(kind) is None
    ]
    excluded = events.excluded()
    if excluded:
        lacking.append(f"excludes {', '.join(sorted(excluded))} from its management events")
    return lacking


def everywhere(trail: TrailFacts) -> Standing:
    """CloudTrail.1 / CIS 3.1 / 4.1 (`multi-region-cloudtrail-enabled`): see the module docstring. What the
    events model finds short is said in its words; what only the rule fails, in the rule's."""
    lacking = [] if trail.record.multi_region else ["is not multi-region"]
    logging_lacking, unread = _logging(trail)
    lacking += logging_lacking
    read, events = trail.selectors, trail.record.events
    if read is None or events is None:
        return Standing(tuple(lacking), (*unread, _unread(trail, "event selectors (GetEventSelectors)")))
    model = _model_lacking(events)
    both, excluded = rule_management(read)
    rule = []
    if not both and events.records_management(exclusions=True):
        rule.append(
            "records read and write management events only in separate selectors: the rule wants one selector "
            "of both (ReadWriteType All, or an advanced selector on eventCategory Management without readOnly)"
        )
    made_up = excluded - events.excluded()
    if made_up:
        rule.append(
            f"excludes {', '.join(sorted(made_up))} from management events in a selector, which another selector "
            "makes up for: the rule fails any ExcludeManagementEventSources"
        )
    if model and events.unread:  # what the model finds short may be what those selectors record
        labels = ", ".join(sorted(u.label() for u in events.unread))
        model.append(f"trailkeeper cannot read exactly what {labels} records")
    differs = ""
    if rule and not model:
        differs = (
            "by the events its selectors record (trailkeeper's model, the guard's) it records every read and "
            "write management event; Security Hub's rule reads each selector's fields, and fails it"
        )
    return Standing(tuple(lacking + model + rule), tuple(unread), differs)


def s3_data(trail: TrailFacts, kind: str) -> Standing:
    """CIS 3.8 / 4.8 (write) and 3.9 / 4.9 (read): a multi-region trail, logging, records that kind of S3 data
    event for all buckets (`cloudtrail-all-{write,read}-s3-data-event-check`)."""
    lacking = [] if trail.record.multi_region else ["is not multi-region (the rule counts multi-region trails only)"]
    logging_lacking, unread = _logging(trail)
    lacking += logging_lacking
    events = trail.record.events
    if events is None:
        return Standing(tuple(lacking), (*unread, _unread(trail, "event selectors (GetEventSelectors)")))
    if not events.records_data(S3_OBJECT, kind):
        missing = f"does not record S3 object-level {kind} events for all buckets"
        if events.unread:  # a selector whose reach trailkeeper cannot bound counts for nothing: say which
            labels = ", ".join(sorted(u.label() for u in events.unread))
            missing += f" (trailkeeper cannot read exactly what {labels} records)"
        lacking.append(missing)
    return Standing(tuple(lacking), tuple(unread))
