"""The kill switch's value: only state "off" lets plans run; anything else means halted."""

import pytest

from plan_executor.adapters.kill_switch import HALTED, OFF, SwitchState, parse_switch


def test_a_written_state_reads_back_the_same() -> None:
    written = SwitchState(OFF, "arn:aws:iam::1:user/ops", "2026-12-05T16:00:00+00:00", "done")
    assert parse_switch(written.to_value()) == written
    assert not parse_switch(written.to_value()).halted


def test_a_halt_names_who_when_and_why() -> None:
    state = SwitchState(HALTED, "alice", "2026-12-05T16:00:00+00:00", "broker maintenance")
    assert parse_switch(state.to_value()).halted
    assert state.describe() == "halted by alice at 2026-12-05T16:00:00+00:00: broker maintenance"


@pytest.mark.parametrize(
    "raw",
    [
        "false",
        "off",
        "",
        "{not json",
        '["off"]',
        '{"state": "off"}',
        '{"state": "OFF", "by": "a", "at": "t"}',
        '{"state": "running", "by": "a", "at": "t"}',
        '{"state": null, "by": "a", "at": "t"}',
        None,
    ],
)
def test_any_other_value_means_halted(raw: object) -> None:
    assert parse_switch(raw).halted
