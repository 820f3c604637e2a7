"""A trail as a declaration: every aspect trailkeeper manages, in the form the engine compares. Pure.

`declare` turns a trail as DescribeTrails answered it, and the current value of each other aspect (as
the engine reads it: `engine.read_current`), into the properties of a declaration that plans nothing
against that trail. Nothing is normalised here: the settings come from `normalise.current_view` (key
ARNs, topic ARNs, every default filled in), the log group is given back its `:*` (`normalise.wire_value`,
as CloudTrail reads it and as it is sent), and selectors, Insights and tags are rendered by their own
modules' `to_doc`. The order is fixed (Name, the settings table's order, then the aspects' order in
`aspects.OTHERS`) and every list is sorted, so two exports of the same trails are the same text.

`with_fix` merges a declaration of the same trail (`audit --fix`'s) into an export, in the same form:
what `audit --fix --write-state` writes.

    >>> from trailkeeper.trail import selectors
    >>> trail = {"TrailARN": "arn:aws:cloudtrail:us-east-1:111122223333:trail/audit", "S3BucketName": "logs"}
    >>> current = {"logging": True, "selectors": selectors.DEFAULT, "insights": frozenset(), "tags": {}}
    >>> declared = declare(trail, current)
    >>> declared["Name"], declared["KmsKeyId"], declared["IsLogging"], declared["EventSelectors"]
    ('arn:aws:cloudtrail:us-east-1:111122223333:trail/audit', '', True, [{'ReadWriteType': 'All'}])
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from trailkeeper.trail import aspects, insights, selectors, settings, tags
from trailkeeper.trail.arns import TrailHome
from trailkeeper.trail.aspect import INSIGHT_SELECTORS, IS_LOGGING
from trailkeeper.trail.insights import INSIGHTS_ASPECT
from trailkeeper.trail.normalise import LOG_GROUP, current_view, desired_view, wire_value
from trailkeeper.trail.selector_aspect import SELECTORS_ASPECT
from trailkeeper.trail.settings import NAME
from trailkeeper.trail.status import LOGGING
from trailkeeper.trail.tags import TAGS_ASPECT, TAGS_PROPERTY


def _selectors(value: Any) -> dict[str, Any]:
    return {selectors.kind(value): selectors.to_doc(value)}  # basic or advanced, as the trail has them


def _tags(value: Any) -> dict[str, Any]:
    return {TAGS_PROPERTY: [{"Key": key, "Value": text} for key, text in tags.to_doc(value).items()]}


# Each aspect's current value as declared properties. tests/test_export.py holds this to aspects.OTHERS:
# an aspect added there without a line here fails, rather than being left out of every export.
RENDER: Mapping[str, Callable[[Any], dict[str, Any]]] = {
    LOGGING.name: lambda value: {IS_LOGGING: bool(value)},
    SELECTORS_ASPECT.name: _selectors,
    INSIGHTS_ASPECT.name: lambda value: {INSIGHT_SELECTORS: insights.to_doc(value)},
    TAGS_ASPECT.name: _tags,
}


def declare(trail: Mapping[str, Any], current: Mapping[str, object]) -> dict[str, Any]:
    """The declaration of `trail` as it is: Name (its ARN), every readable setting, every aspect in `current`.

    A setting CloudTrail does not report and has no known default is left out (it would not be managed).
    """
    arn = str(trail["TrailARN"])
    home = TrailHome.from_arn(arn)
    declared: dict[str, Any] = {NAME: arn}
    for name, value in current_view(trail).items():
        if value is None:
            continue
        declared[name] = wire_value(name, value, home) if name == LOG_GROUP else value
    for aspect in aspects.OTHERS:  # in their own order; an aspect not read is left out
        if aspect.name in current:
            declared.update(RENDER[aspect.name](current[aspect.name]))
    return declared


def with_fix(declared: Mapping[str, Any], fix: Mapping[str, Any]) -> dict[str, Any]:
    """`declared` (`declare`'s export of a trail) with `fix` (a declaration of the same trail) merged in.

    The result is in the export's form and order: a setting as `declare` writes it (a log group with its
    `:*`), an aspect rendered by `RENDER` in its place (selectors that change kind take the other kind's
    place). `fix` must be a valid declaration (`audit --fix` makes only those).

    >>> arn = "arn:aws:cloudtrail:us-east-1:111122223333:trail/audit"
    >>> declared = {"Name": arn, "EnableLogFileValidation": False, "IsLogging": False, "Tags": []}
    >>> merged = with_fix(declared, {"Name": arn, "IsLogging": True, "Tags": [{"Key": "b", "Value": "2"}]})
    >>> list(merged) == list(declared), merged["IsLogging"], merged["Tags"]
    (True, True, [{'Key': 'b', 'Value': '2'}])
    """
    if fix.get(NAME) != declared.get(NAME):
        raise ValueError(f"a fix of {fix.get(NAME)} cannot merge into the export of {declared.get(NAME)}")
    home = TrailHome.from_arn(str(declared[NAME]))
    table = settings.table()
    changed = {name: value for name, value in fix.items() if name != NAME and name in table}
    replaced = {
        name: wire_value(name, value, home) if name == LOG_GROUP else value
        for name, value in desired_view(changed, home).items()
    }
    rendered: dict[str, dict[str, Any]] = {}  # aspect -> its properties, for the aspects the fix declares
    owner = {prop: aspect.name for aspect in aspects.OTHERS for prop in aspect.properties}
    for aspect in aspects.OTHERS:
        value, problems = aspect.parse(fix)
        if problems:
            raise ValueError(f"the fix of {declared[NAME]} is not a valid declaration: {'; '.join(problems)}")
        if value is not None:
            rendered[aspect.name] = RENDER[aspect.name](value)
    merged: dict[str, Any] = {}
    for name, value in declared.items():
        if owner.get(name) in rendered:
            merged.update(rendered.pop(owner[name]))  # once, in the place of the aspect's first property
        elif name not in owner or owner[name] not in merged:
            merged[name] = replaced.pop(name, value)
    merged.update(replaced)  # a setting the export had left out (CloudTrail did not report it)
    for properties in rendered.values():
        merged.update(properties)
    return merged
