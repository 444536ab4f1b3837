"""Where a replay's orders go: alpaca_sim (the default), or Alpaca itself with the paper keys
from this shell's environment. Live keys are refused unless explicitly allowed.

The keys go into the local stack's secret (moto), never into the function's environment, and
are never printed: only a masked key id is shown.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

KEY_ID_VARIABLE: Final = "ALPACA_KEY_ID"
SECRET_KEY_VARIABLE: Final = "ALPACA_SECRET_KEY"  # noqa: S105 (a variable name)
MODE_VARIABLE: Final = "ALPACA_MODE"
LIVE_KEY_PREFIX: Final = "AK"
"""Alpaca's live key ids start with AK, paper ones with PK."""


class Broker(StrEnum):
    SIM = "sim"
    ALPACA = "alpaca"


class BrokerRefused(Exception):
    """The replay will not start: missing keys, or live keys without --allow-live."""


@dataclass(frozen=True, slots=True)
class AlpacaKeys:
    key_id: str
    secret_key: str = field(repr=False)
    mode: str

    @property
    def masked_key_id(self) -> str:
        return f"{self.key_id[:2]}...{self.key_id[-4:]}" if len(self.key_id) > 8 else "***"

    def as_secret(self) -> dict[str, str]:
        """The Secrets Manager document the service reads."""
        return {"key_id": self.key_id, "secret_key": self.secret_key, "mode": self.mode}


def alpaca_keys(environ: Mapping[str, str], *, allow_live: bool) -> AlpacaKeys:
    """The keys for `--broker alpaca`, or BrokerRefused saying what is missing or wrong."""
    key_id = environ.get(KEY_ID_VARIABLE, "").strip()
    secret_key = environ.get(SECRET_KEY_VARIABLE, "").strip()
    if not key_id or not secret_key:
        raise BrokerRefused(
            f"--broker alpaca needs {KEY_ID_VARIABLE} and {SECRET_KEY_VARIABLE} in the"
            " environment (paper keys: https://app.alpaca.markets/paper/dashboard/overview)"
        )
    mode = environ.get(MODE_VARIABLE, "paper").strip().lower() or "paper"
    if mode not in {"paper", "live"}:
        raise BrokerRefused(f"{MODE_VARIABLE} must be paper or live")
    looks_live = key_id.upper().startswith(LIVE_KEY_PREFIX)
    if mode == "paper" and looks_live:
        raise BrokerRefused(
            f"{KEY_ID_VARIABLE} looks like a live key (it starts with {LIVE_KEY_PREFIX}) but"
            f" {MODE_VARIABLE} says paper: refused"
        )
    if mode == "live" and not allow_live:
        raise BrokerRefused(f"{MODE_VARIABLE}=live: real money; refused without --allow-live")
    return AlpacaKeys(key_id=key_id, secret_key=secret_key, mode=mode)
