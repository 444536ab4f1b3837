from types import ModuleType
from typing import Any

import pytest
from cfn_template import Template, load_build_script, load_template


@pytest.fixture(scope="session")
def template() -> Template:
    return load_template()


@pytest.fixture(scope="session")
def resources(template: Template) -> dict[str, dict[str, Any]]:
    return template["Resources"]


@pytest.fixture(scope="session")
def function(resources: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Properties of the executor function."""
    resource = resources["ExecutorFunction"]
    assert resource["Type"] == "AWS::Serverless::Function"
    return resource["Properties"]


@pytest.fixture(scope="session")
def environment(function: dict[str, Any]) -> dict[str, Any]:
    return function["Environment"]["Variables"]


@pytest.fixture(scope="session")
def build_script() -> ModuleType:
    return load_build_script()
