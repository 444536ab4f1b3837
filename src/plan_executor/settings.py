"""Typed service settings read from the environment once, at cold start.

Every variable the service reads is declared here, with its default; `ENVIRONMENT_VARIABLES`
lists them (the template tests check that the SAM template sets nothing else). A bad value
stops the cold start with `SettingsError` naming the variable and the rule. No secret is ever a
setting in AWS: the Alpaca keys come from Secrets Manager (`ALPACA_SECRET_ID`); the
`ALPACA_KEY_ID` / `ALPACA_SECRET_KEY` pair is accepted only when `CREDENTIALS_SOURCE=env`
(local runs against the simulator).
"""

from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    ValidationError,
    field_validator,
)

from plan_executor.domain.enums import Venue
from plan_executor.domain.money import dollars
from plan_executor.engine.config import ExecutionSettings, with_walk_durations


class SettingsError(ValueError):
    """The environment does not describe a runnable service."""


class CredentialsSource(StrEnum):
    SECRETS_MANAGER = "secretsmanager"
    ENV = "env"


class ConfiguredMode(StrEnum):
    PAPER = "paper"
    LIVE = "live"
    SIMULATED = "simulated"
    """Orders go to alpaca_sim (local runs); the ALPACA_*_URL overrides are required."""


class CredentialMode(StrEnum):
    PAPER = "paper"
    LIVE = "live"


PositiveSeconds = Annotated[float, Field(gt=0)]


class ServiceSettings(BaseModel):
    """One field per environment variable (upper-cased name)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    trading_mode: ConfiguredMode = ConfiguredMode.PAPER
    allow_live_trading: bool = False
    kill_switch_parameter: str = Field(min_length=1)
    """The SSM parameter holding the kill switch (adapters/kill_switch.py has its format)."""
    kill_switch_cache_seconds: int = Field(default=30, ge=0, le=30)
    """How long a read of the switch is reused: a halt takes effect within this time."""
    credentials_source: CredentialsSource = CredentialsSource.SECRETS_MANAGER
    alpaca_secret_id: str | None = None
    alpaca_key_id: str | None = None
    alpaca_secret_key: str | None = Field(default=None, repr=False)
    alpaca_mode: CredentialMode = CredentialMode.PAPER
    """What ALPACA_KEY_ID/ALPACA_SECRET_KEY are (CREDENTIALS_SOURCE=env only)."""
    alpaca_trading_url: str | None = None
    alpaca_data_url: str | None = None
    alpaca_stream_url: str | None = None
    alpaca_data_feed: str = "iex"
    alpaca_http_timeout_seconds: PositiveSeconds = 5.0
    secret_cache_seconds: int = Field(default=300, ge=0)
    idempotency_table: str = Field(min_length=1)
    idempotency_expiry_days: int = Field(default=7, ge=1, le=365)
    alchemiser_compat_events: bool = False
    """Also publish alchemiser's TradeExecuted / WorkflowFailed for each result."""
    workflow_claim_hours: int = Field(default=24, ge=0, le=24 * 90)
    """How long a correlation id belongs to the first plan that ran it (0: no such rule)."""
    ledger_bucket: str = Field(min_length=3)
    failure_queue_url: str = Field(min_length=1)
    aws_region: str = "us-east-1"
    aws_endpoint_url: str | None = None
    """moto server locally; unset (the real services) in AWS."""
    event_bus_name: str = "default"
    result_source: str = "plan-executor"
    max_plan_age_seconds: PositiveSeconds = 300.0
    deadline_margin_seconds: PositiveSeconds = 30.0
    cleanup_budget_seconds: PositiveSeconds = 20.0
    """After the deadline: cancelling, confirming and re-reading this plan's open orders."""
    max_order_notional: Decimal = Field(default=Decimal(25_000), gt=0)
    max_plan_notional: Decimal = Field(default=Decimal(250_000), gt=0)
    max_equity_fraction: Decimal = Field(default=Decimal(1), gt=0, le=1)
    rate_limit_per_minute: int = Field(default=200, ge=2, le=10_000)
    step_wait_seconds: PositiveSeconds | None = None
    """Override every urgency's step wait (local demos and tests); None keeps the profiles."""
    market_wait_seconds: PositiveSeconds | None = None
    execution_venue: Venue | None = None
    """paper or live: which execution path items take (docs/design.md 2.9); None (unset): from
    the trading mode. For rehearsing the live path against the simulator."""
    walk_min_spread_ticks: NonNegativeInt | None = None
    """On live, the narrowest arrival spread in ticks at which an item walks; None (unset):
    none walks, a market order for each (docs/design.md 2.9)."""

    @field_validator("alpaca_secret_key")
    @classmethod
    def _no_blank_secret(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be blank")
        return value

    def execution_settings(self) -> ExecutionSettings:
        """The engine's knobs, from these settings and the engine's production defaults."""
        base = ExecutionSettings(
            allow_live=self.allow_live_trading,
            max_plan_age=timedelta(seconds=self.max_plan_age_seconds),
            cleanup_budget=timedelta(seconds=self.cleanup_budget_seconds),
            max_order_notional=dollars(self.max_order_notional),
            max_plan_notional=dollars(self.max_plan_notional),
            max_equity_fraction=self.max_equity_fraction,
            rate_limit_per_minute=self.rate_limit_per_minute,
            venue=self.execution_venue,
            walk_min_spread_ticks=self.walk_min_spread_ticks,
        )
        if self.step_wait_seconds is None and self.market_wait_seconds is None:
            return base
        default = base.profile(next(iter(base.profiles)))
        profiles = with_walk_durations(
            base.profiles,
            step_wait=_seconds_or(self.step_wait_seconds, default.step_wait),
            market_wait=_seconds_or(self.market_wait_seconds, default.market_wait),
        )
        return replace(base, profiles=profiles)


ENVIRONMENT_VARIABLES: tuple[str, ...] = tuple(
    name.upper() for name in ServiceSettings.model_fields
)


def load_settings(environ: Mapping[str, str]) -> ServiceSettings:
    """Settings from `environ`; raises SettingsError naming every bad variable."""
    values = {
        name: environ[name.upper()]
        for name in ServiceSettings.model_fields
        if environ.get(name.upper(), "") != ""
    }
    try:
        settings = ServiceSettings.model_validate(values)
    except ValidationError as error:
        raise SettingsError(_describe(error)) from None
    _check_credentials(settings)
    _check_simulated(settings)
    return settings


def _check_simulated(settings: ServiceSettings) -> None:
    overrides = (settings.alpaca_trading_url, settings.alpaca_data_url, settings.alpaca_stream_url)
    if settings.trading_mode is ConfiguredMode.SIMULATED and not all(overrides):
        raise SettingsError(
            "TRADING_MODE=simulated needs ALPACA_TRADING_URL, ALPACA_DATA_URL and ALPACA_STREAM_URL"
        )


def _check_credentials(settings: ServiceSettings) -> None:
    if settings.credentials_source is CredentialsSource.SECRETS_MANAGER:
        if not settings.alpaca_secret_id:
            raise SettingsError(
                "ALPACA_SECRET_ID is required when CREDENTIALS_SOURCE=secretsmanager"
            )
        if settings.alpaca_key_id or settings.alpaca_secret_key:
            raise SettingsError(
                "ALPACA_KEY_ID/ALPACA_SECRET_KEY are refused with"
                " CREDENTIALS_SOURCE=secretsmanager: keys never live in plain environment"
                " variables in AWS"
            )
    elif not (settings.alpaca_key_id and settings.alpaca_secret_key):
        raise SettingsError("CREDENTIALS_SOURCE=env needs ALPACA_KEY_ID and ALPACA_SECRET_KEY")


def _describe(error: ValidationError) -> str:
    problems = []
    for detail in error.errors(include_input=False, include_url=False):
        variable = ".".join(str(part) for part in detail["loc"]).upper() or "environment"
        problems.append(f"{variable}: {detail['msg']}")
    return "invalid settings: " + "; ".join(problems)


def _seconds_or(value: float | None, fallback: timedelta) -> timedelta:
    return fallback if value is None else timedelta(seconds=value)
