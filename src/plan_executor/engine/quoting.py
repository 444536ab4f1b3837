"""Quotes for pricing: one batch read per phase, bounded re-quotes, never priced from a bad one.

A quote is used only after `check_quote` found no problem (incidents 4 and 5: a zero ask or a
crossed market is never priced from).
"""

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from plan_executor.domain.quotes import Quote, check_quote
from plan_executor.engine.config import ExecutionSettings
from plan_executor.engine.quote_batcher import QuoteBatcher
from plan_executor.ports import Broker, BrokerError, Clock

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class NoUsableQuote:
    """Why no quote could be priced from, after every allowed attempt."""

    reason: str


class QuoteSource:
    def __init__(
        self,
        broker: Broker,
        clock: Clock,
        *,
        max_age: timedelta,
        max_spread_bps: Decimal,
        attempts: int,
        retry_wait: timedelta,
        batch_window: timedelta = timedelta(0),
    ) -> None:
        self._broker = broker
        self._reads = QuoteBatcher(broker, window=batch_window)
        self._clock = clock
        self._max_age = max_age
        self._max_spread_bps = max_spread_bps
        self._attempts = attempts
        self._retry_wait_s = retry_wait.total_seconds()

    @classmethod
    def from_settings(
        cls, broker: Broker, clock: Clock, settings: ExecutionSettings
    ) -> "QuoteSource":
        return cls(
            broker,
            clock,
            max_age=settings.quote_max_age,
            max_spread_bps=settings.max_spread_bps,
            attempts=settings.quote_attempts,
            retry_wait=settings.quote_retry_wait,
            batch_window=settings.quote_batch_window,
        )

    async def batch(self, symbols: Sequence[str]) -> Mapping[str, Quote]:
        """Latest quotes for a whole phase in one call; empty when the read fails (each item
        then asks again on its own)."""
        if not symbols:
            return {}
        try:
            return await self._broker.latest_quotes(symbols)
        except BrokerError as error:
            logger.warning("batch quote read failed: %s", error)
            return {}

    async def usable(
        self, symbol: str, first: Quote | None = None, *, attempts: int | None = None
    ) -> Quote | NoUsableQuote:
        """A quote that passes the checks: `first` if it does, else fresh reads, bounded (by
        `attempts` when given, else the configured count). Concurrent reads of many symbols
        share batch calls."""
        problem = "no quote"
        attempts = self._attempts if attempts is None else attempts
        for attempt in range(attempts):
            quote = first if attempt == 0 and first is not None else None
            if quote is None:
                if attempt:
                    await asyncio.sleep(self._retry_wait_s)
                fetched = await self._read(symbol)
                if isinstance(fetched, str):
                    problem = fetched
                    continue
                quote = fetched
            found = check_quote(
                quote,
                self._clock.now(),
                max_age=self._max_age,
                max_spread_bps=self._max_spread_bps,
            )
            if found is None:
                return quote
            problem = f"quote {found}"
        return NoUsableQuote(f"no usable quote for {symbol} after {attempts} tries: {problem}")

    async def _read(self, symbol: str) -> Quote | str:
        return await self._reads.read(symbol)
