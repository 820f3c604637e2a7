"""What both tools are given in the peer benchmark, derived from one baseline: trailkeeper's state files
(by ARN, by name, by one pattern), Cloud Custodian's policies, the c7n-org accounts.yml both read, and
the call limits trailkeeper is held to. Pure: no AWS, no process.

The baseline is what every trail of the world must end with; each trail starts without it (the drift).
Custodian's policies are written the way its documentation shows (`aws.cloudtrail`, `is-shadow: false`,
a value filter per drifted setting, `update-trail` and `set-logging`); the DescribeTrails field each
setting is read back from comes from trailkeeper's own table of settings, so the two tools compare
the same fields.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from trailkeeper.trail import settings

# UpdateTrail settings, plus IsLogging (StartLogging): the drift every trail starts with.
BASELINE: Mapping[str, Any] = {"EnableLogFileValidation": True, "S3KeyPrefix": "fleet", "IsLogging": True}
LOGGING = "IsLogging"  # not an UpdateTrail setting: GetTrailStatus reads it, Start/StopLogging write it

Mode = Literal["ARN", "name", "pattern"]
MODES: tuple[Mode, ...] = ("ARN", "name", "pattern")
PATTERN = "*"  # every trail of every scanned region (issue 16's patterns)


def trailkeeper_state(mode: Mode, trail_arns: Sequence[str], baseline: Mapping[str, Any] = BASELINE) -> dict[str, Any]:
    """The world declared one way: every trail by its ARN, each name once (found in every region), or `*`."""
    if mode == "ARN":
        names: list[str] = list(trail_arns)
    elif mode == "name":
        names = sorted({arn.rsplit("/", 1)[-1] for arn in trail_arns})
    else:
        names = [PATTERN]
    return {"trails": [{"Name": name, **baseline} for name in names]}


def _differs(key: str, value: Any) -> dict[str, Any]:
    return {"type": "value", "key": key, "op": "ne", "value": value}


def _not_shadow() -> dict[str, Any]:
    # A copy per policy: one shared dict would be written as a YAML anchor and alias.
    return {"type": "is-shadow", "state": False}


def custodian_policies(baseline: Mapping[str, Any] = BASELINE) -> dict[str, Any]:
    """Custodian's policies for the baseline: one `update-trail` for the settings, one `set-logging`.

    A trail is matched when any declared setting differs from its DescribeTrails field; the action then
    sends every declared setting (update-trail's attributes are fixed per policy).
    """
    table = settings.table()
    attributes = {name: value for name, value in baseline.items() if name != LOGGING}
    differs = [_differs(str(table[name].read_as), value) for name, value in attributes.items()]
    policies: list[dict[str, Any]] = []
    if attributes:
        policies.append(
            {
                "name": "trail-settings",
                "resource": "aws.cloudtrail",
                "filters": [_not_shadow(), {"or": differs} if len(differs) > 1 else differs[0]],
                "actions": [{"type": "update-trail", "attributes": attributes}],
            }
        )
    if LOGGING in baseline:
        policies.append(
            {
                "name": "trail-logging",
                "resource": "aws.cloudtrail",
                "filters": [_not_shadow(), {"type": "status", "key": "IsLogging", "value": not baseline[LOGGING]}],
                "actions": [{"type": "set-logging", "enabled": bool(baseline[LOGGING])}],
            }
        )
    return {"policies": policies}


def accounts_file(account_ids: Sequence[str], role_name: str) -> dict[str, Any]:
    """A c7n-org accounts.yml that both tools read (c7n-org requires a role for every account)."""
    return {
        "accounts": [
            {"account_id": account, "name": f"member-{n}", "role": f"arn:aws:iam::{account}:role/{role_name}"}
            for n, account in enumerate(account_ids)
        ]
    }


Stage = Literal["plan", "apply", "again"]
STAGES: tuple[Stage, ...] = ("plan", "apply", "again")


@dataclass(frozen=True)
class World:
    accounts: int  # accounts run (1: the caller's own, no role)
    regions: int
    trails: int  # per account and region

    @property
    def total(self) -> int:
        return self.accounts * self.regions * self.trails


def trailkeeper_limit(
    world: World, stage: Stage, assumed: bool, baseline: Mapping[str, Any] = BASELINE
) -> Counter[str]:
    """The calls trailkeeper may make: who am I, one AssumeRole per account run with a role, one
    DescribeTrails per account and region, GetTrailStatus per trail when IsLogging is declared, and on
    the first apply one UpdateTrail and one StartLogging per drifted trail; nothing written again."""
    limit: Counter[str] = Counter(GetCallerIdentity=1, DescribeTrails=world.accounts * world.regions)
    if assumed:
        limit["AssumeRole"] = world.accounts
    if LOGGING in baseline:
        limit["GetTrailStatus"] = world.total
    if stage == "apply":
        if any(name != LOGGING for name in baseline):
            limit["UpdateTrail"] = world.total
        if baseline.get(LOGGING):
            limit["StartLogging"] = world.total
    return limit
