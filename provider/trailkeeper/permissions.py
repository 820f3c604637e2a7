"""The IAM actions the provider's code calls, declared beside the code that calls them.

Each module that talks to AWS lists its actions in a `PERMISSIONS` tuple; `required()` gathers them.
tests/test_permissions.py holds template.yaml to exactly this set (with `PROVIDER_MODULES` and
`AUDIT_MODULES`), and checks
that every AWS call the tests see is covered by it.
"""

from __future__ import annotations

import importlib

# Modules whose code makes AWS calls (or needs an action for a call to succeed).
MODULES = (
    "trailkeeper.aws.locate",
    "trailkeeper.aws.regions",
    "trailkeeper.aws.delegation",  # asked by whoever runs: the functions, the CLI; never through a member role
    "trailkeeper.engine",
    "trailkeeper.observability",
    "trailkeeper.invocations.direct_run",
)
# The custom resource's own calls (DescribeStacks, to tell a rollback): only the provider's function makes
# them, so template.yaml grants them and the CLI's identity and the organization's roles do not need them.
PROVIDER_MODULES = ("trailkeeper.cfn.events",)
# The single-account audit from the Lambda (`{"action": "audit"}`): its reads and its memory. Only the
# provider's function makes them, and template.yaml grants those the provider does not already need only
# when the stack audits (EnableAudit), so a stack without audit gets no bucket reads.
AUDIT_MODULES = ("trailkeeper.invocations.audit_run",)
# The delivery guard (GuardDelivery): the reads of the chain, granted when the stack audits or guards; and
# (GuardDelivery=repair) the policy writes of a repair.
GUARD_MODULES = ("trailkeeper.invocations.delivery_change", "trailkeeper.audit.chain_guard")
REPAIR_MODULES = ("trailkeeper.audit.chain_fix",)
# The organization layer's own calls: Organizations, AssumeRole, S3 for the state machine's items
# and results. org-reconcile.yaml grants them; member-role.yaml grants what the engine calls, and
# MEMBER_MODULES.
# The organization `audit` reads trails and log buckets: org-reconcile.yaml grants it too (the function
# audits its own account with its own role).
ORG_MODULES = (
    "trailkeeper.org.accounts",
    "trailkeeper.org.credentials",
    "trailkeeper.invocations.organization_step",
    "trailkeeper.org.audit",
)
# What the member role grants beyond the engine's calls: the organization `audit`'s reads in the account.
MEMBER_MODULES = ("trailkeeper.org.audit",)


def required(modules: tuple[str, ...] = MODULES) -> frozenset[str]:
    actions: set[str] = set()
    for name in modules:
        actions.update(importlib.import_module(name).PERMISSIONS)
    return frozenset(actions)
