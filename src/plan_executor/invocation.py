"""One Lambda invocation: parse the event, run the plan at most once, report.

Business outcomes (including REJECTED for bad input, a stale plan or a reused plan id) are
returned, and those of a parsed plan are stored by the idempotency layer so a duplicate gets the
same answer back. Only infrastructure failures raise; the idempotency record is then released
and Lambda's retry is safe because the engine reconciles this plan's earlier orders first.

Before the engine may send anything, the plan's in-flight marker is written (the event and the
attempt); it is deleted once the result is stored. A marker left behind means an execution died
without reporting: a redelivery the rails refuse then cleans up after it instead of only
refusing, and `recover` (called by the sweeper, `plan_executor.sweeper`) does the same once no
delivery can run the plan any more. Both go through the same idempotency record, so a cleanup
never runs beside a live execution of the plan and a plan is reported once.

A rejection that sent nothing because of a condition that can pass (the kill switch, the market
closed, a read that failed) is returned but not stored: the record is released, so a
redelivery of the same plan is judged again. A rejection of the plan itself stays stored.
"""

import asyncio
import json
import logging
import secrets
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any

from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from plan_executor.adapters.eventbridge_detail import fit_detail
from plan_executor.adapters.eventbridge_publisher import DETAIL_TYPE
from plan_executor.adapters.inflight_markers import InflightMarker
from plan_executor.adapters.kill_switch import KillSwitchReadError
from plan_executor.bootstrap import Runtime, Services, open_services, reporting
from plan_executor.domain.enums import ExecutionStatus, TradingMode
from plan_executor.domain.events import RebalancePlannedEvent, parse_rebalance_event
from plan_executor.domain.fingerprint import plan_fingerprint
from plan_executor.domain.identifiers import is_producer_plan_id
from plan_executor.domain.ledger_keys import attempt_token
from plan_executor.domain.rejection_classes import RejectionClass, rejection_class
from plan_executor.domain.rejections import (
    RejectionContext,
    rejected_result_for_event,
    rejected_result_for_invalid_event,
)
from plan_executor.domain.results import ExecutionResult
from plan_executor.domain.validation import (
    PlanValidationError,
    Violation,
    violations_from_pydantic,
)
from plan_executor.engine.delivery import Delivery, deliver
from plan_executor.engine.executor import ExecutionDeps, ExecutionOutcome, recover_plan, run_plan
from plan_executor.engine.models import ExecutionRequest
from plan_executor.engine.progress import ProgressCallback

logger = logging.getLogger(__name__)

IDEMPOTENCY_KEY_PREFIX = "plan-executor#plan"
MIN_BUDGET_SECONDS = 1.0
RECOVERY_WORK_S = 60.0
"""A cleanup's working budget (listing, cancels, confirmations), under the cleanup budget and
the margin: it bounds the sweep's part of the recovery time (docs/design.md 5.1)."""
PASSING_CONDITIONS = frozenset(
    {RejectionClass.KILL_SWITCH, RejectionClass.MARKET_CLOSED, RejectionClass.BROKER_UNAVAILABLE}
)
"""Rejection classes whose cause can pass: such a rejection releases the plan."""

ResultRecorder = Callable[[ExecutionResult, bool], None]
"""Called once per invocation with the result and whether it was a stored duplicate."""


class Recovery(StrEnum):
    """What the sweeper did with one in-flight marker."""

    RECOVERED = "recovered"
    """Cleaned up and reported (or the attempt's own stored result published again)."""
    ALREADY_REPORTED = "already_reported"
    """The plan's result was stored: only the marker was left; it is gone now."""
    IN_PROGRESS = "in_progress"
    """An invocation holds the plan (its lock has not expired): left alone."""


class PlanRunner:
    """Runs a parsed plan at most once per plan id (Powertools idempotency on DynamoDB)."""

    def __init__(self, runtime: Runtime, progress: ProgressCallback | None = None) -> None:
        self._runtime = runtime
        self._progress = progress
        self._served_duplicate = False
        self.executed: ExecutionResult | None = None
        """The whole result of the last execution or cleanup this runner ran (None for a
        stored duplicate): the metrics' source, as the stored form may be trimmed."""
        self.config = IdempotencyConfig(
            event_key_jmespath="plan_id",
            payload_validation_jmespath="fingerprint",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=runtime.settings.idempotency_expiry_days * 86_400,
            response_hook=self._on_stored_response,
        )
        self._run_once = idempotent_function(
            data_keyword_argument="plan_key",
            persistence_store=runtime.persistence,
            config=self.config,
            key_prefix=IDEMPOTENCY_KEY_PREFIX,
        )(self._execute)
        self._recover_once = idempotent_function(
            data_keyword_argument="plan_key",
            persistence_store=runtime.persistence,
            config=self.config,
            key_prefix=IDEMPOTENCY_KEY_PREFIX,
        )(self._recover)

    def run(
        self, event: RebalancePlannedEvent, context: LambdaContext, raw: Mapping[str, Any]
    ) -> tuple[dict[str, Any], bool]:
        """The result (as stored) and whether it was served from an earlier execution. `raw`
        is the event as delivered, kept in the plan's in-flight marker."""
        self._served_duplicate = False
        self.executed = None
        self.config.register_lambda_context(context)
        plan = event.detail.rebalance_plan
        try:
            stored = self._run_once(
                plan_key=_plan_key(event), event=event, context=context, raw=raw
            )
        except _Released as released:
            logger.info("rejected for a condition that can pass: the plan is not stored")
            return released.result, False
        self._forget_marker(plan.plan_id)
        return stored, self._served_duplicate

    def recover(
        self, marker: InflightMarker, context: LambdaContext
    ) -> tuple[Recovery, ExecutionResult | None]:
        """Clean up after the execution `marker` belongs to, unless its plan's result is stored
        (then only the marker goes) or an invocation holds the plan (then nothing happens);
        the result published by the cleanup, if there was one."""
        self._served_duplicate = False
        self.executed = None
        self.config.register_lambda_context(context)
        event = parse_event(marker.event)
        try:
            self._recover_once(
                plan_key=_plan_key(event), event=event, marker=marker, context=context
            )
        except IdempotencyAlreadyInProgressError:
            return Recovery.IN_PROGRESS, None
        self._forget_marker(marker.plan_id)
        if self._served_duplicate:
            return Recovery.ALREADY_REPORTED, None
        return Recovery.RECOVERED, self.executed

    def _forget_marker(self, plan_id: str) -> None:
        try:
            self._runtime.inflight.delete(plan_id)
        except Exception:  # the result is stored; the sweeper deletes the marker later
            logger.warning("in-flight marker not deleted", exc_info=True)

    def _on_stored_response(self, response: Any, idempotent_data: DataRecord) -> Any:
        self._served_duplicate = True
        logger.info(
            "duplicate plan: serving the stored result", extra={"status": idempotent_data.status}
        )
        return response

    def _execute(
        self,
        *,
        plan_key: Mapping[str, str],
        event: RebalancePlannedEvent,
        context: LambdaContext,
        raw: Mapping[str, Any],
    ) -> dict[str, Any]:
        halted = _kill_switch_refusal(self._runtime, event)
        if halted is not None:
            raise _Released(halted.as_published())
        refusal = _workflow_refusal(self._runtime, event)
        if refusal is not None:
            return refusal.as_published()
        budget = _budget_seconds(self._runtime, context)
        earlier = self._runtime.inflight.find(event.detail.rebalance_plan.plan_id)
        request = _request(self._runtime, event, earlier_attempt=earlier is not None)
        if earlier is None:
            self._runtime.inflight.put(_marker(self._runtime, event, raw, request))
        delivery = asyncio.run(
            _execute_and_deliver(self._runtime, request, budget, self._progress, earlier)
        )
        self.executed = delivery.result
        if releases_plan(delivery.result):
            if earlier is None:
                self._runtime.inflight.delete(event.detail.rebalance_plan.plan_id)
            raise _Released(delivery.result.as_published())
        return stored_form(self._runtime, delivery.result)

    def _recover(
        self,
        *,
        plan_key: Mapping[str, str],
        event: RebalancePlannedEvent,
        marker: InflightMarker,
        context: LambdaContext,
    ) -> dict[str, Any]:
        budget = min(_budget_seconds(self._runtime, context), RECOVERY_WORK_S)
        delivery = asyncio.run(_recover_and_deliver(self._runtime, event, marker, budget))
        self.executed = delivery.result
        return stored_form(self._runtime, delivery.result)


def _plan_key(event: RebalancePlannedEvent) -> dict[str, str]:
    plan = event.detail.rebalance_plan
    return {"plan_id": plan.plan_id, "fingerprint": plan_fingerprint(plan)}


def _marker(
    runtime: Runtime,
    event: RebalancePlannedEvent,
    raw: Mapping[str, Any],
    request: ExecutionRequest,
) -> InflightMarker:
    plan = event.detail.rebalance_plan
    return InflightMarker(
        plan_id=plan.plan_id,
        event=raw,
        attempt=request.attempt,
        started_at=runtime.clock.now(),
        plan_timestamp=plan.timestamp,
    )


class _Released(Exception):
    """Raised through the idempotency layer so it deletes the plan's record; carries the
    result the invocation still returns."""

    def __init__(self, result: dict[str, Any]) -> None:
        super().__init__("rejected for a condition that can pass")
        self.result = result


def stored_form(runtime: Runtime, result: ExecutionResult) -> dict[str, Any]:
    """What the idempotency record keeps (and a duplicate is served): the result as its event
    carries it, trimmed like the event when it is large (a plan of hundreds of items would
    pass DynamoDB's 400 KB item limit; the event's 256 KB fits); the ledger has it whole."""
    fitted = fit_detail(result, source=runtime.settings.result_source, detail_type=DETAIL_TYPE)
    stored: dict[str, Any] = json.loads(fitted.detail)
    return stored


def releases_plan(result: ExecutionResult) -> bool:
    """A REJECTED whose cause can pass (see PASSING_CONDITIONS): not stored as the plan's answer."""
    return (
        result.status is ExecutionStatus.REJECTED
        and rejection_class(result.reason) in PASSING_CONDITIONS
    )


def is_sqs_batch(event: object) -> bool:
    """An SQS event source mapping's batch: `Records` whose source is `aws:sqs`."""
    if not isinstance(event, Mapping):
        return False
    records = event.get("Records")
    return (
        isinstance(records, list)
        and bool(records)
        and all(isinstance(r, Mapping) and r.get("eventSource") == "aws:sqs" for r in records)
    )


def parse_event(event: Mapping[str, Any]) -> RebalancePlannedEvent:
    """The Powertools EventBridge envelope first, then our contract; PlanValidationError names
    the field and the rule."""
    if not isinstance(event, Mapping):  # Lambda hands over whatever JSON the caller sent
        raise PlanValidationError([Violation("event", "object_type", "expected a JSON object")])
    try:
        parse(event=dict(event), model=EventBridgeModel)
    except ValidationError as error:
        raise violations_from_pydantic(error, root="") from None
    return parse_rebalance_event(event)


def reject_invalid(runtime: Runtime, event: object, error: PlanValidationError) -> ExecutionResult:
    """REJECTED result for an event that does not parse, written to the ledger and published."""
    context = _rejection_context(runtime)
    result = rejected_result_for_invalid_event(context, error, event)
    return asyncio.run(_report_only(runtime, result)).result


def reject_reused_plan_id(
    runtime: Runtime, event: RebalancePlannedEvent, error: IdempotencyValidationError
) -> ExecutionResult:
    """The same plan id arrived with different content: refused, nothing executed."""
    reason = (
        "detail.rebalance_plan.plan_id: plan_id_reused (this plan id was already executed"
        " with different plan content; a changed plan needs a new plan id)"
    )
    logger.warning("plan id reused with a different plan: %s", type(error).__name__)
    result = rejected_result_for_event(_rejection_context(runtime), event, reason=reason)
    return asyncio.run(_report_only(runtime, result)).result


def _kill_switch_refusal(runtime: Runtime, event: RebalancePlannedEvent) -> ExecutionResult | None:
    """REJECTED (reported, no broker call) unless the switch reads "off"; None then."""
    try:
        switch = runtime.kill_switch.read()
    except KillSwitchReadError as error:
        logger.warning("kill switch unreadable: refusing the plan", exc_info=True)
        reason = f"guard rail kill_switch: could not be checked ({error})"
    else:
        if not switch.halted:
            return None
        reason = f"guard rail kill_switch: the kill switch is on ({switch.describe()})"
    result = rejected_result_for_event(_rejection_context(runtime), event, reason=reason)
    return asyncio.run(_report_only(runtime, result)).result


def _workflow_refusal(runtime: Runtime, event: RebalancePlannedEvent) -> ExecutionResult | None:
    """REJECTED (and stored, like any refusal of the plan itself) when another plan of the same
    upstream workflow already ran; None when this plan holds the workflow's claim.

    Only plan ids that embed the planning time (alchemiser's form) need it: a producer whose
    plan id is stable per plan is protected by the plan-id idempotency itself."""
    claims = runtime.workflow_claims
    plan = event.detail.rebalance_plan
    if not claims.enabled or not is_producer_plan_id(plan.plan_id):
        return None
    holder = claims.claim(plan.correlation_id, plan.plan_id, runtime.clock.now())
    if holder is None:
        return None
    reason = (
        "detail.rebalance_plan.correlation_id: workflow_already_planned (plan "
        f"{holder.plan_id} of this workflow ran at {holder.claimed_at}; a second plan of one "
        "workflow could trade the same rebalance twice: a new workflow needs a new correlation id)"
    )
    logger.warning("a second plan of one workflow refused", extra={"holder": holder.plan_id})
    result = rejected_result_for_event(_rejection_context(runtime), event, reason=reason)
    return asyncio.run(_report_only(runtime, result)).result


async def _execute_and_deliver(
    runtime: Runtime,
    request: ExecutionRequest,
    budget_s: float,
    progress: ProgressCallback | None,
    earlier: InflightMarker | None,
) -> Delivery:
    async with open_services(runtime) as services:
        if earlier is not None:
            republished = await _republish_stored(services, earlier)
            if republished is not None:
                return republished
        deps = _deps(runtime, services, progress)
        outcome = await run_plan(request, deps, budget_s=budget_s)
        return await deliver(outcome, services.ledger, services.publisher)


async def _recover_and_deliver(
    runtime: Runtime, event: RebalancePlannedEvent, marker: InflightMarker, budget_s: float
) -> Delivery:
    """Clean up after the execution `marker` belongs to and report it."""
    async with open_services(runtime) as services:
        republished = await _republish_stored(services, marker)
        if republished is not None:
            return republished
        request = _request(runtime, event, earlier_attempt=True)
        why = (
            f"the execution that started at {marker.started_at.isoformat()} ended without a"
            f" result and the plan is older than {runtime.settings.max_plan_age_seconds:g} s"
        )
        outcome = await recover_plan(
            request, _deps(runtime, services, None), why=why, budget_s=budget_s
        )
        return await deliver(outcome, services.ledger, services.publisher)


async def _republish_stored(services: Services, earlier: InflightMarker) -> Delivery | None:
    """The dead attempt's own result if it wrote its ledger (its execution had ended: every
    order settled), published again under its own event id: a consumer sees that event at
    most twice, never a second account of the plan. None if it wrote no ledger."""
    stored = await services.ledger.stored_result(
        earlier.plan_id, earlier.started_at, earlier.attempt
    )
    if stored is None:
        return None
    logger.warning("the earlier attempt wrote its ledger before it ended: publishing it again")
    receipt = await services.publisher.publish(stored)
    return Delivery(result=stored, ledger_written=True, receipt=receipt)


def _deps(runtime: Runtime, services: Services, progress: ProgressCallback | None) -> ExecutionDeps:
    return ExecutionDeps(
        broker=services.broker,
        clock=runtime.clock,
        trading_mode=services.trading_mode,
        settings=runtime.execution,
        progress=progress,
    )


async def _report_only(runtime: Runtime, result: ExecutionResult) -> Delivery:
    report = reporting(runtime)
    return await deliver(ExecutionOutcome(result, ()), report.ledger, report.publisher)


def _request(
    runtime: Runtime, event: RebalancePlannedEvent, *, earlier_attempt: bool
) -> ExecutionRequest:
    return ExecutionRequest(
        detail=event.detail,
        causation_id=event.id,
        result_event_id=_new_event_id(),
        attempt=_new_attempt(runtime),
        earlier_attempt=earlier_attempt,
    )


def _rejection_context(runtime: Runtime) -> RejectionContext:
    now = runtime.clock.now()
    return RejectionContext(
        event_id=_new_event_id(),
        started_at=now,
        completed_at=now,
        trading_mode=TradingMode(runtime.settings.trading_mode.value),
        attempt=_new_attempt(runtime),
    )


def _new_attempt(runtime: Runtime) -> str:
    return attempt_token(1, runtime.clock.now(), secrets.token_hex(4))


def _new_event_id() -> str:
    return f"result-{secrets.token_hex(12)}"


def working_seconds(runtime: Runtime, context: LambdaContext) -> float:
    """Remaining Lambda time less the safety margin (ledger, event) and the cleanup budget."""
    remaining = context.get_remaining_time_in_millis() / 1000
    cleanup = runtime.execution.cleanup_budget.total_seconds()
    return remaining - runtime.settings.deadline_margin_seconds - cleanup


def _budget_seconds(runtime: Runtime, context: LambdaContext) -> float:
    budget = working_seconds(runtime, context)
    if budget < MIN_BUDGET_SECONDS:
        remaining = context.get_remaining_time_in_millis() / 1000
        raise RuntimeError(
            f"only {remaining:.1f} s left: less than the margin and cleanup budget need;"
            " raise the function timeout"
        )
    return budget
