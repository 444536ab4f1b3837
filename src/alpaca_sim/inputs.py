"""Parsing of the venue's non-order inputs: position closes, scripted quotes, forced partials."""

from decimal import ROUND_DOWN, Decimal

from alpaca_sim.decimals import ZERO, Price, Shares, floor_qty, to_decimal
from alpaca_sim.errors import bad_request


def closing_qty(
    held: Shares, *, fractionable: bool, qty: str | None, percentage: str | None
) -> Shares:
    """Shares a DELETE /v2/positions/{symbol} sells: `qty`, a percentage (rounded down), or all."""
    if qty is not None and percentage is not None:
        raise bad_request("only one of qty or percentage may be given")
    if qty is not None:
        return Shares(_number(qty, "qty", minimum_exclusive=True))
    share = Decimal(100)
    if percentage is not None:
        share = _number(percentage, "percentage", minimum_exclusive=True)
    if share > 100:
        raise bad_request("percentage must be <= 100")
    amount = floor_qty(held * share / 100)
    if not fractionable:
        amount = Shares(amount.to_integral_value(rounding=ROUND_DOWN))
    if amount <= 0:
        raise bad_request("qty must be > 0")
    return amount


def scripted_price(raw: str | None, name: str) -> Price:
    """A scripted quote side: None or "0" means the side is absent."""
    return Price(ZERO if raw is None else _number(raw, name, minimum_exclusive=False))


def scripted_size(raw: str | None, side_price: Price, default: Decimal) -> Shares:
    if raw is None:
        return Shares(default if side_price > 0 else ZERO)
    return Shares(_number(raw, "size", minimum_exclusive=False))


def positive_qty(raw: str, name: str = "qty") -> Shares:
    return Shares(_number(raw, name, minimum_exclusive=True))


def _number(raw: str, name: str, *, minimum_exclusive: bool) -> Decimal:
    try:
        value = to_decimal(raw)
    except ValueError as exc:
        raise bad_request(f"invalid {name}: {raw}") from exc
    if value < 0 or (minimum_exclusive and value == 0):
        raise bad_request(f"{name} must be {'>' if minimum_exclusive else '>='} 0")
    return value
