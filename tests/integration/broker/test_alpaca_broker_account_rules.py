"""The adapter against the simulator's account rules: market data's 403 for bad keys, and quote
sizes read the same whichever unit the feed serves them in."""

from __future__ import annotations

import json
import random
from datetime import timedelta
from decimal import Decimal
from importlib import resources
from typing import Any

import pytest
from broker_helpers import BACKOFF_SEED, CountingLimiter, RecordedSleeps, config_for

from alpaca_sim import scenario_from_dict
from alpaca_sim.server import SimServer
from plan_executor.adapters.alpaca_broker import AlpacaBroker
from plan_executor.adapters.alpaca_config import Secret
from plan_executor.domain.quotes import QuoteProblem, check_quote
from plan_executor.ports import BrokerError

BEFORE_SHARES = "2025-10-28T14:45:00Z"  # quote sizes were round lots of 100 then


async def test_bad_keys_on_market_data_are_a_403_not_retried(sim: SimServer) -> None:
    trading, data = CountingLimiter(), CountingLimiter()
    broker = AlpacaBroker(
        config_for(sim, secret_key=Secret("wrong")),
        limiter=trading,
        data_limiter=data,
        rng=random.Random(BACKOFF_SEED),
        sleep=RecordedSleeps(),
    )
    try:
        with pytest.raises(BrokerError, match=r"HTTP 403: forbidden\."):
            await broker.latest_quotes(["AAPL"])
    finally:
        await broker.aclose()

    assert (data.acquired, trading.acquired) == (1, 0)
    quote_reads = [e for e in sim.context.log.entries() if e["path"].endswith("/quotes/latest")]
    assert [e["status"] for e in quote_reads] == [403]


@pytest.mark.parametrize("start", [BEFORE_SHARES, None], ids=["round_lots", "shares"])
async def test_quote_sizes_gate_pricing_alike_in_lots_and_in_shares(start: str | None) -> None:
    text = resources.files("alpaca_sim").joinpath("scenarios/default.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    if start is not None:
        data["clock"]["start"] = start
    async with SimServer(scenario_from_dict(data), seed=3) as sim:
        sim.venue.script_quote("AAPL", bid="270.00", ask="270.10", bid_size="300", ask_size="50")
        sim.venue.script_quote("MSFT", bid="500.00", ask="500.10", bid_size="200", ask_size="400")
        broker = AlpacaBroker(
            config_for(sim), limiter=CountingLimiter(), rng=random.Random(BACKOFF_SEED)
        )
        try:
            quotes = await broker.latest_quotes(["AAPL", "MSFT"])
        finally:
            await broker.aclose()
        now = sim.venue.clock.now()

    def problem(symbol: str) -> QuoteProblem | None:
        return check_quote(
            quotes[symbol], now, max_age=timedelta(seconds=5), max_spread_bps=Decimal(50)
        )

    assert problem("MSFT") is None
    # 50 shares on the ask: an odd lot is no round lot, so in lots that side shows nothing and
    # the quote is not priced from (fail closed); in shares it shows and is priced from.
    assert problem("AAPL") is (QuoteProblem.ZERO_SIZE if start is not None else None)
