"""Ask Organizations, once per set of clients, who CloudTrail's delegated administrators are.

`organizations:ListDelegatedAdministrators` with ServicePrincipal `cloudtrail.amazonaws.com` is the one
question that tells CloudTrail's delegated administrator from any other member account, and the management
account and any delegated administrator may ask it (Organizations' API reference); a plain member is refused.
The answer is kept with the clients it was asked through: for the Lambda, its process (`shared_clients`);
for the CLI, its run; for an organization run, each account's run. It is asked only when a run meets an
organization trail of another account (`trail/standing.py` says what follows from it).

A definite answer is kept: the list, "in no organization" (AWSOrganizationsNotInUseException), "denied"
(AccessDenied: a plain member, or credentials without the permission; CloudTrail then decides at the write).
Anything else (throttled past the retries, unreachable) is not kept, and the next trail asks again.

Asked only where the answer can be yes, so that member accounts do not fill their trails with AccessDenied:
- a run over many accounts asks once, with the caller's clients (the management account's or the delegated
  administrator's, which may ask), and every account's clients take that answer (`share`), with the run's
  accounts as owners that report their trails themselves;
- the provider's function asks only when its stack says it is the delegated administrator's (template.yaml
  sets TRAILKEEPER_DELEGATED_ADMINISTRATOR): anywhere else the answer is "not asked", and CloudTrail (or IAM,
  which grants that stack no other account's trail) decides, should anyone declare such a trail there.
"""

from __future__ import annotations

import os
import threading
import weakref
from typing import Any

from trailkeeper.aws.calls import Clients, Deadline, call
from trailkeeper.errors import AwsCallFailed
from trailkeeper.trail.standing import Administrators

PERMISSIONS = ("organizations:ListDelegatedAdministrators",)
SERVICE_PRINCIPAL = "cloudtrail.amazonaws.com"
DENIED = frozenset({"AccessDeniedException", "AccessDenied"})
NOT_IN_ORGANIZATION = "AWSOrganizationsNotInUseException"

# The provider's function: "false" unless its stack is the delegated administrator's (template.yaml). Unset: ask.
ASK = "TRAILKEEPER_DELEGATED_ADMINISTRATOR"
NOT_ASKED = "not asked: this stack is not set up as the delegated administrator's (OrganizationManagementAccountId)"

_KEPT: weakref.WeakKeyDictionary[Clients, tuple[threading.Lock, list[Administrators]]] = weakref.WeakKeyDictionary()
_SHARED: weakref.WeakKeyDictionary[Clients, tuple[Clients, frozenset[str]]] = weakref.WeakKeyDictionary()
_KEEPING = threading.Lock()


def share(source: Clients, target: Clients, reported_by_owner: frozenset[str]) -> None:
    """`target` (an account's clients in a run over many accounts) takes the answer asked through `source` (the
    caller's), with `reported_by_owner` the owners in the run (`Administrators.reported_by_owner`) until
    `unshare` (the caller's own clients outlive the run: the function's are the process's)."""
    with _KEEPING:
        _SHARED[target] = (source, reported_by_owner)


def unshare(target: Clients) -> None:
    with _KEEPING:
        _SHARED.pop(target, None)


def _ask(clients: Clients, region: str, deadline: Deadline) -> tuple[Administrators, bool]:
    """(the answer, whether to keep it): every page of ListDelegatedAdministrators for CloudTrail."""
    found: set[str] = set()
    token: dict[str, str] = {}
    try:
        while True:
            answer: Any = call(
                "ListDelegatedAdministrators",
                lambda t=token: clients.client("organizations", region).list_delegated_administrators(  # type: ignore[misc]
                    ServicePrincipal=SERVICE_PRINCIPAL, **t
                ),
                deadline=deadline,
                facts={"region": region},
            )
            found.update(
                str(admin["Id"])
                for admin in answer.get("DelegatedAdministrators", [])
                if admin.get("Status", "ACTIVE") == "ACTIVE"  # a suspended account administers nothing
            )
            if not answer.get("NextToken"):
                return Administrators.listed(frozenset(found)), True
            token = {"NextToken": str(answer["NextToken"])}
    except AwsCallFailed as error:
        if error.aws_code == NOT_IN_ORGANIZATION:
            return Administrators.no_organization(), True
        kept = error.aws_code in DENIED
        return Administrators.not_known(f"ListDelegatedAdministrators: {error.aws_code}"), kept


def administrators(clients: Clients, region: str, deadline: Deadline) -> Administrators:
    """CloudTrail's delegated administrators as Organizations tells the account `clients` act in: asked once
    per `clients` (threads of one run wait for the one answer), in `region` (Organizations' endpoint is global).

    Raises OutOfTime when the deadline ends before an answer.
    """
    with _KEEPING:
        shared = _SHARED.get(clients)
    if shared is not None:
        source, owners = shared
        asked = administrators(source, region, deadline) if source is not clients else _asked(clients, region, deadline)
        return asked._replace(reported_by_owner=owners)
    return _asked(clients, region, deadline)


def _asked(clients: Clients, region: str, deadline: Deadline) -> Administrators:
    if os.environ.get(ASK, "true").lower() == "false":
        return Administrators.not_known(NOT_ASKED)
    with _KEEPING:
        lock, kept = _KEPT.setdefault(clients, (threading.Lock(), []))
    with lock:
        if kept:
            return kept[0]
        answer, keep = _ask(clients, region, deadline)
        if keep:
            kept.append(answer)
        return answer
