"""What one execution tells CloudWatch: EMF metrics from the result, and progress log lines.

Metric names are the ones the template's alarms and dashboard read (namespace PlanExecutor,
Powertools' `service` dimension only).
"""

import logging
from collections.abc import Mapping

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit

from plan_executor.domain.enums import ExecutionStatus, ItemStatus
from plan_executor.domain.rejection_classes import RejectionClass, rejection_class
from plan_executor.domain.results import ExecutionResult
from plan_executor.engine.progress import ProgressEvent, ProgressKind

PLANS_BY_STATUS: Mapping[ExecutionStatus, str] = {
    ExecutionStatus.SUCCESS: "PlansSucceeded",
    ExecutionStatus.SUCCESS_WITH_SKIPS: "PlansSucceededWithSkips",
    ExecutionStatus.PARTIAL_SUCCESS: "PlansPartiallySucceeded",
    ExecutionStatus.FAILURE: "PlansFailed",
    ExecutionStatus.REJECTED: "PlansRejected",
    ExecutionStatus.TIMED_OUT: "PlansTimedOut",
}
# One metric per class (not a dimension): every service alarm reads the `service` dimension only.
REJECTED_BY_CLASS: Mapping[RejectionClass, str] = {
    RejectionClass.KILL_SWITCH: "PlansRejectedKillSwitch",
    RejectionClass.MARKET_CLOSED: "PlansRejectedMarketClosed",
    RejectionClass.STALE: "PlansRejectedStale",
    RejectionClass.CONTRACT: "PlansRejectedContract",
    RejectionClass.LIMITS: "PlansRejectedLimits",
    RejectionClass.ACCOUNT: "PlansRejectedAccount",
    RejectionClass.DUPLICATE: "PlansRejectedDuplicate",
    RejectionClass.BROKER_UNAVAILABLE: "PlansRejectedBrokerUnavailable",
    RejectionClass.OTHER: "PlansRejectedOther",
}
PLANS_RECEIVED = "PlansReceived"
FILLED_ITEMS = (ItemStatus.FILLED, ItemStatus.PARTIALLY_FILLED)

SERVICE_LOGGER = "plan_executor"
progress_log = logging.getLogger(f"{SERVICE_LOGGER}.progress")


def structure_service_logs(logger: Logger) -> None:
    """Send the service's standard-library loggers (progress, engine, adapters) through the
    Powertools logger's handler: the same JSON lines with the same keys (plan_id, correlation
    id), at its level, and not again through the runtime's root handler."""
    copy_config_to_registered_loggers(source_logger=logger, include={SERVICE_LOGGER})


def record_sweep(metrics: Metrics, *, recovered: int, failed: int) -> None:
    """A sweep's work: plans cleaned up after a dead execution, and cleanups that failed."""
    metrics.add_metric(name="PlansRecovered", unit=MetricUnit.Count, value=recovered)
    metrics.add_metric(name="RecoveriesFailed", unit=MetricUnit.Count, value=failed)


def record_result(metrics: Metrics, result: ExecutionResult, *, duplicate: bool) -> None:
    """One plan's metrics; a duplicate served from the idempotency table counts only as that."""
    if duplicate:
        metrics.add_metric(name="DuplicatesServed", unit=MetricUnit.Count, value=1)
        return
    metrics.add_metric(name=PLANS_RECEIVED, unit=MetricUnit.Count, value=1)
    metrics.add_metric(name=PLANS_BY_STATUS[result.status], unit=MetricUnit.Count, value=1)
    if result.status is ExecutionStatus.REJECTED:
        rejected = REJECTED_BY_CLASS[rejection_class(result.reason)]
        metrics.add_metric(name=rejected, unit=MetricUnit.Count, value=1)
    metrics.add_metric(
        name="ExecutionDuration", unit=MetricUnit.Milliseconds, value=result.duration_ms
    )
    orders = result.orders
    placed = sum(len(order.child_orders) for order in orders)
    metrics.add_metric(name="OrdersPlaced", unit=MetricUnit.Count, value=placed)
    for name, status in (
        ("OrdersFilled", ItemStatus.FILLED),
        ("OrdersFailed", ItemStatus.FAILED),
        ("OrdersSkipped", ItemStatus.SKIPPED),
    ):
        count = sum(1 for order in orders if order.status is status)
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=count)
    metrics.add_metric(name="RePegs", unit=MetricUnit.Count, value=result.summary.repegs)
    metrics.add_metric(
        name="MarketFallbacks", unit=MetricUnit.Count, value=result.summary.market_fallbacks
    )
    for order in orders:
        if order.status in FILLED_ITEMS and order.slippage_bps is not None:
            metrics.add_metric(
                name="SlippageBps", unit=MetricUnit.NoUnit, value=float(order.slippage_bps)
            )
    if result.ledger is None and result.status is not ExecutionStatus.REJECTED:
        metrics.add_metric(name="LedgerWriteFailures", unit=MetricUnit.Count, value=1)


def log_progress(event: ProgressEvent) -> None:
    """Progress as structured log lines: phases, and every child order change."""
    if event.kind is ProgressKind.ORDER_CHANGED and event.order is not None:
        order = event.order
        progress_log.info(
            "order %s %s %s %s filled %s",
            order.client_order_id,
            order.side.value,
            order.symbol,
            order.status.value,
            order.filled_qty,
            extra={
                "progress": "order",
                "client_order_id": order.client_order_id,
                "symbol": order.symbol,
                "side": order.side.value,
                "order_status": order.status.value,
                "qty": str(order.qty),
                "filled_qty": str(order.filled_qty),
                "limit_price": None if order.limit_price is None else str(order.limit_price),
            },
        )
        return
    phase = event.phase.value if event.phase else ""
    progress_log.info(
        "%s %s %s",
        event.kind.value,
        phase,
        event.detail,
        extra={"progress": event.kind.value, "phase": phase, "detail": event.detail},
    )
