"""The sample events under events/, loaded the way `sam local invoke -e` reads them.

Most are CloudFormation custom resource requests (`names()`); a few are direct invocations, such as
`audit.json` (`direct_names()`); the CloudTrail change events live in events/cloudtrail/.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).resolve().parent.parent / "events"


def load(name: str, response_url: str | None = None, **changes: Any) -> dict[str, Any]:
    """Event `name` (e.g. "create"), with its ResponseURL pointed at `response_url` and `changes` applied."""
    event: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8"))
    event = copy.deepcopy(event)
    if response_url is not None:
        event["ResponseURL"] = response_url
    event.update(changes)
    return event


def _is_custom_resource(path: Path) -> bool:
    return "RequestType" in json.loads(path.read_text(encoding="utf-8"))


def names() -> list[str]:
    """The custom resource request samples."""
    return sorted(p.stem for p in EVENTS.glob("*.json") if _is_custom_resource(p))


def direct_names() -> list[str]:
    """The direct invocation samples (no ResponseURL: routing.py hands them to their door)."""
    return sorted(p.stem for p in EVENTS.glob("*.json") if not _is_custom_resource(p))
