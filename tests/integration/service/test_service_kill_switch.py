"""The kill switch without a deploy, and rejections that must not burn the plan: the real
handler on moto (SSM, DynamoDB, S3, EventBridge, SQS) and alpaca_sim.

"After the cache": these functions read the parameter with KILL_SWITCH_CACHE_SECONDS=0, so the
next invocation after a flip reads it again (the deployed function caches it for 30 s).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest
from service_support import (
    LambdaContextStub,
    SimThread,
    child_ids,
    current_event,
    fresh_handler,
    invoke,
    published_now,
    saved_event,
    with_items,
)
from tests.support.aws_faults import FaultInjector, json_api_error
from tests.support.aws_stack import AwsStack

from plan_executor.cli import main

PLAN = "mixed-sell-and-buy.json"
ACCOUNT_PATH = "/v2/account"


@pytest.fixture
def switched_handler(
    lambda_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> ModuleType:
    """A cold handler that reads the switch at every invocation (no cache)."""
    del capsys
    monkeypatch.setenv("KILL_SWITCH_CACHE_SECONDS", "0")
    return fresh_handler()


def _context(n: int) -> LambdaContextStub:
    return LambdaContextStub(aws_request_id=f"00000000-0000-4000-8000-{n:012d}")


def _flip(
    command: str, aws_stack: AwsStack, capsys: pytest.CaptureFixture[str], *extra: str
) -> str:
    capsys.readouterr()
    status = main([command, "--parameter", aws_stack.kill_switch_parameter, *extra])
    assert status == 0
    return capsys.readouterr().out


def _reason(result: dict[str, Any]) -> str:
    return str(result["reason"])


def test_halt_refuses_the_next_plan_with_zero_orders_and_resume_runs_it(
    switched_handler: ModuleType,
    sim: SimThread,
    aws_stack: AwsStack,
    capsys: pytest.CaptureFixture[str],
) -> None:
    event = current_event(PLAN)
    printed = _flip("halt", aws_stack, capsys, "--reason", "broker maintenance")

    halted = invoke(switched_handler, event, _context(1))

    assert "halted by arn:aws:" in printed  # who: the caller identity moto's STS reports
    assert "broker maintenance" in printed
    assert halted["status"] == "REJECTED"
    assert _reason(halted).startswith("guard rail kill_switch: the kill switch is on (halted by")
    assert "broker maintenance" in _reason(halted)
    assert sim.order_posts() == []
    assert sim.requests("GET", ACCOUNT_PATH) == [], "no broker call while halted"

    _flip("resume", aws_stack, capsys)
    resumed = invoke(switched_handler, event, _context(2))  # the same plan, delivered again

    assert resumed["status"] == "SUCCESS"
    assert resumed["plan_id"] == halted["plan_id"]
    assert sorted(sim.posted_ids()) == sorted(child_ids(resumed))
    assert sim.posted_ids()
    published = aws_stack.result_events(expected=2)
    assert [p["detail"]["status"] for p in published] == ["REJECTED", "SUCCESS"]


def test_a_halt_reaches_a_warm_function_at_its_next_read(
    switched_handler: ModuleType,
    sim: SimThread,
    aws_stack: AwsStack,
    capsys: pytest.CaptureFixture[str],
) -> None:
    base = current_event(PLAN)
    first = invoke(switched_handler, with_items(base, "plan-ks-warm-1", "MSFT"), _context(1))
    orders_before = sim.posted_ids()
    _flip("halt", aws_stack, capsys)

    second = invoke(switched_handler, with_items(base, "plan-ks-warm-2", "MSFT"), _context(2))

    assert first["status"] == "SUCCESS"
    assert second["status"] == "REJECTED"
    assert "kill switch is on" in _reason(second)
    assert sim.posted_ids() == orders_before


def test_an_unreadable_switch_refuses_and_names_the_read_failure(
    switched_handler: ModuleType,
    sim: SimThread,
    aws_stack: AwsStack,
    aws_faults: FaultInjector,
) -> None:
    aws_faults.add(json_api_error("ssm", "GetParameter", "InternalServerError", 500, times=None))
    event = current_event(PLAN)

    refused = invoke(switched_handler, event, _context(1))

    assert refused["status"] == "REJECTED"
    assert _reason(refused).startswith("guard rail kill_switch: could not be checked")
    assert aws_stack.kill_switch_parameter in _reason(refused)
    assert "could not be read" in _reason(refused)
    assert sim.order_posts() == []

    aws_faults.clear()
    again = invoke(switched_handler, event, _context(2))
    assert again["status"] == "SUCCESS", "the refusal was not stored"


def test_a_value_that_is_not_the_switch_format_means_halted(
    switched_handler: ModuleType, sim: SimThread, aws_stack: AwsStack
) -> None:
    aws_stack.client("ssm").put_parameter(
        Name=aws_stack.kill_switch_parameter, Value="false", Overwrite=True
    )

    refused = invoke(switched_handler, current_event(PLAN), _context(1))

    assert refused["status"] == "REJECTED"
    assert "kill switch is on" in _reason(refused)
    assert sim.order_posts() == []


def test_a_failed_account_read_releases_the_plan_for_its_redelivery(
    switched_handler: ModuleType, sim: SimThread
) -> None:
    event = current_event(PLAN)
    sim.call(lambda server: server.faults.fail_next(403, count=None, path=ACCOUNT_PATH))

    refused = invoke(switched_handler, event, _context(1))
    sim.call(lambda server: server.faults.clear())
    redelivered = invoke(switched_handler, event, _context(2))

    assert refused["status"] == "REJECTED"
    assert _reason(refused).startswith("guard rail account: could not be checked")
    assert redelivered["status"] == "SUCCESS"
    assert redelivered["event_id"] != refused["event_id"], "judged again, not served"
    assert sorted(sim.posted_ids()) == sorted(child_ids(redelivered))


def test_a_stale_plan_stays_rejected_for_its_redelivery(
    switched_handler: ModuleType, sim: SimThread, capsys: pytest.CaptureFixture[str]
) -> None:
    stale = published_now(saved_event(PLAN), datetime.now(UTC) - timedelta(minutes=10))

    first = invoke(switched_handler, stale, _context(1))
    capsys.readouterr()
    second = invoke(switched_handler, stale, _context(2))

    assert first["status"] == "REJECTED"
    assert first["reason"].startswith("guard rail plan_age:")
    assert second == first, "the stored REJECTED is served"
    assert "duplicate plan: serving the stored result" in capsys.readouterr().out
    assert sim.order_posts() == []


def test_switch_shows_who_flipped_it_and_no_parameter_is_exit_2(
    lambda_env: dict[str, str],
    aws_stack: AwsStack,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    del lambda_env
    _flip("halt", aws_stack, capsys, "--reason", "drill")
    shown = _flip("switch", aws_stack, capsys)
    monkeypatch.delenv("KILL_SWITCH_PARAMETER")

    assert "halted by arn:aws:" in shown
    assert "drill" in shown
    assert "plans are refused" in shown
    assert main(["switch"]) == 2
    assert "no parameter" in capsys.readouterr().err
