"""Open an HTML report in headless Chromium, with no network, screenshot it, and fail on errors.

    .venv/bin/python scripts/screenshot_report.py REPORT.html [--out REPORT.png] [--width 1400]

Chromium (Debian's `chromium` package; CHROMIUM=path to override) is driven over the DevTools
protocol, so the page's own errors are seen, not guessed from the browser's stderr: any
uncaught exception, console error, error log entry, failed load or request leaving the page
(anything but file:, data: and about:) makes the exit status 1. The whole page is captured
(width `--width`, height the document's). Prints what it found: the PNG's path and size, the
number of item charts and of problems. Exit status: 0 clean, 1 the page had problems, 2 the
browser could not be run.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

LOCAL_SCHEMES = ("file:", "data:", "about:")
START_TIMEOUT_S = 30.0
LOAD_TIMEOUT_S = 60.0
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--remote-debugging-port=0",
)


class BrowserError(Exception):
    """Chromium could not be started or stopped answering."""


class DevTools:
    """One DevTools connection: commands by id, and every event checked for page problems."""

    def __init__(self, socket: ClientConnection) -> None:
        self._socket = socket
        self._next_id = 0
        self.events: list[dict[str, Any]] = []
        self.problems: list[str] = []

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        self._socket.send(json.dumps(message))
        while True:
            received = self._receive(LOAD_TIMEOUT_S)
            if received.get("id") == self._next_id:
                if "error" in received:
                    raise BrowserError(f"{method}: {received['error']}")
                result: dict[str, Any] = received.get("result", {})
                return result

    def wait_for(self, method: str, timeout_s: float, *, after: int) -> None:
        """Wait for `method` among the events received after the first `after`."""
        if any(event["method"] == method for event in self.events[after:]):
            return
        deadline = time.monotonic() + timeout_s
        while (left := deadline - time.monotonic()) > 0:
            if self._receive(left).get("method") == method:
                return
        raise BrowserError(f"no {method} within {timeout_s:g} s")

    def _receive(self, timeout_s: float) -> dict[str, Any]:
        try:
            received: dict[str, Any] = json.loads(self._socket.recv(timeout=timeout_s))
        except TimeoutError:
            raise BrowserError(f"Chromium did not answer within {timeout_s:g} s") from None
        if "method" in received:
            self.events.append(received)
            self._check(received["method"], received.get("params", {}))
        return received

    def _check(self, method: str, params: dict[str, Any]) -> None:
        if method == "Runtime.exceptionThrown":
            self.problems.append(f"uncaught: {params['exceptionDetails'].get('text')}")
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            args = [str(arg.get("value", arg.get("description"))) for arg in params["args"]]
            self.problems.append(f"console.{params['type']}: {' '.join(args)}")
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            entry = params["entry"]
            self.problems.append(f"log error: {entry.get('text')} {entry.get('url', '')}")
        elif method == "Network.requestWillBeSent":
            url = params["request"]["url"]
            if not url.startswith(LOCAL_SCHEMES):
                self.problems.append(f"network request: {url}")
        elif method == "Network.loadingFailed":
            self.problems.append(f"load failed: {params.get('errorText')}")


def screenshot(html: Path, out: Path, width: int) -> int:
    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if chromium is None:
        raise BrowserError("chromium not found (apt-get install chromium, or set CHROMIUM)")
    with tempfile.TemporaryDirectory(prefix="report-chromium-") as profile:
        command = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"]
        browser = subprocess.Popen(  # noqa: S603 (a fixed command line)
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            url = _devtools_url(Path(profile), browser)
            with connect(url, max_size=None, open_timeout=START_TIMEOUT_S) as socket:
                return _capture(DevTools(socket), html, out, width)
        finally:
            browser.terminate()
            browser.wait(START_TIMEOUT_S)


def _devtools_url(profile: Path, browser: subprocess.Popen[bytes]) -> str:
    """Chromium writes its DevTools port and browser path to this file once it listens."""
    port_file = profile / "DevToolsActivePort"
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if browser.poll() is not None:
            raise BrowserError(f"Chromium exited with status {browser.returncode}")
        lines = port_file.read_text().split() if port_file.exists() else []
        if len(lines) == 2:
            return f"ws://127.0.0.1:{lines[0]}{lines[1]}"
        time.sleep(0.1)
    raise BrowserError(f"Chromium did not open DevTools within {START_TIMEOUT_S:g} s")


def _capture(tools: DevTools, html: Path, out: Path, width: int) -> int:
    target = tools.call("Target.createTarget", url="about:blank")["targetId"]
    session = tools.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
    for domain in ("Page", "Runtime", "Log", "Network"):
        tools.call(f"{domain}.enable", session)
    metrics = {"width": width, "deviceScaleFactor": 1, "mobile": False}
    tools.call("Emulation.setDeviceMetricsOverride", session, height=1000, **metrics)
    seen = len(tools.events)
    tools.call("Page.navigate", session, url=html.resolve().as_uri())
    tools.wait_for("Page.loadEventFired", LOAD_TIMEOUT_S, after=seen)
    height = int(_evaluate(tools, session, "document.documentElement.scrollHeight"))
    charts = int(
        _evaluate(tools, session, "document.querySelectorAll('figure.item-chart svg').length")
    )
    tools.call("Emulation.setDeviceMetricsOverride", session, height=height, **metrics)
    shot = tools.call("Page.captureScreenshot", session, format="png")
    out.write_bytes(base64.b64decode(shot["data"]))
    sys.stdout.write(f"screenshot: {out.resolve()} ({width}x{height} px)" + "\n")
    sys.stdout.write(f"item charts rendered: {charts}" + "\n")
    sys.stdout.write(f"page problems: {len(tools.problems)}" + "\n")
    for problem in tools.problems:
        sys.stdout.write(f"  - {problem}" + "\n")
    return 1 if tools.problems else 0


def _evaluate(tools: DevTools, session: str, expression: str) -> Any:
    answer = tools.call("Runtime.evaluate", session, expression=expression, returnByValue=True)
    return answer["result"]["value"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("html", type=Path, metavar="REPORT.html")
    parser.add_argument("--out", type=Path, default=None, metavar="PNG")
    parser.add_argument("--width", type=int, default=1400)
    args = parser.parse_args(argv)
    if not args.html.is_file():
        sys.stderr.write(f"no such file: {args.html}" + "\n")
        return 2
    out = args.out or args.html.with_suffix(".png")
    try:
        return screenshot(args.html, out, args.width)
    except BrowserError as error:
        sys.stderr.write(f"screenshot failed: {error}" + "\n")
        return 2


if __name__ == "__main__":
    sys.exit(main())
