"""A TIMED_OUT invocation whose deadline comes when the plan's order is working at the broker,
not when a loaded machine happens to get there.

The handler runs a plan with `asyncio.run`; under `steppable_event_loops` that loop's clock is
one the test moves, and the Lambda context counts its remaining time on the same clock. The
engine's deadline is the remaining time less the margin and the cleanup budget, taken before
the plan starts. Once the service reports a working order, the clock is moved to where the
context has exactly margin + cleanup left: the deadline comes (after the few milliseconds the
invocation spent between taking its budget and starting the plan), and what follows (cleanup,
ledger, result event) runs in real time against what is left, as in Lambda.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import pytest
from service_support import LambdaContextStub, invoke
from tests.support.run_deadline import WORKING
from tests.support.steppable_loop import SteppableClock, steppable_event_loops

from plan_executor.engine.progress import ProgressEvent

LAMBDA_REMAINING_S = 60.0
"""The Lambda's remaining time at the start: the plan's budget is this less margin and cleanup."""
STEP_WAIT_SECONDS = "600"
"""The first limit would rest far past the budget: only the deadline ends it."""


@dataclass
class SteppableContext(LambdaContextStub):
    """The Lambda context on the test's clock (it starts where the monotonic clock is)."""

    clock: SteppableClock = field(default_factory=SteppableClock)

    def get_remaining_time_in_millis(self) -> int:
        left = self.remaining_s - (self.clock.now() - self._started)
        return max(int(left * 1000), 0)


@dataclass
class DeadlineWhenWorking:
    """The service's progress callback, wrapped: the first working order brings the deadline."""

    context: SteppableContext
    left_at_deadline_s: float
    came: bool = False

    def wrap(self, report: Any) -> Any:
        def progress(event: ProgressEvent) -> None:
            report(event)
            if not self.came and event.order is not None and event.order.status in WORKING:
                self.came = True
                left_s = self.context.get_remaining_time_in_millis() / 1000
                clock = self.context.clock
                clock.advance_to(clock.now() + left_s - self.left_at_deadline_s)

        return progress


def invoke_until_timed_out(
    handler: ModuleType,
    event: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    *,
    margin_s: float,
    cleanup_s: float,
) -> tuple[dict[str, Any], SteppableContext]:
    """Invoke `handler` (cold: its progress callback is taken at the cold start) so that its
    deadline comes once an order of the plan is working; returns the result and the context."""
    monkeypatch.setenv("DEADLINE_MARGIN_SECONDS", str(margin_s))
    monkeypatch.setenv("STEP_WAIT_SECONDS", STEP_WAIT_SECONDS)
    context = SteppableContext(remaining_s=LAMBDA_REMAINING_S)
    deadline = DeadlineWhenWorking(context, left_at_deadline_s=margin_s + cleanup_s)
    monkeypatch.setattr(handler, "log_progress", deadline.wrap(handler.log_progress))
    with steppable_event_loops(context.clock):
        result = invoke(handler, event, context)
    assert deadline.came, f"no order of the plan was working: {result.get('status')}"
    return result, context
