"""The replay's parts without a stack: moving event times, the progress lines, the trimmed
result event, the Lambda context's countdown, EMF parsing, and the CLI wiring."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from replay_support import EVENTS

from plan_executor import cli
from plan_executor.local.event_time import make_current
from plan_executor.local.lambda_context import LocalLambdaContext
from plan_executor.local.lambda_runner import Invocation
from plan_executor.local.progress_format import ProgressPrinter, progress_text, short_order_id
from plan_executor.local.replay_format import trimmed_result_event

NOW = datetime(2026, 3, 2, 15, 0, 0, tzinfo=UTC)


def _event(name: str) -> dict[str, object]:
    value: dict[str, object] = json.loads((EVENTS / name).read_text())
    return value


def test_every_timestamp_moves_by_the_same_offset_in_its_own_shape() -> None:
    shifted = make_current(_event("mixed-sell-and-buy.json"), NOW)
    detail = shifted.event["detail"]
    assert shifted.event["time"] == "2026-03-02T15:00:00Z"
    assert shifted.offset == NOW - datetime(2025, 6, 2, 14, 30, 5, tzinfo=UTC)
    assert shifted.moved == 3
    # 10:30:01.845-04:00 was 3.155 s before the envelope: still so, still written at -04:00.
    assert detail["timestamp"] == "2026-03-02T10:59:56.845-04:00"
    assert detail["rebalance_plan"]["timestamp"] == "2026-03-02T14:59:56.512Z"
    assert detail["rebalance_plan"]["plan_id"] == "rebal-20250602-143001-7f3c9a2e"


def test_relative_ages_survive_so_a_stale_plan_stays_stale() -> None:
    original = _event("rejected-stale-plan.json")
    shifted = make_current(original, NOW).event
    plan_time = datetime.fromisoformat(shifted["detail"]["rebalance_plan"]["timestamp"])
    assert NOW - plan_time == timedelta(hours=3, minutes=25, seconds=5)


def test_a_naive_timestamp_stays_naive() -> None:
    shifted = make_current(_event("rejected-naive-timestamp.json"), NOW).event
    plan_time = datetime.fromisoformat(shifted["detail"]["rebalance_plan"]["timestamp"])
    assert plan_time.tzinfo is None
    assert plan_time.date() == NOW.date()


def test_an_event_without_an_envelope_time_is_left_alone() -> None:
    event = {"detail": {"timestamp": "2025-06-02T14:30:00Z"}}
    shifted = make_current(event, NOW)
    assert shifted.offset is None
    assert shifted.event == event


def test_progress_lines_show_phases_orders_and_fills_but_not_acks() -> None:
    order = {
        "replay": "progress",
        "progress": "order",
        "client_order_id": "4e3fce5fc0-AAPL-s-2",
        "side": "sell",
        "symbol": "AAPL",
        "qty": "11.9",
        "limit_price": "271.48",
    }
    assert progress_text({"progress": "phase_started", "phase": "sells"}) == "sells ..."
    assert progress_text({"progress": "phase_ended", "phase": "guards", "detail": "passed"}) == (
        "guards: passed"
    )
    sent = progress_text({**order, "order_status": "pending_submit", "filled_qty": "0"})
    assert sent == "  AAPL-s-2 SELL 11.9 AAPL limit 271.48"
    assert progress_text({**order, "order_status": "new", "filled_qty": "0"}) is None
    filled = progress_text({**order, "order_status": "filled", "filled_qty": "11.9"})
    assert filled == "  AAPL-s-2 filled 11.9 of 11.9"
    assert progress_text({**order, "order_status": "canceled", "filled_qty": "0"}) == (
        "  AAPL-s-2 canceled"
    )


def test_warnings_are_shown_and_info_logs_are_not() -> None:
    warning = {"replay": "log", "level": "WARNING", "logger": "x", "message": "quote stale"}
    assert progress_text(warning) == "warning: quote stale (x)"
    assert progress_text({**warning, "level": "INFO"}) is None


def test_short_order_ids_drop_only_the_plan_hash() -> None:
    assert short_order_id("4e3fce5fc0-BRK.B-b-3") == "BRK.B-b-3"
    assert short_order_id("manual-1") == "manual-1"


def test_the_result_event_keeps_one_order_with_one_child() -> None:
    child = {"client_order_id": "c"}
    orders = [{"symbol": s, "child_orders": [child, child, child]} for s in ("A", "B", "C")]
    trimmed = trimmed_result_event({"id": "e", "detail": {"status": "SUCCESS", "orders": orders}})
    shown = trimmed["detail"]["orders"]
    assert shown[0]["symbol"] == "A"
    assert shown[0]["child_orders"] == [child, "... 2 more child orders (all in orders.jsonl)"]
    assert shown[1] == "... 2 more orders, as in the table above"
    assert trimmed["detail"]["status"] == "SUCCESS"
    assert len(orders[0]["child_orders"]) == 3  # the input is not modified


def test_the_lambda_context_counts_down_and_stops_at_zero() -> None:
    now = [100.0]
    context = LocalLambdaContext(
        timeout_s=90, region="us-east-1", aws_request_id="r-1", monotonic=lambda: now[0]
    )
    assert context.get_remaining_time_in_millis() == 90_000
    now[0] += 30.5
    assert context.get_remaining_time_in_millis() == 59_500
    now[0] += 100
    assert context.get_remaining_time_in_millis() == 0
    assert context.aws_request_id == "r-1"
    assert context.invoked_function_arn.endswith(":function:plan-executor-local-executor")
    assert context.memory_limit_in_mb == 1024


def test_emf_metrics_are_read_from_the_raw_output() -> None:
    blob = {
        "_aws": {
            "CloudWatchMetrics": [
                {"Namespace": "PlanExecutor", "Metrics": [{"Name": "A"}, {"Name": "B"}]}
            ]
        },
        "A": [1.0],
        "B": [2.5, 3.0],
    }
    invocation = Invocation("r", {}, None, 0.1, ('{"level": "INFO"}', "text", json.dumps(blob)))
    assert invocation.metrics == {"A": (1.0,), "B": (2.5, 3.0)}


@pytest.mark.parametrize("argv", [["--times", "0"], ["--expect", "GREAT"], ["--timeout", "-1"]])
def test_the_cli_refuses_bad_replay_options(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["replay", str(EVENTS / "mixed-sell-and-buy.json"), *argv])
    assert exit_info.value.code == 2


def test_the_cli_runs_a_replay(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    event = str(EVENTS / "rejected-missing-plan-id.json")
    status = cli.main(["replay", event, "--raw-log", str(tmp_path / "raw.log")])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "detail.rebalance_plan.plan_id: required" in out
    assert "replay OK" in out
    assert "plan_id" in (tmp_path / "raw.log").read_text()


def test_check_and_schemas_are_still_there(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["check", str(EVENTS / "buys-only.json")]) == 0
    assert "OK" in capsys.readouterr().out


def test_the_same_order_news_twice_is_printed_once() -> None:
    out = io.StringIO()
    printer = ProgressPrinter(out, started_at=0.0)
    fill = {
        "progress": "order",
        "client_order_id": "4e3fce5fc0-AAPL-s-1",
        "side": "sell",
        "symbol": "AAPL",
        "qty": "2",
        "order_status": "filled",
        "filled_qty": "2",
        "at": 1.0,
    }
    printer(fill)
    printer({**fill, "at": 1.2})
    printer({**fill, "client_order_id": "4e3fce5fc0-MSFT-s-1", "at": 1.3})
    assert out.getvalue().count("AAPL-s-1 filled 2 of 2") == 1
    assert out.getvalue().count("MSFT-s-1 filled 2 of 2") == 1
