"""Pins the alpaca-py private surface the adapter relies on (see alpaca_http.py and
alpaca_stream.py). If an alpaca-py upgrade moves any of it, this fails before production does."""

import inspect

import requests
from alpaca.common.rest import RESTClient
from alpaca.data.historical import StockHistoricalDataClient
from alpaca.trading.client import TradingClient
from alpaca.trading.stream import TradingStream

from plan_executor.adapters.alpaca_http import prepare_sdk_client


def test_rest_clients_keep_session_and_retry_knobs() -> None:
    for client in (
        TradingClient("k", "s", raw_data=True, url_override="http://127.0.0.1:9"),
        StockHistoricalDataClient("k", "s", raw_data=True, url_override="http://127.0.0.1:9"),
    ):
        assert isinstance(client, RESTClient)
        assert isinstance(client._session, requests.Session)
        assert isinstance(client._retry, int)
        assert client._retry > 0  # the SDK default we switch off
        assert 429 in client._retry_codes
        assert 504 in client._retry_codes
        assert client._base_url == "http://127.0.0.1:9"  # the host its session talks to


def test_the_sdk_retry_decision_reads_the_knobs_we_set() -> None:
    source = inspect.getsource(RESTClient._one_request)
    request_source = inspect.getsource(RESTClient._request)

    assert "self._retry_codes" in source
    assert "retry = self._retry" in request_source
    assert "self._session.request(" in source


def test_prepare_switches_off_retries_and_mounts_a_timeout() -> None:
    client = TradingClient("k", "s", raw_data=True, url_override="http://127.0.0.1:9")

    session = prepare_sdk_client(client, 0.5)

    assert session is client._session
    assert client._retry == 0
    assert client._retry_codes == []
    for url in ("http://127.0.0.1:9/v2/account", "https://paper-api.alpaca.markets/v2/account"):
        adapter = session.get_adapter(url)
        assert adapter._timeout_s == 0.5  # type: ignore[attr-defined]
        assert adapter.max_retries.total == 0  # type: ignore[attr-defined]


def test_trading_stream_keeps_what_our_subscription_drives() -> None:
    stream = TradingStream("k", "s", raw_data=True, url_override="ws://127.0.0.1:9/stream")

    for name in ("_run_forever", "_dispatch", "close", "_consume", "_start_ws"):
        assert inspect.iscoroutinefunction(getattr(stream, name)), name
    for name in ("_ws", "_should_run", "_stop_stream_event", "_websocket_params"):
        assert hasattr(stream, name), name
    assert isinstance(stream._reconnect_min_backoff, float)
    assert isinstance(stream._reconnect_max_backoff, float)


def test_the_stream_routes_every_message_through_dispatch_and_drops_through_close() -> None:
    consume = inspect.getsource(TradingStream._consume)
    run = inspect.getsource(TradingStream._run_forever)

    assert "await self._dispatch(msg)" in consume
    assert "await self._start_ws()" in run
    assert "self._ws.recv()" in consume  # a closed websocket ends the loop: a restart
    assert "await self.close()" in run
    assert "self._should_run" in run
    assert "_wait_before_reconnect" in run
