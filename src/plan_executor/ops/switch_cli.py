"""`plan-executor halt`, `resume` and `switch`: the kill switch, flipped without a deploy.

    plan-executor halt   [--stack NAME | --parameter NAME] [--reason TEXT]
    plan-executor resume [--stack NAME | --parameter NAME] [--reason TEXT]
    plan-executor switch [--stack NAME | --parameter NAME]

The parameter is `--parameter`, else the `KillSwitchParameterName` output of `--stack`, else
`$KILL_SWITCH_PARAMETER`. `halt` and `resume` write the state with who (the caller's AWS
identity, else `$USER`), when and why, and print it; `switch` prints the current state. The
function reads the parameter at every invocation, cached for at most 30 s. Exit status: 0 done,
2 no parameter, or AWS refused the read or the write.
"""

import argparse
import os
import sys
from datetime import UTC, datetime
from typing import Any, Final

COMMANDS: Final = ("halt", "resume", "switch")
EXIT_OK, EXIT_UNUSABLE = 0, 2
PARAMETER_OUTPUT: Final = "KillSwitchParameterName"
MAX_REASON_CHARS: Final = 500
_HELP: Final = {
    "halt": "turn the kill switch on: every plan is refused before any order",
    "resume": "turn the kill switch off: plans run again",
    "switch": "show the kill switch's state (who set it, when, why)",
}


def add_parsers(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    for name in COMMANDS:
        parser = commands.add_parser(name, help=_HELP[name])
        where = parser.add_mutually_exclusive_group()
        where.add_argument("--parameter", metavar="NAME", help="the SSM parameter's name")
        where.add_argument("--stack", metavar="NAME", help="read the parameter from its outputs")
        if name != "switch":
            parser.add_argument("--reason", default="", metavar="TEXT", help="recorded with it")


def run(args: argparse.Namespace) -> int:
    import boto3  # noqa: PLC0415
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    try:
        name = _parameter_name(args)
        ssm = boto3.client("ssm", region_name=os.environ.get("AWS_REGION"))
        if args.command == "switch":
            return _show(ssm, name)
        return _flip(ssm, name, halt=args.command == "halt", reason=args.reason)
    except (BotoCoreError, ClientError, LookupError) as error:
        sys.stderr.write(f"plan-executor {args.command}: {error}\n")
        return EXIT_UNUSABLE


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")


def _parameter_name(args: argparse.Namespace) -> str:
    from plan_executor.ops import stack_outputs  # noqa: PLC0415

    return stack_outputs.resolve(
        args.parameter,
        args.stack,
        key=PARAMETER_OUTPUT,
        env="KILL_SWITCH_PARAMETER",
        flag="--parameter",
        what="parameter",
    )


def _show(ssm: Any, name: str) -> int:
    from plan_executor.adapters.kill_switch import parse_switch  # noqa: PLC0415

    state = parse_switch(ssm.get_parameter(Name=name)["Parameter"]["Value"])
    _say(f"{name}: {state.describe()}")
    _say("plans are refused" if state.halted else "plans run")
    return EXIT_OK


def _flip(ssm: Any, name: str, *, halt: bool, reason: str) -> int:
    from plan_executor.adapters.kill_switch import (  # noqa: PLC0415
        HALTED,
        MAX_CACHE_SECONDS,
        OFF,
        SwitchState,
    )

    state = SwitchState(
        HALTED if halt else OFF,
        by=_caller(),
        at=datetime.now(UTC).isoformat(timespec="seconds"),
        reason=reason[:MAX_REASON_CHARS],
    )
    ssm.put_parameter(Name=name, Value=state.to_value(), Overwrite=True)
    _say(f"{name}: {state.describe()}")
    effect = "refused" if halt else "run again"
    _say(f"plans are {effect} from the function's next read (cached {MAX_CACHE_SECONDS} s at most)")
    return EXIT_OK


def _caller() -> str:
    """The caller's AWS identity (who holds the credentials), else the local user."""
    import boto3  # noqa: PLC0415
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    try:
        arn = boto3.client("sts", region_name=os.environ.get("AWS_REGION")).get_caller_identity()
        return str(arn["Arn"])
    except (BotoCoreError, ClientError):
        return os.environ.get("USER") or "unknown"
