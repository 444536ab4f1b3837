"""Trading API routes under /v2 and the latest-quotes market data route.

Handlers only translate HTTP to Venue calls: the venue validates and raises SimError.
"""

from __future__ import annotations

from aiohttp import web

from alpaca_sim.asset_listing import AssetQuery
from alpaca_sim.context import CLIENT_ORDER_ID, SIM_CONTEXT
from alpaca_sim.httpio import (
    HttpError,
    bad_request,
    json_response,
    optional,
    parse_bool,
    parse_int,
    parse_symbols,
    read_json_object,
    require_order_id,
)
from alpaca_sim.venue import Venue

ORDER = "/v2/orders/{order_id}"


def add_trading_routes(app: web.Application) -> None:
    router = app.router
    router.add_get("/v2/account", get_account)
    router.add_get("/v2/positions", list_positions)
    router.add_get("/v2/positions/{symbol}", get_position)
    router.add_delete("/v2/positions/{symbol}", close_position)
    router.add_get("/v2/orders", list_orders)
    router.add_post("/v2/orders", submit_order)
    router.add_delete("/v2/orders", cancel_all_orders)
    router.add_get("/v2/orders:by_client_order_id", get_order_by_client_id)
    router.add_get(ORDER, get_order)
    router.add_patch(ORDER, replace_order)
    router.add_delete(ORDER, cancel_order)
    router.add_get("/v2/clock", get_clock)
    router.add_get("/v2/assets", list_assets)
    router.add_get("/v2/assets/{symbol}", get_asset)
    router.add_get("/v2/stocks/quotes/latest", latest_quotes)


def _venue(request: web.Request) -> Venue:
    return request.app[SIM_CONTEXT].venue


def _shown(request: web.Request, *views: object) -> None:
    """Tell the stream what REST answered with (late events wait for it: late_events.py)."""
    request.app[SIM_CONTEXT].hub.rest_shown(views)


async def get_account(request: web.Request) -> web.Response:
    return json_response(_venue(request).account())


async def list_positions(request: web.Request) -> web.Response:
    return json_response(_venue(request).list_positions())


async def get_position(request: web.Request) -> web.Response:
    return json_response(_venue(request).get_position(request.match_info["symbol"]))


async def close_position(request: web.Request) -> web.Response:
    query = request.query
    order = _venue(request).close_position(
        request.match_info["symbol"],
        qty=optional(query, "qty"),
        percentage=optional(query, "percentage"),
    )
    return json_response(order)


async def list_orders(request: web.Request) -> web.Response:
    query = request.query
    orders = _venue(request).list_orders(
        status=query.get("status") or "open",
        limit=parse_int("limit", query.get("limit"), 50),
        after=optional(query, "after"),
        until=optional(query, "until"),
        direction=query.get("direction") or "desc",
        nested=parse_bool("nested", query.get("nested")),
        side=optional(query, "side"),
        symbols=parse_symbols(query.get("symbols")),
    )
    _shown(request, *orders)
    return json_response(orders)


async def submit_order(request: web.Request) -> web.Response:
    body = await read_json_object(request)
    request[CLIENT_ORDER_ID] = body.get("client_order_id")
    order = _venue(request).submit_order(body)
    _shown(request, order)
    return json_response(order)


async def get_order_by_client_id(request: web.Request) -> web.Response:
    client_order_id = optional(request.query, "client_order_id")
    if client_order_id is None:
        raise bad_request("client_order_id is required")
    order = _venue(request).get_order_by_client_id(client_order_id)
    _shown(request, order)
    return json_response(order)


async def get_order(request: web.Request) -> web.Response:
    order_id = require_order_id(request.match_info["order_id"])
    nested = parse_bool("nested", request.query.get("nested"))
    order = _venue(request).get_order(order_id, nested=nested)
    _shown(request, order)
    return json_response(order)


async def replace_order(request: web.Request) -> web.Response:
    order_id = require_order_id(request.match_info["order_id"])
    body = await read_json_object(request)
    order = _venue(request).replace_order(order_id, body)
    _shown(request, order)
    return json_response(order)


async def cancel_order(request: web.Request) -> web.Response:
    order_id = require_order_id(request.match_info["order_id"])
    _venue(request).cancel_order(order_id)
    return web.Response(status=204)


async def cancel_all_orders(request: web.Request) -> web.Response:
    return json_response(_venue(request).cancel_all_orders(), status=207)


async def get_clock(request: web.Request) -> web.Response:
    return json_response(_venue(request).clock_view())


async def get_asset(request: web.Request) -> web.Response:
    return json_response(_venue(request).get_asset(request.match_info["symbol"]))


async def list_assets(request: web.Request) -> web.Response:
    """Alpaca's Get Assets (https://docs.alpaca.markets/reference/assets): see asset_listing."""
    query = request.query
    asset_query = AssetQuery(
        status=optional(query, "status"),
        asset_class=optional(query, "asset_class"),
        exchange=optional(query, "exchange"),
        attributes=frozenset(parse_symbols(query.get("attributes")) or ()),
    )
    return json_response(_venue(request).list_assets(asset_query))


async def latest_quotes(request: web.Request) -> web.Response:
    symbols = parse_symbols(request.query.get("symbols"))
    if not symbols:
        raise HttpError(400, 40010001, "missing symbols")
    feed = optional(request.query, "feed")
    return json_response(_venue(request).latest_quotes(symbols, feed=feed))
