"""The function's process: `python -m plan_executor.local.lambda_child` with the function's
environment, the invocation request as JSON on stdin. A real cold start every time.

The request may name the handler module's entry (`handler`, default `lambda_handler`; the
sweeper's is `sweep_handler`).

Its stdout is JSON lines: Powertools' own (structured logs, EMF metrics) and ours, tagged with a
`replay` key: live `progress` records (they still reach the service's own log handlers too),
`log` records (warnings of loggers that reach the root logger, which the Lambda runtime would
have printed), then one `response` or `error`.
"""

import importlib
import json
import logging
import sys
import traceback
from typing import Any, Final, TextIO

from plan_executor.local.lambda_context import LocalLambdaContext

TAG: Final = "replay"
PROGRESS_LOGGER: Final = "plan_executor.progress"
PROGRESS_KEYS: Final = (
    "progress",
    "phase",
    "detail",
    "client_order_id",
    "symbol",
    "side",
    "order_status",
    "qty",
    "filled_qty",
    "limit_price",
)


class _JsonLines(logging.Handler):
    def __init__(self, kind: str, stream: TextIO, keys: tuple[str, ...] = ()) -> None:
        super().__init__()
        self._kind = kind
        self._stream = stream
        self._keys = keys

    def emit(self, record: logging.LogRecord) -> None:
        line: dict[str, Any] = {
            TAG: self._kind,
            "at": record.created,
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update({key: getattr(record, key) for key in self._keys if hasattr(record, key)})
        write_line(self._stream, line)


def write_line(stream: TextIO, line: dict[str, Any]) -> None:
    stream.write(json.dumps(line, default=str) + "\n")
    stream.flush()


def _capture_logs(stream: TextIO) -> None:
    progress = logging.getLogger(PROGRESS_LOGGER)
    progress.setLevel(logging.INFO)
    progress.addHandler(_JsonLines("progress", stream, PROGRESS_KEYS))
    warnings = _JsonLines("log", stream)
    warnings.setLevel(logging.WARNING)
    logging.getLogger().addHandler(warnings)


def main(stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> int:
    request = json.load(stdin)
    _capture_logs(stdout)
    # Imported only now, as Lambda does at init: Powertools reads the environment at import.
    handler = importlib.import_module("plan_executor.handler")
    context = LocalLambdaContext(
        timeout_s=float(request["timeout_s"]),
        region=str(request["region"]),
        aws_request_id=str(request["aws_request_id"]),
    )
    try:
        entry = getattr(handler, str(request.get("handler", "lambda_handler")))
        response = entry(request["event"], context)
    except Exception as error:  # reported to the parent, as Lambda reports a failed invoke
        traceback.print_exc()
        write_line(stdout, {TAG: "error", "type": type(error).__name__, "message": str(error)})
        return 1
    write_line(stdout, {TAG: "response", "response": response})
    return 0


if __name__ == "__main__":
    sys.exit(main())
