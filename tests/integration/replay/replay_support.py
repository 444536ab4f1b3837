"""Helpers for the replay tests: options that keep runs short, and black-box checks on the
servers a replay printed (their ports must be closed once it returns)."""

from __future__ import annotations

import re
import socket
from pathlib import Path
from urllib.parse import urlsplit

from plan_executor.local.function_env import WalkDurations
from plan_executor.local.replay import ReplayOptions

ROOT = Path(__file__).resolve().parents[3]
EVENTS = ROOT / "events"
FAST_WALK = WalkDurations(step_wait_s=0.2, market_wait_s=1.0)
_MOTO = re.compile(r"AWS \(moto\)\s+(http://[0-9.]+:\d+)")
_SIM = re.compile(r"broker\s+alpaca_sim (http://[0-9.]+:\d+)")


def options(event: str, tmp_path: Path, **overrides: object) -> ReplayOptions:
    values: dict[str, object] = {
        "event_path": EVENTS / event,
        "walk": FAST_WALK,
        "raw_log": tmp_path / "raw.log",
        "report_html": tmp_path / "report.html",
    }
    values.update(overrides)
    return ReplayOptions(**values)  # type: ignore[arg-type]


def printed_servers(output: str) -> list[str]:
    """The moto and simulator URLs from a replay's header."""
    found = [match.group(1) for pattern in (_MOTO, _SIM) if (match := pattern.search(output))]
    assert len(found) == 2, output[:2000]
    return found


def is_listening(url: str) -> bool:
    parts = urlsplit(url)
    assert parts.hostname is not None
    assert parts.port is not None
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=2):
            return True
    except OSError:
        return False
