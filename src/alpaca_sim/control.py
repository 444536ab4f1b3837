"""Control API under /_sim/ (no auth, JSON): reset, state, clock, quotes, halts, faults, limits."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from aiohttp import web

from alpaca_sim.context import SIM_CONTEXT, SimContext
from alpaca_sim.faultspec import apply_fault_spec, apply_quote
from alpaca_sim.httpio import HttpError, json_response, read_json_object
from alpaca_sim.scenario import Scenario, default_scenario, scenario_from_dict

ControlHandler = Callable[[SimContext, dict[str, Any], web.Request], object]


def add_control_routes(app: web.Application) -> None:
    router = app.router
    router.add_post("/_sim/reset", _route(_reset))
    router.add_get("/_sim/state", _route(_state))
    router.add_post("/_sim/clock", _route(_clock))
    router.add_post("/_sim/quotes", _route(_quote))
    router.add_delete("/_sim/quotes/{symbol}", _route(_clear_quote))
    router.add_post("/_sim/halt", _route(_halt))
    router.add_post("/_sim/faults", _route(_add_fault))
    router.add_delete("/_sim/faults", _route(_clear_faults))
    router.add_post("/_sim/latency", _route(_latency))
    router.add_post("/_sim/ratelimit", _route(_ratelimit))
    router.add_post("/_sim/stream/drop", _route(_drop_streams))


def _route(handler: ControlHandler) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def serve(request: web.Request) -> web.Response:
        body = await read_json_object(request) if request.method != "GET" else {}
        try:
            return json_response(handler(request.app[SIM_CONTEXT], body, request))
        except (ValueError, TypeError, KeyError) as error:
            raise HttpError(400, None, f"invalid control request: {error}") from None

    return serve


def _reset(context: SimContext, body: dict[str, Any], _: web.Request) -> object:
    seed = body.get("seed")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise ValueError("seed must be an integer")
    context.reset(_scenario_from(body), seed=seed)
    return {"reset": True, "seed": seed, "clock": context.venue.clock_view()}


def _scenario_from(body: dict[str, Any]) -> Scenario:
    if "scenario" in body:
        named = body["scenario"]
        if named == "default":
            return default_scenario()
        if isinstance(named, dict):
            return scenario_from_dict(named)
        raise ValueError('scenario must be "default" or a scenario object')
    rest = {key: value for key, value in body.items() if key != "seed"}
    return scenario_from_dict(rest) if rest else default_scenario()


def _state(context: SimContext, _: dict[str, Any], __: web.Request) -> object:
    return {
        **context.venue.state(),
        "requests": context.log.entries(),
        "faults": context.faults.describe(),
        "held_requests": context.faults.held_now,
        "rate_limit": context.limiter.snapshot(),
        "streams": {
            "connections": context.hub.connection_count,
            "refusing": context.hub.refusing(),
            "limit": context.hub.limit.value,
            "refused": context.hub.refused.value,
            "replaced": context.hub.replaced.value,
            "silent": context.hub.silent_count,
            "late_held": context.hub.late.holding,
        },
    }


def _clock(context: SimContext, body: dict[str, Any], _: web.Request) -> object:
    clock = context.venue.clock
    if "set" in body:
        clock.set(_instant(body["set"]))
    elif "advance" in body:
        seconds = body["advance"]
        if isinstance(seconds, bool) or not isinstance(seconds, int | Decimal):
            raise ValueError("advance must be a number of seconds")
        clock.advance(float(seconds))
    else:
        raise ValueError('expected {"set": iso} or {"advance": seconds}')
    context.venue.tick()  # let due acks, fills and expiries happen (and stream) right away
    return context.venue.clock_view()


def _instant(raw: object) -> datetime:
    if not isinstance(raw, str):
        raise ValueError("set must be an ISO-8601 timestamp")
    parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _quote(context: SimContext, body: dict[str, Any], _: web.Request) -> object:
    apply_quote(context.faults, body)
    return {"quote": body.get("symbol")}


def _clear_quote(context: SimContext, _: dict[str, Any], request: web.Request) -> object:
    symbol = request.match_info["symbol"]
    context.faults.clear_quote(symbol)
    return {"cleared_quote": symbol}


def _halt(context: SimContext, body: dict[str, Any], _: web.Request) -> object:
    return apply_fault_spec(context.faults, {**body, "kind": "halt"})


def _add_fault(context: SimContext, body: dict[str, Any], _: web.Request) -> object:
    return apply_fault_spec(context.faults, body)


def _clear_faults(context: SimContext, _: dict[str, Any], __: web.Request) -> object:
    context.faults.clear()
    context.hub.clear_faults()
    return {"faults": context.faults.describe()}


def _latency(context: SimContext, body: dict[str, Any], _: web.Request) -> object:
    return apply_fault_spec(context.faults, {**body, "kind": "latency"})


def _ratelimit(context: SimContext, body: dict[str, Any], _: web.Request) -> object:
    enabled = body.get("enabled")
    per_minute = body.get("per_minute")
    if enabled is not None and not isinstance(enabled, bool):
        raise ValueError("enabled must be a boolean")
    if per_minute is not None and (not isinstance(per_minute, int) or isinstance(per_minute, bool)):
        raise ValueError("per_minute must be an integer")
    context.limiter.configure(enabled=enabled, per_minute=per_minute)
    return context.limiter.snapshot()


def _drop_streams(context: SimContext, body: dict[str, Any], _: web.Request) -> object:
    return apply_fault_spec(context.faults, {**body, "kind": "drop_streams"})
