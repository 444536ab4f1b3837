"""How the venue words two refusals whose words have changed over time at Alpaca: a
client_order_id already used, and a cancel of an order that is past cancelling.

A client must read both by what the order is, not by the words, so a scenario can pick any
reading Alpaca has been recorded giving (its `"refusals"` section, names below; the first of
each is the default). Every reading names its source.

Duplicate client_order_id (`"duplicate_client_order_id"`):
- `underscored` (default): 422 `{"code": 40010001, "message": "client_order_id must be unique"}`,
  measured against the paper API in 2026 by a third-party dedup probe (GitHub code index),
  observed across several codebases (/work/shared/reference/alpaca-api.md B.4), and the words
  users quote in alpaca-py issue #260.
- `underscored_42210000`: the same words under code 42210000, recorded from a running
  deployment by another third-party client (GitHub code index).
- `spaced`: 422 `{"code": 40010001, "message": "client order id must be unique"}`, the spaced
  wording as third-party clients' fixtures record it.
- `spaced_without_code`: 422 `{"message": "client order id must be unique"}` (no code), as a
  third-party TypeScript client's test fixture records it.

Cancel of an order already filled, canceled, expired, rejected or replaced
(`"cancel_when_terminal"`):
- `already_in_state` (default): 422 `{"code": 42210000, "message": "order is already in
  \\"filled\\" state"}` (bennycode/trading-signals PR #1079, from production logs; the same body
  with `"canceled"` in third-party fixtures, and the `order is already in "{state}" state`
  template in third-party clients): the order's own status is named.
- `accepted`: 204 and nothing changes, as Alpaca answered a cancel of a filled order in 2021
  (alpacahq/user-docs issue #150 and PR #151). Alpaca's reference says a cancel of an order that
  is no longer cancelable answers 422 (docs.alpaca.markets, "Cancel an Order by ID"); a client
  must still confirm a cancel by reading the order.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from alpaca_sim.errors import BAD_REQUEST, UNPROCESSABLE, SimError


@dataclass(frozen=True)
class Refusal:
    status: int
    code: int | None
    message: str

    def error(self) -> SimError:
        return SimError(self.status, self.code, self.message)


DUPLICATE_CLIENT_ORDER_ID: Mapping[str, Refusal] = {
    "underscored": Refusal(422, BAD_REQUEST, "client_order_id must be unique"),
    "underscored_42210000": Refusal(422, UNPROCESSABLE, "client_order_id must be unique"),
    "spaced": Refusal(422, BAD_REQUEST, "client order id must be unique"),
    "spaced_without_code": Refusal(422, None, "client order id must be unique"),
}
CANCEL_WHEN_TERMINAL = ("already_in_state", "accepted")


@dataclass(frozen=True)
class RefusalWording:
    """The scenario's pick of reading for each refusal (names in the module docstring)."""

    duplicate_client_order_id: str = "underscored"
    cancel_when_terminal: str = "already_in_state"

    def __post_init__(self) -> None:
        if self.duplicate_client_order_id not in DUPLICATE_CLIENT_ORDER_ID:
            known = ", ".join(DUPLICATE_CLIENT_ORDER_ID)
            raise ValueError(f"refusals.duplicate_client_order_id must be one of {known}")
        if self.cancel_when_terminal not in CANCEL_WHEN_TERMINAL:
            known = ", ".join(CANCEL_WHEN_TERMINAL)
            raise ValueError(f"refusals.cancel_when_terminal must be one of {known}")

    def duplicate_client_order_id_error(self) -> SimError:
        return DUPLICATE_CLIENT_ORDER_ID[self.duplicate_client_order_id].error()

    @property
    def accepts_terminal_cancel(self) -> bool:
        """The 2021 reading: a cancel of a terminal order is taken (204) and changes nothing."""
        return self.cancel_when_terminal == "accepted"


def already_in_state(status: str) -> SimError:
    """Alpaca's refusal of a cancel of an order in `status` (sources in the module docstring)."""
    return SimError(422, UNPROCESSABLE, f'order is already in "{status}" state')


def refusal_wording(section: Mapping[str, object]) -> RefusalWording:
    """A scenario's `"refusals"` section; absent names keep their default."""
    unknown = set(section) - {"duplicate_client_order_id", "cancel_when_terminal"}
    if unknown:
        raise ValueError(f"unknown refusals setting(s): {', '.join(sorted(unknown))}")
    default = RefusalWording()
    return RefusalWording(
        duplicate_client_order_id=str(
            section.get("duplicate_client_order_id", default.duplicate_client_order_id)
        ),
        cancel_when_terminal=str(section.get("cancel_when_terminal", default.cancel_when_terminal)),
    )
