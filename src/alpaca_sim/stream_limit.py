"""One `trade_updates` connection per key, and the readings of what Alpaca does with a second.

Sources, and why there are several modes:
- Alpaca allows one trade_updates connection per account: alpaca-py issue #740 (July 2026,
  "With only one `trade_updates` connection allowed per account, this causes an HTTP 429 storm
  until the stale connection is reaped") and the comment alpaca-py's fix #744 put into
  `TradingStream._run_forever` (0.44: a failed connect/auth is closed "so abandoned sessions do
  not keep consuming the single-connection slot and cause HTTP 429s"). So the second
  connection is refused at the websocket handshake with HTTP 429: `REFUSE_HANDSHAKE`, the
  default.
- Alpaca's market data stream documents the other refusal: the handshake succeeds and the
  authentication is answered with error 406 `connection limit exceeded` (Alpaca docs,
  real-time market data, "control messages"; Alpaca staff on the forum, quoted in
  Lean.Brokerages.Alpaca #39: "Only one active real-time connection is allowed", and a
  half-dead connection is reaped after 90 s). alpaca-py reports that text from the data
  stream (alpaca-py #248). The trade stream answers a refused authentication in its own
  `authorization` shape with a `message` (alpaca-ts #24 shows one). `REFUSE_AUTH` is that
  reading on the trade stream.
- No Alpaca source says the first connection is closed instead; Polygon's stream, which Alpaca
  once fronted, closed connections when a second one authenticated with the same key
  (alpaca-trade-api-js #51: "Maximum number of connections exceeded"). `CLOSE_OLDER` is that
  reading: the newer connection is authorized and the older one is closed by the server.
- `NONE`: no limit (how the simulator behaved before; useful for tools that want two clients).

The sim has one account and one key, so "a connection with the same key" is any other
connection that authenticated.
"""

from enum import StrEnum


class ConnectionLimit(StrEnum):
    REFUSE_HANDSHAKE = "refuse_handshake"
    REFUSE_AUTH = "refuse_auth"
    CLOSE_OLDER = "close_older"
    NONE = "none"


DEFAULT_CONNECTION_LIMIT = ConnectionLimit.REFUSE_HANDSHAKE

LIMIT_MESSAGE = "connection limit exceeded"
"""The text Alpaca's market data stream sends (code 406); reused for both refusals here."""

REPLACED_MESSAGE = b"connection replaced by a newer one"
"""Close reason sent to the older connection under CLOSE_OLDER (no Alpaca source: modeled)."""

HANDSHAKE_REFUSAL_BODY: dict[str, object] = {"code": 42910000, "message": LIMIT_MESSAGE}
"""Body of the 429 at the handshake. alpaca-py only sees the status ("server rejected
WebSocket connection: HTTP 429", alpaca-py #740); the body follows Alpaca's REST shape."""


def connection_limit(value: object) -> ConnectionLimit:
    """Parse a mode name; ValueError names the valid ones."""
    try:
        return ConnectionLimit(str(value))
    except ValueError:
        valid = ", ".join(mode.value for mode in ConnectionLimit)
        raise ValueError(f"stream connection limit must be one of {valid}, got {value!r}") from None
