"""`plan-executor history --replay`: saved events replayed through the real handler on a local
stack of its own (moto, alpaca_sim, a process per run, as `make run` does), then every named
query answered from that stack's ledger."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from replay_support import EVENTS

from plan_executor import cli

TRADED, REJECTED = "mixed-sell-and-buy.json", "rejected-wrong-sign.json"


def _plan_id(name: str) -> str:
    plan_id: str = json.loads((EVENTS / name).read_text())["detail"]["rebalance_plan"]["plan_id"]
    return plan_id


def test_history_answers_every_named_query_on_the_ledger_of_replayed_runs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status = cli.main(["history", "--replay", str(EVENTS / TRADED), str(EVENTS / REJECTED)])

    out = capsys.readouterr().out
    assert status == 0, out
    assert f"replayed {EVENTS / TRADED}: ok" in out
    assert f"replayed {EVENTS / REJECTED}: ok" in out
    assert "ledger s3://" in out
    assert "4 objects" in out  # result.json and orders.jsonl of each run
    sections = out.split("\n== ")[1:]
    answered = {section.split(" ", 1)[0]: section for section in sections}
    assert set(answered) == {
        "cost_by_day",
        "cost_by_symbol",
        "failed_or_timed_out",
        "last_plans",
        "orders_per_plan",
    }
    for name in ("last_plans", "orders_per_plan"):
        assert _plan_id(TRADED) in answered[name]
        assert _plan_id(REJECTED) in answered[name]
    assert "REJECTED" in answered["last_plans"]
    assert "(no rows)" in answered["failed_or_timed_out"]
    assert "(no rows)" not in answered["cost_by_symbol"], "the traded plan filled orders"


def test_history_refuses_an_unreadable_event_before_starting_anything(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "missing.json"

    assert cli.main(["history", "--replay", str(EVENTS / TRADED), str(missing)]) == 2
    captured = capsys.readouterr()
    assert "cannot read" in captured.err
    assert "replayed" not in captured.out
