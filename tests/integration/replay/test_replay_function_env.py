"""The function's local environment is the deployed one (template.yaml's variables and their
defaults), pointed at the local stack; nothing else of this shell leaks into it."""

from __future__ import annotations

from typing import Any

import yaml
from replay_support import ROOT

from plan_executor.local.function_env import (
    TEMPLATE_DEFAULTS,
    BrokerTarget,
    WalkDurations,
    function_env,
    process_basics,
)
from plan_executor.settings import ENVIRONMENT_VARIABLES, load_settings

STACK_ENV = {
    "AWS_ENDPOINT_URL": "http://127.0.0.1:1",
    "AWS_REGION": "us-east-1",
    "IDEMPOTENCY_TABLE": "t",
    "LEDGER_BUCKET": "bucket",
    "FAILURE_QUEUE_URL": "http://127.0.0.1:1/123456789012/dlq",
    "EVENT_BUS_NAME": "bus",
    "RESULT_SOURCE": "plan-executor",
    "CREDENTIALS_SOURCE": "secretsmanager",
    "ALPACA_SECRET_ID": "s/alpaca",
    "KILL_SWITCH_PARAMETER": "/s/kill-switch",
}
SIM = BrokerTarget("simulated", "http://127.0.0.1:2", "http://127.0.0.1:2", "ws://127.0.0.1:2/s")


class _CfnLoader(yaml.SafeLoader):
    """`!Ref X` -> {"Ref": "X"}, and so on for every short-form tag."""


def _short_form(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        return {suffix: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {suffix: loader.construct_sequence(node)}
    assert isinstance(node, yaml.MappingNode)
    return {suffix: loader.construct_mapping(node)}


_CfnLoader.add_multi_constructor("!", _short_form)


def _template() -> dict[str, Any]:
    text = (ROOT / "template.yaml").read_text()
    loaded: dict[str, Any] = yaml.load(text, Loader=_CfnLoader)
    return loaded


def _function_variables(template: dict[str, Any]) -> dict[str, Any]:
    function = template["Resources"]["ExecutorFunction"]["Properties"]
    variables: dict[str, Any] = function["Environment"]["Variables"]
    return variables


def test_the_defaults_are_the_templates() -> None:
    template = _template()
    variables = _function_variables(template)
    for name, value in TEMPLATE_DEFAULTS.items():
        declared = variables[name]
        if isinstance(declared, dict) and "Ref" in declared:
            declared = template["Parameters"][declared["Ref"]]["Default"]
        assert str(declared) == value, name


def test_every_variable_the_template_declares_is_set_and_the_settings_load() -> None:
    env = function_env(STACK_ENV, SIM, WalkDurations(), base={"PATH": "/bin"})
    assert set(_function_variables(_template())) <= set(env)
    settings = load_settings(env)
    assert settings.trading_mode.value == "simulated"
    assert settings.step_wait_seconds == 0.5
    assert settings.alpaca_trading_url == SIM.trading_url


def test_nothing_else_of_the_shell_gets_in() -> None:
    shell = {"PATH": "/bin", "HOME": "/h", "ALPACA_KEY_ID": "PK1", "AWS_PROFILE": "me"}
    env = function_env(STACK_ENV, SIM, WalkDurations(), base=process_basics(shell))
    assert "ALPACA_KEY_ID" not in env
    assert "AWS_PROFILE" not in env
    service_names = set(ENVIRONMENT_VARIABLES)
    others = {name for name in env if name not in service_names}
    assert all(
        name.startswith(("POWERTOOLS_", "AWS_")) or name in {"PATH", "HOME", "PYTHONUNBUFFERED"}
        for name in others
    ), others
