"""(c) Execution cost in bps against the arrival mid, on both of alpaca_sim's fill models: the
engine's NORMAL plan (which chooses per item between the walk and a market order) against plain
market orders with the price improvement they really get, same seeds, 400 items per model.

    .venv/bin/python bench/execution_cost.py [--seeds 1 2 ... 8] [--items 50] [--speed 20]
                                             [--models paper live]

Per model and seed, three fresh sim processes with the same seeded market (`--items` symbols,
spreads in ticks from a per-symbol distribution) and the same plan (half sells, half buys,
~$2000 each):
  normal: `run_plan` with the production NORMAL profile and the engine's per-item choice
          (docs/design.md 2.9), told the venue is the model's (paper or live);
  walk:   the same, with every item made to walk (diagnostic: what the walk alone does);
  market: a minimal executor over the same AlpacaBroker: read the arrival quotes, size each
          item (sells at the mid, buys at the ask, rounded down), send DAY market orders,
          sells first, and follow each order until it is done. On `live` the sim fills them
          the way wholesalers fill a retail broker's market orders, inside the spread.
Every engine duration is divided by `--speed` while the sim's clock runs `--speed` times
faster than the wall, so in market time the walk rests 10 s per step as in production.
Cost per item = slippage_bps(side, average fill, arrival mid) (positive = worse for us); the
figures are notional-weighted, with 95 % intervals from resampling the items in pairs
(`cost_stats`).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import statistics
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import timedelta
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cost_stats import Cost, Pair, bootstrap, difference, ratio, weighted_bps
from engine_rig import (
    Json,
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
from plan_executor.domain.enums import Action, ChildOrderStatus, OrderType, Side, Urgency, Venue
from plan_executor.domain.events import RebalancePlannedDetail
from plan_executor.domain.money import Price, Shares
from plan_executor.domain.pricing import tick_size
from plan_executor.domain.results import OrderResult
from plan_executor.domain.slippage import slippage_bps
from plan_executor.engine.config import ExecutionSettings
from plan_executor.ports import BrokerOrder, OrderRequest

METHODS = ("normal", "opt-in", "walk", "market")
"""normal: production defaults; opt-in: WALK_MIN_SPREAD_TICKS=3 (a user who opts wide spreads
into the walk); walk: every item walks (diagnostic); market: the baseline."""
OPT_IN_TICKS = 3
ITEM_NOTIONAL = Decimal(2000)
QTY_STEP = Decimal("0.000000001")
FILLED_TARGET = 0.99
LIVE_COST_TARGET = 0.7
"""live: NORMAL's cost at most this fraction of the price-improved market orders' cost."""
PAPER_TIME_TARGET = 1.2
"""paper: NORMAL's plan time at most this multiple of the market-order plan's time."""
FLOW: dict[str, float] = {"rate_per_min": 20, "mean_size": 100}
"""Other traders' marketable orders on every symbol (alpaca_sim.flow), live model only: one
every 3 s of market time on average, 100 shares on average. An assumption, not a measurement
(a large cap prints thousands of trades a minute, most of them odd lots and few at our price);
the walk's savings scale with it, so the report names it."""
SPREAD_CLASSES = (
    (0.5, {"1": 0.8, "2": 0.15, "3": 0.05}),
    (0.3, {"1": 0.45, "2": 0.3, "3": 0.15, "4": 0.1}),
    (0.2, {"2": 0.25, "3": 0.25, "4": 0.2, "5": 0.15, "6": 0.15}),
)
"""(share of symbols, spread-in-ticks distribution): liquid large caps at one tick most of the
time (alpaca_sim.market gives the sources of its default large caps' distributions), then
names quoted wider more often. The mix decides the overall figure only; the per-spread rows
are what carries over to a portfolio with another mix."""
BUSY_FLOW_RATE = 200.0
"""The flow of live-busy: ten times FLOW, for names traded far more than FLOW assumes."""


@dataclass(frozen=True)
class Variant:
    """A market to measure on: alpaca_sim's fill model, its flow, the sim's pace, the methods."""

    fill_model: str
    flow_rate: float
    speed: float | None
    """None: the run's --speed (the walk's waits compressed). paper runs at the wall's pace:
    NORMAL sends market orders there, nothing waits long, and the time bound then compares
    plans whose sim latencies (acks, fills) are real milliseconds."""
    methods: tuple[str, ...]


VARIANTS = {
    "paper": Variant("paper", 0.0, 1.0, ("normal", "market")),
    "live": Variant("live", FLOW["rate_per_min"], None, METHODS),
    "live-busy": Variant("live", BUSY_FLOW_RATE, None, METHODS),
}
"""The walk diagnostics run on live only: on paper no passive price fills (measured before the
per-item choice: the walk cost 1.5x market there and took 8x as long)."""
SPREAD_BUCKETS = ((1, 1, "1 tick"), (2, 2, "2 ticks"), (3, 4, "3-4 ticks"), (5, 10**9, "5+ ticks"))
POLL_S = 0.005


@dataclass(frozen=True)
class ItemCost:
    symbol: str
    side: str
    planned: Decimal
    filled: Decimal
    bps: Decimal | None
    spread_ticks: int
    """The item's arrival spread in ticks (the `normal` run's, for every method)."""
    orders: int
    cancels: int
    """Child orders the method cancelled (cancelled or replaced with no fill)."""
    fills: int
    """Child orders with a fill."""
    walked: bool | None = None


@dataclass(frozen=True)
class MethodRun:
    items: list[ItemCost]
    seconds: float
    """Market seconds from the plan's start to its result (wall x speed)."""
    requests: int


async def one_run(variant: Variant, seed: int, method: str, items: int, speed: float) -> MethodRun:
    scenario = cost_scenario(items, seed=seed, variant=variant)
    plan = plan_items(symbol_names(items), notional=ITEM_NOTIONAL, rng=random.Random(seed))
    async with sim_process(scenario, seed=seed, speed=speed) as sim:
        detail = plan_detail(
            plan,
            sim.clock.now() - timedelta(seconds=1),
            urgency="NORMAL",
            plan_id=f"cost-{variant.fill_model}-{seed}-{method}",
        )
        if method == "market":
            return await market_orders(sim, detail, speed)
        run = await run_engine(sim, detail, engine_settings(variant, method, speed))
        return MethodRun(
            [item_cost(order) for order in run.outcome.result.orders],
            run.wall_s * speed,
            run.requests_after - run.requests_before,
        )


def cost_scenario(items: int, *, seed: int, variant: Variant) -> Json:
    """The rig's generated market with spreads in ticks, the model's fills and its flow."""
    scenario = generated_scenario(items, seed=seed)
    del scenario["latency"]  # the sim's own drawn acknowledgement and execution delays
    rng = random.Random(seed * 7919)
    for spec in scenario["symbols"].values():
        spec.pop("spread_bps", None)
        spec["spread_ticks"] = _spread_class(rng.random())
    scenario["fill_model"] = variant.fill_model
    if variant.flow_rate:
        scenario["flow"] = {**FLOW, "rate_per_min": variant.flow_rate}
    return scenario


def _spread_class(draw: float) -> dict[str, float]:
    for share, distribution in SPREAD_CLASSES:
        if draw < share:
            return distribution
        draw -= share
    return SPREAD_CLASSES[-1][1]


def engine_settings(variant: Variant, method: str, speed: float) -> ExecutionSettings:
    """Production NORMAL settings, durations compressed by `speed`, the venue the model's;
    `opt-in` walks spreads of OPT_IN_TICKS or more, `walk` every item."""
    base = compressed_settings(speed)
    live = variant.fill_model == "live"
    venue = Venue.LIVE if live or method == "walk" else Venue.PAPER
    threshold = {"opt-in": OPT_IN_TICKS, "walk": 0}.get(method, base.walk_min_spread_ticks)
    return replace(base, venue=venue, walk_min_spread_ticks=threshold)


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
        cancel_retry_wait=base.cancel_retry_wait / speed,
        cancel_retry_max_wait=base.cancel_retry_max_wait / speed,
        price_reread_wait=base.price_reread_wait / speed,
        cleanup_budget=base.cleanup_budget / speed,
    )


def item_cost(order: OrderResult) -> ItemCost:
    children = order.child_orders
    filled = sum(1 for child in children if child.filled_qty > 0)
    cancels = sum(
        1
        for child in children
        if child.filled_qty == 0
        and child.status in {ChildOrderStatus.CANCELED, ChildOrderStatus.REPLACED}
    )
    arrival = order.arrival_quote
    return ItemCost(
        order.symbol,
        order.action.value,
        order.planned_notional,
        order.filled_notional,
        order.slippage_bps,
        spread_ticks(arrival.bid, arrival.ask) if arrival is not None else 0,
        len(children),
        cancels,
        filled,
        any(child.order_type is OrderType.LIMIT for child in children),
    )


def spread_ticks(bid: Decimal, ask: Decimal) -> int:
    return max(1, int((ask - bid) / tick_size(bid)))


# --- the baseline: market orders ---------------------------------------------------------------


async def market_orders(sim: SimProcess, detail: RebalancePlannedDetail, speed: float) -> MethodRun:
    broker = AlpacaBroker(adapter_config(sim), limiter=NoLimit(), rng=random.Random(1))
    before = len((await sim.state())["requests"])
    loop = asyncio.get_running_loop()
    started = loop.time()
    costs: list[ItemCost] = []
    try:
        for action in (Action.SELL, Action.BUY):
            wanted = {
                item.symbol: item.planned_notional
                for item in detail.rebalance_plan.items
                if item.action is action
            }
            costs += await market_phase(broker, wanted, action, timeout_s=60 / speed)
        seconds = (loop.time() - started) * speed
    finally:
        await broker.aclose()
    after = len((await sim.state())["requests"])
    return MethodRun(costs, seconds, after - before)


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
        quote = arrivals[symbol]
        ticks = spread_ticks(quote.bid, quote.ask)
        costs.append(
            ItemCost(symbol, action.value, notional, filled, bps, ticks, 1, 0, int(filled > 0))
        )
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


# --- figures -------------------------------------------------------------------------------


def as_cost(item: ItemCost) -> Cost:
    return Cost(float(item.filled), None if item.bps is None else float(item.bps))


def bucket_of(ticks: int) -> str:
    return next(label for low, high, label in SPREAD_BUCKETS if low <= ticks <= high)


def method_totals(runs: Sequence[MethodRun]) -> dict[str, Any]:
    items = [item for run in runs for item in run.items]
    planned = sum((item.planned for item in items), Decimal(0))
    filled = sum((item.filled for item in items), Decimal(0))
    fills = sum(item.fills for item in items)
    cancels = sum(item.cancels for item in items)
    walked = [item for item in items if item.walked is not None]
    return {
        "items": len(items),
        "cost_bps": weighted_bps([as_cost(item) for item in items]),
        "filled_fraction": float(filled / planned) if planned else 0.0,
        "seconds_median": statistics.median(run.seconds for run in runs),
        "seconds_mean": statistics.fmean(run.seconds for run in runs),
        "requests_per_item": sum(run.requests for run in runs) / max(len(items), 1),
        "orders": sum(item.orders for item in items),
        "fills": fills,
        "cancels": cancels,
        "cancels_per_fill": cancels / fills if fills else float("nan"),
        "walked_items": sum(1 for item in walked if item.walked),
    }


def model_figures(runs: Mapping[str, Sequence[MethodRun]]) -> dict[str, Any]:
    """One model's figures: per method, the comparisons with market, per spread bucket."""
    ticks = {
        (index, item.symbol): item.spread_ticks
        for index, run in enumerate(runs["normal"])
        for item in run.items
    }
    items = {
        method: [
            replace(item, spread_ticks=ticks.get((index, item.symbol), item.spread_ticks))
            for index, run in enumerate(runs[method])
            for item in run.items
        ]
        for method in runs
    }
    paired = {method: _paired_with_market(runs, method, ticks) for method in runs}
    del paired["market"]
    comparisons = {
        method: {
            "ratio": bootstrap([pair for pair, _ in found], ratio).as_dict(),
            "difference_bps": bootstrap([pair for pair, _ in found], difference).as_dict(),
        }
        for method, found in paired.items()
    }
    buckets = []
    for _, _, label in SPREAD_BUCKETS:
        row: dict[str, Any] = {"spread": label}
        for method in runs:
            mine = [as_cost(i) for i in items[method] if bucket_of(i.spread_ticks) == label]
            row[method] = weighted_bps(mine)
            row["items"] = len(mine)
        for method, found in paired.items():
            chosen = [pair for pair, bucket in found if bucket == label]
            row[f"{method}_minus_market"] = bootstrap(chosen, difference).as_dict()
        buckets.append(row)
    return {
        "methods": {method: method_totals(runs[method]) for method in runs},
        "vs_market": comparisons,
        "buckets": buckets,
    }


def _paired_with_market(
    runs: Mapping[str, Sequence[MethodRun]], method: str, ticks: Mapping[tuple[int, str], int]
) -> list[tuple[Pair, str]]:
    """`method`'s items, each paired with market's same item of the same seed, with the arrival
    spread bucket of the item."""
    found: list[tuple[Pair, str]] = []
    for index, (mine, market) in enumerate(zip(runs[method], runs["market"], strict=True)):
        by_symbol = {item.symbol: item for item in market.items}
        for item in mine.items:
            if item.symbol in by_symbol:
                pair = Pair(as_cost(item), as_cost(by_symbol[item.symbol]))
                found.append((pair, bucket_of(ticks.get((index, item.symbol), 1))))
    return found


def verdicts(models: Mapping[str, Mapping[str, Any]]) -> dict[str, bool]:
    found: dict[str, bool] = {}
    live = models.get("live")
    if live is not None:
        normal = live["methods"]["normal"]
        found["live_cost"] = live["vs_market"]["normal"]["ratio"]["value"] <= LIVE_COST_TARGET
        found["live_buckets"] = all(
            not row["normal_minus_market"]["low"] > 0 for row in live["buckets"] if row["items"]
        )
        found["live_filled"] = normal["filled_fraction"] >= FILLED_TARGET
    paper = models.get("paper")
    if paper is not None:
        normal, market = paper["methods"]["normal"], paper["methods"]["market"]
        found["paper_time"] = (
            normal["seconds_median"] <= PAPER_TIME_TARGET * market["seconds_median"]
        )
        found["paper_cost"] = not paper["vs_market"]["normal"]["difference_bps"]["low"] > 0
        found["paper_filled"] = normal["filled_fraction"] >= FILLED_TARGET
    return found


# --- the run ---------------------------------------------------------------------------------


async def main_async(
    variants: Sequence[str], seeds: Sequence[int], items: int, speed: float
) -> dict[str, dict[str, list[MethodRun]]]:
    runs: dict[str, dict[str, list[MethodRun]]] = {}
    for name in variants:
        variant = VARIANTS[name]
        pace = variant.speed or speed
        runs[name] = {method: [] for method in variant.methods}
        for seed in seeds:
            for method in variant.methods:
                runs[name][method].append(await one_run(variant, seed, method, items, pace))
            print(f"  {name} seed {seed} done", file=sys.stderr, flush=True)
    return runs


def measure(
    seeds: tuple[int, ...] = tuple(range(1, 9)),
    items: int = 50,
    speed: float = 20.0,
    variants: tuple[str, ...] = tuple(VARIANTS),
) -> dict[str, Any]:
    """The figures (JSON-ready): per variant, method and spread bucket, with intervals."""
    started = time.perf_counter()
    runs = asyncio.run(main_async(variants, seeds, items, speed))
    per_variant = {name: model_figures(runs[name]) for name in variants}
    return {
        "speed": speed,
        "seeds": list(seeds),
        "items_per_seed": items,
        "flow": FLOW,
        "variants": {name: asdict(VARIANTS[name]) for name in variants},
        "baseline": "DAY market orders over the same AlpacaBroker (live: wholesaler-improved)",
        "models": per_variant,
        "verdicts": verdicts(per_variant),
        "bench_seconds": round(time.perf_counter() - started, 1),
    }


def report_lines(figures: dict[str, Any]) -> list[str]:
    lines = [
        f"cost vs arrival mid (bps, notional-weighted; + = worse); live at {figures['speed']:g}x, "
        "paper at 1x; "
        f"{len(figures['seeds'])} seeds x {figures['items_per_seed']} items per model and method",
    ]
    for model, found in figures["models"].items():
        lines += _model_lines(model, found)
    verdict = figures["verdicts"]
    lines.append(
        "targets: " + ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in verdict.items())
    )
    return lines


def _model_lines(model: str, found: Mapping[str, Any]) -> list[str]:
    lines = [
        f"[{model}]",
        f"{'method':>7} {'items':>6} {'cost bps':>9} {'filled':>8} {'time s':>7} {'req/item':>8} "
        f"{'walked':>6} {'cancel/fill':>11}",
    ]
    for method, t in found["methods"].items():
        lines.append(
            f"{method:>7} {t['items']:>6} {t['cost_bps']:>9.2f} {t['filled_fraction']:>8.2%} "
            f"{t['seconds_median']:>7.1f} {t['requests_per_item']:>8.2f} {t['walked_items']:>6} "
            f"{t['cancels_per_fill']:>11.2f}"
        )
    for method, vs in found["vs_market"].items():
        r, d = vs["ratio"], vs["difference_bps"]
        lines.append(
            f"{method} / market: {r['value']:.2f} [{r['low']:.2f}, {r['high']:.2f}]; "
            f"{method} - market: {d['value']:+.2f} bps [{d['low']:+.2f}, {d['high']:+.2f}]"
        )
    methods = list(found["methods"])
    measured = [m for m in methods if m != "market"]
    lines.append(
        f"{'spread':>10} {'items':>5} "
        + " ".join(f"{m:>7}" for m in methods)
        + "  "
        + "  ".join(f"{m}-market [95 %]" for m in measured)
    )
    for row in found["buckets"]:
        costs = " ".join(f"{row.get(m, math.nan):>7.2f}" for m in methods)
        gaps = "  ".join(_interval(row[f"{m}_minus_market"]) for m in measured)
        lines.append(f"{row['spread']:>10} {row['items']:>5} {costs}  {gaps}")
    return lines


def _interval(found: Mapping[str, float]) -> str:
    return f"{found['value']:+.2f} [{found['low']:+.2f}, {found['high']:+.2f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(1, 9)))
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--speed", type=float, default=20.0)
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    args = parser.parse_args()
    figures = measure(tuple(args.seeds), args.items, args.speed, tuple(args.variants))
    print("\n".join(report_lines(figures)))
    print(f"figures: {write_figures('execution_cost', figures)}")


if __name__ == "__main__":
    main()
