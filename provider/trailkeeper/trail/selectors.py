"""A trail's event selectors: parsed, compared, written and judged, without touching AWS.

A trail logs events through either *basic* selectors (`EventSelectors`) or *advanced* ones
(`AdvancedEventSelectors`), never both. This module turns a declaration (CloudFormation's
ResourceProperties or a state-file entry, spelled as the native AWS::CloudTrail::Trail spells them) and a
`GetEventSelectors` answer into the same canonical value, `Selectors`, so that "in sync" is plain
equality; and it renders that value as `PutEventSelectors` arguments and as a compact document for plans.
What the selectors record (management and data events, read and write), and so what a change stops
logging, is the model's to say: `record.Events`.

Why a canonical value rather than comparing documents: CloudTrail does not read back what it was sent.
A trail never configured reads back one default basic selector; advanced field selectors come back sorted
by Field with all six operators present (the unused ones `[]`); every list is unordered (the native
schema marks each one `insertionOrder: false`). Comparing documents would write on every run
(Terraform #3697, #4040). Here every list is a set, every default is filled in, every empty operator is
dropped, and the same normalisation runs on both sides.

Sources of the rules (each rule's text says which one it enforces): botocore's CloudTrail model
(shapes `EventSelector`, `DataResource`, `AdvancedEventSelector`, `AdvancedFieldSelector`, `Operator`,
`OperatorValue`, `SelectorName`, `SelectorField`, and the documentation of `PutEventSelectors` and
`InvalidEventSelectorsException`), the AWS::CloudTrail::Trail resource schema bundled with cfn-lint,
the CloudTrail API reference page *AdvancedFieldSelector* and the *Quotas in CloudTrail* page.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Self

from trailkeeper.errors import VALUE_LIMIT, shorten, show
from trailkeeper.trail import rules
from trailkeeper.trail.aspect import ADVANCED_EVENT_SELECTORS, EVENT_SELECTORS
from trailkeeper.typed_tuple import TypedTuple

BASIC, ADVANCED = EVENT_SELECTORS, ADVANCED_EVENT_SELECTORS

READ_WRITE_TYPES = ("All", "ReadOnly", "WriteOnly")
# Basic selectors take only these three data resource types (botocore's DataResource.Type documentation
# and PutEventSelectors). The native schema's enum lists six more, which CloudTrail accepts only as
# `resources.type` in advanced selectors.
BASIC_DATA_SERVICES = {"AWS::DynamoDB::Table": "dynamodb", "AWS::Lambda::Function": "lambda", "AWS::S3::Object": "s3"}
ADVANCED_ONLY_DATA_TYPES = (
    "AWS::S3Outposts::Object",
    "AWS::ManagedBlockchain::Node",
    "AWS::S3ObjectLambda::AccessPoint",
    "AWS::EC2::Snapshot",
    "AWS::S3::AccessPoint",
    "AWS::DynamoDB::Stream",
)
EXCLUDABLE_SOURCES = ("kms.amazonaws.com", "rdsdata.amazonaws.com")
OPERATORS = ("Equals", "StartsWith", "EndsWith", "NotEquals", "NotStartsWith", "NotEndsWith")
EQUALS_ONLY_FIELDS = ("readOnly", "eventCategory", "resources.type")
TRAIL_EVENT_CATEGORIES = ("Management", "Data", "NetworkActivity")
MANAGEMENT_FIELDS = ("eventCategory", "eventSource", "readOnly")
# Fields the API reference names; used only to suggest a spelling, never to refuse a field (CloudTrail
# adds fields over time, and the model's pattern is the only rule it publishes).
KNOWN_FIELDS = (
    "eventCategory",
    "eventSource",
    "eventName",
    "eventType",
    "readOnly",
    "resources.type",
    "resources.ARN",
    "sessionCredentialFromConsole",
    "userIdentity.arn",
    "errorCode",
    "vpcEndpointId",
)

MAX_BASIC_SELECTORS = 5  # model docs, native schema maxItems, quotas page
MAX_DATA_RESOURCES = 250  # DataResources docs, quotas page: values across all basic selectors of a trail
MAX_ADVANCED_VALUES = 500  # PutEventSelectors docs, quotas page: values across all advanced conditions
NAME_MAX = 1000  # SelectorName max
FIELD_MAX = 1000  # SelectorField max
# SelectorField's pattern, matched whole and in ASCII (the service's \w and \d take no other script's letters)
FIELD_PATTERN = re.compile(r"[\w|\d|\.|_]+", re.ASCII)
VALUE_MAX = 2048  # OperatorValue max
ARN_MAX = 2048  # not in the model; bounds what we check, and no real ARN prefix is longer

BASIC_KEYS = ("ReadWriteType", "IncludeManagementEvents", "DataResources", "ExcludeManagementEventSources")
DATA_KEYS = ("Type", "Values")
ADVANCED_KEYS = ("Name", "FieldSelectors")
FIELD_KEYS = ("Field", *OPERATORS)

# Bounds on the work a declaration may cost: the largest valid one visits a few thousand nodes.
WORK_BUDGET = 20_000
MAX_PROBLEMS = 40

# Values that log a whole service ("arn:aws:s3", or CDK's "arn:aws:s3:::") do not count towards the 250.
WHOLE_SERVICE = re.compile(r"arn:aws(?:-[a-z]+)*:(?:s3(?::::)?|lambda|dynamodb)")


class DataResource(TypedTuple):
    """One basic-selector data resource: a type and the set of ARN prefixes it logs."""

    type: str
    values: frozenset[str]


class BasicSelector(TypedTuple):
    """A basic selector with every default filled in; `excluded` is empty when `management` is false."""

    read_write: str
    management: bool
    data: frozenset[DataResource]
    excluded: frozenset[str]


class FieldSelector(TypedTuple):
    """One condition of an advanced selector: the field and its non-empty operators, values as sets."""

    field: str
    operators: frozenset[tuple[str, frozenset[str]]]

    def values(self, operator: str) -> frozenset[str]:
        """The values of `operator`, empty when it is not used."""
        return next((values for name, values in self.operators if name == operator), frozenset())


class AdvancedSelector(TypedTuple):
    """An advanced selector: its name ('' when none) and its conditions, at most one per field."""

    name: str
    fields: frozenset[FieldSelector]

    def field(self, name: str) -> FieldSelector | None:
        return next((f for f in self.fields if f.field == name), None)


class _SelectorSets(TypedTuple):
    basic: frozenset[BasicSelector]
    advanced: frozenset[AdvancedSelector]


class Selectors(_SelectorSets):
    """The canonical, order-free, hashable form of a trail's event selectors: one of the two sets is empty."""

    __slots__ = ()

    def __new__(cls, basic: frozenset[BasicSelector], advanced: frozenset[AdvancedSelector]) -> Selectors:
        if basic and advanced:
            raise ValueError("a trail has basic or advanced event selectors, never both")
        return super().__new__(cls, basic, advanced)

    # `_make`, and `_replace` through it, would build the tuple without `__new__`: they go through it too.
    # (mypy reads NamedTuple's own `_make` as taking `_cls`, a name only; the signature is the same.)
    @classmethod
    def _make(cls, iterable: Iterable[Any]) -> Self:  # type: ignore[override]
        return cls(*iterable)


DEFAULT = Selectors(frozenset({BasicSelector("All", True, frozenset(), frozenset())}), frozenset())
"""CloudTrail's default: all read and write management events, no data events, nothing excluded."""


# --- canonical constructors, shared by parse and from_read so both sides normalise alike -------------


def _basic_selector(
    read_write: str, management: bool, data: Iterable[tuple[str, Iterable[str]]], excluded: Iterable[str]
) -> BasicSelector:
    # Entries of one type are merged: an event matches a selector when its ARN matches any value of its
    # type, so two entries of a type mean the same as one with both value sets.
    merged: dict[str, set[str]] = {}
    for kind, values in data:
        merged.setdefault(kind, set()).update(values)
    resources = frozenset(DataResource(kind, frozenset(values)) for kind, values in merged.items())
    # Exclusions only filter management events: without them they mean nothing, whatever CloudTrail echoes.
    return BasicSelector(read_write, management, resources, frozenset(excluded) if management else frozenset())


def _field_selector(field: str, operators: Iterable[tuple[str, Iterable[str]]]) -> FieldSelector:
    merged: dict[str, set[str]] = {}
    for operator, values in operators:
        # readOnly's values are "true"/"false"; CloudFormation lowercases YAML booleans, a state file
        # may not: compare them without case.
        merged.setdefault(operator, set()).update(v.lower() if field == "readOnly" else v for v in values)
    return FieldSelector(field, frozenset((op, frozenset(vs)) for op, vs in merged.items() if vs))


def _advanced_selector(name: str, fields: Iterable[FieldSelector]) -> AdvancedSelector:
    merged: dict[str, list[tuple[str, frozenset[str]]]] = {}
    for field in fields:
        merged.setdefault(field.field, []).extend(field.operators)
    return AdvancedSelector(name, frozenset(_field_selector(f, ops) for f, ops in merged.items()))


# --- parse: declared properties -> Selectors, listing every problem ----------------------------------


def _shown(value: object) -> str:
    """A declared value as a problem shows it, in bounded time and length whatever its size or depth."""
    if isinstance(value, str) or value is None or isinstance(value, bool | float):
        return show(value)
    if isinstance(value, int):
        return show(value) if abs(value) < 10**18 else "(a very large number)"
    if isinstance(value, Mapping):
        return f"(an object of {_count(len(value), 'key')})"
    if isinstance(value, list | tuple):
        return f"(a list of {_count(len(value), 'item')})"
    return f"(a {type(value).__name__})"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _hint(word: object, choices: Iterable[str]) -> str:
    """'; did you mean X?' for a near miss (any case), or ''."""
    if not isinstance(word, str):
        return ""
    import difflib  # only a refusal needs it: not imported at cold start

    choices = list(choices)
    by_case = {c.lower(): c for c in choices}
    close = by_case.get(word.lower()) or next(iter(difflib.get_close_matches(word[:64], choices, n=1)), None)
    return f"; did you mean {close}?" if close else ""


class _Checker:
    """Collects problems while walking a declaration, and stops walking when the work budget is spent."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.count = 0
        self.work = WORK_BUDGET

    def add(self, text: str) -> None:
        self.count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(text)

    def bad(self, path: str, value: object, rule: str) -> None:
        self.add(f"{path}={_shown(value)}: {rule}")

    def spend(self) -> bool:
        self.work -= 1
        return self.work >= 0

    def result(self) -> list[str]:
        problems = list(self.problems)
        if self.work < 0:
            problems.append("the selectors are too large to check in full: fix the problems listed first")
        if self.count > len(self.problems):
            problems.append(f"(+{self.count - len(self.problems)} more problems)")
        return problems

    # -- generic shapes --

    def items(self, path: str, raw: object) -> Iterator[tuple[str, object]]:
        """The items of a declared list with their paths; a problem if it is not a list."""
        if not isinstance(raw, list | tuple):
            self.bad(path, raw, "must be a list")
            return
        for index, item in enumerate(raw):
            if not self.spend():
                return
            yield f"{path}[{index}]", item

    def mapping(self, path: str, raw: object, known: tuple[str, ...]) -> Mapping[str, object] | None:
        """A declared object whose keys are all known, or None (problems added) if it is not an object."""
        if not isinstance(raw, Mapping):
            self.bad(path, raw, "must be an object")
            return None
        for key in raw:
            if not self.spend():
                break
            if key not in known:
                label = shorten(key, VALUE_LIMIT) if isinstance(key, str) else _shown(key)
                # The hint costs a fuzzy match: only for problems that will be shown.
                hint = "" if len(self.problems) >= MAX_PROBLEMS else _hint(key, known)
                self.add(f"{path}.{label}: unknown property{hint or '; known: ' + ', '.join(known)}")
        return raw

    def boolean(self, path: str, raw: object) -> bool | None:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
            return raw.strip().lower() == "true"
        self.bad(path, raw, "must be true or false")
        return None

    def choice(self, path: str, raw: object, choices: tuple[str, ...]) -> str | None:
        if isinstance(raw, str) and raw in choices:
            return raw
        words = ", ".join(choices[:-1]) + f" or {choices[-1]}"
        self.bad(path, raw, f"must be {words}{_hint(raw, choices)}")
        return None

    def strings(self, path: str, raw: object, *, booleans: bool = False) -> list[tuple[int, str]] | None:
        """The strings of a declared list with their indexes, None if it is not a list (booleans from a
        state file become 'true'/'false' when allowed). An item that is not a string is a problem and is
        left out, so the caller still checks the others: every problem is listed at once."""
        out: list[tuple[int, str]] = []
        for index, (item_path, item) in enumerate(self.items(path, raw)):
            if booleans and isinstance(item, bool):
                out.append((index, "true" if item else "false"))
            elif not isinstance(item, str):
                self.bad(item_path, item, "must be a string")
            else:
                out.append((index, item))
        return out if isinstance(raw, list | tuple) else None

    # -- basic selectors --

    def basic_list(self, raw: object) -> frozenset[BasicSelector] | None:
        start, selectors, data_values = self.count, set(), 0
        if isinstance(raw, list | tuple) and len(raw) > MAX_BASIC_SELECTORS:
            self.bad(BASIC, raw, f"at most {MAX_BASIC_SELECTORS} event selectors per trail (CloudTrail quota)")
        for path, item in self.items(BASIC, raw):
            selector = self.basic(path, item)
            if selector is not None:
                selectors.add(selector)
                data_values += sum(1 for d in selector.data for v in d.values if not WHOLE_SERVICE.fullmatch(v))
        if data_values > MAX_DATA_RESOURCES:
            self.add(
                f"{BASIC}: {data_values} data resource values across the trail: at most {MAX_DATA_RESOURCES} "
                "(CloudTrail quota; whole-service values such as arn:aws:s3 do not count)"
            )
        if self.count > start:
            return None
        # `EventSelectors: []` is what public templates write for "CloudTrail's default".
        return frozenset(selectors) or DEFAULT.basic

    def basic(self, path: str, raw: object) -> BasicSelector | None:
        start = self.count
        obj = self.mapping(path, raw, BASIC_KEYS)
        if obj is None:
            return None
        read_write = self.choice(f"{path}.ReadWriteType", obj.get("ReadWriteType", "All"), READ_WRITE_TYPES)
        management = self.boolean(f"{path}.IncludeManagementEvents", obj.get("IncludeManagementEvents", True))
        data = self.data_resources(f"{path}.DataResources", obj.get("DataResources", []))
        excluded = self.strings(f"{path}.ExcludeManagementEventSources", obj.get("ExcludeManagementEventSources", []))
        for index, source in excluded or []:
            if source not in EXCLUDABLE_SOURCES:
                self.bad(
                    f"{path}.ExcludeManagementEventSources[{index}]",
                    source,
                    f"CloudTrail can exclude only {' or '.join(EXCLUDABLE_SOURCES)}{_hint(source, EXCLUDABLE_SOURCES)}",
                )
        if management is False and data == []:
            self.bad(
                f"{path}.IncludeManagementEvents",
                False,
                "needs DataResources: a selector without management events must log some data events",
            )
        if self.count > start or read_write is None or management is None or data is None or excluded is None:
            return None
        return _basic_selector(read_write, management, data, (source for _, source in excluded))

    def data_resources(self, path: str, raw: object) -> list[tuple[str, list[str]]] | None:
        start, out = self.count, []
        for item_path, item in self.items(path, raw):
            obj = self.mapping(item_path, item, DATA_KEYS)
            if obj is None:
                continue
            kind = obj.get("Type")
            if "Type" not in obj:
                self.add(f"{item_path}.Type: required: one of {', '.join(BASIC_DATA_SERVICES)}")
            elif kind not in BASIC_DATA_SERVICES:
                if isinstance(kind, str) and kind in ADVANCED_ONLY_DATA_TYPES:
                    rule = f"basic selectors log only {', '.join(BASIC_DATA_SERVICES)}; use AdvancedEventSelectors "
                    rule += "with resources.type Equals this type"
                else:
                    rule = f"must be {', '.join(BASIC_DATA_SERVICES)}{_hint(kind, BASIC_DATA_SERVICES)}"
                self.bad(f"{item_path}.Type", kind, rule)
                kind = None
            if "Values" not in obj:
                self.add(f"{item_path}.Values: required: ARNs or ARN prefixes, e.g. arn:aws:s3:::bucket/")
                continue
            values = self.strings(f"{item_path}.Values", obj["Values"])
            if values == [] and not obj["Values"]:  # empty, not emptied of items that are not strings
                self.bad(f"{item_path}.Values", [], "needs at least one ARN or ARN prefix")
            for index, value in values or []:
                if isinstance(kind, str):
                    self.data_value(f"{item_path}.Values[{index}]", value, kind)
            if isinstance(kind, str) and values:
                out.append((kind, [value for _, value in values]))
        return out if self.count == start and isinstance(raw, list | tuple) else None

    def data_value(self, path: str, value: str, kind: str) -> None:
        service = BASIC_DATA_SERVICES[kind]
        parts = value[: ARN_MAX + 1].split(":", 3)
        if (
            len(value) > ARN_MAX
            or len(parts) < 3
            or parts[0] != "arn"
            or not rules.is_partition(parts[1])
            or parts[2] != service
        ):
            self.bad(
                path,
                value,
                f"must be an ARN or ARN prefix of {kind} (arn:PARTITION:{service}..., e.g. arn:aws:{service} for all)",
            )

    # -- advanced selectors --

    def advanced_list(self, raw: object) -> frozenset[AdvancedSelector] | None:
        start, selectors, total = self.count, set(), 0
        if isinstance(raw, list | tuple) and not raw:
            self.bad(ADVANCED, raw, f"declare at least one advanced selector, or {BASIC}: [] for CloudTrail's default")
        for path, item in self.items(ADVANCED, raw):
            selector = self.advanced(path, item)
            if selector is not None:
                selectors.add(selector)
                total += advanced_values((selector,))
        if total > MAX_ADVANCED_VALUES:
            self.add(
                f"{ADVANCED}: {total} values across all conditions: at most {MAX_ADVANCED_VALUES} per trail "
                "(CloudTrail quota)"
            )
        return frozenset(selectors) if self.count == start else None

    def advanced(self, path: str, raw: object) -> AdvancedSelector | None:
        start = self.count
        obj = self.mapping(path, raw, ADVANCED_KEYS)
        if obj is None:
            return None
        name = obj.get("Name", "")
        if not isinstance(name, str) or len(name) > NAME_MAX or "\n" in name:
            self.bad(f"{path}.Name", name, f"must be a string of at most {NAME_MAX} characters on one line")
        fields: list[FieldSelector] = []
        if "FieldSelectors" not in obj:
            self.add(f"{path}.FieldSelectors: required: a list of conditions, with eventCategory among them")
        else:
            raw_fields = obj["FieldSelectors"]
            if isinstance(raw_fields, list | tuple) and not raw_fields:
                self.bad(f"{path}.FieldSelectors", raw_fields, "needs at least one condition")
            seen: set[str] = set()
            for item_path, item in self.items(f"{path}.FieldSelectors", raw_fields):
                field = self.field_selector(item_path, item)
                if field is None:
                    continue
                if field.field in seen:
                    self.bad(f"{item_path}.Field", field.field, "declared twice in this selector: merge the two")
                seen.add(field.field)
                fields.append(field)
        if self.count > start or not isinstance(name, str):
            return None
        selector = _advanced_selector(name, fields)
        self.selector_rules(path, selector)
        return selector if self.count == start else None

    def field_selector(self, path: str, raw: object) -> FieldSelector | None:
        start = self.count
        obj = self.mapping(path, raw, FIELD_KEYS)
        if obj is None:
            return None
        field = obj.get("Field")
        if "Field" not in obj:
            self.add(f"{path}.Field: required: the event record field to filter on, e.g. eventCategory")
        elif not isinstance(field, str) or not 1 <= len(field) <= FIELD_MAX or not FIELD_PATTERN.fullmatch(field):
            self.bad(f"{path}.Field", field, f"must be 1-{FIELD_MAX} letters, digits, '.', '_' or '|'")
        elif field not in KNOWN_FIELDS and field.lower() in {k.lower() for k in KNOWN_FIELDS}:
            # Field names are case-sensitive: a wrong case silently matches nothing.
            self.bad(f"{path}.Field", field, f"field names are case-sensitive{_hint(field, KNOWN_FIELDS)}")
        operators: list[tuple[str, list[str]]] = []
        for operator in OPERATORS:
            if operator not in obj:
                continue
            values = self.strings(f"{path}.{operator}", obj[operator], booleans=True)
            for index, value in values or []:
                if not 1 <= len(value) <= VALUE_MAX or "\n" in value:
                    self.bad(f"{path}.{operator}[{index}]", value, f"must be 1-{VALUE_MAX} characters on one line")
            # An empty operator list is what GetEventSelectors shows for an unused operator: a read-back
            # copied into a declaration stays valid, and the operator is simply not sent.
            if values:
                operators.append((operator, [value for _, value in values]))
        if self.count > start or not isinstance(field, str):
            return None
        if not operators:
            self.add(f"{path}: needs at least one of {', '.join(OPERATORS)} with values")
            return None
        return self.field_rules(path, _field_selector(field, operators))

    def field_rules(self, path: str, selector: FieldSelector) -> FieldSelector | None:
        start, field = self.count, selector.field
        used = sorted(op for op, _ in selector.operators)
        if field in EQUALS_ONLY_FIELDS and used != ["Equals"]:
            self.add(
                f"{path}: {field} takes only the Equals operator, not {', '.join(o for o in used if o != 'Equals')}"
            )
        equals = sorted(selector.values("Equals"))
        for value in equals if field == "readOnly" else []:
            if value not in ("true", "false"):
                self.bad(f"{path}.Equals", value, "readOnly equals 'true' (read events) or 'false' (write events)")
        if field == "eventCategory":
            for value in equals:
                if value not in TRAIL_EVENT_CATEGORIES:
                    rule = f"a trail's eventCategory is {', '.join(TRAIL_EVENT_CATEGORIES)}"
                    self.bad(f"{path}.Equals", value, rule + _hint(value, TRAIL_EVENT_CATEGORIES))
        return selector if self.count == start else None

    def selector_rules(self, path: str, selector: AdvancedSelector) -> None:
        """Rules of the API reference's AdvancedFieldSelector page that tie fields of one selector together."""
        category = selector.field("eventCategory")
        if category is None:
            self.add(
                f"{path}.FieldSelectors: needs an eventCategory condition (Equals Management, Data or NetworkActivity)"
            )
            return
        categories = category.values("Equals")
        fields = {f.field for f in selector.fields}
        if categories == {"Management"}:
            for other in sorted(fields - set(MANAGEMENT_FIELDS)):
                self.add(
                    f"{path}: a trail's management selector filters only on {', '.join(MANAGEMENT_FIELDS)}, not {other}"
                )
            source = selector.field("eventSource")
            if source is not None:
                if sorted(op for op, _ in source.operators) != ["NotEquals"]:
                    self.add(f"{path}: eventSource in a management selector takes only NotEquals")
                for value in sorted(source.values("NotEquals") - set(EXCLUDABLE_SOURCES)):
                    self.add(
                        f"{path}: eventSource NotEquals {show(value)}: a trail can exclude only "
                        f"{' or '.join(EXCLUDABLE_SOURCES)} from management events"
                    )
        elif categories == {"Data"} and "resources.type" not in fields:
            self.add(f"{path}.FieldSelectors: a data selector needs a resources.type condition")
        elif categories == {"NetworkActivity"} and "eventSource" not in fields:
            self.add(f"{path}.FieldSelectors: a network activity selector needs an eventSource condition")


def parse(props: Mapping[str, object]) -> tuple[Selectors | None, list[str]]:
    """The selectors declared in `props` (None when neither property is declared) and every problem.

    Problems name the property path, the value and the rule; with any problem the selectors are None.
    The walk is bounded (`WORK_BUDGET`, `MAX_PROBLEMS`): a huge or deeply nested value costs little.

    >>> parse({"Name": "audit"})
    (None, [])
    >>> parse({"EventSelectors": []})[0] == DEFAULT
    True
    >>> parse({"EventSelectors": [{"IncludeManagementEvents": "TRUE"}]})[0] == DEFAULT
    True
    >>> parse({"EventSelectors": [{"ReadWriteType": "Both"}]})[1]
    ["EventSelectors[0].ReadWriteType='Both': must be All, ReadOnly or WriteOnly"]
    """
    if BASIC not in props and ADVANCED not in props:
        return None, []
    checker = _Checker()
    if BASIC in props and ADVANCED in props:
        checker.add(
            f"{BASIC} and {ADVANCED}: declare one of them, not both (a trail keeps basic or advanced selectors)"
        )
    basic = checker.basic_list(props[BASIC]) if BASIC in props else None
    advanced = checker.advanced_list(props[ADVANCED]) if ADVANCED in props else None
    problems = checker.result()
    if problems:
        return None, problems
    return Selectors(basic or frozenset(), advanced or frozenset()), []


# --- from_read: a GetEventSelectors answer -> Selectors ------------------------------------------------


def _read_operators(field: Mapping[str, Any]) -> Iterator[tuple[str, list[str]]]:
    """A read-back field selector's operators, an operator this code does not know included: what is not
    understood is kept (the guard counts it as present), never dropped."""
    for operator, values in field.items():
        if operator != "Field":
            yield operator, [str(v) for v in (values if isinstance(values, list) else [values]) if v is not None]


def from_read(answer: Mapping[str, Any]) -> Selectors:
    """The canonical form of a GetEventSelectors answer, as real CloudTrail gives it.

    >>> from_read({"EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": True,
    ...     "DataResources": [], "ExcludeManagementEventSources": []}]}) == DEFAULT
    True
    """
    advanced = answer.get(ADVANCED) or []
    basic = answer.get(BASIC) or []
    # Real CloudTrail answers one kind only (putting one replaces the other); moto may keep both, and then
    # the advanced ones, which are the newer kind, are taken.
    if advanced:
        return Selectors(
            frozenset(),
            frozenset(
                _advanced_selector(
                    selector.get("Name") or "",
                    (
                        _field_selector(f.get("Field", ""), _read_operators(f))
                        for f in selector.get("FieldSelectors") or []
                    ),
                )
                for selector in advanced
            ),
        )
    if basic:
        return Selectors(
            frozenset(
                _basic_selector(
                    selector.get("ReadWriteType") or "All",
                    selector.get("IncludeManagementEvents", True) is not False,
                    ((d.get("Type", ""), d.get("Values") or []) for d in selector.get("DataResources") or []),
                    selector.get("ExcludeManagementEventSources") or [],
                )
                for selector in basic
            ),
            frozenset(),
        )
    # Real CloudTrail always answers one of the two (a trail never configured reads back the default
    # selector); an answer with neither, as moto gives for a fresh trail, can only mean that default.
    return DEFAULT


# --- to_wire / to_doc: Selectors -> documents ---------------------------------------------------------


def _ordered(documents: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(documents, key=lambda d: json.dumps(d, sort_keys=True))


def _basic_document(selector: BasicSelector, *, compact: bool) -> dict[str, Any]:
    data = _ordered({"Type": d.type, "Values": sorted(d.values)} for d in selector.data)
    document: dict[str, Any] = {
        "ReadWriteType": selector.read_write,
        "IncludeManagementEvents": selector.management,
        "DataResources": data,
        "ExcludeManagementEventSources": sorted(selector.excluded),
    }
    if compact:
        # ReadWriteType stays even at its default: `[{}]` would tell a reader nothing.
        defaults = {"IncludeManagementEvents": True}
        document = {k: v for k, v in document.items() if v != [] and defaults.get(k) != v}
    return document


def _unknown(field: FieldSelector) -> list[str]:
    """Operators read back that this code does not know (only a read-back has them), in a stable order."""
    return sorted(op for op, _ in field.operators if op not in OPERATORS)


def _advanced_document(selector: AdvancedSelector) -> dict[str, Any]:
    fields = [
        {"Field": f.field, **{op: sorted(f.values(op)) for op in (*OPERATORS, *_unknown(f)) if f.values(op)}}
        for f in sorted(selector.fields, key=lambda f: f.field)
    ]
    return {"Name": selector.name, "FieldSelectors": fields} if selector.name else {"FieldSelectors": fields}


def advanced_values(chosen: Iterable[AdvancedSelector]) -> int:
    """Values across all the selectors' conditions, as CloudTrail's quota counts them (MAX_ADVANCED_VALUES)."""
    return sum(len(values) for selector in chosen for condition in selector.fields for _, values in condition.operators)


def kind(selectors: Selectors) -> str:
    """Which property the selectors belong to: BASIC or ADVANCED."""
    return ADVANCED if selectors.advanced else BASIC


def to_wire(selectors: Selectors) -> dict[str, Any]:
    """PutEventSelectors arguments (without TrailName), every list in a deterministic order.

    >>> to_wire(DEFAULT)
    {'EventSelectors': [{'ReadWriteType': 'All', 'IncludeManagementEvents': True, 'DataResources': [], \
'ExcludeManagementEventSources': []}]}
    """
    if selectors.advanced:
        return {ADVANCED: _ordered(_advanced_document(s) for s in selectors.advanced)}
    return {BASIC: _ordered(_basic_document(s, compact=False) for s in selectors.basic)}


def to_doc(selectors: Selectors) -> list[dict[str, Any]]:
    """The selectors as a declaration would spell them, defaults left out (but ReadWriteType), for reports.

    `parse({kind(s): to_doc(s)})` gives `s` back.

    >>> to_doc(DEFAULT)
    [{'ReadWriteType': 'All'}]
    """
    if selectors.advanced:
        return _ordered(_advanced_document(s) for s in selectors.advanced)
    return _ordered(_basic_document(s, compact=True) for s in selectors.basic)
