"""Parse declared properties once, at the entry point, into a typed, frozen `Declaration`.

CloudFormation sends every scalar as a string ("true", "false"); the drift-fix state file may hold real
booleans. Both become Python values here and nowhere else. Every problem is collected before
anything is raised, so a person fixes a template in one pass; nothing here touches AWS.

Besides the UpdateTrail settings (one table: `settings.py`), each other aspect of the trail (logging,
event selectors, Insights, tags: `aspects.py`) parses its own properties. The native
AWS::CloudTrail::Trail spellings `TrailName` and `KMSKeyId` are accepted for `Name` and `KmsKeyId`, so a
native declaration can be copied over.

In a state file `Name` may also be a pattern (`*` and `?`, which no trail name contains): it declares a
baseline for every trail whose name it matches, narrowed by an optional `Match` ({Tags, Regions}).
Which trails a declaration matches is decided by `fleet/matching.py`; the custom resource refuses patterns.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from types import MappingProxyType

from trailkeeper.errors import VALUE_LIMIT, InvalidProperties, shorten, show
from trailkeeper.trail import aspects, guard, rules, settings
from trailkeeper.trail.settings import Setting, Value
from trailkeeper.trail.values import boolean
from trailkeeper.typed_tuple import TypedTuple

LOG_GROUP, LOG_ROLE = "CloudWatchLogsLogGroupArn", "CloudWatchLogsRoleArn"
# Native AWS::CloudTrail::Trail spelling -> ours (UpdateTrail's).
ALIASES: Mapping[str, str] = {"TrailName": settings.NAME, "KMSKeyId": "KmsKeyId"}
DRY_RUN = "DryRun"
MATCH = "Match"
REPAIR_DELIVERY = "RepairDelivery"  # the delivery guard restores CloudTrail's policy statements (state files)
CONTROLS = (guard.ALLOW, DRY_RUN, MATCH, REPAIR_DELIVERY)
WILDCARDS = "*?"
PATTERN_RULE = (
    "a pattern is 1-128 characters: letters, digits, '.', '_', '-' and the wildcards * (any characters) "
    "and ? (one character)"
)
_PATTERN = r"[A-Za-z0-9._*?-]{1,128}"  # compiled by `re` at its first use: most declarations hold no pattern
MATCH_KEYS = ("Tags", "Regions")


def is_pattern(name: str) -> bool:
    """A Name with a wildcard is a pattern (a trail name cannot hold `*` or `?`; an ARN is never one)."""
    return not name.startswith("arn:") and any(c in name for c in WILDCARDS)


class Match(TypedTuple):
    """What narrows a pattern: tags every matched trail carries (None: any value), and home regions."""

    tags: Mapping[str, str | None] = MappingProxyType({})
    regions: frozenset[str] = frozenset()  # empty: every region scanned


class Declaration(TypedTuple):
    """A trail (by name or ARN) and the settings declared for it; settings left out are not managed."""

    name: str
    settings: Mapping[str, Value] = MappingProxyType({})
    aspects: Mapping[str, object] = MappingProxyType({})  # aspect name -> desired
    allow_weakening: guard.Allowance = False  # True, or the property names that may weaken audit
    dry_run: bool = False  # read and plan, write nothing
    match: Match = Match()  # patterns only
    repair_delivery: bool | None = None  # None: not declared (the delivery guard only tells)

    @property
    def is_pattern(self) -> bool:
        return is_pattern(self.name)


def _coerce(row: Setting, raw: object) -> tuple[Value | None, str | None]:
    """The typed value of one property, or the problem with it."""
    if row.kind == "boolean":
        return boolean(row.name, raw)
    if not isinstance(raw, str):
        return None, f"{row.name}={show(raw)}: must be a string"
    if raw == "":
        if row.clearable:
            return "", None
        return None, f"{row.name}='': cannot be cleared ({row.rule}); leave it out to keep the current value"
    broken = row.check(raw) if row.check else None
    return (None, f"{row.name}={show(raw)}: {broken}") if broken else (raw, None)


@cache
def _owned() -> frozenset[str]:
    """The properties the other aspects (logging, selectors, Insights, tags) parse themselves."""
    return frozenset(p for aspect in aspects.OTHERS for p in aspect.properties)


def known_properties() -> list[str]:
    """Every property a declaration may hold, in the order of the docs."""
    others = [p for aspect in aspects.OTHERS for p in aspect.properties]
    return [settings.NAME, *settings.table(), *others, *ALIASES, *CONTROLS]


def _unknown(key: str) -> str:
    import difflib  # only a refusal needs it: not imported at cold start

    known = known_properties()
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"; did you mean {close[0]}?" if close else f"; known: {', '.join(sorted(known))}"
    return f"{key}: unknown property{hint}"


def _aliases(props: Mapping[str, object]) -> tuple[dict[str, object], list[str]]:
    """`props` with native spellings renamed to ours; declaring both with different values is an error."""
    renamed = dict(props)
    problems: list[str] = []
    for native, ours in ALIASES.items():
        if native not in renamed:
            continue
        value = renamed.pop(native)
        if ours in renamed and renamed[ours] != value:
            problems.append(f"{native} and {ours} name the same property with different values: declare one")
        renamed.setdefault(ours, value)
    return renamed, problems


def _allowance(raw: object) -> tuple[guard.Allowance, str | None]:
    if raw is None:
        return False, None
    if isinstance(raw, list):
        allowed = guard.weakenable()
        if len(raw) > len(allowed):
            return False, f"{guard.ALLOW}: {len(raw)} names; list at most the {len(allowed)} that can weaken audit"
        names = [n for n in raw if isinstance(n, str)]
        wrong = [show(n) for n in raw if not isinstance(n, str) or n not in allowed]
        if wrong:
            return False, (
                f"{guard.ALLOW}: {', '.join(wrong[:5])} cannot weaken audit; list some of {', '.join(sorted(allowed))}"
            )
        return frozenset(names), None
    value, problem = boolean(guard.ALLOW, raw)
    if problem:
        return False, f"{problem}, or a list of the property names that may weaken audit"
    return bool(value), None


def _name(props: Mapping[str, object]) -> tuple[str, str | None]:
    raw = props.get(settings.NAME)
    if raw is None or raw == "":
        return "", "Name: required: the trail's name or ARN"
    if not isinstance(raw, str):
        return "", f"Name={show(raw)}: must be a string"
    if raw.startswith("arn:") and any(c in raw for c in WILDCARDS):
        return raw, f"Name={show(raw)}: a pattern matches trail names, not ARNs; narrow it with Match.Regions"
    if is_pattern(raw):
        return raw, (None if re.fullmatch(_PATTERN, raw) else f"Name={show(raw)}: {PATTERN_RULE}")
    broken = rules.trail_name_or_arn(raw)
    return raw, (f"Name={show(raw)}: {broken}" if broken else None)


def _match_tags(raw: object) -> tuple[dict[str, str | None], list[str]]:
    if not isinstance(raw, Mapping) or not raw:
        return {}, [f"{MATCH}.Tags={show(raw)}: must be a non-empty object of tag key: value (null: any value)"]
    tags: dict[str, str | None] = {}
    problems: list[str] = []
    for key, value in raw.items():
        if not isinstance(key, str) or not 1 <= len(key) <= 128:
            problems.append(f"{MATCH}.Tags: key {show(key)}: must be a string of 1-128 characters")
        elif value is not None and (not isinstance(value, str) or len(value) > 256):
            problems.append(f"{MATCH}.Tags.{key}={show(value)}: must be a string of at most 256 characters, or null")
        else:
            tags[key] = value
    return tags, problems


def _match_regions(raw: object) -> tuple[frozenset[str], list[str]]:
    if not isinstance(raw, list) or not raw:
        return frozenset(), [f"{MATCH}.Regions={show(raw)}: must be a non-empty list of region names"]
    wrong = [show(r) for r in raw if not isinstance(r, str) or not rules.is_region(r)]
    if wrong:
        return frozenset(), [f"{MATCH}.Regions: {', '.join(wrong[:5])}: not a region name (e.g. eu-west-1)"]
    return frozenset(raw), []


def _match(name: str, raw: object) -> tuple[Match, list[str]]:
    """`Match` narrows a pattern; a name or an ARN already says which trails it means."""
    if raw is None:
        return Match(), []
    if not is_pattern(name):
        return Match(), [f"{MATCH}: narrows a pattern (a Name with * or ?); a name or an ARN needs none"]
    if not isinstance(raw, Mapping) or not raw:
        return Match(), [f"{MATCH}={show(raw)}: must be an object with Tags and/or Regions"]
    problems = [
        f"{MATCH}.{shorten(str(k), 40)}: unknown key; known: {', '.join(MATCH_KEYS)}"
        for k in raw
        if k not in MATCH_KEYS
    ]
    tags, tag_problems = _match_tags(raw["Tags"]) if "Tags" in raw else ({}, [])
    regions, region_problems = _match_regions(raw["Regions"]) if "Regions" in raw else (frozenset(), [])
    return Match(MappingProxyType(tags), regions), problems + tag_problems + region_problems


def _log_pair(values: Mapping[str, Value]) -> str | None:
    declared = [k for k in (LOG_GROUP, LOG_ROLE) if k in values]
    if len(declared) == 1:
        other = LOG_ROLE if declared[0] == LOG_GROUP else LOG_GROUP
        return f"{declared[0]}: declare {other} with it (CloudTrail takes the log group and the role together)"
    if len(declared) == 2 and (values[LOG_GROUP] == "") != (values[LOG_ROLE] == ""):
        return f"{LOG_GROUP} and {LOG_ROLE}: set both, or clear both with ''"
    return None


def parse(props: object) -> Declaration:
    """Turn declared properties into a Declaration, or raise InvalidProperties listing every problem.

    >>> parse({"Name": "audit", "EnableLogFileValidation": "TRUE"}).settings["EnableLogFileValidation"]
    True
    >>> parse({"TrailName": "audit", "IsLogging": "true"}).aspects["logging"]
    True
    """
    if not isinstance(props, Mapping):
        raise InvalidProperties([f"properties must be an object, not {type(props).__name__}"])
    props, problems = _aliases(props)
    known = settings.table()
    name, name_problem = _name(props)
    problems += [name_problem] if name_problem else []
    owned = _owned()
    values: dict[str, Value] = {}
    for key, raw in props.items():
        if key == settings.NAME or key in settings.NOT_SETTINGS or key in owned or key in CONTROLS:
            continue
        row = known.get(key) if isinstance(key, str) else None
        if row is None:
            problems.append(_unknown(shorten(key, VALUE_LIMIT) if isinstance(key, str) else show(key)))
            continue
        value, problem = _coerce(row, raw)
        if problem:
            problems.append(problem)
        elif value is not None:
            values[key] = value
    pair_problem = _log_pair(values)
    if pair_problem:
        problems.append(pair_problem)
    declared: dict[str, object] = {}
    for aspect in aspects.OTHERS:
        desired, issues = aspect.parse(props)
        problems.extend(issues)
        if desired is not None:
            declared[aspect.name] = desired
    problems.extend(aspects.cross_check(declared))
    allowance, allow_problem = _allowance(props.get(guard.ALLOW))
    dry_run, dry_problem = boolean(DRY_RUN, props[DRY_RUN]) if DRY_RUN in props else (False, None)
    repair, repair_problem = (
        boolean(REPAIR_DELIVERY, props[REPAIR_DELIVERY]) if REPAIR_DELIVERY in props else (None, None)
    )
    problems += [p for p in (allow_problem, dry_problem, repair_problem) if p]
    match, match_problems = _match(name, props.get(MATCH))
    problems += match_problems
    if problems:
        raise InvalidProperties(problems)
    return Declaration(
        name, MappingProxyType(values), MappingProxyType(declared), allowance, bool(dry_run), match, repair
    )
