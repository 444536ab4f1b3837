"""Parse a POST /_sim/faults spec (JSON) into FaultInjector calls.

Kinds: status, slow, hang, drop_streams, latency, reject_next_order, race_fill_on_next_cancel,
partial_fill, quote, clear_quote, halt. Malformed specs raise ValueError (the control API
answers 400).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal

from alpaca_sim.faults import FaultInjector, Phase

Spec = Mapping[str, object]


def apply_fault_spec(faults: FaultInjector, spec: Spec) -> dict[str, object]:
    kind = spec.get("kind")
    handler = _HANDLERS.get(kind) if isinstance(kind, str) else None
    if handler is None:
        raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(_HANDLERS)}")
    return handler(faults, spec)


def _status(faults: FaultInjector, spec: Spec) -> dict[str, object]:
    rule = faults.fail_next(
        _int(spec, "status"),
        count=_count(spec),
        method=_str(spec, "method", "*"),
        path=_str(spec, "path", "*"),
        phase=_phase(spec),
        delay_ms=_float(spec, "delay_ms", 0.0),
        body=spec.get("body"),
    )
    return rule.describe()


def _slow(faults: FaultInjector, spec: Spec) -> dict[str, object]:
    rule = faults.slow(
        _float(spec, "delay_ms"),
        count=_count(spec),
        method=_str(spec, "method", "*"),
        path=_str(spec, "path", "*"),
    )
    return rule.describe()


def _hang(faults: FaultInjector, spec: Spec) -> dict[str, object]:
    rule = faults.hang(
        count=_count(spec),
        method=_str(spec, "method", "*"),
        path=_str(spec, "path", "*"),
        phase=_phase(spec),
    )
    return rule.describe()


def _drop_streams(faults: FaultInjector, spec: Spec) -> dict[str, object]:
    dropped = faults.drop_streams(_float(spec, "refuse_seconds", 0.0))
    return {"dropped": dropped}


def _latency(faults: FaultInjector, spec: Spec) -> dict[str, object]:
    faults.delay_acks(_float(spec, "ack_ms"), _float(spec, "fill_ms", 0.0))
    return {"latency": {"ack_ms": spec.get("ack_ms"), "fill_ms": spec.get("fill_ms", 0)}}


def _reject(faults: FaultInjector, spec: Spec) -> dict[str, object]:
    code = spec.get("code")
    if code is not None and (not isinstance(code, int) or isinstance(code, bool)):
        raise ValueError("code must be an integer or null")
    faults.reject_next_order(_int(spec, "status"), code, _str(spec, "message"))
    return {"reject_next_order": True}


def _race(faults: FaultInjector, spec: Spec) -> dict[str, object]:
    symbol = spec.get("symbol")
    faults.race_fill_on_next_cancel(_str(spec, "symbol") if symbol is not None else None)
    return {"race_fill_on_next_cancel": symbol}


def _partial_fill(faults: FaultInjector, spec: Spec) -> dict[str, object]:
    count = _count(spec)
    if count is None:
        raise ValueError("count must be an integer")
    qty = _price(spec, "qty")
    if qty is None:
        raise ValueError("qty is required")
    faults.partial_fill_next(_str(spec, "symbol"), qty, count)
    return {"partial_fill": _str(spec, "symbol"), "qty": qty, "count": count}


def _quote(faults: FaultInjector, spec: Spec) -> dict[str, object]:
    apply_quote(faults, spec)
    return {"quote": _str(spec, "symbol")}


def _clear_quote(faults: FaultInjector, spec: Spec) -> dict[str, object]:
    faults.clear_quote(_str(spec, "symbol"))
    return {"cleared_quote": _str(spec, "symbol")}


def _halt(faults: FaultInjector, spec: Spec) -> dict[str, object]:
    halted = spec.get("halted", True)
    if not isinstance(halted, bool):
        raise ValueError("halted must be a boolean")
    faults.halt(_str(spec, "symbol"), halted)
    return {"halted": halted, "symbol": _str(spec, "symbol")}


def apply_quote(faults: FaultInjector, spec: Spec) -> None:
    hold = spec.get("hold", True)
    if not isinstance(hold, bool):
        raise ValueError("hold must be a boolean")
    faults.script_quote(
        _str(spec, "symbol"),
        bid=_price(spec, "bid"),
        ask=_price(spec, "ask"),
        bid_size=_price(spec, "bid_size"),
        ask_size=_price(spec, "ask_size"),
        age_seconds=_float(spec, "age_seconds", 0.0),
        hold=hold,
    )


_HANDLERS: dict[str, Callable[[FaultInjector, Spec], dict[str, object]]] = {
    "status": _status,
    "slow": _slow,
    "hang": _hang,
    "drop_streams": _drop_streams,
    "latency": _latency,
    "reject_next_order": _reject,
    "race_fill_on_next_cancel": _race,
    "partial_fill": _partial_fill,
    "quote": _quote,
    "clear_quote": _clear_quote,
    "halt": _halt,
}

_MISSING = object()


def _get(spec: Spec, name: str, default: object) -> object:
    value = spec.get(name, default)
    if value is _MISSING:
        raise ValueError(f"{name} is required")
    return value


def _str(spec: Spec, name: str, default: object = _MISSING) -> str:
    value = _get(spec, name, default)
    if not isinstance(value, str) or value == "":
        raise ValueError(f"{name} must be a non-empty string")
    return value


def _int(spec: Spec, name: str) -> int:
    value = _get(spec, name, _MISSING)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{name} must be an integer")
    return value


def _float(spec: Spec, name: str, default: object = _MISSING) -> float:
    value = _get(spec, name, default)
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValueError(f"{name} must be a number")
    return float(value)


def _count(spec: Spec) -> int | None:
    value = spec.get("count", 1)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError("count must be an integer or null")
    return value


def _phase(spec: Spec) -> Phase:
    value = spec.get("phase", "before")
    if value not in ("before", "after"):
        raise ValueError("phase must be 'before' or 'after'")
    return value


def _price(spec: Spec, name: str) -> str | None:
    """Quote fields as strings for the venue; JSON numbers are accepted too."""
    value = spec.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise ValueError(f"{name} must be a number or numeric string")
    return str(value)
