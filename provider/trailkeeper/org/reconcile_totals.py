"""The totals of an organization plan or apply run: what summarise makes of the accounts' answers.

Each child of the state machine's Map runs one account (`org/reconcile.py`) and answers its drift report;
summarise adds them up: accounts run and failed, trails by status, and the organization trails no owner
reported. (An audit run's totals are `org/audit_totals.py`'s.)
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Mapping
from typing import Any

from trailkeeper.fleet.report import STATUSES


@dataclasses.dataclass
class ReconcileTotals:
    """What the children's results add up to."""

    ran: int = 0  # children that succeeded
    reported: set[str] = dataclasses.field(default_factory=set)  # their accounts
    failed: list[dict[str, str]] = dataclasses.field(default_factory=list)
    trails: Counter[str] = dataclasses.field(default_factory=Counter)
    not_owned: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)

    def add(self, group: str, child: Mapping[str, Any]) -> None:
        item = json.loads(child.get("Input") or "{}")
        if group != "SUCCEEDED":
            cause = str(child.get("Cause") or child.get("Error") or group)
            self.failed.append({"account": str(item.get("account", "?")), "reason": cause[:500]})
            return
        self.ran += 1
        self.reported.add(str(item.get("account", "?")))
        output = json.loads(child.get("Output") or "{}")
        self.trails.update({s: int(output.get("summary", {}).get(s, 0)) for s in STATUSES})
        for note in output.get("not_owned", []):
            seen = self.not_owned.setdefault(note["trail_arn"], {**note, "seen_in_accounts": 0})
            seen["seen_in_accounts"] += note["seen_in_accounts"]

    def not_reported_by_owner(self) -> list[dict[str, Any]]:
        # Each child runs one account, so every member notes an organization trail as "owner not in the
        # run"; when the owner's own child succeeded it checked (and reported) the trail itself.
        notes = [n for n in self.not_owned.values() if n["owner_account"] not in self.reported]
        return sorted(notes, key=lambda n: n["trail_arn"])
