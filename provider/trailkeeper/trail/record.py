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

`Record` holds one trail's dimensions (each None when not known: not declared, not read); `events.py`
reads event selectors as the events they record — not as names or shapes: an advanced selector
equivalent to CloudTrail's default records what the default does, and `readOnly` decides read or write.
`controls.py` names the controls each dimension serves.

Three rules make the guard a consequence of this model rather than a list of names:

1. **A change weakens audit when the declared trail would record or protect less than the current one**
   (`weakenings`), dimension by dimension; a dimension not known on both sides is not compared.
2. **What the code does not understand counts as present, never as none.** A selector read back with a
   condition trailkeeper cannot read exactly (`events.Unread`), an Insights category or type it does not know, a
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
for CloudTrail.1, `Record.events.records_data("AWS::S3::Object", "write")` for CIS 4.8, `Record.validation`,
`Record.encrypted`, ...
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache, partial
from types import MappingProxyType
from typing import TYPE_CHECKING

from trailkeeper.trail import settings
from trailkeeper.trail.aspect import ADVANCED_EVENT_SELECTORS, EVENT_SELECTORS, INSIGHT_SELECTORS, IS_LOGGING, Weakening
from trailkeeper.trail.control_names import (
    CONTROL_DATA,
    CONTROL_INSIGHTS,
    CONTROL_KMS,
    CONTROL_LOG_GROUP,
    CONTROL_ORGANIZATION,
    CONTROL_RECORDING,
    CONTROL_S3_DATA,
    CONTROL_SWITCH,
    CONTROL_TOPIC,
    CONTROL_VALIDATION,
    DATA_EVENTS,
    MANAGEMENT_EVENTS,
    READ,
    WRITE,
)
from trailkeeper.trail.normalise import current_view
from trailkeeper.typed_tuple import TypedTuple

if TYPE_CHECKING:
    from trailkeeper.trail.events import Events
    from trailkeeper.trail.selectors import Selectors

# The model of the events selectors record (`events.py`, with `selectors.py`: 2 ms of a cold start on Lambda's Python)
# loads with the first record that has selectors: a change of settings alone never loads it.

ORGANIZATION, MULTI_REGION, GLOBAL_EVENTS = "IsOrganizationTrail", "IsMultiRegionTrail", "IncludeGlobalServiceEvents"
VALIDATION, KMS_KEY = "EnableLogFileValidation", "KmsKeyId"
LOG_GROUP, LOG_ROLE, TOPIC = "CloudWatchLogsLogGroupArn", "CloudWatchLogsRoleArn", "SnsTopicName"
BUCKET, PREFIX = "S3BucketName", "S3KeyPrefix"

# Boolean UpdateTrail settings that do not decide what a trail records or protects: true -> false is not a
# weakening for them (setting -> why). Every other boolean the model has no meaning for is a switch.
NEUTRAL_SWITCHES: Mapping[str, str] = MappingProxyType({})


# --- the record ---------------------------------------------------------------------------------------

InsightSet = frozenset[tuple[str, frozenset[str]]]  # (InsightType, event categories watched beyond Management)


class Record(TypedTuple):
    """What one trail records and how its record is protected; a dimension is None when it is not known.

    `settings` are UpdateTrail settings in compare form (`normalise.current_view`: key ARNs, topic ARNs,
    "" for none); a boolean whose value CloudTrail does not say is None there.

    >>> from trailkeeper.trail import selectors
    >>> trail = Record.of({"IsMultiRegionTrail": True, "KmsKeyId": ""}, logging=True, events=selectors.DEFAULT)
    >>> trail.multi_region, trail.encrypted, trail.logging, trail.events.records_management()
    (True, False, True, True)
    """

    settings: Mapping[str, bool | str | None] = MappingProxyType({})
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
        read = None
        if events is not None:
            from trailkeeper.trail.events import Events

            read = Events.of(events)
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


class Dimension(TypedTuple):
    """One dimension of a trail's record: what it records or protects, and when a change weakens it."""

    name: str
    records: str  # what it records or protects, in words (docs/guard.md)
    properties: tuple[str, ...]  # the declared properties that change it (what AllowWeakening names)
    weakens_when: str  # in words, for docs/guard.md
    control: str
    lost: Callable[[Record, Record], list[Weakening]] = lambda b, a: []


def _switch(name: str, control: str) -> Callable[[Record, Record], list[Weakening]]:
    return partial(_switched_off, name, control)


def _switched_off(name: str, control: str, before: Record, after: Record) -> list[Weakening]:
    if name not in after.settings or after.settings[name] is not False:
        return []
    was = before.settings.get(name)  # None: CloudTrail does not say, and what is not known counts as present
    if was is False:
        return []
    return [Weakening(name, f"{'true' if was is True else '(not read back)'} -> false", control)]


def _removed(name: str, control: str) -> Callable[[Record, Record], list[Weakening]]:
    return partial(_removed_between, name, control)  # the work at call time, where mutants reach it


def _removed_between(name: str, control: str, before: Record, after: Record) -> list[Weakening]:
    was = before.settings.get(name)  # None: CloudTrail does not say, and what is not known counts as present
    if after.settings.get(name) != "" or was == "":
        return []
    return [Weakening(name, f"{was if was is not None else '(not read back)'} -> removed", control)]


def _logging_lost(before: Record, after: Record) -> list[Weakening]:
    if before.logging and after.logging is False:
        return [Weakening(IS_LOGGING, "true -> false", CONTROL_RECORDING)]
    return []


def _events_lost(dimension: str) -> Callable[[Record, Record], list[Weakening]]:
    return partial(_events_lost_between, dimension)


def _events_lost_between(dimension: str, before: Record, after: Record) -> list[Weakening]:
    if before.events is None or after.events is None:
        return []
    from trailkeeper.trail.events import losses  # loaded already: both records were made with selectors

    found = losses(before.events, after.events)
    return [Weakening(after.events.declared_as, text, control) for d, text, control in found if d == dimension]


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
        (EVENT_SELECTORS, ADVANCED_EVENT_SELECTORS),
        "read or write management events no longer logged, a source newly excluded, or a management selector "
        "trailkeeper cannot read exactly dropped without one logging all it could",
        CONTROL_RECORDING,
        _events_lost(MANAGEMENT_EVENTS),
    ),
    Dimension(
        DATA_EVENTS,
        "data events per resource type, read and write, for all resources or those matching ARNs; "
        "and any selector trailkeeper cannot read exactly",
        (EVENT_SELECTORS, ADVANCED_EVENT_SELECTORS),
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


@cache
def modelled_settings() -> frozenset[str]:
    """The UpdateTrail settings a dimension gives a meaning to (the rest of the booleans are switches)."""
    return frozenset(p for d in DIMENSIONS for p in d.properties) | frozenset({LOG_ROLE, BUCKET, PREFIX})


@settings.of_table
def switches(rows: Mapping[str, settings.Setting]) -> tuple[str, ...]:
    """Boolean UpdateTrail settings (from botocore's model) with no other meaning here: on records more.
    Worked out once per settings table: every planned change asks.

    >>> "RecursiveLogging" in switches()
    True
    """
    modelled = modelled_settings()
    return tuple(
        name
        for name, row in rows.items()
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
    'IsOrganizationTrail true -> false breaks Security Hub CloudTrail.1, CIS 4.1 in every member account'
    >>> weakenings(Record.of({"IsOrganizationTrail": False}), Record.of({"IsOrganizationTrail": True}))
    []
    """
    found = [w for dimension in DIMENSIONS for w in dimension.lost(before, after)]
    for name in switches():
        found += _switched_off(name, switch_control(name), before, after)
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


@settings.of_table
def weakenable(_rows: Mapping[str, settings.Setting]) -> frozenset[str]:
    """Every property a change of which can weaken audit: what AllowWeakening may list."""
    return frozenset(p for d in DIMENSIONS for p in d.properties) | frozenset(switches())


def control_of(found: list[Weakening]) -> str | None:
    """The controls `found` break, as one text for a plan's change ('weakens'), or None."""
    return "; ".join(dict.fromkeys(w.control for w in found)) or None
