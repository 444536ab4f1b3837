"""Margin accounts: buying power per Reg T (and the legacy 4x day trading power), the account
view Alpaca shows for them, day trade counting and the legacy pattern day trader protection."""

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from importlib import resources
from typing import Any

import pytest
from simcore_support import limit, market, refused

from alpaca_sim import Venue, scenario_from_dict
from alpaca_sim.daytrades import PDT_DENIED, PDT_MESSAGE, day_trades
from alpaca_sim.decimals import Price, Shares
from alpaca_sim.orders import Fill

LEGACY_START = "2026-06-02T14:45:00Z"  # a Tuesday before the PDT rule was retired (2026-07-06)
PDT_FIELDS = {"daytrade_count", "pattern_day_trader", "daytrading_buying_power"}


def scenario_dict(edit: Callable[[dict[str, Any]], None] = lambda _: None) -> dict[str, Any]:
    text = resources.files("alpaca_sim").joinpath("scenarios/default.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    # Day-trade and buying-power arithmetic is checked order by order, so every fill is whole
    # (paper's random partial fills are alpaca_sim.fillmodel's, tested there).
    data["partial_fill_share"] = 0
    edit(data)
    return data


def venue_with(**account: object) -> Venue:
    """The default scenario with `account` merged into its account section."""
    return Venue(scenario_from_dict(scenario_dict(lambda d: d["account"].update(account))), seed=7)


def small_legacy_margin(daytrade_count: int, **account: object) -> Venue:
    """A $10,000 margin account (plus 10 XOM held overnight) under the legacy PDT rule."""

    def edit(data: dict[str, Any]) -> None:
        data["clock"]["start"] = LEGACY_START
        data["account"].update({"type": "margin", "cash": "10000", **account})
        data["account"]["daytrade_count"] = daytrade_count
        data["positions"] = {"XOM": {"qty": "10", "avg_entry_price": "110"}}

    return Venue(scenario_from_dict(scenario_dict(edit)), seed=7)


def money(account: dict[str, object], field: str) -> Decimal:
    return Decimal(str(account[field]))


def test_the_default_cash_account_borrows_nothing_and_shows_no_pdt_fields() -> None:
    account = venue_with().account()
    assert money(account, "buying_power") == money(account, "cash")
    assert account["multiplier"] == "1"
    assert account["shorting_enabled"] is False
    assert PDT_FIELDS.isdisjoint(account)  # removed from GET /v2/account on 2026-07-06


def test_a_reg_t_margin_account_has_twice_its_equity_less_its_holdings() -> None:
    account = venue_with(type="margin").account()
    equity, held = money(account, "equity"), money(account, "long_market_value")
    assert abs(money(account, "buying_power") - (2 * equity - held)) <= Decimal("0.02")
    assert money(account, "regt_buying_power") == money(account, "buying_power")
    assert money(account, "buying_power") > money(account, "cash")
    assert abs(money(account, "initial_margin") - held / 2) <= Decimal("0.01")
    assert abs(money(account, "maintenance_margin") - held * Decimal("0.3")) <= Decimal("0.01")
    assert (account["multiplier"], account["shorting_enabled"]) == ("2", True)


def test_a_margin_account_buys_beyond_its_cash_and_a_cash_account_does_not() -> None:
    order = limit("MSFT", "buy", "100", "500.00")  # $50,000 against $40,125.37 of cash
    margin, cash = venue_with(type="margin"), venue_with()
    for venue in (margin, cash):
        venue.script_quote("MSFT", bid="499.90", ask="500.00", ask_size="1000")
    assert margin.submit_order(order)["status"] == "filled"
    assert money(margin.account(), "cash") < 0  # borrowed
    error = refused(lambda: cash.submit_order(order))
    assert (error.status, error.message) == (403, "insufficient buying power")


def test_a_margin_account_with_multiplier_one_has_its_cash_to_spend() -> None:
    account = venue_with(type="margin", multiplier=1).account()
    assert money(account, "buying_power") == money(account, "cash")


def test_a_legacy_4x_account_has_day_trading_buying_power() -> None:
    venue = small_legacy_margin(0, cash="40000", multiplier=4, pattern_day_trader=True)
    account = venue.account()
    last_equity = money(account, "last_equity")
    bod = 4 * (last_equity - money(account, "last_maintenance_margin"))
    assert money(account, "bod_dtbp") == bod.quantize(Decimal("0.01"))
    assert money(account, "daytrading_buying_power") == money(account, "bod_dtbp")
    assert money(account, "buying_power") == money(account, "daytrading_buying_power")
    assert money(account, "buying_power") > money(account, "regt_buying_power")
    assert (account["multiplier"], account["pattern_day_trader"]) == ("4", True)
    venue.script_quote("AAPL", bid="99.90", ask="100.00", ask_size="1000")
    venue.submit_order(market("AAPL", "buy", "10"))
    entered = money(venue.account(), "daytrading_buying_power")
    assert entered == money(account, "daytrading_buying_power") - Decimal(1000)
    venue.submit_order(market("AAPL", "sell", "10"))  # exited the same day: credited back
    assert money(venue.account(), "daytrading_buying_power") == money(account, "bod_dtbp")


def test_the_fourth_day_trade_in_five_days_is_refused_under_25k() -> None:
    venue = small_legacy_margin(3)
    venue.script_quote("AAPL", bid="99.90", ask="100.00")
    assert venue.account()["daytrade_count"] == 3
    venue.submit_order(market("AAPL", "buy", "1"))
    error = refused(lambda: venue.submit_order(market("AAPL", "sell", "1")))
    assert (error.status, error.code, error.message) == (403, PDT_DENIED, PDT_MESSAGE)
    assert error.body() == {"code": PDT_DENIED, "message": PDT_MESSAGE}
    venue.submit_order(market("XOM", "sell", "1"))  # held overnight: not a day trade


def test_the_third_day_trade_is_allowed_and_counted() -> None:
    venue = small_legacy_margin(2)
    venue.script_quote("AAPL", bid="99.90", ask="100.00")
    venue.submit_order(market("AAPL", "buy", "2"))
    venue.submit_order(market("AAPL", "sell", "1"))
    assert venue.account()["daytrade_count"] == 3
    error = refused(lambda: venue.submit_order(market("AAPL", "sell", "1")))
    assert error.code == PDT_DENIED  # the earlier buy would make this one a day trade too


def test_a_pending_pair_counts_as_a_potential_day_trade() -> None:
    venue = small_legacy_margin(3)
    venue.script_quote("AAPL", bid="99.90", ask="100.00")
    venue.submit_order(limit("XOM", "sell", "1", "200.00"))  # rests: no wash trade below it
    error = refused(lambda: venue.submit_order(limit("XOM", "buy", "1", "100.00")))
    assert error.code == PDT_DENIED


@pytest.mark.parametrize(
    "account",
    [
        {"cash": "30000"},  # the previous close's equity is $25,000 or more
        {"day_trade_rule": "intraday_margin"},  # FINRA's revised Rule 4210: no PDT at all
        {"type": "cash"},  # PDT is a margin account rule
    ],
    ids=["equity_above_25k", "intraday_margin_rule", "cash_account"],
)
def test_no_pdt_refusal_when_the_rule_does_not_apply(account: dict[str, object]) -> None:
    venue = small_legacy_margin(3, **account)
    venue.script_quote("AAPL", bid="99.90", ask="100.00")
    venue.submit_order(market("AAPL", "buy", "1"))
    assert venue.submit_order(market("AAPL", "sell", "1"))["status"] == "filled"


def test_carried_day_trades_leave_the_window_after_five_business_days() -> None:
    venue = small_legacy_margin(3)
    start = datetime.fromisoformat(LEGACY_START)
    venue.clock.set(start + timedelta(days=3))  # Friday: Monday's trades are 4 sessions back
    assert venue.account()["daytrade_count"] == 3
    venue.clock.set(start + timedelta(days=6))  # Monday: the window no longer holds them
    assert venue.account()["daytrade_count"] == 0
    venue.script_quote("AAPL", bid="99.90", ask="100.00")
    venue.submit_order(market("AAPL", "buy", "1"))
    assert venue.submit_order(market("AAPL", "sell", "1"))["status"] == "filled"


def test_the_era_decides_the_rule_unless_the_scenario_says() -> None:
    legacy = small_legacy_margin(0).account()
    assert legacy.keys() >= PDT_FIELDS
    forced = small_legacy_margin(0, day_trade_rule="intraday_margin").account()
    assert PDT_FIELDS.isdisjoint(forced)


@pytest.mark.parametrize(
    ("sequence", "count"),
    [
        ("BBS", 1),  # FINRA example A: buy 250, buy 250, sell 500
        ("BSBS", 2),  # example B
        ("BSSS", 1),  # example C
        ("BBBSS", 1),  # example D
        ("BBSBSS", 2),  # example E
        ("SB", 0),  # selling what was held overnight, then buying, is no day trade
    ],
)
def test_day_trades_are_counted_as_finra_counts_them(sequence: str, count: int) -> None:
    at = datetime(2026, 6, 2, 15, 0, tzinfo=UTC)
    fills = [
        _fill("ABC", "buy" if side == "B" else "sell", at + timedelta(minutes=i))
        for i, side in enumerate(sequence)
    ]
    assert day_trades(fills) == count


def test_day_trades_in_two_symbols_are_two() -> None:  # FINRA example F
    at = datetime(2026, 6, 2, 15, 0, tzinfo=UTC)
    fills = [_fill("ABC", "buy", at), _fill("XYZ", "buy", at)]
    fills += [_fill("ABC", "sell", at), _fill("XYZ", "sell", at)]
    assert day_trades(fills) == 2


def _fill(symbol: str, side: str, at: datetime) -> Fill:
    one = Shares(Decimal(1))
    return Fill("e", "o", symbol, side, Price(Decimal(10)), one, at, one)
