"""A deployed stack's outputs and parameters, for the commands that take `--stack NAME`."""

import os
from typing import Any

import boto3


def _stack(name: str) -> dict[str, Any]:
    cloudformation = boto3.client("cloudformation", region_name=os.environ.get("AWS_REGION"))
    stacks = cloudformation.describe_stacks(StackName=name)["Stacks"]
    if not stacks:
        raise LookupError(f"no stack {name}")
    stack: dict[str, Any] = stacks[0]
    return stack


def output(stack: str, key: str) -> str:
    for item in _stack(stack).get("Outputs", []):
        if item["OutputKey"] == key:
            return str(item["OutputValue"])
    raise LookupError(f"stack {stack} has no output {key}")


def parameters(stack: str) -> dict[str, str]:
    return {
        item["ParameterKey"]: str(item.get("ParameterValue", ""))
        for item in _stack(stack).get("Parameters", [])
    }


def resolve(
    given: str | None, stack: str | None, *, key: str, env: str, flag: str, what: str
) -> str:
    """The value `flag` gave, else the stack's output `key`, else the variable `env`; a
    LookupError naming all three when none is there."""
    if given:
        return given
    if stack:
        return output(stack, key)
    from_env = os.environ.get(env)
    if not from_env:
        raise LookupError(f"no {what}: give {flag} or --stack (or set {env})")
    return from_env
