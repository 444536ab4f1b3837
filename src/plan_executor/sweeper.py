"""The sweeper: every in-flight marker whose plan no delivery can run any more is cleaned up.

An execution killed before it reported (SIGKILL, out of memory, Lambda's timeout) leaves its
plan's idempotency record in progress until the function's timeout has passed since it started,
and its marker for good. Lambda's retries of it land inside that lock and are refused, and its
last delivery is at most `MaxPlanAgeSeconds` old, so nothing but this sweep would ever cancel
its orders or report it. A schedule invokes the function with `SWEEP_EVENT` every
`SweepMinutes`; the sweep takes each marker whose plan is older than the plan age (so the rails
would refuse it: only cleanup is left) to `PlanRunner.recover`, which goes through the plan's
idempotency record: a live execution (a lock not expired) is left alone, a stored result only
loses its marker, anything else is cleaned up and reported once. Bound: see docs/design.md 5.1.
"""

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Final

from aws_lambda_powertools.utilities.typing import LambdaContext

from plan_executor.adapters.inflight_markers import InflightMarker
from plan_executor.bootstrap import Runtime
from plan_executor.domain.results import ExecutionResult
from plan_executor.invocation import PlanRunner, Recovery, working_seconds

logger = logging.getLogger(__name__)

SWEEP_KEY: Final = "plan-executor"
SWEEP_EVENT: Final = {SWEEP_KEY: "sweep"}
"""The schedule's constant input (template.yaml, the function's `Sweep` event)."""
MIN_RECOVERY_BUDGET_S: Final = 5.0
"""A cleanup is started only with this much working time left besides the deadline margin and
the cleanup budget (a listing, cancels and their confirmations); a marker left over waits for
the next sweep."""


@dataclass(slots=True)
class SweepReport:
    """What one sweep did, by plan id."""

    recovered: list[str] = field(default_factory=list)
    already_reported: list[str] = field(default_factory=list)
    in_progress: list[str] = field(default_factory=list)
    not_yet: list[str] = field(default_factory=list)
    """Plans still young enough to be delivered (and run) again: not the sweep's to clean."""
    failed: list[str] = field(default_factory=list)
    """Cleanups that raised: the marker stays, the next sweep tries again."""
    results: list[ExecutionResult] = field(default_factory=list)
    """The results the cleanups published (for the plan metrics, as any plan's)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "sweep": {
                "recovered": self.recovered,
                "already_reported": self.already_reported,
                "in_progress": self.in_progress,
                "not_yet": self.not_yet,
                "failed": self.failed,
            }
        }


def is_sweep(event: object) -> bool:
    return isinstance(event, Mapping) and dict(event) == SWEEP_EVENT


def sweep(runtime: Runtime, runner: PlanRunner, context: LambdaContext) -> SweepReport:
    report = SweepReport()
    max_age = timedelta(seconds=runtime.settings.max_plan_age_seconds)
    for marker in runtime.inflight.all():
        if _ours_now(marker, runtime, max_age, context):
            _recover(runner, marker, context, report)
        else:
            report.not_yet.append(marker.plan_id)
    if report.recovered or report.failed or report.in_progress:
        logger.warning("sweep of in-flight plans", extra=report.as_dict())
    return report


def _ours_now(
    marker: InflightMarker, runtime: Runtime, max_age: timedelta, context: LambdaContext
) -> bool:
    """No delivery can run this plan any more (it is older than the plan age the rails allow,
    and than Lambda's maximum event age, which the template sets to the same value), and this
    invocation has time left for a cleanup."""
    beyond_delivery = runtime.clock.now() - marker.plan_timestamp > max_age
    time_left = working_seconds(runtime, context) >= MIN_RECOVERY_BUDGET_S
    return beyond_delivery and time_left


def _recover(
    runner: PlanRunner, marker: InflightMarker, context: LambdaContext, report: SweepReport
) -> None:
    try:
        outcome, result = runner.recover(marker, context)
    except Exception:
        logger.exception("cleanup of plan %s failed; the next sweep tries again", marker.plan_id)
        report.failed.append(marker.plan_id)
        return
    {
        Recovery.RECOVERED: report.recovered,
        Recovery.ALREADY_REPORTED: report.already_reported,
        Recovery.IN_PROGRESS: report.in_progress,
    }[outcome].append(marker.plan_id)
    if result is not None:
        report.results.append(result)
