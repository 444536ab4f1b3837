"""Alpaca's order rules: each refusal with Alpaca's HTTP status, code, message and extras."""

import uuid
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from alpaca_sim.decimals import (
    MAX_QTY_DECIMALS,
    Dollars,
    Price,
    Shares,
    decimal_places,
    fmt,
    fmt_money,
    is_on_tick,
    is_whole,
    to_decimal,
)
from alpaca_sim.errors import bad_request, forbidden, unprocessable
from alpaca_sim.orders import CANCELABLE, REPLACEABLE, SimOrder
from alpaca_sim.refusals import RefusalWording, already_in_state
from alpaca_sim.scenario import AssetSpec

MAX_CLIENT_ORDER_ID = 128
MIN_COST_BASIS = Decimal(1)
SIDES = frozenset({"buy", "sell"})
SUPPORTED_TYPES = frozenset({"market", "limit"})
KNOWN_TYPES = SUPPORTED_TYPES | {"stop", "stop_limit", "trailing_stop"}
SUPPORTED_TIF = frozenset({"day", "gtc", "ioc", "fok"})
KNOWN_TIF = SUPPORTED_TIF | {"opg", "cls"}
KNOWN_CLASSES = frozenset({"simple", "bracket", "oco", "oto", "mleg"})


@dataclass(frozen=True)
class OrderRequest:
    symbol: str
    side: str
    order_type: str
    time_in_force: str
    qty: Shares | None
    notional: Dollars | None
    limit_price: Price | None
    extended_hours: bool
    client_order_id: str | None
    order_class: str

    @property
    def is_fractional(self) -> bool:
        return self.notional is not None or (self.qty is not None and not is_whole(self.qty))


@dataclass(frozen=True)
class ReplaceRequest:
    qty: Shares | None
    limit_price: Price | None
    time_in_force: str | None
    client_order_id: str | None


def parse_order_request(body: Mapping[str, object]) -> OrderRequest:
    """Shape checks that need no account or asset state."""
    client_order_id = _client_order_id(body.get("client_order_id"))
    symbol = body.get("symbol")
    if not isinstance(symbol, str) or not symbol.strip():
        raise bad_request("symbol is required")
    side = _choice(body, "side", SIDES, SIDES)
    order_type = _choice(body, "type", KNOWN_TYPES, SUPPORTED_TYPES)
    tif = _choice(body, "time_in_force", KNOWN_TIF, SUPPORTED_TIF)
    order_class = str(body.get("order_class") or "simple")
    if order_class not in KNOWN_CLASSES:
        raise bad_request(f"invalid order_class: {order_class}")
    qty, notional = _amount(body)
    limit_price = _limit_price(body, order_type)
    extended_hours = body.get("extended_hours", False)
    if not isinstance(extended_hours, bool):
        raise bad_request("extended_hours must be a boolean")
    if extended_hours and (order_type != "limit" or tif != "day"):
        raise unprocessable("extended hours order must be DAY limit orders")
    if notional is not None and order_type != "market":
        raise unprocessable("notional orders must be market orders")
    return OrderRequest(
        symbol=symbol.strip().upper(),
        side=side,
        order_type=order_type,
        time_in_force=tif,
        qty=qty,
        notional=notional,
        limit_price=limit_price,
        extended_hours=extended_hours,
        client_order_id=client_order_id,
        order_class=order_class,
    )


def check_asset(request: OrderRequest, asset: AssetSpec | None) -> AssetSpec:
    if asset is None:
        raise unprocessable("invalid symbol")
    if asset.status != "active":
        raise unprocessable(f'asset "{asset.symbol}" is not active')
    if not asset.tradable:
        raise unprocessable(f'asset "{asset.symbol}" is not tradable')
    if request.is_fractional:
        if not asset.fractionable:
            raise forbidden(f'asset "{asset.symbol}" is not fractionable')
        if request.time_in_force != "day":
            raise unprocessable("fractional orders must be DAY orders")
        if request.order_class != "simple":
            raise unprocessable("fractional orders must be simple orders")
    if request.order_class != "simple":
        raise unprocessable(f"order_class {request.order_class} is not supported by the simulator")
    return asset


def check_min_cost_basis(cost_basis: Decimal) -> None:
    """Every order, whole shares or fractional, must be worth $1 (Alpaca staff,
    forum.alpaca.markets/t/13116: "Orders smaller than $1 are not allowed", answered 403 with
    code 40310000; the cost basis is estimated before the order is placed, see
    admission.cost_basis)."""
    if cost_basis < MIN_COST_BASIS:
        raise forbidden(f"cost basis must be >= minimal amount of order {fmt(MIN_COST_BASIS)}")


def check_unique_client_order_id(
    client_order_id: str, known: Collection[str], wording: RefusalWording
) -> None:
    """Unique forever, even after the first order ended (alpaca-py issue #260); the refusal in
    the scenario's recorded wording (alpaca_sim.refusals)."""
    if client_order_id in known:
        raise wording.duplicate_client_order_id_error()


def check_wash_trade(request: OrderRequest, open_orders: Iterable[SimOrder]) -> None:
    """Alpaca docs, User Protection, "Preventing Wash Trades": a new order is refused (403)
    when it and an open order on the other side of the same symbol could execute against each
    other. The docs' table: a market order on either side is always refused; a limit against a
    limit only if the buy's limit price >= the sell's. (Its stop and stop_limit rows do not
    arise: the simulator takes market and limit orders only.) The message is a recorded
    answer (forum.alpaca.markets/t/13817: a market buy while a limit sell was open)."""
    for order in open_orders:
        if order.symbol != request.symbol or order.side == request.side or not order.is_open:
            continue
        if _may_interact(request, order):
            raise forbidden("potential wash trade detected. use complex orders")


def _may_interact(request: OrderRequest, order: SimOrder) -> bool:
    if request.order_type == "market" or order.order_type == "market":
        return True
    buy_limit, sell_limit = request.limit_price, order.limit_price
    if request.side == "sell":
        buy_limit, sell_limit = sell_limit, buy_limit
    assert buy_limit is not None, "limit orders carry a limit"
    assert sell_limit is not None, "limit orders carry a limit"
    return buy_limit >= sell_limit


def check_buying_power(cost: Decimal, buying_power: Dollars) -> None:
    if cost > buying_power:
        raise forbidden(
            "insufficient buying power",
            {"buying_power": fmt_money(buying_power), "cost_basis": fmt(cost)},
        )


def check_qty_available(
    symbol: str, requested: Decimal, existing: Shares, held: Shares, related: list[str]
) -> None:
    available = existing - held
    if requested > available:
        raise forbidden(
            f"insufficient qty available for order (requested: {fmt(requested)}, "
            f"available: {fmt(available)})",
            {
                "available": fmt(available),
                "existing_qty": fmt(existing),
                "held_for_orders": fmt(held),
                "related_orders": related,
                "symbol": symbol,
            },
        )


def parse_order_id(order_id: str) -> str:
    try:
        return str(uuid.UUID(order_id))
    except (ValueError, AttributeError, TypeError) as exc:
        raise bad_request("order_id is missing") from exc


def check_cancelable(order: SimOrder, wording: RefusalWording) -> bool:
    """Whether a cancel request moves `order`. An order past cancelling is refused with its
    status named, or, under the scenario's `accepted` reading, a terminal one is taken without
    effect (False); sources in alpaca_sim.refusals."""
    if order.status in CANCELABLE:
        return True
    if order.is_open or not wording.accepts_terminal_cancel:
        raise already_in_state(order.status.value)
    return False


def check_replaceable(order: SimOrder) -> None:
    if order.is_notional:
        raise unprocessable("notional orders cannot be replaced")
    if order.status not in REPLACEABLE:
        raise unprocessable(f"order is not replaceable in status {order.status}")


def replacement_request(old: SimOrder, change: ReplaceRequest) -> OrderRequest:
    """The new order a replace creates: the old one's terms with `change` applied. Without a
    new qty it carries the old order's unfilled remainder."""
    check_replaceable(old)
    if old.order_type == "market" and change.limit_price is not None:
        raise bad_request("limit_price is not allowed for market orders")
    return OrderRequest(
        symbol=old.symbol,
        side=old.side,
        order_type=old.order_type,
        time_in_force=change.time_in_force or old.time_in_force,
        qty=change.qty if change.qty is not None else old.remaining_qty,
        notional=None,
        limit_price=change.limit_price or old.limit_price,
        extended_hours=old.extended_hours,
        client_order_id=change.client_order_id,
        order_class="simple",
    )


def parse_replace_request(body: Mapping[str, object]) -> ReplaceRequest:
    for unsupported in ("stop_price", "trail", "notional"):
        if body.get(unsupported) is not None:
            raise unprocessable(f"replacing {unsupported} is not supported by the simulator")
    qty = None if body.get("qty") is None else _positive(body["qty"], "qty", MAX_QTY_DECIMALS)
    tif = body.get("time_in_force")
    if tif is not None and tif not in SUPPORTED_TIF:
        raise bad_request(f"invalid time_in_force: {tif}")
    limit = body.get("limit_price")
    limit_price = None if limit is None else _tick_price(limit)
    request = ReplaceRequest(
        qty=None if qty is None else Shares(qty),
        limit_price=limit_price,
        time_in_force=None if tif is None else str(tif),
        client_order_id=_client_order_id(body.get("client_order_id")),
    )
    if request == ReplaceRequest(None, None, None, None):
        raise bad_request("qty, limit_price or time_in_force is required")
    return request


def _client_order_id(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise bad_request("client_order_id must be a non-empty string")
    if len(value) > MAX_CLIENT_ORDER_ID:
        raise bad_request(f"client_order_id must be no more than {MAX_CLIENT_ORDER_ID} characters")
    return value


def _choice(
    body: Mapping[str, object], key: str, known: frozenset[str], supported: frozenset[str]
) -> str:
    value = body.get(key)
    if not isinstance(value, str) or value.lower() not in known:
        raise bad_request(f"invalid {key}: {value}")
    if value.lower() not in supported:
        raise unprocessable(f"{key} {value} is not supported by the simulator")
    return value.lower()


def _amount(body: Mapping[str, object]) -> tuple[Shares | None, Dollars | None]:
    raw_qty, raw_notional = body.get("qty"), body.get("notional")
    if raw_qty is not None and raw_notional is not None:
        raise bad_request("only one of qty or notional may be given")
    if raw_qty is None and raw_notional is None:
        raise bad_request("qty or notional is required")
    if raw_qty is not None:
        return Shares(_positive(raw_qty, "qty", MAX_QTY_DECIMALS)), None
    return None, Dollars(_positive(raw_notional, "notional", MAX_QTY_DECIMALS))


def _positive(raw: object, name: str, max_places: int | None) -> Decimal:
    try:
        value = to_decimal(raw)
    except ValueError as exc:
        raise bad_request(f"invalid {name}: {raw}") from exc
    if value <= 0:
        raise bad_request(f"{name} must be > 0")
    if max_places is not None and decimal_places(value) > max_places:
        raise bad_request(f"{name} must have at most {max_places} decimal places")
    return value


def _limit_price(body: Mapping[str, object], order_type: str) -> Price | None:
    raw = body.get("limit_price")
    if body.get("stop_price") is not None:
        raise bad_request(f"stop_price is not allowed for {order_type} orders")
    if order_type == "market":
        if raw is not None:
            raise bad_request("limit_price is not allowed for market orders")
        return None
    if raw is None:
        raise bad_request("limit_price is required for limit orders")
    return _tick_price(raw)


def _tick_price(raw: object) -> Price:
    value = _positive(raw, "limit_price", None)
    if not is_on_tick(value):
        raise unprocessable(
            f"invalid limit_price {fmt(value)}. sub-penny increment does not fulfill "
            "minimum pricing criteria"
        )
    return Price(value)
