"""The two fill models (alpaca_sim.fillmodel) over many seeded orders: paper fills marketable
orders at the quote, whole, partial about 10 % of the time, never a passive limit; live improves
marketable orders by about half the half-spread and fills resting limits through flow that is
adversely selected. Both models see the same market for a seed."""

import json
from datetime import datetime, timedelta
from decimal import Decimal
from importlib import resources
from statistics import mean
from typing import Any

import pytest
from simcore_support import limit, market, recorded, settle, step

from alpaca_sim import SimError, Venue, default_scenario, scenario_from_dict
from alpaca_sim.decimals import CENT
from alpaca_sim.draws import keyed_unit
from alpaca_sim.fillmodel import improved_price
from alpaca_sim.market import Quote

RICH = "10000000"  # cash enough for every buy below
SUB_PENNY = Decimal("0.0001")


def scenario_data(fill_model: str, **top: object) -> dict[str, Any]:
    text = resources.files("alpaca_sim").joinpath("scenarios/default.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    data["fill_model"] = fill_model
    data["account"]["cash"] = RICH
    data["rate_limit"]["enabled"] = False
    data.update(top)
    return data


def venue_for(fill_model: str, seed: int = 7, **top: object) -> Venue:
    return Venue(scenario_from_dict(scenario_data(fill_model, **top)), seed=seed)


def quote_of(venue: Venue, symbol: str) -> tuple[Decimal, Decimal]:
    quote = venue.latest_quotes([symbol])["quotes"][symbol]
    return Decimal(str(quote["bp"])), Decimal(str(quote["ap"]))  # type: ignore[index]


# ----- paper -----


def test_paper_fills_at_the_quote_whatever_the_size_partially_about_a_tenth_of_the_time() -> None:
    venue = venue_for("paper")
    updates = recorded(venue)
    venue.script_quote("AAPL", bid="100.00", ask="100.02", bid_size="1", ask_size="1")
    first_fills: list[dict[str, Any]] = []
    for index in range(1000):
        side = "buy" if index % 2 == 0 else "sell"
        order = venue.submit_order(market("AAPL", side, "7"))
        done = settle(venue, order["id"])
        assert (done["status"], done["filled_qty"]) == ("filled", "7")
        fills = [u for u in updates.for_order(order["id"]) if u["execution_id"]]
        touch = "100.02" if side == "buy" else "100"
        assert {u["price"] for u in fills} == {touch}, "at the quote, never improved"
        first_fills.append(fills[0])
    partial = sum(1 for f in first_fills if f["event"] == "partial_fill") / len(first_fills)
    assert 0.07 <= partial <= 0.13, partial
    whole = [f for f in first_fills if f["event"] == "fill"]
    assert all(Decimal(f["qty"]) == 7 for f in whole), "7 shares against 1 displayed"


def test_a_paper_partial_fills_remainder_keeps_working_and_fills_at_a_later_step() -> None:
    venue = venue_for("paper", partial_fill_share=1.0)  # every fill partial
    venue.script_quote("AAPL", bid="100.00", ask="100.02")
    order = venue.submit_order(limit("AAPL", "buy", "50", "100.02"))
    assert order["status"] == "partially_filled"
    filled = [Decimal(order["filled_qty"])]
    venue.script_quote("AAPL", bid="100.03", ask="100.05")  # not marketable: nothing more
    step(venue, 10)
    assert Decimal(venue.get_order(order["id"])["filled_qty"]) == filled[0]
    venue.script_quote("AAPL", bid="100.00", ask="100.02")
    for _ in range(20):
        step(venue)
        filled.append(Decimal(venue.get_order(order["id"])["filled_qty"]))
    assert filled == sorted(filled), "more fills, one step at a time"
    assert filled[-1] > filled[0]
    assert all(0 < qty < 50 for qty in filled), "each fill takes 10-90 % of what is left"


def test_paper_with_partial_fills_off_fills_every_order_whole() -> None:
    venue = venue_for("paper", partial_fill_share=0)
    venue.script_quote("AAPL", bid="100.00", ask="100.02", ask_size="1")
    for _ in range(200):
        order = venue.submit_order(market("AAPL", "buy", "3"))
        assert (order["status"], order["filled_qty"]) == ("filled", "3")


def test_paper_never_fills_a_passive_limit_inside_the_spread_even_with_flow() -> None:
    venue = venue_for("paper", flow={"rate_per_min": 240, "mean_size": 5000})
    venue.script_quote("AAPL", bid="100.00", ask="100.10")
    inside = venue.submit_order(limit("AAPL", "buy", "5", "100.05"))
    at_bid = venue.submit_order(limit("AAPL", "buy", "5", "100.00"))
    step(venue, 1800)
    assert venue.get_order(inside["id"])["filled_qty"] == "0"
    assert venue.get_order(at_bid["id"])["filled_qty"] == "0"
    venue.script_quote("AAPL", bid="99.98", ask="100.03")  # the ask comes through the limit
    filled = venue.get_order(inside["id"])
    assert (filled["status"], filled["filled_avg_price"]) == ("filled", "100.03")


# ----- live -----


def test_live_improves_marketable_orders_by_about_half_the_half_spread() -> None:
    venue = venue_for("live")
    ratios: list[Decimal] = []
    for index in range(600):
        symbol = ("AAPL", "MSFT", "TSLA")[index % 3]
        side = "buy" if index % 2 == 0 else "sell"
        bid, ask = quote_of(venue, symbol)
        order = venue.submit_order(market(symbol, side, "2"))
        assert (order["status"], order["filled_qty"]) == ("filled", "2")
        price = Decimal(order["filled_avg_price"])
        mid, half = (bid + ask) / 2, (ask - bid) / 2
        assert price == price.quantize(SUB_PENNY), "a hundredth-of-a-cent grid"
        assert bid < price < ask, "inside the spread"
        assert (price >= mid) if side == "buy" else (price <= mid), "never beyond the mid"
        ratios.append(abs(price - mid) / half)
        step(venue, 7)
    assert Decimal("0.43") <= mean(ratios) <= Decimal("0.5"), mean(ratios)
    assert len(set(ratios)) > 20, "the ratio varies from order to order"


def test_live_fills_retail_size_whole_whatever_the_displayed_size() -> None:
    venue = venue_for("live")
    venue.script_quote("AAPL", bid="100.00", ask="100.02", ask_size="1")
    order = venue.submit_order(market("AAPL", "buy", "250"))
    assert (order["status"], order["filled_qty"]) == ("filled", "250")
    assert Decimal("100.01") <= Decimal(order["filled_avg_price"]) < Decimal("100.02")


def test_live_limit_marketable_on_arrival_is_improved_within_its_limit() -> None:
    venue = venue_for("live")
    venue.script_quote("AAPL", bid="100.00", ask="100.04")
    order = venue.submit_order(limit("AAPL", "sell", "3", "99.99"))
    assert order["status"] == "filled"
    assert Decimal("100.00") < Decimal(order["filled_avg_price"]) <= Decimal("100.02")


def test_live_resting_limit_the_market_comes_through_fills_at_its_limit() -> None:
    venue = venue_for("live")
    venue.script_quote("AAPL", bid="100.00", ask="100.04")
    order = venue.submit_order(limit("AAPL", "buy", "3", "100.01"))
    assert order["status"] == "new"
    venue.script_quote("AAPL", bid="99.96", ask="99.98")
    filled = venue.get_order(order["id"])
    assert (filled["status"], filled["filled_avg_price"]) == ("filled", "100.01")


RESTING = ("AAPL", "NVDA", "AMZN", "JNJ", "XOM")
HORIZON = timedelta(seconds=60)


def resting_buy_fills(informed_share: float) -> list[tuple[datetime, str, Decimal]]:
    """One buy resting at the bid on each symbol, renewed a minute after it fills (so no two
    measured minutes of a symbol overlap) or after 30 s unfilled, over one session."""
    flow = {"rate_per_min": 60, "mean_size": 1500, "informed_share": informed_share}
    venue = venue_for("live", seed=3, flow=flow)
    last_start = datetime.fromisoformat("2026-11-24T21:00:00+00:00") - 2 * HORIZON
    working: dict[str, tuple[str, Decimal]] = {}
    idle_until: dict[str, datetime] = {}
    fills: list[tuple[datetime, str, Decimal]] = []
    while venue.clock.now() < last_start:
        now = venue.clock.now()
        for symbol in RESTING:
            if symbol not in working and idle_until.get(symbol, now) <= now:
                bid, _ = quote_of(venue, symbol)
                order = venue.submit_order(limit(symbol, "buy", "1", str(bid)))
                working[symbol] = (order["id"], bid)
        step(venue, 3)
        for symbol, (order_id, price) in list(working.items()):
            order = venue.get_order(order_id)
            if order["status"] == "filled":
                filled_at = datetime.fromisoformat(order["filled_at"])
                fills.append((filled_at, symbol, price))
                idle_until[symbol] = filled_at + HORIZON
                del working[symbol]
            elif datetime.fromisoformat(order["submitted_at"]) + timedelta(seconds=30) < now:
                venue.cancel_order(order_id)
                del working[symbol]
    return fills


def flow_fill_moves(fills: list[tuple[datetime, str, Decimal]]) -> list[Decimal]:
    """For the fills flow made (our buy at or inside the spread when it filled, not crossed by
    the ask), the mid a minute later minus the mid at the fill, in cents. The quotes come from
    a venue with no orders: the price path is a pure function of the seed and the step."""
    twin = Venue(default_scenario(), seed=3)
    points = sorted({(at, s) for at, s, _ in fills} | {(at + HORIZON, s) for at, s, _ in fills})
    quotes: dict[tuple[datetime, str], tuple[Decimal, Decimal]] = {}
    for at, symbol in points:
        twin.clock.set(at)
        quotes[(at, symbol)] = quote_of(twin, symbol)
    moves: list[Decimal] = []
    for at, symbol, price in fills:
        bid, ask = quotes[(at, symbol)]
        if ask > price:  # flow hit our resting buy (else the falling ask crossed it)
            later_bid, later_ask = quotes[(at + HORIZON, symbol)]
            moves.append(((later_bid + later_ask) - (bid + ask)) / 2 / CENT)
    return moves


def test_live_resting_limits_fill_through_flow_with_adverse_selection() -> None:
    # Half the flow informed (the default is 0.15) makes the effect plain in one session.
    informed = flow_fill_moves(resting_buy_fills(informed_share=0.5))
    uninformed = flow_fill_moves(resting_buy_fills(informed_share=0.0))
    assert min(len(informed), len(uninformed)) >= 600, "enough fills by flow to measure"
    assert mean(informed) < 0, "the mid falls after a resting buy is hit, on average"
    assert mean(informed) < mean(uninformed)

    def falling(moves: list[Decimal]) -> float:
        return sum(m < 0 for m in moves) / sum(m != 0 for m in moves)

    assert falling(informed) > 0.6 > falling(uninformed)


# ----- one market, either model -----


def test_same_seed_same_market_under_both_models() -> None:
    flow = {"rate_per_min": 30, "mean_size": 200}
    paper, live = venue_for("paper", seed=9, flow=flow), venue_for("live", seed=9, flow=flow)
    symbols = ["AAPL", "MSFT", "SPY", "BRK.B", "PNNY"]
    for venue in (paper, live):
        venue.submit_order(limit("AAPL", "buy", "3", "271.40", time_in_force="gtc"))
        venue.submit_order(market("SPY", "buy", "2"))
    for _ in range(120):
        step(paper, 13)
        step(live, 13)
        assert paper.latest_quotes(symbols) == live.latest_quotes(symbols)


# ----- pieces -----


@pytest.mark.parametrize(
    ("bid", "ask", "ratio", "buy", "sell"),
    [
        ("100.00", "100.01", "0.465", "100.0073", "100.0027"),
        ("100.00", "100.01", "0.38", "100.0069", "100.0031"),
        ("100.00", "100.04", "0.55", "100.0310", "100.0090"),
        ("0.4519", "0.4523", "0.5", "0.452200", "0.452000"),
    ],
)
def test_improved_price_is_ratio_of_the_half_spread_from_the_mid_on_the_grid(
    bid: str, ask: str, ratio: str, buy: str, sell: str
) -> None:
    quote = Quote("X", Decimal(bid), Decimal(ask), Decimal(1), Decimal(1), None, (0, 0))  # type: ignore[arg-type]
    assert improved_price("buy", quote, Decimal(ratio)) == Decimal(buy)
    assert improved_price("sell", quote, Decimal(ratio)) == Decimal(sell)


def test_keyed_draws_are_uniform_and_depend_on_their_keys_alone() -> None:
    draws = [keyed_unit(7, step) for step in range(20000)]
    assert draws == [keyed_unit(7, step) for step in range(20000)]
    assert all(0 <= draw < 1 for draw in draws)
    assert abs(mean(draws) - 0.5) < 0.01
    assert sum(draw < 0.1 for draw in draws) / len(draws) == pytest.approx(0.1, abs=0.01)
    assert keyed_unit(7, 1, 2) != keyed_unit(7, 2, 1)


def test_a_scenario_without_a_fill_model_is_paper_and_an_unknown_one_is_refused() -> None:
    data = scenario_data("live")
    del data["fill_model"]
    assert scenario_from_dict(data).fill_model == "paper"
    assert Venue(scenario_from_dict(data), seed=1).state()["fill_model"] == "paper"
    with pytest.raises(SimError) as caught:
        scenario_from_dict(scenario_data("real"))
    assert caught.value.status == 422
    assert "fill_model must be one of" in caught.value.message


def test_a_spread_distribution_must_add_up_to_one_over_whole_ticks() -> None:
    for weights in ({"1": 0.5, "2": 0.4}, {"0": 1}, {"1": 1.1, "2": -0.1}):
        data = scenario_data("paper")
        data["symbols"]["AAPL"]["spread_ticks"] = weights
        with pytest.raises(SimError) as caught:
            scenario_from_dict(data)
        assert caught.value.status == 422
