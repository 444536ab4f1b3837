"""Faults on command for the local moto server, over real HTTP: a WSGI layer in front of moto
records every request (SigV4 service, `X-Amz-Target` operation) and answers matching ones with
an AWS-style error, instead of moto or after moto committed it (a lost response). It can hold
requests until several are in flight at once: proof of concurrency without timing.
"""

from __future__ import annotations

import collections
import contextlib
import json
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from werkzeug.wrappers import Request

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")


@dataclass(frozen=True, slots=True)
class RequestInfo:
    service: str
    operation: str | None
    method: str
    path: str


@dataclass(frozen=True, slots=True)
class Where:
    """Which requests: a SigV4 service, and optionally operation, HTTP method, path part."""

    service: str
    operation: str | None = None
    method: str | None = None
    path_contains: str = ""

    def __call__(self, request: RequestInfo) -> bool:
        return (
            request.service == self.service
            and self.operation in (None, request.operation)
            and self.method in (None, request.method)
            and self.path_contains in request.path
        )


@dataclass(slots=True)
class Fault:
    """Answer `times` matching requests (None: all) with `status` and `body`; `after_commit`
    lets moto process the request first (the client then sees an error for a done deed)."""

    where: Where
    status: int
    body: bytes
    content_type: str
    times: int | None = 1
    after_commit: bool = False
    hits: int = 0

    def claims(self, request: RequestInfo) -> bool:
        return self.where(request) and (self.times is None or self.hits < self.times)


@dataclass(slots=True)
class Rendezvous:
    """Holds `parties` matching requests until all have arrived (or `timeout_s` passes)."""

    where: Where
    parties: int
    timeout_s: float
    barrier: threading.Barrier = field(init=False)
    arrived: int = 0
    met: bool = False

    def __post_init__(self) -> None:
        self.barrier = threading.Barrier(self.parties, timeout=self.timeout_s)

    def claims(self, request: RequestInfo) -> bool:
        return self.where(request) and self.arrived < self.parties


_JSON = "application/x-amz-json-1.1"


def s3_error(
    code: str, status: int, *, path_contains: str, method: str = "PUT", **options: Any
) -> Fault:
    body = f"<Error><Code>{code}</Code><Message>injected</Message></Error>".encode()
    where = Where("s3", method=method, path_contains=path_contains)
    return Fault(where, status, body, "application/xml", **options)


def json_api_error(service: str, operation: str, code: str, status: int, **options: Any) -> Fault:
    body = json.dumps({"__type": code, "message": "injected"}).encode()
    return Fault(Where(service, operation), status, body, _JSON, **options)


def put_events_entry_failure(code: str = "ThrottlingException", **options: Any) -> Fault:
    """PutEvents answers 200, but the (single) entry failed."""
    entry = {"ErrorCode": code, "ErrorMessage": "injected"}
    body = json.dumps({"FailedEntryCount": 1, "Entries": [entry]}).encode()
    return Fault(Where("events", "PutEvents"), 200, body, _JSON, **options)


def describe(environ: dict[str, Any]) -> RequestInfo:
    scope = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    target = environ.get("HTTP_X_AMZ_TARGET")
    return RequestInfo(
        service=scope.group(1) if scope else "unknown",
        operation=target.rsplit(".", 1)[-1] if target else None,
        method=environ.get("REQUEST_METHOD", ""),
        path=environ.get("PATH_INFO", ""),
    )


class FaultInjector:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._rendezvous: list[Rendezvous] = []
        self._requests: list[RequestInfo] = []

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def hold_together(
        self, service: str, method: str, path_contains: str, *, parties: int, timeout_s: float
    ) -> Rendezvous:
        rendezvous = Rendezvous(Where(service, None, method, path_contains), parties, timeout_s)
        with self._lock:
            self._rendezvous.append(rendezvous)
        return rendezvous

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self._rendezvous.clear()
            self._requests.clear()

    def requests(
        self,
        service: str,
        *,
        operation: str | None = None,
        method: str | None = None,
        path_contains: str = "",
    ) -> list[RequestInfo]:
        """The requests seen so far that match."""
        where = Where(service, operation, method, path_contains)
        with self._lock:
            return [request for request in self._requests if where(request)]

    def wrap(self, app: WsgiApp) -> WsgiApp:
        def middleware(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            request = describe(environ)
            fault, rendezvous = self._claim(request)
            if rendezvous is not None:
                _wait(rendezvous)
            if fault is None:
                return app(environ, start_response)
            if fault.after_commit:
                _consume(app(environ, lambda *_args: None))
            else:
                Request(environ).get_data()  # read the body so the connection stays sane
            start_response(
                f"{fault.status} Injected",
                [("Content-Type", fault.content_type), ("Content-Length", str(len(fault.body)))],
            )
            return [fault.body]

        return middleware

    def _claim(self, request: RequestInfo) -> tuple[Fault | None, Rendezvous | None]:
        with self._lock:
            self._requests.append(request)
            fault = next((f for f in self._faults if f.claims(request)), None)
            if fault is not None:
                fault.hits += 1
            rendezvous = next((r for r in self._rendezvous if r.claims(request)), None)
            if rendezvous is not None:
                rendezvous.arrived += 1
            return fault, rendezvous


def _wait(rendezvous: Rendezvous) -> None:
    with contextlib.suppress(threading.BrokenBarrierError):
        rendezvous.barrier.wait()
        rendezvous.met = True


def _consume(response: Iterable[bytes]) -> None:
    try:
        collections.deque(response, maxlen=0)
    finally:
        getattr(response, "close", lambda: None)()
