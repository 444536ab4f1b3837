"""Settings of the Alpaca adapter, and the secret that never shows in a repr, str or log."""

from dataclasses import dataclass
from typing import Final

DATA_FEEDS: Final = frozenset({"iex", "sip", "delayed_sip", "otc", "boats", "overnight"})
MAX_ORDERS_PAGE: Final = 500
DEFAULT_HTTP_WORKERS: Final = 128
"""Room for a 100-item plan's widest fan-out (its asset reads, beside the early reads) in one
round trip (32 threads need four, where the CPU keeps up). The execution environment starts
all of them at cold start (`bootstrap.build_runtime`: ~20 ms and ~3 MiB resident, measured);
in production the rate limiter (a burst of 20, then 3 a second) keeps most of them idle. Each
invocation opens at most one connection per thread and host, and 128 threads with two
connections each stay far below Lambda's limits of 1024 threads and 1024 open files."""
_HIDDEN: Final = "***"


class Secret:
    """A credential. Only `reveal()` gives the value; repr, str and format show ***.

    Deliberately not a dataclass: `dataclasses.asdict(config)` must not unwrap it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not value:
            raise ValueError("a secret must not be empty")
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return _HIDDEN

    def __str__(self) -> str:
        return _HIDDEN

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True, slots=True)
class AlpacaConfig:
    """URLs left None mean alpaca-py's defaults for `paper` (paper-api or api.alpaca.markets).

    `trading_url`/`data_url` are scheme, host and port without /v2; `stream_url` is the full
    websocket URL including /stream.
    """

    key_id: str
    secret_key: Secret
    paper: bool = True
    trading_url: str | None = None
    data_url: str | None = None
    stream_url: str | None = None
    data_feed: str = "iex"
    http_timeout_s: float = 5.0
    retry_attempts: int = 4
    backoff_base_s: float = 0.25
    backoff_cap_s: float = 4.0
    stream_connect_timeout_s: float = 5.0
    stream_close_timeout_s: float = 1.0
    stream_reconnect_min_s: float = 1.0
    stream_reconnect_max_s: float = 10.0
    http_workers: int = DEFAULT_HTTP_WORKERS
    """Bound on the HTTP threads (and kept connections per host) of an adapter given no
    threads (tests, tools; the Lambda's adapters run on the execution environment's). alpaca-py
    blocks, so this is how many requests may be in flight at once; such threads start on
    demand. The rate limiter, not this, bounds requests per minute."""
    orders_page_size: int = MAX_ORDERS_PAGE

    def __post_init__(self) -> None:
        if not self.key_id:
            raise ValueError("key_id must not be empty")
        if self.data_feed not in DATA_FEEDS:
            raise ValueError(
                f"data_feed must be one of {sorted(DATA_FEEDS)}, got {self.data_feed!r}"
            )
        _require_positive(
            http_timeout_s=self.http_timeout_s,
            backoff_base_s=self.backoff_base_s,
            stream_connect_timeout_s=self.stream_connect_timeout_s,
            stream_close_timeout_s=self.stream_close_timeout_s,
            stream_reconnect_min_s=self.stream_reconnect_min_s,
        )
        if self.backoff_cap_s < self.backoff_base_s:
            raise ValueError("backoff_cap_s must be at least backoff_base_s")
        if self.stream_reconnect_max_s < self.stream_reconnect_min_s:
            raise ValueError("stream_reconnect_max_s must be at least stream_reconnect_min_s")
        if self.retry_attempts < 1 or self.http_workers < 1:
            raise ValueError("retry_attempts and http_workers must be at least 1")
        if not 1 <= self.orders_page_size <= MAX_ORDERS_PAGE:
            raise ValueError(f"orders_page_size must be within 1..{MAX_ORDERS_PAGE}")


def _require_positive(**values: float) -> None:
    for name, value in values.items():
        if not value > 0:
            raise ValueError(f"{name} must be positive, got {value}")
