"""`plan-executor`: check saved events, write the JSON Schemas, replay an event locally.

    plan-executor check events/*.json [--now ISO] [--max-plan-age SECONDS] [--strict]
    plan-executor schemas --out schemas
    plan-executor replay EVENT.json [--broker sim|alpaca] [--times N] [--as-is] ...
    plan-executor local-stack [--host H] [--moto-port P] [--sim-port P]

The operator commands (`report`, `history`, `dlq`, `redrive-ledger`, `send`)
live in plan_executor.ops, one `*_cli.py` module each, registered in `COMMAND_MODULES`.

`check` judges staleness as if each event were delivered when EventBridge published it (its
envelope `time`) unless `--now` says otherwise. Exit status: 0, or 1 with `--strict` when any
event is rejected, or 2 when a file cannot be read. `replay` and `local-stack` live in
plan_executor.local (see replay_cli.py for their options and exit statuses).
"""

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from plan_executor import cli_format
from plan_executor.domain.events import (
    decode_event_object,
    parse_rebalance_event,
    plan_age_violation,
)
from plan_executor.domain.schemas import render_schemas
from plan_executor.domain.validation import PlanValidationError
from plan_executor.local import replay_cli
from plan_executor.ops import (  # issue 14: operations
    dlq_cli,
    history_cli,
    report_cli,
    send_cli,
    switch_cli,  # issue 14: kill switch
)


class CommandModule(Protocol):
    """A module adding subcommands (mypy checks modules against this protocol)."""

    @property
    def COMMANDS(self) -> tuple[str, ...]: ...  # noqa: N802 (a module constant)

    def add_parsers(
        self, commands: "argparse._SubParsersAction[argparse.ArgumentParser]"
    ) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


COMMAND_MODULES: tuple[CommandModule, ...] = (
    replay_cli,
    history_cli,
    report_cli,
    dlq_cli,
    send_cli,
    switch_cli,
)
"""Modules that add subcommands: each has `COMMANDS`, `add_parsers(commands)` and `run(args)`,
and imports what its commands need only when one runs (the dev-only tools stay optional)."""

DEFAULT_MAX_PLAN_AGE_SECONDS = 300.0
EXIT_OK, EXIT_REJECTED, EXIT_UNREADABLE = 0, 1, 2


@dataclass
class _Tally:
    ok: int = 0
    rejected: int = 0
    unreadable: int = 0
    lines: list[str] = field(default_factory=list)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `plan-executor` console script."""
    args = _parser().parse_args(argv)
    for module in COMMAND_MODULES:
        if args.command in module.COMMANDS:
            return module.run(args)
    if args.command == "schemas":
        return _write_schemas(Path(args.out))
    return _check(args.events, now=args.now, max_age=args.max_plan_age, strict=args.strict)


def _check(paths: Sequence[str], *, now: datetime | None, max_age: timedelta, strict: bool) -> int:
    tally = _Tally()
    for path in paths:
        _check_one(path, now, max_age, tally)
        tally.lines.append("")
    tally.lines.append(cli_format.summary_line(tally.ok, tally.rejected, tally.unreadable))
    print("\n".join(tally.lines))
    if tally.unreadable:
        return EXIT_UNREADABLE
    return EXIT_REJECTED if strict and tally.rejected else EXIT_OK


def _check_one(path: str, now: datetime | None, max_age: timedelta, tally: _Tally) -> None:
    try:
        text = Path(path).read_bytes()
    except OSError as error:
        tally.unreadable += 1
        tally.lines.extend(cli_format.unreadable_lines(path, error.strerror or str(error)))
        return
    try:
        event = parse_rebalance_event(decode_event_object(text))
    except PlanValidationError as error:
        tally.rejected += 1
        tally.lines.extend(cli_format.rejected_lines(path, error.violations, error.total))
        return
    delivered = now or event.time
    stale = plan_age_violation(event.detail.rebalance_plan, delivered, max_age)
    if stale is not None:
        tally.rejected += 1
        tally.lines.extend(cli_format.rejected_lines(path, [stale], 1))
        return
    tally.ok += 1
    tally.lines.extend(cli_format.accepted_lines(path, event, delivered))


def _write_schemas(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    for name, text in render_schemas().items():
        (out / name).write_text(text, encoding="utf-8")
        print(f"wrote {out / name}")
    return EXIT_OK


def _aware_datetime(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 timestamp: {text!r}") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError("--now needs a UTC offset, e.g. 2025-06-02T14:30:00Z")
    return moment


def _positive_seconds(text: str) -> timedelta:
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < seconds < float("inf"):
        raise argparse.ArgumentTypeError("--max-plan-age must be a positive number of seconds")
    return timedelta(seconds=seconds)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="plan-executor",
        description="Check saved events; write JSON Schemas; replay an event locally.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="validate saved events and show their plans")
    check.add_argument("events", nargs="+", metavar="EVENT.json")
    check.add_argument(
        "--now", type=_aware_datetime, default=None, help="judge staleness at this instant"
    )
    check.add_argument(
        "--max-plan-age",
        type=_positive_seconds,
        default=timedelta(seconds=DEFAULT_MAX_PLAN_AGE_SECONDS),
        metavar="SECONDS",
        help=f"plans older than this are stale (default {DEFAULT_MAX_PLAN_AGE_SECONDS:.0f})",
    )
    check.add_argument("--strict", action="store_true", help="exit 1 if any event is rejected")
    schemas = commands.add_parser("schemas", help="write the JSON Schema files")
    schemas.add_argument("--out", default="schemas", metavar="DIR")
    for module in COMMAND_MODULES:
        module.add_parsers(commands)
    return parser


if __name__ == "__main__":
    sys.exit(main())
