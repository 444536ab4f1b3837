"""Invoke the real `handler.lambda_handler` in its own process (a real cold start, exactly the
function's environment), showing its progress live and keeping its raw output.

A watchdog stops the process at the function timeout plus the init allowance, as Lambda would.
"""

import json
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from plan_executor.local.lambda_child import TAG

INIT_ALLOWANCE_S: Final = 30.0
"""Lambda gives a cold start's init (imports, here) its own 10 s; a slow laptop gets more."""

LineSink = Callable[[dict[str, Any]], None]
_SHOWN_LEVELS: Final = frozenset({"WARNING", "ERROR", "CRITICAL"})


@dataclass(frozen=True, slots=True)
class Invocation:
    aws_request_id: str
    response: dict[str, Any] | None
    error: str | None
    """Why there is no response: the handler raised, crashed, or was stopped at its timeout."""
    duration_s: float
    raw_lines: tuple[str, ...] = field(repr=False)
    """Everything the function printed (Powertools' JSON logs and EMF metrics, stderr)."""

    @property
    def metrics(self) -> dict[str, tuple[float, ...]]:
        """EMF metric values printed by this invocation, per metric name."""
        values: dict[str, tuple[float, ...]] = {}
        for blob in _json_objects(self.raw_lines):
            for directive in blob.get("_aws", {}).get("CloudWatchMetrics", []):
                for metric in directive.get("Metrics", []):
                    name = str(metric.get("Name"))
                    values[name] = values.get(name, ()) + _metric_values(blob.get(name))
        return values


def invoke_function(
    event: Mapping[str, Any],
    env: Mapping[str, str],
    *,
    timeout_s: float,
    region: str,
    on_line: LineSink,
    python: str = sys.executable,
) -> Invocation:
    """Run one invocation; `on_line` gets every tagged line (progress and warnings) live."""
    request_id = str(uuid.uuid4())
    request = {"event": event, "timeout_s": timeout_s, "region": region}
    request["aws_request_id"] = request_id
    started = time.monotonic()
    process = subprocess.Popen(  # noqa: S603 (our own module, with the running interpreter)
        [python, "-m", "plan_executor.local.lambda_child"],
        env=dict(env),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    watchdog = _Watchdog(process, timeout_s + INIT_ALLOWANCE_S)
    stderr_lines: list[str] = []
    drain = threading.Thread(target=_collect, args=(process.stderr, stderr_lines), daemon=True)
    try:
        drain.start()
        watchdog.start()
        assert process.stdin is not None
        assert process.stdout is not None
        process.stdin.write(json.dumps(request))
        process.stdin.close()
        outcome = _read_output(process.stdout, on_line)
        process.wait()
    finally:
        watchdog.cancel()
        _stop(process)
        drain.join(timeout=5)
    error = outcome.error
    if watchdog.fired:
        error = f"stopped at the function timeout ({timeout_s:.0f} s)"
    elif outcome.response is None and error is None:
        error = f"the function process exited with status {process.returncode}"
    return Invocation(
        aws_request_id=request_id,
        response=outcome.response,
        error=error,
        duration_s=time.monotonic() - started,
        raw_lines=(*outcome.raw, *stderr_lines),
    )


@dataclass(slots=True)
class _Output:
    raw: list[str] = field(default_factory=list)
    response: dict[str, Any] | None = None
    error: str | None = None


def _read_output(stdout: Any, on_line: LineSink) -> _Output:
    output = _Output()
    for text in stdout:
        line = _json_object(text)
        kind = line.get(TAG) if line is not None else None
        if line is None or kind is None:
            output.raw.append(text.rstrip("\n"))
            if line is not None and line.get("level") in _SHOWN_LEVELS:
                on_line(_as_log_line(line))
        elif kind == "response":
            output.response = line["response"]
        elif kind == "error":
            output.error = f"the handler raised {line['type']}: {line['message']}"
        else:  # our own instrumentation: shown, not part of the function's log
            on_line(line)
    return output


def _as_log_line(powertools_line: dict[str, Any]) -> dict[str, Any]:
    """A warning the service logged through Powertools, as a tagged `log` line."""
    return {
        TAG: "log",
        "level": powertools_line.get("level"),
        "logger": powertools_line.get("name") or powertools_line.get("service"),
        "message": powertools_line.get("message"),
    }


class _Watchdog:
    def __init__(self, process: subprocess.Popen[str], after_s: float) -> None:
        self.fired = False
        self._process = process
        self._timer = threading.Timer(after_s, self._fire)
        self._timer.daemon = True

    def start(self) -> None:
        self._timer.start()

    def cancel(self) -> None:
        self._timer.cancel()

    def _fire(self) -> None:
        self.fired = True
        self._process.kill()


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait(timeout=5)
    for stream in (process.stdin, process.stdout):
        if stream is not None and not stream.closed:
            stream.close()


def _collect(stream: Any, into: list[str]) -> None:
    for text in stream:
        into.append(text.rstrip("\n"))
    stream.close()


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _json_objects(lines: tuple[str, ...]) -> list[dict[str, Any]]:
    return [value for text in lines if (value := _json_object(text)) is not None]


def _metric_values(value: object) -> tuple[float, ...]:
    items = value if isinstance(value, list) else [value]
    return tuple(float(item) for item in items if isinstance(item, int | float))
