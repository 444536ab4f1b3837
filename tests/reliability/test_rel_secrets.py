"""The Alpaca credentials appear nowhere but at the broker: not in logs (stdout, stderr, and
every logger at DEBUG, botocore and websockets included), metrics, the result, the published
event, the ledger, the idempotency record or the DLQ; not in the error when the secret itself
is broken; not in the REJECTED result when the broker refuses the keys.

The secret in moto holds fresh random marker values, and the sim accepts exactly those, so a
successful run proves they were read and used.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from hostile_support import ServiceRig, base_event, collected_logs, service_rig
from tests.integration.service.service_support import EMPTY_METRICS_WARNING
from tests.support.aws_stack import LocalMotoServer

from plan_executor.adapters.secrets import CredentialsError


@dataclass(frozen=True)
class Credentials:
    key_id: str
    secret_key: str

    @classmethod
    def fresh(cls) -> Credentials:
        return cls(f"PKH13{secrets.token_hex(8).upper()}", f"h13sk-{secrets.token_hex(20)}")

    def secret(self) -> dict[str, str]:
        return {"key_id": self.key_id, "secret_key": self.secret_key, "mode": "paper"}

    def values(self) -> tuple[str, str]:
        return (self.key_id, self.secret_key)


@dataclass
class Run:
    """What one invocation left behind, as text by where it was."""

    texts: dict[str, str]

    @classmethod
    def collect(
        cls,
        rig: ServiceRig,
        capsys: pytest.CaptureFixture[str],
        logged: str,
        **more: str,
    ) -> Run:
        printed = capsys.readouterr()
        texts = {"stdout": printed.out, "stderr": printed.err, "logging": logged, **more}
        return cls({**texts, **stored_texts(rig)})


def stored_texts(rig: ServiceRig) -> dict[str, str]:
    """Everything the service left in AWS, as text by where it was: ledger objects, result
    events on the results queue, dead letters, idempotency records."""
    stack = rig.stack
    texts = {f"s3:{key}": text for key, text in rig.ledger_texts().items()}
    for queue, url in (("results", stack.results_queue_url), ("dlq", stack.dlq_url)):
        for number, message in enumerate(stack.receive_now(url)):
            texts[f"sqs:{queue}:{number}"] = json.dumps(message)
    items = stack.client("dynamodb").scan(TableName=stack.idempotency_table)["Items"]
    texts["dynamodb:idempotency"] = json.dumps(items)
    return texts


def fragments(secret: str, width: int = 12) -> set[str]:
    """Every `width`-character piece of `secret`: a log line that elides the middle of a long
    message (websockets shows a frame's start and end) still shows some piece."""
    return {secret[start : start + width] for start in range(len(secret) - width + 1)}


def leaks(secrets: Iterable[str], texts: Mapping[str, str]) -> list[str]:
    """`where: piece` for every piece of a secret found in `texts`."""
    pieces = set().union(*(fragments(secret) for secret in secrets))
    return sorted(
        f"{where}: {piece}" for where, text in texts.items() for piece in pieces if piece in text
    )


_plans = iter(range(1, 1_000_000))


def current_plan() -> dict[str, Any]:
    return base_event(f"secrets-{next(_plans)}", datetime.now(UTC))


def test_a_full_run_and_its_duplicate_show_the_credentials_nowhere(
    moto_server: LocalMotoServer, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = Credentials.fresh()
    event = current_plan()
    with (
        service_rig(
            moto_server, "secrets-ok", alpaca_secret=keys.secret(), POWERTOOLS_LOG_LEVEL="DEBUG"
        ) as rig,
        collected_logs(logging.DEBUG) as logs,
    ):
        result = rig.invoke(event)
        duplicate = rig.invoke(event, request_id="duplicate")
        run = Run.collect(
            rig, capsys, logs.take(), result=json.dumps(result), duplicate=json.dumps(duplicate)
        )
        orders_placed = len(rig.sim.order_posts())

    assert result["status"] == "SUCCESS", result["reason"]
    assert orders_placed > 0, "the sim accepted the marker keys, so they were read and used"
    assert duplicate == result
    logged = run.texts["logging"]
    assert "GetSecretValue" in logged, "DEBUG capture reached botocore"
    assert "websockets.client DEBUG > <redacted: stream authentication frame>" in logged
    assert re.search(r'websockets.client DEBUG < \w+ \'\{"stream":"authorization"', logged)
    assert '"_aws"' in run.texts["stdout"], "the EMF metrics are in what was searched"
    assert any(where.startswith("sqs:results") for where in run.texts)
    assert any(where.startswith("s3:") for where in run.texts)
    assert leaks(keys.values(), run.texts) == []


BROKEN_SECRETS: dict[str, tuple[Callable[[Credentials], str], str]] = {
    "truncated-json": (lambda k: json.dumps(k.secret())[:-2], "not valid JSON"),
    "array": (lambda k: json.dumps(list(k.values())), "must be a JSON object"),
    "missing-mode": (
        lambda k: json.dumps({"key_id": k.key_id, "secret_key": k.secret_key}),
        "lacks mode",
    ),
    "key-id-with-the-secret-after-a-space": (
        lambda k: json.dumps({**k.secret(), "key_id": f"{k.key_id} {k.secret_key}"}),
        "key_id must not contain whitespace",
    ),
    "secret-as-the-mode": (
        lambda k: json.dumps({**k.secret(), "mode": k.secret_key}),
        "mode must be 'paper' or 'live'",
    ),
    "secret-key-in-a-list": (
        lambda k: json.dumps({**k.secret(), "secret_key": [k.secret_key]}),
        "secret_key must be a non-empty string",
    ),
    "key-id-with-a-newline": (
        lambda k: json.dumps({**k.secret(), "key_id": f"{k.key_id}\n{k.secret_key}"}),
        "key_id must be 1-128 printable characters",
    ),
}


@pytest.fixture(scope="module")
def broken_rig(moto_server: LocalMotoServer) -> Iterator[ServiceRig]:
    """One stack and sim; each test puts its own secret value and forces a cold start."""
    with service_rig(moto_server, "secrets-broken", POWERTOOLS_LOG_LEVEL="DEBUG") as rig:
        yield rig


def put_secret(rig: ServiceRig, text: str) -> None:
    rig.stack.client("secretsmanager").put_secret_value(
        SecretId=rig.stack.secret_id, SecretString=text
    )
    rig.handler.reset_cold_start()  # a new environment: the cached secret is gone


@pytest.mark.filterwarnings(EMPTY_METRICS_WARNING)
@pytest.mark.parametrize("case", list(BROKEN_SECRETS.values()), ids=list(BROKEN_SECRETS))
def test_a_broken_secret_fails_the_invocation_naming_the_problem_not_the_value(
    broken_rig: ServiceRig,
    capsys: pytest.CaptureFixture[str],
    case: tuple[Callable[[Credentials], str], str],
) -> None:
    make_secret, problem = case
    keys = Credentials.fresh()
    put_secret(broken_rig, make_secret(keys))

    with collected_logs(logging.DEBUG) as logs, pytest.raises(CredentialsError) as raised:
        broken_rig.invoke(current_plan())

    message = str(raised.value)
    assert broken_rig.stack.secret_id in message
    assert problem in message
    trace = "".join(traceback.format_exception(raised.value))
    run = Run.collect(broken_rig, capsys, logs.take(), error=trace)
    assert leaks(keys.values(), run.texts) == []
    assert broken_rig.sim.order_posts() == []


def test_keys_the_broker_refuses_give_a_rejection_that_does_not_show_them(
    broken_rig: ServiceRig, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = Credentials.fresh()  # well-formed, but not the keys the sim accepts
    put_secret(broken_rig, json.dumps(keys.secret()))

    with collected_logs(logging.DEBUG) as logs:
        result = broken_rig.invoke(current_plan())

    assert result["status"] == "REJECTED"
    assert result["reason"].startswith("guard rail market_open: could not be checked")
    run = Run.collect(broken_rig, capsys, logs.take(), result=json.dumps(result))
    assert any(where.startswith("sqs:results") for where in run.texts)
    assert leaks(keys.values(), run.texts) == []
    assert broken_rig.sim.order_posts() == []
