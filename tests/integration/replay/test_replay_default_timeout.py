"""`replay`'s default timeout is the deployed function's (template.yaml's Timeout), which a plan
of the most items the contract accepts fits (measured in replay_cli.DEFAULT_TIMEOUT_S), and its
help says so."""

from __future__ import annotations

import argparse

from tests.deploy.cfn_template import load_template

from plan_executor.domain.plan import MAX_PLAN_ITEMS
from plan_executor.local import replay_cli


def _replay_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="plan-executor")
    commands = parser.add_subparsers(dest="command")
    replay_cli.add_parsers(commands)
    replay: argparse.ArgumentParser = commands.choices["replay"]
    return replay


def test_the_default_timeout_is_the_deployed_functions_and_the_help_says_what_it_fits() -> None:
    replay = _replay_parser()
    deployed = load_template()["Resources"]["ExecutorFunction"]["Properties"]["Timeout"]

    args = replay.parse_args(["event.json"])

    assert args.timeout == float(deployed)
    described = " ".join(replay.format_help().split())
    assert f"default {float(deployed):g} s, the deployed function's" in described
    assert f"a {MAX_PLAN_ITEMS}-item plan, the most a plan may have" in described
