"""The lean session under alpaca-py sends what a plain `requests.Session` would send for the
SDK's calls, reuses its connection, and refuses what the SDK never asks of it."""

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, TimeInForce
from alpaca.trading.requests import LimitOrderRequest

from plan_executor.adapters.alpaca_http import SdkSession, prepare_sdk_client


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    peer_port: int


class _Capture(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so connection reuse is visible
    seen: list[Seen]
    status = 200

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length) if length else b""
        self.seen.append(
            Seen(self.command, self.path, dict(self.headers.items()), body, self.client_address[1])
        )
        payload = b"{}"
        self.send_response(self.status)
        if self.status in {301, 302}:
            self.send_header("Location", "/elsewhere")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def capture() -> Iterator[tuple[str, type[_Capture]]]:
    handler = type("Handler", (_Capture,), {"seen": [], "status": 200})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()


def _clients(url: str) -> tuple[TradingClient, TradingClient]:
    """A client on the SDK's own session (its retry off, as ours) and one prepared by us."""
    plain = TradingClient("key-id", "secret", raw_data=True, url_override=url)
    plain._retry = 0
    ours = TradingClient("key-id", "secret", raw_data=True, url_override=url)
    prepare_sdk_client(ours, 5.0)
    return plain, ours


def _without_peer(seen: Seen) -> tuple[str, str, dict[str, str], bytes]:
    return seen.method, seen.path, seen.headers, seen.body


def test_a_read_with_query_parameters_arrives_as_the_sdk_session_sends_it(
    capture: tuple[str, type[_Capture]],
) -> None:
    url, handler = capture
    plain, ours = _clients(url)

    for client in (plain, ours):
        client.get_order_by_client_id("abc123-AAPL-b-1")

    sent_by_sdk, sent_by_ours = handler.seen
    assert sent_by_ours.path == "/v2/orders:by_client_order_id?client_order_id=abc123-AAPL-b-1"
    assert _without_peer(sent_by_ours) == _without_peer(sent_by_sdk)
    assert sent_by_ours.headers["APCA-API-KEY-ID"] == "key-id"
    assert "Cookie" not in sent_by_ours.headers


def test_a_submit_body_and_headers_arrive_as_the_sdk_session_sends_them(
    capture: tuple[str, type[_Capture]],
) -> None:
    url, handler = capture
    plain, ours = _clients(url)
    order = LimitOrderRequest(
        symbol="AAPL",
        qty=float(Decimal("1.5")),
        side=OrderSide.BUY,
        time_in_force=TimeInForce.DAY,
        limit_price=float(Decimal("101.25")),
        client_order_id="abc123-AAPL-b-1",
    )

    for client in (plain, ours):
        client.submit_order(order)

    sent_by_sdk, sent_by_ours = handler.seen
    assert _without_peer(sent_by_ours) == _without_peer(sent_by_sdk)
    assert json.loads(sent_by_ours.body)["client_order_id"] == "abc123-AAPL-b-1"
    assert sent_by_ours.headers["Content-Type"] == "application/json"


def test_calls_share_one_kept_connection(capture: tuple[str, type[_Capture]]) -> None:
    """The body is read before the response is handed back, so the connection returns to the
    pool even when the caller never reads it."""
    url, handler = capture
    _, ours = _clients(url)

    for _ in range(3):
        ours._session.request("GET", f"{url}/v2/clock", headers={}, allow_redirects=False)

    assert len(handler.seen) == 3
    assert len({seen.peer_port for seen in handler.seen}) == 1


def test_a_redirect_is_returned_not_followed(capture: tuple[str, type[_Capture]]) -> None:
    url, handler = capture
    handler.status = 302
    session = SdkSession()

    response = session.request("GET", f"{url}/v2/clock", headers={}, allow_redirects=False)

    assert response.status_code == 302
    assert [seen.path for seen in handler.seen] == ["/v2/clock"]


def test_what_the_sdk_never_asks_for_is_refused(capture: tuple[str, type[_Capture]]) -> None:
    url, handler = capture
    session = SdkSession()

    with pytest.raises(ValueError, match="redirects"):
        session.get(f"{url}/v2/clock")  # requests' helpers ask to follow redirects
    with pytest.raises(TypeError):
        session.request("GET", f"{url}/v2/clock", allow_redirects=False, cookies={"a": "b"})  # type: ignore[call-arg]
    assert handler.seen == []
    assert isinstance(session, requests.Session)
