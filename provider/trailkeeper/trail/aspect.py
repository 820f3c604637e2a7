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
from types import MappingProxyType
from typing import Any, Protocol

from trailkeeper.typed_tuple import TypedTuple

# Write phases: the order that cannot fail halfway for a reason we could foresee. Logging stops first
# (nothing logs a half-weakened trail), UpdateTrail settles bucket and key, selectors that add management
# events go before Insights (Insights need them), selectors that remove them go after Insights are
# cleared, tags follow, and logging starts last (once everything it would log with is in place). When a
# write fails the others still run, except those that depend on it (`DEPENDENCIES`, below).
STOP_LOGGING, UPDATE_TRAIL, SELECTORS_ADDING, INSIGHTS, SELECTORS_REMOVING, TAGS, START_LOGGING = range(7)

# The aspects' property names, here rather than in the models that give them a meaning (`record.py`,
# `selectors.py`): a declaration's parse reads them, and a cold start loads those models only when an
# event first needs them.
IS_LOGGING = "IsLogging"
EVENT_SELECTORS, ADVANCED_EVENT_SELECTORS = "EventSelectors", "AdvancedEventSelectors"
INSIGHT_SELECTORS = "InsightSelectors"


class Change(TypedTuple):
    """One drifted property: what the trail has now (None: unknown) and what was declared (JSON-able)."""

    name: str
    current: Any
    desired: Any
    weakens: str | None = None  # the audit control this change would break, when it weakens audit
    moves: bool = False  # it moves audit logs elsewhere (another bucket, prefix, key or log group): not a weakening


class Call(TypedTuple):
    """One CloudTrail call, as data: its operation name (as in botocore's model) and its arguments."""

    operation: str
    arguments: Mapping[str, Any] = MappingProxyType({})
    phase: int = 0  # writes only: when it runs (see the phases above)
    properties: tuple[str, ...] = ()  # the declared properties this call changes


class Weakening(TypedTuple):
    """A change that takes something away from audit, in words a reviewer can act on."""

    property: str
    change: str  # e.g. "true -> false"
    control: str  # e.g. "Security Hub CloudTrail.4, CIS 4.2"

    def describe(self) -> str:
        return f"{self.property} {self.change} breaks {self.control}"


class Dependency(TypedTuple):
    """A write that is not attempted when an earlier write it needs failed (or was itself not attempted).

    When a write fails, every write that does not depend on it still runs: a trail half-repaired is
    better than a trail left as the failure found it, and StartLogging above all must not wait on
    writes it does not need. `sending` narrows the dependency to a failed write that was changing one
    of these properties (empty: whatever it was changing).
    """

    phase: int  # the write that waits
    needs: int  # the phase of the write it needs
    why: str  # said in the reason when the write is not attempted
    sending: frozenset[str] = frozenset()


# What depends on what, and nothing else does. Insights need the management events a selector write
# adds (a PutEventSelectors that removes none may be adding them: it is waited for, a false wait at
# worst), and a selector write that removes management events needs the Insights that watch them
# cleared first; CloudTrail would refuse both, so attempting them would only spend the write limit.
# StartLogging waits only for a failed UpdateTrail that was moving the logs back to the declared
# bucket: starting would deliver audit logs to a bucket (perhaps another account's) nobody declared.
# A failed prefix, key, topic or log group change does not stop it: the logs still land in the
# declared bucket, where the owner can read them, and a trail that is not logging records nothing at
# all, which is unrecoverable; the failure is reported for a person to fix.
DEPENDENCIES: tuple[Dependency, ...] = (
    Dependency(INSIGHTS, SELECTORS_ADDING, "Insights need the management events the selectors were adding"),
    Dependency(SELECTORS_REMOVING, INSIGHTS, "the Insights on those management events were not cleared"),
    Dependency(
        START_LOGGING,
        UPDATE_TRAIL,
        "logs would go to an undeclared bucket (the bucket was not put back)",
        frozenset({"S3BucketName"}),
    ),
)


def unmet_dependency(write: Call, missing: Sequence[Call]) -> tuple[Call, str] | None:
    """The write among `missing` (failed or not attempted) that `write` needs, and why; None if none.

    >>> bucket = Call("UpdateTrail", {}, UPDATE_TRAIL, ("S3BucketName",))
    >>> start = Call("StartLogging", {}, START_LOGGING)
    >>> unmet_dependency(start, [bucket])[1]
    'logs would go to an undeclared bucket (the bucket was not put back)'
    >>> unmet_dependency(start, [Call("UpdateTrail", {}, UPDATE_TRAIL, ("S3KeyPrefix",))]) is None
    True
    """
    for rule in DEPENDENCIES:
        if rule.phase != write.phase:
            continue
        for earlier in missing:
            if earlier.phase == rule.needs and (not rule.sending or rule.sending & set(earlier.properties)):
                return earlier, rule.why
    return None


class PropertyDoc(TypedTuple):
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
