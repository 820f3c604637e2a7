"""Parse declared properties once, at the entry point, into a typed, frozen `Declaration`.

CloudFormation sends every scalar as a string ("true", "false"); the drift-fix state file may hold real
booleans. Both become Python values here and nowhere else. Every problem is collected before
anything is raised, so a person fixes a template in one pass; nothing here touches AWS.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from trailkeeper.errors import VALUE_LIMIT, InvalidProperties, shorten, show
from trailkeeper.trail import rules, settings
from trailkeeper.trail.settings import Setting, Value

LOG_GROUP, LOG_ROLE = "CloudWatchLogsLogGroupArn", "CloudWatchLogsRoleArn"


@dataclass(frozen=True)
class Declaration:
    """A trail (by name or ARN) and the settings declared for it; settings left out are not managed."""

    name: str
    settings: Mapping[str, Value] = field(default_factory=lambda: MappingProxyType({}))


def _coerce(row: Setting, raw: object) -> tuple[Value | None, str | None]:
    """The typed value of one property, or the problem with it."""
    if row.kind == "boolean":
        if isinstance(raw, bool):
            return raw, None
        if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
            return raw.strip().lower() == "true", None
        return None, f"{row.name}={show(raw)}: must be true or false"
    if not isinstance(raw, str):
        return None, f"{row.name}={show(raw)}: must be a string"
    if raw == "":
        if row.clearable:
            return "", None
        return None, f"{row.name}='': cannot be cleared ({row.rule}); leave it out to keep the current value"
    broken = row.check(raw) if row.check else None
    return (None, f"{row.name}={show(raw)}: {broken}") if broken else (raw, None)


def _unknown(key: str, known: Mapping[str, Setting]) -> str:
    close = difflib.get_close_matches(key, [settings.NAME, *known], n=1)
    hint = f"; did you mean {close[0]}?" if close else f"; known: {', '.join(sorted(known))}"
    return f"{key}: unknown property{hint}"


def _name(props: Mapping[str, object]) -> tuple[str, str | None]:
    raw = props.get(settings.NAME)
    if raw is None or raw == "":
        return "", "Name: required: the trail's name or ARN"
    if not isinstance(raw, str):
        return "", f"Name={show(raw)}: must be a string"
    broken = rules.trail_name_or_arn(raw)
    return raw, (f"Name={show(raw)}: {broken}" if broken else None)


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
    """
    if not isinstance(props, Mapping):
        raise InvalidProperties([f"properties must be an object, not {type(props).__name__}"])
    known = settings.table()
    name, name_problem = _name(props)
    problems = [name_problem] if name_problem else []
    values: dict[str, Value] = {}
    for key, raw in props.items():
        if key == settings.NAME or key in settings.NOT_SETTINGS:
            continue
        row = known.get(key)
        if row is None:
            problems.append(_unknown(shorten(key, VALUE_LIMIT) if isinstance(key, str) else show(key), known))
            continue
        value, problem = _coerce(row, raw)
        if problem:
            problems.append(problem)
        elif value is not None:
            values[key] = value
    pair_problem = _log_pair(values)
    if pair_problem:
        problems.append(pair_problem)
    if problems:
        raise InvalidProperties(problems)
    return Declaration(name, MappingProxyType(values))
