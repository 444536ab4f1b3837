"""Crash and retry over the whole service: the function, in its own process, is held at a point
by the servers (a request that never gets its answer, or a fill seen at the sim) and killed
there with SIGKILL; once its in-progress record has expired, the same event is delivered again.
The account must end where one clean run leaves it, nothing sent twice, and the ledger and the
final result must account for every fill at the broker.

The crash points run side by side (each with its own moto server and sim, all on loopback in
this process): each spends most of its time waiting for its crashed invocation's lock to expire.
"""

from __future__ import annotations

import concurrent.futures
import itertools
import logging
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from rel_crash_support import (
    CRASHING_TIMEOUT_S,
    HOLD_TIMEOUT_S,
    RETRY_TIMEOUT_S,
    AwsRequestHold,
    FirstFillHold,
    FunctionProcess,
    Hold,
    SimRequestHold,
    crash_env,
    holdings,
    latest_mids,
    wait_for_lock_expiry,
)
from rel_invariants import (
    FILL_SLACK,
    WHOLE_SHARE_SYMBOLS,
    PlanAccount,
    assert_every_invariant,
    planned_notional,
)
from rel_support import (
    LedgerObjects,
    RelAws,
    SimTruth,
    aws_process_env,
    dead_letters,
    plan_items,
    result_events,
    running_aws,
    small_plan_event,
)
from tests.integration.service.service_support import SimThread, service_scenario
from tests.support.aws_faults import Where
from tests.support.aws_stack import AwsStack

from plan_executor.adapters.aws_retry import Retrier, RetryPolicy

PLAN_ID = "rel-crash-and-retry"
HOLDING_SLACK = 2 * FILL_SLACK
"""Two runs' fill prices each move an item's dollars by at most FILL_SLACK."""
RESENT_EVENT = "PutEvents failed (attempt"
"""The publisher's retry warning (aws_retry.Retrier, `what="PutEvents"`)."""
_request_numbers = itertools.count(1)


@dataclass(frozen=True)
class CrashPoint:
    name: str
    hold: Callable[[RelAws, SimThread], Hold]
    ledgers_before_retry: int = 0
    """Ledgers the crashed attempt wrote (it died after writing its own)."""
    events_before_retry: int = 0


def _sim_hold(method: str, path: str, **options: Any) -> Callable[[RelAws, SimThread], Hold]:
    return lambda _aws, sim: SimRequestHold(sim, method, path, **options).arm()


def _aws_hold(where: Where) -> Callable[[RelAws, SimThread], Hold]:
    return lambda aws, _sim: AwsRequestHold(aws, where).arm()


CRASH_POINTS = (
    CrashPoint("before-the-first-submit", _sim_hold("GET", "/v2/stocks/quotes/latest")),
    CrashPoint("between-submit-and-ack", _sim_hold("POST", "/v2/orders", phase="after")),
    CrashPoint("mid-sell-phase", lambda _aws, sim: FirstFillHold(sim, "sell").arm()),
    CrashPoint("between-phases", _sim_hold("GET", "/v2/account", skip=1)),
    CrashPoint("mid-buy-phase", lambda _aws, sim: FirstFillHold(sim, "buy").arm()),
    CrashPoint("before-the-ledger", _aws_hold(Where("s3", method="PUT"))),
    CrashPoint(
        "after-the-ledger-before-the-event",
        _aws_hold(Where("events", "PutEvents")),
        ledgers_before_retry=1,
    ),
    CrashPoint(
        "after-the-event-before-the-record-completes",
        _aws_hold(Where("dynamodb", "UpdateItem")),
        ledgers_before_retry=1,
        events_before_retry=1,
    ),
)


@dataclass
class Outcome:
    """One plan run to its end; for a crash point, the crash then the retry."""

    reached: bool
    crashed_log: str
    record: dict[str, Any] | None
    latest_deadline_ms: int
    """The crashed invocation's deadline is no later than this (its context counted down
    from before the kill)."""
    ledgers_at_crash: int
    events_at_crash: int
    response: dict[str, Any]
    account: PlanAccount
    held: dict[str, Decimal]
    mids: dict[str, Decimal]


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Outcome]]:
    """Every crash point and one clean run, side by side; failures surface in their test."""
    logs = tmp_path_factory.mktemp("crash-logs")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in aws_process_env().items():
            patch.setenv(name, value)
        points: list[CrashPoint | None] = [*CRASH_POINTS, None]
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(points)) as pool:
            futures = {
                (point.name if point else "clean"): pool.submit(_run, point, logs)
                for point in points
            }
            yield {name: _result_or_raise(future) for name, future in futures.items()}


def _result_or_raise(future: concurrent.futures.Future[Outcome]) -> Any:
    error = future.exception()
    return error if error is not None else future.result()


@pytest.mark.parametrize("point", CRASH_POINTS, ids=lambda point: point.name)
def test_a_crash_then_a_retry_ends_as_one_clean_run(
    point: CrashPoint, outcomes: dict[str, Any]
) -> None:
    crashed, clean = _outcome(outcomes, point.name), _outcome(outcomes, "clean")
    assert crashed.reached, f"the process never reached {point.name}:\n{crashed.crashed_log}"
    assert crashed.record is not None, "the crashed invocation held no idempotency record"
    assert crashed.record["status"] == "INPROGRESS"
    assert crashed.record["in_progress_expiration"] <= crashed.latest_deadline_ms
    assert crashed.ledgers_at_crash == point.ledgers_before_retry
    assert crashed.events_at_crash == point.events_before_retry
    assert crashed.response["status"] == "SUCCESS", crashed.response["reason"]
    assert_every_invariant(crashed.account)
    assert_holdings_match(crashed, clean)


def test_the_clean_run_succeeds(outcomes: dict[str, Any]) -> None:
    clean = _outcome(outcomes, "clean")
    assert clean.response["status"] == "SUCCESS", clean.response["reason"]
    assert_every_invariant(clean.account)


def assert_holdings_match(crashed: Outcome, clean: Outcome) -> None:
    """The same positions as the clean run's, but for what other fill prices make of each
    item's dollars (a whole-share buy may differ by one share)."""
    for item in crashed.account.items:
        symbol = str(item["symbol"])
        mid = crashed.mids[symbol]
        gap = abs(crashed.held.get(symbol, Decimal(0)) - clean.held.get(symbol, Decimal(0)))
        allowed = planned_notional(item) * HOLDING_SLACK + (
            mid if symbol in WHOLE_SHARE_SYMBOLS else 0
        )
        assert gap * mid <= allowed, (symbol, crashed.held, clean.held)


def _outcome(outcomes: dict[str, Any], name: str) -> Outcome:
    found = outcomes[name]
    if isinstance(found, BaseException):
        raise found
    assert isinstance(found, Outcome)
    return found


# --- one run ---------------------------------------------------------------------------------


def _run(point: CrashPoint | None, logs: Path) -> Outcome:
    name = point.name if point else "clean"
    with running_aws() as aws, SimThread(service_scenario(datetime.now(UTC))) as sim:
        stack = aws.new_stack(name[:12])
        env = crash_env(stack, sim)
        event = small_plan_event(PLAN_ID, datetime.now(UTC))
        initial = holdings(sim)
        crash = _Crash() if point is None else _crash(point, aws, sim, stack, env, event, logs)
        final = _start(event, env, RETRY_TIMEOUT_S, logs / f"{name}-final.log")
        response = final.finish()
        symbols = [str(item["symbol"]) for item in plan_items(event)]
        account = PlanAccount(
            items=plan_items(event),
            initial=initial,
            truth=SimTruth.read(sim),
            ledgers=LedgerObjects.read(stack),
            letters=dead_letters(stack),
            events=[*crash.events, *result_events(stack)],
            results=[response],
            duplicate_events_possible=crash.resent_event or resent_an_event(final.text()),
        )
        return Outcome(
            reached=crash.reached,
            crashed_log=crash.log,
            record=crash.record,
            latest_deadline_ms=crash.latest_deadline_ms,
            ledgers_at_crash=crash.ledgers,
            events_at_crash=len(crash.events),
            response=response,
            account=account,
            held=holdings(sim),
            mids=latest_mids(sim, symbols),
        )


@dataclass
class _Crash:
    reached: bool = True
    log: str = ""
    record: dict[str, Any] | None = None
    latest_deadline_ms: int = 0
    ledgers: int = 0
    events: tuple[dict[str, Any], ...] = ()
    resent_event: bool = False


def _crash(
    point: CrashPoint,
    aws: RelAws,
    sim: SimThread,
    stack: AwsStack,
    env: dict[str, str],
    event: dict[str, Any],
    logs: Path,
) -> _Crash:
    """Run until the hold strikes, kill, and wait out the crashed invocation's lock."""
    hold = point.hold(aws, sim)
    crashing = _start(event, env, CRASHING_TIMEOUT_S, logs / f"{point.name}-crashed.log")
    try:
        reached = hold.reached(HOLD_TIMEOUT_S)
    finally:
        crashing.kill()
        killed_ms = _now_ms()
        hold.release()
    if not reached:
        raise AssertionError(f"{point.name} not reached:\n{crashing.tail()}")
    crash = _Crash(
        reached=True,
        log=crashing.tail(),
        resent_event=resent_an_event(crashing.text()),
        latest_deadline_ms=killed_ms + int(CRASHING_TIMEOUT_S * 1000),
        ledgers=len(LedgerObjects.read(stack).results),
        events=tuple(result_events(stack)),
    )
    crash.record = wait_for_lock_expiry(stack)
    return crash


def _start(
    event: dict[str, Any], env: dict[str, str], timeout_s: float, log: Path
) -> FunctionProcess:
    request_id = f"00000000-0000-4000-8000-{next(_request_numbers):012d}"
    return FunctionProcess.start(event, env, timeout_s=timeout_s, request_id=request_id, output=log)


def resent_an_event(log: str) -> bool:
    """Whether the publisher sent a PutEvents again after an attempt failed (a lost answer,
    e.g. a read timeout on a loaded machine): the same event, same event_id, may then arrive
    twice, as the publisher documents. Only then may the checker see a repeated event."""
    return RESENT_EVENT in log


def _now_ms() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)


async def test_the_resend_marker_is_what_the_publisher_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """resent_an_event reads the Retrier's own warning; if that wording changed, repeated
    events would never be excused and this test, not a flaky one, would say why."""
    calls = 0

    async def lost_answer_then_ok() -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise TimeoutError
        return "ok"

    async def no_pause(_seconds: float) -> None:
        return None

    retrier = Retrier(RetryPolicy(), rng=random.Random(1), sleep=no_pause)
    with caplog.at_level(logging.WARNING):
        assert await retrier.run(lost_answer_then_ok, what="PutEvents") == "ok"
    assert resent_an_event(caplog.text)
    assert not resent_an_event("PutEvents sent")
