"""Write an export as a state file or as a CloudFormation template. Pure: text from what was read.

Both start with a short comment saying when, by which version and from where the trails were
exported, and what could not be read (an export is never silently partial). Trails come in the order
`export.read` gives them (account, home region, ARN), each one's properties in `export.declare`'s order,
so exporting the same trails twice gives the same text.

The state file is the one `trailkeeper plan -f` reads: a `trails:` list, grouped by account with a
comment heading each group when several accounts were exported. Each trail is declared by ARN, which
names exactly one trail, in one account and region, wherever the state is run.

The template holds one `Custom::TrailSettings` per trail (a custom resource acts in its stack's account, so
an export of several accounts is one template per account: `templates`). Its properties are literal
values spelled as CloudFormation passes them to the provider (every scalar a string: `"true"`), so what a
reviewer reads is what the provider receives. The ServiceToken is imported from the provider stack's export
(`<ProviderStackName>-ServiceToken`, template.yaml's Outputs), the stack name being a parameter.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import yaml

from trailkeeper import __version__
from trailkeeper.errors import InvalidArguments
from trailkeeper.export.read import Export, ExportedTrail
from trailkeeper.trail.arns import TrailHome

PROVIDER_STACK_PARAMETER = "ProviderStackName"
PROVIDER_STACK_DEFAULT = "trailkeeper"  # the stack name the README deploys the provider as
SERVICE_TIMEOUT = "300"  # seconds: even a broken provider cannot hold the stack for an hour
MAX_RESOURCES = 500  # CloudFormation's resources per template
DIRECT_UPLOAD_LIMIT = 51_200  # bytes of a template sent in the request (TemplateBody); larger ones go through S3
DIGEST_LENGTH = 8  # hex digits of the ARN's SHA-256 ending each logical id
RESOURCE_TYPE = "Custom::TrailSettings"
_WORD = re.compile(r"[A-Za-z0-9]+")
SHOWN_REGIONS = 6


class _Dumper(yaml.SafeDumper):  # type: ignore[misc]
    """Block YAML with lists indented under their key, as people write state files, and no aliases."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)

    def ignore_aliases(self, data: object) -> bool:
        return True  # every value written out: CloudFormation refuses YAML aliases, and a reader needs none


def _dump(value: object) -> str:
    # UTF-8 as it is (a tag `sécurité ✓`, not "s\xE9curit\xE9 \u2713"): people review these files, and
    # both readers (the state file's loader, CloudFormation) take UTF-8.
    return str(
        yaml.dump(value, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=4096, allow_unicode=True)
    )


def _regions(regions: Sequence[str]) -> str:
    shown = ", ".join(regions[:SHOWN_REGIONS])
    more = f" and {len(regions) - SHOWN_REGIONS} more" if len(regions) > SHOWN_REGIONS else ""
    return f"{len(regions)} region(s): {shown}{more}" if regions else "no region"


def _accounts(export: Export, caller_account: str) -> str:
    if not export.accounts:
        return f"account {caller_account}"
    return f"{len(export.accounts)} account(s)"


def header(export: Export, *, caller_account: str, now: datetime, kind: str, then: Sequence[str] = ()) -> list[str]:
    """The comment lines that open an export: when, by what, from where, what next, and what is missing.

    `then` replaces the usual next step ("Review it, commit it, then `kind`: every trail in sync").
    """
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    lines = [
        f"Exported by trailkeeper {__version__} at {stamp} from {_accounts(export, caller_account)}, "
        f"{_regions(export.regions)}: {len(export.trails)} trail(s).",
        *(then or [f"Review it, commit it, then {kind}: every trail should be in sync, with nothing to write."]),
    ]
    if export.failures:
        lines.append(f"INCOMPLETE: {len(export.failures)} part(s) could not be read and are not in this file:")
        lines += [f"  {failure.describe()}" for failure in export.failures]
    lines += [
        f"Not exported here: {n.trail_arn}, an organization trail seen in {n.seen_in_accounts} member "
        f"account(s); export its owner, account {n.owner_account}, to include it."
        for n in export.not_owned
    ]
    return lines


def _comment(lines: Iterable[str], indent: str = "") -> str:
    return "".join(f"{indent}# {line}".rstrip() + "\n" for line in lines)


def _account_label(export: Export, account: str) -> str:
    names = {run.account: run.name for run in export.accounts}
    return f"account {account}" + (f" ({names[account]})" if names.get(account) else "")


def state_file(
    export: Export,
    *,
    caller_account: str,
    now: datetime,
    then: Sequence[str] = (),
    notes: Mapping[str, str] | None = None,
) -> str:
    """The export as a declared state (YAML) for `trailkeeper plan|apply -f`.

    `then`: the header's next step, when not "plan it: every trail in sync"; `notes`: a comment above a
    trail's entry (by ARN), e.g. what `audit --fix` changed in it.
    """
    kind = "`trailkeeper plan -f` this file"
    text = _comment(header(export, caller_account=caller_account, now=now, kind=kind, then=then))
    if not export.trails:
        return text + "trails: []\n"
    text += "trails:\n"
    grouped = len({trail.account for trail in export.trails}) > 1 or bool(export.accounts)
    previous = None
    for trail in export.trails:
        if grouped and trail.account != previous:
            text += _comment([_account_label(export, trail.account)], "  ")
            previous = trail.account
        if notes and trail.trail_arn in notes:
            text += _comment([notes[trail.trail_arn]], "  ")
        entry = _dump([dict(trail.properties)])
        text += "".join(f"  {line}\n" for line in entry.splitlines())
    return text


# --- CloudFormation -----------------------------------------------------------------------------------


def as_cloudformation(value: object) -> object:
    """A value as CloudFormation passes it to a custom resource: every scalar a string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return {str(key): as_cloudformation(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [as_cloudformation(item) for item in value]
    return str(value)


def _pascal(text: str) -> str:
    return "".join(word[:1].upper() + word[1:] for word in _WORD.findall(text))


def logical_id(trail_arn: str) -> str:
    """The logical id of a trail's resource, from its ARN alone: `Trail`, its name and home region in
    letters and digits (CloudFormation's rule), then the first hex digits of the ARN's SHA-256.

    The name and region say which trail it is; the digest tells apart what the letters cannot (`org.audit`
    and `org_audit`, `audit` and `Audit`: CloudFormation's ids are case-sensitive, but a reader is not),
    and the account, which the ARN holds. It depends on no other trail, so a re-export gives every trail
    the id it had: a changed id would make CloudFormation replace the resource.

    >>> logical_id("arn:aws:cloudtrail:eu-west-1:111122223333:trail/org.audit")
    'TrailOrgAuditEuWest1d90eef85'
    """
    home = TrailHome.from_arn(trail_arn)
    digest = hashlib.sha256(trail_arn.encode()).hexdigest()[:DIGEST_LENGTH]
    return f"Trail{_pascal(home.name)}{_pascal(home.region)}{digest}"


def _too_big(text: str) -> list[str]:
    """What a template too big to send in the request says about deploying it ([] when it fits)."""
    size = len(text.encode())
    if size <= DIRECT_UPLOAD_LIMIT:
        return []
    return [
        f"This template is {size:,} bytes, over CloudFormation's limit of {DIRECT_UPLOAD_LIMIT:,} bytes for a "
        "template sent with the request: deploy it through an S3 bucket,",
        "  aws cloudformation deploy --template-file FILE --stack-name NAME --s3-bucket BUCKET",
        "(or upload it and pass --template-url to create-stack; CloudFormation takes up to 1 MB from S3).",
    ]


def template(export: Export, *, caller_account: str, now: datetime) -> str:
    """The export as a CloudFormation template: deploying it adopts every trail and writes nothing."""
    if not export.trails:
        raise InvalidArguments(
            f"no trail to export in {_regions(export.regions)}: a CloudFormation template needs at least one "
            "resource (check --region, or the account)"
        )
    if len({trail.account for trail in export.trails}) > 1:
        raise InvalidArguments("trails of several accounts: a CloudFormation template deploys in one account")
    if len(export.trails) > MAX_RESOURCES:
        raise InvalidArguments(
            f"{len(export.trails)} trails: a CloudFormation template holds at most {MAX_RESOURCES} resources; "
            "export fewer regions at a time (--region), or use --format state"
        )
    token = {"Fn::ImportValue": {"Fn::Sub": f"${{{PROVIDER_STACK_PARAMETER}}}-ServiceToken"}}
    resources = {
        logical_id(trail.trail_arn): {
            "Type": RESOURCE_TYPE,
            "Properties": {
                "ServiceToken": token,
                "ServiceTimeout": SERVICE_TIMEOUT,
                **as_cloudformation(dict(trail.properties)),  # type: ignore[dict-item]
            },
        }
        for trail in export.trails
    }
    document: dict[str, Any] = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"trailkeeper export of {len(export.trails)} existing trail(s) from "
        f"{_accounts(export, caller_account)}: deploying it adopts them with no change.",
        "Parameters": {
            PROVIDER_STACK_PARAMETER: {
                "Type": "String",
                "Default": PROVIDER_STACK_DEFAULT,
                "Description": "Name of the stack that deployed the trailkeeper provider (it exports "
                "<name>-ServiceToken).",
            }
        },
        "Resources": resources,
    }
    kind = "deploy it after the provider stack (template.yaml)"
    body = _dump(document)
    text = _comment(header(export, caller_account=caller_account, now=now, kind=kind)) + body
    warning = _too_big(text)
    if warning:  # said where the reviewer reads first; the size counted again with the words added
        text = _comment([*header(export, caller_account=caller_account, now=now, kind=kind), *warning]) + body
        text = _comment([*header(export, caller_account=caller_account, now=now, kind=kind), *_too_big(text)]) + body
    return text


def deploy_note(text: str) -> str:
    """One line for the person who exported a template too big to send with the request ('' when it fits)."""
    return " ".join(line.strip() for line in _too_big(text))


def templates(export: Export, *, now: datetime) -> dict[str, str]:
    """One template per account (account id -> text), each as `template` writes one account's: a custom
    resource acts in its stack's account, so one template cannot adopt the trails of several. An account
    with no trail gets none; the header of each names its account and what of it could not be read."""
    if not export.trails:
        return {"": template(export, caller_account="", now=now)}  # raises: there is nothing to adopt
    by_account: dict[str, list[ExportedTrail]] = {}
    for trail in export.trails:
        by_account.setdefault(trail.account, []).append(trail)
    return {
        account: template(
            Export(
                tuple(trails),
                export.regions,
                tuple(f for f in export.failures if f.account == account),
            ),
            caller_account=account,
            now=now,
        )
        for account, trails in sorted(by_account.items())
    }
