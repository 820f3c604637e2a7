"""A CloudTrail change event, piece by piece (trailkeeper/fleet/change_event.py): whose role made the call
(the loop guard, and who can pass for it), which trail of the event's region it names, and what a
DeleteTrail of a declared trail reports. The whole path, event to repair, is tests/test_direct.py's."""

from __future__ import annotations

from typing import Any

import pytest
from devkit import organization
from devkit import world as seeding
from devkit.recording import RecordingClients

from trailkeeper.aws.calls import Deadline
from trailkeeper.errors import TrailDeleted
from trailkeeper.fleet import change_event, matching, state
from trailkeeper.fleet.change_event import TrailEvent

ACCOUNT, OTHER_ACCOUNT, REGION = "123456789012", "210987654321", "us-east-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/service-role/trailkeeper-fn-role"
FUNCTION = "trailkeeper-fn"


def assumed(role: str = "trailkeeper-fn-role", session: str = FUNCTION, account: str = ACCOUNT) -> str:
    return f"arn:aws:sts::{account}:assumed-role/{role}/{session}"


def identity(caller: str, issuer: object = None, kind: str = "AssumedRole") -> dict[str, Any]:
    found: dict[str, Any] = {"type": kind, "arn": caller}
    if issuer is not None:
        found["sessionContext"] = {"sessionIssuer": issuer}
    return found


# --- the loop guard: whose role made the call ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "ours"),
    [
        # CloudTrail names the role that issued the session: that decides, whatever the caller's ARN says.
        (identity(assumed(), {"type": "Role", "arn": ROLE}), True),
        (identity(assumed("someone-else", "x"), {"type": "Role", "arn": ROLE}), True),
        (identity(assumed(), {"type": "Role", "arn": f"arn:aws:iam::{ACCOUNT}:role/trailkeeper-fn-role-2"}), False),
        # Without the issuer, the caller's assumed-role ARN: the role's name (not its path) in the role's account.
        (identity(assumed()), True),
        (identity(assumed(session="anything")), True),
        (identity(assumed(account=OTHER_ACCOUNT)), False),
        (identity(assumed("other-role", "trailkeeper-fn-role")), False),  # the role's name as a session name
        (identity(assumed(), {"type": "Role"}), True),  # an issuer without its ARN says nothing
        (identity(assumed(), "not an object"), True),
        ({"type": "AssumedRole", "arn": assumed(), "sessionContext": "not an object"}, True),
        # Not a role's session at all.
        (identity(f"arn:aws:iam::{ACCOUNT}:user/trailkeeper-fn-role", kind="IAMUser"), False),
        ({"type": "AssumedRole", "sessionContext": {"sessionIssuer": {"arn": ROLE + "-x"}}}, False),
        ({"type": "AssumedRole"}, False),
        ({}, False),
    ],
)
def test_with_the_role_named_only_that_role_counts(
    who: dict[str, Any], ours: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(change_event.ROLE_ARN, ROLE)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", FUNCTION)
    assert change_event.own_role(who) is ours


@pytest.mark.parametrize(
    ("who", "function", "ours"),
    [
        (identity(assumed()), FUNCTION, True),  # Lambda names the role's session after the function
        (identity(assumed("any-role")), FUNCTION, True),
        (identity(assumed(session="another-function")), FUNCTION, False),
        (identity(assumed()), "", False),  # outside Lambda: nothing is ours
        (identity(f"arn:aws:iam::{ACCOUNT}:user/{FUNCTION}", kind="AssumedRole"), FUNCTION, False),
        (identity(f"arn:aws:iam::{ACCOUNT}:role/{FUNCTION}"), FUNCTION, False),
        ({"type": "AssumedRole"}, FUNCTION, False),
        (identity(assumed(), kind="IAMUser"), FUNCTION, False),
    ],
)
def test_without_the_role_named_the_functions_session_name_is_the_evidence(
    who: dict[str, Any], function: str, ours: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(change_event.ROLE_ARN, raising=False)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", function)
    assert change_event.own_role(who) is ours


def test_an_empty_role_variable_is_as_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(change_event.ROLE_ARN, "")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", FUNCTION)
    assert change_event.own_role(identity(assumed("any-role"), {"type": "Role", "arn": ROLE}))


# --- which trail of the region the event names --------------------------------------------------------------


def trail(name: str, region: str = REGION, account: str = ACCOUNT, home: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"Name": name, "TrailARN": f"arn:aws:cloudtrail:{region}:{account}:trail/{name}"}
    if home is not None:
        found["HomeRegion"] = home
    return found


def test_an_event_naming_a_trail_by_name_picks_the_one_homed_in_its_region_and_account() -> None:
    picks = change_event.the_trail(TrailEvent("UpdateTrail", "audit", REGION, account=ACCOUNT))
    assert picks(trail("audit"))
    assert not picks(trail("audit-2"))
    assert not picks(trail("audit", region="eu-west-1"))  # a shadow: homed elsewhere
    assert not picks(trail("audit", home="eu-west-1"))
    assert not picks(trail("audit", account=OTHER_ACCOUNT))  # an organization trail of another account


def test_without_the_account_a_name_homed_in_the_region_is_enough() -> None:
    picks = change_event.the_trail(TrailEvent("UpdateTrail", "audit", REGION))
    assert picks(trail("audit", account=OTHER_ACCOUNT))
    assert not picks(trail("audit", region="eu-west-1"))


def test_an_event_naming_a_trail_by_arn_picks_that_arn_only() -> None:
    arn = trail("audit")["TrailARN"]
    picks = change_event.the_trail(TrailEvent("UpdateTrail", arn, REGION, account=ACCOUNT))
    assert picks(trail("audit"))
    assert not picks({"Name": "audit", "TrailARN": arn.replace(ACCOUNT, OTHER_ACCOUNT)})
    assert not picks({"Name": "audit"})


# --- a declared trail deleted -------------------------------------------------------------------------------


def declared(*names: str) -> list[Any]:
    return state.parse({"trails": [{"Name": name, "IsLogging": True} for name in names]})


def deleted(named: str, *names: str, account: str | None = ACCOUNT) -> list[Any]:
    seen = TrailEvent(change_event.DELETED, named, REGION, account=account)
    return list(change_event.deleted(declared(*names), seen).results)


def test_a_deleted_trail_declared_by_name_is_reported_failed_and_by_whom() -> None:
    (result,) = deleted("audit", "other-*", "audit")  # a pattern first: the name is trails[1]
    assert (result.name, result.status, result.home_region) == ("audit", "failed", REGION)
    assert result.trail_arn is None  # neither the event nor the declaration gives its ARN
    assert result.declared_by == ((1, "audit"),)
    assert isinstance(result.error, TrailDeleted)
    assert str(result.error) == (
        "audit was deleted (DeleteTrail in us-east-1); trailkeeper keeps the settings of existing trails and "
        "cannot recreate it: recreate the trail, then the next reconcile applies its settings"
    )


def test_a_deleted_trail_named_by_arn_is_reported_with_its_arn_and_short_name() -> None:
    arn = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/audit"
    (by_name,) = deleted(arn, "audit")
    assert (by_name.name, by_name.trail_arn) == ("audit", arn)
    (by_arn,) = deleted(arn, arn)
    assert (by_arn.name, by_arn.trail_arn, by_arn.declared_by) == ("audit", arn, ((0, arn),))


def test_a_trail_declared_by_arn_is_reported_with_that_arn_when_the_event_names_it() -> None:
    arn = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/audit"
    (result,) = deleted("audit", arn)
    assert (result.name, result.trail_arn) == ("audit", arn)


def test_a_trail_only_a_pattern_covers_is_not_reported_deleted_but_a_name_after_it_is() -> None:
    assert deleted("audit", "aud*") == []
    (result,) = deleted("audit", "aud*", "au*", "audit")
    assert result.declared_by == ((2, "audit"),)


# --- which declarations may cover the trail an event names (fleet/matching.py's may_cover) ----------------------


def one(entry: dict[str, Any]) -> Any:
    (declared,) = state.parse({"trails": [{"IsLogging": True, **entry}]})
    return declared


def test_a_trail_named_by_arn_is_placed_by_its_arn_not_by_the_events_region() -> None:
    elsewhere = f"arn:aws:cloudtrail:eu-west-1:{ACCOUNT}:trail/audit"
    declared = one({"Name": elsewhere})
    assert matching.may_cover(declared, region=REGION, account=None, trail=elsewhere)
    assert not matching.may_cover(declared, region=REGION, account=None, trail="audit")
    assert matching.may_cover(declared, region="eu-west-1", account=ACCOUNT, trail="audit")
    assert not matching.may_cover(declared, region="eu-west-1", account=OTHER_ACCOUNT, trail="audit")


def test_a_pattern_limited_to_regions_covers_no_trail_elsewhere() -> None:
    declared = one({"Name": "aud*", "Match": {"Regions": ["eu-west-1"]}})
    assert matching.may_cover(declared, region="eu-west-1", account=None, trail="audit")
    assert not matching.may_cover(declared, region=REGION, account=None, trail="audit")
    assert not matching.may_cover(declared, region="eu-west-1", account=None, trail="other")


def test_a_pattern_with_tags_covers_no_trail_whose_tags_are_not_known() -> None:
    declared = one({"Name": "*", "Match": {"Tags": {"env": "prod"}}})
    found = trail("audit")
    seen = matching.Seen.from_answers({REGION: [found]})
    tagged = matching.match([declared], seen, caller_account=ACCOUNT, tags={found["TrailARN"]: {"env": "prod"}})
    assert [m.trail["Name"] for m in tagged.trails] == ["audit"]
    unknown = matching.match([declared], seen, caller_account=ACCOUNT, tags={})
    assert unknown.trails == () and unknown.unmatched_patterns == (0,)


# --- what an event says (trail_event) ---------------------------------------------------------------------------


def event(detail: dict[str, Any], **outer: Any) -> dict[str, Any]:
    return {"detail": detail, **outer}


def update(**detail: Any) -> dict[str, Any]:
    return {"eventName": "UpdateTrail", "requestParameters": {"name": "audit"}, **detail}


@pytest.mark.parametrize(
    ("seen", "expected"),
    [
        (event(update(awsRegion="eu-west-1")), TrailEvent("UpdateTrail", "audit", "eu-west-1")),
        (event(update()), TrailEvent("UpdateTrail", "audit", REGION)),  # no region: the function's own
        (event(update(awsRegion="")), TrailEvent("UpdateTrail", "audit", REGION)),
        (event(update(awsRegion=7)), TrailEvent("UpdateTrail", "audit", REGION)),
        # The account: the event's recipient, else the EventBridge envelope's; neither, not known.
        (
            event(update(recipientAccountId=ACCOUNT), account=OTHER_ACCOUNT),
            TrailEvent("UpdateTrail", "audit", REGION, account=ACCOUNT),
        ),
        (event(update(), account=OTHER_ACCOUNT), TrailEvent("UpdateTrail", "audit", REGION, account=OTHER_ACCOUNT)),
        (event(update(recipientAccountId=""), account=""), TrailEvent("UpdateTrail", "audit", REGION)),
        (event(update(recipientAccountId=123)), TrailEvent("UpdateTrail", "audit", REGION)),
        # A trail named by ARN: its region and account are the ARN's.
        (
            event(
                update(requestParameters={"name": f"arn:aws:cloudtrail:eu-west-1:{OTHER_ACCOUNT}:trail/audit"}),
                account=ACCOUNT,
            ),
            TrailEvent(
                "UpdateTrail",
                f"arn:aws:cloudtrail:eu-west-1:{OTHER_ACCOUNT}:trail/audit",
                "eu-west-1",
                None,
                OTHER_ACCOUNT,
            ),
        ),
        # Not a change trailkeeper watches.
        (
            event({"eventName": "DescribeTrails", "awsRegion": "eu-west-1"}),
            TrailEvent(
                "DescribeTrails", None, "eu-west-1", "'DescribeTrails' is not a trail change trailkeeper watches"
            ),
        ),
        (event({"eventName": 5}), TrailEvent("5", None, REGION, "5 is not a trail change trailkeeper watches")),
        (event({}), TrailEvent("None", None, REGION, "None is not a trail change trailkeeper watches")),
        # A failed call, a call naming no trail.
        (
            event(update(errorCode="AccessDenied")),
            TrailEvent("UpdateTrail", "audit", REGION, "UpdateTrail failed ('AccessDenied'): it changed nothing"),
        ),
        (
            event({"eventName": "AddTags", "requestParameters": {"resourceId": ""}}),
            TrailEvent("AddTags", None, REGION, "AddTags names no trail in requestParameters.resourceId"),
        ),
    ],
)
def test_an_event_says_which_trail_where_and_whether_to_skip_it(seen: dict[str, Any], expected: TrailEvent) -> None:
    assert change_event.trail_event(seen, REGION) == expected


# --- the repair: the covering declarations, on the trail the event names (on the fidelity layer) ----------------


def repair(seen: TrailEvent, entries: list[dict[str, Any]], clients: Any, deadline: Deadline | None = None) -> Any:
    return change_event.repair(
        seen,
        state.parse({"trails": entries}),
        clients=clients,
        default_region=seeding.HOME,
        caller_account=seeding.ACCOUNT,
        deadline=deadline or Deadline(),
    )


def test_a_repair_reports_the_declarations_by_their_place_in_the_state(
    world: seeding.World, clients: RecordingClients
) -> None:
    seen = TrailEvent("UpdateTrail", seeding.TRAIL, seeding.HOME, account=seeding.ACCOUNT)
    entries = [{"Name": "other-trail", "IsLogging": True}, {"Name": seeding.TRAIL, "EnableLogFileValidation": True}]
    (result,) = repair(seen, entries, clients).results
    assert (result.status, result.declared_by) == ("fixed", ((1, seeding.TRAIL),))
    assert [u.params["Name"] for u in clients.named("UpdateTrail")] == [world.trail_arn]


def test_a_repair_with_no_time_left_writes_nothing(world: seeding.World, clients: RecordingClients) -> None:
    seen = TrailEvent("UpdateTrail", seeding.TRAIL, seeding.HOME, account=seeding.ACCOUNT)
    spent = Deadline(0.0)
    (result,) = repair(seen, [{"Name": seeding.TRAIL, "EnableLogFileValidation": True}], clients, spent).results
    assert result.status == "failed" and clients.writes() == 0


def test_a_repair_reads_the_tags_of_the_trail_the_event_names_only(
    world: seeding.World, clients: RecordingClients
) -> None:
    for name in ("audit-a", "audit-b"):
        seeding.add_trail(name, seeding.HOME)
    seen = TrailEvent("UpdateTrail", seeding.TRAIL, seeding.HOME, account=seeding.ACCOUNT)
    entries = [{"Name": "*", "Match": {"Tags": {"env": None}}, "EnableLogFileValidation": True}]
    repair(seen, entries, clients)
    assert [call.params["ResourceIdList"] for call in clients.named("ListTags")] == [[world.trail_arn]]


def test_a_members_repair_leaves_an_organization_trail_of_another_account_alone(
    delegated: organization.Delegated,
) -> None:
    # The management account's organization trail, named by an event a plain member's function received: the
    # member's pattern covers only trails it may change, so nothing is written and nothing is reported failed.
    web = delegated.organization.members["web"]
    member = RecordingClients(session=organization.session_in(web))
    seen = TrailEvent("UpdateTrail", delegated.trail_arn, seeding.HOME, account=delegated.organization.management)
    result = change_event.repair(
        seen,
        state.parse({"trails": [{"Name": "org-*", "IsLogging": True}]}),
        clients=member,
        default_region=seeding.HOME,
        caller_account=web,
        deadline=Deadline(),
    )
    assert (result.results, result.count("failed")) == ((), 0)
    assert member.writes() == 0
