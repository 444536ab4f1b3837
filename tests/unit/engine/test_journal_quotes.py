"""The quotes an item's run keeps per child order for the ledger: bounded, first and latest."""

from datetime import timedelta
from decimal import Decimal

from plan_executor.domain.ledger import MAX_QUOTES_PER_ORDER
from plan_executor.domain.money import Price, Shares
from plan_executor.domain.quotes import Quote
from plan_executor.engine.journal import ItemRun

from .builders import T0, item, plan_detail


def _run() -> ItemRun:
    return ItemRun(plan_detail([item("AAPL", "BUY", "1000")]).rebalance_plan.items[0])


def _quote(n: int) -> Quote:
    bid = Price(Decimal(100) + Decimal(n) / 100)
    return Quote(
        "AAPL",
        bid,
        Price(bid + Decimal("0.02")),
        Shares(Decimal(1)),
        Shares(Decimal(1)),
        T0 + timedelta(milliseconds=n),
    )


def test_a_quote_read_before_any_order_is_left_to_the_arrival_quote() -> None:
    run = _run()
    run.saw_quote(_quote(0))
    assert run.quotes_seen == {}


def test_each_order_keeps_its_first_quote_and_the_latest_up_to_the_bound() -> None:
    run = _run()
    run.child_ids.append("c-1")
    quotes = [_quote(n) for n in range(MAX_QUOTES_PER_ORDER + 5)]
    for quote in quotes:
        run.saw_quote(quote)
        run.saw_quote(quote)  # read again unchanged: kept once
    run.child_ids.append("c-2")
    run.saw_quote(_quote(99))

    kept = run.quotes_seen["c-1"]
    assert len(kept) == MAX_QUOTES_PER_ORDER
    assert kept == [quotes[0], *quotes[-(MAX_QUOTES_PER_ORDER - 1) :]]
    assert run.quotes_seen["c-2"] == [_quote(99)]
