"""A run's deadline brought by the test, not by the machine's speed: the run is given a budget
it would never use up, and once the state the test wants holds (its orders are working), the
steppable loop's clock is moved to that budget's end, so `run_plan`'s `asyncio.wait_for` fires
then, whatever the load.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from tests.support.steppable_loop import running_steppable_loop

from plan_executor.domain.child_order import ChildOrder
from plan_executor.domain.enums import ChildOrderStatus
from plan_executor.engine.progress import ProgressEvent

WORKING = frozenset(
    {ChildOrderStatus.ACCEPTED, ChildOrderStatus.NEW, ChildOrderStatus.PARTIALLY_FILLED}
)
"""Acknowledged by the broker and still open."""

Orders = Mapping[str, ChildOrder]


class RunDeadline:
    """A progress callback for one run of `run_plan(..., budget_s=budget_s)` on a steppable
    loop: brings the deadline the first time `when(orders)` holds (the latest state of every
    order the run reported, by client order id), or when `come` is called."""

    def __init__(self, budget_s: float, when: Callable[[Orders], bool] | None = None) -> None:
        self.budget_s = budget_s
        self._when = when
        self._started: float | None = None
        self.orders: dict[str, ChildOrder] = {}
        self.came = False

    def __call__(self, event: ProgressEvent) -> None:
        if self._started is None:
            # The first report follows the instant the run took its deadline from.
            self._started = running_steppable_loop().time()
        if event.order is not None:
            self.orders[event.order.client_order_id] = event.order
        if self._when is not None and self._when(self.orders):
            self.come()

    def come(self) -> None:
        """Move the clock to the end of the budget (once)."""
        if self.came:
            return
        assert self._started is not None, "the run has reported nothing yet"
        loop = running_steppable_loop()
        loop.clock.advance_to(self._started + self.budget_s)
        self.came = True


def working(*symbols: str) -> Callable[[Orders], bool]:
    """True once each of `symbols` has an order working at the broker."""

    def holds(orders: Orders) -> bool:
        busy = {order.symbol for order in orders.values() if order.status in WORKING}
        return busy >= set(symbols)

    return holds
