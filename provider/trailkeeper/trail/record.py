"""What a trail records and how its record is protected: the one model the guard (and the audit) reads. Pure.

A trail's *record* is what ends up in its logs, and what keeps those logs whole and watched:

| Dimension            | From                                   | Records or protects                             |
|----------------------|----------------------------------------|-------------------------------------------------|
| accounts             | IsOrganizationTrail                    | every account of the organization, or one       |
| regions              | IsMultiRegionTrail                     | every region, or the home region                |
| global events        | IncludeGlobalServiceEvents             | IAM, STS and the other global services          |
| management events    | EventSelectors / AdvancedEventSelectors| read and write, minus the sources excluded      |
| data events          | EventSelectors / AdvancedEventSelectors| per resource type, read and write, per resource |
| Insights             | InsightSelectors                       | per Insights type, the event categories watched |
| integrity            | EnableLogFileValidation, KmsKeyId      | digest files; encryption with a KMS key         |
| channels             | CloudWatchLogsLogGroupArn, SnsTopicName| a log group that also gets the events; a topic  |
| logging              | IsLogging                              | whether anything is recorded at all             |
| switches             | any other boolean of UpdateTrail       | (RecursiveLogging today) on records more        |

`Record` holds one trail's dimensions (each None when not known: not declared, not read), and
`Events` reads event selectors as the events they record — not as names or shapes: an advanced selector
equivalent to CloudTrail's default records what the default does, and `readOnly` decides read or write.

Three rules make the guard a consequence of this model rather than a list of names:

1. **A change weakens audit when the declared trail would record or protect less than the current one**
   (`weakenings`), dimension by dimension; a dimension not known on both sides is not compared.
2. **What the code does not understand counts as present, never as none.** A selector read back with a
   condition trailkeeper cannot read exactly (`Unread`), an Insights category or type it does not know, a
   boolean setting whose current value CloudTrail does not say: each is kept by the comparison, so a write
   that would drop it is a weakening. Only the same selector, or recording everything it could have
   recorded (its `bound`), keeps what an unread selector records. On the declared side the same selector
   proves nothing: the guard never assumes a narrowing records more than it can show.
3. **A boolean UpdateTrail setting the model has no meaning for** (botocore's UpdateTrailRequest is read, so
   a parameter AWS adds later is covered) weakens when it goes true -> false, unless `NEUTRAL_SWITCHES` says
   otherwise.

Moving where logs go (another bucket, prefix, KMS key or log group, none of them removed) is not a
weakening, but `moves` names it so plans can mark it `moves audit logs`.

The audit of Security Hub / CIS controls (issue 17) reads the same value: `Record.events.records_management()`
for CloudTrail.1, `records_data(S3_OBJECT, "write")` for CIS 3.8, `Record.validation`, `.encrypted`, ...
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from trailkeeper.trail import selectors, settings
from trailkeeper.trail.aspect import Weakening
from trailkeeper.trail.normalise import current_view
from trailkeeper.trail.selectors import AdvancedSelector, BasicSelector, Selectors

READ, WRITE = "read", "write"
KINDS = (READ, WRITE)
MANAGEMENT = "Management"  # in an `Unread.bound`, the management events of a kind (else a data resource type)
S3_OBJECT = "AWS::S3::Object"
LABEL_MAX = 120  # characters of a selector named in a reason (a reason is bounded; the plan shows the rest)
MANAGEMENT_EVENTS, DATA_EVENTS = "management events", "data events"  # the two dimensions selectors decide

IS_LOGGING = "IsLogging"  # the logging aspect's property (status.py)
INSIGHT_SELECTORS = "InsightSelectors"  # the Insights aspect's property (insights.py)
ORGANIZATION, MULTI_REGION, GLOBAL_EVENTS = "IsOrganizationTrail", "IsMultiRegionTrail", "IncludeGlobalServiceEvents"
VALIDATION, KMS_KEY = "EnableLogFileValidation", "KmsKeyId"
LOG_GROUP, LOG_ROLE, TOPIC = "CloudWatchLogsLogGroupArn", "CloudWatchLogsRoleArn", "SnsTopicName"
BUCKET, PREFIX = "S3BucketName", "S3KeyPrefix"

# The controls each dimension serves (Security Hub's AWS Foundational Security Best Practices and the CIS AWS
# Foundations Benchmark; aws-facts.md "Standards for CloudTrail"), or in words what is lost without one.
CONTROL_RECORDING = "Security Hub CloudTrail.1, CIS 3.1"  # a multi-region trail logging read+write management events
CONTROL_ORGANIZATION = "Security Hub CloudTrail.1, CIS 3.1 in every member account"
CONTROL_VALIDATION = "Security Hub CloudTrail.4, CIS 3.2"
CONTROL_KMS = "Security Hub CloudTrail.2, CIS 3.7"
CONTROL_LOG_GROUP = "Security Hub CloudTrail.5, CIS 3.4"
CONTROL_TOPIC = "delivery notifications (the topic's subscribers no longer hear of new log files)"
CONTROL_INSIGHTS = "CloudTrail Insights (unusual call and error rates go unseen)"
CONTROL_S3_DATA = {WRITE: "CIS 3.8 (S3 object-level write events)", READ: "CIS 3.9 (S3 object-level read events)"}
CONTROL_DATA = "data events (activity on those resources goes unlogged)"
CONTROL_UNREAD = "what that selector logged (trailkeeper cannot read it exactly: keep it, or allow this)"
CONTROL_SWITCH = "what the trail records ({what})"

# Boolean UpdateTrail settings that do not decide what a trail records or protects: true -> false is not a
# weakening for them (setting -> why). Every other boolean the model has no meaning for is a switch.
NEUTRAL_SWITCHES: Mapping[str, str] = MappingProxyType({})

_BASIC_KINDS = {"All": frozenset(KINDS), "ReadOnly": frozenset({READ}), "WriteOnly": frozenset({WRITE})}
_READ_ONLY = {"true": READ, "false": WRITE}


# --- events: what event selectors record ----------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
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


@dataclass(frozen=True)
class Unread:
    """A selector trailkeeper cannot read exactly (a narrowing such as eventName, or a value it does not know).

    `bound` is the most it can record — (MANAGEMENT or a data resource type, kind) pairs — or None when
    even that is unknown (another event category, say).
    """

    selector: BasicSelector | AdvancedSelector
    bound: frozenset[tuple[str, str]] | None

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


@dataclass(frozen=True)
class Events:
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


def _event_losses(before: Events, after: Events) -> list[tuple[str, str, str]]:
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
            management = unread.bound is not None and any(what == MANAGEMENT for what, _ in unread.bound)
            dimension = MANAGEMENT_EVENTS if management else DATA_EVENTS
            found.append((dimension, f"drops the selector {unread.label()}", CONTROL_UNREAD))
    return found


def _records_all(events: Events, what: str, kind: str) -> bool:
    if what == MANAGEMENT:
        return events.management.get(kind) == frozenset()
    return events.records_data(what, kind)


@dataclass(frozen=True)
class Coverage:
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
    return any(d == MANAGEMENT_EVENTS for d, _, _ in _event_losses(Events.of(before), Events.of(after)))


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


# --- the record ---------------------------------------------------------------------------------------

InsightSet = frozenset[tuple[str, frozenset[str]]]  # (InsightType, event categories watched beyond Management)


@dataclass(frozen=True)
class Record:
    """What one trail records and how its record is protected; a dimension is None when it is not known.

    `settings` are UpdateTrail settings in compare form (`normalise.current_view`: key ARNs, topic ARNs,
    "" for none); a boolean whose value CloudTrail does not say is None there.

    >>> trail = Record.of({"IsMultiRegionTrail": True, "KmsKeyId": ""}, logging=True, events=selectors.DEFAULT)
    >>> trail.multi_region, trail.encrypted, trail.logging, trail.events.records_management()
    (True, False, True, True)
    """

    settings: Mapping[str, bool | str | None] = field(default_factory=lambda: MappingProxyType({}))
    logging: bool | None = None
    events: Events | None = None
    insights: InsightSet | None = None

    @staticmethod
    def of(
        trail_settings: Mapping[str, bool | str | None] | None = None,
        *,
        logging: bool | None = None,
        events: Selectors | None = None,
        insights: InsightSet | None = None,
    ) -> Record:
        read = Events.of(events) if events is not None else None
        return Record(MappingProxyType(dict(trail_settings or {})), logging, read, insights)

    @staticmethod
    def from_trail(
        trail: Mapping[str, object],
        *,
        logging: bool | None = None,
        events: Selectors | None = None,
        insights: InsightSet | None = None,
    ) -> Record:
        """The record of a trail as DescribeTrails answers it, with what the other reads said (None: not read).

        >>> Record.from_trail({"Name": "t", "IsMultiRegionTrail": True, "LogFileValidationEnabled": True}).validation
        True
        """
        return Record.of(current_view(trail), logging=logging, events=events, insights=insights)

    def _flag(self, name: str) -> bool | None:
        value = self.settings.get(name)
        return value if isinstance(value, bool) else None

    def _text(self, name: str) -> str | None:
        value = self.settings.get(name)
        return value if isinstance(value, str) else None

    @property
    def organization(self) -> bool | None:
        """Every account of the organization (True), or the trail's own account."""
        return self._flag(ORGANIZATION)

    @property
    def multi_region(self) -> bool | None:
        return self._flag(MULTI_REGION)

    @property
    def global_events(self) -> bool | None:
        return self._flag(GLOBAL_EVENTS)

    @property
    def validation(self) -> bool | None:
        return self._flag(VALIDATION)

    @property
    def encrypted(self) -> bool | None:
        key = self._text(KMS_KEY)
        return None if key is None else bool(key)

    @property
    def log_group(self) -> str | None:
        """The CloudWatch Logs group that also receives the events ('' none)."""
        return self._text(LOG_GROUP)

    @property
    def topic(self) -> str | None:
        """The SNS topic told of each delivery ('' none)."""
        return self._text(TOPIC)


# --- dimensions: what each records, and when a change takes some of it away ---------------------------


@dataclass(frozen=True)
class Dimension:
    """One dimension of a trail's record: what it records or protects, and when a change weakens it."""

    name: str
    records: str  # what it records or protects, in words (docs/guard.md)
    properties: tuple[str, ...]  # the declared properties that change it (what AllowWeakening names)
    weakens_when: str  # in words, for docs/guard.md
    control: str
    lost: Callable[[Record, Record], list[Weakening]] = field(repr=False, compare=False, default=lambda b, a: [])


def _switch(name: str, control: str) -> Callable[[Record, Record], list[Weakening]]:
    def lost(before: Record, after: Record) -> list[Weakening]:
        return _switched_off(name, before, after, control)

    return lost


def _switched_off(name: str, before: Record, after: Record, control: str) -> list[Weakening]:
    if name not in after.settings or after.settings[name] is not False:
        return []
    was = before.settings.get(name)  # None: CloudTrail does not say, and what is not known counts as present
    if was is False:
        return []
    return [Weakening(name, f"{'true' if was is True else '(not read back)'} -> false", control)]


def _removed(name: str, control: str) -> Callable[[Record, Record], list[Weakening]]:
    def lost(before: Record, after: Record) -> list[Weakening]:
        was = before.settings.get(name)  # None: CloudTrail does not say, and what is not known counts as present
        if after.settings.get(name) != "" or was == "":
            return []
        return [Weakening(name, f"{was if was is not None else '(not read back)'} -> removed", control)]

    return lost


def _logging_lost(before: Record, after: Record) -> list[Weakening]:
    if before.logging and after.logging is False:
        return [Weakening(IS_LOGGING, "true -> false", CONTROL_RECORDING)]
    return []


def _events_lost(dimension: str) -> Callable[[Record, Record], list[Weakening]]:
    def lost(before: Record, after: Record) -> list[Weakening]:
        if before.events is None or after.events is None:
            return []
        found = _event_losses(before.events, after.events)
        return [Weakening(after.events.declared_as, text, control) for d, text, control in found if d == dimension]

    return lost


def _insights_lost(before: Record, after: Record) -> list[Weakening]:
    if before.insights is None or after.insights is None:
        return []
    now = {kind: categories for kind, categories in after.insights}
    found = []
    for kind, categories in sorted(before.insights, key=lambda i: i[0]):
        if kind not in now:
            found.append(Weakening(INSIGHT_SELECTORS, f"{kind} removed", CONTROL_INSIGHTS))
        else:
            found += [
                Weakening(INSIGHT_SELECTORS, f"{kind} stops watching {category} events", CONTROL_INSIGHTS)
                for category in sorted(categories - now[kind])
            ]
    return found


DIMENSIONS: tuple[Dimension, ...] = (
    Dimension(
        "logging",
        "whether the trail records anything at all",
        (IS_LOGGING,),
        "true -> false",
        CONTROL_RECORDING,
        _logging_lost,
    ),
    Dimension(
        "accounts",
        "every account of the organization, or only the trail's own",
        (ORGANIZATION,),
        "true -> false",
        CONTROL_ORGANIZATION,
        _switch(ORGANIZATION, CONTROL_ORGANIZATION),
    ),
    Dimension(
        "regions",
        "every region, or only the home region",
        (MULTI_REGION,),
        "true -> false",
        CONTROL_RECORDING,
        _switch(MULTI_REGION, CONTROL_RECORDING),
    ),
    Dimension(
        "global service events",
        "events of IAM, STS and the other global services",
        (GLOBAL_EVENTS,),
        "true -> false",
        CONTROL_RECORDING,
        _switch(GLOBAL_EVENTS, CONTROL_RECORDING),
    ),
    Dimension(
        MANAGEMENT_EVENTS,
        "read and write management events, minus the sources excluded (kms, rdsdata)",
        (selectors.BASIC, selectors.ADVANCED),
        "read or write management events no longer logged, a source newly excluded, or a management selector "
        "trailkeeper cannot read exactly dropped without one logging all it could",
        CONTROL_RECORDING,
        _events_lost(MANAGEMENT_EVENTS),
    ),
    Dimension(
        DATA_EVENTS,
        "data events per resource type, read and write, for all resources or those matching ARNs; "
        "and any selector trailkeeper cannot read exactly",
        (selectors.BASIC, selectors.ADVANCED),
        "a type, a kind (read or write) or a resource no longer logged; a selector it cannot read dropped "
        "without a selector logging all it could",
        f"{CONTROL_S3_DATA[WRITE]}, {CONTROL_S3_DATA[READ]}, or {CONTROL_DATA}",
        _events_lost(DATA_EVENTS),
    ),
    Dimension(
        "Insights",
        "per Insights type (ApiCallRateInsight, ApiErrorRateInsight), the event categories watched",
        (INSIGHT_SELECTORS,),
        "a type removed, or a category it watches dropped (also one trailkeeper does not know)",
        CONTROL_INSIGHTS,
        _insights_lost,
    ),
    Dimension(
        "log file validation",
        "digest files that prove the log files were not changed",
        (VALIDATION,),
        "true -> false",
        CONTROL_VALIDATION,
        _switch(VALIDATION, CONTROL_VALIDATION),
    ),
    Dimension(
        "encryption",
        "log files encrypted with a KMS key",
        (KMS_KEY,),
        "the key removed",
        CONTROL_KMS,
        _removed(KMS_KEY, CONTROL_KMS),
    ),
    Dimension(
        "CloudWatch Logs",
        "a log group (and the role that writes to it) that also receives the events",
        (LOG_GROUP,),
        "the log group removed",
        CONTROL_LOG_GROUP,
        _removed(LOG_GROUP, CONTROL_LOG_GROUP),
    ),
    Dimension(
        "SNS notifications",
        "a topic told of each log file delivered",
        (TOPIC,),
        "the topic removed",
        CONTROL_TOPIC,
        _removed(TOPIC, CONTROL_TOPIC),
    ),
)

# Where logs go: a change of any of these (none removed) moves audit logs; it is not a weakening.
PLACES: Mapping[str, str] = MappingProxyType(
    {
        BUCKET: "the bucket the log files go to",
        PREFIX: "the key prefix in that bucket",
        KMS_KEY: "the KMS key that encrypts them",
        LOG_GROUP: "the log group that also receives the events",
    }
)


def modelled_settings() -> frozenset[str]:
    """The UpdateTrail settings a dimension gives a meaning to (the rest of the booleans are switches)."""
    return frozenset(p for d in DIMENSIONS for p in d.properties) | frozenset({LOG_ROLE, BUCKET, PREFIX})


def switches() -> tuple[str, ...]:
    """Boolean UpdateTrail settings (from botocore's model) with no other meaning here: on records more.

    >>> "RecursiveLogging" in switches()
    True
    """
    modelled = modelled_settings()
    return tuple(
        name
        for name, row in settings.table().items()
        if row.kind == "boolean" and name not in modelled and name not in NEUTRAL_SWITCHES
    )


def switch_control(name: str) -> str:
    row = settings.table().get(name)
    if row is None or not row.description:
        return CONTROL_SWITCH.format(what=f"{name}, a setting trailkeeper knows only from botocore's model")
    return CONTROL_SWITCH.format(what=row.description[0].lower() + row.description[1:].rstrip("."))


def weakenings(before: Record, after: Record) -> list[Weakening]:
    """What `after` records or protects less than `before`, dimension by dimension; [] when nothing.

    >>> weakenings(Record.of({"IsOrganizationTrail": True}), Record.of({"IsOrganizationTrail": False}))[0].describe()
    'IsOrganizationTrail true -> false breaks Security Hub CloudTrail.1, CIS 3.1 in every member account'
    >>> weakenings(Record.of({"IsOrganizationTrail": False}), Record.of({"IsOrganizationTrail": True}))
    []
    """
    found = [w for dimension in DIMENSIONS for w in dimension.lost(before, after)]
    for name in switches():
        found += _switched_off(name, before, after, switch_control(name))
    return found


def moves(before: Record, after: Record) -> list[str]:
    """The settings whose change moves audit logs (another bucket, prefix, key or log group, none removed).

    >>> moves(Record.of({"S3BucketName": "old", "KmsKeyId": "k1"}), Record.of({"S3BucketName": "new", "KmsKeyId": ""}))
    ['S3BucketName']
    """
    found = []
    for name in PLACES:
        was, now = before.settings.get(name), after.settings.get(name)
        if was is None or now is None:
            continue
        removable = name in (KMS_KEY, LOG_GROUP)  # removing these weakens; adding one strengthens
        if was != now and not (removable and (not was or not now)):
            found.append(name)
    return found


def weakenable() -> frozenset[str]:
    """Every property a change of which can weaken audit: what AllowWeakening may list."""
    return frozenset(p for d in DIMENSIONS for p in d.properties) | frozenset(switches())


def control_of(found: list[Weakening]) -> str | None:
    """The controls `found` break, as one text for a plan's change ('weakens'), or None."""
    return "; ".join(dict.fromkeys(w.control for w in found)) or None
