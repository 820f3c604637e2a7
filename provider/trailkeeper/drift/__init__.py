"""Old import paths, kept working: `trailkeeper.drift` held the CLI, the fleet, export and the audit before
the package was arranged by capability.

They now live in the rooms of their capability (docs/development.md). The names the docs gave before
keep resolving here, to the same objects: `trailkeeper.drift.report.SCHEMA` (now `trailkeeper.fleet.report`),
`trailkeeper.drift.findings.AUDIT_SCHEMA` (`trailkeeper.audit.findings`), `trailkeeper.drift.audit.PERMISSIONS`
(`trailkeeper.audit.reads`) and `trailkeeper.drift.audit_lambda.SCHEMA` (`trailkeeper.audit.answer`).
Nothing new goes here; nothing in the package imports it.
"""

from __future__ import annotations

import importlib
import sys

MOVED = {
    "report": "trailkeeper.fleet.report",
    "findings": "trailkeeper.audit.findings",
    "audit": "trailkeeper.audit.reads",
    "audit_lambda": "trailkeeper.audit.answer",
}

for _old, _new in MOVED.items():
    sys.modules[f"{__name__}.{_old}"] = globals()[_old] = importlib.import_module(_new)
