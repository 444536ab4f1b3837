"""Results and ledger lines for the AWS adapter tests (built through the real models), and a
recording sleep to inject into retries."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from plan_executor.adapters.s3_ledger import S3LedgerStore
from plan_executor.domain.enums import (
    Action,
    ChildOrderStatus,
    ExecutionStatus,
    ItemStatus,
    OrderType,
    Side,
    TradingMode,
)
from plan_executor.domain.ledger import (
    CancelReason,
    LedgerCancellationLine,
    LedgerFill,
    LedgerOrderLine,
)
from plan_executor.domain.ledger_keys import attempt_token
from plan_executor.domain.money import Bps, Dollars, Price, Shares
from plan_executor.domain.results import (
    ArrivalQuote,
    ChildOrderRecord,
    ExecutionResult,
    OrderResult,
    duration_ms,
    summarize_orders,
)
from plan_executor.ports import LedgerEntry

STARTED = datetime(2025, 6, 2, 23, 59, 58, 500000, tzinfo=UTC)
COMPLETED = STARTED + timedelta(seconds=3)
PLAN_ID = "rebal-20250602-7f3c9a2e"
LedgerStoreFactory = Callable[..., S3LedgerStore]
"""Builds an S3LedgerStore on the test's stack (the `ledger_store` fixture)."""
QUOTE = ArrivalQuote(
    bid=Price(Decimal("187.40")),
    ask=Price(Decimal("187.44")),
    mid=Price(Decimal("187.42")),
    time=STARTED,
)


def _symbol(index: int) -> str:
    return "S" + "".join(chr(ord("A") + int(digit)) for digit in f"{index:04d}")


def _child(symbol: str, number: int) -> ChildOrderRecord:
    return ChildOrderRecord(
        client_order_id=f"a1b2c3d4e5-{symbol}-b-{number}",
        broker_order_id=f"61e69015-8549-4bfd-b9c3-{number:012d}",
        order_type=OrderType.LIMIT,
        side=Side.BUY,
        qty=Shares(Decimal("12.345678901")),
        limit_price=Price(Decimal("187.42")),
        submitted_at=STARTED,
        terminal_at=COMPLETED,
        status=ChildOrderStatus.FILLED,
        filled_qty=Shares(Decimal("12.345678901")),
        avg_fill_price=Price(Decimal("187.4133333333333333333333333")),
    )


def _order(index: int, children: int) -> OrderResult:
    symbol = _symbol(index)
    qty = Shares(Decimal("12.345678901") * children)
    price = Price(Decimal("187.4133333333333333333333333"))
    return OrderResult(
        symbol=symbol,
        action=Action.BUY,
        planned_notional=Dollars(Decimal("2500.00") * children),
        filled_qty=qty,
        avg_fill_price=price,
        filled_notional=Dollars(qty * price),
        status=ItemStatus.FILLED,
        arrival_quote=QUOTE,
        slippage_bps=Bps(Decimal("-0.3333333333333333333333333333")),
        repegs=children - 1,
        market_fallback=False,
        reason=None,
        strategy_id="nuclear",
        child_orders=tuple(_child(symbol, n) for n in range(1, children + 1)),
    )


def make_result(
    *,
    items: int = 2,
    children: int = 2,
    nonce: str = "0a1b2c3d",
    number: int = 1,
    reason: str | None = "one item re-pegged",
) -> ExecutionResult:
    orders = tuple(_order(index, children) for index in range(items))
    return ExecutionResult(
        event_id=f"result-{nonce}",
        correlation_id="8dfd7d33-03c2-4bc5-8478-730e937d3dc3",
        causation_id="19ad2c46-575d-45d3-b546-d66bf4fe1423",
        plan_id=PLAN_ID,
        status=ExecutionStatus.SUCCESS,
        reason=reason,
        trading_mode=TradingMode.SIMULATED,
        started_at=STARTED,
        completed_at=COMPLETED,
        duration_ms=duration_ms(STARTED, COMPLETED),
        attempt=attempt_token(number, STARTED, nonce),
        orders=orders,
        summary=summarize_orders(orders, implementation_shortfall_bps=Bps(Decimal("-0.25"))),
        ledger=None,
    )


def make_lines(result: ExecutionResult) -> list[LedgerEntry]:
    """One order line per child order and one cancellation per item, as the engine records."""
    lines: list[LedgerEntry] = []
    for order in result.orders:
        for child in order.child_orders:
            common = {
                "plan_id": result.plan_id,
                "attempt": result.attempt,
                "correlation_id": result.correlation_id,
                "symbol": order.symbol,
                "side": child.side,
                "client_order_id": child.client_order_id,
                "broker_order_id": child.broker_order_id,
                "arrival_quote": order.arrival_quote,
                "recorded_at": COMPLETED,
            }
            fill = LedgerFill(
                execution_id=f"x-{child.client_order_id}",
                qty=child.filled_qty,
                price=Price(Decimal("187.41")),
                time=COMPLETED,
            )
            lines.append(
                LedgerOrderLine(
                    **common,
                    fills=(fill,),
                    order_type=child.order_type,
                    qty=child.qty,
                    limit_price=child.limit_price,
                    status=child.status,
                    submitted_at=child.submitted_at,
                    terminal_at=child.terminal_at,
                    filled_qty=child.filled_qty,
                    avg_fill_price=child.avg_fill_price,
                )
            )
        lines.append(
            LedgerCancellationLine(
                **common,
                fills=(),
                reason=CancelReason.REPEG,
                requested_at=STARTED,
                confirmed_at=COMPLETED,
                filled_qty=Shares(Decimal(0)),
            )
        )
    return lines


class RecordedSleeps:
    """An injected sleep that returns at once and remembers what it was asked to wait."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
