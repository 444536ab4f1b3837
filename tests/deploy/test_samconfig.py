"""samconfig.toml profiles and the `sam local invoke` environment file fit the template."""

import json
import shlex
import tomllib
from typing import Any

import pytest
from cfn_template import LOCAL_ENV_PATH, ROOT, SAMCONFIG_PATH, Template


@pytest.fixture(scope="module")
def samconfig() -> dict[str, Any]:
    return tomllib.loads(SAMCONFIG_PATH.read_text(encoding="utf-8"))


def _deploy(samconfig: dict[str, Any], environment: str) -> dict[str, Any]:
    deploy: dict[str, Any] = samconfig[environment]["deploy"]["parameters"]
    return deploy


def _overrides(parameters: dict[str, Any]) -> dict[str, str]:
    pairs = (item.split("=", 1) for item in shlex.split(parameters["parameter_overrides"]))
    return dict(pairs)


def test_version_and_profiles(samconfig: dict[str, Any]) -> None:
    assert samconfig["version"] == 0.1
    assert {"default", "dev", "prod"} <= set(samconfig)
    assert _deploy(samconfig, "dev")["stack_name"] != _deploy(samconfig, "prod")["stack_name"]


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_deploy_profile_is_complete(samconfig: dict[str, Any], environment: str) -> None:
    deploy = _deploy(samconfig, environment)
    assert deploy["resolve_s3"] is True
    assert deploy["capabilities"] == "CAPABILITY_IAM"
    assert deploy["region"]
    assert _overrides(deploy)["Stage"] == environment


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_overrides_name_real_parameters_with_allowed_values(
    samconfig: dict[str, Any], template: Template, environment: str
) -> None:
    parameters = template["Parameters"]
    for name, value in _overrides(_deploy(samconfig, environment)).items():
        assert name in parameters, f"{environment}: {name} is not a template parameter"
        allowed = parameters[name].get("AllowedValues")
        if allowed is not None:
            assert value in [str(option) for option in allowed], f"{environment}: {name}={value}"


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_every_profile_deploys_paper_without_live_permission(
    samconfig: dict[str, Any], environment: str
) -> None:
    overrides = _overrides(_deploy(samconfig, environment))
    assert overrides["TradingMode"] == "paper"
    assert overrides["AllowLive"] == "false"


def test_prod_changes_are_confirmed_by_a_human(samconfig: dict[str, Any]) -> None:
    assert _deploy(samconfig, "prod")["confirm_changeset"] is True


def test_local_invoke_uses_the_local_environment_file(samconfig: dict[str, Any]) -> None:
    local = samconfig["default"]["local_invoke"]["parameters"]
    assert ROOT / local["env_vars"] == LOCAL_ENV_PATH


def test_local_environment_sets_exactly_the_declared_variables(
    environment: dict[str, Any],
) -> None:
    # SAM passes only declared variables, and a declared one left out here would arrive empty.
    local = json.loads(LOCAL_ENV_PATH.read_text(encoding="utf-8"))
    assert set(local) == {"ExecutorFunction", "SweeperFunction"}
    assert set(local["ExecutorFunction"]) == set(environment)
    assert local["SweeperFunction"] == local["ExecutorFunction"], "one environment, two entries"
    assert all(isinstance(value, str) for value in local["ExecutorFunction"].values())


def test_local_environment_points_at_this_machine_in_simulated_mode() -> None:
    local = json.loads(LOCAL_ENV_PATH.read_text(encoding="utf-8"))["ExecutorFunction"]
    urls = {name: value for name, value in local.items() if name.endswith("_URL")}
    assert urls
    assert all("://host.docker.internal:" in value for value in urls.values()), urls
    assert local["TRADING_MODE"] == "simulated", "orders go to alpaca_sim, and results say so"
    assert local["ALLOW_LIVE_TRADING"] == "false"


def test_local_environment_configures_a_service_that_starts() -> None:
    from plan_executor.settings import load_settings  # noqa: PLC0415

    local = json.loads(LOCAL_ENV_PATH.read_text(encoding="utf-8"))["ExecutorFunction"]
    settings = load_settings(local)
    assert settings.alpaca_stream_url == local["ALPACA_STREAM_URL"]
