"""Concurrent single-symbol quote reads share one batch call; each still gets only its own
symbol's quote, checked as before."""

import asyncio
from datetime import timedelta
from decimal import Decimal

from plan_executor.engine.quoting import NoUsableQuote, QuoteSource
from plan_executor.ports import BrokerError

from .builders import T0
from .fake_market import FakeClock, FakeMarket
from .fakes import FakeBroker

SYMBOLS = [f"S{n}" for n in range(12)]


def _source(*, window: timedelta) -> tuple[QuoteSource, FakeBroker, FakeMarket]:
    clock = FakeClock(T0)
    market = FakeMarket(clock)
    broker = FakeBroker(clock, market)
    for n, symbol in enumerate(SYMBOLS):
        market.set_quote(symbol, f"{10 + n}.00", f"{10 + n}.02")
    source = QuoteSource(
        broker,
        clock,
        max_age=timedelta(seconds=10),
        max_spread_bps=Decimal(300),
        attempts=2,
        retry_wait=timedelta(milliseconds=1),
        batch_window=window,
    )
    return source, broker, market


async def test_concurrent_reads_are_served_by_one_batch_call() -> None:
    source, broker, market = _source(window=timedelta(0))

    quotes = await asyncio.gather(*(source.usable(symbol) for symbol in SYMBOLS))

    assert broker.calls.count("latest_quotes") == 1
    assert sorted(market.reads) == sorted(SYMBOLS)
    for n, (symbol, quote) in enumerate(zip(SYMBOLS, quotes, strict=True)):
        assert not isinstance(quote, NoUsableQuote)
        assert (quote.symbol, quote.bid) == (symbol, Decimal(f"{10 + n}.00"))


async def test_reads_arriving_within_the_window_share_the_call() -> None:
    source, broker, _ = _source(window=timedelta(milliseconds=20))

    async def later(symbol: str) -> object:
        await asyncio.sleep(0)  # a few loop turns apart, well inside the window
        await asyncio.sleep(0)
        return await source.usable(symbol)

    await asyncio.gather(source.usable(SYMBOLS[0]), *(later(s) for s in SYMBOLS[1:]))

    assert broker.calls.count("latest_quotes") == 1


async def test_reads_during_a_call_go_out_together_in_the_next_one() -> None:
    source, broker, _ = _source(window=timedelta(0))
    first = asyncio.create_task(source.usable(SYMBOLS[0]))
    await asyncio.sleep(0)  # the first call is under way
    await asyncio.sleep(0)

    await asyncio.gather(first, *(source.usable(symbol) for symbol in SYMBOLS[1:]))

    assert broker.calls.count("latest_quotes") <= 2


async def test_a_failed_batch_reaches_every_reader_and_is_retried_as_before() -> None:
    source, broker, _ = _source(window=timedelta(0))
    broker.faults["latest_quotes"] = [BrokerError("boom"), BrokerError("boom again")]

    quotes = await asyncio.gather(*(source.usable(symbol) for symbol in SYMBOLS[:3]))

    assert broker.calls.count("latest_quotes") == 2  # one per attempt, shared by all three
    for quote in quotes:
        assert isinstance(quote, NoUsableQuote)
        assert "quote read failed" in quote.reason


async def test_a_stale_quote_fails_only_its_own_symbol() -> None:
    source, _, market = _source(window=timedelta(0))
    market.set_quote(SYMBOLS[1], "11.00", "11.02", at=T0 - timedelta(minutes=5))

    fresh, stale = await asyncio.gather(source.usable(SYMBOLS[0]), source.usable(SYMBOLS[1]))

    assert not isinstance(fresh, NoUsableQuote)
    assert isinstance(stale, NoUsableQuote)
    assert stale.reason.endswith("quote STALE")


async def test_an_unexpected_failure_is_raised_to_every_reader_of_the_call() -> None:
    source, broker, _ = _source(window=timedelta(0))
    failure = RuntimeError("not a broker answer")
    broker.faults["latest_quotes"] = [failure]

    outcomes = await asyncio.gather(
        *(source.usable(symbol) for symbol in SYMBOLS[:3]), return_exceptions=True
    )

    assert broker.calls.count("latest_quotes") == 1
    assert outcomes == [failure, failure, failure]
