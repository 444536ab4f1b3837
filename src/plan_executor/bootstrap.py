"""The composition root: the one place that chooses and wires adapters from settings.

`build_runtime` runs once per execution environment (cold start): it validates the settings
and builds what may be reused across invocations (the idempotency persistence layer, the
credentials source with its cache, the threads the broker's blocking calls run on, started
then). Everything that holds connections (the broker's HTTP sessions and stream, the aioboto3
clients) is opened per invocation by `open_services` and closed, awaited, on every path.
"""

import random
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

import aioboto3
import boto3
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

from plan_executor.adapters.alpaca_broker import AlpacaBroker
from plan_executor.adapters.alpaca_config import DEFAULT_HTTP_WORKERS, AlpacaConfig
from plan_executor.adapters.alpaca_threads import SdkThreads
from plan_executor.adapters.aws_config import AwsConfig
from plan_executor.adapters.aws_retry import Retrier, RetryPolicy
from plan_executor.adapters.eventbridge_publisher import EventBridgeConfig, EventBridgePublisher
from plan_executor.adapters.failure_sink import SqsFailureSink, SqsFailureSinkConfig
from plan_executor.adapters.inflight_markers import InflightMarkers
from plan_executor.adapters.kill_switch import SsmKillSwitch
from plan_executor.adapters.s3_ledger import S3LedgerConfig, S3LedgerStore
from plan_executor.adapters.secrets import (
    AlpacaCredentials,
    CredentialsSource,
    SecretsManagerConfig,
    SecretsManagerCredentialsSource,
    credentials_from_fields,
)
from plan_executor.adapters.system_clock import SystemClock
from plan_executor.adapters.workflow_claims import WorkflowClaims
from plan_executor.domain.enums import TradingMode
from plan_executor.engine.config import ExecutionSettings
from plan_executor.engine.limiter import alpaca_trading_budget
from plan_executor.ports import Clock, LedgerStore, RateLimiter, ResultPublisher
from plan_executor.settings import (
    ConfiguredMode,
    ServiceSettings,
    load_settings,
)
from plan_executor.settings import (
    CredentialsSource as CredentialsKind,
)


class ConfigurationError(Exception):
    """The deployment is misconfigured (e.g. live keys where paper is configured)."""


@dataclass(frozen=True, slots=True)
class Runtime:
    """What one execution environment keeps between invocations."""

    settings: ServiceSettings
    execution: ExecutionSettings
    aws: AwsConfig
    credentials: CredentialsSource
    persistence: DynamoDBPersistenceLayer
    clock: Clock
    aws_session: aioboto3.Session
    """Shared by the reporting adapters of every invocation: botocore's loaded service models
    stay warm instead of being read again per invocation and per adapter."""
    trading_budget: RateLimiter
    """The account's request budget, kept across invocations: a plan retried at once (or the
    next plan) starts with what the last one left, so 200 a minute holds across invocations."""
    broker_threads: SdkThreads
    """The threads every invocation's broker adapter runs its blocking calls on, all started
    at cold start (they hold no connection; see adapters/alpaca_threads.py)."""
    workflow_claims: WorkflowClaims
    """One plan per upstream workflow (correlation id), see adapters/workflow_claims.py."""
    kill_switch: SsmKillSwitch
    """Read at every invocation (cached briefly), see adapters/kill_switch.py."""
    inflight: InflightMarkers
    """Plans whose execution has not reported yet, see adapters/inflight_markers.py."""


@dataclass(frozen=True, slots=True)
class Services:
    """What one invocation uses; opened and closed by `open_services`."""

    broker: AlpacaBroker
    ledger: LedgerStore
    publisher: ResultPublisher
    trading_mode: TradingMode


@dataclass(frozen=True, slots=True)
class Reporting:
    ledger: LedgerStore
    publisher: ResultPublisher


def build_runtime(environ: Mapping[str, str]) -> Runtime:
    """Cold start: settings validated (SettingsError names the variable), long-lived parts built."""
    settings = load_settings(environ)
    aws = AwsConfig(region=settings.aws_region, endpoint_url=settings.aws_endpoint_url)
    table_client = boto3.client("dynamodb", **aws.client_kwargs(max_attempts=3))
    return Runtime(
        settings=settings,
        execution=settings.execution_settings(),
        aws=aws,
        credentials=_credentials_source(settings, aws),
        persistence=DynamoDBPersistenceLayer(
            table_name=settings.idempotency_table, boto3_client=table_client
        ),
        clock=SystemClock(),
        aws_session=aioboto3.Session(),
        trading_budget=alpaca_trading_budget(settings.rate_limit_per_minute),
        broker_threads=start_broker_threads(),
        workflow_claims=WorkflowClaims(
            table_client,
            settings.idempotency_table,
            timedelta(hours=settings.workflow_claim_hours),
        ),
        inflight=InflightMarkers(
            table_client,
            settings.idempotency_table,
            timedelta(days=settings.idempotency_expiry_days),
        ),
        kill_switch=SsmKillSwitch(
            settings.kill_switch_parameter, aws, max_age_s=settings.kill_switch_cache_seconds
        ),
    )


def start_broker_threads() -> SdkThreads:
    """The execution environment's broker threads, every one started (see alpaca_threads)."""
    threads = SdkThreads(DEFAULT_HTTP_WORKERS)
    threads.start_all()
    return threads


def reporting(runtime: Runtime) -> Reporting:
    """Ledger store (with the DLQ as its failure destination) and result publisher."""
    settings, aws, session = runtime.settings, runtime.aws, runtime.aws_session
    retrier = Retrier(RetryPolicy(), rng=random.Random())  # noqa: S311 (jitter, not crypto)
    sink = SqsFailureSink(
        SqsFailureSinkConfig(queue_url=settings.failure_queue_url),
        aws,
        retrier=retrier,
        session=session,
    )
    ledger = S3LedgerStore(
        S3LedgerConfig(bucket=settings.ledger_bucket),
        aws,
        sink,
        retrier=retrier,
        session=session,
    )
    publisher = EventBridgePublisher(
        EventBridgeConfig(
            bus_name=settings.event_bus_name,
            source=settings.result_source,
            alchemiser_compat=settings.alchemiser_compat_events,
        ),
        aws,
        retrier=retrier,
        session=session,
    )
    return Reporting(ledger=ledger, publisher=publisher)


@asynccontextmanager
async def open_services(runtime: Runtime) -> AsyncIterator[Services]:
    """The broker for this invocation, closed on every path, plus the reporting adapters."""
    credentials = runtime.credentials.load()
    mode = trading_mode_for(runtime.settings, credentials)
    broker = AlpacaBroker(
        _alpaca_config(runtime.settings, credentials),
        limiter=runtime.trading_budget,
        rng=random.Random(),  # noqa: S311 (backoff jitter)
        threads=runtime.broker_threads,
    )
    report = reporting(runtime)
    try:
        yield Services(broker, report.ledger, report.publisher, mode)
    finally:
        await broker.aclose()


def trading_mode_for(settings: ServiceSettings, credentials: AlpacaCredentials) -> TradingMode:
    """What the result reports; a mismatch between configuration and keys fails closed."""
    if settings.trading_mode is ConfiguredMode.SIMULATED:
        return TradingMode.SIMULATED
    configured = TradingMode(settings.trading_mode.value)
    if credentials.mode is not configured:
        raise ConfigurationError(
            f"TRADING_MODE is {configured.value} but the credentials are {credentials.mode.value}"
        )
    return configured


def _credentials_source(settings: ServiceSettings, aws: AwsConfig) -> CredentialsSource:
    if settings.credentials_source is CredentialsKind.ENV:
        return _FixedCredentials(
            credentials_from_fields(
                settings.alpaca_key_id, settings.alpaca_secret_key, settings.alpaca_mode.value
            )
        )
    assert settings.alpaca_secret_id is not None  # load_settings guarantees it
    return SecretsManagerCredentialsSource(
        SecretsManagerConfig(
            secret_id=settings.alpaca_secret_id, max_age_s=settings.secret_cache_seconds
        ),
        aws,
    )


class _FixedCredentials:
    """Credentials given by the environment (local runs against the simulator)."""

    def __init__(self, credentials: AlpacaCredentials) -> None:
        self._credentials = credentials

    def load(self) -> AlpacaCredentials:
        return self._credentials


def _alpaca_config(settings: ServiceSettings, credentials: AlpacaCredentials) -> AlpacaConfig:
    return AlpacaConfig(
        key_id=credentials.key_id,
        secret_key=credentials.secret_key,
        paper=credentials.paper,
        trading_url=settings.alpaca_trading_url,
        data_url=settings.alpaca_data_url,
        stream_url=settings.alpaca_stream_url,
        data_feed=settings.alpaca_data_feed,
        http_timeout_s=settings.alpaca_http_timeout_seconds,
    )
