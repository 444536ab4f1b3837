"""Other traders' marketable flow (the live fill model): it hits our resting limits at their price,
in price then time priority, deterministically, and never while halted or outside the session;
under the paper model it fills nothing."""

import json
from datetime import UTC, datetime
from decimal import Decimal
from importlib import resources
from typing import Any

import pytest
from simcore_support import limit, step

from alpaca_sim import SimError, Venue, default_scenario, scenario_from_dict
from alpaca_sim.scenario import NO_FLOW, FlowSpec

BID, ASK = "271.40", "271.60"  # AAPL held still by a script, 20 cents wide


def scenario_data(fill_model: str = "live", **flow: object) -> dict[str, Any]:
    text = resources.files("alpaca_sim").joinpath("scenarios/default.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    data["fill_model"] = fill_model
    if flow:
        data["flow"] = flow
    return data


def flow_venue(
    seed: int = 7, *, bid_size: str = "400", fill_model: str = "live", **flow: object
) -> Venue:
    venue = Venue(scenario_from_dict(scenario_data(fill_model, **flow)), seed=seed)
    venue.script_quote("AAPL", bid=BID, ask=ASK, bid_size=bid_size, ask_size="400")
    return venue


def fills_of(venue: Venue, order_id: str) -> list[dict[str, Any]]:
    fills: list[dict[str, Any]] = venue.state()["fills"]  # type: ignore[assignment]
    return [f for f in fills if f["order_id"] == order_id]


def filled_qty(venue: Venue, order_id: str) -> Decimal:
    return Decimal(str(venue.get_order(order_id)["filled_qty"]))


# ----- scenario -----


def test_flow_is_off_unless_the_scenario_asks_for_it() -> None:
    assert default_scenario().flow == {}
    assert FlowSpec() == NO_FLOW
    assert not NO_FLOW.active


def test_a_symbols_flow_overrides_the_global_one_field_by_field() -> None:
    data = scenario_data(rate_per_min=12, mean_size=40)
    data["symbols"]["NVDA"]["flow"] = {"mean_size": 5}
    data["symbols"]["SPY"]["flow"] = {"rate_per_min": 0}
    flow = scenario_from_dict(data).flow
    assert flow["AAPL"] == FlowSpec(rate_per_min=12, mean_size=40)
    assert flow["NVDA"] == FlowSpec(rate_per_min=12, mean_size=5)
    assert "SPY" not in flow


@pytest.mark.parametrize(
    ("flow", "fragment"),
    [
        ({"rate_per_min": -1}, "'rate_per_min' must be >= 0"),
        ({"rate_per_min": "nan"}, "'rate_per_min' must be >= 0"),
        ({"rate_per_min": 5, "mean_size": 0}, "'mean_size' must be > 0"),
        ({"rate_per_min": 5, "mean_size": "inf"}, "'mean_size' must be > 0"),
    ],
)
def test_invalid_flow_is_refused(flow: dict[str, object], fragment: str) -> None:
    with pytest.raises(SimError) as caught:
        scenario_from_dict(scenario_data(**flow))
    assert caught.value.status == 422
    assert fragment in caught.value.message


# ----- hits -----


def test_no_flow_leaves_a_resting_order_inside_the_spread_alone() -> None:
    venue = flow_venue()
    order = venue.submit_order(limit("AAPL", "buy", "5", "271.50"))
    step(venue, 600)
    assert venue.get_order(order["id"])["status"] == "new"
    assert fills_of(venue, order["id"]) == []


@pytest.mark.parametrize(("side", "price"), [("buy", "271.45"), ("sell", "271.55")])
def test_a_resting_order_inside_the_spread_is_hit_at_its_limit(side: str, price: str) -> None:
    venue = flow_venue(rate_per_min=60, mean_size=3)
    order = venue.submit_order(limit("AAPL", side, "20", price))
    step(venue, 900)
    fills = fills_of(venue, order["id"])
    assert venue.get_order(order["id"])["status"] == "filled"
    assert len(fills) > 1  # the arriving sizes (mean 3) are smaller than the order
    assert {f["price"] for f in fills} == {price}
    quote = venue.latest_quotes(["AAPL"])["quotes"]["AAPL"]
    assert (quote["bp"], quote["ap"]) == (271.4, 271.6)  # type: ignore[index]


def test_the_paper_engine_lets_no_flow_fill_a_resting_order() -> None:
    venue = flow_venue(rate_per_min=120, mean_size=50, fill_model="paper")
    inside = venue.submit_order(limit("AAPL", "buy", "5", "271.50"))
    step(venue, 600)
    assert venue.get_order(inside["id"])["status"] == "new"
    assert fills_of(venue, inside["id"]) == []


def test_orders_not_at_or_inside_our_touch_are_not_hit() -> None:
    buyer, seller = (flow_venue(rate_per_min=120, mean_size=50) for _ in range(2))
    below_bid = buyer.submit_order(limit("AAPL", "buy", "5", "271.30"))
    above_ask = seller.submit_order(limit("AAPL", "sell", "5", "271.70"))
    step(buyer, 300)
    step(seller, 300)
    assert filled_qty(buyer, below_bid["id"]) == 0
    assert filled_qty(seller, above_ask["id"]) == 0


def test_at_the_bid_an_order_queues_behind_the_displayed_size() -> None:
    deep = flow_venue(bid_size="1000000", rate_per_min=120, mean_size=20)
    thin = flow_venue(bid_size="1", rate_per_min=120, mean_size=20)
    behind = deep.submit_order(limit("AAPL", "buy", "5", BID))
    ahead = thin.submit_order(limit("AAPL", "buy", "5", BID))
    step(deep, 300)
    step(thin, 300)
    assert filled_qty(deep, behind["id"]) == 0
    assert filled_qty(thin, ahead["id"]) == 5
    assert {f["price"] for f in fills_of(thin, ahead["id"])} == {"271.4"}


def test_better_price_then_earlier_order_fills_first() -> None:
    venue = flow_venue(rate_per_min=60, mean_size=4)
    first = venue.submit_order(limit("AAPL", "buy", "10", "271.45"))
    second = venue.submit_order(limit("AAPL", "buy", "10", "271.45"))
    better = venue.submit_order(limit("AAPL", "buy", "10", "271.50"))
    step(venue, 1800)
    fills: list[dict[str, Any]] = venue.state()["fills"]  # type: ignore[assignment]
    sequence = [f["order_id"] for f in fills]
    expected_order = [better["id"], first["id"], second["id"]]
    assert set(sequence) == set(expected_order)
    last_of = {oid: max(i for i, o in enumerate(sequence) if o == oid) for oid in expected_order}
    first_of = {oid: sequence.index(oid) for oid in expected_order}
    assert last_of[better["id"]] < first_of[first["id"]]
    assert last_of[first["id"]] < first_of[second["id"]]


def test_whole_share_assets_are_hit_in_whole_shares() -> None:
    venue = flow_venue(rate_per_min=60, mean_size=1.5)
    venue.script_quote("BRK.B", bid="497.50", ask="498.10")
    order = venue.submit_order(limit("BRK.B", "buy", "7", "497.80"))
    step(venue, 900)
    fills = fills_of(venue, order["id"])
    assert fills
    assert all(Decimal(f["qty"]) == Decimal(f["qty"]).to_integral_value() for f in fills)


# ----- determinism -----


def drive(venue: Venue, *, seconds_per_look: int) -> None:
    venue.submit_order(limit("AAPL", "buy", "30", "271.45"))
    venue.submit_order(limit("JNJ", "sell", "12.5", "198.45"))
    venue.submit_order(limit("NVDA", "buy", "40", "189.70", time_in_force="gtc"))
    for _ in range(1200 // seconds_per_look):
        step(venue, seconds_per_look)
        venue.latest_quotes(["AAPL", "NVDA"])


def test_same_seed_and_calls_give_the_same_fills_however_often_one_looks() -> None:
    often, rarely, again = (flow_venue(11, rate_per_min=30, mean_size=3) for _ in range(3))
    drive(often, seconds_per_look=1)
    drive(rarely, seconds_per_look=300)
    drive(again, seconds_per_look=1)
    assert often.state() == again.state()
    assert often.state()["fills"] == rarely.state()["fills"]
    assert len(often.state()["fills"]) >= 5  # type: ignore[arg-type]


def test_a_different_seed_gives_different_flow() -> None:
    first, second = (
        flow_venue(1, rate_per_min=30, mean_size=3),
        flow_venue(2, rate_per_min=30, mean_size=3),
    )
    drive(first, seconds_per_look=60)
    drive(second, seconds_per_look=60)
    assert first.state()["fills"] != second.state()["fills"]


def test_turning_flow_on_leaves_the_price_paths_as_they_were() -> None:
    with_flow = Venue(scenario_from_dict(scenario_data(rate_per_min=60)), seed=4)
    without = Venue(default_scenario(), seed=4)  # paper, no flow
    for venue in (with_flow, without):
        venue.submit_order(limit("TSLA", "buy", "1", "431.80"))
        step(venue, 600)
    symbols = ["AAPL", "TSLA", "SPY"]
    assert with_flow.latest_quotes(symbols) == without.latest_quotes(symbols)


# ----- halts and the session -----


def test_no_flow_while_halted_then_flow_again_once_resumed() -> None:
    venue = flow_venue(rate_per_min=120, mean_size=2)
    order = venue.submit_order(limit("AAPL", "buy", "50", "271.45"))
    venue.set_halted("AAPL", True)
    step(venue, 600)
    assert filled_qty(venue, order["id"]) == 0
    venue.set_halted("AAPL", False)
    step(venue, 600)
    assert filled_qty(venue, order["id"]) > 0


def test_no_flow_outside_the_session() -> None:
    venue = flow_venue(rate_per_min=10, mean_size=1)
    venue.clock.set(datetime(2026, 11, 24, 20, 50, tzinfo=UTC))
    order = venue.submit_order(limit("AAPL", "buy", "100", "271.45", time_in_force="gtc"))
    venue.clock.set(datetime(2026, 11, 25, 14, 29, tzinfo=UTC))
    venue.tick()
    overnight = fills_of(venue, order["id"])
    assert overnight
    assert max(f["timestamp"] for f in overnight) < "2026-11-24T21:00:00"
    step(venue, 1800)
    next_day = fills_of(venue, order["id"])[len(overnight) :]
    assert next_day
    assert min(f["timestamp"] for f in next_day) >= "2026-11-25T14:30:00"
