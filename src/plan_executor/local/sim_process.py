"""alpaca_sim as a loopback server in its own process (the service never imports the sim):
`python -m alpaca_sim serve --port 0 ...`, with the URLs it prints parsed, stopped on every path.

Its scenario is the default one with the clock moved to now and the session widened to the
whole (week)day: the service judges quote ages with the real clock, so the simulated market
must run on real time, and a demo must not depend on the hour it is run.
"""

import importlib.util
import json
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from plan_executor.local.errors import StackStartError

STARTUP_TIMEOUT_S: Final = 20.0
STOP_TIMEOUT_S: Final = 5.0
HTTP_TIMEOUT_S: Final = 5.0
ORDER_PATH: Final = "/v2/orders"
_BANNER_LAST_LINE: Final = "control:"
_BANNER_KEYS: Final = {
    "trading url": "trading_url",
    "data url": "data_url",
    "stream url": "stream_url",
    "key id": "key_id",
    "secret key": "secret_key",
}


class SimStartError(StackStartError):
    """The simulator did not come up."""


@dataclass(frozen=True, slots=True)
class SimEndpoints:
    trading_url: str
    data_url: str
    stream_url: str
    key_id: str
    secret_key: str = field(repr=False)


def demo_scenario(now: datetime) -> dict[str, Any]:
    """The sim's default scenario, with its clock at `now` and a session all day, every day
    (weekends too), so a demo on the wall clock works at any hour."""
    scenario: dict[str, Any] = json.loads(_default_scenario_path().read_text(encoding="utf-8"))
    scenario["clock"] = {
        **scenario["clock"],
        "start": now.astimezone(UTC).isoformat(),
        "session_open_utc": "00:00",
        "session_close_utc": "23:59:59.999999",
        "holidays": [],
        "weekends": True,
    }
    return scenario


def _default_scenario_path() -> Path:
    """Found, not imported: `find_spec` of a top-level package does not run its code."""
    spec = importlib.util.find_spec("alpaca_sim")
    if spec is None or not spec.submodule_search_locations:
        raise SimStartError("alpaca_sim is not installed (it comes with the dev install)")
    return Path(next(iter(spec.submodule_search_locations))) / "scenarios" / "default.json"


class SimProcess:
    """A running simulator; `stop()` (or the context manager) ends it."""

    def __init__(self, process: subprocess.Popen[str], scenario_file: Path) -> None:
        self._process = process
        self._scenario_file = scenario_file
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read_stdout, daemon=True)
        self._reader.start()
        self.endpoints: SimEndpoints | None = None

    @classmethod
    def launch(
        cls, *, host: str = "127.0.0.1", port: int = 0, seed: int = 0, now: datetime
    ) -> "SimProcess":
        """Started (not yet waited for: call `wait_ready`), speed 1 from `now`."""
        with tempfile.NamedTemporaryFile(
            "w", suffix=".json", prefix="alpaca-sim-", delete=False, encoding="utf-8"
        ) as file:
            json.dump(demo_scenario(now), file)
        command = [sys.executable, "-m", "alpaca_sim", "serve", "--host", host, "--port"]
        command += [str(port), "--seed", str(seed), "--scenario", file.name, "--speed", "1"]
        process = subprocess.Popen(  # noqa: S603 (the running interpreter, our arguments)
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
        )
        return cls(process, Path(file.name))

    def wait_ready(self, timeout_s: float = STARTUP_TIMEOUT_S) -> SimEndpoints:
        """The URLs the sim printed; SimStartError with its output if it did not start."""
        deadline = time.monotonic() + timeout_s
        fields: dict[str, str] = {}
        seen: list[str] = []
        while True:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise SimStartError(_failure("did not start in time", seen)) from None
            if line is None:
                raise SimStartError(_failure("exited during startup", seen))
            seen.append(line)
            label, _, value = line.partition(":")
            if label.strip() in _BANNER_KEYS:
                fields[_BANNER_KEYS[label.strip()]] = value.strip()
            if line.startswith(_BANNER_LAST_LINE):
                break
        self.endpoints = SimEndpoints(**fields)
        return self.endpoints

    def sync_clock(self, now: datetime) -> None:
        """Set the sim's clock to `now` (its process took a moment to start)."""
        self._control("POST", "/_sim/clock", {"set": now.astimezone(UTC).isoformat()})

    def order_submissions(self) -> int:
        """How many POST /v2/orders the sim has answered so far (any outcome)."""
        state = self._control("GET", "/_sim/state")
        requests = state.get("requests", [])
        return sum(
            1 for entry in requests if entry["method"] == "POST" and entry["path"] == ORDER_PATH
        )

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=STOP_TIMEOUT_S)
        self._reader.join(timeout=STOP_TIMEOUT_S)
        self._scenario_file.unlink(missing_ok=True)

    def _control(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        if self.endpoints is None:
            raise SimStartError("the simulator is not ready")
        url = self.endpoints.trading_url + path
        if not url.startswith("http://"):
            raise SimStartError(f"unexpected simulator URL {url!r}")
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 (http on the sim's own URL, checked)
            url, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S) as response:  # noqa: S310
            return json.loads(response.read())

    def _read_stdout(self) -> None:
        stream = self._process.stdout
        assert stream is not None
        for text in stream:
            self._lines.put(text.rstrip("\n"))
        stream.close()
        self._lines.put(None)


def _failure(what: str, output: list[str]) -> str:
    tail = "\n".join(output[-20:]) or "(no output)"
    return f"alpaca_sim {what}:\n{tail}"
