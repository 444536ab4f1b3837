"""alchemiser-compatible events from an `ExecutionResult` (template `AlchemiserCompatEvents`).

alchemiser's notifications service reacts to `TradeExecuted` from `alchemiser.execution` and to
`WorkflowFailed` from any `alchemiser.*` source. So that an alchemiser deployment keeps its
e-mails when this service replaces its executor, each result is also published in those shapes,
chosen as alchemiser's own executor chose them:

| our status                     | TradeExecuted     | WorkflowFailed |
|--------------------------------|-------------------|----------------|
| SUCCESS, SUCCESS_WITH_SKIPS    | success=true      | -              |
| PARTIAL_SUCCESS                | success=false     | -              |
| FAILURE, TIMED_OUT             | success=false     | yes            |
| REJECTED (nothing traded)      | -                 | yes            |

Field by field (the alchemiser `BaseEvent` fields first):
- `correlation_id` = ours; `causation_id` = our result's `event_id`; `event_id` =
  `trade-executed-<our result event id>` / `workflow-failed-<...>` (derived, so a resend is
  recognisable); `timestamp` = `completed_at`; `source_module` = `plan_executor`,
  `source_component` = `ExecutionResult`; `schema_version` = `1.0.0`.
- TradeExecuted: `orders_placed` = items that sent at least one order; `orders_succeeded` =
  items FILLED; `success` as in the table; `failure_reason` = our `reason` when not a success;
  `failed_symbols` = items FAILED, CANCELED or PARTIALLY_FILLED; `execution_data` = plan id,
  status, reason, counts, total filled notional, the per-item orders and the ledger keys;
  `orders_executed` and `execution_summary` (read by alchemiser's notifications at the top level);
  `metadata` = our status, attempt and the ExecutionResult event id.
- WorkflowFailed: `workflow_type` = `trading_execution`; `failure_step` = `plan_validation`
  (REJECTED), `trade_execution` (FAILURE) or `deadline` (TIMED_OUT); `failure_reason` = our
  `reason`; `error_details` = status, plan id, attempt, ledger keys.
Money is written as strings, as alchemiser's `model_dump(mode="json")` writes Decimals.
"""

from typing import Any, Final

from plan_executor.domain.enums import ExecutionStatus, ItemStatus
from plan_executor.domain.results import ExecutionResult, OrderResult
from plan_executor.domain.wire_values import fixed_point

COMPAT_SOURCE: Final = "alchemiser.execution"
TRADE_EXECUTED: Final = "TradeExecuted"
WORKFLOW_FAILED: Final = "WorkflowFailed"
CONTRACT_VERSION: Final = "1.0.0"

_SUCCESSES = frozenset({ExecutionStatus.SUCCESS, ExecutionStatus.SUCCESS_WITH_SKIPS})
_FAILED_ITEMS = frozenset({ItemStatus.FAILED, ItemStatus.CANCELED, ItemStatus.PARTIALLY_FILLED})
_FAILURE_STEPS: Final = {
    ExecutionStatus.REJECTED: "plan_validation",
    ExecutionStatus.FAILURE: "trade_execution",
    ExecutionStatus.TIMED_OUT: "deadline",
}


def compat_events(result: ExecutionResult) -> tuple[tuple[str, dict[str, Any]], ...]:
    """(detail-type, detail) pairs to publish from `COMPAT_SOURCE` for this result."""
    events: list[tuple[str, dict[str, Any]]] = []
    if result.status is not ExecutionStatus.REJECTED:
        events.append((TRADE_EXECUTED, trade_executed(result)))
    if result.status in _FAILURE_STEPS:
        events.append((WORKFLOW_FAILED, workflow_failed(result)))
    return tuple(events)


def trade_executed(result: ExecutionResult) -> dict[str, Any]:
    success = result.status in _SUCCESSES
    orders = [_order(order) for order in result.orders]
    placed = sum(1 for order in result.orders if order.child_orders)
    succeeded = sum(1 for order in result.orders if order.status is ItemStatus.FILLED)
    summary = _summary(result)
    return {
        **_base(result, f"trade-executed-{result.event_id}", TRADE_EXECUTED),
        "execution_data": {
            "plan_id": result.plan_id,
            "status": result.status.value,
            "reason": result.reason,
            "orders_placed": placed,
            "orders_succeeded": succeeded,
            "total_trade_value": summary["filled_notional"],
            "execution_timestamp": _time(result),
            "success": success,
            "orders": orders,
            "ledger_keys": list(result.ledger.keys) if result.ledger else [],
        },
        "success": success,
        "orders_placed": placed,
        "orders_succeeded": succeeded,
        "failure_reason": None if success else result.reason or result.status.value,
        "failed_symbols": [o.symbol for o in result.orders if o.status in _FAILED_ITEMS],
        "orders_executed": orders,
        "execution_summary": summary,
    }


def workflow_failed(result: ExecutionResult) -> dict[str, Any]:
    return {
        **_base(result, f"workflow-failed-{result.event_id}", WORKFLOW_FAILED),
        "workflow_type": "trading_execution",
        "failure_reason": result.reason or result.status.value,
        "failure_step": _FAILURE_STEPS[result.status],
        "error_details": {
            "status": result.status.value,
            "plan_id": result.plan_id,
            "attempt": result.attempt,
            "ledger_keys": list(result.ledger.keys) if result.ledger else [],
        },
    }


def _base(result: ExecutionResult, event_id: str, event_type: str) -> dict[str, Any]:
    return {
        "correlation_id": result.correlation_id,
        "causation_id": result.event_id,
        "event_id": event_id,
        "event_type": event_type,
        "timestamp": _time(result),
        "source_module": "plan_executor",
        "source_component": "ExecutionResult",
        "metadata": {
            "status": result.status.value,
            "attempt": result.attempt,
            "execution_result_event_id": result.event_id,
        },
        "schema_version": CONTRACT_VERSION,
    }


def _order(order: OrderResult) -> dict[str, Any]:
    return {
        "symbol": order.symbol,
        "action": order.action.value,
        "status": order.status.value,
        "planned_notional": fixed_point(order.planned_notional),
        "filled_notional": fixed_point(order.filled_notional),
        "filled_qty": fixed_point(order.filled_qty),
        "price": None if order.avg_fill_price is None else fixed_point(order.avg_fill_price),
        "reason": order.reason,
    }


def _summary(result: ExecutionResult) -> dict[str, Any]:
    summary = result.summary
    filled = summary.filled_buy_notional + summary.filled_sell_notional
    return {
        "status": result.status.value,
        "items": summary.items,
        "filled": summary.filled,
        "failed": summary.failed,
        "skipped": summary.skipped,
        "filled_notional": fixed_point(filled),
        "filled_buy_notional": fixed_point(summary.filled_buy_notional),
        "filled_sell_notional": fixed_point(summary.filled_sell_notional),
        "implementation_shortfall_bps": None
        if summary.implementation_shortfall_bps is None
        else fixed_point(summary.implementation_shortfall_bps),
        "duration_ms": result.duration_ms,
    }


def _time(result: ExecutionResult) -> str:
    return result.completed_at.isoformat().replace("+00:00", "Z")
