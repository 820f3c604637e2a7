"""CloudTrail's delegated administrator, as AWS has it, on moto 5.2.5 (part of the fidelity layer).

An organization's management account may register a member account as CloudTrail's delegated
administrator; that account may then change the organization's trails, which the management account
keeps owning. moto models none of it. `devkit.fidelity` installs these patches with its own.

What AWS does (sources in /tmp/research/delegated-admin.md), what moto 5.2.5 does, and what the layer does:

1. Registering: cloudtrail:RegisterOrganizationDelegatedAdmin and organizations:RegisterDelegatedAdministrator
   for cloudtrail.amazonaws.com are one registration, made from the management account only, at most three.
   moto: the first is NotImplementedError, the second rejects the service principal. The layer: both register
   it, with CloudTrail's errors (not the management account, an account outside the organization, the limit).
2. ListDelegatedAdministrators answers the management account and any delegated administrator (of any
   service); a plain member is refused. moto reads the caller's own backend (a member reads []) and refuses
   nobody. The layer: the organization's list for those, AccessDeniedException for other members.
3. An organization trail shows in DescribeTrails and ListTrails of every account of the organization, under
   the management account's ARN; in `trailNameList` a name names a trail of the caller's own account, an ARN
   any trail shown there. moto shows it in its own account only and ignores `trailNameList`. The layer: both.
4. By name another account's trail is not found (TrailNotFoundException, the name expanded into the caller's
   account: CFN-roadmap #1932, TF #28440); by ARN every member reads it and the delegated administrator changes
   it and its tags. moto finds it by neither. The layer: as AWS.
5. A plain member may not change it; the code of a member's write is undocumented, ListTags with its ARN is
   seen to answer CloudTrailARNInvalidException "AccountID in ARN is wrong" (cloudquery #405, prowler #2025).
   The layer: NotOrganizationMasterAccountException for writes, CloudTrailARNInvalidException for tags.
6. Only the management account converts a trail to or from an organization trail (UpdateTrail's docs). moto
   lets anyone. The layer: NotOrganizationMasterAccountException for any account but the trail's own.

State lives on moto's own objects (the Organizations backend's administrators), so moto's reset clears it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from moto.cloudtrail import models as ct_models
from moto.cloudtrail import responses as ct_responses
from moto.core.exceptions import JsonRESTError
from moto.organizations import models as org_models
from moto.organizations.exceptions import AWSOrganizationsNotInUseException

CLOUDTRAIL = "cloudtrail.amazonaws.com"
MAX_ADMINISTRATORS = 3  # CloudTrail UG: "An organization can have a maximum of three ... delegated administrators"
PARTITION = "aws"

# What a plain member's change of an organization trail answers (#5): the docs say it may not, no capture says
# with which code. NotOrganizationMasterAccountException is the one whose words fit ("the account making the
# request to ... update an organization trail ... is not the management account").
MEMBER_WRITE_REFUSAL = "NotOrganizationMasterAccountException"
MEMBER_TAGS_REFUSAL = "CloudTrailARNInvalidException"


def _error(code: str, message: str) -> JsonRESTError:
    return JsonRESTError(code, message)


# --- the organization as each account sees it ----------------------------------------------------------


def _backend(account_id: str) -> Any:
    return org_models.organizations_backends[account_id][PARTITION]


def management_of(account_id: str) -> str | None:
    """The management account of the organization `account_id` belongs to (itself when it manages one)."""
    if _backend(account_id).org is not None:
        return account_id
    found = org_models.organizations_backends.master_accounts.get(account_id)
    return found[0] if found else None


def _admins(management: str) -> list[Any]:
    return list(_backend(management).admins)


def administrators(management: str, service: str | None = CLOUDTRAIL) -> list[str]:
    """The accounts registered as delegated administrators (of `service`; of any when None)."""
    return [a.account.id for a in _admins(management) if service is None or service in a.services]


def is_cloudtrail_administrator(account_id: str) -> bool:
    management = management_of(account_id)
    return management is not None and account_id in administrators(management)


# --- organizations: registering for CloudTrail, and listing as AWS lets each caller list (#1, #2) ---------


def list_delegated_administrators(backend: Any, **kwargs: str) -> dict[str, Any]:
    """The organization's delegated administrators, for the management account or any delegated administrator."""
    caller = backend.account_id
    management = management_of(caller)
    if management is None:
        raise AWSOrganizationsNotInUseException
    if caller != management and caller not in administrators(management, service=None):
        # Organizations API: "You can only call this operation from the management account or a member account
        # that is a delegated administrator."
        raise _error("AccessDeniedException", "You don't have permissions to access this resource.")
    return dict(ORIGINAL["list_delegated_administrators"](_backend(management), **kwargs))


def _register(management: str, member: str) -> None:
    """CloudTrail's rules for a new administrator; then Organizations' own registration."""
    backend = _backend(management)
    if member == management:
        raise _error("CannotDelegateManagementAccountException", "You cannot delegate the management account.")
    if member not in {account.id for account in backend.accounts}:
        raise _error("AccountNotFoundException", f"Account {member} is not in the organization.")
    registered = administrators(management)
    if member in registered:
        raise _error("AccountRegisteredException", f"Account {member} is already a delegated administrator.")
    if len(registered) >= MAX_ADMINISTRATORS:
        raise _error(
            "DelegatedAdminAccountLimitExceededException",
            f"An organization can have at most {MAX_ADMINISTRATORS} CloudTrail delegated administrators.",
        )
    backend.register_delegated_administrator(AccountId=member, ServicePrincipal=CLOUDTRAIL)


def _response_register(response: Any) -> str:
    """CloudTrail's RegisterOrganizationDelegatedAdmin: from the management account only."""
    caller = response.current_account
    if management_of(caller) != caller:
        raise _error(
            "NotOrganizationManagementAccountException",
            "This operation can be called only from the management account of an organization.",
        )
    _register(caller, str(json.loads(response.body).get("MemberAccountId", "")))
    return "{}"


def _response_deregister(response: Any) -> str:
    caller = response.current_account
    if management_of(caller) != caller:
        raise _error(
            "NotOrganizationManagementAccountException",
            "This operation can be called only from the management account of an organization.",
        )
    member = str(json.loads(response.body).get("DelegatedAdminAccountId", ""))
    if member not in administrators(caller):
        raise _error("AccountNotRegisteredException", f"Account {member} is not a delegated administrator.")
    _backend(caller).deregister_delegated_administrator(AccountId=member, ServicePrincipal=CLOUDTRAIL)
    return "{}"


# --- organization trails seen from the other accounts (#3, #4, #5, #6) ----------------------------------


def organization_trails(account_id: str) -> Iterator[Any]:
    """The organization trails of the management account of `account_id`'s organization (none of its own)."""
    management = management_of(account_id)
    if management is None or management == account_id:
        return
    for backend in list(ct_models.cloudtrail_backends[management].values()):
        yield from [trail for trail in list(backend.trails.values()) if trail.is_org_trail]


def foreign_trail(caller: str, trail_arn: str, *, write: bool, tags: bool = False) -> Any:
    """The organization trail `trail_arn` names, as account `caller` may reach it, or None when it sees none.

    Every member reads it by ARN; only CloudTrail's delegated administrator changes it or its tags (#4, #5).
    """
    trail = next((t for t in organization_trails(caller) if t.arn == trail_arn), None)
    if trail is None or not (write or tags) or is_cloudtrail_administrator(caller):
        return trail
    if tags:
        raise _error(
            MEMBER_TAGS_REFUSAL, f"AccountID in ARN is wrong, you can only access resources with AccountID {caller}."
        )
    raise _error(
        MEMBER_WRITE_REFUSAL,
        f"Account {caller} is not the management account or a delegated administrator of the organization "
        f"that owns {trail_arn}.",
    )


def owner_backend(trail: Any) -> Any:
    """The CloudTrail backend holding `trail` (its owner's, in its home region)."""
    return ct_models.cloudtrail_backends[trail.account_id][trail.region_name]


def check_conversion(caller: str, trail: Any, is_organization_trail: bool | None) -> None:
    """Only the management account converts a trail to or from an organization trail (#6)."""
    if is_organization_trail is None or bool(is_organization_trail) == bool(trail.is_org_trail):
        return
    if caller != trail.account_id:
        raise _error(
            "NotOrganizationMasterAccountException",
            "Only the management account of the organization can convert a trail to or from an organization trail.",
        )


def _visible(backend: Any, include_shadow_trails: bool) -> list[Any]:
    """Every trail DescribeTrails shows the caller in this region: its own, then its organization's (#3)."""
    own = list(backend.describe_trails(include_shadow_trails))
    if not include_shadow_trails:
        return own
    region = backend.region_name
    return own + [t for t in organization_trails(backend.account_id) if t.is_multi_region or t.region_name == region]


def _response_describe_trails(response: Any) -> str:
    """Organization trails included; `trailNameList` as CloudTrail reads it: a name names a trail of the
    caller's own account, an ARN any trail shown here (DescribeTrails' docs, `trailNameList`)."""
    backend = response.cloudtrail_backend
    trails = _visible(backend, response._get_bool_param("includeShadowTrails", True))
    names = response._get_param("trailNameList") or []
    if names:
        trails = [t for t in trails if t.arn in names or (t.trail_name in names and t.account_id == backend.account_id)]
    return json.dumps({"trailList": [t.description(include_region=True) for t in trails]})


def _response_list_trails(response: Any) -> str:
    return json.dumps({"Trails": [t.short() for t in _visible(response.cloudtrail_backend, True)]})


# --- installing (through devkit.fidelity, with its own patches) ---------------------------------------

_OrgBackend = org_models.OrganizationsBackend
PATCHES: dict[str, tuple[type, str, Any]] = {
    "list_delegated_administrators": (_OrgBackend, "list_delegated_administrators", list_delegated_administrators),
    "register_delegated_admin": (
        ct_responses.CloudTrailResponse,
        "register_organization_delegated_admin",
        _response_register,
    ),
    "deregister_delegated_admin": (
        ct_responses.CloudTrailResponse,
        "deregister_organization_delegated_admin",
        _response_deregister,
    ),
    "response_describe_trails": (ct_responses.CloudTrailResponse, "describe_trails", _response_describe_trails),
    "response_list_trails": (ct_responses.CloudTrailResponse, "list_trails", _response_list_trails),
    # Organizations accepts CloudTrail as a service with delegated administrators (#1).
    "supported_services": (
        org_models.FakeDelegatedAdministrator,
        "SUPPORTED_SERVICES",
        [*org_models.FakeDelegatedAdministrator.SUPPORTED_SERVICES, CLOUDTRAIL],
    ),
}
# moto's own (None: a call moto does not have); devkit.fidelity puts these back when it uninstalls.
ORIGINAL: dict[str, Any] = {key: getattr(owner, name, None) for key, (owner, name, _) in PATCHES.items()}
