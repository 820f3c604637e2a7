"""`trailkeeper export`: the declared state of what exists, as a state file or CloudFormation templates.

    trailkeeper export [-o FILE] [--region R ...] [--organization | --accounts FILE] [--format state|cloudformation]

`export/read.py` reads (`org/export.py` in every account), `export/write.py` writes; this module checks
the flags and the output before any call, and says what was exported and what could not be.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path
from typing import Any, TextIO

from trailkeeper.aws import regions as enabled_regions
from trailkeeper.cli import flags, output_file
from trailkeeper.cli.connection import connect
from trailkeeper.cli.progress import TerminalProgress
from trailkeeper.errors import InvalidArguments, show
from trailkeeper.export import read, write
from trailkeeper.fleet import report
from trailkeeper.org import export as org_export
from trailkeeper.org.accounts import Account

EXPORT_HELP = "write every existing trail as a declared state (or a template) that plans nothing"


EXPORT_EPILOG = """exit codes:
  0  every trail of every region (and account) scanned was exported
  1  an error (usage, unwritable output, AWS failure), or some region, trail or account could not be
     read: what could be read is still written, and the file's header names what is missing

plan the export to check it: `trailkeeper plan -f FILE` finds every trail in sync (docs/export.md)."""


FORMATS = ("state", "cloudformation")


def add_parser(commands: Any) -> None:
    command = commands.add_parser(
        "export",
        help=EXPORT_HELP,
        description=EXPORT_HELP,
        epilog=EXPORT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    command.add_argument("-o", "--output", metavar="FILE", help="write here (YAML) instead of standard output")
    command.add_argument(
        "--format",
        choices=FORMATS,
        default="state",
        help="state: a state file for plan/apply (default); cloudformation: a template of Custom::TrailSettings",
    )
    flags.add_aws_arguments(command)
    flags.add_arguments(command)


def _export_summary(result: read.Export, args: Any, err: TextIO) -> None:
    where = f" in {len(result.accounts)} account(s)" if result.accounts else ""
    target = f" to {args.output}" if args.output else ""
    err.write(
        f"trailkeeper: exported {len(result.trails)} trail(s) from {len(result.regions)} region(s){where}{target}\n"
    )
    for failure in result.failures:
        err.write(f"trailkeeper: not exported: {failure.describe()}\n")
    for note in result.not_owned:
        err.write(
            f"trailkeeper: {note.trail_arn}: an organization trail seen in {note.seen_in_accounts} member "
            f"account(s); only its owner, account {note.owner_account} (not in this run), exports it\n"
        )


def command(args: Any, out: TextIO, err: TextIO) -> int:
    """Run `export` as `args` say; the exit code."""
    flags.check(args)  # every flag problem at once, before any file or call
    per_account = args.format == "cloudformation" and flags.wanted(args)
    if per_account:
        _check_template_folder(args.output)
    else:
        output_file.check(args.output, "-o")
    link = connect(args)
    clients, region, identity, deadline, given = link.clients, link.region, link.identity, link.deadline, link.given
    caller = str(identity["Account"])

    def regions_of(account: Account | None) -> list[str] | None:
        """--region, else an inventory's own regions for that account, else (None) those enabled for it."""
        return enabled_regions.chosen(given, account.regions if account is not None else ())

    progress = TerminalProgress(err) if err.isatty() else None  # stdout may be the export itself
    try:
        if flags.wanted(args):
            selected = flags.select(args, clients=clients, region=region, identity=identity, deadline=deadline)
            result = org_export.run(
                selected,
                clients=clients,
                regions_of=regions_of,
                region=region,
                deadline=deadline,
                max_accounts=args.max_accounts,
                progress=progress,
            )
        else:
            result = read.export_account(
                clients, regions_of(None), account=caller, default_region=region, deadline=deadline, progress=progress
            )
    finally:
        if progress:
            progress.clear()
    if per_account:
        _write_templates(result, args.output, err)
    else:
        render = write.template if args.format == "cloudformation" else write.state_file
        text = render(result, caller_account=caller, now=output_file.now())
        if args.output:
            output_file.write(args.output, text, "-o")
        else:
            out.write(text)
        if args.format == "cloudformation" and write.deploy_note(text):
            err.write(f"trailkeeper: {args.output or 'the template'}: {write.deploy_note(text)}\n")
    _export_summary(result, args, err)
    return report.EXIT_FAILED if result.failures else report.EXIT_OK


# Short enough to be said whole (a reason holds 256 characters) after "-o PATH names a file: ".
PER_ACCOUNT_RULE = (
    "--format cloudformation writes a template per account (a custom resource acts in its stack's account): "
    "give -o DIR for DIR/ACCOUNT_ID.yaml"
)


def _check_template_folder(path: str | None) -> None:
    """The folder the templates of several accounts go to: refused when none, or when it names a file."""
    if path is None:
        raise InvalidArguments(f"no -o with --organization / --accounts: {PER_ACCOUNT_RULE}")
    if Path(path).suffix.lower() in (".yaml", ".yml", ".json", ".template") or Path(path).is_file():
        raise InvalidArguments(f"-o {show(path)} names a file: {PER_ACCOUNT_RULE}")
    output_file.check_folder(path, "-o")


def _write_templates(result: read.Export, folder: str, err: TextIO) -> None:
    """Every account's template (all made before any is written: a refused one leaves the folder as it was)."""
    texts = write.templates(result, now=output_file.now())
    names = {run.account: run.name for run in result.accounts}
    counts = Counter(trail.account for trail in result.trails)
    for account, text in texts.items():
        path = str(Path(folder) / f"{account}.yaml")
        output_file.write(path, text, "-o")
        label = f"account {account}" + (f" ({names[account]})" if names.get(account) else "")
        err.write(f"trailkeeper: {label}: {counts[account]} trail(s) to {path}\n")
        if write.deploy_note(text):
            err.write(f"trailkeeper: {path}: {write.deploy_note(text)}\n")
    for run in result.accounts:
        if run.error is None and run.account not in texts:
            err.write(f"trailkeeper: account {run.account}: no trail to adopt, no template\n")
