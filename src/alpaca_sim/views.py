"""Read-only views of the engine in Alpaca's JSON shapes: account, positions, order lists."""

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from alpaca_sim.account import held_for_sells
from alpaca_sim.decimals import ZERO, Dollars, Price, Shares
from alpaca_sim.engine import Engine
from alpaca_sim.errors import bad_request
from alpaca_sim.margin import bod_daytrading
from alpaca_sim.margin import marks as margin_marks
from alpaca_sim.orders import SimOrder
from alpaca_sim.wire import (
    Json,
    LegacyDayTrading,
    account_wire,
    clock_wire,
    fill_wire,
    iso,
    order_wire,
    position_wire,
    quote_wire,
)

MAX_ORDER_LIST = 500
_ACCOUNT_CREATED = datetime(2024, 1, 2, 14, 30, tzinfo=UTC)


def mark_price(engine: Engine, symbol: str, at: datetime) -> Price:
    return margin_marks(engine.market, [symbol], at)[symbol]


def marks(engine: Engine, at: datetime) -> dict[str, Price]:
    return margin_marks(engine.market, engine.account.holdings, at)


def account_view(engine: Engine, at: datetime) -> Json:
    scenario, book = engine.scenario, engine.account_book
    power = book.figures(engine.market, engine.open_orders(), at)
    margin = book.terms.is_margin
    return account_wire(
        account_id=scenario.account_id,
        account_number=scenario.account_number,
        created_at=_ACCOUNT_CREATED,
        cash=engine.account.cash,
        long_market_value=engine.account.long_market_value(marks(engine, at)),
        last_equity=book.start_of_day.equity,
        last_maintenance_margin=book.start_of_day.maintenance_margin if margin else Dollars(ZERO),
        as_of=at,
        terms=book.terms,
        power=power,
        legacy=_legacy_day_trading(engine, at, power.daytrading) if book.terms.legacy_pdt else None,
    )


def _legacy_day_trading(engine: Engine, at: datetime, daytrading: Dollars) -> LegacyDayTrading:
    book = engine.account_book
    return LegacyDayTrading(
        daytrade_count=book.day_trades.count(at),
        pattern_day_trader=book.terms.pattern_day_trader,
        bod_dtbp=bod_daytrading(book.terms, book.start_of_day),
        daytrading_buying_power=daytrading,
    )


def positions_view(
    engine: Engine, at: datetime, symbols: Iterable[str] | None = None
) -> list[Json]:
    wanted = sorted(engine.account.holdings) if symbols is None else list(symbols)
    views: list[Json] = []
    open_orders = engine.open_orders()
    for symbol in wanted:
        holding = engine.account.holdings[symbol]
        held, _ = held_for_sells(open_orders, symbol)
        views.append(
            position_wire(
                engine.scenario.assets[symbol],
                holding,
                mark_price(engine, symbol, at),
                engine.scenario.prices[symbol],
                Shares(holding.qty - held),
            )
        )
    return views


def select_orders(
    orders: Iterable[SimOrder],
    *,
    status: str,
    limit: int,
    after: str | None,
    until: str | None,
    direction: str,
    side: str | None,
    symbols: list[str] | None,
) -> list[SimOrder]:
    """GET /v2/orders filtering: after/until are exclusive bounds on submission time."""
    if status not in {"open", "closed", "all"}:
        raise bad_request(f"invalid status: {status}")
    if direction not in {"asc", "desc"}:
        raise bad_request(f"invalid direction: {direction}")
    if limit <= 0:
        raise bad_request("limit must be > 0")
    if side is not None and side not in {"buy", "sell"}:
        raise bad_request(f"invalid side: {side}")
    lower, upper = _instant(after, "after"), _instant(until, "until")
    wanted = None if not symbols else {s.strip().upper() for s in symbols}
    chosen = [
        o
        for o in orders
        if (status == "all" or (status == "open") == o.is_open)
        and (lower is None or o.created_at > lower)
        and (upper is None or o.created_at < upper)
        and (side is None or o.side == side)
        and (wanted is None or o.symbol in wanted)
    ]
    chosen.sort(key=lambda o: (o.created_at, o.seq), reverse=direction == "desc")
    return chosen[: min(limit, MAX_ORDER_LIST)]


def _instant(text: str | None, name: str) -> datetime | None:
    if text is None:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise bad_request(f"invalid {name}: {text}") from exc
    # alpaca-py renders naive datetimes without an offset; Alpaca reads them as UTC.
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def state_view(engine: Engine, *, seed: int) -> Json:
    at = engine.cursor
    orders = sorted(engine.orders.values(), key=lambda o: o.seq)
    assets = engine.scenario.assets
    return {
        "seed": seed,
        "scenario": engine.scenario.name,
        "fill_model": engine.scenario.fill_model,
        "now": iso(at),
        "clock": clock_wire(at, engine.calendar),
        "account": account_view(engine, at),
        "positions": positions_view(engine, at),
        "orders": [{**order_wire(o), "fills": [fill_wire(f) for f in o.fills]} for o in orders],
        "fills": [fill_wire(f) for f in engine.fills],
        "quotes": {
            s: quote_wire(
                engine.market.quote(s, at), assets[s].exchange, "sip", engine.scenario.quote_lot
            )
            for s in engine.market.symbols
        },
        "halted": engine.market.halted_symbols(),
        "scripted": engine.market.scripted_symbols(),
        "latency": {
            "ack_ms": engine.ack_latency / timedelta(milliseconds=1),
            "fill_ms": engine.fill_latency / timedelta(milliseconds=1),
        },
        "trade_updates": list(engine.history),
    }
