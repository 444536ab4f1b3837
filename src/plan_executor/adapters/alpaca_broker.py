"""`ports.Broker` over alpaca-py 0.44 (REST through TradingClient and StockHistoricalDataClient,
`trade_updates` through TradingStream).

Every request: takes a token from the shared limiter, runs on the adapter's own threads with an
HTTP timeout, and is retried by us (bounded, jittered, cancellable) only when transient. SDK
types stop here; raw JSON (`raw_data=True`) is read straight into Decimal.
"""

import asyncio
import functools
import logging
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from alpaca.common.enums import Sort
from alpaca.data.historical import StockHistoricalDataClient
from alpaca.data.requests import StockLatestQuoteRequest
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import QueryOrderStatus
from alpaca.trading.requests import GetOrdersRequest

from plan_executor.adapters.alpaca_assets import ACTIVE_US_EQUITIES, assets_from_listing
from plan_executor.adapters.alpaca_config import AlpacaConfig
from plan_executor.adapters.alpaca_errors import (
    CancelRefused,
    Operation,
    TransientBrokerError,
    translate,
)
from plan_executor.adapters.alpaca_http import RetryPolicy, backoff_delay, prepare_sdk_client
from plan_executor.adapters.alpaca_mapping import order_body, order_from_wire
from plan_executor.adapters.alpaca_orders import (
    OrderPages,
    refused_cancel_outcome,
    submit_resolving_unknowns,
)
from plan_executor.adapters.alpaca_stream import AlpacaTradeEvents
from plan_executor.adapters.alpaca_threads import ADAPTER_THREADS, BlockingRunner, SdkThreads
from plan_executor.adapters.alpaca_wire import (
    MalformedResponseError,
    account_from_wire,
    clock_from_wire,
    position_from_wire,
    quote_from_wire,
    wire_object,
)
from plan_executor.domain.quotes import Quote
from plan_executor.engine.limiter import TokenBucket
from plan_executor.ports import (
    AccountSnapshot,
    AssetInfo,
    Broker,
    BrokerError,
    BrokerOrder,
    BrokerUnavailable,
    MarketClock,
    OrderNotFound,
    OrderRequest,
    Position,
    RateLimiter,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
_CLOSE_GRACE_S = 1.0


class AlpacaBroker:
    def __init__(
        self,
        config: AlpacaConfig,
        *,
        limiter: RateLimiter,
        rng: random.Random,
        data_limiter: RateLimiter | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        threads: SdkThreads | None = None,
    ) -> None:
        """`limiter` is the account's shared budget; market data, a separate budget at Alpaca,
        uses `data_limiter` when given (else the same one). `rng` jitters the backoff and
        `sleep` waits it out (cancellable, so an outer deadline interrupts a backoff at once).
        Blocking calls run on `threads` (the execution environment's, left running at
        `aclose()`), else on threads of the adapter's own (`config.http_workers`)."""
        self._config = config
        self._limiter = limiter
        self._data_limiter = limiter if data_limiter is None else data_limiter
        self._rng = rng
        self._sleep = sleep
        self._policy = RetryPolicy(
            config.retry_attempts, config.backoff_base_s, config.backoff_cap_s
        )
        secret = config.secret_key.reveal()
        self._trading = TradingClient(
            config.key_id,
            secret,
            paper=config.paper,
            raw_data=True,
            url_override=config.trading_url,
        )
        self._data = StockHistoricalDataClient(
            config.key_id, secret, raw_data=True, url_override=config.data_url
        )
        owned = threads is None
        if threads is None:
            threads = SdkThreads(config.http_workers, ADAPTER_THREADS)
        self._sessions = [
            prepare_sdk_client(client, config.http_timeout_s, pool_size=threads.workers)
            for client in (self._trading, self._data)
        ]
        self._runner = BlockingRunner(threads, owned=owned)
        self._closed = False

    # --- reads -------------------------------------------------------------------------------

    async def clock(self) -> MarketClock:
        return clock_from_wire(await self._read_object(self._trading.get_clock))

    async def account(self) -> AccountSnapshot:
        return account_from_wire(await self._read_object(self._trading.get_account))

    async def positions(self) -> Mapping[str, Position]:
        raw = await self._with_retries(self._trading.get_all_positions, Operation.READ)
        positions = [position_from_wire(wire_object(item, "position")) for item in _list(raw)]
        return {position.symbol: position for position in positions}

    async def assets(self, symbols: Sequence[str]) -> Mapping[str, AssetInfo]:
        """One request whatever the number of symbols (`alpaca_assets`)."""
        if not symbols:
            return {}
        raw = await self._with_retries(
            functools.partial(self._trading.get_all_assets, ACTIVE_US_EQUITIES), Operation.READ
        )
        return assets_from_listing(raw, symbols)

    async def latest_quotes(self, symbols: Sequence[str]) -> Mapping[str, Quote]:
        if not symbols:
            return {}
        request = StockLatestQuoteRequest(
            symbol_or_symbols=list(symbols), feed=self._config.data_feed
        )
        raw = await self._with_retries(
            lambda: self._data.get_stock_latest_quote(request),
            Operation.READ,
            limiter=self._data_limiter,
        )
        return _quotes(wire_object(raw, "quotes"), symbols)

    async def orders_since(
        self, since: datetime, *, symbols: Sequence[str] | None = None, open_only: bool = False
    ) -> list[BrokerOrder]:
        if since.utcoffset() is None:
            raise ValueError("orders_since needs a timezone-aware instant")
        pages = OrderPages(since)
        while (after := pages.next_after()) is not None:
            request = GetOrdersRequest(
                status=QueryOrderStatus.OPEN if open_only else QueryOrderStatus.ALL,
                after=after,
                direction=Sort.ASC,
                limit=self._config.orders_page_size,
                symbols=list(symbols) if symbols else None,
            )
            raw = await self._with_retries(
                functools.partial(self._trading.get_orders, request), Operation.READ
            )
            items = [wire_object(item, "order") for item in _list(raw)]
            pages.add(
                [order_from_wire(item) for item in items],
                last_raw=items[-1] if items else None,
                full=len(items) >= self._config.orders_page_size,
            )
        return pages.orders()

    async def order_by_client_id(self, client_order_id: str) -> BrokerOrder | None:
        try:
            raw = await self._read_object(
                lambda: self._trading.get_order_by_client_id(client_order_id)
            )
        except OrderNotFound:
            return None
        return order_from_wire(raw)

    # --- writes ------------------------------------------------------------------------------

    async def submit(self, request: OrderRequest) -> BrokerOrder:
        body = order_body(request)

        async def post_once() -> BrokerOrder:
            raw = await self._once(lambda: self._trading.post("/orders", body), Operation.SUBMIT)
            try:
                return order_from_wire(wire_object(raw, "order"))
            except MalformedResponseError as error:
                # Accepted, but unreadable: as unknown as a timeout, so it is looked up.
                raise TransientBrokerError(
                    f"unreadable answer to a submit: {error}", status=None, outcome_unknown=True
                ) from error

        return await submit_resolving_unknowns(
            request.client_order_id,
            post_once=post_once,
            lookup_once=lambda: self._lookup_once(request.client_order_id),
            policy=self._policy,
            pause=self._pause,
        )

    async def _lookup_once(self, client_order_id: str) -> BrokerOrder | None:
        try:
            raw = await self._once(
                lambda: self._trading.get_order_by_client_id(client_order_id), Operation.READ
            )
        except OrderNotFound:
            return None
        return order_from_wire(wire_object(raw, "order"))

    async def cancel(self, broker_id: str) -> None:
        try:
            await self._with_retries(
                lambda: self._trading.cancel_order_by_id(broker_id), Operation.CANCEL
            )
        except CancelRefused as refused:
            raise await self._refused_cancel(broker_id, refused) from refused

    async def _refused_cancel(self, broker_id: str, refused: CancelRefused) -> BrokerError:
        """The refusal read by the order's own state (`refused_cancel_outcome`); an order that
        cannot be read leaves the cancel undone."""
        try:
            raw = await self._read_object(lambda: self._trading.get_order_by_id(broker_id))
            order = order_from_wire(raw)
        except BrokerError as error:
            return BrokerError(f"cancel of {broker_id} refused ({refused}); unread: {error}")
        return refused_cancel_outcome(broker_id, refused, order)

    # --- stream and lifetime -----------------------------------------------------------------

    def trade_events(self) -> AlpacaTradeEvents:
        return AlpacaTradeEvents(self._config)

    async def aclose(self) -> None:
        """Wait for requests still running (each bounded by the HTTP timeout), then close the
        HTTP sessions and the threads. Idempotent."""
        if self._closed:
            return
        self._closed = True
        await self._runner.aclose(wait_s=self._config.http_timeout_s + _CLOSE_GRACE_S)
        for session in self._sessions:
            session.close()

    # --- the request path --------------------------------------------------------------------

    async def _read_object(self, call: Callable[[], Any]) -> Mapping[str, object]:
        return wire_object(await self._with_retries(call, Operation.READ), "response")

    async def _with_retries(
        self,
        call: Callable[[], T],
        operation: Operation,
        *,
        limiter: RateLimiter | None = None,
    ) -> T:
        for failures in range(self._policy.attempts):
            try:
                return await self._once(call, operation, limiter=limiter)
            except TransientBrokerError as failure:
                if failures + 1 >= self._policy.attempts:
                    raise BrokerUnavailable(
                        f"broker unavailable after {self._policy.attempts} attempts: {failure}"
                    ) from failure
                await self._pause(failures + 1, failure)
        raise AssertionError("unreachable: the loop returns or raises")

    async def _once(
        self, call: Callable[[], T], operation: Operation, *, limiter: RateLimiter | None = None
    ) -> T:
        """One request: a token, the blocking call on our threads, errors in our terms."""
        self._ensure_open()
        await (limiter or self._limiter).acquire()
        self._ensure_open()
        try:
            return await self._runner.run(call)
        except Exception as error:
            raise translate(error, operation) from error

    def _ensure_open(self) -> None:
        if self._closed:
            raise BrokerError("the broker adapter is closed")

    async def _pause(self, failures: int, failure: TransientBrokerError) -> None:
        delay = backoff_delay(self._policy, failures, self._rng)
        log.warning("broker call failed (%s); retry %d in %.3f s", failure, failures, delay)
        await self._sleep(delay)


def _list(raw: object) -> list[object]:
    if not isinstance(raw, list):
        raise MalformedResponseError(f"expected a JSON array, got {type(raw).__name__}")
    return raw


def _quotes(raw: Mapping[str, object], symbols: Sequence[str]) -> dict[str, Quote]:
    """The symbols that came back with a readable quote; a missing or unreadable one is left out
    (no quote is no price: the engine skips the item)."""
    quotes: dict[str, Quote] = {}
    for symbol in symbols:
        entry = raw.get(symbol)
        if entry is None:
            continue
        try:
            quotes[symbol] = quote_from_wire(symbol, wire_object(entry, symbol))
        except (MalformedResponseError, ValueError) as error:
            log.warning("quote for %s left out: %s", symbol, error)
    return quotes


def _implements_the_ports(broker: AlpacaBroker, limiter: TokenBucket) -> tuple[Broker, RateLimiter]:
    """Never called: mypy --strict checks here that the adapter and the limiter fit the ports."""
    return broker, limiter
