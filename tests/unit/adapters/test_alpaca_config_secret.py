"""The adapter's settings; the secret key never shows."""

import dataclasses
import logging

import pytest

from plan_executor.adapters.alpaca_config import AlpacaConfig, Secret

SECRET_TEXT = "s3cr3t-value-do-not-print"


def config(**overrides: object) -> AlpacaConfig:
    return dataclasses.replace(AlpacaConfig("key-id", Secret(SECRET_TEXT)), **overrides)


def test_the_secret_never_shows_in_repr_str_format_or_asdict() -> None:
    settings = config()

    shown = [
        repr(settings),
        str(settings),
        f"{settings}",
        f"{settings.secret_key}",
        "%s" % settings.secret_key,  # noqa: UP031
        repr(dataclasses.asdict(settings)),
    ]

    assert all(SECRET_TEXT not in text for text in shown)
    assert repr(settings.secret_key) == "***"
    assert settings.secret_key.reveal() == SECRET_TEXT


def test_the_secret_never_shows_in_a_log_record(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        logging.getLogger("test").info("config %s / %r", config(), config())

    assert SECRET_TEXT not in caplog.text
    assert "***" in caplog.text


def test_secrets_compare_by_value() -> None:
    assert Secret("a") == Secret("a")
    assert Secret("a") != Secret("b")


def test_defaults() -> None:
    settings = config()

    assert settings.paper is True
    assert settings.data_feed == "iex"
    assert (settings.trading_url, settings.data_url, settings.stream_url) == (None, None, None)
    assert settings.orders_page_size == 500


@pytest.mark.parametrize(
    "change",
    [
        {"key_id": ""},
        {"data_feed": "nasdaq"},
        {"http_timeout_s": 0},
        {"retry_attempts": 0},
        {"backoff_base_s": 1.0, "backoff_cap_s": 0.5},
        {"stream_connect_timeout_s": -1},
        {"stream_reconnect_min_s": 5.0, "stream_reconnect_max_s": 1.0},
        {"http_workers": 0},
        {"orders_page_size": 501},
        {"orders_page_size": 0},
    ],
)
def test_nonsense_settings_are_refused(change: dict[str, object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 (each case has its own message)
        config(**change)


def test_an_empty_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        Secret("")
