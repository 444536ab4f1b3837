"""The local stack is stopped on every path: success, a failed invocation, an interrupt; and a
replay that is refused before it starts starts nothing (and prints no secret)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from replay_support import EVENTS, is_listening, options, printed_servers

from plan_executor.local.broker_choice import Broker
from plan_executor.local.replay import replay

_ALPACA_SECRET = "not-a-real-secret-0123456789"


class _InterruptAt(io.StringIO):
    """Output that raises KeyboardInterrupt (Ctrl-C) once `marker` is written."""

    def __init__(self, marker: str) -> None:
        super().__init__()
        self._marker = marker

    def write(self, text: str) -> int:
        written = super().write(text)
        if self._marker in text:
            raise KeyboardInterrupt
        return written


def test_the_stack_is_stopped_after_a_replay(tmp_path: Path) -> None:
    out = io.StringIO()
    status = replay(options("rejected-schema-v2.json", tmp_path), out=out, environ=os.environ)
    assert status == 0, out.getvalue()
    for url in printed_servers(out.getvalue()):
        assert not is_listening(url), url


def test_the_stack_is_stopped_when_the_invocation_fails(tmp_path: Path) -> None:
    out = io.StringIO()
    # One second is less than the deadline margin: the handler refuses to start the plan.
    replay_options = options("mixed-sell-and-buy.json", tmp_path, timeout_s=1.0)
    status = replay(replay_options, out=out, environ=os.environ)
    text = out.getvalue()
    assert status == 1, text
    assert "FAILED: the handler raised RuntimeError" in text
    assert "replay FAILED" in text
    for url in printed_servers(text):
        assert not is_listening(url), url


def test_the_stack_is_stopped_on_ctrl_c_during_a_run(tmp_path: Path) -> None:
    out = _InterruptAt("sells ...")
    with pytest.raises(KeyboardInterrupt):
        replay(options("mixed-sell-and-buy.json", tmp_path), out=out, environ=os.environ)
    for url in printed_servers(out.getvalue()):
        assert not is_listening(url), url


def test_an_unreadable_event_is_refused(tmp_path: Path) -> None:
    out = io.StringIO()
    replay_options = options("missing.json", tmp_path)
    assert replay(replay_options, out=out, environ=os.environ) == 2
    assert out.getvalue().startswith("replay refused: cannot read")
    assert str(EVENTS / "missing.json") in out.getvalue()


def test_alpaca_without_keys_is_refused_before_anything_starts(tmp_path: Path) -> None:
    out = io.StringIO()
    replay_options = options("mixed-sell-and-buy.json", tmp_path, broker=Broker.ALPACA)
    assert replay(replay_options, out=out, environ={"PATH": os.environ["PATH"]}) == 2
    assert "needs ALPACA_KEY_ID and ALPACA_SECRET_KEY" in out.getvalue()
    assert "AWS (moto)" not in out.getvalue()


@pytest.mark.parametrize(
    ("key_id", "mode", "allow_live", "why"),
    [
        ("AKLIVEKEY0000001", "live", False, "refused without --allow-live"),
        ("AKLIVEKEY0000001", "paper", True, "looks like a live key"),
        ("PKPAPERKEY000001", "real", False, "ALPACA_MODE must be paper or live"),
    ],
)
def test_alpaca_live_or_mismatched_keys_are_refused(
    tmp_path: Path, key_id: str, mode: str, allow_live: bool, why: str
) -> None:
    environ = {"ALPACA_KEY_ID": key_id, "ALPACA_SECRET_KEY": _ALPACA_SECRET, "ALPACA_MODE": mode}
    replay_options = options(
        "mixed-sell-and-buy.json", tmp_path, broker=Broker.ALPACA, allow_live=allow_live
    )
    out = io.StringIO()
    assert replay(replay_options, out=out, environ=environ) == 2
    assert why in out.getvalue()
    assert _ALPACA_SECRET not in out.getvalue()
