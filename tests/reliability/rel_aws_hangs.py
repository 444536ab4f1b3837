"""Hung AWS calls for the local moto server: a WSGI layer that holds chosen requests until the
test releases them, before moto sees them (never processed) or after moto committed them (the
client never hears). The client's own read timeout is what ends its wait, as in AWS.

It sits in front of the tests' fault layer (tests/support/aws_faults.py), which has no hang.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from tests.support.aws_faults import RequestInfo, Where, describe
from werkzeug.wrappers import Request

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

MAX_HOLD_S = 30.0
"""A held request is let go after this at the latest. Every client the service uses gives up
long before (its read timeout): a hold that lasts this long is a client that never would."""
_GONE = b'{"__type":"ServiceUnavailable","message":"held request let go"}'


@dataclass(slots=True)
class AwsHang:
    """Hold `remaining` matching requests (None: every one); `after_commit` lets moto process
    each first."""

    where: Where
    after_commit: bool
    remaining: int | None
    hits: int = 0
    arrived: threading.Event = field(default_factory=threading.Event)
    """Set when the first matching request is being held."""
    released: threading.Event = field(default_factory=threading.Event)
    outlived: bool = False
    """True when a held request had to be let go: nobody released it within MAX_HOLD_S."""

    def claims(self, request: RequestInfo) -> bool:
        return self.where(request) and (self.remaining is None or self.remaining > 0)


class AwsHangLayer:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hangs: list[AwsHang] = []

    def hang(self, where: Where, *, after_commit: bool, count: int | None) -> AwsHang:
        hang = AwsHang(where, after_commit, count)
        with self._lock:
            self._hangs.append(hang)
        return hang

    def release(self, hang: AwsHang) -> None:
        """Let the requests `hang` holds go, and hold no more."""
        with self._lock:
            if hang in self._hangs:
                self._hangs.remove(hang)
        hang.released.set()

    def release_all(self) -> None:
        with self._lock:
            hangs, self._hangs = self._hangs, []
        for hang in hangs:
            hang.released.set()

    def wrap(self, app: WsgiApp) -> WsgiApp:
        def middleware(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            hang = self._claim(describe(environ))
            if hang is None:
                return app(environ, start_response)
            if hang.after_commit:
                _consume(app(environ, lambda *_args: None))
            else:
                Request(environ).get_data()
            hang.arrived.set()
            if not hang.released.wait(MAX_HOLD_S):
                hang.outlived = True
            start_response(
                "503 Held",
                [("Content-Type", "application/json"), ("Content-Length", str(len(_GONE)))],
            )
            return [_GONE]

        return middleware

    def _claim(self, request: RequestInfo) -> AwsHang | None:
        with self._lock:
            hang = next((h for h in self._hangs if h.claims(request)), None)
            if hang is None:
                return None
            hang.hits += 1
            if hang.remaining is not None:
                hang.remaining -= 1
            return hang


def _consume(response: Iterable[bytes]) -> None:
    try:
        collections.deque(response, maxlen=0)
    finally:
        getattr(response, "close", lambda: None)()
