"""The IAM actions the provider's code calls, declared beside the code that calls them.

Each module that talks to AWS lists its actions in a `PERMISSIONS` tuple; `required()` gathers them.
tests/test_permissions.py holds template.yaml to exactly this set, and checks that every AWS call the
tests see is covered by it.
"""

from __future__ import annotations

import importlib

# Modules whose code makes AWS calls (or needs an action for a call to succeed).
MODULES = ("trailkeeper.aws.locate", "trailkeeper.engine", "trailkeeper.observability", "trailkeeper.drift.direct")


def required() -> frozenset[str]:
    actions: set[str] = set()
    for name in MODULES:
        actions.update(importlib.import_module(name).PERMISSIONS)
    return frozenset(actions)
