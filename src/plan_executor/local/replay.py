"""`plan-executor replay EVENT.json`: the real handler against the local stack, end to end.

Starts moto (table, bucket, bus, rule -> results queue, DLQ, secret) and alpaca_sim on
loopback, invokes `handler.lambda_handler` in a fresh process per run with the deployed
function's environment, shows progress live, then each run's outcome, read back from the
stack: the result event from the queue, the ledger objects from the bucket, the orders the sim
saw. Runs after the first are duplicates: they must be served from the idempotency table.
"""

import json
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, TextIO

from plan_executor.domain.enums import ExecutionStatus
from plan_executor.domain.events import parse_rebalance_event
from plan_executor.domain.validation import PlanValidationError
from plan_executor.local.broker_choice import AlpacaKeys, Broker, BrokerRefused, alpaca_keys
from plan_executor.local.event_time import ShiftedEvent, make_current
from plan_executor.local.function_env import (
    MEMORY_MB,
    BrokerTarget,
    WalkDurations,
    function_env,
    process_basics,
)
from plan_executor.local.lambda_runner import invoke_function
from plan_executor.local.local_stack import LocalStack, StackOptions, local_stack
from plan_executor.local.progress_format import ProgressPrinter
from plan_executor.local.replay_cli import DEFAULT_TIMEOUT_S
from plan_executor.local.replay_format import event_time_line, section, stack_lines
from plan_executor.local.replay_report import ReportOutcome, write_run_report
from plan_executor.local.replay_run import RunReport, StackCounts, check_run

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
DEFAULT_RAW_LOG: Final = "plan-executor-replay.log"
DEFAULT_REPORT: Final = "plan-executor-report.html"


class EventFileError(Exception):
    """The event file cannot be read as a JSON object."""


@dataclass(frozen=True, slots=True)
class ReplayOptions:
    event_path: Path
    broker: Broker = Broker.SIM
    times: int = 1
    as_is: bool = False
    timeout_s: float = DEFAULT_TIMEOUT_S
    seed: int = 0
    walk: WalkDurations = field(default_factory=WalkDurations)
    allow_live: bool = False
    venue: str | None = None
    """EXECUTION_VENUE for the function (paper or live); None: from the broker's mode."""
    expect: frozenset[ExecutionStatus] = frozenset()
    """Statuses the first run may end with (empty: any); anything else fails the replay."""
    raw_log: Path | None = None
    report_html: Path | None = None
    """Where run 1's HTML report goes (default: DEFAULT_REPORT in the temp directory)."""


@dataclass(frozen=True, slots=True)
class PreparedReplay:
    """The event as it will be sent, and where its orders go."""

    event: dict[str, Any]
    shift: ShiftedEvent | None
    keys: AlpacaKeys | None
    """Alpaca keys for `--broker alpaca`; None for the simulator."""
    parses: bool
    """Whether the event passes the contract (then its plan id makes it idempotent)."""
    at: datetime

    def stack_options(self, seed: int) -> StackOptions:
        secret = None if self.keys is None else self.keys.as_secret()
        return StackOptions(seed=seed, use_sim=self.keys is None, broker_secret=secret)


def replay(
    options: ReplayOptions,
    *,
    out: TextIO,
    environ: Mapping[str, str],
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> int:
    """Exit status: 0 the replay did what it should, 1 it did not, 2 it could not start.
    The local stack is stopped on every path, exceptions and Ctrl-C included."""
    try:
        prepared = prepare(options, environ, clock())
    except (EventFileError, BrokerRefused) as error:
        out.write(f"replay refused: {error}\n")
        return EXIT_USAGE
    with local_stack(prepared.stack_options(options.seed), clock=clock) as stack:
        return replay_on(stack, prepared, options, out=out, environ=environ)


def prepare(options: ReplayOptions, environ: Mapping[str, str], now: datetime) -> PreparedReplay:
    """Read the event, move it to `now` (unless --as-is), check the broker keys."""
    raw = load_event(options.event_path)
    keys = None
    if options.broker is Broker.ALPACA:
        keys = alpaca_keys(environ, allow_live=options.allow_live)
    shift = None if options.as_is else make_current(raw, now)
    event = raw if shift is None else shift.event
    return PreparedReplay(event, shift, keys, parses=_parses(event), at=now)


def _parses(event: Mapping[str, Any]) -> bool:
    try:
        parse_rebalance_event(event)
    except PlanValidationError:
        return False
    return True


def replay_on(
    stack: LocalStack,
    prepared: PreparedReplay,
    options: ReplayOptions,
    *,
    out: TextIO,
    environ: Mapping[str, str],
) -> int:
    """The runs, on a stack that is already up (and that the caller stops)."""
    env = _env(stack, prepared.keys, options, environ)
    session = _Session(options, out, stack, env, event_parses=prepared.parses)
    session.header(prepared)
    session.run_all(prepared.event)
    return session.finish()


def load_event(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_bytes())
    except OSError as error:
        raise EventFileError(f"cannot read {path}: {error.strerror or error}") from None
    except ValueError as error:
        raise EventFileError(f"{path} is not JSON: {error}") from None
    if not isinstance(value, dict):
        raise EventFileError(f"{path} is not a JSON object (an EventBridge event)")
    return value


def _env(
    stack: LocalStack, keys: AlpacaKeys | None, options: ReplayOptions, environ: Mapping[str, str]
) -> dict[str, str]:
    sim = stack.sim_endpoints
    if sim is not None:
        target = BrokerTarget(
            "simulated", sim.trading_url, sim.data_url, sim.stream_url, venue=options.venue
        )
    else:
        live = keys is not None and keys.mode == "live"
        target = BrokerTarget("live" if live else "paper", allow_live=live, venue=options.venue)
    base = process_basics(environ)
    return function_env(stack.aws.service_env(), target, options.walk, base=base)


class _Session:
    def __init__(
        self,
        options: ReplayOptions,
        out: TextIO,
        stack: LocalStack,
        env: dict[str, str],
        *,
        event_parses: bool,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._event_parses = event_parses
        self._wall = wall
        self._options = options
        self._out = out
        self._stack = stack
        self._env = env
        self._reports: list[RunReport] = []
        self._raw: list[str] = []

    def header(self, prepared: PreparedReplay) -> None:
        aws, options, walk = self._stack.aws, self._options, self._options.walk
        mode, timeout = self._env["TRADING_MODE"], f"{options.timeout_s:g} s"
        step, market = f"{walk.step_wait_s:g} s", f"{walk.market_wait_s:g} s"
        rows = [
            ("event", event_time_line(prepared.shift)),
            ("AWS (moto)", f"{aws.endpoint_url}: table {aws.idempotency_table},"),
            ("", f"bucket {aws.ledger_bucket}, DLQ, secret {aws.secret_id} (never printed),"),
            ("", f"results: bus {aws.event_bus} -> rule {aws.results_rule} -> SQS queue"),
            ("broker", self._broker_text(prepared.keys)),
            ("function", f"handler.lambda_handler, {MEMORY_MB} MB, timeout {timeout},"),
            ("", f"TRADING_MODE={mode}, a fresh process (a cold start) per run,"),
            ("", f"walk {step} a step, market order after {market}"),
        ]
        runs = f"{options.times} run{'s' if options.times != 1 else ''}"
        self._write([f"plan-executor replay {options.event_path}, {runs}", *stack_lines(rows)])

    def _broker_text(self, keys: AlpacaKeys | None) -> str:
        sim = self._stack.sim_endpoints
        if sim is not None:
            seed = self._options.seed
            return f"alpaca_sim {sim.trading_url} (default scenario on real time, seed {seed})"
        assert keys is not None  # no simulator means Alpaca keys were given
        return f"Alpaca {keys.mode}, key {keys.masked_key_id}: REAL orders at Alpaca"

    def run_all(self, event: dict[str, Any]) -> None:
        for number in range(1, self._options.times + 1):
            self._write(section(f"run {number} of {self._options.times}"))
            self._run(number, event)

    def _run(self, number: int, event: dict[str, Any]) -> None:
        before = StackCounts.read(self._stack)
        invocation = invoke_function(
            event,
            self._env,
            timeout_s=self._options.timeout_s,
            region=self._stack.aws.region,
            on_line=ProgressPrinter(self._out, self._wall()),
        )
        self._raw += [f"# run {number} request {invocation.aws_request_id}", *invocation.raw_lines]
        first = self._reports[0] if self._reports else None
        report = check_run(
            number,
            invocation,
            self._stack,
            before=before,
            first=first,
            event_parses=self._event_parses,
        )
        self._reports.append(report)
        self._write(report.lines)

    def finish(self) -> int:
        log = self._options.raw_log or Path(tempfile.gettempdir()) / DEFAULT_RAW_LOG
        log.write_text("\n".join(self._raw) + "\n", encoding="utf-8")
        problems = [problem for report in self._reports for problem in report.problems]
        problems += self._expectation()
        report = self._write_report()
        problems += report.problems
        lines = section("verdict")
        lines.append(f"  raw function output (Powertools JSON logs, EMF metrics): {log}")
        lines += report.lines
        if problems:
            lines += ["  replay FAILED:", *(f"    - {problem}" for problem in problems)]
        else:
            lines.append("  replay OK: " + "; ".join(r.verdict for r in self._reports))
        self._write(lines)
        return EXIT_FAILED if problems else EXIT_OK

    def _write_report(self) -> ReportOutcome:
        path = self._options.report_html or Path(tempfile.gettempdir()) / DEFAULT_REPORT
        first = self._reports[0].result if self._reports else None
        return write_run_report(self._stack.aws, first, path)

    def _expectation(self) -> list[str]:
        expected = self._options.expect
        first = self._reports[0] if self._reports else None
        if not expected or first is None or first.status is None:
            return []
        if first.status in expected:
            return []
        wanted = ", ".join(sorted(status.value for status in expected))
        return [f"run 1 ended {first.status.value}; --expect asked for {wanted}"]

    def _write(self, lines: list[str]) -> None:
        self._out.write("\n".join(lines) + "\n")
        self._out.flush()
