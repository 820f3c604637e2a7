"""The IAM actions the provider's code calls, declared beside the code that calls them.

Each module that talks to AWS lists its actions in a `PERMISSIONS` tuple; `required()` gathers them.
tests/test_permissions.py holds template.yaml to exactly this set, and checks that every AWS call the
tests see is covered by it.
"""

from __future__ import annotations

import importlib

# Modules whose code makes AWS calls (or needs an action for a call to succeed).
MODULES = (
    "trailkeeper.aws.locate",
    "trailkeeper.aws.regions",
    "trailkeeper.engine",
    "trailkeeper.observability",
    "trailkeeper.drift.direct",
)
# The organization layer's own calls: Organizations, AssumeRole, S3 for the state machine's items
# and results. org-reconcile.yaml grants them; member-role.yaml grants what the engine calls.
ORG_MODULES = ("trailkeeper.org.accounts", "trailkeeper.org.credentials", "trailkeeper.org.invocations")


def required(modules: tuple[str, ...] = MODULES) -> frozenset[str]:
    actions: set[str] = set()
    for name in modules:
        actions.update(importlib.import_module(name).PERMISSIONS)
    return frozenset(actions)
