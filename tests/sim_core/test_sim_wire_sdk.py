"""The wire dicts parse with alpaca-py 0.44's own models (what the real client will do)."""

import json
from decimal import Decimal

import pytest
from alpaca.data.models.quotes import Quote
from alpaca.trading.models import Asset, Clock, Order, Position, TradeAccount, TradeUpdate
from simcore_support import RARE_PATH, limit, make_venue, market, recorded, settle, step


def roundtrip(value: object) -> object:
    """What the HTTP layer sends: plain JSON."""
    return json.loads(json.dumps(value))


def test_account_parses_as_trade_account() -> None:
    account = TradeAccount(**roundtrip(make_venue().account()))  # type: ignore[arg-type]
    assert account.status == "ACTIVE"
    assert Decimal(account.buying_power or "0") == Decimal("40125.37")


def test_positions_parse() -> None:
    for raw in make_venue().list_positions():
        position = Position(**roundtrip(raw))  # type: ignore[arg-type]
        assert Decimal(position.qty) > 0
        assert position.qty_available == position.qty


@pytest.mark.parametrize("symbol", ["AAPL", "BRK.B", "DFNCT", "LOCKD", "PNNY", "SPY"])
def test_assets_parse(symbol: str) -> None:
    asset = Asset(**roundtrip(make_venue().get_asset(symbol)))  # type: ignore[arg-type]
    assert asset.symbol == symbol
    assert asset.fractionable is (symbol != "BRK.B")


def test_orders_in_every_state_parse() -> None:
    venue = make_venue()
    venue.set_latency(ack_ms=100, fill_ms=0)
    pending = venue.submit_order(limit("AAPL", "buy", "1", "200.00"))
    step(venue, 1)
    notional = venue.submit_order(
        {"symbol": "SPY", "side": "buy", "type": "market", "time_in_force": "day", "notional": "25"}
    )
    step(venue, 1)
    venue.cancel_order(pending["id"])
    step(venue, 1)
    for raw in venue.list_orders(status="all"):
        order = Order(**roundtrip(raw))  # type: ignore[arg-type]
        assert str(order.id) == raw["id"]
    parsed = Order(**roundtrip(venue.get_order(notional["id"])))  # type: ignore[arg-type]
    assert parsed.notional == "25"
    assert parsed.qty is None


def test_trade_updates_parse() -> None:
    venue = make_venue(**RARE_PATH)  # every event kind: pending_new, new, fill, pending_cancel
    updates = recorded(venue)
    venue.set_halted("MSFT", True)
    resting = venue.submit_order(limit("MSFT", "buy", "1", "400.00", client_order_id="r"))
    venue.submit_order(market("AAPL", "buy", "2"))
    settle(venue)
    venue.cancel_order(resting["id"])
    settle(venue)
    kinds = {str(raw["event"]) for raw in updates.updates}
    assert kinds == {"pending_new", "new", "fill", "pending_cancel", "canceled"}
    for raw in updates.updates:
        update = TradeUpdate(**roundtrip(raw))  # type: ignore[arg-type]
        assert update.order.symbol in {"AAPL", "MSFT"}
    (fill_raw,) = (u for u in updates.updates if u["event"] == "fill")
    fill = TradeUpdate(**roundtrip(fill_raw))  # type: ignore[arg-type]
    assert fill.qty == 2
    assert fill.price is not None
    assert fill.execution_id is not None


def test_clock_parses() -> None:
    clock = Clock(**roundtrip(make_venue().clock_view()))  # type: ignore[arg-type]
    assert clock.is_open is True
    assert clock.next_close.utcoffset() is not None


def test_latest_quotes_parse_with_the_data_model() -> None:
    quotes = make_venue().latest_quotes(["AAPL", "PNNY", "UNKNOWN"])["quotes"]
    assert set(quotes) == {"AAPL", "PNNY"}  # type: ignore[arg-type]
    for symbol, raw in roundtrip(quotes).items():  # type: ignore[union-attr]
        quote = Quote(symbol, raw)
        assert 0 < quote.bid_price < quote.ask_price
        assert quote.bid_size >= 1
