"""Re-export of plan_executor.local.aws_server, with the tests' fault layer in front of moto."""

from __future__ import annotations

from tests.support.aws_faults import FaultInjector

from plan_executor.local import aws_server


class LocalMotoServer(aws_server.LocalMotoServer):
    """The local moto server; `faults` answers chosen requests with errors over real HTTP."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.faults = FaultInjector()
        super().__init__(host, port, middleware=self.faults.wrap)


def start_moto_server(host: str = "127.0.0.1", port: int = 0) -> LocalMotoServer:
    """Started and listening (port 0: a free port); call `stop()` when done."""
    server = LocalMotoServer(host, port)
    server.start()
    return server
