"""A 100-item plan through the real handler, moto and alpaca_sim: the guard rails read the clock,
the account and ONE listing of the active US equities (not one asset per symbol), and still
refuse a plan naming a symbol that is not tradable, not active or unknown, or whose listing
cannot be read (docs/design.md 2.4)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from types import ModuleType

import pytest
from large_plan_support import (
    ASSETS_LISTING,
    GuardPhaseLog,
    plan_event,
    synthetic_symbols,
    with_symbols,
)
from service_support import (
    EMPTY_METRICS_WARNING,
    SimThread,
    current_event,
    invoke,
    service_scenario,
)

ITEMS = 100
TEMPLATE = "buys-only.json"
NOT_TRADABLE, INACTIVE, UNKNOWN = "LOCKD", "DFNCT", "ZZZZ"


@pytest.fixture
def sim() -> Iterator[SimThread]:
    """The service's scenario with ITEMS more symbols, each held."""
    scenario = with_symbols(service_scenario(datetime.now(UTC)), synthetic_symbols(ITEMS))
    with SimThread(scenario) as running:
        yield running


@pytest.fixture
def guard_log(
    handler: ModuleType, sim: SimThread, monkeypatch: pytest.MonkeyPatch
) -> GuardPhaseLog:
    """The handler's progress callback, wrapped before its cold start reads it."""
    log = GuardPhaseLog(sim, handler.log_progress)
    monkeypatch.setattr(handler, "log_progress", log)
    return log


# Powertools flushes a metric on its 100th value (SlippageBps, one per filled item), so the
# invocation's own flush finds nothing left and warns.
@pytest.mark.filterwarnings(EMPTY_METRICS_WARNING)
def test_the_guards_of_a_100_item_plan_cost_at_most_3_broker_requests(
    handler: ModuleType, sim: SimThread, guard_log: GuardPhaseLog
) -> None:
    symbols = synthetic_symbols(ITEMS)
    event = plan_event(current_event(TEMPLATE), "large-plan-guards-1", symbols)

    result = invoke(handler, event)

    assert result["status"] != "REJECTED", result["reason"]
    assert {order["symbol"] for order in result["orders"]} == set(symbols)
    reads = guard_log.guard_reads()
    assert len(reads) <= 3
    assert sorted(str(read["path"]) for read in reads) == [
        "/v2/account", ASSETS_LISTING, "/v2/clock"
    ]  # fmt: skip
    [listing] = sim.requests("GET", ASSETS_LISTING)
    assert listing["query"] == {"status": "active", "asset_class": "us_equity"}
    every_path = {str(entry["path"]) for entry in sim.call(lambda s: s.context.log.entries())}
    assert not [path for path in every_path if path.startswith(ASSETS_LISTING + "/")]


@pytest.mark.parametrize("refused", [NOT_TRADABLE, INACTIVE, UNKNOWN])
def test_a_symbol_that_cannot_be_traded_in_a_100_item_plan_is_refused_by_the_guard_rail(
    handler: ModuleType, sim: SimThread, guard_log: GuardPhaseLog, refused: str
) -> None:
    symbols = [*synthetic_symbols(ITEMS - 1), refused]
    event = plan_event(current_event(TEMPLATE), f"large-plan-refused-{refused}", symbols)

    result = invoke(handler, event)

    assert result["status"] == "REJECTED"
    assert result["reason"] == f"guard rail assets: {refused} is not tradable and active"
    assert sim.order_posts() == []
    assert len(guard_log.guard_reads()) <= 3


def test_a_failed_assets_listing_refuses_the_plan(
    handler: ModuleType, sim: SimThread, guard_log: GuardPhaseLog
) -> None:
    sim.call(lambda s: s.faults.fail_next(503, count=None, method="GET", path=ASSETS_LISTING))
    event = plan_event(current_event(TEMPLATE), "large-plan-no-listing", synthetic_symbols(ITEMS))

    result = invoke(handler, event)

    assert result["status"] == "REJECTED"
    assert result["reason"].startswith("guard rail assets: could not be checked")
    assert sim.order_posts() == []
    assert sim.requests("GET", ASSETS_LISTING), "the listing was asked for"
    assert guard_log.at_end is not None
