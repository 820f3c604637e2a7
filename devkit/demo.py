"""`make demo`: the provider, loaded as Lambda loads it, on every sample event, against a local AWS.

moto's server plays AWS (seeded with a trail, buckets, a topic, a KMS key, a log group and a role), and
a local HTTPS server plays CloudFormation's response URL. For each event the demo prints the plan
(property: current -> desired) and the response CloudFormation receives. Then the drift-fix CLI: plan,
apply and plan on examples/drift/desired-state.yaml; export what exists and plan on the export (in sync);
audit against Security Hub's FSBP, fix through the guard, and audit again, as an HTML page
(build/audit-report.html).
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
from typing import Any

from devkit import events, template, world
from devkit.lambda_context import LambdaContext
from devkit.local import local_aws

# The settings (create, update, no-op), then the whole trail on the same stopped trail: logging started,
# selectors, Insights and tags applied, the same event again in sync, a weakening planned by a DryRun and
# then refused, the Delete, and a malformed request.
ORDER = [
    "create",
    "update",
    "update-noop",
    "whole-trail",
    "whole-trail",
    "weaken-dry-run",
    "weaken",
    "delete",
    "invalid",
]
DESIRED_STATE = template.ROOT / "examples" / "drift" / "desired-state.yaml"
REPORT = template.ROOT / "build" / "audit-report.html"  # the demo's last audit, as an HTML page


def _environment(endpoint: str, ca_file: str) -> None:
    world.use_local_credentials(endpoint)
    os.environ.update(
        SSL_CERT_FILE=ca_file,  # the provider trusts the local CloudFormation stand-in
        POWERTOOLS_LOG_LEVEL="WARNING",
    )


def _load_handler() -> Any:
    code, handler = template.provider_function()
    sys.path.insert(0, str(code))
    module, function = handler.rsplit(".", 1)
    return getattr(importlib.import_module(module), function)


def _plan(event: dict[str, Any]) -> list[str]:
    """What the provider will change, computed with its own engine without writing."""
    from trailkeeper import engine
    from trailkeeper.aws import locate
    from trailkeeper.aws.calls import Clients, Deadline
    from trailkeeper.errors import TrailkeeperError
    from trailkeeper.trail import declaration

    if event["RequestType"] == "Delete":
        return ["(Delete writes nothing)"]
    try:
        declared = declaration.parse(event["ResourceProperties"])
        clients, deadline = Clients(), Deadline(30)
        trail = locate.find(clients, declared.name, world.HOME, deadline)
        outcome = engine.reconcile(
            declared, trail, clients=clients, caller_account=world.ACCOUNT, deadline=deadline, apply=False
        )
    except TrailkeeperError as error:
        return [f"(refused) {error.reason}"]
    from trailkeeper.trail.aspect import show_value

    return [
        f"{c.name}: {show_value(c.current)} -> {show_value(c.desired)}"
        + (f"  [weakens audit: {c.weakens}]" if c.weakens else "")
        for c in outcome.changes
    ] or ["(nothing to change)"]


def _metrics(output: str) -> str:
    names = []
    for line in output.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            record = json.loads(line)
            for metric in record["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
                code = f"[{record['ErrorCode']}]" if "ErrorCode" in record else ""
                names.append(f"{metric['Name']}{code}={record[metric['Name']][0]:g}")
    return ", ".join(names) or "none"


def _drift_fix(endpoint: str) -> None:
    """The drift-fix CLI on a small declared state: plan, apply, plan again."""
    world.add_trail("ops-trail", "eu-west-1", endpoint, IsMultiRegionTrail=True)
    world.add_trail("app-trail", "us-west-2", endpoint)
    state_file = str(DESIRED_STATE.relative_to(template.ROOT))
    for command in ("plan", "apply", "plan"):
        _cli([command, "-f", state_file])


def _cli(arguments: list[str]) -> None:
    """Run the trailkeeper CLI as a user would and print what it says, indented, with its exit code."""
    cli = shutil.which("trailkeeper", path=os.path.dirname(sys.executable)) or "trailkeeper"
    print(f"== trailkeeper {' '.join(arguments)}")
    done = subprocess.run([cli, *arguments], cwd=template.ROOT, check=False, capture_output=True, text=True)
    print("   " + (done.stdout + done.stderr).rstrip().replace("\n", "\n   "))
    print(f"   exit code {done.returncode}\n")


def _adopt_and_audit(endpoint: str, workdir: str) -> None:
    """Adopt what exists (export, then plan on the export: in sync), then audit, fix through the guard, audit again.

    A trail made outside trailkeeper (stopped, no validation, no key, no tags) gives the audit something to fix.
    """
    world.add_trail("legacy-trail", world.HOME, endpoint)
    exported = os.path.join(workdir, "exported.yaml")
    _cli(["export", "-o", exported])
    _cli(["plan", "-f", exported])
    _cli(["audit", "--standard", "fsbp"])
    role = f"arn:aws:iam::{world.ACCOUNT}:role/{world.ROLE}"
    fix = ["--kms-key", world.ALIAS, "--log-group", world.LOG_GROUP, "--log-role", role, "--tag", "owner=security"]
    _cli(["audit", "--standard", "fsbp", "--fix", *fix])
    # The last audit as people read it: one self-contained HTML page, kept after the demo (build/ is ignored).
    REPORT.parent.mkdir(exist_ok=True)
    _cli(["audit", "--standard", "fsbp", "--format", "html", "-o", str(REPORT.relative_to(template.ROOT))])
    print(f"   the audit report: {REPORT} (open it in a browser; docs/development.md shows a headless one)\n")


def main() -> int:
    with local_aws() as (endpoint, cfn):
        _environment(endpoint, str(cfn.ca_file))
        seeded = world.seed(endpoint)
        print(f"local AWS (moto) at {endpoint}; CloudFormation stand-in at https://localhost:{cfn.port}")
        print(f"seeded trail {seeded.trail_arn}\n")
        lambda_handler = _load_handler()
        for name in ORDER:
            url = cfn.url()
            event = events.load(name, url)
            print(f"== events/{name}.json ({event['RequestType']})")
            for line in _plan(event):
                print(f"   plan      {line}")
            captured = io.StringIO()
            with contextlib.redirect_stdout(captured):
                lambda_handler(event, LambdaContext(timeout_seconds=60))
            (answer,) = [r.body for r in cfn.for_url(url)]
            shown = {k: answer[k] for k in ("Status", "PhysicalResourceId", "Reason", "Data") if answer.get(k)}
            print(f"   response  {json.dumps(shown, indent=None)}")
            print(f"   metrics   {_metrics(captured.getvalue())}\n")
        _drift_fix(endpoint)
        with tempfile.TemporaryDirectory() as workdir:
            _adopt_and_audit(endpoint, workdir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
