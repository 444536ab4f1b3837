"""The sweep that cleans up after a dead execution, as template.yaml deploys it: a schedule on
the function's alias with the sweeper's own event, and timing values that keep the recovery
bound (docs/design.md 5.1) under 15 minutes for every value the parameters allow."""

import json
from typing import Any

from tests.support.deployed_timing import deployed_timing

from plan_executor.invocation import RECOVERY_WORK_S
from plan_executor.sweeper import MIN_RECOVERY_BUDGET_S, SWEEP_EVENT


def test_the_schedule_sends_the_sweep_event_to_the_live_alias(resources: dict[str, Any]) -> None:
    rule = resources["SweepSchedule"]["Properties"]
    [target] = rule["Targets"]
    assert rule["State"] == "ENABLED"
    assert target["Arn"] == {"Fn::GetAtt": ["SweeperFunction", "Arn"]}
    assert json.loads(target["Input"]) == SWEEP_EVENT
    permission = resources["SweepPermission"]["Properties"]
    assert permission["FunctionName"] == {"Ref": "SweeperFunction"}
    assert permission["SourceArn"] == {"Fn::GetAtt": ["SweepSchedule", "Arn"]}


def test_the_bound_holds_for_every_plan_age_the_parameter_allows(template: dict[str, Any]) -> None:
    """The sweep waits for the larger of the lock (Timeout) and the plan age."""
    timing = deployed_timing()
    age = template["Parameters"]["MaxPlanAgeSeconds"]
    assert age["MaxValue"] <= timing.timeout_s
    assert timing.recovery_bound_s <= 15 * 60
    assert timing.max_event_age_s == timing.max_plan_age_s


def test_the_sweeper_runs_the_executors_code_role_and_environment(
    resources: dict[str, Any],
) -> None:
    executor = resources["ExecutorFunction"]["Properties"]
    sweeper = resources["SweeperFunction"]["Properties"]
    for same in ("CodeUri", "Runtime", "Architectures", "Role", "Environment"):
        assert sweeper[same] == executor[same], same
    assert sweeper["Handler"] == "plan_executor.handler.sweep_handler"
    assert sweeper["ReservedConcurrentExecutions"] == 1


def test_a_cleanup_fits_in_one_sweep_invocation() -> None:
    timing = deployed_timing()
    one_cleanup = RECOVERY_WORK_S + timing.cleanup_budget_s + timing.deadline_margin_s
    assert one_cleanup + MIN_RECOVERY_BUDGET_S <= timing.sweeper_timeout_s
