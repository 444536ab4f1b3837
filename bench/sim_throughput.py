"""alpaca_sim throughput on loopback, rate limit off.

The sim runs as its own process (`python -m alpaca_sim serve`, one core) and an aiohttp client
with a few concurrent workers drives it from this process for a fixed wall-time window per row.
alpaca-py (blocking, one thread) is measured too, to show what a real SDK client can pull.

    .venv/bin/python bench/sim_throughput.py [--seconds 1.0] [--workers 8]
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any

import aiohttp
from alpaca.data.historical import StockHistoricalDataClient
from alpaca.data.requests import StockLatestQuoteRequest
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, TimeInForce
from alpaca.trading.requests import LimitOrderRequest

Request = Callable[[aiohttp.ClientSession, int], Awaitable[int]]


@dataclass
class Row:
    name: str
    requests: int
    errors: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


def resting_limit(n: int) -> dict[str, object]:
    return {
        "symbol": "AAPL",
        "qty": 1,
        "side": "buy",
        "type": "limit",
        "time_in_force": "day",
        "limit_price": 1.0,
        "client_order_id": f"rest-{n}",
    }


def marketable(n: int) -> dict[str, object]:
    return {
        "symbol": "NVDA",
        "qty": "0.01",
        "side": "buy",
        "type": "market",
        "time_in_force": "day",
        "client_order_id": f"mkt-{n}",
    }


async def post_order(session: aiohttp.ClientSession, body: dict[str, object]) -> int:
    async with session.post("/v2/orders", json=body) as response:
        await response.read()
        return response.status


async def get_clock(session: aiohttp.ClientSession, _: int) -> int:
    async with session.get("/v2/clock") as response:
        await response.read()
        return response.status


async def get_quotes(session: aiohttp.ClientSession, _: int) -> int:
    params = {"symbols": "AAPL,MSFT,NVDA", "feed": "iex"}
    async with session.get("/v2/stocks/quotes/latest", params=params) as response:
        await response.read()
        return response.status


async def measure_row(
    name: str, session: aiohttp.ClientSession, request: Request, seconds: float, workers: int
) -> Row:
    counter = iter(range(10**9))
    done = errors = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done, errors
        while time.perf_counter() < deadline:
            status = await request(session, next(counter))
            done += 1
            errors += status != 200

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    return Row(name, done, errors, time.perf_counter() - started)


def measure_sdk(
    trading_url: str, data_url: str, key: str, secret: str, seconds: float
) -> list[Row]:
    trading = TradingClient(key, secret, url_override=trading_url)
    data = StockHistoricalDataClient(key, secret, url_override=data_url)
    request = StockLatestQuoteRequest(symbol_or_symbols=["AAPL", "MSFT", "NVDA"])

    def submit(n: int) -> None:
        trading.submit_order(
            LimitOrderRequest(
                symbol="MSFT",
                qty=1,
                side=OrderSide.BUY,
                time_in_force=TimeInForce.DAY,
                limit_price=1.0,
                client_order_id=f"sdk-{n}",
            )
        )

    rows = []
    for name, call in (
        ("alpaca-py submit_order (1 thread)", submit),
        ("alpaca-py latest quotes (1 thread)", lambda _: data.get_stock_latest_quote(request)),
    ):
        count, deadline, started = 0, time.perf_counter() + seconds, time.perf_counter()
        while time.perf_counter() < deadline:
            call(count)
            count += 1
        rows.append(Row(name, count, 0, time.perf_counter() - started))
    return rows


async def start_sim() -> tuple[asyncio.subprocess.Process, dict[str, str]]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "alpaca_sim",
        "serve",
        "--port",
        "0",
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    banner: dict[str, str] = {}
    async with asyncio.timeout(30):
        while "secret key" not in banner:
            name, _, value = (await process.stdout.readline()).decode().partition(":")
            banner[name.strip()] = value.strip()
    return process, banner


async def run(seconds: float, workers: int) -> list[Row]:
    process, banner = await start_sim()
    url, key, secret = banner["trading url"], banner["key id"], banner["secret key"]
    headers = {"APCA-API-KEY-ID": key, "APCA-API-SECRET-KEY": secret}
    try:
        async with aiohttp.ClientSession(url, headers=headers) as session:
            async with session.post("/_sim/ratelimit", json={"enabled": False}) as response:
                assert response.status == 200
            plan: list[tuple[str, Request]] = [
                ("GET /v2/clock", get_clock),
                ("latest quotes, 3 symbols", get_quotes),
                ("submit marketable (fills later)", lambda s, n: post_order(s, marketable(n))),
                ("submit resting limit (book grows)", lambda s, n: post_order(s, resting_limit(n))),
            ]
            rows = [
                await measure_row(f"{name} ({workers} conc.)", session, request, seconds, workers)
                for name, request in plan
            ]
            async with session.delete("/v2/orders") as response:
                await response.read()
            rows += await asyncio.to_thread(
                measure_sdk, url, banner["data url"], key, secret, seconds
            )
    finally:
        process.send_signal(signal.SIGTERM)
        await process.wait()
    return rows


def measure(seconds: float = 1.0, workers: int = 8) -> dict[str, Any]:
    """The figures (JSON-ready): requests per second per scenario."""
    started = time.perf_counter()
    rows = asyncio.run(run(seconds, workers))
    return {
        "seconds_per_row": seconds,
        "workers": workers,
        "rows": [{**asdict(row), "per_second": round(row.per_second)} for row in rows],
        "bench_seconds": round(time.perf_counter() - started, 1),
    }


def report_lines(figures: dict[str, Any]) -> list[str]:
    lines = [f"{'scenario':44} {'requests':>9} {'errors':>7} {'req/s':>9}"]
    for row in figures["rows"]:
        lines.append(
            f"{row['name']:44} {row['requests']:9d} {row['errors']:7d} {row['per_second']:9.0f}"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="wall time per row")
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args()
    print("\n".join(report_lines(measure(args.seconds, args.workers))))


if __name__ == "__main__":
    main()
