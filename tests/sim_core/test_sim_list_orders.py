"""GET /v2/orders filters: status, limit, after/until (exclusive), direction, side, symbols."""

from datetime import timedelta

from simcore_support import START, limit, make_venue, market, step

from alpaca_sim import Venue


def build_book() -> tuple[Venue, list[str]]:
    venue = make_venue()
    for symbol in ("AAPL", "MSFT", "NVDA"):
        venue.set_halted(symbol, True)  # keep orders open
    ids = []
    ids.append(venue.submit_order(limit("AAPL", "buy", "1", "200.00"))["id"])
    step(venue, 10)
    ids.append(venue.submit_order(limit("MSFT", "sell", "1", "600.00"))["id"])
    step(venue, 10)
    ids.append(venue.submit_order(market("JNJ", "buy", "1"))["id"])  # fills: closed
    step(venue, 10)
    ids.append(venue.submit_order(limit("NVDA", "buy", "1", "150.00"))["id"])
    return venue, ids


def ids_of(orders: list[dict[str, object]]) -> list[object]:
    return [o["id"] for o in orders]


def test_status_filters_and_default_direction() -> None:
    venue, ids = build_book()
    assert ids_of(venue.list_orders()) == [ids[3], ids[1], ids[0]]
    assert ids_of(venue.list_orders(status="closed")) == [ids[2]]
    assert ids_of(venue.list_orders(status="all", direction="asc")) == ids


def test_after_and_until_are_exclusive_on_submission_time() -> None:
    venue, ids = build_book()
    second_at = (START + timedelta(seconds=10)).isoformat()
    assert ids_of(venue.list_orders(status="all", after=second_at, direction="asc")) == ids[2:]
    assert ids_of(venue.list_orders(status="all", until=second_at)) == [ids[0]]
    naive = (START + timedelta(seconds=10)).replace(tzinfo=None).isoformat()
    assert ids_of(venue.list_orders(status="all", until=naive)) == [ids[0]]


def test_limit_side_and_symbols() -> None:
    venue, ids = build_book()
    assert ids_of(venue.list_orders(status="all", limit=2)) == [ids[3], ids[2]]
    assert ids_of(venue.list_orders(status="all", side="sell")) == [ids[1]]
    assert ids_of(venue.list_orders(status="all", symbols=["aapl", "NVDA"])) == [ids[3], ids[0]]
    assert len(venue.list_orders(status="all", limit=10_000)) == 4


def test_limit_is_capped_at_five_hundred() -> None:
    venue = make_venue()
    venue.set_halted("PNNY", True)
    for _ in range(501):
        venue.submit_order(limit("PNNY", "buy", "3", "0.4000"))  # $1.20: above the $1 minimum
    assert len(venue.list_orders(limit=1000)) == 500
