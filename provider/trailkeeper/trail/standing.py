"""Who may change a trail from here: its owner, or, for an organization trail, CloudTrail's delegated
administrator. Pure: what Organizations answered is given (`aws/delegation.py` asks it).

An organization trail belongs to the organization's management account, and shows in every account of the
organization under that account's ARN. Its owner changes it; so does a member account registered as
CloudTrail's delegated administrator, with every call naming the trail by ARN in its home region (by name,
CloudTrail looks in the caller's own account and answers TrailNotFoundException). Any other member may read
it, never change it. Which members are delegated administrators only Organizations says
(ListDelegatedAdministrators), and only to the management account and to delegated administrators: a plain
member is refused the question itself. So a standing is one of

- `OWNER`: the trail is the caller's (or the caller is not known: a run that cannot say its account);
- `DELEGATED`: an organization trail of another account, and Organizations lists the caller as CloudTrail's
  delegated administrator;
- `UNCONFIRMED`: an organization trail of another account, and Organizations could not be asked (denied):
  CloudTrail decides at the first write, and its refusal is turned into the same reason as ours (`refused`);

and anything else is refused before any read (NotChangeableHere), naming who may change the trail.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from trailkeeper.errors import NotChangeableHere
from trailkeeper.trail import arns
from trailkeeper.typed_tuple import TypedTuple

Standing = Literal["owner", "delegated administrator", "unconfirmed"]
EVERY_OWNER = "*"  # in `Administrators.reported_by_owner`: every owner reports its trails (one account per run)
OWNER: Standing = "owner"
DELEGATED: Standing = "delegated administrator"
UNCONFIRMED: Standing = "unconfirmed"


class Administrators(TypedTuple):
    """What Organizations said, asked from one account, of CloudTrail's delegated administrators.

    `accounts` None: it could not say (`unknown` says why, e.g. the question was denied).
    """

    accounts: frozenset[str] | None
    unknown: str = ""
    outside: bool = False  # the account is in no organization: it administers nothing
    # A run over many accounts: the owners in it, which report their organization trails themselves (`EVERY`:
    # whichever the owner); nobody changes those as their delegated administrator there.
    reported_by_owner: frozenset[str] = frozenset()

    @classmethod
    def listed(cls, accounts: frozenset[str]) -> Administrators:
        return cls(accounts)

    @classmethod
    def not_known(cls, why: str) -> Administrators:
        return cls(None, why)

    @classmethod
    def no_organization(cls) -> Administrators:
        return cls(frozenset(), outside=True)

    def includes(self, account: str | None) -> bool | None:
        """Whether `account` is CloudTrail's delegated administrator; None when Organizations could not say."""
        return None if self.accounts is None else account in self.accounts

    def reports(self, owner: str) -> bool:
        """Whether `owner` reports its organization trails itself in this run (so nobody else changes them)."""
        return bool(self.reported_by_owner & {owner, EVERY_OWNER})

    def named(self) -> str:
        """Who else may change the organization's trails, as a reason says it (short: a reason keeps 256)."""
        if self.outside:
            return "CloudTrail's delegated administrator (none: this account is in no organization)"
        if self.accounts is None:
            return "CloudTrail's delegated administrator"
        if not self.accounts:
            return "CloudTrail's delegated administrator (none is registered)"
        ids = sorted(self.accounts)
        return f"CloudTrail's delegated administrator (account{'s' if len(ids) > 1 else ''} {', '.join(ids)})"


def is_foreign_organization_trail(trail: Mapping[str, Any], caller: str | None) -> bool:
    """An organization trail of another account than `caller` (a management account's, seen from a member)."""
    owner = arns.account_of(str(trail["TrailARN"]))
    return bool(caller) and owner != caller and bool(trail.get("IsOrganizationTrail"))


def refusal(trail_arn: str, caller: str | None, administrators: Administrators, refused: str = "") -> NotChangeableHere:
    """Why an organization trail is not changed from account `caller`, naming who may change it (its owner, the
    management account, and the registered delegated administrators when Organizations said), or, when
    CloudTrail was left to decide, what it `refused` (the call and its code).

    Short, the name before the ARN: CloudFormation keeps 256 characters of a reason, and who may change the
    trail must be in them.
    """
    home = arns.TrailHome.from_arn(trail_arn)
    who = f"{home.name} is an organization trail of management account {home.account}: only it or "
    if refused:
        return NotChangeableHere(
            f"{who}{administrators.named()} may change it; CloudTrail refused account {caller} ({refused})",
            organization_trail=True,
        )
    return NotChangeableHere(
        f"{who}{administrators.named()} may change it, not account {caller}", organization_trail=True
    )


def standing(
    trail: Mapping[str, Any], caller: str | None, administrators: Callable[[], Administrators]
) -> tuple[Standing, Administrators | None]:
    """How account `caller` stands to `trail`, and what Organizations said (None when it was not asked).

    `administrators` is asked only for an organization trail of another account. Raises NotChangeableHere
    for a trail `caller` may not change: another account's ordinary trail, or an organization trail when
    Organizations says `caller` is not CloudTrail's delegated administrator.
    """
    arn = str(trail["TrailARN"])
    owner = arns.account_of(arn)
    if not caller or owner == caller:
        return OWNER, None
    if not trail.get("IsOrganizationTrail"):
        raise NotChangeableHere(f"{arn} belongs to account {owner}; deploy this in that account")
    answer = administrators()
    if answer.reports(owner):  # a run over many accounts that holds the owner: it reports the trail
        raise NotChangeableHere(
            f"{arns.TrailHome.from_arn(arn).name} is reported by its owner, account {owner}, in this run",
            organization_trail=True,
        )
    listed = answer.includes(caller)
    if listed is None:
        return UNCONFIRMED, answer
    if not listed:
        raise refusal(arn, caller, answer)
    return DELEGATED, answer


def reported_once(found: Sequence[tuple[str, str]]) -> list[bool]:
    """Which of `found` ((account, trail ARN) pairs of a run over many accounts) report their trail: every
    account its own trails; another account's organization trail (changed as its delegated administrator)
    only when its owner does not report it, and then once, by the first account that does.

    >>> reported_once([("111111111111", "arn:aws:cloudtrail:us-east-1:111111111111:trail/org"),
    ...                ("222222222222", "arn:aws:cloudtrail:us-east-1:111111111111:trail/org"),
    ...                ("222222222222", "arn:aws:cloudtrail:us-east-1:999999999999:trail/other"),
    ...                ("333333333333", "arn:aws:cloudtrail:us-east-1:999999999999:trail/other")])
    [True, False, True, False]
    """
    by_owner = {arn for account, arn in found if arns.account_of(arn) == account}
    taken: set[str] = set()
    kept: list[bool] = []
    for account, arn in found:
        if not arn or arns.account_of(arn) == account:  # "": no trail to count (a failure, say): kept
            kept.append(True)
        elif arn in by_owner or arn in taken:
            kept.append(False)
        else:
            taken.add(arn)
            kept.append(True)
    return kept
