"""The organization reconcile's templates: they lint clean (the state machine's ASL included, rule
E3601), its flow runs on moto's Step Functions, and both roles grant exactly what the code calls."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from devkit import template
from moto import mock_aws
from moto.awslambda_simple.models import LambdaSimpleBackend

from trailkeeper import permissions
from trailkeeper.errors import MalformedEvent
from trailkeeper.invocations import organization_step
from trailkeeper.org import audit as org_audit

pytestmark = pytest.mark.slow  # cfn-lint on the organization templates: make test-fast leaves them out

ROOT = Path(__file__).resolve().parent.parent
ASL = ROOT / "org-reconcile.asl.json"
RECONCILE, MEMBER = ROOT / "org-reconcile.yaml", ROOT / "member-role.yaml"
CFN_LINT = str(Path(sys.executable).parent / "cfn-lint")
# What only the central function needs: the declared state, notifications, its own log group, and who CloudTrail's
# delegated administrator is (asked once per run, by the function, for every account: aws/delegation.share).
CENTRAL_ONLY = {
    "ssm:GetParameter",
    "sns:Publish",
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "organizations:ListDelegatedAdministrators",
}


def lint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CFN_LINT, str(path)], capture_output=True, text=True, check=False)


def inlined(definition: str, tmp_path: Path) -> Path:
    """org-reconcile.yaml with the ASL inline: cfn-lint checks ASL only in a StateMachine's Definition.

    The partition is substituted as CloudFormation would in `aws` (cfn-lint's ASL schema only knows it).
    """
    text = RECONCILE.read_text()
    definition = definition.replace("${Partition}", "aws")
    indented = "\n".join("        " + line for line in json.dumps(json.loads(definition), indent=2).splitlines())
    text = text.replace(
        "      DefinitionS3Location: org-reconcile.asl.json # `aws cloudformation package` uploads it\n",
        f"      Definition:\n{indented}\n",
    )
    assert "Definition:\n" in text
    path = tmp_path / "org-reconcile.yaml"
    path.write_text(text)
    return path


def test_the_reconcile_template_and_its_state_machine_lint_clean(tmp_path: Path) -> None:
    result = lint(inlined(ASL.read_text(), tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr


def test_cfn_lint_would_catch_a_broken_state_machine(tmp_path: Path) -> None:
    broken = ASL.read_text().replace('"Type": "Choice"', '"Type": "Chooser"')
    result = lint(inlined(broken, tmp_path))
    assert result.returncode != 0 and "E3601" in result.stdout


def test_both_templates_lint_clean_as_committed_and_have_no_transform() -> None:
    for path in (MEMBER, RECONCILE):
        result = lint(path)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "Transform" not in template.load(path)  # service-managed StackSets refuse transforms


def test_every_placeholder_of_the_definition_is_substituted() -> None:
    placeholders = set(re.findall(r"\$\{(\w+)\}", ASL.read_text()))
    machine = template.load(RECONCILE)["Resources"]["ReconcileStateMachine"]["Properties"]
    assert placeholders == set(machine["DefinitionSubstitutions"])
    assert machine["StateMachineType"] == "STANDARD"
    processor = json.loads(ASL.read_text())["States"]["Reconcile"]["ItemProcessor"]["ProcessorConfig"]
    assert processor == {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}


def statements(path: Path, role: str) -> list[dict[str, Any]]:
    (policy,) = template.load(path)["Resources"][role]["Properties"]["Policies"]
    return [s["Fn::If"][1] if "Fn::If" in s else s for s in policy["PolicyDocument"]["Statement"]]


def granted(path: Path, role: str) -> list[str]:
    return [a for s in statements(path, role) for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])]


# Granted twice on purpose: on the account's own trails (the engine) and on any account's trail (the
# audit's read of the organization trail a member account shows, Sid AuditOrganizationTrails).
TWICE = ["cloudtrail:GetEventSelectors", "cloudtrail:GetTrailStatus"]


def once(actions: list[str]) -> list[str]:
    """`actions` with the two granted twice on purpose counted once; anything else repeated stays repeated."""
    counted = list(actions)
    for action in TWICE:
        assert counted.count(action) == 2, action
        counted.remove(action)
    return sorted(counted)


def test_the_reconcile_role_grants_exactly_the_engine_and_organization_calls() -> None:
    actions = granted(RECONCILE, "ReconcileRole")
    assert once(actions) == sorted(permissions.required(permissions.MODULES + permissions.ORG_MODULES))
    (assume,) = [s for s in statements(RECONCILE, "ReconcileRole") if s["Action"] == "sts:AssumeRole"]
    assert assume["Resource"] == {"Fn::Sub": "arn:${AWS::Partition}:iam::*:role/${MemberRoleName}"}


def test_the_member_role_grants_exactly_what_the_engine_calls_in_an_account() -> None:
    # When the engine declares a new call (a PERMISSIONS tuple), add it to member-role.yaml too.
    # The organization audit's reads too (MEMBER_MODULES): its log buckets among them.
    expected = permissions.required(permissions.MODULES + permissions.MEMBER_MODULES) - CENTRAL_ONLY
    assert once(granted(MEMBER, "MemberRole")) == sorted(expected)
    trust = template.load(MEMBER)["Resources"]["MemberRole"]["Properties"]["AssumeRolePolicyDocument"]
    assert trust["Statement"] == [
        {"Effect": "Allow", "Principal": {"AWS": {"Ref": "ReconcileRoleArn"}}, "Action": "sts:AssumeRole"}
    ]


def resolve(value: Any, parameters: dict[str, list[str]]) -> Any:
    """Fn::Join, Fn::Split and Ref of list parameters, as CloudFormation evaluates them."""
    if isinstance(value, dict) and "Ref" in value:
        return parameters[value["Ref"]]
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, items = value["Fn::Join"]
        resolved = resolve(items, parameters)
        return separator.join(x for item in resolved for x in (item if isinstance(item, list) else [item]))
    if isinstance(value, dict) and "Fn::Split" in value:
        separator, text = value["Fn::Split"]
        return resolve(text, parameters).split(separator)
    if isinstance(value, list):
        return [resolve(item, parameters) for item in value]
    return value


@pytest.mark.parametrize(("path", "role"), [(RECONCILE, "ReconcileRole"), (MEMBER, "MemberRole")])
def test_pass_role_is_only_for_the_named_logs_roles_and_only_to_cloudtrail(path: Path, role: str) -> None:
    # As template.yaml: no role/* (any role of the account, an administrator's included).
    loaded = template.load(path)
    (policy,) = loaded["Resources"][role]["Properties"]["Policies"]
    (written,) = [
        s
        for s in policy["PolicyDocument"]["Statement"]
        if "Fn::If" in s and s["Fn::If"][1].get("Sid") == "PassCloudWatchLogsRoles"
    ]
    condition, statement, otherwise = written["Fn::If"]
    assert condition == "PassesLogsRoles" and otherwise == {"Ref": "AWS::NoValue"}  # empty list: no PassRole
    assert loaded["Conditions"]["PassesLogsRoles"] == {
        "Fn::Not": [{"Fn::Equals": [{"Fn::Join": ["", {"Ref": "CloudWatchLogsRoleNames"}]}, ""]}]
    }
    assert loaded["Parameters"]["CloudWatchLogsRoleNames"]["Default"] == ""
    assert statement["Condition"] == {"StringEquals": {"iam:PassedToService": "cloudtrail.amazonaws.com"}}
    assert resolve(statement["Resource"], {"CloudWatchLogsRoleNames": ["trail-logs", "org/trail-logs"]}) == [
        "arn:*:iam::*:role/trail-logs",
        "arn:*:iam::*:role/org/trail-logs",
    ]


def test_member_roles_are_assumed_only_in_the_reconciles_own_organization() -> None:
    (assume,) = [s for s in statements(RECONCILE, "ReconcileRole") if s["Action"] == "sts:AssumeRole"]
    # aws:ResourceOrgID is the organization of the account owning the role; no parameter to keep in step.
    assert assume["Condition"] == {"StringEquals": {"aws:ResourceOrgID": "${aws:PrincipalOrgID}"}}


def test_the_schedule_role_is_trusted_only_by_this_stacks_schedule() -> None:
    resources = template.load(RECONCILE)["Resources"]
    (trust,) = resources["ScheduleRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "events.amazonaws.com"}
    arn = trust["Condition"]["StringEquals"]["aws:SourceArn"]["Fn::Sub"]
    name = resources["ScheduledRun"]["Properties"]["Name"]["Fn::Sub"]
    assert arn == "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/" + name  # the rule's ARN
    assert trust["Condition"]["StringEquals"]["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}
    assert resources["ScheduledRun"]["Properties"]["Targets"][0]["RoleArn"] == {"Fn::GetAtt": ["ScheduleRole", "Arn"]}


def test_the_results_bucket_is_listed_only_under_the_runs_results() -> None:
    (listing,) = [s for s in statements(RECONCILE, "ReconcileRole") if s["Action"] == "s3:ListBucket"]
    assert listing["Resource"] == {"Fn::GetAtt": ["ResultsBucket", "Arn"]}
    assert listing["Condition"] == {"StringLike": {"s3:prefix": "results/*"}}


# --- the flow, on moto's Step Functions (Lambda code never runs there: each task echoes its payload) ---

BUCKET = "org-reconcile-results"
AUDIT_DEFAULTS = {"standards": [], "regions": [], "required_tags": []}  # org/audit.py: FSBP and CIS 6.0, all regions
PLAN_FIELDS = {"run_action": "apply", **AUDIT_DEFAULTS}  # what list-accounts is told of the run
ACCOUNTS = [{"account": f"{n:012d}", "account_name": f"account-{n}"} for n in (111, 222, 333)]


@pytest.fixture
def invocations(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every payload the state machine sends the function (moto's Docker-free Lambda echoes it back)."""
    sent: list[dict[str, Any]] = []
    echo = LambdaSimpleBackend.invoke

    def invoke(self: LambdaSimpleBackend, function_name: str, qualifier: Any, body: Any, *rest: Any) -> Any:
        sent.append(json.loads(body))
        return echo(self, function_name, qualifier, body, *rest)

    monkeypatch.setattr(LambdaSimpleBackend, "invoke", invoke)
    return sent


@pytest.fixture
def machine(invocations: list[dict[str, Any]]) -> Iterator[tuple[Any, str]]:
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}):
        role = boto3.client("iam").create_role(RoleName="machine", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr("handler.py", "def handle(event, context):\n    return event\n")
        function = boto3.client("lambda").create_function(
            FunctionName="reconcile",
            Runtime="python3.13",
            Role=role,
            Handler="handler.handle",
            Code={"ZipFile": code.getvalue()},
        )["FunctionArn"]
        boto3.client("s3").create_bucket(Bucket=BUCKET)
        substitutions = {
            "Partition": "aws",
            "FunctionArn": function,
            "ResultsBucket": BUCKET,
            "MaxConcurrency": "2",
            "ToleratedFailurePercentage": "5",
        }
        definition = ASL.read_text()
        for key, value in substitutions.items():
            definition = definition.replace("${" + key + "}", value)
        sfn = boto3.client("stepfunctions")
        yield (
            sfn,
            sfn.create_state_machine(name="org-reconcile", definition=definition, roleArn=role)["stateMachineArn"],
        )


def execute(sfn: Any, arn: str, name: str, run_input: dict[str, Any]) -> dict[str, Any]:
    execution = sfn.start_execution(stateMachineArn=arn, name=name, input=json.dumps(run_input))["executionArn"]
    give_up = time.monotonic() + 120  # moto runs the machine in threads: a busy machine may take a while
    while time.monotonic() < give_up:
        described: dict[str, Any] = sfn.describe_execution(executionArn=execution)
        if described["status"] != "RUNNING":
            return described
        time.sleep(0.05)
    raise AssertionError("the execution did not finish within 120 s")


def test_one_child_per_account_each_invoking_the_function_with_its_account(
    machine: tuple[Any, str], invocations: list[dict[str, Any]]
) -> None:
    sfn, arn = machine
    boto3.client("s3").put_object(Bucket=BUCKET, Key="runs/run-1/accounts.json", Body=json.dumps(ACCOUNTS))
    done = execute(sfn, arn, "run-1", {"action": "apply", "ou_ids": ["ou-ab12-cdefgh12"]})
    assert done["status"] == "SUCCEEDED", done
    listing, *children, summarise = invocations
    assert listing == {
        "action": "list-accounts",
        "bucket": BUCKET,
        "key": "runs/run-1/accounts.json",
        "ou_ids": ["ou-ab12-cdefgh12"],
        "exclude_accounts": [],
        **PLAN_FIELDS,
        # The execution's whole input, as started: list-accounts refuses a field no run takes (issue 23).
        "execution_input": {"action": "apply", "ou_ids": ["ou-ab12-cdefgh12"]},
    }
    (map_run,) = sfn.list_map_runs(executionArn=done["executionArn"])["mapRuns"]
    described = sfn.describe_map_run(mapRunArn=map_run["mapRunArn"])
    assert described["itemCounts"]["succeeded"] == len(ACCOUNTS)
    assert described["maxConcurrency"] == 2
    # Each child invoked the function once with its account, as invocations/organization_step.py expects.
    # The audit's fields (empty by default) go to every child; plan and apply ignore them.
    assert sorted(children, key=lambda c: c["account"]) == [
        {"action": "apply", **a, **AUDIT_DEFAULTS} for a in ACCOUNTS
    ]
    assert summarise["action"] == "summarise" and summarise["result_writer"]["Bucket"] == BUCKET
    assert summarise["run_action"] == "apply"  # summarise totals an apply as before
    assert summarise["result_writer"]["Key"].endswith("manifest.json")  # the ResultWriter's manifest
    assert summarise["result_writer"]["Key"].startswith("results/run-1/")  # under the execution's own prefix
    assert json.loads(done["output"]) == summarise  # the run's output is the summary


def test_the_action_defaults_to_plan_and_anything_else_fails(
    machine: tuple[Any, str], invocations: list[dict[str, Any]]
) -> None:
    sfn, arn = machine
    boto3.client("s3").put_object(Bucket=BUCKET, Key="runs/run-2/accounts.json", Body=json.dumps(ACCOUNTS[:1]))
    assert execute(sfn, arn, "run-2", {})["status"] == "SUCCEEDED"
    assert invocations[1] == {"action": "plan", **ACCOUNTS[0], **AUDIT_DEFAULTS}
    invocations.clear()
    failed = execute(sfn, arn, "run-3", {"action": "destroy"})
    assert (failed["status"], failed["error"]) == ("FAILED", "InvalidAction")
    assert invocations == []  # nothing was listed, nothing run


def test_a_failed_map_is_summarised_and_notified_then_fails_the_run(
    machine: tuple[Any, str], invocations: list[dict[str, Any]]
) -> None:
    # moto ignores ToleratedFailurePercentage: the Map is made to fail as moto can, its items unreadable.
    # The Catch is States.ALL, so a Map failed past its tolerance takes the same path.
    sfn, arn = machine
    done = execute(sfn, arn, "run-4", {"action": "apply"})  # runs/run-4/accounts.json was never written
    assert (done["status"], done["error"]) == ("FAILED", "ReconcileFailed")
    assert done["cause"].startswith("the accounts Map failed (States.Runtime): ")  # the Map's own error
    listing, summarise = invocations  # no child ran; the summary step did, before the run failed
    assert listing["action"] == "list-accounts"
    # The shape tests/test_org_invocations.py feeds the real summarise step (failed_map_event).
    assert summarise == {
        "action": "summarise",
        "run_action": "apply",
        "results": {"Bucket": BUCKET, "Prefix": "results/run-4/"},
        "accounts": {"bucket": BUCKET, "key": "runs/run-4/accounts.json"},
        "map_error": {"Error": "States.Runtime", "Cause": done["cause"].split("): ", 1)[1]},
    }


def test_the_map_catches_every_error_and_the_run_fails_after_the_summary() -> None:
    states = json.loads(ASL.read_text())["States"]
    assert states["Reconcile"]["Catch"] == [
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "SummariseFailedRun"}
    ]
    failed = states["SummariseFailedRun"]
    assert failed["Next"] == "RunFailed" and failed["Catch"][0]["Next"] == "RunFailed"  # fails even if it cannot
    assert states["RunFailed"]["Type"] == "Fail"
    # Each execution writes its results under its own prefix: how a failed Map's results are found.
    prefix = states["Reconcile"]["ResultWriter"]["Parameters"]["Prefix.$"]
    assert prefix == "States.Format('results/{}', $$.Execution.Name)"
    assert failed["Parameters"]["Payload"]["results"]["Prefix.$"] == "States.Format('results/{}/', $$.Execution.Name)"


def test_an_audit_run_passes_its_fields_to_every_child_and_to_the_checks_and_totals(
    machine: tuple[Any, str], invocations: list[dict[str, Any]]
) -> None:
    sfn, arn = machine
    boto3.client("s3").put_object(Bucket=BUCKET, Key="runs/run-5/accounts.json", Body=json.dumps(ACCOUNTS))
    fields = {"standards": ["fsbp", "cis-5.0"], "regions": ["us-east-1", "eu-west-1"], "required_tags": ["owner"]}
    done = execute(sfn, arn, "run-5", {"action": "audit", "exclude_accounts": ["999999999999"], **fields})
    assert done["status"] == "SUCCEEDED", done
    listing, *children, summarise = invocations
    # list-accounts checks the audit's fields once (invocations/organization_step.py), before a child runs.
    assert listing["run_action"] == "audit" and {k: listing[k] for k in fields} == fields
    assert sorted(children, key=lambda c: c["account"]) == [{"action": "audit", **a, **fields} for a in ACCOUNTS]
    assert summarise["run_action"] == "audit"  # the audit's totals, not plan's


def test_a_misspelt_field_reaches_list_accounts_which_refuses_it(
    machine: tuple[Any, str], invocations: list[dict[str, Any]]
) -> None:
    sfn, arn = machine
    run = {"action": "audit", "standard": ["cis-5.0"]}  # `standards` misspelt
    execute(sfn, arn, "run-6", run)
    listing = invocations[0]
    assert listing["action"] == "list-accounts" and listing["execution_input"] == run
    with pytest.raises(MalformedEvent, match="'standard': not a field of an organization run's input"):
        organization_step.check_run(listing)


def test_the_schedule_may_audit() -> None:
    parameter = template.load(RECONCILE)["Parameters"]["ScheduleAction"]
    assert parameter["AllowedValues"] == ["plan", "apply", "audit"]
    (check,) = json.loads(ASL.read_text())["States"]["CheckAction"]["Choices"]
    assert [c["StringEquals"] for c in check["Or"]] == parameter["AllowedValues"]


@pytest.mark.parametrize(("path", "role"), [(RECONCILE, "ReconcileRole"), (MEMBER, "MemberRole")])
def test_the_audit_reads_only_buckets_of_the_roles_own_account(path: Path, role: str) -> None:
    (listing,) = [s for s in statements(path, role) if s["Action"] == "s3:ListAllMyBuckets"]
    assert listing["Resource"] == "*" and "Condition" not in listing  # ListBuckets has no resource
    (reads,) = [s for s in statements(path, role) if "s3:GetBucketAcl" in s["Action"]]
    assert sorted(reads["Action"]) == sorted(a for a in org_audit.PERMISSIONS if a.startswith("s3:GetBucket"))
    assert reads["Condition"] == {"StringEquals": {"aws:ResourceAccount": {"Ref": "AWS::AccountId"}}}


@pytest.mark.parametrize(("path", "role"), [(RECONCILE, "ReconcileRole"), (MEMBER, "MemberRole")])
def test_the_audit_reads_the_organization_trail_a_member_account_shows(path: Path, role: str) -> None:
    # CloudTrail.1 in a member account is usually met by the management account's organization trail.
    (reads,) = [s for s in statements(path, role) if s.get("Sid") == "AuditOrganizationTrails"]
    assert sorted(reads["Action"]) == ["cloudtrail:GetEventSelectors", "cloudtrail:GetTrailStatus"]
    assert reads["Resource"] == {"Fn::Sub": "arn:${AWS::Partition}:cloudtrail:*:*:trail/*"}
    assert {"cloudtrail:GetEventSelectors", "cloudtrail:GetTrailStatus"} <= set(org_audit.PERMISSIONS)


def _resolve(node: Any, parameters: dict[str, Any], conditions: dict[str, bool]) -> Any:
    """The few intrinsics the schedule's input uses: Ref, Fn::Join, Fn::If."""
    if isinstance(node, dict) and "Ref" in node:
        return parameters[node["Ref"]]
    if isinstance(node, dict) and "Fn::Join" in node:
        separator, items = node["Fn::Join"]
        items = _resolve(items, parameters, conditions)
        return separator.join(str(_resolve(i, parameters, conditions)) for i in items)
    if isinstance(node, dict) and "Fn::If" in node:
        condition, then, otherwise = node["Fn::If"]
        return _resolve(then if conditions[condition] else otherwise, parameters, conditions)
    return node


@pytest.mark.parametrize(("standards", "tags"), [(["fsbp", "cis-6.0"], [""]), (["cis-5.0"], ["owner", "cost-center"])])
def test_a_scheduled_audit_judges_the_standards_and_tags_the_stack_names(standards: list[str], tags: list[str]) -> None:
    loaded = template.load(RECONCILE)
    text, variables = loaded["Resources"]["ScheduledRun"]["Properties"]["Targets"][0]["Input"]["Fn::Sub"]
    parameters = {
        "ScheduleAction": "audit",
        "AuditStandards": standards,
        "AuditRequiredTags": tags,
        "OrganizationalUnitIds": [""],
        "ExcludedAccountIds": [""],
    }
    conditions = {"NoOus": True, "NoExclusions": True, "NoAuditTags": tags == [""]}
    for name, node in variables.items():
        text = text.replace("${" + name + "}", _resolve(node, parameters, conditions))
    text = text.replace("${ScheduleAction}", "audit")
    run = json.loads(text)
    assert run["standards"] == standards and run["required_tags"] == [t for t in tags if t]
    # What the state machine's ListAccounts step is given of the run (org-reconcile.asl.json), and checks.
    listing = {"action": "list-accounts", "bucket": "b", "key": "k", "run_action": run["action"], "regions": []}
    listing |= {key: run[key] for key in ("ou_ids", "exclude_accounts", "standards", "required_tags")}
    asked = org_audit.read(listing, also=org_audit.LISTING_FIELDS)
    assert asked.standards == tuple(standards) and asked.required_tags == tuple(t for t in tags if t)
    declared = loaded["Parameters"]
    assert declared["AuditStandards"]["AllowedValues"] == ["fsbp", "cis-5.0", "cis-6.0"]
