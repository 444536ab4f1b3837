"""moto in server mode on loopback (real HTTP), the AWS half of the local stack.

moto keeps its resources in process-wide memory: every server in one process sees the same
accounts, so stacks in one process need distinct names (`create_stack(name_prefix=...)`).
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.server import ThreadedMotoServer
from werkzeug.serving import make_server

from plan_executor.local.errors import StackStartError

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Middleware = Callable[[WsgiApp], WsgiApp]


class _QuietHandler(MotoRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """No access log on stderr."""


def _one_server_header(app: WsgiApp) -> WsgiApp:
    """moto sends `Server: amazon.com` and werkzeug adds its own; aiohttp's strict parser
    (python -X dev) refuses a response with two."""

    def without_app_server_header(environ: dict[str, Any], start_response: Any) -> Any:
        def start(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
            kept = [(name, value) for name, value in headers if name.lower() != "server"]
            return start_response(status, kept, *args)

        return app(environ, start)

    return without_app_server_header


def _unchanged(app: WsgiApp) -> WsgiApp:
    return app


class LocalMotoServer(ThreadedMotoServer):
    """`ThreadedMotoServer` with an optional WSGI middleware in front of moto's app (the tests
    put their fault layer there) and no access log (moto 5.2.5's `_server_entry`, wrapped)."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, *, middleware: Middleware | None = None
    ) -> None:
        super().__init__(ip_address=host, port=port, verbose=False)
        self._middleware = middleware or _unchanged
        self._listener: socket.socket | None = None

    def start(self) -> None:
        """Listening on return, or StackStartError (e.g. the port is taken): the socket is
        bound here, because werkzeug exits its thread on a bind error and moto's `start` would
        then wait forever."""
        try:
            self._listener = socket.create_server((self._ip_address, self._port))
        except OSError as error:
            raise StackStartError(
                f"moto cannot listen on {self._ip_address}:{self._port}: {error.strerror}"
            ) from error
        super().start()

    def stop(self) -> None:
        """Stop serving and close both sockets (werkzeug's duplicate of ours, and ours)."""
        super().stop()
        if self._server is not None:
            self._server.server_close()
        if self._listener is not None:
            self._listener.close()

    def _server_entry(self) -> None:
        assert self._listener is not None  # start() bound it
        moto_app = DomainDispatcherApplication(create_backend_app)
        self._server = make_server(
            self._ip_address,
            self._port,
            self._middleware(_one_server_header(moto_app)),
            threaded=True,
            request_handler=_QuietHandler,
            fd=self._listener.fileno(),
        )
        self._server_ready_event.set()
        self._server.serve_forever()

    @property
    def endpoint_url(self) -> str:
        host, port = self.get_host_and_port()
        return f"http://{host}:{port}"


def start_moto_server(
    host: str = "127.0.0.1", port: int = 0, *, middleware: Middleware | None = None
) -> LocalMotoServer:
    """Started and listening (port 0: a free port); call `stop()` when done."""
    server = LocalMotoServer(host, port, middleware=middleware)
    server.start()
    return server
