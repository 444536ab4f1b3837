"""Alpaca-shaped API errors raised by the simulator core."""

from collections.abc import Mapping

BAD_REQUEST = 40010001
FORBIDDEN = 40310000
NOT_FOUND = 40410000
UNPROCESSABLE = 42210000


class SimError(Exception):
    """An error the HTTP layer renders as `status` with `body()` as the JSON payload."""

    def __init__(
        self,
        status: int,
        code: int | None,
        message: str,
        extra: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.extra: dict[str, object] = dict(extra or {})

    def body(self) -> dict[str, object]:
        payload: dict[str, object] = dict(self.extra)
        if self.code is not None:
            payload["code"] = self.code
        payload["message"] = self.message
        return payload


def bad_request(message: str) -> SimError:
    return SimError(422, BAD_REQUEST, message)


def unprocessable(message: str) -> SimError:
    return SimError(422, UNPROCESSABLE, message)


def forbidden(message: str, extra: Mapping[str, object] | None = None) -> SimError:
    return SimError(403, FORBIDDEN, message, extra)


def not_found(message: str) -> SimError:
    return SimError(404, NOT_FOUND, message)
