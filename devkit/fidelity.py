"""A fidelity layer over moto 5.2.5: its CloudTrail answers as real CloudTrail does, for the calls the
whole-trail work uses (logging, event selectors, Insights, tags, KMS keys, home regions).

moto implements every call but not CloudTrail's rules, so a provider tested against bare moto can pass
tests and still fail in AWS (an order of writes that enables Insights before management events, a write
sent to a shadow region) or drift forever (a default selector it never sees, a key alias it compares as
a string). The layer patches moto's CloudTrail backend, model and response classes in this process, so it
holds for `moto.mock_aws()` and for a `moto.server.ThreadedMotoServer` run in the same process alike.
State it adds lives on moto's own objects (a Trail's attributes, its backend's tagging service), so
moto's reset (`mock_aws()` ending, `POST /moto-api/reset`) clears it too.

    from devkit import fidelity

    with fidelity.cloudtrail_as_aws(), moto.mock_aws():
        ...  # boto3 against moto, with CloudTrail's behaviour

    fidelity.install()    # or for a whole session; both idempotent
    fidelity.uninstall()

    with fidelity.refusing("UpdateTrail", "InsufficientS3BucketPolicyException"):
        ...  # CloudTrail refusing a write for a reason no local AWS models (a bucket policy)

| # | CloudTrail does (source)                    | moto 5.2.5 does            | the layer                             |
|---|---------------------------------------------|----------------------------|---------------------------------------|
| 1 | GetEventSelectors on a trail never          | `EventSelectors: []`; both | answers the default selector; omits   |
|   | configured: one default basic selector      | keys, one empty            | the unused kind; fills a basic        |
|   | {All, management, [], []} (aws-facts.md;    |                            | selector's defaults                   |
|   | Terraform #3697, #4040); only the kind in   |                            |                                       |
|   | use is in the answer (ScoutSuite #1424)     |                            |                                       |
| 2 | HasCustomEventSelectors true once           | both always false          | true after any PutEventSelectors (see |
|   | PutEventSelectors was called (console-made  |                            | `_description`); HasInsightSelectors  |
|   | trails with only the default selector       |                            | from the Insights                     |
|   | report true); HasInsightSelectors true      |                            |                                       |
|   | while Insights are on                       |                            |                                       |
| 3 | GetInsightSelectors without Insights:       | no error; `[]` keeps them; | raises; clears; replaces; reads back  |
|   | InsightNotEnabledException; `[]` turns      | a put appends; any type;   | reversed;                             |
|   | Insights off; a put replaces; order not     | no prerequisite            | InvalidInsightSelectorsException for  |
|   | kept; InsightType ApiCallRateInsight |      |                            | a bad type or missing management      |
|   | ApiErrorRateInsight; ApiCallRate needs      |                            | events                                |
|   | write management events, ApiErrorRate read  |                            |                                       |
|   | or write (botocore's docs)                  |                            |                                       |
| 4 | PutEventSelectors: never both kinds; one    | both accepted; a basic put | InvalidParameterCombinationException; |
|   | kind replaces the other; 1 to 5 basic       | keeps the advanced ones;   | replaces;                             |
|   | selectors, 250 data resources, 500 advanced | no limits; kept as sent    | InvalidEventSelectorsException per    |
|   | values; IncludeManagementEvents false needs |                            | rule, and for removing the management |
|   | DataResources; field selectors read back    |                            | events Insights need; sorted, six     |
|   | sorted by Field with all six operators      |                            | operators                             |
|   | (aws-facts.md; botocore's docs)             |                            |                                       |
| 5 | Writes in the home region only              | writes anywhere or         | InvalidHomeRegionException;           |
|   | (InvalidHomeRegionException, botocore's     | TrailNotFound; tags kept   | CloudTrailARNInvalidException for     |
|   | docs); tag calls take an ARN of the calling | per calling region         | tags elsewhere; shadows read by ARN   |
|   | region (CloudTrailARNInvalidException:      |                            | only                                  |
|   | cq-provider-aws #236, aws-sdk-java #1309);  |                            |                                       |
|   | a shadow is read by its ARN                 |                            |                                       |
| 6 | A trail made by the API starts not logging  | same                       | nothing (a test pins it)              |
|   | (aws-facts.md)                              |                            |                                       |
| 7 | At most 50 user tags                        | no limit; any key          | both errors;                          |
|   | (TagsLimitExceededException); users cannot  |                            | `seed_cloudformation_tags` adds       |
|   | add or remove `aws:` keys                   |                            | CloudFormation's own as               |
|   | (InvalidTagParameterException), but         |                            | CloudFormation would                  |
|   | CloudFormation's own are on its trails      |                            |                                       |
| 8 | KmsKeyId stored as the key's full ARN       | stored as sent, never      | resolved through moto's KMS backend;  |
|   | whatever form was sent; an unknown key:     | checked                    | KmsKeyNotFoundException               |
|   | KmsKeyNotFoundException (aws-facts.md)      |                            |                                       |
| 9 | DescribeTrails and GetTrail read            | ignores it on CreateTrail  | stores it; answers it (true unless    |
|   | RecursiveLogging back (botocore's Trail     | and UpdateTrail; never     | set false), so a declared value       |
|   | shape); default true (UpdateTrail's docs)   | answers it                 | settles                               |
| 10| CloudWatch Logs: an existing log group of   | stores any ARN             | InvalidCloudWatchLogsLogGroupArn-     |
|   | the trail's account and region only         |                            | Exception on Create and UpdateTrail   |
|   | (InvalidCloudWatchLogsLogGroupArnException) |                            |                                       |
| + | GetTrail answers HomeRegion; DeleteTrail of | no HomeRegion; ignores an  | as CloudTrail (the last:              |
|   | an unknown trail or outside the home region | unknown trail; checks the  | InvalidParameterCombinationException) |
|   | fails; UpdateTrail cannot leave a           | pair on CreateTrail only   |                                       |
|   | multi-region trail without global service   |                            |                                       |
|   | events (aws-facts.md)                       |                            |                                       |

CloudTrail's delegated administrator (registration, organization trails seen from every account of the
organization, what each may do to them, `trailNameList`) is modeled in devkit/delegation.py, installed with
this layer.

One more, of the process rather than of CloudTrail: AWS serves calls made at the same time, but moto's
backends are plain dictionaries, and in-process (`mock_aws()`) two threads of one run (the fleet reads
regions in parallel) can change one while another iterates it ("dictionary changed size during
iteration"). The layer serves moto's in-process calls one at a time, as a server serves each request
whole (`_serial_process_request`).

Where the brief and the evidence differ the evidence won, and the comment at the rule says so (tags
outside the home region: CloudTrailARNInvalidException, not InvalidHomeRegionException).
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from moto.cloudtrail import models as ct_models
from moto.cloudtrail import responses as ct_responses
from moto.cloudtrail.exceptions import TrailNameTooShort, TrailNotFoundException
from moto.core.botocore_stubber import BotocoreStubber
from moto.core.exceptions import JsonRESTError
from moto.ec2.models.availability_zones_and_regions import RegionsAndZonesBackend

from devkit import delegation, regions
from devkit.delivery_world import DeliveredStatus

Json = dict[str, Any]

# The one basic selector CloudTrail reads back for a trail nobody configured (aws-facts.md "Read-backs").
DEFAULT_EVENT_SELECTOR: Mapping[str, Any] = {
    "ReadWriteType": "All",
    "IncludeManagementEvents": True,
    "DataResources": [],
    "ExcludeManagementEventSources": [],
}
# AdvancedFieldSelector's operators, in botocore's order; all six come back, unused ones `[]`.
OPERATORS = ("Equals", "StartsWith", "EndsWith", "NotEquals", "NotStartsWith", "NotEndsWith")
INSIGHT_TYPES = frozenset({"ApiCallRateInsight", "ApiErrorRateInsight"})  # botocore's InsightType enum
EVENT_CATEGORIES = frozenset({"Management", "Data"})  # botocore's SourceEventCategory enum
READ_WRITE_TYPES = frozenset({"All", "ReadOnly", "WriteOnly"})  # botocore's ReadWriteType enum
DATA_RESOURCE_TYPES = frozenset({"AWS::S3::Object", "AWS::Lambda::Function", "AWS::DynamoDB::Table"})
EXCLUDABLE_SOURCES = frozenset({"kms.amazonaws.com", "rdsdata.amazonaws.com"})
EQUALS_ONLY_FIELDS = frozenset({"readOnly", "eventCategory", "resources.type"})
MAX_BASIC_SELECTORS = 5  # InvalidEventSelectorsException's docs: "1 to 5"
MAX_DATA_RESOURCES = 250  # per trail, across selectors (same docs)
MAX_ADVANCED_VALUES = 500  # across all conditions of all advanced selectors (same docs)
MAX_USER_TAGS = 50  # TagsLimitExceededException's docs; the model's 200 is not the service limit
CLOUDFORMATION_STACK_ID_SUFFIX = "00000000-0000-4000-8000-000000000000"

# Attributes the layer sets on moto's Trail (so moto's reset forgets them with the trail).
_SELECTORS_PUT = "fidelity_selectors_put"
_RECURSIVE_LOGGING = "fidelity_recursive_logging"
RECURSIVE_LOGGING = "RecursiveLogging"  # CreateTrail/UpdateTrail parameter and Trail field, default true

_TRAIL_ARN = re.compile(r"arn:(?P<partition>[^:]+):cloudtrail:(?P<region>[^:]+):(?P<account>\d{12}):trail/(?P<name>.+)")
_KMS_ARN = re.compile(r"arn:[^:]+:kms:(?P<region>[^:]+):(?P<account>\d{12}):(?:key|alias)/.+")


def _error(code: str, message: str) -> JsonRESTError:
    """An error moto turns into CloudTrail's JSON error answer (HTTP 400, `__type` = code)."""
    return JsonRESTError(code, message)


# --- finding a trail the way CloudTrail does --------------------------------------------------------


def _all_trails(account_id: str) -> Iterator[Any]:
    """Every trail of the account: moto keeps each in the backend of the region that created it."""
    for backend in list(ct_models.cloudtrail_backends[account_id].values()):
        yield from list(backend.trails.values())


def _locate(backend: Any, name_or_arn: str | None, *, write: bool) -> Any:
    """The trail a call names, seen from the backend's region, or CloudTrail's error.

    A name matches a trail of this region, or a multi-region trail seen here as a shadow; an ARN names
    its trail wherever it lives. Writes must be made in the home region (botocore's docs for UpdateTrail,
    StartLogging, StopLogging, PutEventSelectors, PutInsightSelectors: InvalidHomeRegionException). A
    shadow is read by its ARN only (GetTrailStatus' docs; aws-sdk-go-v2 #1957 shows GetEventSelectors by
    name in another region answering TrailNotFoundException).
    """
    if name_or_arn is None or len(name_or_arn) < 3:
        raise TrailNameTooShort(actual_length=len(name_or_arn or ""))
    region = backend.region_name
    by_arn = _TRAIL_ARN.fullmatch(name_or_arn)
    if by_arn:
        trail = next((t for t in _all_trails(backend.account_id) if t.arn == name_or_arn), None)
        if trail is None:  # an organization trail of the management account (devkit/delegation.py)
            trail = delegation.foreign_trail(backend.account_id, name_or_arn, write=write)
    else:
        trail = backend.trails.get(name_or_arn) or next(
            (t for t in _all_trails(backend.account_id) if t.trail_name == name_or_arn and t.is_multi_region), None
        )
    if trail is None:
        # A name is read as a trail of the caller's own account and region: from another account (a delegated
        # administrator's, a member's) an organization trail's name is not found (CFN-roadmap #1932, TF #28440).
        named = name_or_arn if by_arn else f"arn:aws:cloudtrail:{region}:{backend.account_id}:trail/{name_or_arn}"
        raise TrailNotFoundException(account_id=backend.account_id, name=named)
    if trail.region_name == region:
        return trail
    if write:
        raise _error(
            "InvalidHomeRegionException",
            f"This operation must be called from the trail's home region {trail.region_name}, not {region}.",
        )
    if by_arn and trail.is_multi_region:
        return trail
    raise TrailNotFoundException(account_id=backend.account_id, name=name_or_arn)


# What AddTags, RemoveTags and ListTags answer for a trail ARN of another region (see `_tag_target`).
TAGS_OUTSIDE_HOME_REGION = "CloudTrailARNInvalidException"


def _tag_target(backend: Any, resource_id: str | None) -> Any:
    """The trail a tag call names: an ARN of the calling region only.

    The brief (and aws-facts.md) expected InvalidHomeRegionException here, but botocore's model lists no
    such error for AddTags, RemoveTags or ListTags and does list CloudTrailARNInvalidException; ListTags
    called with another region's trail ARN answers "CloudTrailARNInvalidException: Region in ARN is wrong,
    you can only access resources in region us-east-1." (cloudquery/cq-provider-aws #236; the same for
    other calls in aws/aws-sdk-java #1309), and shadow trails' tags are visible only in the home region
    (cloud-custodian #8956). An unknown trail: ResourceNotFoundException (botocore's model).
    """
    match = _TRAIL_ARN.fullmatch(resource_id or "")
    if match is None:
        raise _error("CloudTrailARNInvalidException", f"{resource_id!r} is not a valid trail ARN.")
    if match["region"] != backend.region_name:
        raise _error(
            TAGS_OUTSIDE_HOME_REGION,
            f"Region in ARN is wrong, you can only access resources in region {backend.region_name}.",
        )
    trail = next((t for t in backend.trails.values() if t.arn == resource_id), None)
    if trail is None and match["account"] != backend.account_id:
        trail = delegation.foreign_trail(backend.account_id, str(resource_id), write=False, tags=True)
    if trail is None:
        raise _error("ResourceNotFoundException", f"Resource {resource_id} not found.")
    return trail


# --- event selectors ---------------------------------------------------------------------------------


def _basic_read_back(selector: Mapping[str, Any]) -> Json:
    """A basic selector as CloudTrail stores it: every member present, defaults filled in."""
    return {
        "ReadWriteType": selector.get("ReadWriteType", "All"),
        "IncludeManagementEvents": selector.get("IncludeManagementEvents", True),
        "DataResources": [
            {"Type": resource.get("Type"), "Values": list(resource.get("Values") or [])}
            for resource in selector.get("DataResources") or []
        ],
        "ExcludeManagementEventSources": list(selector.get("ExcludeManagementEventSources") or []),
    }


def _advanced_read_back(selector: Mapping[str, Any]) -> Json:
    """An advanced selector as CloudTrail reads it back: field selectors sorted by Field, all six operators
    present, unused ones `[]` (aws-facts.md "Read-backs"; Terraform PR #19368)."""
    fields = [
        {"Field": field["Field"], **{op: list(field.get(op) or []) for op in OPERATORS}}
        for field in selector.get("FieldSelectors") or []
    ]
    answer: Json = {"Name": selector["Name"]} if "Name" in selector else {}
    answer["FieldSelectors"] = sorted(fields, key=lambda field: str(field["Field"]))
    return answer


def _selectors_of(trail: Any) -> tuple[list[Json], list[Json]]:
    """(basic, advanced) as CloudTrail reads them back: the default selector if none was ever put."""
    basic, advanced = list(trail.event_selectors), list(trail.advanced_event_selectors)
    if not basic and not advanced:
        return [dict(DEFAULT_EVENT_SELECTOR)], []
    return basic, advanced


def _management_logged(basic: Sequence[Mapping[str, Any]], advanced: Sequence[Mapping[str, Any]]) -> tuple[bool, bool]:
    """(reads, writes): which management events the selectors log."""
    reads = writes = False
    for selector in basic:
        if selector.get("IncludeManagementEvents", True):
            kind = selector.get("ReadWriteType", "All")
            reads |= kind in ("All", "ReadOnly")
            writes |= kind in ("All", "WriteOnly")
    for selector in advanced:
        fields = {field["Field"]: field for field in selector.get("FieldSelectors") or []}
        if "Management" not in (fields.get("eventCategory") or {}).get("Equals", []):
            continue
        read_only = fields.get("readOnly")
        if read_only is None:  # no readOnly condition: both reads and writes
            reads = writes = True
        else:
            reads |= "true" in read_only.get("Equals", [])
            writes |= "false" in read_only.get("Equals", [])
    return reads, writes


def _data_logged(basic: Sequence[Mapping[str, Any]], advanced: Sequence[Mapping[str, Any]]) -> bool:
    if any(selector.get("DataResources") for selector in basic):
        return True
    return any(
        "Data" in field.get("Equals", [])
        for selector in advanced
        for field in selector.get("FieldSelectors") or []
        if field.get("Field") == "eventCategory"
    )


def _insights_unmet(
    insights: Sequence[Mapping[str, Any]], basic: Sequence[Mapping[str, Any]], advanced: Sequence[Mapping[str, Any]]
) -> str | None:
    """Why these Insights cannot run with these selectors, or None.

    botocore's PutInsightSelectors docs: "To log CloudTrail Insights on the API call rate, the trail ...
    must log write management events. To log CloudTrail Insights on the API error rate, the trail ... must
    log read or write management events. For Data events Insights: ... the trail must log read or write
    data events."
    """
    reads, writes = _management_logged(basic, advanced)
    for insight in insights:
        kind = insight.get("InsightType")
        categories = insight.get("EventCategories") or ["Management"]
        if "Management" in categories:
            if kind == "ApiCallRateInsight" and not writes:
                return "ApiCallRateInsight needs the trail to log write management events"
            if kind == "ApiErrorRateInsight" and not (reads or writes):
                return "ApiErrorRateInsight needs the trail to log read or write management events"
        if "Data" in categories and not _data_logged(basic, advanced):
            return f"{kind} on Data events needs the trail to log read or write data events"
    return None


def _invalid_selectors(message: str) -> JsonRESTError:
    return _error("InvalidEventSelectorsException", message)


def _check_basic(selectors: Sequence[Mapping[str, Any]]) -> None:
    """The rules InvalidEventSelectorsException's docs and aws-facts.md give for basic selectors."""
    if len(selectors) > MAX_BASIC_SELECTORS:
        raise _invalid_selectors(f"A trail can have up to {MAX_BASIC_SELECTORS} event selectors, not {len(selectors)}.")
    data_resources = 0
    for selector in selectors:
        if selector.get("ReadWriteType", "All") not in READ_WRITE_TYPES:
            raise _invalid_selectors(f"Value {selector.get('ReadWriteType')} for ReadWriteType is invalid.")
        resources = selector.get("DataResources") or []
        if not selector.get("IncludeManagementEvents", True) and not resources:
            raise _invalid_selectors("An event selector that excludes management events must specify DataResources.")
        for resource in resources:
            if resource.get("Type") not in DATA_RESOURCE_TYPES:
                raise _invalid_selectors(f"Value {resource.get('Type')} for DataResources.Type is invalid.")
            data_resources += len(resource.get("Values") or [])
        for source in selector.get("ExcludeManagementEventSources") or []:
            if source not in EXCLUDABLE_SOURCES:
                raise _invalid_selectors(f"Value {source} for ExcludeManagementEventSources is invalid.")
    if data_resources > MAX_DATA_RESOURCES:
        raise _invalid_selectors(f"A trail is limited to {MAX_DATA_RESOURCES} data resources, not {data_resources}.")


def _check_advanced(selectors: Sequence[Mapping[str, Any]]) -> None:
    """The rules InvalidEventSelectorsException's docs and aws-facts.md give for advanced selectors."""
    values = 0
    for selector in selectors:
        fields = selector.get("FieldSelectors") or []
        if not fields:
            raise _invalid_selectors("An advanced event selector needs at least one field selector.")
        for field in fields:
            used = [op for op in OPERATORS if field.get(op)]
            if not used:
                raise _invalid_selectors(f"Field selector {field.get('Field')} has no condition.")
            if field.get("Field") in EQUALS_ONLY_FIELDS and used != ["Equals"]:
                raise _invalid_selectors(f"Field {field.get('Field')} supports only the Equals operator.")
            values += sum(len(field.get(op) or []) for op in OPERATORS)
    if values > MAX_ADVANCED_VALUES:
        raise _invalid_selectors(f"Advanced event selectors allow {MAX_ADVANCED_VALUES} values in all, not {values}.")


def put_event_selectors(
    backend: Any, trail_name: str, event_selectors: list[Json] | None, advanced_event_selectors: list[Json] | None
) -> tuple[str, list[Json], list[Json]]:
    trail = _locate(backend, trail_name, write=True)
    _refuse_if_asked("PutEventSelectors", {"trail_name": trail_name})
    if event_selectors is not None and advanced_event_selectors is not None:
        # botocore's docs: "You can use either EventSelectors or AdvancedEventSelectors ... but not both."
        # The code is the brief's; botocore does not model one for PutEventSelectors.
        raise _error(
            "InvalidParameterCombinationException",
            "You cannot specify both EventSelectors and AdvancedEventSelectors in one request.",
        )
    if not event_selectors and not advanced_event_selectors:
        # InvalidEventSelectorsException's docs: "a valid number of event selectors (1 to 5)".
        raise _invalid_selectors("Specify 1 to 5 EventSelectors, or AdvancedEventSelectors.")
    if event_selectors:
        _check_basic(event_selectors)
        basic, advanced = [_basic_read_back(s) for s in event_selectors], []
    else:
        _check_advanced(advanced_event_selectors or [])
        basic, advanced = [], [_advanced_read_back(s) for s in advanced_event_selectors or []]
    unmet = _insights_unmet(trail.insight_selectors, basic, advanced)
    if unmet:
        # aws-facts.md: "clear Insights before removing management events"; the only selector error
        # botocore models for PutEventSelectors is this one.
        raise _invalid_selectors(f"The trail has Insights enabled: {unmet}. Turn Insights off first.")
    # One kind replaces the other (botocore's docs: "any existing EventSelectors are overwritten").
    trail.event_selectors, trail.advanced_event_selectors = basic, advanced
    setattr(trail, _SELECTORS_PUT, True)
    return trail.arn, basic, advanced


def get_event_selectors(backend: Any, trail_name: str) -> tuple[str, list[Json], list[Json]]:
    trail = _locate(backend, trail_name, write=False)
    basic, advanced = _selectors_of(trail)
    return trail.arn, basic, advanced


# --- Insights ----------------------------------------------------------------------------------------


def put_insight_selectors(
    backend: Any, trail_name: str, insight_selectors: list[Json] | None
) -> tuple[str, list[Json]]:
    trail = _locate(backend, trail_name, write=True)
    insights = list(insight_selectors or [])
    for insight in insights:
        if insight.get("InsightType") not in INSIGHT_TYPES:  # botocore's InsightType enum
            raise _error(
                "InvalidInsightSelectorsException",
                f"Value {insight.get('InsightType')} for InsightType is invalid; "
                "valid values are ApiCallRateInsight and ApiErrorRateInsight.",
            )
        for category in insight.get("EventCategories") or []:
            if category not in EVENT_CATEGORIES:
                raise _error("InvalidInsightSelectorsException", f"Value {category} for EventCategories is invalid.")
    unmet = _insights_unmet(insights, *_selectors_of(trail))
    if unmet:
        raise _error("InvalidInsightSelectorsException", f"{unmet}; configure event selectors first.")
    # `[]` turns Insights off; a put replaces what was there (moto appends). CloudTrail does not keep the
    # order sent (aws-facts.md): store reversed, deterministic and different, to catch order-sensitive code.
    trail.insight_selectors = [dict(insight) for insight in reversed(insights)]
    return trail.arn, list(trail.insight_selectors)


def get_insight_selectors(backend: Any, trail_name: str) -> tuple[str, list[Json]]:
    trail = _locate(backend, trail_name, write=False)
    if not trail.insight_selectors:
        # GetInsightSelectors' docs: "on a trail ... that does not have Insights events enabled, the
        # operation throws the exception InsightNotEnabledException".
        raise _error("InsightNotEnabledException", f"Trail {trail.arn} does not have Insights enabled.")
    return trail.arn, list(trail.insight_selectors)


# --- logging, settings, deletion ---------------------------------------------------------------------


# --- refusals the layer does not model ---------------------------------------------------------------

# operation -> (code, message, which calls): set by `refusing`. CloudTrail refuses writes for reasons no
# local AWS models (a bucket policy that does not admit a new prefix, a KMS key policy); tests make it
# refuse them here, in the backend, so every client (in-process or through a server) sees the refusal.
_REFUSALS: dict[str, tuple[str, str, Callable[[Mapping[str, Any]], bool]]] = {}


@contextlib.contextmanager
def refusing(
    operation: str, code: str, message: str = "", when: Callable[[Mapping[str, Any]], bool] = lambda _: True
) -> Iterator[None]:
    """CloudTrail refusing `operation` (UpdateTrail, StartLogging or PutEventSelectors) with `code` while
    the block runs, for the calls whose arguments (moto's snake_case names) satisfy `when`.

    >>> with refusing("UpdateTrail", "InsufficientS3BucketPolicyException", when=lambda a: a["s3_key_prefix"]):
    ...     sorted(_REFUSALS)
    ['UpdateTrail']
    """
    _REFUSALS[operation] = (code, message or f"refused by the test ({code})", when)
    try:
        yield
    finally:
        _REFUSALS.pop(operation, None)


def _refuse_if_asked(operation: str, arguments: Mapping[str, Any]) -> None:
    refusal = _REFUSALS.get(operation)
    if refusal is not None and refusal[2](arguments):
        raise _error(refusal[0], refusal[1])


def start_logging(backend: Any, name: str) -> None:
    trail = _locate(backend, name, write=True)
    _refuse_if_asked("StartLogging", {"name": name})
    trail.start_logging()


def stop_logging(backend: Any, name: str) -> None:
    _locate(backend, name, write=True).stop_logging()


def get_trail_status(backend: Any, name: str) -> Any:
    """CloudTrail reports a delivery that fails (devkit/delivery_world.py); moto reports all as delivered."""
    return DeliveredStatus(_locate(backend, name, write=False))


def delete_trail(backend: Any, name: str) -> None:
    """CloudTrail refuses an unknown trail and a call outside the home region; moto ignores both."""
    trail = _locate(backend, name, write=True)
    owner = delegation.owner_backend(trail)  # the caller's, or the management account's (an organization trail)
    del owner.trails[trail.trail_name]
    owner.tagging_service.delete_all_tags_for_resource(trail.arn)


def _key_arn(account_id: str, region: str, key_id: str) -> str:
    """The full ARN of the KMS key `key_id` names (alias name or ARN, key id or ARN), as CloudTrail stores
    it (aws-facts.md: "KmsKeyId is always read back as the key's full ARN"); an ARN is resolved in its own
    account and region (a key may belong to another account)."""
    from moto.kms.models import kms_backends

    match = _KMS_ARN.fullmatch(key_id)
    if match:
        account_id, region = match["account"], match["region"]
    try:
        return str(kms_backends[account_id][region].describe_key(key_id).arn)
    except Exception as missing:  # moto raises KeyError, or AttributeError for an unknown alias
        raise _error("KmsKeyNotFoundException", f"KMS key {key_id} does not exist in {region}.") from missing


def update_trail(backend: Any, name: str, kms_key_id: str | None = None, **settings: Any) -> Any:
    trail = _locate(backend, name, write=True)
    _refuse_if_asked("UpdateTrail", {"name": name, "kms_key_id": kms_key_id, **settings})
    delegation.check_conversion(backend.account_id, trail, settings.get("is_organization_trail"))
    multi_region = settings.get("is_multi_region_trail")
    global_events = settings.get("include_global_service_events")
    if (trail.is_multi_region if multi_region is None else multi_region) and not (
        trail.include_global_service_events if global_events is None else global_events
    ):
        # aws-facts.md: "A multi-region trail must include global service events"; moto checks it on
        # CreateTrail only.
        raise _error("InvalidParameterCombinationException", "Multi-Region trail must include global service events.")
    if kms_key_id:  # "" clears the key (aws-facts.md: an empty string clears a string setting)
        kms_key_id = _key_arn(backend.account_id, backend.region_name, kms_key_id)
    if settings.get("cw_log_group_arn"):  # the trail's own account (an organization trail's: the management account)
        _check_log_group(trail.account_id, backend.region_name, str(settings["cw_log_group_arn"]))
    owner = delegation.owner_backend(trail)
    return _ORIGINAL["update_trail"](owner, name=trail.arn, kms_key_id=kms_key_id, **settings)


def _check_log_group(account_id: str, region: str, group_arn: str) -> None:
    """CloudTrail delivers only to an existing log group of the trail's own account and region
    (InvalidCloudWatchLogsLogGroupArnException); moto stores any ARN."""
    from moto.logs.models import logs_backends

    parts = group_arn.split(":")
    name = group_arn.split(":log-group:", 1)[-1].removesuffix(":*")
    here = len(parts) >= 7 and (parts[4], parts[3]) == (account_id, region)
    if not here or name not in logs_backends[account_id][region].groups:
        raise _error(
            "InvalidCloudWatchLogsLogGroupArnException",
            f"Access denied. Verify in IAM that the log group {group_arn} exists in {region} of account {account_id}.",
        )


def _check_tag_keys(tags: Sequence[Mapping[str, Any]], verb: str) -> None:
    """Users cannot add or remove `aws:` keys (AWS tagging rules: the prefix is reserved, any case);
    botocore's AddTags/RemoveTags model the error as InvalidTagParameterException."""
    for tag in tags:
        key = str(tag.get("Key", ""))
        if key.lower().startswith("aws:"):
            raise _error(
                "InvalidTagParameterException", f"Tag key {key} cannot be {verb}: the aws: prefix is reserved."
            )


def _check_tag_limit(existing: Mapping[str, Any], added: Sequence[Mapping[str, Any]]) -> None:
    """At most 50 tags per trail (TagsLimitExceededException's docs); `aws:` tags do not count (AWS tagging
    rules: system tags do not count against the per-resource limit)."""
    keys = {key for key in existing if not key.lower().startswith("aws:")} | {str(t.get("Key")) for t in added}
    if len(keys) > MAX_USER_TAGS:
        raise _error(
            "TagsLimitExceededException", f"A trail can have at most {MAX_USER_TAGS} tags; this would make {len(keys)}."
        )


def create_trail(backend: Any, *args: Any) -> Any:
    """CreateTrail's KmsKeyId and TagsList under the same rules as UpdateTrail's and AddTags'."""
    *settings, kms_key_id, tags_list = args
    _check_tag_keys(tags_list or [], "added")
    _check_tag_limit({}, tags_list or [])
    if kms_key_id:
        kms_key_id = _key_arn(backend.account_id, backend.region_name, kms_key_id)
    if settings[8]:  # cw_log_group_arn
        _check_log_group(backend.account_id, backend.region_name, str(settings[8]))
    return _ORIGINAL["create_trail"](backend, *settings, kms_key_id, tags_list)


# --- tags --------------------------------------------------------------------------------------------


def add_tags(backend: Any, resource_id: str, tags_list: list[Json]) -> None:
    owner = delegation.owner_backend(_tag_target(backend, resource_id))  # tags live with the trail's owner
    _check_tag_keys(tags_list or [], "added")
    _check_tag_limit(owner.tagging_service.get_tag_dict_for_resource(resource_id), tags_list or [])
    _ORIGINAL["add_tags"](owner, resource_id=resource_id, tags_list=tags_list)


def remove_tags(backend: Any, resource_id: str, tags_list: list[Json]) -> None:
    owner = delegation.owner_backend(_tag_target(backend, resource_id))
    _check_tag_keys(tags_list or [], "removed")
    _ORIGINAL["remove_tags"](owner, resource_id=resource_id, tags_list=tags_list)


def list_tags(backend: Any, resource_id_list: list[str]) -> list[Json]:
    owners = [delegation.owner_backend(_tag_target(backend, resource_id)) for resource_id in resource_id_list or []]
    return [
        item
        for owner, resource_id in zip(owners, resource_id_list or [], strict=True)
        for item in _ORIGINAL["list_tags"](owner, resource_id_list=[resource_id])
    ]


# --- model and response shapes -----------------------------------------------------------------------


def _description(trail: Any, include_region: bool = False) -> Json:
    """DescribeTrails/GetTrail: the two flags CloudTrail sets, which moto leaves false.

    HasCustomEventSelectors follows the call, not the content. No AWS document says when it turns true
    (botocore: "Specifies if the trail has custom event selectors"); the issue states CloudTrail reports
    true after any PutEventSelectors, and public describe-trails outputs of console-made trails (the
    console puts the management-events selector) read true: cloudsploit's test fixtures, and an
    organization trail in a public how-to. So: true after any successful PutEventSelectors, never false
    again. For a provider, false means "the default selector, no read needed"; true means "read them",
    never "they differ from the default".
    """
    answer: Json = _ORIGINAL["description"](trail, include_region=include_region)
    answer["HasCustomEventSelectors"] = bool(getattr(trail, _SELECTORS_PUT, False))
    answer["HasInsightSelectors"] = bool(trail.insight_selectors)
    answer[RECURSIVE_LOGGING] = bool(getattr(trail, _RECURSIVE_LOGGING, True))
    topic = str(getattr(trail, "sns_topic_name", "") or "")
    if topic.startswith("arn:"):  # CloudTrail takes a topic's name or ARN; moto builds an ARN of the ARN
        answer["SnsTopicARN"] = topic
    return answer


def _recursive_logging(response: Any, answer: str) -> str:
    """CreateTrail/UpdateTrail, after moto: keep RecursiveLogging (moto drops it) and answer the trail again.

    botocore's Trail shape has RecursiveLogging, so CloudTrail reads it back: the layer models it rather than
    leaving it out of what is compared (a declared `RecursiveLogging: false` would otherwise drift forever).
    """
    value = response._get_param(RECURSIVE_LOGGING)
    arn = json.loads(answer)["TrailARN"]
    caller = response.cloudtrail_backend.account_id
    trail = next(t for t in [*_all_trails(caller), *delegation.organization_trails(caller)] if t.arn == arn)
    if value is not None:
        setattr(trail, _RECURSIVE_LOGGING, bool(value))
    return json.dumps(trail.description())


def _response_create_trail(response: Any) -> str:
    return _recursive_logging(response, _ORIGINAL["response_create_trail"](response))


def _response_update_trail(response: Any) -> str:
    return _recursive_logging(response, _ORIGINAL["response_update_trail"](response))


def _selectors_answer(trail_arn: str, basic: list[Json], advanced: list[Json]) -> str:
    """Only the kind in use is in the answer (ScoutSuite #1424: a trail with advanced selectors reads back
    without an `EventSelectors` key)."""
    answer: Json = {"TrailARN": trail_arn}
    if advanced:
        answer["AdvancedEventSelectors"] = advanced
    else:
        answer["EventSelectors"] = basic
    return json.dumps(answer)


def _response_put_event_selectors(response: Any) -> str:
    params = json.loads(response.body)
    return _selectors_answer(
        *response.cloudtrail_backend.put_event_selectors(
            trail_name=params.get("TrailName"),
            event_selectors=params.get("EventSelectors"),
            advanced_event_selectors=params.get("AdvancedEventSelectors"),
        )
    )


def _response_get_event_selectors(response: Any) -> str:
    params = json.loads(response.body)
    return _selectors_answer(*response.cloudtrail_backend.get_event_selectors(trail_name=params.get("TrailName")))


def _response_get_trail(response: Any) -> str:
    """GetTrail answers HomeRegion (botocore's Trail shape); moto leaves it out (aws-facts.md)."""
    trail = _locate(response.cloudtrail_backend, response._get_param("Name"), write=False)
    return json.dumps({"Trail": trail.description(include_region=True)})


_SERIAL = threading.RLock()  # one in-process moto call at a time (see the module docstring)


def _serial_process_request(stubber: Any, request: Any) -> Any:
    with _SERIAL:
        return _ORIGINAL["serial_requests"](stubber, request)


# --- installing --------------------------------------------------------------------------------------

_Backend = ct_models.CloudTrailBackend
_PATCHES: dict[str, tuple[type, str, Callable[..., Any]]] = {
    "serial_requests": (BotocoreStubber, "process_request", _serial_process_request),
    "create_trail": (_Backend, "create_trail", create_trail),
    "update_trail": (_Backend, "update_trail", update_trail),
    "delete_trail": (_Backend, "delete_trail", delete_trail),
    "start_logging": (_Backend, "start_logging", start_logging),
    "stop_logging": (_Backend, "stop_logging", stop_logging),
    "get_trail_status": (_Backend, "get_trail_status", get_trail_status),
    "put_event_selectors": (_Backend, "put_event_selectors", put_event_selectors),
    "get_event_selectors": (_Backend, "get_event_selectors", get_event_selectors),
    "put_insight_selectors": (_Backend, "put_insight_selectors", put_insight_selectors),
    "get_insight_selectors": (_Backend, "get_insight_selectors", get_insight_selectors),
    "add_tags": (_Backend, "add_tags", add_tags),
    "remove_tags": (_Backend, "remove_tags", remove_tags),
    "list_tags": (_Backend, "list_tags", list_tags),
    "description": (ct_models.Trail, "description", _description),
    "response_put_event_selectors": (
        ct_responses.CloudTrailResponse,
        "put_event_selectors",
        _response_put_event_selectors,
    ),
    "response_get_event_selectors": (
        ct_responses.CloudTrailResponse,
        "get_event_selectors",
        _response_get_event_selectors,
    ),
    "response_get_trail": (ct_responses.CloudTrailResponse, "get_trail", _response_get_trail),
    "response_create_trail": (ct_responses.CloudTrailResponse, "create_trail", _response_create_trail),
    "response_update_trail": (ct_responses.CloudTrailResponse, "update_trail", _response_update_trail),
    # The regions a run scans: the account's enabled ones, in its partition (devkit/regions.py).
    "describe_regions": (RegionsAndZonesBackend, "describe_regions", regions.describe_regions),
}
# moto's own functions, for the patches that add rules and then let moto do the rest.
_ORIGINAL: dict[str, Callable[..., Any]] = {key: getattr(owner, name) for key, (owner, name, _) in _PATCHES.items()}
# The delegated administrator (devkit/delegation.py): its own patches, some of calls moto does not have at all.
_PATCHES.update(delegation.PATCHES)


def installed() -> bool:
    """Whether moto's CloudTrail currently behaves as CloudTrail (in this process)."""
    return all(getattr(owner, name, None) is patch for owner, name, patch in _PATCHES.values())


def install() -> None:
    """Make moto's CloudTrail behave as CloudTrail, in this process, until `uninstall()`. Idempotent."""
    for owner, name, patch in _PATCHES.values():
        setattr(owner, name, patch)


def uninstall() -> None:
    """Give moto its own behaviour back. Idempotent."""
    originals = {**_ORIGINAL, **delegation.ORIGINAL}
    for key, (owner, name, _) in _PATCHES.items():
        if originals[key] is None:  # a call moto does not implement: gone again, as in moto
            if name in vars(owner):
                delattr(owner, name)
        else:
            setattr(owner, name, originals[key])


@contextlib.contextmanager
def cloudtrail_as_aws() -> Iterator[None]:
    """The layer for the length of a `with` block; an enclosing `install()` stays in force after it.

    >>> with cloudtrail_as_aws():
    ...     installed()
    True
    """
    already = installed()
    install()
    try:
        yield
    finally:
        if not already:
            uninstall()


def reset() -> None:
    """Forget every CloudTrail trail moto holds in this process, and with them everything the layer
    recorded (it keeps its state on moto's trails, so moto's own reset does the same)."""
    for account in list(ct_models.cloudtrail_backends.values()):
        account.reset()


def seed_cloudformation_tags(
    trail_arn: str, stack_name: str = "audit-trail-stack", logical_id: str = "Trail"
) -> list[Json]:
    """Put the `aws:cloudformation:*` tags CloudFormation adds to a trail it created, as CloudFormation
    would (users cannot add them: AddTags refuses `aws:` keys). In-process moto or a server in this process.
    Returns the tags added."""
    match = _TRAIL_ARN.fullmatch(trail_arn)
    if match is None:
        raise ValueError(f"not a trail ARN: {trail_arn!r}")
    region, account = match["region"], match["account"]
    stack_id = f"arn:{match['partition']}:cloudformation:{region}:{account}:stack/{stack_name}/"
    tags = [
        {"Key": "aws:cloudformation:stack-name", "Value": stack_name},
        {"Key": "aws:cloudformation:stack-id", "Value": stack_id + CLOUDFORMATION_STACK_ID_SUFFIX},
        {"Key": "aws:cloudformation:logical-id", "Value": logical_id},
    ]
    ct_models.cloudtrail_backends[account][region].tagging_service.tag_resource(trail_arn, tags)
    return tags
