"""(c) Execution cost in bps against the arrival mid: the engine's NORMAL profile versus plain
market orders, on the same seeds, over at least 200 orders, with the filled fraction of planned
notional. Target: NORMAL cost <= half of market's, with >= 99 % filled.

    .venv/bin/python bench/execution_cost.py [--seeds 1 2 3 4] [--items 50] [--speed 20]

Per seed, two fresh sim processes with the same seeded market (generated, `--items` symbols)
and the same plan (half sells, half buys, ~$2000 each):
  NORMAL: `run_plan` with the production NORMAL profile, every duration divided by `--speed`
          while the sim's clock runs `--speed` times faster than the wall (so in market time
          the walk rests 10 s per step and the market fallback waits 30 s, as in production);
  market: a minimal executor over the same AlpacaBroker: read the arrival quotes, size each
          item (sells at the mid, buys at the ask, rounded down), send DAY market orders,
          sells first, and poll each order until it is done.
Both sims carry other traders' marketable flow (FLOW), which hits resting limits inside the
spread at their price. Cost per item = slippage_bps(side, average fill, arrival mid)
(positive = worse for us); the plan figure is notional-weighted.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import timedelta
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cost_breakdown import (
    CostPoint,
    PegLog,
    StepFill,
    breakdown_lines,
    bucket_of,
    spread_rows,
    spread_ticks,
    step_fills,
    step_labels,
    step_rows,
)
from engine_rig import (
    NoLimit,
    SimProcess,
    adapter_config,
    generated_scenario,
    plan_detail,
    plan_items,
    run_engine,
    sim_process,
    symbol_names,
    write_figures,
)
from plan_executor.adapters.alpaca_broker import AlpacaBroker
from plan_executor.domain.enums import Action, OrderType, Side, Urgency
from plan_executor.domain.events import RebalancePlannedDetail
from plan_executor.domain.money import Price, Shares
from plan_executor.domain.slippage import slippage_bps
from plan_executor.engine.config import ExecutionSettings
from plan_executor.ports import BrokerOrder, OrderRequest

ITEM_NOTIONAL = Decimal(2000)
QTY_STEP = Decimal("0.000000001")
POLL_S = 0.02
FILLED_TARGET = Decimal("0.99")
FLOW = {"rate_per_min": 20, "mean_size": 100}
"""Other traders' marketable orders on every symbol (alpaca_sim.flow): one every 3 s of market
time on average, buys and sells alike, 100 shares on average; a modest rate for liquid stocks.
They hit our resting limits that are the best bid/offer; market orders do not notice them."""
COST_TARGET_FRACTION = Decimal("0.5")


@dataclass(frozen=True)
class ItemCost:
    symbol: str
    side: str
    planned: Decimal
    filled: Decimal
    bps: Decimal | None
    spread_ticks: int = 0
    """The arrival quote's spread in ticks (the NORMAL run's, for both methods)."""
    steps: tuple[StepFill, ...] = ()
    """NORMAL only: each child order with the walk step that sent it."""
    held: tuple[int, ...] = ()
    """NORMAL only: the steps its order rested on through at an unchanged price."""


@dataclass
class Totals:
    items: int
    priced_items: int
    cost_bps: float
    mean_bps: float
    filled_fraction: float

    @staticmethod
    def of(costs: Sequence[ItemCost]) -> Totals:
        priced = [c for c in costs if c.bps is not None and c.filled > 0]
        weight = sum((c.filled for c in priced), Decimal(0))
        weighted = sum((c.bps * c.filled for c in priced if c.bps is not None), Decimal(0))
        planned = sum((c.planned for c in costs), Decimal(0))
        filled = sum((c.filled for c in costs), Decimal(0))
        mean = sum((c.bps for c in priced if c.bps is not None), Decimal(0)) / max(len(priced), 1)
        return Totals(
            items=len(costs),
            priced_items=len(priced),
            cost_bps=float(weighted / weight) if weight else float("nan"),
            mean_bps=float(mean),
            filled_fraction=float(filled / planned) if planned else 0.0,
        )


def compressed_settings(speed: float) -> ExecutionSettings:
    """Production settings with every wall-time duration divided by `speed` (market-time
    durations such as quote and plan age stay: the engine reads the sim's clock)."""
    base = ExecutionSettings()
    profile = base.profile(Urgency.NORMAL)
    scaled = replace(
        profile, step_wait=profile.step_wait / speed, market_wait=profile.market_wait / speed
    )
    return replace(
        base,
        profiles={**base.profiles, Urgency.NORMAL: scaled},
        quote_retry_wait=base.quote_retry_wait / speed,
        quote_batch_window=base.quote_batch_window / speed,
        peg_check_interval=base.peg_check_interval / speed,
        settle_timeout=base.settle_timeout / speed,
        poll_interval=base.poll_interval / speed,
        cancel_confirm_timeout=base.cancel_confirm_timeout / speed,
        price_reread_wait=base.price_reread_wait / speed,
        cleanup_budget=base.cleanup_budget / speed,
    )


async def normal_profile(
    sim: SimProcess, detail: RebalancePlannedDetail, speed: float
) -> tuple[list[ItemCost], int]:
    """The items' costs, and the broker requests the engine made for them."""
    settings = compressed_settings(speed)
    labels = step_labels(settings.profile(Urgency.NORMAL))
    with PegLog().recording() as log:
        run = await run_engine(sim, detail, settings)
    costs = [
        ItemCost(
            order.symbol,
            order.action.value,
            order.planned_notional,
            order.filled_notional,
            order.slippage_bps,
            spread_ticks(order.arrival_quote.bid, order.arrival_quote.ask)
            if order.arrival_quote
            else 0,
            step_fills(order, log, labels),
            tuple(log.held.get(order.symbol, ())),
        )
        for order in run.outcome.result.orders
    ]
    return costs, run.requests_after - run.requests_before


async def market_orders(
    sim: SimProcess, detail: RebalancePlannedDetail, speed: float
) -> list[ItemCost]:
    broker = AlpacaBroker(adapter_config(sim), limiter=NoLimit(), rng=random.Random(1))
    costs: list[ItemCost] = []
    try:
        for action in (Action.SELL, Action.BUY):
            wanted = {
                item.symbol: item.planned_notional
                for item in detail.rebalance_plan.items
                if item.action is action
            }
            costs += await market_phase(broker, wanted, action, timeout_s=60 / speed)
    finally:
        await broker.aclose()
    return costs


async def market_phase(
    broker: AlpacaBroker, wanted: Mapping[str, Decimal], action: Action, *, timeout_s: float
) -> list[ItemCost]:
    side = Side.SELL if action is Action.SELL else Side.BUY
    arrivals = await broker.latest_quotes(list(wanted))
    held = await broker.positions() if side is Side.SELL else {}
    requests: dict[str, OrderRequest] = {}
    for symbol, notional in wanted.items():
        quote = arrivals[symbol]
        qty = (notional / (quote.mid if side is Side.SELL else quote.ask)).quantize(
            QTY_STEP, rounding=ROUND_DOWN
        )
        if side is Side.SELL:
            qty = min(qty, held[symbol].qty_available)
        cid = f"mkt-{side.value[0]}-{symbol}"
        requests[symbol] = OrderRequest(cid, symbol, side, OrderType.MARKET, Shares(qty))
    await asyncio.gather(*(broker.submit(request) for request in requests.values()))
    done = await asyncio.gather(
        *(until_done(broker, r.client_order_id, timeout_s) for r in requests.values())
    )
    costs: list[ItemCost] = []
    for (symbol, notional), order in zip(wanted.items(), done, strict=True):
        price = order.filled_avg_price
        filled = order.filled_qty * price if price is not None else Decimal(0)
        bps = None if price is None else slippage_bps(side, Price(price), arrivals[symbol].mid)
        costs.append(ItemCost(symbol, action.value, notional, filled, bps))
    return costs


async def until_done(broker: AlpacaBroker, cid: str, timeout_s: float) -> BrokerOrder:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        order = await broker.order_by_client_id(cid)
        if order is None:
            raise RuntimeError(f"{cid} vanished")
        done = order.status.value in {"filled", "canceled", "expired", "rejected"}
        if done or asyncio.get_running_loop().time() > deadline:
            return order
        await asyncio.sleep(POLL_S)


@dataclass
class SeedRun:
    costs: dict[str, list[ItemCost]]
    """Per method, each item's cost."""
    normal_requests: int
    """Broker requests the NORMAL engine made (the market executor's are not counted)."""


async def one_seed(seed: int, items: int, speed: float) -> SeedRun:
    # Flow fills resting orders only under the live fill model (alpaca_sim.fillmodel).
    scenario = {**generated_scenario(items, seed=seed), "flow": FLOW, "fill_model": "live"}
    plan = plan_items(symbol_names(items), notional=ITEM_NOTIONAL, rng=random.Random(seed))
    results: dict[str, list[ItemCost]] = {}
    requests = 0
    for name in ("normal", "market"):
        async with sim_process(scenario, seed=seed, speed=speed) as sim:
            detail = plan_detail(
                plan,
                sim.clock.now() - timedelta(seconds=1),
                urgency="NORMAL",
                plan_id=f"cost-{seed}",
            )
            if name == "normal":
                results[name], requests = await normal_profile(sim, detail, speed)
            else:
                results[name] = await market_orders(sim, detail, speed)
    ticks = {cost.symbol: cost.spread_ticks for cost in results["normal"]}
    results["market"] = [replace(c, spread_ticks=ticks.get(c.symbol, 0)) for c in results["market"]]
    return SeedRun(results, requests)


async def main_async(seeds: list[int], items: int, speed: float) -> dict[int, SeedRun]:
    return {seed: await one_seed(seed, items, speed) for seed in seeds}


def measure(
    seeds: tuple[int, ...] = (1, 2, 3, 4), items: int = 50, speed: float = 20.0
) -> dict[str, Any]:
    """The figures (JSON-ready): per seed and method, and over all seeds."""
    started = time.perf_counter()
    runs = asyncio.run(main_async(list(seeds), items, speed))
    by_seed = {seed: run.costs for seed, run in runs.items()}
    normal_items = sum(len(run.costs["normal"]) for run in runs.values())
    normal_requests = sum(run.normal_requests for run in runs.values())
    rows = [
        {"seed": seed, "method": name, **asdict(Totals.of(costs))}
        for seed, methods in by_seed.items()
        for name, costs in methods.items()
    ]
    overall = {
        name: Totals.of([c for methods in by_seed.values() for c in methods[name]])
        for name in ("normal", "market")
    }
    normal, market = overall["normal"], overall["market"]
    ratio = normal.cost_bps / market.cost_bps if market.cost_bps else float("nan")
    met = normal.cost_bps <= float(
        COST_TARGET_FRACTION
    ) * market.cost_bps and normal.filled_fraction >= float(FILLED_TARGET)
    return {
        "speed": speed,
        "flow": FLOW,
        "fill_model": "live",
        "items_per_seed": items,
        "baseline": "minimal market-order executor over the same AlpacaBroker",
        "overall": {name: asdict(totals) for name, totals in overall.items()},
        "normal_over_market": ratio,
        "target_met": met,
        "normal_requests_per_item": normal_requests / max(normal_items, 1),
        "rows": rows,
        **breakdown(by_seed),
        "bench_seconds": round(time.perf_counter() - started, 1),
    }


def breakdown(by_seed: Mapping[int, Mapping[str, Sequence[ItemCost]]]) -> dict[str, Any]:
    """Where NORMAL's cost comes from: per walk step, and per arrival spread next to market."""
    normal = [c for methods in by_seed.values() for c in methods["normal"]]
    points = {
        name: [
            CostPoint(bucket_of(max(c.spread_ticks, 1)), c.filled, c.bps)
            for methods in by_seed.values()
            for c in methods[name]
        ]
        for name in ("normal", "market")
    }
    return {
        "steps": step_rows(
            [fill for c in normal for fill in c.steps],
            step_labels(ExecutionSettings().profile(Urgency.NORMAL)),
            [step for c in normal for step in c.held],
        ),
        "spreads": spread_rows(points),
    }


def report_lines(figures: dict[str, Any]) -> list[str]:
    overall = [{"seed": "all", "method": name, **t} for name, t in figures["overall"].items()]
    lines = [
        f"cost vs arrival mid (bps, notional-weighted; + = worse), sim at {figures['speed']:g}x",
        f"{'seed':>6} {'method':>7} {'items':>6} {'cost bps':>9} {'mean bps':>9} {'filled':>8}",
    ]
    for row in [*figures["rows"], *overall]:
        lines.append(
            f"{row['seed']:>6} {row['method']:>7} {row['items']:>6} {row['cost_bps']:>9.2f} "
            f"{row['mean_bps']:>9.2f} {row['filled_fraction']:>8.2%}"
        )
    lines += breakdown_lines(figures.get("steps", []), figures.get("spreads", []))
    verdict = "met" if figures["target_met"] else "MISSED"
    lines.append(f"NORMAL / market cost ratio: {figures['normal_over_market']:.2f}")
    per_item = figures.get("normal_requests_per_item")
    if per_item is not None:
        lines.append(f"NORMAL broker requests per item: {per_item:.2f}")
    lines.append(f"target NORMAL cost <= 0.5 x market and >= 99 % filled: {verdict}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4])
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--speed", type=float, default=20.0)
    args = parser.parse_args()
    figures = measure(tuple(args.seeds), args.items, args.speed)
    print("\n".join(report_lines(figures)))
    print(f"figures: {write_figures('execution_cost', figures)}")


if __name__ == "__main__":
    main()
