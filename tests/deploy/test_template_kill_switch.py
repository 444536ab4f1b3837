"""The kill switch is an SSM parameter the stack creates, the function is given its name (not
its value), and the KillSwitch template parameter is only its initial value."""

from typing import Any

import pytest
from cfn_template import Template

from plan_executor.adapters.kill_switch import parse_switch
from plan_executor.local.aws_stack import kill_switch_parameter_name
from plan_executor.ops.switch_cli import PARAMETER_OUTPUT


def _parameter(resources: dict[str, Any]) -> dict[str, Any]:
    resource = resources["KillSwitchParameter"]
    assert resource["Type"] == "AWS::SSM::Parameter"
    properties: dict[str, Any] = resource["Properties"]
    return properties


def test_the_function_gets_the_parameter_name_and_a_cache_of_at_most_30_s(
    environment: dict[str, Any],
) -> None:
    assert environment["KILL_SWITCH_PARAMETER"] == {"Ref": "KillSwitchParameter"}
    assert int(environment["KILL_SWITCH_CACHE_SECONDS"]) <= 30
    assert "KILL_SWITCH" not in environment


@pytest.mark.parametrize(("switch", "halted"), [("true", True), ("false", False)])
def test_the_template_parameter_is_the_initial_value(
    template: Template, resources: dict[str, Any], switch: str, halted: bool
) -> None:
    assert template["Conditions"]["KillSwitchOn"] == {"Fn::Equals": [{"Ref": "KillSwitch"}, "true"]}
    condition, when_on, when_off = _parameter(resources)["Value"]["Fn::If"]
    assert condition == "KillSwitchOn"
    assert parse_switch(when_on if switch == "true" else when_off).halted is halted


def test_the_name_is_the_stack_s_as_the_local_stack_makes_it(resources: dict[str, Any]) -> None:
    assert _parameter(resources)["Name"] == {"Fn::Sub": "/${AWS::StackName}/kill-switch"}
    assert kill_switch_parameter_name("plan-executor-local") == "/plan-executor-local/kill-switch"


def test_the_halt_command_finds_the_parameter_in_the_outputs(template: Template) -> None:
    assert template["Outputs"][PARAMETER_OUTPUT]["Value"] == {"Ref": "KillSwitchParameter"}
