"""The deployed timing values, read from template.yaml, and the same values compressed.

A recovery test runs with these values multiplied by one factor (every timeout, age, period
and retry delay alike), so what they imply together (a crashed plan's lock outlives its last
delivery, the sweep comes after the lock) holds as deployed while the test takes seconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tests.deploy.cfn_template import load_template

from plan_executor.invocation import RECOVERY_WORK_S

LAMBDA_ASYNC_RETRY_DELAYS_S = (60.0, 120.0)
"""Lambda's retries of a failed asynchronous invocation: "Lambda waits one minute before the
first retry; if that fails, two minutes before the second" (AWS Lambda Developer Guide,
"Asynchronous invocation", error handling)."""
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours)\)$")


@dataclass(frozen=True)
class DeployedTiming:
    timeout_s: float
    """The executor's Timeout: an invocation's in-progress lock lasts this long."""
    sweeper_timeout_s: float
    max_plan_age_s: float
    """MaxPlanAgeSeconds' default: the rails' plan age and Lambda's maximum event age."""
    max_event_age_s: float
    retry_attempts: int
    sweep_period_s: float
    deadline_margin_s: float
    cleanup_budget_s: float

    def compressed(self, factor: float) -> DeployedTiming:
        return DeployedTiming(
            timeout_s=self.timeout_s * factor,
            sweeper_timeout_s=self.sweeper_timeout_s * factor,
            max_plan_age_s=self.max_plan_age_s * factor,
            max_event_age_s=self.max_event_age_s * factor,
            retry_attempts=self.retry_attempts,
            sweep_period_s=self.sweep_period_s * factor,
            deadline_margin_s=self.deadline_margin_s * factor,
            cleanup_budget_s=self.cleanup_budget_s * factor,
        )

    def retry_delays_s(self, factor: float) -> tuple[float, ...]:
        """When Lambda retries a failed invocation, after its failure (compressed)."""
        return tuple(d * factor for d in LAMBDA_ASYNC_RETRY_DELAYS_S[: self.retry_attempts])

    @property
    def recovery_bound_s(self) -> float:
        """From a crash to every order of the plan cancelled, confirmed and reported: the lock
        and the plan's last delivery (at most the larger of the timeout and the plan age after
        the crash), the first sweep after them (one period), then the cleanup (its working
        budget, the cleanup budget and the margin for the ledger and the event)."""
        waiting = max(self.timeout_s, self.max_plan_age_s) + self.sweep_period_s
        return waiting + RECOVERY_WORK_S + self.cleanup_budget_s + self.deadline_margin_s


def deployed_timing() -> DeployedTiming:
    template = load_template()
    resources: dict[str, Any] = template["Resources"]
    function = resources["ExecutorFunction"]["Properties"]
    invoke = function["EventInvokeConfig"]
    env = function["Environment"]["Variables"]
    sweeper = resources["SweeperFunction"]["Properties"]
    return DeployedTiming(
        timeout_s=float(function["Timeout"]),
        sweeper_timeout_s=float(sweeper["Timeout"]),
        max_plan_age_s=float(_default(template, env["MAX_PLAN_AGE_SECONDS"])),
        max_event_age_s=float(_default(template, invoke["MaximumEventAgeInSeconds"])),
        retry_attempts=int(invoke["MaximumRetryAttempts"]),
        sweep_period_s=_rate_seconds(
            resources["SweepSchedule"]["Properties"]["ScheduleExpression"]
        ),
        deadline_margin_s=float(env["DEADLINE_MARGIN_SECONDS"]),
        cleanup_budget_s=float(env["CLEANUP_BUDGET_SECONDS"]),
    )


def _default(template: dict[str, Any], value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return template["Parameters"][value["Ref"]]["Default"]
    return value


def _rate_seconds(expression: str) -> float:
    match = _RATE.match(expression)
    if match is None:
        raise ValueError(f"not a rate expression: {expression}")
    amount, unit = int(match.group(1)), match.group(2)
    return float(amount * (3600 if unit.startswith("hour") else 60))
