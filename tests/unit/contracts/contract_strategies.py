"""Hypothesis strategies: valid raw RebalancePlanned events with Decimals of various scales."""

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

OFFSETS = [UTC, timezone(timedelta(hours=-4)), timezone(timedelta(hours=5, minutes=30))]
ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-"


@st.composite
def scaled_decimals(draw: st.DrawFn, low: Decimal, high: Decimal, max_scale: int) -> Decimal:
    """A Decimal in [low, high] with 0..max_scale decimal places, trailing zeros kept."""
    scale = draw(st.integers(0, max_scale))
    unit = Decimal(1).scaleb(-scale)
    lowest = int((low / unit).to_integral_value(rounding="ROUND_CEILING"))
    highest = int((high / unit).to_integral_value(rounding="ROUND_FLOOR"))
    return Decimal(draw(st.integers(lowest, highest))).scaleb(-scale)


def amounts(low: str = "0.01", high: str = "5000000") -> st.SearchStrategy[Decimal]:
    return scaled_decimals(Decimal(low), Decimal(high), 8)


def weights(low: str = "0", high: str = "1") -> st.SearchStrategy[Decimal]:
    return scaled_decimals(Decimal(low), Decimal(high), 18)


trace_ids = st.text(ID_ALPHABET, min_size=1, max_size=128)
plan_ids = st.text(ID_ALPHABET, min_size=1, max_size=64).filter(
    lambda s: ".." not in s and not s.startswith((".", "-"))
)
symbols = st.from_regex(r"[A-Z][A-Z0-9]{0,4}([./][A-Z]{1,2})?", fullmatch=True)
timestamps = st.builds(
    lambda moment, offset: moment.replace(tzinfo=UTC).astimezone(offset).isoformat(),
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1)),
    st.sampled_from(OFFSETS),
)
schema_versions = st.from_regex(r"1\.[0-9]{1,2}(\.[0-9]{1,2})?", fullmatch=True)


@st.composite
def plan_items(draw: st.DrawFn, symbol: str) -> dict[str, Any]:
    action = draw(st.sampled_from(["BUY", "SELL", "HOLD"]))
    if action == "HOLD":
        trade = Decimal(0).scaleb(-draw(st.integers(0, 4)))
    else:
        trade = draw(amounts())
        trade = -trade if action == "SELL" else trade
    item: dict[str, Any] = {
        "symbol": draw(st.sampled_from([symbol, symbol.lower()])),
        "action": action,
        "trade_amount": trade,
        "current_weight": draw(weights()),
        "target_weight": draw(weights()),
        "weight_diff": draw(weights("-1", "1")),
        "current_value": draw(amounts("0")),
        "target_value": draw(amounts("0")),
        "priority": draw(st.integers(1, 5)),
    }
    if draw(st.booleans()):
        item["strategy_id"] = draw(st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True))
    return item


@st.composite
def rebalance_plans(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(st.lists(symbols, min_size=1, max_size=10, unique_by=str.upper))
    plan: dict[str, Any] = {
        "plan_id": draw(plan_ids),
        "correlation_id": draw(trace_ids),
        "causation_id": draw(trace_ids),
        "timestamp": draw(timestamps),
        "schema_version": draw(schema_versions),
        "items": [draw(plan_items(name)) for name in names],
        "total_portfolio_value": draw(amounts("0", "900000000")),
        "total_trade_value": draw(amounts("-900000000", "900000000")),
        "max_drift_tolerance": draw(weights()),
    }
    optional = {
        "execution_urgency": st.sampled_from(["LOW", "NORMAL", "HIGH", "URGENT"]),
        "estimated_duration_minutes": st.integers(1, 600),
        "strategy_id": st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True),
        "metadata": st.dictionaries(
            st.text(ID_ALPHABET, max_size=8), st.text(ID_ALPHABET + " ", max_size=20), max_size=4
        ),
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            plan[key] = draw(strategy)
    return plan


@st.composite
def rebalance_events(draw: st.DrawFn) -> dict[str, Any]:
    """A raw envelope (numbers as Decimal) that must parse."""
    plan = draw(rebalance_plans())
    detail = {
        "event_id": draw(trace_ids),
        "correlation_id": plan["correlation_id"],
        "causation_id": draw(trace_ids),
        "timestamp": draw(timestamps),
        "schema_version": draw(schema_versions),
        "trades_required": draw(st.booleans()),
        "rebalance_plan": plan,
    }
    return {
        "version": "0",
        "id": draw(trace_ids),
        "detail-type": "RebalancePlanned",
        "source": "alchemiser.portfolio",
        "account": "123456789012",
        "time": draw(timestamps),
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
    }


_MARKER = re.compile(r'"@@(S|N):([^@]*)@@"')


def to_json_text(raw: Any, style: str) -> str:
    """JSON text with each Decimal written as a string, a number literal, or alternately."""
    flip = [style == "numbers"]

    def mark(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: mark(item) for key, item in value.items()}
        if isinstance(value, list):
            return [mark(item) for item in value]
        if isinstance(value, Decimal):
            if style == "mixed":
                flip[0] = not flip[0]
            return f"@@{'N' if flip[0] else 'S'}:{format(value, 'f')}@@"
        return value

    text = json.dumps(mark(raw))
    return _MARKER.sub(lambda m: m.group(2) if m.group(1) == "N" else f'"{m.group(2)}"', text)
