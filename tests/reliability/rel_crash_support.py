"""Crash and recovery: the real handler in its own process (plan_executor.local.lambda_child, a
cold start each time) against moto and a sim in this process, held at a chosen point by a
server-side fault and killed there (SIGKILL); then what follows in AWS (Lambda's retries, the
sweep) as further invocations of their own.

No crash hook exists in the service: every point is reached by what the servers do (a request
that never gets its answer, or a fill seen at the sim).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from rel_aws_hangs import AwsHang
from rel_support import RelAws, function_env, idempotency_records
from tests.integration.service.service_support import SimThread
from tests.support.aws_faults import Where
from tests.support.aws_stack import AwsStack

from alpaca_sim.server import SimServer
from alpaca_sim.venue import TradeUpdate
from plan_executor.invocation import IDEMPOTENCY_KEY_PREFIX
from plan_executor.local.function_env import process_basics
from plan_executor.local.lambda_child import TAG

HOLD_TIMEOUT_S = 30.0
"""How long the test waits for the process to reach its crash point (cold start included)."""
FINISH_TIMEOUT_S = 90.0
CRASH_ENV = {
    "STEP_WAIT_SECONDS": "0.05",
    "DEADLINE_MARGIN_SECONDS": "0.5",
    "ALPACA_HTTP_TIMEOUT_SECONDS": "5",
    "PYTHONUNBUFFERED": "1",
}
ALL_BROKER_CALLS = "/v2/*"
_FILL_EVENTS = frozenset({"fill", "partial_fill"})


# --- the function's process ------------------------------------------------------------------


@dataclass
class FunctionProcess:
    """One invocation in a child process; its output goes to a file (never a full pipe)."""

    process: subprocess.Popen[bytes]
    output: Path

    @classmethod
    def start(
        cls,
        event: Mapping[str, Any],
        env: Mapping[str, str],
        *,
        timeout_s: float,
        request_id: str,
        output: Path,
        handler: str = "lambda_handler",
    ) -> FunctionProcess:
        request = {
            "handler": handler,
            "event": dict(event),
            "timeout_s": timeout_s,
            "region": env["AWS_REGION"],
            "aws_request_id": request_id,
        }
        with output.open("wb") as sink:
            process = subprocess.Popen(
                [sys.executable, "-m", "plan_executor.local.lambda_child"],
                env={**process_basics(os.environ), **env},
                stdin=subprocess.PIPE,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        assert process.stdin is not None
        process.stdin.write(json.dumps(request).encode())
        process.stdin.close()
        return cls(process, output)

    def kill(self) -> None:
        """SIGKILL: no finally block, no atexit, sockets dropped by the kernel."""
        self.process.kill()
        self.process.wait(timeout=FINISH_TIMEOUT_S)

    def finish(self) -> dict[str, Any]:
        """Wait for the invocation; its response (or AssertionError with its output)."""
        self.process.wait(timeout=FINISH_TIMEOUT_S)
        for line in self.lines():
            if line.get(TAG) == "response":
                response: dict[str, Any] = line["response"]
                return response
        raise AssertionError(f"no response: {self.tail()}")

    def outcome(self) -> tuple[dict[str, Any] | None, bool]:
        """Wait for the invocation: (its response, False), or (None, True) when it was refused
        by an in-progress lock; any other error is an AssertionError with its output."""
        self.process.wait(timeout=FINISH_TIMEOUT_S)
        for line in self.lines():
            if line.get(TAG) == "response":
                return line["response"], False
            if line.get(TAG) == "error" and line["type"] == "IdempotencyAlreadyInProgressError":
                return None, True
        raise AssertionError(f"neither a response nor a refusal: {self.tail()}")

    def lines(self) -> list[dict[str, Any]]:
        parsed = []
        for text in self.text().splitlines():
            if text.startswith("{"):
                value = json.loads(text)
                if isinstance(value, dict):
                    parsed.append(value)
        return parsed

    def text(self) -> str:
        return self.output.read_text(encoding="utf-8", errors="replace")

    def tail(self, chars: int = 3000) -> str:
        return self.text()[-chars:]


def crash_env(stack: AwsStack, sim: SimThread) -> dict[str, str]:
    return function_env(stack, sim, **CRASH_ENV)


# --- holding the process at a point ----------------------------------------------------------


class Hold(Protocol):
    """A server-side fault that stops the function at one point."""

    def reached(self, timeout_s: float) -> bool:
        """Whether the function got there within `timeout_s`."""
        ...

    def release(self) -> None:
        """Stop holding (the function is dead by then; the retry must pass freely)."""
        ...


@dataclass
class SimRequestHold:
    """Requests matching a sim rule hang (the first `skip` pass through untouched)."""

    sim: SimThread
    method: str
    path: str
    phase: str = "before"
    skip: int = 0

    def arm(self) -> SimRequestHold:
        def arm(server: SimServer) -> None:
            if self.skip:
                server.faults.slow(0.0, count=self.skip, method=self.method, path=self.path)
            server.faults.hang(count=1, method=self.method, path=self.path, phase=self.phase)

        self.sim.call(arm)
        return self

    def reached(self, timeout_s: float) -> bool:
        return _held(self.sim, timeout_s)

    def release(self) -> None:
        self.sim.call(lambda server: server.faults.clear())


@dataclass
class FirstFillHold:
    """At the first fill of a `side` order at the sim, every broker call starts to hang."""

    sim: SimThread
    side: str
    filled: threading.Event = field(default_factory=threading.Event)
    _unsubscribe: Callable[[], None] | None = None

    def arm(self) -> FirstFillHold:
        def on_update(server: SimServer, update: TradeUpdate) -> None:
            order = update.get("order")
            if self.filled.is_set() or update.get("event") not in _FILL_EVENTS:
                return
            if isinstance(order, dict) and order.get("side") == self.side:
                server.faults.hang(count=None, path=ALL_BROKER_CALLS)
                self.filled.set()

        def subscribe(server: SimServer) -> Callable[[], None]:
            return server.venue.subscribe(lambda update: on_update(server, update))

        self._unsubscribe = self.sim.call(subscribe)
        return self

    def reached(self, timeout_s: float) -> bool:
        return self.filled.wait(timeout_s)

    def release(self) -> None:
        unsubscribe = self._unsubscribe
        if unsubscribe is not None:
            self.sim.call(lambda _server: unsubscribe())
        self.sim.call(lambda server: server.faults.clear())


@dataclass
class AwsRequestHold:
    aws: RelAws
    where: Where
    hang: AwsHang | None = None

    def arm(self) -> AwsRequestHold:
        self.hang = self.aws.hangs.hang(self.where, after_commit=False, count=None)
        return self

    def reached(self, timeout_s: float) -> bool:
        assert self.hang is not None
        return self.hang.arrived.wait(timeout_s)

    def release(self) -> None:
        assert self.hang is not None
        self.aws.hangs.release(self.hang)


def _held(sim: SimThread, timeout_s: float) -> bool:
    """Whether a sim request is being held within `timeout_s` (the sim's own counter, awaited
    on its loop: no polling)."""

    async def one_held(server: SimServer) -> None:
        await asyncio.wait_for(server.faults.wait_held(1), timeout_s)

    loop = sim.call(lambda _server: asyncio.get_running_loop())
    future = asyncio.run_coroutine_threadsafe(one_held(sim.server), loop)
    try:
        future.result(timeout_s + 1)
    except TimeoutError:
        return False
    return True


# --- after the crash -------------------------------------------------------------------------


def plan_record(stack: AwsStack) -> dict[str, Any]:
    """The plan's idempotency record (the table also holds in-flight markers and claims)."""
    [item] = [
        item
        for item in idempotency_records(stack)
        if item["id"]["S"].startswith(IDEMPOTENCY_KEY_PREFIX)
    ]
    return {"status": item["status"]["S"], "item": item}


def holdings(sim: SimThread) -> dict[str, Decimal]:
    return {symbol: Decimal(qty) for symbol, qty in sim.positions().items()}
