"""moto in server mode on 127.0.0.1 (real HTTP), with the fault layer in front of it."""

from __future__ import annotations

from typing import Any

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.server import ThreadedMotoServer
from tests.support.aws_faults import FaultInjector, WsgiApp
from werkzeug.serving import make_server


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


class LocalMotoServer(ThreadedMotoServer):
    """`ThreadedMotoServer` with a `FaultInjector` in front of moto's WSGI app (moto 5.2.5's
    `_server_entry`, with the app wrapped and the access log silenced)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(ip_address=host, port=port, verbose=False)
        self.faults = FaultInjector()

    def _server_entry(self) -> None:
        app = self.faults.wrap(_one_server_header(DomainDispatcherApplication(create_backend_app)))
        self._server = make_server(
            self._ip_address, self._port, app, threaded=True, request_handler=_QuietHandler
        )
        self._server_ready_event.set()
        self._server.serve_forever()

    @property
    def endpoint_url(self) -> str:
        host, port = self.get_host_and_port()
        return f"http://{host}:{port}"


def start_moto_server(host: str = "127.0.0.1", port: int = 0) -> LocalMotoServer:
    """Started and listening (port 0: a free port); call `stop()` when done."""
    server = LocalMotoServer(host, port)
    server.start()
    return server
