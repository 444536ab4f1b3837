"""The `replay` and `local-stack` subcommands of `plan-executor` (cli.py stays thin).

The commands' modules are imported when a command runs, not with the CLI: they need moto and
the simulator, which only the dev install has, and `check`/`schemas` must work without them.
"""

import argparse
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Final

from plan_executor.domain.enums import ExecutionStatus
from plan_executor.domain.plan import MAX_PLAN_ITEMS
from plan_executor.local.broker_choice import Broker
from plan_executor.local.errors import StackStartError
from plan_executor.local.function_env import WalkDurations

COMMANDS: Final = ("replay", "local-stack")
DEFAULT_TIMEOUT_S: Final = 600.0
"""template.yaml's Timeout, the deployed function's. The execution of a plan of MAX_PLAN_ITEMS
items (the most the contract accepts) took 400-416 s against alpaca_sim at 200 requests/min
(1,220-1,267 broker requests, two seeds, replay's walk): within the 550 s left after
DEADLINE_MARGIN_SECONDS and the cleanup budget."""


def add_parsers(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    _add_replay(commands)
    stack = commands.add_parser(
        "local-stack", help="run moto and alpaca_sim for `sam local invoke` until Ctrl-C"
    )
    stack.add_argument("--host", default="0.0.0.0")  # noqa: S104 (SAM's container)
    stack.add_argument("--moto-port", type=int, default=5000)
    stack.add_argument("--sim-port", type=int, default=8765)
    stack.add_argument("--seed", type=int, default=0)


def _add_replay(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    replay = commands.add_parser(
        "replay", help="run the real handler on a saved event against a local stack"
    )
    replay.add_argument("event", metavar="EVENT.json", type=Path)
    add = replay.add_argument
    add("--broker", choices=("sim", "alpaca"), default="sim", help="alpaca: Alpaca paper")
    add("--times", type=_positive_int, default=1, metavar="N", help="2+: duplicates after run 1")
    add("--as-is", action="store_true", help="keep the saved times (default: moved to now)")
    add(
        "--timeout",
        type=_positive_float,
        default=DEFAULT_TIMEOUT_S,
        metavar="S",
        help=f"function timeout (default {DEFAULT_TIMEOUT_S:g} s, the deployed function's: "
        f"enough for a {MAX_PLAN_ITEMS}-item plan, the most a plan may have, at 200 "
        "requests/min)",
    )
    add("--seed", type=int, default=0, help="the simulator's seed")
    add("--step-wait", type=_positive_float, default=0.5, metavar="S", help="STEP_WAIT_SECONDS")
    add("--market-wait", type=_positive_float, default=2.0, metavar="S", help="MARKET_WAIT_SECONDS")
    add("--allow-live", action="store_true", help="accept live Alpaca keys (real money)")
    add(
        "--venue",
        choices=("paper", "live"),
        default=None,
        help="EXECUTION_VENUE: live rehearses the walk (default: from the broker; the "
        "simulator and Alpaca paper are paper, one market order per item)",
    )
    add(
        "--expect",
        type=_statuses,
        default=frozenset(),
        metavar="STATUS[,STATUS]",
        help="exit 1 unless run 1 ends with one of these",
    )
    add("--raw-log", type=Path, default=None, metavar="FILE", help="the function's JSON output")
    add("--report", type=Path, default=None, metavar="FILE", help="run 1's HTML report")


def run(args: argparse.Namespace) -> int:
    with _terminate_as_interrupt():
        try:
            if args.command == "replay":
                return _replay(args)
            return _local_stack(args)
        except StackStartError as error:
            sys.stderr.write(f"{args.command}: {error}\n")
            return 1
        except KeyboardInterrupt:
            sys.stderr.write("interrupted: local stack stopped\n")
            return 130


def _replay(args: argparse.Namespace) -> int:
    from plan_executor.local.replay import ReplayOptions, replay  # noqa: PLC0415 (moto)

    options = ReplayOptions(
        event_path=args.event,
        broker=Broker(args.broker),
        times=args.times,
        as_is=args.as_is,
        timeout_s=args.timeout,
        seed=args.seed,
        walk=WalkDurations(step_wait_s=args.step_wait, market_wait_s=args.market_wait),
        allow_live=args.allow_live,
        venue=args.venue,
        expect=args.expect,
        raw_log=args.raw_log,
        report_html=args.report,
    )
    return replay(options, out=sys.stdout, environ=os.environ)


def _local_stack(args: argparse.Namespace) -> int:
    from plan_executor.local.stack_command import (  # noqa: PLC0415 (moto: dev only)
        StackCommandOptions,
        serve_stack,
    )

    options = StackCommandOptions(
        host=args.host, moto_port=args.moto_port, sim_port=args.sim_port, seed=args.seed
    )
    return serve_stack(options, out=sys.stdout, wait=lambda _: _forever())


def _forever() -> None:
    threading.Event().wait()


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM stops the stack like Ctrl-C does (the servers are stopped on the way out)."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError("must be a positive number")
    return value


def _statuses(text: str) -> frozenset[ExecutionStatus]:
    try:
        return frozenset(ExecutionStatus(part.strip().upper()) for part in text.split(","))
    except ValueError:
        names = ", ".join(status.value for status in ExecutionStatus)
        raise argparse.ArgumentTypeError(f"statuses are {names}") from None
