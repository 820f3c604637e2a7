"""Whether a trail is logging: `IsLogging`, read with GetTrailStatus, written with StartLogging/StopLogging. Pure.

Stopping logging is an attacker's first move (MITRE ATT&CK T1562.008): true -> false weakens audit
(`record.py`, the dimension "logging", says so for the guard).
StopLogging runs first among the writes (nothing is logged half-changed), StartLogging last.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trailkeeper.trail.aspect import IS_LOGGING, START_LOGGING, STOP_LOGGING, Call, Change, PropertyDoc, Weakening
from trailkeeper.trail.values import boolean


class Logging:
    name: str = "logging"
    properties: tuple[str, ...] = (IS_LOGGING,)
    permissions: tuple[str, ...] = ("cloudtrail:GetTrailStatus", "cloudtrail:StartLogging", "cloudtrail:StopLogging")
    docs: tuple[PropertyDoc, ...] = (
        PropertyDoc(
            IS_LOGGING,
            "boolean",
            "true or false",
            "Whether the trail logs (StartLogging / StopLogging); read with GetTrailStatus. "
            "true -> false weakens audit.",
        ),
    )
    absent_when: frozenset[str] = frozenset()

    def parse(self, props: Mapping[str, object]) -> tuple[object | None, list[str]]:
        if IS_LOGGING not in props:
            return None, []
        value, problem = boolean(IS_LOGGING, props[IS_LOGGING])
        return value, [problem] if problem else []

    def known(self, trail: Mapping[str, Any]) -> object | None:
        return None  # DescribeTrails does not say whether a trail is logging

    def read(self, trail_arn: str) -> Call:
        return Call("GetTrailStatus", {"Name": trail_arn})  # the ARN: a shadow's status needs it

    def current(self, answer: Mapping[str, Any] | None, error_code: str | None) -> object:
        return bool((answer or {}).get("IsLogging", False))

    def changes(self, desired: Any, current: Any) -> list[Change]:
        if desired == current:
            return []
        from trailkeeper.trail import record  # the model of what a trail records, loaded when first asked

        return [Change(IS_LOGGING, current, desired, record.control_of(self.weakenings(desired, current)))]

    def writes(self, desired: Any, current: Any, trail_arn: str) -> list[Call]:
        if desired == current:
            return []
        if desired:
            return [Call("StartLogging", {"Name": trail_arn}, START_LOGGING, (IS_LOGGING,))]
        return [Call("StopLogging", {"Name": trail_arn}, STOP_LOGGING, (IS_LOGGING,))]

    def weakenings(self, desired: Any, current: Any) -> list[Weakening]:
        from trailkeeper.trail import record

        return record.weakenings(record.Record.of(logging=current), record.Record.of(logging=desired))


LOGGING = Logging()
