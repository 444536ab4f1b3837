"""The EMF blob of a REJECTED plan carries its reason class, the metric its alarm reads."""

import json
from datetime import UTC, datetime

import pytest
from aws_lambda_powertools import Metrics

from plan_executor.domain.enums import TradingMode
from plan_executor.domain.rejections import RejectionContext, SalvagedIds, rejected_result
from plan_executor.engine.guards import GuardRejection
from plan_executor.observability import REJECTED_BY_CLASS, record_result

MOMENT = datetime(2026, 1, 2, 15, tzinfo=UTC)
ATTEMPT = "0001-20260102T150000Z-0123abcd"


def _emitted(capsys: pytest.CaptureFixture[str], reason: str, *, duplicate: bool) -> set[str]:
    metrics = Metrics(namespace="PlanExecutor", service="plan-executor-test")
    context = RejectionContext("evt-1", MOMENT, MOMENT, TradingMode.PAPER, ATTEMPT)
    ids = SalvagedIds("cause-1", "corr-1", "plan-1")
    record_result(metrics, rejected_result(context, reason=reason, ids=ids), duplicate=duplicate)
    metrics.flush_metrics()
    (blob,) = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    (directive,) = blob["_aws"]["CloudWatchMetrics"]
    assert directive["Dimensions"] == [["service"]]
    return {metric["Name"] for metric in directive["Metrics"]}


def test_a_market_closed_rejection_counts_in_its_class(
    capsys: pytest.CaptureFixture[str],
) -> None:
    reason = GuardRejection("market_open", "the market is closed").describe()
    names = _emitted(capsys, reason, duplicate=False)
    assert {"PlansReceived", "PlansRejected", "PlansRejectedMarketClosed"} <= names
    assert not (names & (set(REJECTED_BY_CLASS.values()) - {"PlansRejectedMarketClosed"}))


def test_a_duplicate_served_counts_no_plan(capsys: pytest.CaptureFixture[str]) -> None:
    reason = GuardRejection("kill_switch", "the kill switch is on").describe()
    names = _emitted(capsys, reason, duplicate=True)
    assert names == {"DuplicatesServed"}
