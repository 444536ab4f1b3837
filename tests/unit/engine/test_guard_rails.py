"""Step 1: every rail rejects before any order, and a rail that errors rejects (fail closed)."""

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest

from plan_executor.domain.enums import ExecutionStatus, ItemStatus, TradingMode
from plan_executor.ports import BrokerUnavailable

from .builders import Harness, fast_settings, item, plan_detail

Setup = Callable[[Harness], None]


def _ready() -> Harness:
    h = Harness()
    h.listed("AAPL", "100.00", "100.10")
    h.listed("MSFT", "200.00", "200.20")
    h.broker.hold("AAPL", "100")
    return h


def _kill_switch(h: Harness) -> None:
    h.settings = fast_settings(kill_switch=True)


def _live_not_allowed(h: Harness) -> None:
    h.mode = TradingMode.LIVE


def _market_closed(h: Harness) -> None:
    h.broker.market_open = False


def _clock_unreachable(h: Harness) -> None:
    h.broker.faults["clock"].append(BrokerUnavailable("clock: connection reset"))


def _account_blocked(h: Harness) -> None:
    h.broker.trading_blocked = True


def _account_unreadable(h: Harness) -> None:
    h.broker.faults["account"].append(BrokerUnavailable("account: 503"))


def _stale_plan(h: Harness) -> None:
    h.clock.advance(timedelta(hours=2))


def _order_too_large(h: Harness) -> None:
    h.settings = fast_settings(max_order_notional=Decimal(500))


def _plan_too_large(h: Harness) -> None:
    h.settings = fast_settings(max_plan_notional=Decimal(1500))


def _too_much_of_equity(h: Harness) -> None:
    h.settings = fast_settings(max_equity_fraction=Decimal("0.001"))


def _asset_not_tradable(h: Harness) -> None:
    h.broker.add_asset("MSFT", tradable=False)


def _asset_unknown(h: Harness) -> None:
    del h.broker.asset_infos["MSFT"]


def _assets_unreadable(h: Harness) -> None:
    h.broker.faults["assets"].append(RuntimeError("unexpected payload"))


@pytest.mark.parametrize(
    ("setup", "rail"),
    [
        (_kill_switch, "kill_switch"),
        (_live_not_allowed, "trading_mode"),
        (_market_closed, "market_open"),
        (_clock_unreachable, "market_open"),
        (_account_blocked, "account"),
        (_account_unreadable, "account"),
        (_stale_plan, "plan_age"),
        (_order_too_large, "notional_limits"),
        (_plan_too_large, "notional_limits"),
        (_too_much_of_equity, "notional_limits"),
        (_asset_not_tradable, "assets"),
        (_asset_unknown, "assets"),
        (_assets_unreadable, "assets"),
    ],
)
async def test_guard_rail_rejects_before_any_order(setup: Setup, rail: str) -> None:
    h = _ready()
    setup(h)

    outcome = await h.run(plan_detail([item("AAPL", "SELL", "1000"), item("MSFT", "BUY", "1000")]))

    result = outcome.result
    assert result.status is ExecutionStatus.REJECTED
    assert result.reason is not None
    assert f"guard rail {rail}:" in result.reason
    assert [order.status for order in result.orders] == [ItemStatus.SKIPPED] * 2
    assert h.broker.submitted == []
    assert h.broker.cancel_requests == []
    assert h.broker.subscriptions == []  # not even the stream was opened
    assert outcome.ledger_lines == ()


async def test_market_clock_error_rejects() -> None:
    h = _ready()
    h.broker.faults["clock"].append(BrokerUnavailable("timed out"))

    outcome = await h.run(plan_detail([item("AAPL", "SELL", "1000")]))

    assert outcome.result.status is ExecutionStatus.REJECTED
    assert outcome.result.reason is not None
    assert "could not be checked" in outcome.result.reason
    assert "submit" not in h.broker.calls


async def test_live_credentials_trade_when_allowed() -> None:
    h = _ready()
    h.mode = TradingMode.LIVE
    h.settings = fast_settings(allow_live=True)

    outcome = await h.run(plan_detail([item("AAPL", "SELL", "1000")], urgency="URGENT"))

    assert outcome.result.status is ExecutionStatus.SUCCESS
    assert outcome.result.trading_mode is TradingMode.LIVE


def test_settings_refuse_nonsense() -> None:
    with pytest.raises(ValueError, match="poll_interval"):
        fast_settings(poll_interval=timedelta(0))
    with pytest.raises(ValueError, match="buy_reserve_fraction"):
        fast_settings(buy_reserve_fraction=Decimal(1))
    with pytest.raises(ValueError, match="every urgency"):
        fast_settings(profiles={})
    with pytest.raises(ValueError, match="walk_min_spread_ticks"):
        fast_settings(walk_min_spread_ticks=-1)
