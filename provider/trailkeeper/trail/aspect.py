"""What every aspect of a trail has in common: how a difference, a call and a weakening are described. Pure.

A trail has several aspects that CloudTrail reads and writes through separate calls: its UpdateTrail
settings, whether it is logging, its event selectors, its Insights and its tags. Each aspect is
described once (`trail/aspects.py` lists them), and the engine iterates over the declared ones:

- `parse` turns the declared properties into a desired value in compare form (None: not declared);
- `known` gives the current value when DescribeTrails already answers it (no read needed), and
  `read`/`current` describe the one read that answers it otherwise;
- `changes`, `writes` and `weakenings` compare the two and say what to show, what to send, and what
  the change would take away from audit (the aspect asks the model of what a trail records,
  `trail/record.py`: no aspect keeps its own list).

Calls are described as data (`Call`): the AWS edge (`trailkeeper.engine`) executes them, so nothing
here touches AWS.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

# Write phases: the order that cannot fail halfway for a reason we could foresee. Logging stops first
# (nothing logs a half-weakened trail), UpdateTrail settles bucket and key, selectors that add management
# events go before Insights (Insights need them), selectors that remove them go after Insights are
# cleared, tags follow, and logging starts last (once everything it would log with is in place).
STOP_LOGGING, UPDATE_TRAIL, SELECTORS_ADDING, INSIGHTS, SELECTORS_REMOVING, TAGS, START_LOGGING = range(7)


@dataclass(frozen=True)
class Change:
    """One drifted property: what the trail has now (None: unknown) and what was declared (JSON-able)."""

    name: str
    current: Any
    desired: Any
    weakens: str | None = None  # the audit control this change would break, when it weakens audit
    moves: bool = False  # it moves audit logs elsewhere (another bucket, prefix, key or log group): not a weakening


@dataclass(frozen=True)
class Call:
    """One CloudTrail call, as data: its operation name (as in botocore's model) and its arguments."""

    operation: str
    arguments: Mapping[str, Any] = field(default_factory=dict)
    phase: int = 0  # writes only: when it runs (see the phases above)
    properties: tuple[str, ...] = ()  # the declared properties this call changes


@dataclass(frozen=True)
class Weakening:
    """A change that takes something away from audit, in words a reviewer can act on."""

    property: str
    change: str  # e.g. "true -> false"
    control: str  # e.g. "Security Hub CloudTrail.4, CIS 3.2"

    def describe(self) -> str:
        return f"{self.property} {self.change} breaks {self.control}"


@dataclass(frozen=True)
class PropertyDoc:
    """One row of the property reference (docs/properties.md)."""

    name: str
    type: str
    rule: str
    description: str


class Aspect(Protocol):
    """The description of one aspect; see the module docstring for the life of a declared value."""

    name: str
    properties: tuple[str, ...]  # the declared properties this aspect owns
    permissions: tuple[str, ...]  # the IAM actions its read and writes need
    docs: tuple[PropertyDoc, ...]
    absent_when: frozenset[str]  # error codes of the read that mean "none" (GetInsightSelectors' InsightNotEnabled)

    def parse(self, props: Mapping[str, object]) -> tuple[object | None, list[str]]: ...

    def known(self, trail: Mapping[str, Any]) -> object | None: ...

    def read(self, trail_arn: str) -> Call: ...

    def current(self, answer: Mapping[str, Any] | None, error_code: str | None) -> object: ...

    def changes(self, desired: Any, current: Any) -> list[Change]: ...

    def writes(self, desired: Any, current: Any, trail_arn: str) -> list[Call]: ...

    def weakenings(self, desired: Any, current: Any) -> list[Weakening]: ...


def changed_names(changes: Sequence[Change]) -> list[str]:
    """The distinct property names of `changes`, in order."""
    return list(dict.fromkeys(change.name for change in changes))


def show_value(value: object, limit: int = 60) -> str:
    """A value as a table cell: booleans in lower case, '' for empty, lists and objects as short JSON."""
    if value is None:
        return "?"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value if value else "''"
    text = json.dumps(value, separators=(",", ":"), sort_keys=True)
    return text if len(text) <= limit else text[: limit - 3] + "..."
