"""Where the NORMAL walk's cost comes from: a diagnostic for `execution_cost.py`.

Every price the walk chooses is recorded (`PegLog` wraps the walk's `next_peg` for the run),
so each limit child of an item is known by its step; the k-th limit child is the k-th price
chosen for that symbol (one item per symbol in the bench plans). Market children are the
fallback. Each child's fills are then costed against the item's arrival mid like the item
(`slippage_bps`), and the per-step rows say how many orders each step sent and filled, what
share of the filled notional it took, its own cost and what it contributed to the plan's
figure (contributions add up to the notional-weighted cost, up to second-order terms).
Items are also grouped by the arrival spread in ticks, the market executor's same symbols
beside them.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from unittest import mock

from plan_executor.domain import pricing
from plan_executor.domain.enums import OrderType, Side
from plan_executor.domain.money import Price
from plan_executor.domain.pricing import PegStep, PricingProfile, tick_size
from plan_executor.domain.quotes import Quote
from plan_executor.domain.results import OrderResult
from plan_executor.domain.slippage import slippage_bps
from plan_executor.engine import smart_order

MARKET_LABEL = "market"
SPREAD_BUCKETS = ((1, 1, "1 tick"), (2, 2, "2 ticks"), (3, 5, "3-5 ticks"), (6, 10**9, "6+ ticks"))


@dataclass(frozen=True)
class StepFill:
    """One child order of an item: the step that sent it and what it filled."""

    label: str
    spread_ticks: int
    filled_notional: Decimal
    bps: Decimal | None
    drift_bps: Decimal | None
    """How far the mid of the quote this step was priced from had moved from the arrival mid
    (+ = against us): the part of `bps` the step inherited rather than paid."""


class PegLog:
    """The walk's chosen prices per symbol, in order, while `recording()` is active."""

    def __init__(self) -> None:
        self.by_symbol: dict[str, list[tuple[int, int, Price]]] = defaultdict(list)
        self.held: dict[str, list[int]] = defaultdict(list)
        """Per symbol, the steps an order rested on through at an unchanged price."""

    @contextlib.contextmanager
    def recording(self) -> Iterator[PegLog]:
        """The walk's own pricing functions, wrapped to record what they decided."""
        with contextlib.ExitStack() as patches:
            peg = self._peg_recorder(pricing.next_peg)
            patches.enter_context(mock.patch.object(smart_order, "next_peg", peg))
            if hasattr(smart_order, "holds_working_price"):  # absent from older walks
                hold = self._hold_recorder(pricing.holds_working_price)
                patches.enter_context(mock.patch.object(smart_order, "holds_working_price", hold))
            yield self

    def _peg_recorder(self, original: Callable[..., PegStep | None]) -> Callable[..., Any]:
        def recorded(side: Side, quote: Quote, *args: Any, **kwargs: Any) -> PegStep | None:
            peg = original(side, quote, *args, **kwargs)
            if peg is not None:
                ticks = spread_ticks(quote.bid, quote.ask)
                self.by_symbol[quote.symbol].append((peg.step, ticks, quote.mid))
            return peg

        return recorded

    def _hold_recorder(self, original: Callable[..., bool]) -> Callable[..., bool]:
        def recorded(side: Side, quote: Quote, *args: Any, step: int, **kwargs: Any) -> bool:
            held = original(side, quote, *args, step=step, **kwargs)
            if held:
                self.held[quote.symbol].append(step)
            return held

        return recorded


def spread_ticks(bid: Decimal, ask: Decimal) -> int:
    return int((ask - bid) / tick_size(bid))


def step_labels(profile: PricingProfile) -> list[str]:
    inside = [f"{index} @{fraction:g}" for index, fraction in enumerate(profile.fractions)]
    return [*inside, f"{len(inside)} through", MARKET_LABEL]


def step_fills(order: OrderResult, log: PegLog, labels: Sequence[str]) -> tuple[StepFill, ...]:
    """The item's children, each with its step label and its own cost vs the arrival mid."""
    arrival = order.arrival_quote
    if arrival is None:
        return ()
    side = Side.SELL if order.action.value == "SELL" else Side.BUY
    pegs = iter(log.by_symbol.get(order.symbol, []))
    arrival_ticks = spread_ticks(arrival.bid, arrival.ask)
    fills: list[StepFill] = []
    for child in order.child_orders:
        drift = None
        if child.order_type is OrderType.MARKET:
            label, ticks = MARKET_LABEL, arrival_ticks
        else:
            step, ticks, step_mid = next(pegs, (-1, arrival_ticks, arrival.mid))
            label = labels[step] if step >= 0 else "?"
            drift = slippage_bps(side, step_mid, arrival.mid)
        price = child.avg_fill_price
        notional = child.filled_qty * price if price is not None else Decimal(0)
        bps = None if price is None else slippage_bps(side, price, arrival.mid)
        fills.append(StepFill(label, ticks, notional, bps, drift))
    return tuple(fills)


def step_rows(
    fills: Sequence[StepFill], labels: Sequence[str], held: Sequence[int]
) -> list[dict[str, Any]]:
    """Per step: orders sent, orders that rested on through it at an unchanged price, orders
    filled, share of filled notional, own cost, contribution."""
    total = sum((f.filled_notional for f in fills if f.bps is not None), Decimal(0))
    rows = []
    for step, label in enumerate(labels):
        mine = [f for f in fills if f.label == label]
        priced = [f for f in mine if f.bps is not None and f.filled_notional > 0]
        notional = sum((f.filled_notional for f in priced), Decimal(0))
        weighted = sum((f.bps * f.filled_notional for f in priced if f.bps is not None), Decimal(0))
        drifted = [f for f in priced if f.drift_bps is not None]
        drift = sum(
            (f.drift_bps * f.filled_notional for f in drifted if f.drift_bps is not None),
            Decimal(0),
        )
        rows.append(
            {
                "step": label,
                "sent": len(mine),
                "held": sum(1 for h in held if h == step),
                "filled": len(priced),
                "one_tick_sent": sum(1 for f in mine if f.spread_ticks <= 1),
                "share": float(notional / total) if total else 0.0,
                "bps": float(weighted / notional) if notional else float("nan"),
                "contribution_bps": float(weighted / total) if total else 0.0,
                "drift_bps": float(drift / notional) if drifted and notional else float("nan"),
            }
        )
    return rows


@dataclass(frozen=True)
class CostPoint:
    """One item as the spread table needs it: its arrival spread bucket, fill and cost."""

    bucket: str
    filled_notional: Decimal
    bps: Decimal | None


def bucket_of(ticks: int) -> str:
    return next(label for low, high, label in SPREAD_BUCKETS if low <= ticks <= high)


def spread_rows(by_method: Mapping[str, Sequence[CostPoint]]) -> list[dict[str, Any]]:
    """Per arrival-spread bucket: items and each method's notional-weighted cost."""
    rows = []
    for _, _, bucket in SPREAD_BUCKETS:
        row: dict[str, Any] = {"spread": bucket}
        for method, points in by_method.items():
            mine = [p for p in points if p.bucket == bucket and p.bps is not None]
            weight = sum((p.filled_notional for p in mine), Decimal(0))
            cost = sum((p.bps * p.filled_notional for p in mine if p.bps is not None), Decimal(0))
            row["items"] = len(mine)
            row[method] = float(cost / weight) if weight else float("nan")
        rows.append(row)
    return rows


def breakdown_lines(
    steps: Sequence[Mapping[str, Any]], spreads: Sequence[Mapping[str, Any]]
) -> list[str]:
    lines = [
        "NORMAL per step (bps vs arrival mid; contrib = share x bps; drift = the step's quote mid"
        " vs arrival):",
        f"{'step':>12} {'sent':>5} {'1-tick':>6} {'held':>5} {'filled':>6} {'share':>7} {'bps':>7} "
        f"{'contrib':>8} {'drift':>6}",
    ]
    for row in steps:
        lines.append(
            f"{row['step']:>12} {row['sent']:>5} {row['one_tick_sent']:>6} {row.get('held', 0):>5} "
            f"{row['filled']:>6} "
            f"{row['share']:>7.1%} {row['bps']:>7.2f} {row['contribution_bps']:>8.2f} "
            f"{row.get('drift_bps', float('nan')):>6.2f}"
        )
    lines.append("by arrival spread (items; cost bps):")
    lines.append(f"{'spread':>12} {'items':>5} {'normal':>7} {'market':>7} {'ratio':>6}")
    for row in spreads:
        ratio = row["normal"] / row["market"] if row["market"] else float("nan")
        lines.append(
            f"{row['spread']:>12} {row['items']:>5} {row['normal']:>7.2f} {row['market']:>7.2f} "
            f"{ratio:>6.2f}"
        )
    return lines
