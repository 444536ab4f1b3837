"""A misconfigured function fails its cold start loudly, naming the variable, before it reads
the event or talks to the broker; once the setting is fixed the next cold start runs. A good
cold start starts the broker's threads, and every invocation's broker runs on them."""

from __future__ import annotations

import asyncio
import threading
from types import ModuleType

import pytest
from service_support import EMPTY_METRICS_WARNING, SimThread, current_event, fresh_handler, invoke
from tests.support.aws_stack import AwsStack

from plan_executor.adapters.alpaca_config import DEFAULT_HTTP_WORKERS
from plan_executor.adapters.alpaca_threads import ADAPTER_THREADS, ENVIRONMENT_THREADS
from plan_executor.bootstrap import build_runtime, open_services
from plan_executor.settings import SettingsError

pytestmark = pytest.mark.filterwarnings(EMPTY_METRICS_WARNING)

BAD_SETTINGS = {
    "MAX_PLAN_AGE_SECONDS": "five minutes",
    "DEADLINE_MARGIN_SECONDS": "-1",
    "TRADING_MODE": "yolo",
    "IDEMPOTENCY_EXPIRY_DAYS": "0",
    "MAX_EQUITY_FRACTION": "1.5",
}


@pytest.mark.parametrize("variable", sorted(BAD_SETTINGS))
def test_a_bad_setting_fails_the_cold_start_naming_the_variable(
    variable: str,
    lambda_env: dict[str, str],
    sim: SimThread,
    aws_stack: AwsStack,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(variable, BAD_SETTINGS[variable])
    handler = fresh_handler()
    event = current_event("no-trades-required.json")

    with pytest.raises(SettingsError, match=variable):
        invoke(handler, event)

    assert sim.requests("POST", "/v2/orders") == []
    assert aws_stack.receive_now(aws_stack.results_queue_url) == []
    monkeypatch.setenv(variable, lambda_env.get(variable, ""))  # "" is unset: the default
    assert invoke(handler, event)["status"] == "SUCCESS", "a failed cold start caches nothing"


def test_simulated_trading_without_the_sim_urls_names_the_missing_ones(
    lambda_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ALPACA_STREAM_URL")
    handler: ModuleType = fresh_handler()

    with pytest.raises(SettingsError, match="ALPACA_STREAM_URL"):
        invoke(handler, current_event("no-trades-required.json"))


def _threads(name: str) -> set[threading.Thread]:
    # Thread objects, not idents: a thread started here may reuse the ident of one that ended.
    return {t for t in threading.enumerate() if t.name.startswith(f"{name}_")}


def test_the_cold_start_starts_the_broker_threads_every_invocation_runs_on(
    lambda_env: dict[str, str], sim: SimThread
) -> None:
    del sim  # serving the broker calls
    before = _threads(ENVIRONMENT_THREADS)

    runtime = build_runtime(lambda_env)
    started = _threads(ENVIRONMENT_THREADS) - before

    async def invocation() -> set[threading.Thread]:
        async with open_services(runtime) as services:
            await asyncio.gather(*(services.broker.clock() for _ in range(8)))
            return _threads(ADAPTER_THREADS)

    try:
        assert len(started) == DEFAULT_HTTP_WORKERS
        for _ in range(2):
            assert asyncio.run(invocation()) == set()  # no thread of the adapter's own
            assert _threads(ENVIRONMENT_THREADS) - before == started  # kept, none added
    finally:
        runtime.broker_threads.shutdown(wait=True)
