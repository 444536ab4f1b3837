"""Events shaped exactly as alchemiser's portfolio service publishes `RebalancePlanned`.

Written from the producer's field definitions (alchemiser-quant at 7f11097f9: the pydantic models
in `the_alchemiser/shared/schemas/rebalance_plan.py`, `shared/schemas/common.py`
(`AllocationComparison`), `shared/events/schemas.py` (`RebalancePlanned`) and the planner in
`portfolio_v2/core/planner.py`), reproducing its arithmetic and its serialisation, not its code:

- values are Decimal products and quotients in Python's default 28-digit context, serialised by
  pydantic's `model_dump(mode="json")` as `str(Decimal)`: weights such as
  `0.3317962202059943568115926296`, zeros such as `0E+17` (0 divided by a value with 17 places);
- `plan_id` is `portfolio_v2_<correlation_id>_<epoch seconds>`, the correlation id
  `workflow-<uuid4>` (69 characters in all);
- priority by trade size: >= $10,000 -> 1, >= $1,000 -> 2, >= $100 -> 3, >= $50 -> 4, else 5;
- trades under the planner's threshold become HOLD with trade_amount `0.00`; items are sorted
  SELL, BUY, HOLD, then by priority;
- the plan's metadata carries `strategy_attribution` (symbol -> strategy -> float weight);
- the envelope: source `alchemiser.portfolio`, detail-type `RebalancePlanned`, on the bus
  `alchemiser-<stage>-events`; timestamps as pydantic writes an aware UTC datetime (`...Z`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

PRODUCER_SOURCE = "alchemiser.portfolio"
PRODUCER_DETAIL_TYPE = "RebalancePlanned"
PRODUCER_BUS = "alchemiser-dev-events"
CONTRACT_VERSION = "1.0.0"
_PRIORITY_THRESHOLDS = (
    (Decimal(10_000), 1),
    (Decimal(1_000), 2),
    (Decimal(100), 3),
    (Decimal(50), 4),
)
_ZERO = Decimal(0)
_MIN_TRADE_USD = Decimal(5)


@dataclass(frozen=True)
class Portfolio:
    """What the producer reads before planning: market values held and the account's value."""

    current_values: Mapping[str, Decimal]
    target_weights: Mapping[str, Decimal]
    portfolio_value: Decimal
    cash: Decimal
    strategies: Sequence[str] = ("2026/beam.clj", "2026/ftlt-2x.clj")
    deployment_fraction: Decimal = Decimal(1)
    ids: Mapping[str, str] = field(default_factory=dict)


def priority_for(amount: Decimal) -> int:
    for threshold, priority in _PRIORITY_THRESHOLDS:
        if amount >= threshold:
            return priority
    return 5


def _min_trade_threshold(portfolio_value: Decimal) -> Decimal:
    if portfolio_value <= 0:
        return Decimal("0.00")
    if portfolio_value < 1000:
        return (portfolio_value * Decimal("0.01")).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return _MIN_TRADE_USD


def _items(portfolio: Portfolio) -> list[dict[str, Any]]:
    deployable = portfolio.portfolio_value * portfolio.deployment_fraction
    targets = {s: w * deployable for s, w in portfolio.target_weights.items()}
    symbols = sorted(set(targets) | set(portfolio.current_values))
    current = {s: portfolio.current_values.get(s, _ZERO) for s in symbols}
    target = {s: targets.get(s, _ZERO) for s in symbols}
    basis = max(sum(current.values(), _ZERO), sum(target.values(), _ZERO))
    threshold = _min_trade_threshold(portfolio.portfolio_value)
    items = []
    for symbol in symbols:
        trade = target[symbol] - current[symbol]
        action = "BUY" if trade > 0 else "SELL" if trade < 0 else "HOLD"
        current_weight, target_weight = current[symbol] / basis, target[symbol] / basis
        item = {
            "symbol": symbol,
            "current_weight": current_weight,
            "target_weight": target_weight,
            "weight_diff": target_weight - current_weight,
            "target_value": target[symbol],
            "current_value": current[symbol],
            "trade_amount": trade,
            "action": action,
            "priority": priority_for(abs(trade)),
        }
        if action != "HOLD" and abs(trade) < threshold:
            item.update(action="HOLD", trade_amount=Decimal("0.00"))
        items.append(item)
    if not items:
        items.append(_placeholder_item(next(iter(portfolio.target_weights), "CASH")))
    order = {"SELL": 0, "BUY": 1, "HOLD": 2}
    items.sort(key=lambda item: (order[item["action"]], item["priority"]))
    return items


def _placeholder_item(symbol: str) -> dict[str, Any]:
    zero = Decimal("0")
    return {
        "symbol": symbol,
        "current_weight": zero,
        "target_weight": zero,
        "weight_diff": zero,
        "target_value": zero,
        "current_value": zero,
        "trade_amount": zero,
        "action": "HOLD",
        "priority": 5,
    }


def _json(value: Any) -> Any:
    """What pydantic's `model_dump(mode="json")` writes for the producer's field types."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, dict):
        return {key: _json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json(item) for item in value]
    return value


def producer_event(portfolio: Portfolio, *, planned_at: datetime) -> dict[str, Any]:
    """The EventBridge event the producer's PutEvents call makes for this portfolio."""
    ids = portfolio.ids
    correlation_id = ids.get("correlation_id", f"workflow-{uuid.uuid4()}")
    signal_event_id = ids.get("signal_event_id", f"signal-generated-{uuid.uuid4()}")
    items = _items(portfolio)
    plan = {
        "schema_version": CONTRACT_VERSION,
        "correlation_id": correlation_id,
        "causation_id": correlation_id,
        "timestamp": planned_at,
        "plan_id": f"portfolio_v2_{correlation_id}_{int(planned_at.timestamp())}",
        "items": items,
        "total_portfolio_value": portfolio.portfolio_value,
        "total_trade_value": sum((abs(item["trade_amount"]) for item in items), _ZERO),
        "max_drift_tolerance": Decimal("0.05"),
        "execution_urgency": "NORMAL",
        "estimated_duration_minutes": None,
        "metadata": _plan_metadata(portfolio, items),
    }
    detail = {
        "correlation_id": correlation_id,
        "causation_id": signal_event_id,
        "event_id": ids.get("event_id", f"rebalance-planned-{uuid.uuid4()}"),
        "event_type": "RebalancePlanned",
        "timestamp": planned_at + timedelta(milliseconds=40),
        "source_module": "portfolio_v2.handlers",
        "source_component": "PortfolioAnalysisHandler",
        "metadata": {
            "analysis_timestamp": planned_at + timedelta(milliseconds=38),
            "source": "event_driven_handler",
        },
        "schema_version": CONTRACT_VERSION,
        "rebalance_plan": plan,
        "allocation_comparison": _allocation_comparison(portfolio),
        "trades_required": any(item["action"] in ("BUY", "SELL") for item in items),
    }
    return {
        "version": "0",
        "id": ids.get("envelope_id", str(uuid.uuid4())),
        "detail-type": PRODUCER_DETAIL_TYPE,
        "source": PRODUCER_SOURCE,
        "account": "123456789012",
        "time": (planned_at + timedelta(milliseconds=1200)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": [],
        "detail": _json(detail),
    }


def _plan_metadata(portfolio: Portfolio, items: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    strategies = list(portfolio.strategies)
    share = 1.0 / len(strategies)
    name = (
        strategies[0]
        if len(strategies) == 1
        else f"{strategies[0]} (+{len(strategies) - 1} others)"
    )
    return {
        "portfolio_value": str(portfolio.portfolio_value),
        "cash_balance": str(portfolio.cash),
        "position_count": len(portfolio.current_values),
        "module": "portfolio_v2",
        "min_trade_threshold": str(_min_trade_threshold(portfolio.portfolio_value)),
        "strategy_name": name,
        "strategy_attribution": {
            item["symbol"]: dict.fromkeys(strategies, share) for item in items
        },
    }


def _allocation_comparison(portfolio: Portfolio) -> dict[str, dict[str, Decimal]]:
    total = sum(portfolio.current_values.values(), _ZERO) or Decimal(1)
    symbols = sorted(set(portfolio.target_weights) | set(portfolio.current_values))
    target = {s: portfolio.target_weights.get(s, _ZERO) for s in symbols}
    current = {s: portfolio.current_values.get(s, _ZERO) / total for s in symbols}
    return {
        "target_values": target,
        "current_values": current,
        "deltas": {s: current[s] - target[s] for s in symbols},
    }


def no_trades_event(
    *, planned_at: datetime, ids: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The producer's placeholder plan when it has nothing to trade or hold: one zeroed HOLD."""
    empty = Portfolio(
        current_values={},
        target_weights={},
        portfolio_value=Decimal("100000.00"),
        cash=Decimal("100000.00"),
        ids=ids or {},
    )
    return producer_event(empty, planned_at=planned_at)


SAVED_PLANNED_AT = datetime(2025, 12, 5, 14, 45, 0, 812_345, tzinfo=UTC)
SAVED_IDS = {
    "correlation_id": "workflow-3f2b9c4e-8d1a-4c6e-9b7f-2a5d8e1c4b90",
    "signal_event_id": "signal-generated-7c1e5a92-4b3d-4f8e-a6d1-9e2b7c5f3a18",
    "event_id": "rebalance-planned-0d9f3b6a-2e7c-4a51-8f4d-6b1c9e8a7d25",
    "envelope_id": "5b8e2f1d-9c4a-4e7b-a3d6-1f0e9c8b7a64",
}
SAVED_NO_TRADES_IDS = {
    "correlation_id": "workflow-9a4c7e21-5f3b-4d8a-b1e6-7c2d9f0a3b58",
    "signal_event_id": "signal-generated-2d6f8b1a-7e4c-4a9d-8b3f-5c1e0a9d7f62",
    "event_id": "rebalance-planned-4e1a9c7d-3b5f-4e2a-9d8c-6f0b2e7a1c39",
    "envelope_id": "8c3d1e7f-2a9b-4f6e-b5c4-0d7a1e9f3b26",
}
SIM_ACCOUNT_PORTFOLIO = Portfolio(
    # Market values of positions alpaca_sim's default scenario holds (qty x price).
    current_values={
        "AAPL": Decimal("22.5") * Decimal("271.45"),
        "MSFT": Decimal(12) * Decimal("508.20"),
        "NVDA": Decimal("31.6") * Decimal("189.72"),
        "GOOGL": Decimal(20) * Decimal("301.18"),
        "AMZN": Decimal("26.1") * Decimal("229.64"),
        "SPY": Decimal("7.2273576") * Decimal("679.35"),
        "JNJ": Decimal(30) * Decimal("198.44"),
    },
    # Consolidated strategy weights are Decimal quotients; GOOGL is exited (target 0).
    target_weights={
        "AAPL": Decimal(2) / Decimal(22),
        "MSFT": Decimal(3) / Decimal(29),
        "NVDA": Decimal(1) / Decimal(7),
        "AMZN": Decimal(1) / Decimal(6),
        "JNJ": Decimal(2) / Decimal(15),
        "SPY": Decimal(1)
        - sum(Decimal(n) / Decimal(d) for n, d in ((2, 22), (3, 29), (1, 7), (1, 6), (2, 15))),
    },
    portfolio_value=Decimal("99214.49"),
    cash=Decimal("40125.37"),
    strategies=("2026/beam.clj", "2026/ftlt-2x.clj", "2026/beefier.clj"),
    deployment_fraction=Decimal("0.45"),
    ids=SAVED_IDS,
)
"""The saved event's portfolio: 3 sells (one a full exit), 3 buys and 1 hold against alpaca_sim's
account."""


def saved_events() -> dict[str, dict[str, Any]]:
    """The files in events/ that this module makes, by name."""
    return {
        "alchemiser-rebalance-planned.json": producer_event(
            SIM_ACCOUNT_PORTFOLIO, planned_at=SAVED_PLANNED_AT
        ),
        "alchemiser-no-trades.json": no_trades_event(
            planned_at=SAVED_PLANNED_AT, ids=SAVED_NO_TRADES_IDS
        ),
    }


if __name__ == "__main__":  # python -m tests.support.alchemiser_producer: rewrite the files
    import json
    from pathlib import Path

    for name, event in saved_events().items():
        path = Path(__file__).resolve().parents[2] / "events" / name
        path.write_text(json.dumps(event, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {path}")
