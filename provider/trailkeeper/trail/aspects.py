"""Every aspect of a trail trailkeeper manages, in one list: the engine, the docs, IAM and the tests iterate over it.

The UpdateTrail settings are the first aspect (their table is `settings.py`; the engine reads them from
DescribeTrails and resolves KMS aliases before comparing). The others are described by objects that
follow `aspect.Aspect`: adding an aspect means adding its description here, and its tests.
"""

from __future__ import annotations

from collections.abc import Mapping

from trailkeeper.trail import insights
from trailkeeper.trail.aspect import Aspect
from trailkeeper.trail.insights import INSIGHTS_ASPECT
from trailkeeper.trail.selector_aspect import SELECTORS_ASPECT
from trailkeeper.trail.status import LOGGING
from trailkeeper.trail.tags import TAGS_ASPECT

SETTINGS_PERMISSIONS = ("cloudtrail:UpdateTrail",)
OTHERS: tuple[Aspect, ...] = (LOGGING, SELECTORS_ASPECT, INSIGHTS_ASPECT, TAGS_ASPECT)
BY_NAME: Mapping[str, Aspect] = {aspect.name: aspect for aspect in OTHERS}


def cross_check(declared: Mapping[str, object]) -> list[str]:
    """Rules between aspects that can be checked offline: Insights need the management events they watch."""
    chosen, wanted = declared.get(SELECTORS_ASPECT.name), declared.get(INSIGHTS_ASPECT.name)
    if chosen is None or not isinstance(wanted, frozenset):
        return []
    from trailkeeper.trail import events, selectors  # declared selectors: loaded by their parse already

    if not isinstance(chosen, selectors.Selectors):
        return []
    coverage = events.management_coverage(chosen)
    needs_writes, needs_any = insights.needs(wanted)
    problems = []
    if needs_writes and not coverage.writes:
        problems.append("InsightSelectors: ApiCallRateInsight needs the event selectors to log write management events")
    if needs_any and not (coverage.reads or coverage.writes):
        problems.append("InsightSelectors: ApiErrorRateInsight needs the event selectors to log management events")
    return problems
