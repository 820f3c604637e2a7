"""Which trails a declared state covers, and what each one is declared to be. Pure: no AWS.

A declaration's `Name` is one of three things:
- an ARN: that one trail, read in the region the ARN names;
- a name: every trail of that name, in every region scanned. Single-region trails of one name in
  different regions are different trails, each matched; a multi-region trail is matched once, where it
  is homed (its copies in other regions, "shadows", are the same trail). When its home region is not
  scanned (`--region` left it out) its shadow stands for it, as a name always found it;
- a pattern (`*`, `?`): every trail seen in its home region whose name matches, narrowed by `Match`
  (the tags it must carry, the home regions it may have). Shadows are never matched, and an
  organization trail of another account (a copy only its owner may change) is noted, never failed; a
  name or an ARN that names one goes to the engine, which refuses it (NotChangeableHere) unless this
  account is CloudTrail's delegated administrator, and an organization run turns that refusal into the
  same note. From the delegated administrator (`delegated`), the organization's trails are matched as
  the account's own.

The regions read follow from the declarations (`regions_to_read`): none that no declaration can match.
A trail matched by several declarations takes the union of their properties (`layer`); two that give
one property different values are a conflict, named with both declarations, before anything is written.

The drift-fix pipelines, and `export` and `audit` after them, read trails with `aws/locate.scan` and
decide here which declarations cover which trail: one implementation, shared.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from types import MappingProxyType
from typing import Any, cast

from trailkeeper.errors import TrailkeeperError, show
from trailkeeper.trail import arns, aspects, guard, standing
from trailkeeper.trail.declaration import Declaration
from trailkeeper.trail.normalise import KMS, LOG_GROUP, SNS, desired_view, kms_key_arn
from trailkeeper.trail.selector_aspect import property_of
from trailkeeper.trail.selectors import Selectors
from trailkeeper.trail.settings import Value
from trailkeeper.trail.tags import TAGS_ASPECT

Trail = Mapping[str, Any]
Tags = Mapping[str, str]


def home_region(trail: Trail) -> str:
    return str(trail.get("HomeRegion") or arns.region_of(str(trail["TrailARN"])))


def label(index: int, declared: Declaration) -> str:
    """How a report and an error name a declaration: its place in the file and its Name."""
    return f"trails[{index}] ({declared.name})"


def needs_region_list(declarations: Iterable[Declaration]) -> bool:
    """Whether the enabled regions must be listed: only names and patterns look beyond one region."""
    return any(not d.name.startswith("arn:") for d in declarations)


def regions_to_read(declarations: Iterable[Declaration], scanned: Sequence[str]) -> list[str]:
    """The regions whose trails some declaration can match, in the order scanned (then the ARNs')."""
    wanted: set[str] = set()
    for declared in declarations:
        if declared.name.startswith("arn:"):
            wanted.add(arns.region_of(declared.name))
        elif declared.is_pattern and declared.match.regions:
            wanted.update(r for r in scanned if r in declared.match.regions)
        else:
            wanted.update(scanned)
    ordered = [r for r in scanned if r in wanted]
    return ordered + sorted(wanted.difference(ordered))


@dataclass(frozen=True)
class Seen:
    """Every trail of a run once, from the DescribeTrails answers of the regions read."""

    trails: Mapping[str, Trail]  # ARN -> the trail, as its home region (or else a shadow) answered it
    at_home: frozenset[str]  # ARNs seen in their home region
    home_read: frozenset[str] = frozenset()  # ARNs whose home region was to be read (even if that read failed)

    @classmethod
    def from_answers(cls, answers: Mapping[str, Sequence[Trail]], attempted: Iterable[str] = ()) -> Seen:
        """The trails of the regions read; `attempted` also names the regions whose read failed."""
        trails: dict[str, Trail] = {}
        at_home: set[str] = set()
        for region, listed in answers.items():
            for trail in listed:
                arn = str(trail["TrailARN"])
                if home_region(trail) == region:
                    trails[arn] = trail
                    at_home.add(arn)
                else:
                    trails.setdefault(arn, trail)
        tried = set(attempted) | set(answers)
        home_read = frozenset(arn for arn, trail in trails.items() if home_region(trail) in tried)
        return cls(MappingProxyType(trails), frozenset(at_home), home_read)


def owned_elsewhere(trail: Trail, caller_account: str | None, delegated: bool = False) -> bool:
    """An organization trail of another account, seen here as a copy only its owner (or CloudTrail's delegated
    administrator: `delegated`, this account is it) may change."""
    return not delegated and standing.is_foreign_organization_trail(trail, caller_account)


def _by_name_and_region(declared: Declaration, trail: Trail) -> bool:
    if declared.name.startswith("arn:"):
        return str(trail["TrailARN"]) == declared.name
    if not declared.is_pattern:
        return trail.get("Name") == declared.name
    if declared.match.regions and home_region(trail) not in declared.match.regions:
        return False
    return fnmatchcase(str(trail.get("Name", "")), declared.name)


def may_cover(declared: Declaration, *, region: str, account: str | None, trail: str) -> bool:
    """Could `declared` cover the trail a CloudTrail event names (`trail`: a name or an ARN) in `region`?

    Every call that changes a trail is made in its home region, so the event's region is the trail's
    home: an ARN declaration covers it only with the same region, account and name (a trail of the same
    name elsewhere is another trail). A pattern's tags are checked on the trail itself, later.
    """
    name = trail.split(":trail/", 1)[-1]
    if trail.startswith("arn:"):
        region, account = arns.region_of(trail), arns.account_of(trail)
    if declared.name.startswith("arn:"):
        home = arns.TrailHome.from_arn(declared.name)
        return home.region == region and home.name == name and (not account or home.account == account)
    if not declared.is_pattern:
        return declared.name == name
    if declared.match.regions and region not in declared.match.regions:
        return False
    return fnmatchcase(name, declared.name)


def _candidate(declared: Declaration, arn: str, seen: Seen) -> bool:
    """Patterns look at trails seen at home only; a name also at a shadow whose home region was not
    scanned (a home region whose read failed is reported as such, not stood in for)."""
    return arn in seen.at_home or (not declared.is_pattern and arn not in seen.home_read)


def tags_needed(
    declarations: Sequence[Declaration],
    seen: Seen,
    caller_account: str | None,
    delegated: bool = False,
    only: Callable[[Trail], bool] | None = None,
) -> list[str]:
    """The ARNs whose tags decide a match: those a pattern with Match.Tags matches by name and region.

    Trails owned elsewhere are left out (their tags are not this account's to read, and they are never
    changed here), unless this account is CloudTrail's delegated administrator (`delegated`); so are the
    trails `only` refuses, which `match` would drop (an event's repair reads the tags of its one trail).
    """
    tagged = [d for d in declarations if d.is_pattern and d.match.tags]
    return sorted(
        arn
        for arn, trail in seen.trails.items()
        if arn in seen.at_home
        and (only is None or only(trail))
        and not owned_elsewhere(trail, caller_account, delegated)
        and any(_by_name_and_region(d, trail) for d in tagged)
    )


def _tags_match(wanted: Mapping[str, str | None], tags: Tags | None) -> bool:
    if tags is None:
        return False
    return all(key in tags and (value is None or tags[key] == value) for key, value in wanted.items())


@dataclass(frozen=True)
class Matched:
    """One trail and the declarations that cover it (indexes into the state, in order)."""

    trail: Trail
    declarations: tuple[int, ...]


@dataclass(frozen=True)
class Matching:
    trails: tuple[Matched, ...]
    missing: tuple[int, ...] = ()  # names and ARNs that matched no trail
    unmatched_patterns: tuple[int, ...] = ()
    not_owned: tuple[str, ...] = ()  # ARNs of organization trails owned by another account


def match(
    declarations: Sequence[Declaration],
    seen: Seen,
    *,
    caller_account: str | None,
    tags: Mapping[str, Tags] | None = None,
    only: Callable[[Trail], bool] | None = None,
    delegated: bool = False,
) -> Matching:
    """Which declarations cover which trail. `tags` holds the trails `tags_needed` named; `only` keeps
    the trails it accepts (the event-driven repair: the one trail an event names); `delegated`: this account
    is CloudTrail's delegated administrator, so the organization's trails are covered as its own."""
    tags = tags or {}
    covered: dict[str, list[int]] = {}
    hits = [0] * len(declarations)
    not_owned: set[str] = set()
    # Indexed by ARN and by name: a state of thousands of ARNs against thousands of trails stays linear.
    by_key: dict[str, list[int]] = {}
    patterns: list[int] = []
    for index, declared in enumerate(declarations):
        if declared.is_pattern:
            patterns.append(index)
        else:
            by_key.setdefault(declared.name, []).append(index)
    for arn, trail in sorted(seen.trails.items(), key=lambda item: (home_region(item[1]), item[0])):
        if only is not None and not only(trail):
            continue
        candidates = sorted([*by_key.get(arn, ()), *by_key.get(str(trail.get("Name", "")), ()), *patterns])
        for index in candidates:
            declared = declarations[index]
            if not _candidate(declared, arn, seen) or not _by_name_and_region(declared, trail):
                continue
            if declared.is_pattern and declared.match.tags and not _tags_match(declared.match.tags, tags.get(arn)):
                continue
            hits[index] += 1
            if owned_elsewhere(trail, caller_account, delegated) and declared.is_pattern:
                not_owned.add(arn)  # reported once, never failed: only its owner can change it
                continue
            covered.setdefault(arn, []).append(index)
    matched = tuple(Matched(seen.trails[arn], tuple(indexes)) for arn, indexes in covered.items())
    missing = tuple(i for i, d in enumerate(declarations) if not hits[i] and not d.is_pattern)
    unmatched = tuple(i for i, d in enumerate(declarations) if not hits[i] and d.is_pattern)
    return Matching(matched, missing, unmatched, tuple(sorted(not_owned - set(covered))))


# --- layers ------------------------------------------------------------------------------------------


def _aspect_property(name: str, desired: object) -> str:
    if isinstance(desired, Selectors):
        return property_of(desired)
    return aspects.BY_NAME[name].properties[0]


def _declared_parts(declared: Declaration) -> dict[str, tuple[str, object]]:
    """What one declaration declares: setting or aspect name -> (the property as declared, its value)."""
    found: dict[str, tuple[str, object]] = {name: (name, value) for name, value in declared.settings.items()}
    for name, desired in declared.aspects.items():
        found[name] = (_aspect_property(name, desired), desired)
    return found


def _allows(declared: Declaration, prop: str) -> bool:
    allowance = declared.allow_weakening
    return allowance is True or (isinstance(allowance, frozenset) and prop in allowance)


@dataclass(frozen=True)
class Layered:
    """A trail's declarations merged into one, or the conflicts that forbid it."""

    declaration: Declaration | None
    conflicts: tuple[str, ...] = ()
    sources: Mapping[str, tuple[int, ...]] = field(default_factory=dict)  # property -> declaring indexes


# An alias (name or ARN) -> the key ARN it names in the trail's home region (the engine's DescribeKey,
# memoised); raises TrailkeeperError when KMS cannot say.
KeyLookup = Callable[[str], str]


def _alias(value: object) -> bool:
    return isinstance(value, str) and (value.startswith("alias/") or ":alias/" in value)


def _compare_form(part: str, value: object, home: arns.TrailHome) -> object:
    """A declared setting as the engine compares it, where no call is needed: a topic name as its ARN, a log
    group without `:*`, a key id as its ARN (an alias needs KMS: `_same`)."""
    if part in (SNS, LOG_GROUP) and isinstance(value, str):
        return desired_view({part: value}, home)[part]
    if part == KMS and isinstance(value, str) and not _alias(value):
        return kms_key_arn(value, None, home, lambda alias: alias)
    return value


def _same(part: str, first: object, second: object, home: arns.TrailHome, key_arn: KeyLookup | None) -> str | None:
    """None when two layers' values of `part` are one value to the engine; else what tells them apart (a
    note, '' when the values say it themselves)."""
    ours, theirs = _compare_form(part, first, home), _compare_form(part, second, home)
    if ours == theirs:
        return None
    if part != KMS or key_arn is None or not (_alias(ours) or _alias(theirs)):
        return ""
    try:
        resolved = [key_arn(str(v)) if _alias(v) else v for v in (ours, theirs)]
    except TrailkeeperError as error:
        looked_up = str(ours if _alias(ours) else theirs)
        return f"; {looked_up} could not be looked up to compare: {error.reason}"
    if resolved[0] == resolved[1]:
        return None
    return "; " + ", ".join(f"{v} is the key {r}" for v, r in zip((ours, theirs), resolved, strict=True) if _alias(v))


def _merge_tags(first: Mapping[str, str], second: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """Tags of two layers are one set: each key once; a key given two values is the only conflict."""
    merged = dict(first)
    clashes = []
    for key, value in second.items():
        if key in merged and merged[key] != value:
            clashes.append(f"{key}: {show(merged[key])} vs {show(value)}")
        else:
            merged[key] = value
    return merged, clashes


def layer(
    declarations: Sequence[Declaration],
    indexes: Sequence[int],
    trail_arn: str,
    numbers: Sequence[int] | None = None,
    key_arn: KeyLookup | None = None,
) -> Layered:
    """The union of the declarations at `indexes` for one trail.

    Each property keeps its declared value; the same value twice is no conflict, two values are (event
    selectors declared basic in one layer and advanced in another are two values of one aspect). Values
    are compared as the engine compares them: a topic by name or ARN, a log group with or without `:*`, a
    key by id, alias or ARN (an alias looked up with `key_arn`, the engine's own DescribeKey, memoised, so
    the run makes it once) are one value; the first layer's spelling is kept. Tags of several layers are
    one set: only a key given two values conflicts.
    AllowWeakening applies to what its own declaration declares: a property may weaken audit only when
    every declaration that declares it allows that. DryRun in any layer makes the trail's run a dry run.
    `numbers` are the declarations' places in the state file, for the conflicts' words (default: their index).
    """
    if len(indexes) == 1:
        only = declarations[indexes[0]]
        return Layered(only, (), {prop: (indexes[0],) for prop, _ in _declared_parts(only).values()})
    home = arns.TrailHome.from_arn(trail_arn)
    values: dict[str, tuple[str, object]] = {}
    sources: dict[str, list[int]] = {}
    conflicts: list[str] = []

    def at(index: int) -> int:
        return numbers[index] if numbers is not None else index

    def conflict(part: str, index: int, prop: str, shown: str) -> None:
        first = sources[part][0]
        conflicts.append(
            f"{label(at(first), declarations[first])} and {label(at(index), declarations[index])} both match "
            f"{trail_arn} and declare {values[part][0]}{'' if prop == values[part][0] else '/' + prop} "
            f"differently{shown}: give it one value, or narrow one of them"
        )

    for index in indexes:
        for part, (prop, value) in _declared_parts(declarations[index]).items():
            if part not in values:
                values[part], sources[part] = (prop, value), [index]
                continue
            if part == TAGS_ASPECT.name and isinstance(value, Mapping):
                tags, clashes = _merge_tags(cast(Tags, values[part][1]), value)
                if clashes:
                    conflict(part, index, prop, f" ({'; '.join(clashes)})")
                    continue
                values[part] = (prop, tags)
            elif prop != values[part][0]:
                conflict(part, index, prop, _values(values[part][1], value))
                continue
            else:
                why = _same(part, values[part][1], value, home, key_arn)
                if why is not None:
                    conflict(part, index, prop, _values(values[part][1], value, why))
                    continue
            sources[part].append(index)
    settings = {
        part: cast(Value, value)
        for part, (prop, value) in values.items()
        if part == prop and part not in aspects.BY_NAME
    }
    parts = {part: value for part, (_, value) in values.items() if part in aspects.BY_NAME}
    conflicts += [f"{trail_arn}, declared by {len(indexes)} declarations: {p}" for p in aspects.cross_check(parts)]
    if conflicts:
        return Layered(None, tuple(conflicts))
    by_property = {values[part][0]: tuple(declaring) for part, declaring in sources.items()}
    allowed = frozenset(
        prop
        for prop, declaring in by_property.items()
        if prop in guard.weakenable() and all(_allows(declarations[i], prop) for i in declaring)
    )
    merged = Declaration(
        trail_arn,
        MappingProxyType(settings),
        MappingProxyType(parts),
        allowed,
        any(declarations[i].dry_run for i in indexes),
    )
    return Layered(merged, (), by_property)


def _values(first: object, second: object, note: str = "") -> str:
    """The two values, when they are short enough to read in one line (settings are), and `note`."""
    if isinstance(first, str | bool) and isinstance(second, str | bool):
        return f" ({show(first)} vs {show(second)}{note})"
    return ""
