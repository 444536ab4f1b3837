"""The broker's close, kept like a deadline: from it nothing new is sent and the plan's work stops.

The close is the `next_close` of the market clock the guard rails read (the market was open
then, so it is the close of the session in progress), compared with the execution's clock.
Where an order would be sent, and where a phase or an item would start, `passed()` is asked
first, so no order leaves at or after the close however late the executor notices it; `wait()`
returns at the close, and the executor then stops the plan's work and cancels and confirms
what is open, as at the deadline. Items it stops end with a reason starting `market_closed`.
"""

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from plan_executor.ports import Clock

MARKET_CLOSED = "market_closed"
"""How the reason of an item the close stopped starts."""


class MarketClosed(Exception):
    """An order was not sent: the market has closed."""


@dataclass(frozen=True, slots=True)
class MarketClose:
    clock: Clock
    at: datetime | None
    """None: no close applies (the work sends nothing new, as a recovery)."""
    check_interval: timedelta
    """How often `wait()` looks at the clock again: a clock that jumps (a test's, or a
    corrected one) is noticed this late at most."""

    def passed(self) -> bool:
        return self.at is not None and self.clock.now() >= self.at

    @property
    def reason(self) -> str:
        at = "" if self.at is None else f" at {self.at.isoformat()}"
        return f"{MARKET_CLOSED}: the market closed{at}; nothing more was sent"

    def refuse_if_passed(self) -> None:
        """Raise `MarketClosed` once the close has come."""
        if self.passed():
            raise MarketClosed(self.reason)

    async def wait(self) -> None:
        """Return at the close; never when there is none."""
        if self.at is None:
            await asyncio.Event().wait()
            return
        # The clock port has no event to wait on: sleep to the close, looking again meanwhile.
        while (left := (self.at - self.clock.now()).total_seconds()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(min(left, self.check_interval.total_seconds()))
