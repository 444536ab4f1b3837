"""Read template.yaml as data: a YAML loader for CloudFormation's short-form tags, and walkers.

`!Ref X` becomes {"Ref": "X"}, `!GetAtt A.B` {"Fn::GetAtt": ["A", "B"]}, `!Condition C`
{"Condition": "C"}, and every other `!Name` {"Fn::Name": value}: the long form CloudFormation
itself uses, so tests compare one representation whichever form the template was written in.
"""

import importlib.util
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "template.yaml"
SAMCONFIG_PATH = ROOT / "samconfig.toml"
LOCAL_ENV_PATH = ROOT / "env" / "sam-local-env.json"
BUILD_SCRIPT_PATH = ROOT / "scripts" / "build_artifact.py"

PSEUDO_PARAMETERS = frozenset(
    {
        "AWS::AccountId",
        "AWS::NotificationARNs",
        "AWS::NoValue",
        "AWS::Partition",
        "AWS::Region",
        "AWS::StackId",
        "AWS::StackName",
        "AWS::URLSuffix",
    }
)
# `${Name}` or `${Resource.Attribute}` in Fn::Sub; `${!Literal}` is an escaped literal.
SUB_VARIABLE = re.compile(r"\$\{(?!!)([^}]+)\}")

Template = dict[str, Any]


class CloudFormationLoader(yaml.SafeLoader):
    """SafeLoader that also understands CloudFormation's `!Tag` short forms."""


def _construct_intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:  # pragma: no cover - yaml has no other node kinds
        raise yaml.constructor.ConstructorError(None, None, f"unexpected node {node!r}")
    if suffix in {"Ref", "Condition"}:
        return {suffix: value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


CloudFormationLoader.add_multi_constructor("!", _construct_intrinsic)


def load_template(path: Path = TEMPLATE_PATH) -> Template:
    loaded = yaml.load(path.read_text(encoding="utf-8"), Loader=CloudFormationLoader)
    assert isinstance(loaded, dict), f"{path} is not a mapping"
    return loaded


def intrinsics(node: Any, name: str) -> Iterator[Any]:
    """Every argument of the intrinsic `name` ("Ref", "Fn::Sub", ...) anywhere under node."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == name:
                yield value
            yield from intrinsics(value, name)
    elif isinstance(node, list):
        for item in node:
            yield from intrinsics(item, name)


def sub_variables(argument: Any) -> set[str]:
    """The names `${...}` refers to in one Fn::Sub, minus those its own variable map defines."""
    if isinstance(argument, str):
        return set(SUB_VARIABLE.findall(argument))
    text, local_variables = argument
    return set(SUB_VARIABLE.findall(text)) - set(local_variables)


def render_sub(text: str, values: dict[str, str]) -> str:
    """Fn::Sub with stand-in values; a name without a value raises KeyError."""
    return SUB_VARIABLE.sub(lambda match: values[match.group(1)], text).replace("${!", "${")


def resources_of_type(template: Template, resource_type: str) -> dict[str, dict[str, Any]]:
    return {
        name: resource
        for name, resource in template["Resources"].items()
        if resource["Type"] == resource_type
    }


def load_build_script() -> ModuleType:
    """scripts/build_artifact.py as a module (it is not a package), without running it."""
    spec = importlib.util.spec_from_file_location("build_artifact", BUILD_SCRIPT_PATH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module through sys.modules
    spec.loader.exec_module(module)
    return module


def resolve_with_defaults(value: Any, template: Template) -> Any:
    """What CloudFormation would make of `value` with every parameter at its default.

    Resources become `<LogicalId>` stand-ins (their names are only known once deployed).
    Enough of the intrinsic language for environment values and conditions.
    """
    if not isinstance(value, dict):
        return value
    ((name, argument),) = value.items()
    if name == "Ref":
        parameter = template.get("Parameters", {}).get(argument)
        return str(parameter["Default"]) if parameter is not None else f"<{argument}>"
    if name == "Fn::Sub":
        text = argument if isinstance(argument, str) else argument[0]
        stand_ins = {v: resolve_with_defaults({"Ref": v}, template) for v in sub_variables(text)}
        return render_sub(text, stand_ins)
    if name == "Fn::If":
        condition, when_true, when_false = argument
        chosen = when_true if _condition_holds(condition, template) else when_false
        return resolve_with_defaults(chosen, template)
    raise NotImplementedError(f"cannot resolve {name}")


def _condition_holds(name: str, template: Template) -> bool:
    return _evaluate(template["Conditions"][name], template)


def _evaluate(expression: Any, template: Template) -> bool:
    ((function, arguments),) = expression.items()
    if function == "Condition":
        return _condition_holds(arguments, template)
    if function == "Fn::Equals":
        left, right = (resolve_with_defaults(a, template) for a in arguments)
        return bool(left == right)
    results = [_evaluate(argument, template) for argument in arguments]
    if function == "Fn::Not":
        return not results[0]
    if function == "Fn::And":
        return all(results)
    if function == "Fn::Or":
        return any(results)
    raise NotImplementedError(f"cannot evaluate {function}")
