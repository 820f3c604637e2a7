"""`make demo`: the provider, loaded as Lambda loads it, on every sample event, against a local AWS.

moto's server plays AWS (seeded with a trail, buckets, a topic, a KMS key, a log group and a role), and
a local HTTPS server plays CloudFormation's response URL. For each event the demo prints the plan
(property: current -> desired) and the response CloudFormation receives. Then the drift-fix CLI: plan,
apply and plan on examples/drift/desired-state.yaml; export what exists and plan on the export (in sync);
audit against Security Hub's FSBP, fix through the guard, and audit again, as an HTML page
(build/audit-report.html). Then delivery: someone replaces the log bucket's policy; the delivery guard
tells (timed from the event to its message), the audit fails the trails that deliver there, --fix appends
CloudTrail's statements, and the audit passes again. Last, an organization: the same custom resource
Create on the management account's organization trail, from CloudTrail's delegated administrator (it
succeeds, every call by the trail's ARN) and from a plain member (refused, nothing written).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any

from devkit import events, lambda_run, organization, template, world
from devkit.cfn_server import ResponseServer
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
    return lambda_run.load_handler()


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


REPLACED = {  # what someone puts in place of the log bucket's policy: readers only, CloudTrail forgotten
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "ReadersOnly",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{world.ACCOUNT}:root"},
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{world.BUCKET}/*",
        }
    ],
}


def _delivery(endpoint: str, lambda_handler: Any) -> None:
    """A trail configured right and logging whose logs stop arriving: the guard tells, the audit fails it,
    --fix appends CloudTrail's statements to the bucket policy, and the audit passes again."""
    import boto3

    _cli(["audit", "--standard", "delivery", "--region", world.HOME])
    parameter = "/trailkeeper/desired-state"
    ssm = boto3.client("ssm", region_name=world.HOME, endpoint_url=endpoint)
    ssm.put_parameter(
        Name=parameter, Value=json.dumps({"trails": [{"Name": world.TRAIL}]}), Type="String", Overwrite=True
    )
    os.environ["DESIRED_STATE_PARAMETER"] = parameter
    s3 = boto3.client("s3", region_name=world.HOME, endpoint_url=endpoint)
    s3.put_bucket_policy(Bucket=world.BUCKET, Policy=json.dumps(REPLACED))
    print(f"== someone replaces the policy of bucket {world.BUCKET}: readers only, CloudTrail forgotten")
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()) as captured:
        outcome = lambda_handler(events.load("delivery/put-bucket-policy"), LambdaContext(timeout_seconds=60))
    elapsed = (time.perf_counter() - started) * 1000
    for broken in outcome["broken"]:
        for finding in broken["findings"]:
            print(f"   guard     {broken['trail']} {finding['control']} {finding['status']}: {finding['reason']}")
    print(f"   metrics   {_metrics(captured.getvalue())}")
    print(
        f"   the guard judged the event and told in {elapsed:.0f} ms "
        "(EventBridge's delivery of the event comes on top)\n"
    )
    _cli(["audit", "--standard", "delivery", "--region", world.HOME])
    _cli(["audit", "--standard", "delivery", "--region", world.HOME, "--fix", "--dry-run"])
    _cli(["audit", "--standard", "delivery", "--region", world.HOME, "--fix"])
    _cli(["audit", "--standard", "delivery", "--region", world.HOME])


# The organization trail's settings, as examples/org-trail-from-delegated-admin.yaml declares them.
ORGANIZATION_TRAIL_SETTINGS = {
    "ServiceToken": "arn:aws:lambda:us-east-1:222233334444:function:trailkeeper-TrailSettingsFunction",
    "ServiceTimeout": "300",
    "Name": organization.ORGANIZATION_TRAIL,
    "IsMultiRegionTrail": "true",
    "IncludeGlobalServiceEvents": "true",
    "EnableLogFileValidation": "true",
    "IsLogging": "true",
    "EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": "true"}],
    "Tags": [{"Key": "owner", "Value": "security"}],
}


def _as_account(account: str, endpoint: str, administrator: bool) -> dict[str, str]:
    """The environment of the provider's function deployed in `account` (its stack set up as CloudTrail's
    delegated administrator's, or not), with credentials acting there."""
    session = organization.session_in(account, endpoint)
    frozen = session.get_credentials().get_frozen_credentials()
    return {
        **os.environ,
        "AWS_ACCESS_KEY_ID": frozen.access_key,
        "AWS_SECRET_ACCESS_KEY": frozen.secret_key,
        "AWS_SESSION_TOKEN": frozen.token or "",
        "TRAILKEEPER_DELEGATED_ADMINISTRATOR": "true" if administrator else "false",
    }


def _create_in(account: str, label: str, cfn: ResponseServer, environment: dict[str, str]) -> None:
    """The Create of a Custom::TrailSettings in a stack of `account`, run as Lambda would run it there."""
    url = cfn.url()
    stack = f"arn:aws:cloudformation:{world.HOME}:{account}:stack/org-trail-settings/1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b"
    event = events.load("create", url, StackId=stack, ResourceProperties=ORGANIZATION_TRAIL_SETTINGS)
    print(f"== events/create.json in a stack of account {account} ({label}): Name {organization.ORGANIZATION_TRAIL}")
    done = subprocess.run(
        [sys.executable, "-m", "devkit.lambda_run"],
        input=json.dumps(event),
        env=environment,
        cwd=template.ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        print("   " + done.stderr.strip().replace("\n", "\n   "))
    for line in done.stdout.splitlines():
        if line.startswith(lambda_run.CALL):
            made = json.loads(line.removeprefix(lambda_run.CALL))
            arguments = ", ".join(f"{k}={v}" for k, v in made["params"].items() if k != "TagsList")
            print(f"   call      {made['operation']}({arguments})")
    (answer,) = [r.body for r in cfn.for_url(url)]
    shown = {k: answer[k] for k in ("Status", "PhysicalResourceId", "Reason", "Data") if answer.get(k)}
    print(f"   response  {json.dumps(shown, indent=None)}\n")


def _from_delegated_administrator(endpoint: str, cfn: ResponseServer) -> None:
    """An organization; its Security account registered as CloudTrail's delegated administrator; the same
    Create from there (managed, by ARN) and from a plain member (refused, nothing written)."""
    seeded = organization.seed_delegated(organization.seed(endpoint), endpoint)
    org = seeded.organization
    print(
        f"organization: management account {org.management}; account {seeded.administrator} (security) "
        "registered as CloudTrail's delegated administrator (RegisterOrganizationDelegatedAdmin); "
        f"organization trail {seeded.trail_arn}\n"
    )
    _create_in(
        seeded.administrator,
        "CloudTrail's delegated administrator",
        cfn,
        _as_account(seeded.administrator, endpoint, administrator=True),
    )
    web = org.members["web"]
    _create_in(web, "a plain member", cfn, _as_account(web, endpoint, administrator=False))


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
        _delivery(endpoint, lambda_handler)
        _from_delegated_administrator(endpoint, cfn)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
