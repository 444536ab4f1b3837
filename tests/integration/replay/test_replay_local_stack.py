"""`plan-executor local-stack`: the resources env/sam-local-env.json names, the simulator's keys
in the secret, results routed from the default bus, and everything stopped afterwards."""

from __future__ import annotations

import io
import json
import socket

import pytest
from replay_support import ROOT, is_listening

from plan_executor.local.aws_stack import RESULT_DETAIL_TYPE
from plan_executor.local.errors import StackStartError
from plan_executor.local.local_stack import LocalStack
from plan_executor.local.readback import take_result_events
from plan_executor.local.stack_command import StackCommandOptions, serve_stack

SAM_ENV = json.loads((ROOT / "env" / "sam-local-env.json").read_text())["ExecutorFunction"]


def test_the_local_stack_matches_the_sam_env_file_and_stops() -> None:
    seen: dict[str, object] = {}

    def inspect(stack: LocalStack) -> None:
        aws, sim = stack.aws, stack.sim
        assert sim is not None
        assert sim.endpoints is not None
        seen["urls"] = [aws.endpoint_url, sim.endpoints.trading_url]
        seen["names"] = {
            "IDEMPOTENCY_TABLE": aws.idempotency_table,
            "LEDGER_BUCKET": aws.ledger_bucket,
            "ALPACA_SECRET_ID": aws.secret_id,
            "EVENT_BUS_NAME": aws.event_bus,
            "DLQ": aws.dlq_url.rsplit("/", 1)[-1],
        }
        secret = aws.client("secretsmanager").get_secret_value(SecretId=aws.secret_id)
        seen["secret"] = json.loads(secret["SecretString"])
        seen["sim_keys"] = (sim.endpoints.key_id, sim.endpoints.secret_key)
        entry = {"Source": aws.result_source, "DetailType": RESULT_DETAIL_TYPE, "Detail": "{}"}
        aws.client("events").put_events(Entries=[{**entry, "EventBusName": "default"}])
        seen["routed"] = len(take_result_events(aws, at_least=1, timeout_s=5))
        seen["sim_orders"] = sim.order_submissions()

    out = io.StringIO()
    options = StackCommandOptions(host="127.0.0.1", moto_port=0, sim_port=0)
    assert serve_stack(options, out=out, wait=inspect) == 0

    assert seen["names"] == {
        "IDEMPOTENCY_TABLE": SAM_ENV["IDEMPOTENCY_TABLE"],
        "LEDGER_BUCKET": SAM_ENV["LEDGER_BUCKET"],
        "ALPACA_SECRET_ID": SAM_ENV["ALPACA_SECRET_ID"],
        "EVENT_BUS_NAME": SAM_ENV["EVENT_BUS_NAME"],
        "DLQ": SAM_ENV["FAILURE_QUEUE_URL"].rsplit("/", 1)[-1],
    }
    key_id, secret_key = seen["sim_keys"]  # type: ignore[misc]
    assert seen["secret"] == {"key_id": key_id, "secret_key": secret_key, "mode": "paper"}
    assert seen["routed"] == 1
    assert seen["sim_orders"] == 0
    text = out.getvalue()
    assert "sam local invoke ExecutorFunction -e events/mixed-sell-and-buy.json" in text
    assert secret_key not in text
    assert text.rstrip().endswith("local stack stopped")
    for url in seen["urls"]:  # type: ignore[attr-defined]
        assert not is_listening(url), url


def test_the_sam_env_file_points_at_the_ports_local_stack_uses() -> None:
    options = StackCommandOptions()
    assert SAM_ENV["AWS_ENDPOINT_URL"].endswith(f":{options.moto_port}")
    assert SAM_ENV["ALPACA_TRADING_URL"].endswith(f":{options.sim_port}")
    assert options.host == "0.0.0.0"


def test_a_taken_port_fails_the_start_and_stops_what_had_started() -> None:
    with socket.socket() as taken, socket.socket() as probe:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        probe.bind(("127.0.0.1", 0))
        sim_port = probe.getsockname()[1]
        probe.close()
        options = StackCommandOptions(
            host="127.0.0.1", moto_port=taken.getsockname()[1], sim_port=sim_port
        )
        with pytest.raises(StackStartError, match="moto cannot listen"):
            serve_stack(options, out=io.StringIO(), wait=lambda _: None)
    assert not is_listening(f"http://127.0.0.1:{sim_port}")
