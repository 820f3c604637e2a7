"""The `Custom::TrailSettings` resource: crhelper's request plumbing, hardened so a stack never hangs.

crhelper dispatches Create/Update/Delete and assembles the answer. Its defaults do not suit us, so
this subclass replaces what would hurt (see ../shared/design/aws-facts.md):
- construction builds no AWS clients (crhelper's three are for a polling feature we do not use) and
  does not reconfigure the root logger at DEBUG (which would log the ResponseURL);
- Delete answers at once (no two-minute sleep);
- exactly one answer per invocation, through our bounded, status-checking `response.Sender`;
- the timeout alarm (one reused watchdog thread, not a new Timer per event) fires early enough to
  deliver that answer, stops the work (no write after it), and every answer carries a non-empty
  PhysicalResourceId;
- a malformed event is answered FAILED instead of crashing before it can be answered;
- an Update that is CloudFormation rolling the stack back is answered SUCCESS (a FAILED answer there
  leaves the stack in UPDATE_ROLLBACK_FAILED, recoverable only by continue-update-rollback with
  resources to skip): the old settings are put back, even those that weaken audit, since the owner
  deployed them and CloudFormation accepted them (a warning names each, `RollbackWeakened` counts it);
  a rollback that cannot put them back still answers SUCCESS, the failure in the logs and the
  `RollbackNotRestored` and `Failures` metrics. docs/repairs-and-rollbacks.md says why.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping
from typing import Any

from crhelper import CfnResource

from trailkeeper import engine, observability
from trailkeeper.aws import locate
from trailkeeper.aws.calls import ANSWER_RESERVE_SECONDS, Clients, Deadline, function_region, shared_clients
from trailkeeper.cfn import events, response
from trailkeeper.cfn.watchdog import Watchdog
from trailkeeper.errors import (
    InvalidProperties,
    MalformedEvent,
    OutOfTime,
    TrailkeeperError,
    WeakensAudit,
    first_whole,
    shorten,
    show,
)
from trailkeeper.redaction import REDACTOR
from trailkeeper.trail import arns, declaration
from trailkeeper.trail.aspect import show_value

log = logging.getLogger(__name__)


def plan_summary(outcome: engine.Outcome, limit: int = response.BODY_LIMIT, measure: Callable[[str], int] = len) -> str:
    """What a DryRun would write, compactly: each call with the changes it makes; within `limit` as
    `measure` counts (the answer gives it the bytes left in CloudFormation's 4,096, `response.encoded_size`).

    >>> from trailkeeper.trail.aspect import Call, Change
    >>> calls = (Call("StartLogging", {}, 6, ("IsLogging",)),)
    >>> o = engine.Outcome("arn", "us-east-1", (Change("IsLogging", False, True),), calls, False, "")
    >>> plan_summary(o)
    'StartLogging: IsLogging false -> true'
    """
    if not outcome.writes:
        return "nothing to change"
    by_name = {change.name: change for change in outcome.changes}
    parts: list[str] = []
    for request in outcome.writes:
        shown = [
            f"{name} {show_value(by_name[name].current, 40)} -> {show_value(by_name[name].desired, 40)}"
            + (" (weakens audit)" if by_name[name].weakens else "")
            + (" (moves audit logs)" if by_name[name].moves else "")
            for name in request.properties
            if name in by_name
        ]
        parts.append(f"{request.operation}: {', '.join(shown)}" if shown else request.operation)
    return first_whole(parts, limit, measure=measure)


class TrailSettingsResource(CfnResource):
    def __init__(
        self,
        clients: Callable[[], Clients] = shared_clients,
        sender: response.Sender | None = None,
        answer_reserve: float = ANSWER_RESERVE_SECONDS,
        watchdog: Watchdog | None = None,
    ) -> None:
        # CfnResource.__init__ is deliberately not called (it builds clients and sets the root logger
        # to DEBUG); these are the attributes its request path reads, as it would set them.
        # tests/test_crhelper_contract.py checks that this list keeps up with the pinned crhelper.
        self._sleep_on_delete = 0
        self._create_func = self._update_func = self._delete_func = None
        self._poll_create_func = self._poll_update_func = self._poll_delete_func = None
        self._timer: threading.Timer | None = None
        self._init_failed = None
        self._json_logging = False
        self._log_level = self._boto_level = "WARNING"
        self._send_response = False
        self._polling_interval = 2
        self.Status = self.Reason = self.PhysicalResourceId = ""
        self.StackId = self.RequestId = self.LogicalResourceId = ""
        self.Data: dict[str, str] = {}
        self._fitted: dict[str, Callable[[int], str]] = {}  # Data values made to fit the answer (the Plan)
        self.NoEcho = False
        self._event: dict[str, Any] = {}
        self._context: Any = None
        self._response_url = ""
        self._sam_local = os.getenv("AWS_SAM_LOCAL")
        self._region = os.getenv("AWS_REGION")
        self._ssl_verify = None

        self._make_clients = clients
        self._clients: Clients | None = None
        self._sender = sender or response.Sender()
        self._answer_reserve = answer_reserve
        self._lock = threading.Lock()
        self._answered = False
        self.deadline = Deadline()
        self._watchdog = watchdog or Watchdog()
        self.create(self._apply)
        self.update(self._apply)
        self.delete(self._delete)

    # --- the work -------------------------------------------------------------------------------

    @property
    def clients(self) -> Clients:
        if self._clients is None:
            self._clients = self._make_clients()
        return self._clients

    def _caller_region(self, event: Mapping[str, Any]) -> str:
        return function_region(fallback=arns.region_of(str(event.get("StackId", ""))))

    def _apply(self, event: Mapping[str, Any], _context: Any) -> str:
        declared: declaration.Declaration | None = None
        trail: locate.Trail | None = None
        try:
            declared = declaration.parse(event["ResourceProperties"])
            if declared.is_pattern:  # before any call: one resource keeps one trail
                raise InvalidProperties(
                    [
                        f"Name={show(declared.name)}: a pattern covers many trails, and a Custom::TrailSettings "
                        "resource keeps one: give a trail name or ARN here, and declare patterns in a drift-fix "
                        "state file (trailkeeper plan/apply, the scheduled reconcile; docs/fleet.md)"
                    ]
                )
            if declared.repair_delivery is not None:  # before any call: a stack's properties never reach the guard
                raise InvalidProperties(
                    [
                        f"{declaration.REPAIR_DELIVERY}: the delivery guard reads a trail's declarations from the "
                        "declared state (DESIRED_STATE_PARAMETER), never from stacks: declare it there "
                        "(docs/delivery.md)"
                    ]
                )
            trail = locate.find(
                self.clients,
                declared.name,
                self._caller_region(event),
                self.deadline,
                caller_account=events.caller_account(event),
                caller_partition=arns.partition_of(str(event.get("StackId", ""))) or None,
            )
            outcome = self._reconcile(event, declared, trail)
        except TrailkeeperError as error:
            if event.get("RequestType") != "Update" or not self._rolling_back(event, error):
                raise
            return self._roll_back(event, declared, trail, error)
        return self._answer(outcome, declared)

    def _reconcile(
        self,
        event: Mapping[str, Any],
        declared: declaration.Declaration,
        trail: locate.Trail,
        allow_weakening: bool = False,
    ) -> engine.Outcome:
        return engine.reconcile(
            declared,
            trail,
            clients=self.clients,
            caller_account=events.caller_account(event),
            deadline=self.deadline,
            allow_weakening=allow_weakening,
        )

    def _answer(self, outcome: engine.Outcome, declared: declaration.Declaration) -> str:
        self.Data.update(
            TrailArn=outcome.trail_arn,
            HomeRegion=outcome.home_region,
            SnsTopicArn=outcome.sns_topic_arn,
            ChangedProperties=",".join(outcome.changed_properties),
        )
        if outcome.is_logging is not None:
            self.Data["IsLogging"] = "true" if outcome.is_logging else "false"
        if outcome.unchecked:  # a SUCCESS that could not check everything from this account says what, in its Reason
            self.Reason = "; ".join(outcome.unchecked)
            log.warning(
                "not checked from this account", extra={"trail": outcome.trail_arn, "unchecked": outcome.unchecked}
            )
        if declared.dry_run:  # as much of the Plan as fits in the answer's bytes once the rest is in
            self._fitted["Plan"] = lambda room: plan_summary(outcome, room, response.encoded_size)
        if outcome.applied:
            observability.count(observability.TRAILS_UPDATED)
            observability.count(observability.SETTINGS_APPLIED, len(outcome.changes))
        else:
            observability.count(observability.IN_SYNC if not outcome.writes else observability.DRY_RUNS)
        log.info(
            "trail reconciled",
            extra={
                "trail": outcome.trail_arn,
                "changed": outcome.changed_properties,
                "applied": outcome.applied,
                "dry_run": declared.dry_run,
            },
        )
        return outcome.trail_arn

    # --- rollbacks (the module docstring says what, docs/repairs-and-rollbacks.md why) ------------

    def _rolling_back(self, event: Mapping[str, Any], error: TrailkeeperError) -> bool:
        """Is this refused or failed Update CloudFormation rolling the stack back? When CloudFormation
        cannot say, no (the answer is FAILED as for any Update), and `error`'s reason says so."""
        try:
            status = events.stack_status(event, self.clients, self.deadline, self._caller_region(event))
        except TrailkeeperError as unknown:
            error.note = f"could not tell whether the stack is rolling back (DescribeStacks: {unknown.error_code})"
            log.warning("could not read the stack's status", extra={"error_code": unknown.error_code})
            return False
        log.info("stack status", extra={"stack_status": status, "error_code": error.error_code})
        return status == events.ROLLING_BACK

    def _roll_back(
        self,
        event: Mapping[str, Any],
        declared: declaration.Declaration | None,
        trail: locate.Trail | None,
        error: TrailkeeperError,
    ) -> str:
        """Put the settings deployed before the failed update back, weakening or not; answer SUCCESS."""
        if isinstance(error, WeakensAudit) and declared is not None and trail is not None:
            try:
                outcome = self._reconcile(event, declared, trail, allow_weakening=True)
            except TrailkeeperError as failure:
                error = failure
            else:
                weakened = [
                    f"{c.name} {show_value(c.current)} -> {show_value(c.desired)} (weakens {c.weakens})"
                    for c in outcome.changes
                    if c.weakens
                ]
                log.warning(
                    "rollback: the settings deployed before the failed update are back, and they weaken audit",
                    extra={"trail": outcome.trail_arn, "weakened": weakened},
                )
                observability.count(observability.ROLLBACK_WEAKENED)
                return self._answer(outcome, declared)
        log.error(
            "rollback: the settings deployed before the failed update could not be put back; answering SUCCESS "
            "so that the stack is not left in UPDATE_ROLLBACK_FAILED",
            extra={"error_code": error.error_code, "reason": error.full_reason},
        )
        observability.count(observability.ROLLBACK_NOT_RESTORED)
        observability.count_failure(error.error_code)
        physical_id = str(event.get("PhysicalResourceId", ""))
        if trail is not None or physical_id.startswith("arn:"):
            # The attributes stay those of the trail the resource names, so `!GetAtt`s still resolve.
            trail_arn = str(trail["TrailARN"]) if trail is not None else physical_id
            topic = str(trail.get("SnsTopicARN", "")) if trail is not None else ""
            self.Data.update(
                TrailArn=trail_arn, HomeRegion=arns.region_of(trail_arn), SnsTopicArn=topic, ChangedProperties=""
            )
        return physical_id

    def _delete(self, event: Mapping[str, Any], _context: Any) -> str:
        # Removing the resource stops managing the trail; it never weakens or deletes the trail.
        log.info("delete: nothing to write", extra={"physical_id": event["PhysicalResourceId"]})
        return str(event["PhysicalResourceId"])

    # --- crhelper overrides -------------------------------------------------------------------

    def __call__(self, event: Any, context: Any) -> None:
        issue = events.problem(event)
        if issue is None:
            try:
                super().__call__(event, context)
            finally:
                self._watchdog.disarm()
            return
        self._answered = False
        self._event, self._context = dict(event), context
        self._response_url = str(event["ResponseURL"])
        self.Status, self.PhysicalResourceId, self.Data = response.FAILED, "", {}
        error = MalformedEvent(issue)
        log.error("malformed custom resource event", extra={"problem": issue})
        observability.count_failure(error.code)
        self._send(response.FAILED, error.reason)

    def _crhelper_init(self, event: dict[str, Any], context: Any) -> bool:
        self._answered = False
        self._fitted = {}
        self.deadline = Deadline(self._work_seconds(context))
        return bool(super()._crhelper_init(event, context))  # type: ignore[misc]

    def _log_setup(self, event: Any, context: Any) -> None:
        """Powertools owns logging; crhelper's set-up would put the root logger at DEBUG."""

    def _wait_for_cwlogs(self, sleep: Any = None) -> None:
        """No sleep on Delete: crhelper waits two minutes by default."""

    def _work_seconds(self, context: Any) -> float:
        remaining = float(context.get_remaining_time_in_millis()) / 1000.0
        return max(0.0, remaining - min(self._answer_reserve, remaining / 4))

    def _set_timeout(self) -> None:
        # One watchdog thread for the process instead of crhelper's new Timer thread per event; it
        # rings when the work's deadline (set in _crhelper_init) ends.
        self._watchdog.arm(self.deadline.remaining(), self._timeout)

    def _claim_answer(self) -> bool:
        """True for the one caller that may answer this request (the work or the alarm, first come)."""
        with self._lock:
            if self._answered:
                return False
            self._answered = True
            return True

    def _timeout(self) -> None:
        # The answer may already be on its way (a slow PUT): then the alarm has nothing to say, and
        # saying "out of time" or counting OutOfTime would be a false alarm.
        if not self._claim_answer():
            return
        self.deadline.stop()  # no AWS write may start after this answer
        error = OutOfTime("the function ran out of time waiting for AWS; raise its timeout, then retry")
        log.error("out of time; answering FAILED", extra={"error_code": error.code})
        observability.count_failure(error.code)
        self._deliver(response.FAILED, error.reason)

    def _wrap_function(self, func: Callable[[Mapping[str, Any], Any], str] | None) -> None:
        try:
            self.PhysicalResourceId = func(self._event, self._context) if func else ""
        except TrailkeeperError as error:
            self.Status, self.Reason = response.FAILED, error.reason
            if self._late(error.error_code):
                return
            problems = list(error.problems) if isinstance(error, InvalidProperties) else [error.full_reason]
            # The reason may end in "(+N more)"; the log line lists every problem.
            log.warning("request failed", extra={"error_code": error.error_code, "problems": problems})
            observability.count_failure(error.error_code)
        except Exception as error:
            # str(error) can hold anything (a URL, a credential from a library's message): masked, as logs are.
            self.Status = response.FAILED
            self.Reason = shorten(REDACTOR.redact(f"InternalError: {type(error).__name__}: {error}"))
            if self._late("InternalError"):
                return
            log.exception("unexpected error")
            observability.count_failure("InternalError")

    def _late(self, error_code: str) -> bool:
        """True when the alarm has answered already: this failure was counted and answered as OutOfTime."""
        with self._lock:
            answered = self._answered
        if answered:
            log.info("the work ended after the OutOfTime answer", extra={"error_code": error_code})
        return answered

    def generate_physical_id(self, event: Mapping[str, Any]) -> str:
        """The id a failed Create answers with; the rollback's Delete then gets it and writes nothing."""
        return f"trailkeeper-failed-create-{event.get('RequestId', 'unknown')}"

    def _send(self, status: str | None = None, reason: str = "", send_response: Any = None) -> None:
        if not self._claim_answer():
            log.info("already answered FAILED (OutOfTime); this result is not sent", extra={"status": self.Status})
            return
        # The answer is ours now: the alarm must not ring while it is being sent (a slow PUT is not
        # being out of time). Never called from the watchdog thread, so disarm cannot wait on itself.
        self._watchdog.disarm()
        self._deliver(status, reason)

    def _deliver(self, status: str | None, reason: str) -> None:
        final_status = status or self.Status or response.FAILED
        physical_id = str(
            self.PhysicalResourceId or self._event.get("PhysicalResourceId") or self.generate_physical_id(self._event)
        )
        document = response.body(
            self._event,
            status=final_status,
            physical_id=physical_id,
            reason=REDACTOR.redact(reason if status else str(self.Reason)),
            data=self.Data if final_status == response.SUCCESS else None,
            fitted=self._fitted if final_status == response.SUCCESS else None,
            keep=("TrailArn",),  # `!GetAtt X.TrailArn` must never fail for want of room
        )
        remaining = (self._context.get_remaining_time_in_millis() / 1000.0 - 0.2) if self._context else None
        self._sender.send(self._response_url, document, Deadline(remaining))
