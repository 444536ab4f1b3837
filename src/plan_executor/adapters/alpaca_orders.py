"""Order procedures with rules of their own: a submit whose outcome may be unknown, what a
refused cancel means, and listing every order since an instant, 500 at a time."""

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from plan_executor.adapters.alpaca_errors import (
    AmbiguousRefusal,
    DuplicateClientOrderId,
    TransientBrokerError,
)
from plan_executor.adapters.alpaca_http import RetryPolicy
from plan_executor.adapters.alpaca_wire import Wire, optional_time, wire_time
from plan_executor.domain.order_updates import TERMINAL_STATUSES
from plan_executor.ports import (
    BrokerError,
    BrokerOrder,
    BrokerUnavailable,
    OrderNotCancelable,
    OrderRejected,
)

Pause = Callable[[int, TransientBrokerError], Awaitable[None]]
Post = Callable[[], Awaitable[BrokerOrder]]
Lookup = Callable[[], Awaitable[BrokerOrder | None]]
_JUST_BEFORE = timedelta(microseconds=1)


async def submit_resolving_unknowns(
    client_order_id: str,
    *,
    post_once: Post,
    lookup_once: Lookup,
    policy: RetryPolicy,
    pause: Pause,
) -> BrokerOrder:
    """Place the order once. After a failure that may have placed it (timeout, 5xx, reset), the
    next round first looks the client_order_id up: found -> that order; not found -> the same
    id is sent again. A refusal that says the id is taken (409, or a 422 in either recorded
    wording) means the order exists: from then on it is only looked up, never sent. Any other
    422 may be that refusal in words not seen yet: it is looked up too, never sent again, and
    stands as the rejection only when the order is not there and no earlier attempt may have
    placed it. Transient failures are bounded by `policy.attempts`; other rejections propagate
    at once."""
    submission = _Submission(client_order_id, post_once, lookup_once)
    failures = 0
    while True:
        try:
            placed = await submission.round()
        except TransientBrokerError as failure:
            failures += 1
            if failures >= policy.attempts:
                raise BrokerUnavailable(
                    f"submit of {client_order_id} unresolved after {failures} attempts: {failure}"
                ) from failure
            await pause(failures, failure)
            continue
        if placed is not None:
            return placed


class _Submission:
    """What the rounds of one submit have learnt: whether a lookup is due, whether the order may
    be sent (again), whether an earlier send may have placed it, and a refusal awaiting a lookup."""

    def __init__(self, client_order_id: str, post_once: Post, lookup_once: Lookup) -> None:
        self._client_order_id = client_order_id
        self._post_once = post_once
        self._lookup_once = lookup_once
        self._must_look_up = False
        self._may_send = True
        self._maybe_placed = False
        self._refusal: OrderRejected | None = None

    async def round(self) -> BrokerOrder | None:
        """A lookup when one is due, then a send when one is allowed. None: the send was
        refused in a way a lookup resolves; go round again at once."""
        if self._must_look_up:
            found = await self._lookup_once()
            if found is not None:
                return found
            self._after_a_miss()
        try:
            return await self._post_once()
        except TransientBrokerError as failure:
            self._must_look_up = self._must_look_up or failure.outcome_unknown
            self._maybe_placed = self._maybe_placed or failure.outcome_unknown
            raise
        except DuplicateClientOrderId:
            self._may_send, self._must_look_up = False, True
        except AmbiguousRefusal as refused:
            self._may_send, self._must_look_up = False, True
            self._refusal = refused.rejection
        return None

    def _after_a_miss(self) -> None:
        """The lookup found nothing: send again, stand by the refusal, or keep looking."""
        if self._may_send:
            self._must_look_up = False  # it was not placed: the same id may go again
            return
        if self._refusal is not None and not self._maybe_placed:
            raise self._refusal  # nothing under this id, and nothing of ours could be in flight
        raise TransientBrokerError(
            f"{self._client_order_id} is taken, or may be, but is not visible yet",
            status=None,
            outcome_unknown=True,
        )


def refused_cancel_outcome(broker_id: str, refused: BrokerError, order: BrokerOrder) -> BrokerError:
    """A refused cancel read by the order's state, read back after the refusal: terminal ->
    `OrderNotCancelable` carrying that state (a fill that won the race included); still open ->
    the cancel did not happen, whatever the refusal's words said."""
    if order.status in TERMINAL_STATUSES:
        return OrderNotCancelable(
            f"cancel of {broker_id} refused: the order is {order.status.value}", order=order
        )
    return BrokerError(
        f"cancel of {broker_id} refused ({refused}) while the order is {order.status.value}"
    )


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
