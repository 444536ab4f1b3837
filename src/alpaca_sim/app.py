"""The aiohttp application: API middleware (auth, rate limit, faults, errors, headers, log)."""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from alpaca_sim.context import CLIENT_ORDER_ID, SIM_CONTEXT, SimContext
from alpaca_sim.control import add_control_routes
from alpaca_sim.errors import SimError
from alpaca_sim.faults import HttpFault
from alpaca_sim.httpio import HttpError, dumps, json_response
from alpaca_sim.ratelimit import RATE_LIMIT_BODY, RateDecision
from alpaca_sim.routes_trading import add_trading_routes

log = logging.getLogger(__name__)

API_PREFIX = "/v2/"
DATA_PREFIX = "/v2/stocks/"
UNAUTHORIZED: dict[str, object] = {"message": "unauthorized"}
"""The trading API's answer to keys it does not accept: 401 without a code (Alpaca Learn, "How
to fix common trading API errors": {"message": "unauthorized"})."""
DATA_FORBIDDEN: dict[str, object] = {"message": "forbidden."}
"""Market data answers bad keys 403 (Alpaca docs, Market Data FAQ: "The market data endpoints
return HTTP 403 if ... the request was not authenticated [or] the provided credentials were
incorrect"); the body is a recorded one (forum.alpaca.markets/t/4315, invalid keys on the data
API: {"message": "forbidden."})."""
SHUTTING_DOWN: dict[str, object] = {"code": 50310000, "message": "service unavailable"}


def build_app(context: SimContext) -> web.Application:
    app = web.Application(middlewares=[sim_middleware])
    app[SIM_CONTEXT] = context
    add_trading_routes(app)
    add_control_routes(app)
    app.router.add_get("/stream", context.hub.handle)
    return app


@web.middleware
async def sim_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    context = request.app[SIM_CONTEXT]
    request_id = context.next_request_id()
    if not request.path.startswith(API_PREFIX):
        response = await _call(handler, request)
        if not response.prepared:  # a websocket has already sent its headers
            response.headers["X-Request-ID"] = request_id
        return response
    response, fault = await _serve_api(context, request, handler)
    response.headers["X-Request-ID"] = request_id
    context.log.record(
        method=request.method,
        path=request.path,
        query=dict(request.query),
        status=response.status,
        time=context.venue.clock.now().isoformat(),
        request_id=request_id,
        client_order_id=request.get(CLIENT_ORDER_ID),
        fault=fault,
    )
    return response


async def _serve_api(
    context: SimContext, request: web.Request, handler: Handler
) -> tuple[web.StreamResponse, str | None]:
    key = request.headers.get("APCA-API-KEY-ID", "")
    bucket = _bucket(key, request.path)
    if (key, request.headers.get("APCA-API-SECRET-KEY", "")) != context.credentials():
        refusal = (
            json_response(DATA_FORBIDDEN, 403)
            if request.path.startswith(DATA_PREFIX)
            else json_response(UNAUTHORIZED, 401)
        )
        return _with_limits(refusal, context.limiter.peek(bucket)), None
    decision = context.limiter.hit(bucket)
    if not decision.allowed:
        return _with_limits(json_response(RATE_LIMIT_BODY, 429), decision), "rate_limit"
    fault = context.faults.take(request.method, request.path)
    response = await _faulted(context, request, handler, fault)
    return _with_limits(response, context.limiter.peek(bucket)), _label(fault)


async def _faulted(
    context: SimContext, request: web.Request, handler: Handler, fault: HttpFault | None
) -> web.StreamResponse:
    if fault is None:
        return await _call(handler, request)
    faults = context.faults
    if fault.delay_ms > 0 and not await faults.delay(fault.delay_ms / 1000):
        return json_response(SHUTTING_DOWN, 503)
    # phase "after": the venue acts (an order is committed) before the fault hits the client.
    response = await _call(handler, request) if fault.phase == "after" else None
    if fault.hang and not await faults.hold():
        return json_response(SHUTTING_DOWN, 503)
    if fault.status is not None:
        return _fault_response(fault)
    return response if response is not None else await _call(handler, request)


async def _call(handler: Handler, request: web.Request) -> web.StreamResponse:
    try:
        return await handler(request)
    except SimError as error:
        return json_response(error.body(), error.status)
    except HttpError as error:
        return json_response(error.body(), error.status)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        code = error.status * 100000 + 10000
        return json_response({"code": code, "message": error.reason.lower()}, error.status)
    except Exception:
        log.exception("alpaca_sim: unhandled error on %s %s", request.method, request.path)
        return json_response({"code": 50010000, "message": "internal server error"}, 500)


def _fault_response(fault: HttpFault) -> web.Response:
    assert fault.status is not None
    body = fault.error_body()
    if isinstance(body, str):
        return web.Response(text=body, status=fault.status, content_type="text/html")
    return web.Response(text=dumps(body), status=fault.status, content_type="application/json")


def _with_limits(response: web.StreamResponse, decision: RateDecision) -> web.StreamResponse:
    response.headers.update(decision.headers())
    return response


def _bucket(key: str, path: str) -> str:
    # Market data has its own budget at Alpaca (a separate service), so it does not eat the
    # trading API's 200/min.
    return f"data:{key}" if path.startswith(DATA_PREFIX) else f"trading:{key}"


def _label(fault: HttpFault | None) -> str | None:
    if fault is None:
        return None
    if fault.hang:
        return f"hang/{fault.phase}"
    if fault.status is not None:
        return f"status {fault.status}/{fault.phase}"
    return f"slow {fault.delay_ms}ms"
