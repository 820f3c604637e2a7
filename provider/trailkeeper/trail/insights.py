"""Insights: `InsightSelectors`, read with GetInsightSelectors, written with PutInsightSelectors. Pure.

`[]` turns Insights off. CloudTrail answers GetInsightSelectors with InsightNotEnabledException on a
trail without Insights (that means "none", not a failure), returns selectors in another order than
sent, and DescribeTrails' HasInsightSelectors already says whether there are any: when it is false,
no read is made. Removing an Insights type, or a category it watches, loses CloudTrail's anomaly
detection, which weakens audit (`record.py`, the dimension "Insights").

The types and categories a declaration may name are botocore's enums. A read-back is parsed leniently:
a type or a category this code does not know (AWS adds them) is kept as it was read, never taken as
"no Insights", so the guard sees a write that would drop it.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from trailkeeper import botocore_model as model
from trailkeeper.errors import show
from trailkeeper.trail.aspect import INSIGHT_SELECTORS, INSIGHTS, Call, Change, PropertyDoc, Weakening
from trailkeeper.trail.values import string_list, unknown_keys


@cache
def _enum(member: str) -> tuple[str, ...]:
    """The values botocore's InsightSelector shape allows for `member` (a list's items for EventCategories);
    looked up when first needed, so importing this module does not load the model."""
    shape = model.cloudtrail_model().shape_for("InsightSelector").members[member]
    return tuple(getattr(shape, "member", shape).enum)


def known_types() -> tuple[str, ...]:
    """The Insights types a declaration may name: ApiCallRateInsight, ApiErrorRateInsight today."""
    return _enum("InsightType")


def known_categories() -> tuple[str, ...]:
    """The event categories an Insights type may watch: Management, Data today."""
    return _enum("EventCategories")


# One insight: its type and the event categories it watches beyond management (empty: CloudTrail's default).
Insight = tuple[str, frozenset[str]]
Insights = frozenset[Insight]  # record.InsightSet: the model compares these


def _insight(index: int, raw: object) -> tuple[Insight | None, list[str]]:
    path = f"{INSIGHT_SELECTORS}[{index}]"
    if not isinstance(raw, dict):
        return None, [f"{path}={show(raw)}: must be an object with InsightType"]
    problems = unknown_keys(path, raw, ("InsightType", "EventCategories"))
    kind = raw.get("InsightType")
    if kind not in known_types():
        problems.append(f"{path}.InsightType={show(kind)}: must be {' or '.join(known_types())}")
    categories: list[str] = []
    if "EventCategories" in raw:
        listed, problem = string_list(f"{path}.EventCategories", raw["EventCategories"], len(known_categories()))
        if problem:
            problems.append(problem)
        else:
            categories = listed or []
            problems.extend(
                f"{path}.EventCategories: {show(c)} must be {' or '.join(known_categories())}"
                for c in categories
                if c not in known_categories()
            )
    if problems:
        return None, problems
    # Management is what CloudTrail assumes when no category is given: the two forms compare equal.
    return (str(kind), frozenset(categories) - {"Management"}), []


def parse_list(raw: object) -> tuple[Insights | None, list[str]]:
    if not isinstance(raw, list):
        return None, [f"{INSIGHT_SELECTORS}={show(raw)}: must be a list ([] turns Insights off)"]
    if len(raw) > len(known_types()):
        return None, [f"{INSIGHT_SELECTORS}: {len(raw)} selectors; at most {len(known_types())} (one per InsightType)"]
    found: list[Insight] = []
    problems: list[str] = []
    for index, item in enumerate(raw):
        insight, issues = _insight(index, item)
        problems.extend(issues)
        if insight is not None:
            if any(kind == insight[0] for kind, _ in found):
                problems.append(f"{INSIGHT_SELECTORS}[{index}]: {insight[0]} is declared twice")
            found.append(insight)
    return (None, problems) if problems else (frozenset(found), [])


def from_read(raw: object) -> Insights:
    """A GetInsightSelectors answer's selectors, everything read kept: a type or category this code does not
    know stays as read (present, never "none"); selectors of one type are merged.

    >>> sorted(from_read([{"InsightType": "ApiCallRateInsight", "EventCategories": ["Management", "Future"]}]))
    [('ApiCallRateInsight', frozenset({'Future'}))]
    """
    merged: dict[str, set[str]] = {}
    for item in raw if isinstance(raw, list) else [raw]:
        if not isinstance(item, Mapping):
            merged.setdefault(show(item), set())  # unreadable: kept by what it shows, so its loss is seen
            continue
        categories = item.get("EventCategories") or []
        listed = categories if isinstance(categories, list) else [categories]
        merged.setdefault(str(item.get("InsightType")), set()).update(str(c) for c in listed)
    return frozenset((kind, frozenset(categories) - {"Management"}) for kind, categories in merged.items())


def needs(insights: Insights) -> tuple[bool, bool]:
    """(needs write management events, needs read or write management events) for these Insights."""
    kinds = {kind for kind, _ in insights}
    return "ApiCallRateInsight" in kinds, "ApiErrorRateInsight" in kinds


def to_doc(insights: Insights) -> list[dict[str, Any]]:
    """The declared shape, sorted: [{"InsightType": ..., "EventCategories": [...]}]."""
    docs: list[dict[str, Any]] = []
    for kind, categories in sorted(insights, key=lambda i: i[0]):
        doc: dict[str, Any] = {"InsightType": kind}
        if categories:
            doc["EventCategories"] = sorted(categories | {"Management"})
        docs.append(doc)
    return docs


class InsightsAspect:
    name: str = "insights"
    properties: tuple[str, ...] = (INSIGHT_SELECTORS,)
    permissions: tuple[str, ...] = ("cloudtrail:GetInsightSelectors", "cloudtrail:PutInsightSelectors")
    docs: tuple[PropertyDoc, ...] = (
        PropertyDoc(
            INSIGHT_SELECTORS,
            "list",
            "[{InsightType: ApiCallRateInsight|ApiErrorRateInsight, EventCategories?: [Management|Data]}], "
            "each type once; [] turns Insights off",
            "CloudTrail Insights (PutInsightSelectors); compared as a set. Removing one weakens audit.",
        ),
    )
    absent_when: frozenset[str] = frozenset({"InsightNotEnabledException"})

    def parse(self, props: Mapping[str, object]) -> tuple[object | None, list[str]]:
        if INSIGHT_SELECTORS not in props:
            return None, []
        return parse_list(props[INSIGHT_SELECTORS])

    def known(self, trail: Mapping[str, Any]) -> object | None:
        # DescribeTrails says when there are none; only a trail with Insights needs a read.
        return frozenset() if trail.get("HasInsightSelectors") is False else None

    def read(self, trail_arn: str) -> Call:
        return Call("GetInsightSelectors", {"TrailName": trail_arn})

    def current(self, answer: Mapping[str, Any] | None, error_code: str | None) -> object:
        if error_code or answer is None:
            return frozenset()
        return from_read(answer.get("InsightSelectors") or [])

    def changes(self, desired: Any, current: Any) -> list[Change]:
        if desired == current:
            return []
        from trailkeeper.trail import record  # the model of what a trail records, loaded when first asked

        weakens = record.control_of(self.weakenings(desired, current))
        return [Change(INSIGHT_SELECTORS, to_doc(current), to_doc(desired), weakens)]

    def writes(self, desired: Any, current: Any, trail_arn: str) -> list[Call]:
        if desired == current:
            return []
        return [
            Call(
                "PutInsightSelectors",
                {"TrailName": trail_arn, "InsightSelectors": to_doc(desired)},
                INSIGHTS,
                (INSIGHT_SELECTORS,),
            )
        ]

    def weakenings(self, desired: Any, current: Any) -> list[Weakening]:
        from trailkeeper.trail import record

        return record.weakenings(record.Record.of(insights=current), record.Record.of(insights=desired))


INSIGHTS_ASPECT = InsightsAspect()
