"""Plans, requests, fast settings and a harness wiring the engine to the fakes."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from plan_executor.domain.enums import TradingMode, Venue
from plan_executor.domain.events import RebalancePlannedDetail
from plan_executor.domain.fingerprint import plan_fingerprint
from plan_executor.domain.ledger_keys import attempt_token
from plan_executor.domain.order_ids import client_order_id, short_plan_hash
from plan_executor.domain.pricing import DEFAULT_PROFILES
from plan_executor.engine.config import ExecutionSettings, with_walk_durations
from plan_executor.engine.executor import run_plan
from plan_executor.engine.models import ExecutionDeps, ExecutionOutcome, ExecutionRequest
from plan_executor.engine.progress import ProgressCallback, ProgressEvent

from .fake_market import FakeClock, FakeMarket
from .fakes import FakeBroker

T0 = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
PLAN_TIME = T0 - timedelta(seconds=5)
RUN_BUDGET_S = 60.0
"""A run's default deadline: only a hang guard (runs here end in at most a few seconds)."""


def item(
    symbol: str,
    action: str,
    amount: str,
    *,
    target_weight: str = "0.1",
    priority: int = 1,
) -> dict[str, Any]:
    signed = {"BUY": amount, "SELL": f"-{amount}", "HOLD": "0"}[action]
    return {
        "symbol": symbol,
        "action": action,
        "trade_amount": signed,
        "current_weight": "0.1",
        "target_weight": target_weight,
        "weight_diff": str(Decimal(target_weight) - Decimal("0.1")),
        "current_value": "10000",
        "target_value": "10000",
        "priority": priority,
        "strategy_id": "test-strategy",
    }


def plan_detail(
    items: Sequence[dict[str, Any]],
    *,
    urgency: str = "NORMAL",
    trades_required: bool = True,
    plan_id: str = "plan-1",
    timestamp: datetime = PLAN_TIME,
) -> RebalancePlannedDetail:
    stamp = timestamp.isoformat()
    return RebalancePlannedDetail.model_validate(
        {
            "event_id": "evt-upstream-1",
            "correlation_id": "corr-1",
            "causation_id": "cause-1",
            "timestamp": stamp,
            "schema_version": "1.0",
            "trades_required": trades_required,
            "rebalance_plan": {
                "plan_id": plan_id,
                "correlation_id": "corr-1",
                "causation_id": "cause-1",
                "timestamp": stamp,
                "schema_version": "1.0",
                "items": list(items),
                "total_portfolio_value": "100000",
                "total_trade_value": "0",
                "execution_urgency": urgency,
                "max_drift_tolerance": "0.05",
            },
        }
    )


def request_for(detail: RebalancePlannedDetail) -> ExecutionRequest:
    return ExecutionRequest(
        detail=detail,
        causation_id="eb-event-1",
        result_event_id="result-1",
        attempt=attempt_token(1, T0, "0123abcd"),
    )


def plan_order_id(detail: RebalancePlannedDetail, symbol: str, side: Any, n: int) -> str:
    plan_hash = short_plan_hash(plan_fingerprint(detail.rebalance_plan))
    return client_order_id(plan_hash, symbol, side, n)


def fast_settings(
    *,
    step_wait: timedelta = timedelta(milliseconds=30),
    market_wait: timedelta = timedelta(milliseconds=60),
    **overrides: Any,
) -> ExecutionSettings:
    base: dict[str, Any] = {
        # These suites exercise the walk, the path live orders take; the paper venue's path
        # is tested where a test sets the venue (test_execution_choice_engine.py).
        "venue": Venue.LIVE,
        "walk_min_spread_ticks": 2,  # opted in: these suites exercise the walk
        "profiles": with_walk_durations(
            DEFAULT_PROFILES, step_wait=step_wait, market_wait=market_wait
        ),
        "quote_retry_wait": timedelta(milliseconds=1),
        "poll_interval": timedelta(milliseconds=10),
        "cancel_confirm_timeout": timedelta(milliseconds=200),
        "price_reread_wait": timedelta(milliseconds=1),
        "settle_timeout": timedelta(seconds=2),
        "cleanup_budget": timedelta(seconds=2),
    }
    base.update(overrides)
    return ExecutionSettings(**base)


@dataclass
class Harness:
    clock: FakeClock = field(default_factory=lambda: FakeClock(T0))
    settings: ExecutionSettings = field(default_factory=fast_settings)
    mode: TradingMode = TradingMode.PAPER
    progress: list[ProgressEvent] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.market = FakeMarket(self.clock)
        self.broker = FakeBroker(self.clock, self.market)

    def listed(self, symbol: str, bid: str, ask: str, *, fractionable: bool = True) -> None:
        """A tradable asset quoted at bid/ask."""
        self.broker.add_asset(symbol, fractionable=fractionable)
        self.market.set_quote(symbol, bid, ask)

    def deps(self, on_progress: ProgressCallback | None = None) -> ExecutionDeps:
        def progress(event: ProgressEvent) -> None:
            self.progress.append(event)
            if on_progress is not None:
                on_progress(event)

        return ExecutionDeps(
            broker=self.broker,
            clock=self.clock,
            trading_mode=self.mode,
            settings=self.settings,
            progress=progress,
        )

    async def run(
        self,
        detail: RebalancePlannedDetail,
        *,
        budget_s: float = RUN_BUDGET_S,
        on_progress: ProgressCallback | None = None,
    ) -> ExecutionOutcome:
        return await run_plan(request_for(detail), self.deps(on_progress), budget_s=budget_s)
