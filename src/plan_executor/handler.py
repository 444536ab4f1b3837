"""Lambda entry point (thin): observability around `invocation`.

Powertools' Logger, Metrics and Tracer are module-level as Powertools expects (their own
definitions only). Settings are read and validated on the first invocation of an execution
environment (cold start), so a misconfiguration fails loudly with the variable named.
"""

import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from plan_executor.bootstrap import Runtime, build_runtime
from plan_executor.domain.events import decode_event_object
from plan_executor.domain.results import ExecutionResult
from plan_executor.domain.validation import PlanValidationError
from plan_executor.invocation import (
    PlanRunner,
    is_sqs_batch,
    parse_event,
    reject_invalid,
    reject_reused_plan_id,
)
from plan_executor.observability import (
    log_progress,
    record_result,
    record_sweep,
    structure_service_logs,
)
from plan_executor.sweeper import is_sweep, sweep

logger = Logger()
metrics = Metrics()
tracer = Tracer()

_cold: dict[str, tuple[Runtime, PlanRunner]] = {}
_batch = BatchProcessor(event_type=EventType.SQS)


def _runtime() -> tuple[Runtime, PlanRunner]:
    if "runtime" not in _cold:
        structure_service_logs(logger)
        runtime = build_runtime(os.environ)
        _cold["runtime"] = (runtime, PlanRunner(runtime, progress=log_progress))
    return _cold["runtime"]


def reset_cold_start() -> None:
    """Forget the cached runtime, as a new execution environment would (tests, local replay);
    its broker threads stop once their calls end."""
    for runtime, _ in _cold.values():
        runtime.broker_threads.shutdown(wait=False)
    _cold.clear()


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """An EventBridge event (the rule invokes us), or an SQS batch of them (the rule feeds a
    queue, `PlanDelivery=sqs`): then each message is one plan, and only the messages whose
    execution raised are reported as failures, to be delivered again."""
    if is_sqs_batch(event):
        return dict(process_partial_response(event, _handle_plan_message, _batch, context))
    return _handle_plan(event, context)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def sweep_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """The sweep schedule's entry (its own function, template.yaml `SweeperFunction`): clean
    up after plan executions that died without reporting (plan_executor.sweeper)."""
    if not is_sweep(event):
        raise ValueError("the sweeper takes only its schedule's event")
    runtime, runner = _runtime()
    report = sweep(runtime, runner, context)
    record_sweep(metrics, recovered=len(report.recovered), failed=len(report.failed))
    for result in report.results:
        _finish(result, duplicate=False)
    return report.as_dict()


def _handle_plan_message(record: SQSRecord, lambda_context: LambdaContext) -> dict[str, Any]:
    try:
        event = decode_event_object(record.body)
    except PlanValidationError as error:
        logger.warning("queued event rejected", extra={"reason": error.reason})
        return _finish(reject_invalid(_runtime()[0], None, error), duplicate=False)
    return _handle_plan(dict(event), lambda_context)


def _handle_plan(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    runtime, runner = _runtime()
    try:
        parsed = parse_event(event)
    except PlanValidationError as error:
        logger.warning("event rejected", extra={"reason": error.reason})
        return _finish(reject_invalid(runtime, event, error), duplicate=False)
    plan = parsed.detail.rebalance_plan
    logger.set_correlation_id(plan.correlation_id)
    logger.append_keys(plan_id=plan.plan_id, causation_id=parsed.id)
    tracer.put_annotation(key="plan_id", value=plan.plan_id)
    try:
        stored, duplicate = runner.run(parsed, context, event)
    except IdempotencyValidationError as error:
        return _finish(reject_reused_plan_id(runtime, parsed, error), duplicate=False)
    except IdempotencyAlreadyInProgressError:
        logger.warning("the same plan is executing in another invocation; retry later")
        raise
    whole = runner.executed or ExecutionResult.model_validate(stored)
    return _finish(whole, duplicate=duplicate, response=stored)


def _finish(
    result: ExecutionResult, *, duplicate: bool, response: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Metrics and the log line from the whole result; the invocation answers `response` (the
    form the idempotency record keeps) when given."""
    record_result(metrics, result, duplicate=duplicate)
    logger.info(
        "plan finished",
        extra={"status": result.status.value, "reason": result.reason, "duplicate": duplicate},
    )
    return result.as_published() if response is None else response
