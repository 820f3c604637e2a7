"""What event selectors record: management and data events, read and write, judged by the events. Pure.

Part of the model of what a trail records (`record.py`). `Events.of(selectors)` reads a trail's selectors,
declared or read back, as the events they record, not as their names or shapes: an advanced selector
equivalent to CloudTrail's default records what the default does; `readOnly` (or `ReadWriteType`) decides
read or write; a data resource is every resource of its type, or the ARNs that match.

A selector whose reach cannot be told offline (a narrowing such as `eventName`, another event category,
an operator or a value this code does not know) is an `Unread`: it proves nothing on the declared side,
and counts as present on the current side — only the same selector, or selectors recording all it could
(its `bound`), keep what it records. `losses(before, after)` says in words what `after` stops recording.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from types import MappingProxyType

from trailkeeper.trail import selectors
from trailkeeper.trail.control_names import (
    CONTROL_DATA,
    CONTROL_RECORDING,
    CONTROL_S3_DATA,
    CONTROL_UNREAD,
    DATA_EVENTS,
    MANAGEMENT_EVENTS,
    READ,
    WRITE,
)
from trailkeeper.trail.selectors import AdvancedSelector, BasicSelector, Selectors
from trailkeeper.typed_tuple import TypedTuple

KINDS = (READ, WRITE)
MANAGEMENT = "Management"  # in an `Unread.bound`, the management events of a kind (else a data resource type)
S3_OBJECT = "AWS::S3::Object"
LABEL_MAX = 120  # characters of a selector named in a reason (a reason is bounded; the plan shows the rest)
_BASIC_KINDS = {"All": frozenset(KINDS), "ReadOnly": frozenset({READ}), "WriteOnly": frozenset({WRITE})}
_READ_ONLY = {"true": READ, "false": WRITE}


class Scope(TypedTuple):
    """The resources whose data events (of one type and kind) are recorded: all, or those matching.

    >>> Scope(prefixes=frozenset({"arn:aws:s3:::logs/"})).covers(Scope(arns=frozenset({"arn:aws:s3:::logs/a"})))
    True
    >>> Scope(arns=frozenset({"arn:aws:s3:::logs/a"})).covers(Scope(everything=True))
    False
    """

    everything: bool = False
    prefixes: frozenset[str] = frozenset()  # ARNs starting with one of these (basic values, StartsWith)
    arns: frozenset[str] = frozenset()  # exactly these ARNs (Equals)

    def _holds(self, pattern: str, exact: bool) -> bool:
        return self.everything or any(pattern.startswith(p) for p in self.prefixes) or (exact and pattern in self.arns)

    def missing(self, other: Scope) -> list[str]:
        """What `other` records that this scope does not: 'every resource', or the ARN patterns left out."""
        if other.everything:
            return [] if self.everything else ["every resource"]
        lost = [f"{p}*" for p in sorted(other.prefixes) if not self._holds(p, exact=False)]
        return lost + [a for a in sorted(other.arns) if not self._holds(a, exact=True)]

    def covers(self, other: Scope) -> bool:
        return not self.missing(other)

    def __or__(self, other: Scope) -> Scope:
        return Scope(self.everything or other.everything, self.prefixes | other.prefixes, self.arns | other.arns)


class Unread(TypedTuple):
    """A selector trailkeeper cannot read exactly (a narrowing such as eventName, or a value it does not know).

    `bound` is the most it can record — (MANAGEMENT or a data resource type, kind) pairs — or None when
    even that is unknown (another event category, say).
    """

    selector: BasicSelector | AdvancedSelector
    bound: frozenset[tuple[str, str]] | None

    def may_record_management(self) -> bool:
        """Whether it may record management events: its bound says so or, with none, its category does not rule
        them out (one read back without values, Management among others, a NotEquals). One without a category
        at all, which CloudTrail refuses, is counted as data events, as its other conditions name them."""
        if self.bound is not None:
            return any(what == MANAGEMENT for what, _ in self.bound)
        category = self.selector.field("eventCategory") if isinstance(self.selector, AdvancedSelector) else None
        if category is None:
            return False
        if not category.operators:
            return True
        return {op for op, _ in category.operators} != {"Equals"} or MANAGEMENT in category.values("Equals")

    def label(self) -> str:
        """The selector as a reason names it: its name, else its conditions, shortened."""
        if isinstance(self.selector, AdvancedSelector):
            if self.selector.name:
                return repr(self.selector.name)
            conditions = "; ".join(
                f"{f.field} {op} {','.join(sorted(values))}"
                for f in sorted(self.selector.fields, key=lambda f: f.field)
                for op, values in sorted(f.operators)
            )
            text = f"[{conditions}]"
        else:
            text = json.dumps(selectors.to_doc(_alone(self.selector))[0], separators=(",", ":"), sort_keys=True)
        return text if len(text) <= LABEL_MAX else text[: LABEL_MAX - 3] + "..."


def _alone(selector: BasicSelector | AdvancedSelector) -> Selectors:
    if isinstance(selector, AdvancedSelector):
        return Selectors(frozenset(), frozenset({selector}))
    return Selectors(frozenset({selector}), frozenset())


class Events(TypedTuple):
    """The events a trail records, read from its event selectors.

    `management[kind]` is None when that kind of management event is not recorded, else the sources
    excluded from it; `data[(type, kind)]` the resources whose data events are recorded; `unread` the
    selectors whose reach cannot be told exactly (counted in neither, see `Unread`).

    >>> everything = Events.of(selectors.DEFAULT)
    >>> everything.records_management(), everything.records_data(S3_OBJECT, WRITE)
    (True, False)
    >>> s3_writes, _ = selectors.parse({"AdvancedEventSelectors": [{"FieldSelectors": [
    ...     {"Field": "eventCategory", "Equals": ["Data"]}, {"Field": "resources.type", "Equals": [S3_OBJECT]},
    ...     {"Field": "readOnly", "Equals": ["false"]}]}]})
    >>> Events.of(s3_writes).records_data(S3_OBJECT, WRITE), Events.of(s3_writes).records_data(S3_OBJECT, READ)
    (True, False)
    """

    management: Mapping[str, frozenset[str] | None]
    data: Mapping[tuple[str, str], Scope]
    unread: frozenset[Unread]
    declared_as: str  # the property these selectors are declared as: EventSelectors or AdvancedEventSelectors

    @staticmethod
    def of(value: Selectors) -> Events:
        """Read `value` (parsed or read back) as the events it records."""
        management: dict[str, list[frozenset[str]]] = {kind: [] for kind in KINDS}
        data: dict[tuple[str, str], Scope] = {}
        unread: set[Unread] = set()
        for selector in value.basic:
            _basic(selector, management, data, unread)
        for advanced in value.advanced:
            _advanced(advanced, management, data, unread)
        # An event is recorded when any selector records it: a source is excluded only where every selector
        # that records this kind excludes it.
        reach = {kind: frozenset.intersection(*found) if found else None for kind, found in management.items()}
        return Events(MappingProxyType(reach), MappingProxyType(data), frozenset(unread), selectors.kind(value))

    def records_management(self, kinds: Iterable[str] = KINDS, *, exclusions: bool = False) -> bool:
        """Are all management events of `kinds` recorded (with no source excluded, unless `exclusions`)?"""
        found = [self.management.get(kind) for kind in kinds]
        return all(f is not None and (exclusions or not f) for f in found)

    def records_data(self, resource_type: str, kind: str, arn: str | None = None) -> bool:
        """Are the `kind` data events of every `resource_type` resource (or of the resource `arn`) recorded?"""
        scope = self.data.get((resource_type, kind), Scope())
        return scope.everything if arn is None else scope.covers(Scope(arns=frozenset({arn})))

    def excluded(self) -> frozenset[str]:
        """The sources excluded from the management events recorded (of either kind)."""
        return frozenset().union(*(found for found in self.management.values() if found is not None))


def _scope(resource_type: str, prefixes: Iterable[str]) -> Scope:
    """ARN prefixes of a resource type; one naming the type's whole service (`arn:aws:s3`, CDK's `arn:aws:s3:::`)
    is every resource, whether a basic value or an advanced StartsWith says it."""
    service = selectors.BASIC_DATA_SERVICES.get(resource_type)
    values = frozenset(prefixes)
    whole = {v for v in values if selectors.WHOLE_SERVICE.fullmatch(v) and v.split(":")[2] == service}
    return Scope(bool(whole), values - whole)


def _kinds_of(read_only: selectors.FieldSelector | None) -> frozenset[str] | None:
    """The kinds a readOnly condition admits (both when there is none); None when it cannot be read."""
    if read_only is None:
        return frozenset(KINDS)
    values = read_only.values("Equals")
    if {op for op, _ in read_only.operators} != {"Equals"} or not values <= set(_READ_ONLY):
        return None
    return frozenset(_READ_ONLY[v] for v in values)


def _basic(
    selector: BasicSelector,
    management: dict[str, list[frozenset[str]]],
    data: dict[tuple[str, str], Scope],
    unread: set[Unread],
) -> None:
    kinds = _BASIC_KINDS.get(selector.read_write)
    if kinds is None:  # a ReadWriteType this code does not know, read back: present, bound by what it names
        named = {MANAGEMENT} if selector.management else set()
        named |= {d.type for d in selector.data}
        unread.add(Unread(selector, frozenset((what, kind) for what in named for kind in KINDS)))
        return
    if selector.management:
        for kind in kinds:
            management[kind].append(selector.excluded)
    for resource in selector.data:
        scope = _scope(resource.type, resource.values)
        for kind in kinds:
            data[(resource.type, kind)] = data.get((resource.type, kind), Scope()) | scope


def _advanced(
    selector: AdvancedSelector,
    management: dict[str, list[frozenset[str]]],
    data: dict[tuple[str, str], Scope],
    unread: set[Unread],
) -> None:
    category = selector.field("eventCategory")
    categories = category.values("Equals") if category is not None else frozenset()
    blank = any(not f.operators for f in selector.fields)  # a condition whose values were not read
    if blank or category is None or {op for op, _ in category.operators} != {"Equals"} or len(categories) != 1:
        unread.add(Unread(selector, None))  # another category, or one we cannot tell: no bound
        return
    read_only = _kinds_of(selector.field("readOnly"))
    kinds = read_only if read_only is not None else frozenset(KINDS)
    others = {f.field: f for f in selector.fields if f.field not in ("eventCategory", "readOnly")}
    if categories == {MANAGEMENT}:
        source = others.pop("eventSource", None)
        excluded = source.values("NotEquals") if source is not None else frozenset()
        if read_only is None or others or (source is not None and {op for op, _ in source.operators} != {"NotEquals"}):
            # eventName, eventSource Equals, ...: a narrowing whose reach cannot be told offline.
            unread.add(Unread(selector, frozenset((MANAGEMENT, kind) for kind in kinds)))
            return
        for kind in kinds:
            management[kind].append(excluded)
        return
    types = others.pop("resources.type", None)
    if categories != {"Data"} or types is None or {op for op, _ in types.operators} != {"Equals"}:
        unread.add(Unread(selector, None))  # NetworkActivity, or data events of types we cannot tell
        return
    bound = frozenset((t, kind) for t in types.values("Equals") for kind in kinds)
    arns = others.pop("resources.ARN", None)
    operators = {op for op, _ in arns.operators} if arns is not None else set()
    if read_only is None or others or (operators - {"Equals"} and operators - {"StartsWith"}):
        unread.add(Unread(selector, bound))
        return
    for resource_type, kind in bound:
        if arns is None:
            scope = Scope(everything=True)
        else:
            scope = Scope(arns=arns.values("Equals")) | _scope(resource_type, arns.values("StartsWith"))
        data[(resource_type, kind)] = data.get((resource_type, kind), Scope()) | scope


def losses(before: Events, after: Events) -> list[tuple[str, str, str]]:
    """(dimension, what `after` stops recording, the control it breaks); [] when it records all `before` does."""
    found: list[tuple[str, str, str]] = []
    kept: dict[str, tuple[frozenset[str], frozenset[str]]] = {}
    for kind in KINDS:
        was, now = before.management.get(kind), after.management.get(kind)
        if was is not None and now is None:
            found.append((MANAGEMENT_EVENTS, f"stops logging {kind} management events", CONTROL_RECORDING))
        elif was is not None and now is not None:
            kept[kind] = (was, now)
    newly = {kind: now - was for kind, (was, now) in kept.items()}
    for source in sorted(frozenset[str]().union(*newly.values())):
        kinds = [kind for kind in kept if source in newly[kind]]
        where = "management events" if len(kinds) == 2 else f"{kinds[0]} management events"
        found.append((MANAGEMENT_EVENTS, f"excludes {source} from {where}", CONTROL_RECORDING))
    for (resource_type, kind), was_scope in sorted(before.data.items()):
        lost = after.data.get((resource_type, kind), Scope()).missing(was_scope)
        if lost:
            shown = ", ".join(lost[:3]) + (f" and {len(lost) - 3} more" if len(lost) > 3 else "")
            control = CONTROL_S3_DATA[kind] if resource_type == S3_OBJECT else CONTROL_DATA
            found.append((DATA_EVENTS, f"stops logging {kind} data events of {resource_type}: {shown}", control))
    for unread in sorted(before.unread - after.unread, key=Unread.label):
        if unread.bound is None or not all(_records_all(after, what, kind) for what, kind in unread.bound):
            dimension = MANAGEMENT_EVENTS if unread.may_record_management() else DATA_EVENTS
            found.append((dimension, f"drops the selector {unread.label()}", CONTROL_UNREAD))
    return found


def _records_all(events: Events, what: str, kind: str) -> bool:
    if what == MANAGEMENT:
        return events.management.get(kind) == frozenset()
    return events.records_data(what, kind)


class Coverage(TypedTuple):
    """In short, which management events selectors provably log: reads, writes, the sources excluded."""

    reads: bool
    writes: bool
    excluded: frozenset[str]


def management_coverage(value: Selectors) -> Coverage:
    """Which management events `value` provably logs (a selector that cannot be read exactly proves nothing).

    >>> management_coverage(selectors.DEFAULT)
    Coverage(reads=True, writes=True, excluded=frozenset())
    """
    events = Events.of(value)
    return Coverage(events.management[READ] is not None, events.management[WRITE] is not None, events.excluded())


def removes_management(before: Selectors, after: Selectors) -> bool:
    """Does `after` log fewer management events than `before` (a kind, a source, or a selector that had some)?"""
    return any(d == MANAGEMENT_EVENTS for d, _, _ in losses(Events.of(before), Events.of(after)))


def describe(value: Selectors) -> str:
    """One short line for tables.

    >>> describe(selectors.parse({"EventSelectors": [{"DataResources": [{"Type": "AWS::S3::Object",
    ...     "Values": ["arn:aws:s3:::a/", "arn:aws:s3:::b/"]}]}]})[0])
    '1 basic: All + management, 2 data resources'
    """

    def count(number: int, noun: str) -> str:
        return f"{number} {noun}{'' if number == 1 else 's'}"

    if value.advanced:
        coverage = management_coverage(value)
        logged = [k for k, on in ((READ, coverage.reads), (WRITE, coverage.writes)) if on]
        parts = [f"management {'+'.join(logged)}" if logged else "no management events"]
        if coverage.excluded:
            parts[0] += f" excl. {', '.join(sorted(coverage.excluded))}"
        others = sum(1 for s in value.advanced if all(v is None for v in Events.of(_alone(s)).management.values()))
        if others:
            parts.append(count(others, "other selector"))
        return f"{len(value.advanced)} advanced: {', '.join(parts)}"
    shapes = []
    for selector in sorted(value.basic, key=lambda s: json.dumps(selectors.to_wire(_alone(s))[selectors.BASIC][0])):
        shape = f"{selector.read_write} + management" if selector.management else f"{selector.read_write} data only"
        if selector.excluded:
            shape += f" excl. {', '.join(sorted(selector.excluded))}"
        shapes.append(shape)
    values = sum(len(d.values) for s in value.basic for d in s.data)
    text = f"{len(value.basic)} basic: {'; '.join(dict.fromkeys(shapes))}"
    return text + (f", {count(values, 'data resource')}" if values else "")
