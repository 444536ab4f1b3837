"""Settings come from the environment, are validated at cold start, and never show a secret."""

from datetime import timedelta
from decimal import Decimal

import pytest

from plan_executor.domain.enums import Urgency, Venue
from plan_executor.settings import (
    ENVIRONMENT_VARIABLES,
    SettingsError,
    load_settings,
)

BASE = {
    "IDEMPOTENCY_TABLE": "plans",
    "LEDGER_BUCKET": "ledger-bucket",
    "FAILURE_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/dlq",
    "ALPACA_SECRET_ID": "plan-executor/alpaca",
    "KILL_SWITCH_PARAMETER": "/plan-executor/kill-switch",
}


def test_production_defaults_are_paper_and_no_kill_switch() -> None:
    settings = load_settings(BASE)
    assert settings.trading_mode == "paper"
    assert not settings.allow_live_trading
    engine = settings.execution_settings()
    assert engine.max_plan_age == timedelta(minutes=5)
    assert engine.rate_limit_per_minute == 200


def test_the_execution_venue_is_the_trading_mode_s_unless_set() -> None:
    assert load_settings(BASE).execution_settings().venue is None
    for venue in Venue:
        engine = load_settings({**BASE, "EXECUTION_VENUE": venue.value}).execution_settings()
        assert engine.venue is venue


def test_every_field_is_an_environment_variable() -> None:
    assert "IDEMPOTENCY_TABLE" in ENVIRONMENT_VARIABLES
    assert "MAX_PLAN_AGE_SECONDS" in ENVIRONMENT_VARIABLES
    assert all(name.isupper() for name in ENVIRONMENT_VARIABLES)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("MAX_PLAN_AGE_SECONDS", "-5"),
        ("TRADING_MODE", "yolo"),
        ("IDEMPOTENCY_EXPIRY_DAYS", "0"),
        ("MAX_EQUITY_FRACTION", "1.5"),
        ("KILL_SWITCH_CACHE_SECONDS", "31"),
        ("KILL_SWITCH_PARAMETER", ""),
        ("EXECUTION_VENUE", "simulated"),
    ],
)
def test_a_bad_value_names_its_variable(variable: str, value: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        load_settings({**BASE, variable: value})


def test_a_missing_required_variable_is_named() -> None:
    env = dict(BASE)
    del env["LEDGER_BUCKET"]
    with pytest.raises(SettingsError, match="LEDGER_BUCKET"):
        load_settings(env)


def test_keys_in_plain_environment_are_refused_in_secrets_manager_mode() -> None:
    with pytest.raises(SettingsError, match="never live in plain environment"):
        load_settings({**BASE, "ALPACA_KEY_ID": "PKTEST", "ALPACA_SECRET_KEY": "s3cr3t-value"})


def test_env_credentials_need_both_halves() -> None:
    env = {k: v for k, v in BASE.items() if k != "ALPACA_SECRET_ID"}
    with pytest.raises(SettingsError, match="ALPACA_SECRET_KEY"):
        load_settings({**env, "CREDENTIALS_SOURCE": "env", "ALPACA_KEY_ID": "PKTEST"})


def test_the_secret_never_appears_in_repr_or_errors() -> None:
    env = {k: v for k, v in BASE.items() if k != "ALPACA_SECRET_ID"}
    settings = load_settings(
        {**env, "CREDENTIALS_SOURCE": "env", "ALPACA_KEY_ID": "PK1", "ALPACA_SECRET_KEY": "zz-top"}
    )
    assert "zz-top" not in repr(settings)
    assert "zz-top" not in str(settings)
    with pytest.raises(SettingsError) as caught:
        load_settings(
            {**env, "CREDENTIALS_SOURCE": "env", "ALPACA_SECRET_KEY": "zz-top", "TRADING_MODE": "x"}
        )
    assert "zz-top" not in str(caught.value)


def test_walk_durations_can_be_shortened_for_local_runs() -> None:
    settings = load_settings({**BASE, "STEP_WAIT_SECONDS": "0.2", "MARKET_WAIT_SECONDS": "0.5"})
    profile = settings.execution_settings().profile(Urgency.NORMAL)
    assert profile.step_wait == timedelta(seconds=0.2)
    assert profile.market_wait == timedelta(seconds=0.5)
    assert profile.fractions == (Decimal("0.5"), Decimal("0.75"), Decimal("0.95"))
