"""Random order flow keeps the books consistent: cash, positions, holds and fills agree."""

from collections.abc import Callable
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from simcore_support import make_venue

from alpaca_sim import SimError, Venue, default_scenario

SYMBOLS = ["AAPL", "BRK.B", "PNNY", "XOM"]
SCENARIO = default_scenario()

submit = st.tuples(
    st.just("submit"),
    st.sampled_from(SYMBOLS),
    st.sampled_from(["buy", "sell"]),
    st.sampled_from(["1", "3", "7.5", "40", "250"]),
    st.sampled_from([None, "-0.003", "-0.0005", "0", "0.0005", "0.003"]),  # limit offset, or market
)
cancel = st.tuples(st.just("cancel"), st.integers(min_value=0, max_value=20))
advance = st.tuples(st.just("advance"), st.integers(min_value=1, max_value=30))
script = st.tuples(st.just("script"), st.sampled_from(SYMBOLS), st.sampled_from(["1", "25", "500"]))
actions = st.lists(st.one_of(submit, cancel, advance, script), min_size=3, max_size=20)


def refusal_status(call: Callable[[], object]) -> int | None:
    """The SimError status a venue call refused with, or None if it was accepted."""
    try:
        call()
    except SimError as error:
        return error.status
    return None


def apply(venue: Venue, action: tuple[object, ...]) -> None:
    kind = action[0]
    if kind == "submit":
        _, symbol, side, qty, offset = action
        quote = venue.latest_quotes([str(symbol)])["quotes"][symbol]  # type: ignore[index]
        body: dict[str, object] = {
            "symbol": symbol,
            "side": side,
            "qty": qty,
            "type": "market",
            "time_in_force": "day",
        }
        if offset is not None:
            mid = (Decimal(str(quote["bp"])) + Decimal(str(quote["ap"]))) / 2  # type: ignore[index]
            places = Decimal("0.01") if mid >= 1 else Decimal("0.0001")
            body.update(
                type="limit", limit_price=str((mid * (1 + Decimal(str(offset)))).quantize(places))
            )
        assert refusal_status(lambda: venue.submit_order(body)) in {None, 403, 422}
    elif kind == "cancel":
        open_orders = venue.list_orders(status="open", direction="asc")
        if open_orders:
            target = open_orders[int(action[1]) % len(open_orders)]
            status = refusal_status(lambda: venue.cancel_order(str(target["id"])))
            assert status in {None, 422}
    elif kind == "advance":
        venue.clock.advance(float(action[1]))  # type: ignore[arg-type]
        venue.tick()
    else:
        _, symbol, size = action
        quote = venue.latest_quotes([str(symbol)])["quotes"][symbol]  # type: ignore[index]
        venue.script_quote(
            str(symbol),
            bid=str(quote["bp"]),
            ask=str(quote["ap"]),  # type: ignore[index]
            bid_size=str(size),
            ask_size=str(size),
            hold=False,
        )


def check_books(venue: Venue) -> None:
    state = venue.state()
    orders = state["orders"]
    fills = state["fills"]
    cash = SCENARIO.cash
    positions = {s: p.qty for s, p in SCENARIO.positions.items()}
    for fill in fills:  # type: ignore[union-attr]
        qty, value = Decimal(fill["qty"]), Decimal(fill["qty"]) * Decimal(fill["price"])
        sign = 1 if fill["side"] == "buy" else -1
        positions[fill["symbol"]] = positions.get(fill["symbol"], Decimal(0)) + sign * qty
        cash -= sign * value.quantize(Decimal("0.01"))
        assert Decimal(fill["position_qty"]) >= 0
    account = state["account"]
    assert Decimal(account["cash"]) == cash  # type: ignore[index]
    assert Decimal(account["buying_power"]) >= 0  # type: ignore[index]
    reported = {p["symbol"]: p for p in state["positions"]}  # type: ignore[union-attr]
    assert set(reported) == {s for s, q in positions.items() if q != 0}
    for symbol, position in reported.items():
        assert Decimal(position["qty"]) == positions[symbol]
        assert 0 <= Decimal(position["qty_available"]) <= Decimal(position["qty"])
    for order in orders:  # type: ignore[union-attr]
        filled = Decimal(order["filled_qty"])
        assert filled == sum(Decimal(f["qty"]) for f in order["fills"])
        if order["qty"] is not None:
            assert filled <= Decimal(order["qty"])
            assert (order["status"] == "filled") == (filled == Decimal(order["qty"]))
        if order["symbol"] == "BRK.B":
            assert filled == filled.to_integral_value()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actions=actions, seed=st.integers(min_value=0, max_value=2**16))
def test_random_order_flow_keeps_the_books_consistent(
    actions: list[tuple[object, ...]], seed: int
) -> None:
    venue = make_venue(seed)
    for action in actions:
        apply(venue, action)
        check_books(venue)
