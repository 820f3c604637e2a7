"""Edges of an export's text (export/write.py) and of a fix merged into it (export/declare.py), found by reviewing
mutants that survived.

Pure: no AWS. Each test holds what a person or a program reads: the exact state file `trailkeeper plan -f`
takes (its header, its account headings, a fix's note), the exact CloudFormation template (its scalars spelled
as CloudFormation passes them, its parameter, its header), the refusals of a template that cannot be made and
their words, what a template over the direct-upload limit says about its own size, one template per account
with that account's failures only, a trail's declaration (only a setting CloudTrail did not report left out, an
ARN that is not a trail's refused), and a fix merged into an export in the export's form or refused in words.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from trailkeeper import __version__
from trailkeeper.errors import InvalidArguments, TrailkeeperError
from trailkeeper.export import declare, write
from trailkeeper.export.read import Export, ExportedTrail, Failure
from trailkeeper.fleet.report import AccountRun, NotOwned

NOW = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)
STAMP = f"# Exported by trailkeeper {__version__} at 2026-11-30T09:30:00Z from"
MINE, THEIRS = "111122223333", "444455556666"
NEXT = "every trail should be in sync, with nothing to write."
PLAN_NEXT = f"# Review it, commit it, then `trailkeeper plan -f` this file: {NEXT}"
DEPLOY_NEXT = f"# Review it, commit it, then deploy it after the provider stack (template.yaml): {NEXT}"


def arn(name: str, account: str = MINE, region: str = "us-east-1") -> str:
    return f"arn:aws:cloudtrail:{region}:{account}:trail/{name}"


def trail(name: str, account: str = MINE, **properties: Any) -> ExportedTrail:
    return ExportedTrail(account, "us-east-1", arn(name, account), {"Name": arn(name, account), **properties})


def failure(account: str) -> Failure:
    return Failure(f"eu-west-1 of {account}", TrailkeeperError("access denied"), account=account)


# --- the state file ------------------------------------------------------------------------------------


def test_a_state_file_of_one_account_is_its_header_then_its_trails_with_lists_under_their_key() -> None:
    one = Export(
        (trail("audit", S3BucketName="logs", IsLogging=True, EventSelectors=[{"ReadWriteType": "All"}]),),
        ("us-east-1",),
    )
    assert write.state_file(one, caller_account=MINE, now=NOW) == (
        f"{STAMP} account {MINE}, 1 region(s): us-east-1: 1 trail(s).\n"
        f"{PLAN_NEXT}\n"
        "trails:\n"
        f"  - Name: {arn('audit')}\n"
        "    S3BucketName: logs\n"
        "    IsLogging: true\n"
        "    EventSelectors:\n"
        "      - ReadWriteType: All\n"
    )


def test_a_state_file_with_no_trail_says_so_and_still_loads_as_an_empty_list() -> None:
    assert write.state_file(Export((), ()), caller_account=MINE, now=NOW) == (
        f"{STAMP} account {MINE}, no region: 0 trail(s).\n{PLAN_NEXT}\ntrails: []\n"
    )


def test_several_accounts_are_grouped_under_a_heading_naming_each_and_a_note_sits_above_its_trail() -> None:
    several = Export(
        (trail("audit", S3BucketName="a"), trail("data", S3BucketName="d"), trail("other", THEIRS, S3BucketName="b")),
        ("us-east-1", "eu-west-1"),
        accounts=(AccountRun(MINE, "master"), AccountRun(THEIRS, "")),
    )
    notes = {arn("other", THEIRS): "audit --fix: IsLogging false -> true"}
    text = write.state_file(several, caller_account=MINE, now=NOW, then=["Plan it."], notes=notes)
    assert text == (
        f"{STAMP} 2 account(s), 2 region(s): us-east-1, eu-west-1: 3 trail(s).\n"
        "# Plan it.\n"
        "trails:\n"
        f"  # account {MINE} (master)\n"
        f"  - Name: {arn('audit')}\n"
        "    S3BucketName: a\n"
        f"  - Name: {arn('data')}\n"
        "    S3BucketName: d\n"
        f"  # account {THEIRS}\n"
        "  # audit --fix: IsLogging false -> true\n"
        f"  - Name: {arn('other', THEIRS)}\n"
        "    S3BucketName: b\n"
    )


@pytest.mark.parametrize(
    ("trails", "accounts", "headings"),
    [
        ((trail("a"), trail("b")), (), []),  # one account, not an organization run: no heading
        ((trail("a"), trail("b")), (AccountRun(MINE),), [f"  # account {MINE}"]),  # an organization run of one
        ((trail("a"), trail("b", THEIRS)), (), [f"  # account {MINE}", f"  # account {THEIRS}"]),  # delegated
    ],
)
def test_an_account_heading_appears_once_per_account_when_several_accounts_or_a_run_over_accounts(
    trails: tuple[ExportedTrail, ...], accounts: tuple[AccountRun, ...], headings: list[str]
) -> None:
    text = write.state_file(Export(trails, ("us-east-1",), accounts=accounts), caller_account=MINE, now=NOW)
    assert [line for line in text.splitlines() if line.startswith("  # ")] == headings


@pytest.mark.parametrize(
    ("regions", "said"),
    [
        ((), "no region"),
        (("r1",), "1 region(s): r1"),
        (tuple(f"r{n}" for n in range(1, 7)), "6 region(s): r1, r2, r3, r4, r5, r6"),
        (tuple(f"r{n}" for n in range(1, 8)), "7 region(s): r1, r2, r3, r4, r5, r6 and 1 more"),
        (tuple(f"r{n}" for n in range(1, 18)), "17 region(s): r1, r2, r3, r4, r5, r6 and 11 more"),
    ],
)
def test_the_header_names_at_most_six_regions_and_counts_the_rest(regions: tuple[str, ...], said: str) -> None:
    text = write.state_file(Export((), regions), caller_account=MINE, now=NOW)
    assert text.splitlines()[0] == f"{STAMP} account {MINE}, {said}: 0 trail(s)."


def test_the_header_says_what_could_not_be_read_and_which_organization_trail_is_not_exported() -> None:
    missing = Export(
        (trail("audit"),),
        ("us-east-1",),
        failures=(failure(MINE),),
        not_owned=(NotOwned(arn("org", THEIRS), THEIRS, 3),),
    )
    header = write.state_file(missing, caller_account=MINE, now=NOW).split("trails:")[0]
    assert header.splitlines()[2:] == [
        "# INCOMPLETE: 1 part(s) could not be read and are not in this file:",
        f"#   eu-west-1 of {MINE}: TrailkeeperError: access denied",
        f"# Not exported here: {arn('org', THEIRS)}, an organization trail seen in 3 member account(s); export its "
        f"owner, account {THEIRS}, to include it.",
    ]


# --- the CloudFormation template -----------------------------------------------------------------------


def test_a_template_is_its_header_a_provider_stack_parameter_and_one_resource_per_trail_in_strings() -> None:
    one = Export((trail("audit", S3BucketName="logs", IsLogging=True, IsMultiRegionTrail=False),), ("us-east-1",))
    assert write.template(one, caller_account=MINE, now=NOW) == (
        f"{STAMP} account {MINE}, 1 region(s): us-east-1: 1 trail(s).\n"
        f"{DEPLOY_NEXT}\n"
        "AWSTemplateFormatVersion: '2010-09-09'\n"
        f"Description: 'trailkeeper export of 1 existing trail(s) from account {MINE}: deploying it adopts them "
        "with no change.'\n"
        "Parameters:\n"
        "  ProviderStackName:\n"
        "    Type: String\n"
        "    Default: trailkeeper\n"
        "    Description: Name of the stack that deployed the trailkeeper provider (it exports <name>-ServiceToken).\n"
        "Resources:\n"
        f"  {write.logical_id(arn('audit'))}:\n"
        "    Type: Custom::TrailSettings\n"
        "    Properties:\n"
        "      ServiceToken:\n"
        "        Fn::ImportValue:\n"
        "          Fn::Sub: ${ProviderStackName}-ServiceToken\n"
        "      ServiceTimeout: '300'\n"
        f"      Name: {arn('audit')}\n"
        "      S3BucketName: logs\n"
        "      IsLogging: 'true'\n"
        "      IsMultiRegionTrail: 'false'\n"
    )


@pytest.mark.parametrize(
    ("value", "passed"),
    [
        (True, "true"),
        (False, "false"),
        (0, "0"),
        ([True, {"a": False}], ["true", {"a": "false"}]),
        (("x", 1), ["x", "1"]),
    ],
)
def test_a_value_is_spelled_as_cloudformation_passes_it_to_a_custom_resource(value: object, passed: object) -> None:
    assert write.as_cloudformation(value) == passed


def _trails(count: int, accounts: int = 1) -> Export:
    return Export(tuple(trail(f"t{n}", f"{n % accounts:012}") for n in range(count)), ("us-east-1", "eu-west-1"))


@pytest.mark.parametrize(
    ("export", "refusal"),
    [
        (
            Export((), ("us-east-1", "eu-west-1")),
            "InvalidArguments: no trail to export in 2 region(s): us-east-1, eu-west-1: a CloudFormation template "
            "needs at least one resource (check --region, or the account)",
        ),
        (
            _trails(2, accounts=2),
            "InvalidArguments: trails of several accounts: a CloudFormation template deploys in one account",
        ),
        (
            _trails(501),
            "InvalidArguments: 501 trails: a CloudFormation template holds at most 500 resources; export fewer "
            "regions at a time (--region), or use --format state",
        ),
    ],
)
def test_a_template_that_cannot_be_made_is_refused_with_what_to_do(export: Export, refusal: str) -> None:
    with pytest.raises(InvalidArguments) as refused:
        write.template(export, caller_account=MINE, now=NOW)
    assert refused.value.reason == refusal


def test_a_template_of_500_trails_is_made() -> None:
    assert write.template(_trails(500), caller_account=MINE, now=NOW).count("Type: Custom::TrailSettings") == 500


def test_a_template_over_the_direct_upload_limit_says_its_own_size_and_how_to_deploy_it() -> None:
    big = write.template(_trails(200), caller_account=MINE, now=NOW)
    size = len(big.encode())
    assert size > write.DIRECT_UPLOAD_LIMIT
    assert big.split("AWSTemplateFormatVersion")[0].splitlines() == [
        f"{STAMP} account {MINE}, 2 region(s): us-east-1, eu-west-1: 200 trail(s).",
        DEPLOY_NEXT,
        f"# This template is {size:,} bytes, over CloudFormation's limit of 51,200 bytes for a template sent with the "
        "request: deploy it through an S3 bucket,",
        "#   aws cloudformation deploy --template-file FILE --stack-name NAME --s3-bucket BUCKET",
        "# (or upload it and pass --template-url to create-stack; CloudFormation takes up to 1 MB from S3).",
    ]


@pytest.mark.parametrize(
    ("size", "note"),
    [
        (write.DIRECT_UPLOAD_LIMIT, ""),
        (
            write.DIRECT_UPLOAD_LIMIT + 1,
            "This template is 51,201 bytes, over CloudFormation's limit of 51,200 bytes for a template sent with the "
            "request: deploy it through an S3 bucket, aws cloudformation deploy --template-file FILE --stack-name "
            "NAME --s3-bucket BUCKET (or upload it and pass --template-url to create-stack; CloudFormation takes up "
            "to 1 MB from S3).",
        ),
    ],
)
def test_the_deploy_note_is_empty_up_to_the_limit_and_says_how_to_deploy_over_it(size: int, note: str) -> None:
    assert write.deploy_note("x" * size) == note


def test_templates_are_one_per_account_each_with_its_own_failures_only() -> None:
    both = Export(
        (trail("audit"), trail("other", THEIRS), trail("more", THEIRS)),
        ("us-east-1",),
        failures=(failure(MINE), failure(THEIRS)),
        accounts=(AccountRun(MINE, "master"), AccountRun(THEIRS, "payments")),
    )
    made = write.templates(both, now=NOW)
    assert list(made) == [MINE, THEIRS]
    for account, count in ((MINE, 1), (THEIRS, 2)):
        assert made[account] == write.template(
            Export(tuple(t for t in both.trails if t.account == account), ("us-east-1",), (failure(account),)),
            caller_account=account,
            now=NOW,
        )
        head = made[account].split("AWSTemplateFormatVersion")[0]
        assert head.startswith(f"{STAMP} account {account}, 1 region(s): us-east-1: {count} trail(s).\n")
        assert f"#   eu-west-1 of {account}: " in head and head.count("eu-west-1 of") == 1


def test_templates_of_no_trail_are_refused_as_a_template_is() -> None:
    with pytest.raises(InvalidArguments, match=r"^no trail to export in 1 region\(s\): us-east-1: "):
        write.templates(Export((), ("us-east-1",)), now=NOW)


# --- a fix merged into an export (`audit --fix --write-state`) ---------------------------------------


def test_a_declaration_leaves_out_only_the_settings_cloudtrail_did_not_report() -> None:
    # S3BucketName has no default: a trail read without it still declares every other setting.
    declared = declare.declare({"TrailARN": arn("audit"), "S3KeyPrefix": "p", "KmsKeyId": "k"}, {})
    assert "S3BucketName" not in declared
    assert (declared["Name"], declared["S3KeyPrefix"], declared["KmsKeyId"]) == (arn("audit"), "p", "k")
    assert declared["RecursiveLogging"] is True  # the last of the table's settings: none dropped after a gap


def test_a_trail_whose_arn_is_not_a_trails_is_refused_not_exported_under_that_name() -> None:
    with pytest.raises(ValueError, match=r"^not a trail ARN: 'arn:aws:s3:::logs'$"):
        declare.declare({"TrailARN": "arn:aws:s3:::logs", "S3BucketName": "logs"}, {})


@pytest.mark.parametrize(
    "topic", ["deliveries", "arn:aws:sns:us-east-1:111122223333:deliveries"], ids=["by name", "by ARN"]
)
def test_a_fixed_topic_is_merged_as_its_arn_as_export_writes_it(topic: str) -> None:
    exported = {"Name": arn("audit"), "S3BucketName": "logs", "SnsTopicName": "", "IsLogging": True}
    merged = declare.with_fix(exported, {"Name": arn("audit"), "SnsTopicName": topic})
    assert merged == {**exported, "SnsTopicName": "arn:aws:sns:us-east-1:111122223333:deliveries"}


def test_an_aspect_the_export_left_out_is_merged_after_everything_else() -> None:
    exported = {"Name": arn("audit"), "S3BucketName": "logs", "IsLogging": True}
    merged = declare.with_fix(exported, {"Name": arn("audit"), "Tags": [{"Key": "b", "Value": "2"}]})
    assert list(merged.items()) == [*exported.items(), ("Tags", [{"Key": "b", "Value": "2"}])]


@pytest.mark.parametrize(
    ("fix", "refusal"),
    [
        (
            {"Name": arn("other"), "IsLogging": True},
            f"a fix of {arn('other')} cannot merge into the export of {arn('audit')}",
        ),
        (
            {"Name": arn("audit"), "Tags": [{"Key": "aws:x", "Value": "1"}, {"Key": "", "Value": "b"}]},
            f"the fix of {arn('audit')} is not a valid declaration: Tags[0].Key='aws:x': keys starting 'aws:' are "
            "reserved for AWS; Tags[1].Key='': must be a string of 1-128 characters",
        ),
    ],
    ids=["another trail", "two problems"],
)
def test_a_fix_that_cannot_merge_is_refused_naming_both_trails_or_every_problem(
    fix: dict[str, Any], refusal: str
) -> None:
    with pytest.raises(ValueError) as refused:
        declare.with_fix({"Name": arn("audit"), "IsLogging": False}, fix)
    assert str(refused.value) == refusal
