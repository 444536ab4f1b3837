"""The environment the function gets locally: what template.yaml gives the deployed function
(same names, same defaults), pointed at the local stack.

Only the names the service declares in `settings.ENVIRONMENT_VARIABLES` and Powertools' own
variables are set, plus what an AWS SDK needs to reach moto and what the Lambda runtime sets.
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

FUNCTION_NAME: Final = "plan-executor-local-executor"
MEMORY_MB: Final = 1024
"""template.yaml's MemorySize."""

TEMPLATE_DEFAULTS: Final[Mapping[str, str]] = {
    "POWERTOOLS_METRICS_NAMESPACE": "PlanExecutor",
    "POWERTOOLS_LOG_LEVEL": "INFO",
    "ALLOW_LIVE_TRADING": "false",
    "KILL_SWITCH_CACHE_SECONDS": "30",
    "IDEMPOTENCY_EXPIRY_DAYS": "7",
    "WORKFLOW_CLAIM_HOURS": "24",
    "ALCHEMISER_COMPAT_EVENTS": "false",
    "CREDENTIALS_SOURCE": "secretsmanager",
    "SECRET_CACHE_SECONDS": "300",
    "ALPACA_DATA_FEED": "iex",
    "ALPACA_HTTP_TIMEOUT_SECONDS": "5",
    "RATE_LIMIT_PER_MINUTE": "200",
    "MAX_PLAN_AGE_SECONDS": "300",
    "DEADLINE_MARGIN_SECONDS": "30",
    "CLEANUP_BUDGET_SECONDS": "20",
    "MAX_ORDER_NOTIONAL": "25000",
    "MAX_PLAN_NOTIONAL": "250000",
    "MAX_EQUITY_FRACTION": "1",
}

LOCAL_ONLY: Final[Mapping[str, str]] = {
    "POWERTOOLS_SERVICE_NAME": "plan-executor-local",
    "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon here
    "AWS_LAMBDA_FUNCTION_NAME": FUNCTION_NAME,
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(MEMORY_MB),
    # A developer's own AWS profile must not leak into a run against moto.
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "PYTHONUNBUFFERED": "1",
}

_SECRET_NAMES: Final = ("ALPACA_SECRET_KEY", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


@dataclass(frozen=True, slots=True)
class WalkDurations:
    """Demo-short smart-order walk (STEP_WAIT_SECONDS / MARKET_WAIT_SECONDS)."""

    step_wait_s: float = 0.5
    market_wait_s: float = 2.0


@dataclass(frozen=True, slots=True)
class BrokerTarget:
    """Where orders go: the simulator's URLs, or None for Alpaca itself."""

    trading_mode: str
    trading_url: str | None = None
    data_url: str | None = None
    stream_url: str | None = None
    allow_live: bool = False
    venue: str | None = None
    """EXECUTION_VENUE (paper or live); None: from the trading mode (docs/design.md 2.9)."""


def function_env(
    stack_env: Mapping[str, str],
    broker: BrokerTarget,
    walk: WalkDurations,
    *,
    base: Mapping[str, str],
) -> dict[str, str]:
    """The function's variables: `stack_env` is `AwsStack.service_env()`, `base` the process
    basics (PATH, HOME, LANG...)."""
    env = {
        **base,
        **TEMPLATE_DEFAULTS,
        **LOCAL_ONLY,
        **stack_env,
        "TRADING_MODE": broker.trading_mode,
        "ALLOW_LIVE_TRADING": "true" if broker.allow_live else "false",
        "STEP_WAIT_SECONDS": str(walk.step_wait_s),
        "MARKET_WAIT_SECONDS": str(walk.market_wait_s),
    }
    urls = {
        "ALPACA_TRADING_URL": broker.trading_url,
        "ALPACA_DATA_URL": broker.data_url,
        "ALPACA_STREAM_URL": broker.stream_url,
    }
    env.update({name: url for name, url in urls.items() if url})
    if broker.venue is not None:
        env["EXECUTION_VENUE"] = broker.venue
    return env


def process_basics(environ: Mapping[str, str]) -> dict[str, str]:
    """What a child Python needs from this process: no AWS_*, ALPACA_* or POWERTOOLS_*."""
    kept = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT", "VIRTUAL_ENV")
    return {name: environ[name] for name in kept if name in environ}


def redacted(env: Mapping[str, str]) -> dict[str, str]:
    """For display: secret-looking values replaced."""
    return {name: "***" if name in _SECRET_NAMES else value for name, value in env.items()}
