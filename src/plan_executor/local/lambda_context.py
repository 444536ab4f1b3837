"""A Lambda context for local invocations: the fields Powertools reads, and a remaining time
that counts down from the function timeout like the real one."""

import time
import uuid
from collections.abc import Callable

from aws_lambda_powertools.utilities.typing import LambdaContext

from plan_executor.local.function_env import FUNCTION_NAME, MEMORY_MB

LOCAL_ACCOUNT = "123456789012"


class LocalLambdaContext(LambdaContext):
    def __init__(
        self,
        *,
        timeout_s: float,
        region: str,
        aws_request_id: str | None = None,
        function_name: str = FUNCTION_NAME,
        memory_mb: int = MEMORY_MB,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._function_name = function_name
        self._function_version = "$LATEST"
        self._invoked_function_arn = (
            f"arn:aws:lambda:{region}:{LOCAL_ACCOUNT}:function:{function_name}"
        )
        self._memory_limit_in_mb = memory_mb
        self._aws_request_id = aws_request_id or str(uuid.uuid4())
        self._log_group_name = f"/aws/lambda/{function_name}"
        self._log_stream_name = f"local/[$LATEST]{self._aws_request_id.replace('-', '')}"
        self._monotonic = monotonic
        self._deadline = monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:  # type: ignore[override]
        """Milliseconds until the timeout, never negative (Powertools' stub is static)."""
        return max(0, int((self._deadline - self._monotonic()) * 1000))
