"""`plan-executor check` and `plan-executor schemas` as a user runs them."""

import subprocess
import sys
from pathlib import Path

import pytest

from plan_executor.cli import main
from plan_executor.domain.schemas import render_schemas


def _check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["check", *args])
    return code, capsys.readouterr().out


def _all_events(events_dir: Path) -> list[str]:
    return sorted(str(path) for path in events_dir.glob("*.json"))


def test_check_reports_each_saved_event(
    events_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _check(capsys, *_all_events(events_dir))
    assert code == 0
    assert out.rstrip().endswith("12 files: 6 OK, 6 REJECTED")
    assert f"OK        {events_dir / 'mixed-sell-and-buy.json'}" in out
    assert f"REJECTED  {events_dir / 'rejected-wrong-sign.json'}" in out
    assert "detail.rebalance_plan.items[2].trade_amount  sign_agrees_with_action" in out
    assert "max_plan_age" in out
    assert "trades_required is false: succeeds with zero orders" in out


def test_check_shows_what_the_plan_asks_for(
    events_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out = _check(capsys, str(events_dir / "mixed-sell-and-buy.json"))
    lines = out.splitlines()
    assert "urgency NORMAL   trades_required yes   plan age 3s as of 2025-06-02T14:30:05Z" in out
    header = next(line for line in lines if "TRADE AMOUNT" in line)
    rows = [line for line in lines if line.startswith("  ") and line.split()[0].isdigit()]
    assert len(rows) == 8
    amount_end = header.index("TRADE AMOUNT") + len("TRADE AMOUNT")
    for row in rows:  # right-aligned under its header
        assert row[amount_end - 1] in "0123456789"
        assert row[amount_end] == " "
    assert any("BRK.B" in row and "1,984.81" in row for row in rows)
    assert any("AAPL" in row and "SELL" in row and "-3,234.56" in row for row in rows)
    totals = {
        line.split()[0]: line.split()[1:]
        for line in lines
        if line.strip().startswith(("sells", "buys", "holds"))
    }
    assert totals == {"sells": ["3", "9,484.81"], "buys": ["4", "8,984.81"], "holds": ["1"]}


def test_full_exits_are_marked(events_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out = _check(capsys, str(events_dir / "full-liquidation.json"))
    assert out.count("full exit") == 5


def test_strict_exits_1_on_any_rejection(
    events_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _check(capsys, "--strict", *_all_events(events_dir))[0] == 1
    assert _check(capsys, "--strict", str(events_dir / "buys-only.json"))[0] == 0


def test_unreadable_file_exits_2(
    events_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.json"
    code, out = _check(capsys, str(events_dir / "buys-only.json"), str(missing))
    assert code == 2
    assert f"UNREADABLE {missing}" in out
    assert "2 files: 1 OK, 0 REJECTED, 1 unreadable" in out


def test_now_and_max_age_override_the_envelope_time(
    events_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(events_dir / "buys-only.json")
    code, out = _check(capsys, path, "--now", "2025-06-04T15:00:00Z")
    assert (code, "max_plan_age" in out) == (0, True)
    _, out = _check(capsys, path, "--now", "2025-06-04T15:00:00Z", "--max-plan-age", "7200")
    assert out.startswith(f"OK        {path}")
    _, out = _check(capsys, str(events_dir / "rejected-stale-plan.json"), "--max-plan-age", "86400")
    assert out.startswith("OK")


@pytest.mark.parametrize(
    "args",
    [
        ["--now", "2025-06-04T15:00:00"],
        ["--now", "soon"],
        ["--max-plan-age", "0"],
        ["--max-plan-age", "x"],
    ],
)
def test_bad_options_are_usage_errors(
    events_dir: Path, args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["check", str(events_dir / "buys-only.json"), *args])
    assert caught.value.code == 2
    capsys.readouterr()


def test_broken_json_is_a_rejection(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"version": "0", ')
    code, out = _check(capsys, str(broken))
    assert code == 0
    assert "REJECTED" in out
    assert "json_syntax" in out


def test_schemas_command_writes_the_rendered_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["schemas", "--out", str(tmp_path / "out")]) == 0
    written = {path.name: path.read_text() for path in (tmp_path / "out").iterdir()}
    assert written == render_schemas()
    assert "wrote" in capsys.readouterr().out


def test_cli_imports_no_sdk() -> None:
    code = (
        "import sys, plan_executor.cli; "
        "heavy = {'alpaca', 'boto3', 'botocore', 'aioboto3', 'aiobotocore', 'aiohttp'}; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert output.stdout.strip() == "[]"
