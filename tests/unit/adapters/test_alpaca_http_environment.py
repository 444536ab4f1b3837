"""The SDK's sessions read the environment's HTTP settings once, when the adapter prepares
them, and never again per request."""

from pathlib import Path

import pytest
import requests
from alpaca.data.historical import StockHistoricalDataClient
from alpaca.trading.client import TradingClient

from plan_executor.adapters.alpaca_http import prepare_sdk_client

TRADING = "https://paper-api.example.test"


def _prepared(url: str | None = TRADING) -> requests.Session:
    client = TradingClient("k", "s", raw_data=True, url_override=url)
    return prepare_sdk_client(client, 0.5)


def _clear_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "no_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)


def test_the_session_stops_reading_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    _clear_proxies(monkeypatch)

    session = _prepared()

    assert session.trust_env is False
    assert session.proxies == {}
    assert session.verify is True


def test_a_proxy_in_the_environment_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    _clear_proxies(monkeypatch)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")

    session = _prepared()
    monkeypatch.delenv("HTTPS_PROXY")  # read once: a later change is not seen

    assert session.proxies.get("https") == "http://proxy.internal:3128"
    settings = session.merge_environment_settings(f"{TRADING}/v2/account", {}, None, None, None)
    assert settings["proxies"].get("https") == "http://proxy.internal:3128"


def test_no_proxy_still_bypasses_the_host(monkeypatch: pytest.MonkeyPatch) -> None:
    _clear_proxies(monkeypatch)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", ".example.test")

    assert _prepared().proxies == {}


def test_a_ca_bundle_in_the_environment_is_kept(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _clear_proxies(monkeypatch)
    bundle = tmp_path / "ca.pem"
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))

    assert _prepared().verify == str(bundle)


def test_the_default_hosts_are_read_from_the_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    _clear_proxies(monkeypatch)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "paper-api.alpaca.markets")

    trading = _prepared(url=None)
    data = prepare_sdk_client(StockHistoricalDataClient("k", "s", raw_data=True), 0.5)

    assert trading.proxies == {}  # the SDK's paper host is bypassed
    assert data.proxies.get("https") == "http://proxy.internal:3128"
