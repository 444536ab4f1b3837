"""Two order procedures with rules of their own: a submit whose outcome may be unknown, and
listing every order since an instant, 500 at a time."""

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from plan_executor.adapters.alpaca_errors import DuplicateClientOrderId, TransientBrokerError
from plan_executor.adapters.alpaca_http import RetryPolicy
from plan_executor.adapters.alpaca_wire import Wire, optional_time, wire_time
from plan_executor.ports import BrokerError, BrokerOrder, BrokerUnavailable

Pause = Callable[[int, TransientBrokerError], Awaitable[None]]
_JUST_BEFORE = timedelta(microseconds=1)


async def submit_resolving_unknowns(
    client_order_id: str,
    *,
    post_once: Callable[[], Awaitable[BrokerOrder]],
    lookup_once: Callable[[], Awaitable[BrokerOrder | None]],
    policy: RetryPolicy,
    pause: Pause,
) -> BrokerOrder:
    """Place the order once. After a failure that may have placed it (timeout, 5xx, reset), the
    next round first looks the client_order_id up: found -> that order; not found -> the same
    id is sent again. A 422 "client_order_id must be unique" means the order exists: from then
    on it is only looked up, never sent. Transient failures are bounded by `policy.attempts`;
    business rejections propagate at once."""
    must_look_up = False
    may_send = True
    failures = 0
    while True:
        try:
            if must_look_up:
                found = await lookup_once()
                if found is not None:
                    return found
                if not may_send:
                    raise TransientBrokerError(
                        f"{client_order_id} is taken but not visible yet",
                        status=None,
                        outcome_unknown=True,
                    )
                must_look_up = False  # it was not placed: the same id may go again
            return await post_once()
        except DuplicateClientOrderId:
            may_send, must_look_up = False, True
        except TransientBrokerError as failure:
            failures += 1
            must_look_up = must_look_up or failure.outcome_unknown
            if failures >= policy.attempts:
                raise BrokerUnavailable(
                    f"submit of {client_order_id} unresolved after {failures} attempts: {failure}"
                ) from failure
            await pause(failures, failure)


class OrderPages:
    """Collects GET /v2/orders pages (ascending by submission time, `after` exclusive).

    The next page starts just before the last order's time, so orders sharing that instant are
    not skipped; orders seen twice are kept once. A full page with nothing new cannot be paged
    past (more than a page of orders at one instant): that raises rather than list partially.
    """

    def __init__(self, since: datetime) -> None:
        self._after: datetime | None = since
        self._orders: dict[str, BrokerOrder] = {}

    def next_after(self) -> datetime | None:
        """`after` for the next request; None once the listing is complete."""
        return self._after

    def add(self, page: list[BrokerOrder], *, last_raw: Wire | None, full: bool) -> None:
        fresh = [order for order in page if order.broker_id not in self._orders]
        for order in fresh:
            self._orders[order.broker_id] = order
        if not full or last_raw is None:
            self._after = None
            return
        if not fresh:
            raise BrokerError("cannot list every order: a full page brought no new order")
        self._after = page_cursor(last_raw) - _JUST_BEFORE

    def orders(self) -> list[BrokerOrder]:
        return list(self._orders.values())


def page_cursor(raw: Wire) -> datetime:
    """The earliest of an order's creation and submission times: whichever of the two the
    broker pages on, nothing after this instant has been skipped."""
    created = wire_time(raw, "created_at")
    submitted = optional_time(raw, "submitted_at")
    return created if submitted is None else min(created, submitted)
