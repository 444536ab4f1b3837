"""The venue's order book in simulated time: admission, acks, fills, cancels, expiry.

`run_until(t)` replays everything due up to t in time order (scheduled acks, cancels and
expiries, a matching pass at every market step while orders are working, and other traders'
arrivals on symbols where our limits rest), so the outcome depends only on the seed and the
calls made, not on how often anyone looks.
What an order that may trade gets (price, size, whether flow fills it) is the scenario's fill
model: alpaca_sim.fillmodel.
"""

import heapq
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from alpaca_sim.account import Account
from alpaca_sim.account_book import account_book
from alpaca_sim.admission import Admission, Book, admit
from alpaca_sim.decimals import Shares
from alpaca_sim.errors import SimError
from alpaca_sim.fillmodel import fill_model_for
from alpaca_sim.flow import Arrival, flow_can_trade, flow_fills, flow_streams
from alpaca_sim.market import Market, Quote
from alpaca_sim.matching import (
    Execution,
    cut_to,
    fills_completely,
    is_complete,
    race_winning_execution,
)
from alpaca_sim.orders import EXECUTABLE, Fill, OrderEvent, OrderStatus, SimOrder, next_transition
from alpaca_sim.rules import OrderRequest, check_cancelable
from alpaca_sim.scenario import Scenario
from alpaca_sim.wire import Json, trade_update, without_prices

TradeUpdate = Json
E = OrderEvent
S = OrderStatus
_END_OF_TIME = datetime.max.replace(tzinfo=UTC)
_EXPIRABLE = frozenset({S.ACCEPTED, S.PENDING_NEW, S.NEW, S.PARTIALLY_FILLED, S.DONE_FOR_DAY})


@dataclass(frozen=True)
class ArmedFault:
    """A venue-side fault waiting for the next order on `symbol` (None: any symbol)."""

    symbol: str | None
    hidden_reads: int = 0  # unpriced fills: REST answers that show no average price either
    partial_qty: Shares | None = None  # forced partial fills: the most the fill may take


class Due(StrEnum):
    ACK = "ack"
    MATCH = "match"
    CANCEL = "cancel"
    EXPIRE = "expire"


class Engine:
    def __init__(self, scenario: Scenario, seed: int, now: datetime) -> None:
        # Simulation randomness, not security: seeded so that runs are reproducible.
        master = random.Random(seed)  # noqa: S311
        self._ids = random.Random(master.getrandbits(64))  # noqa: S311
        self.scenario = scenario
        self.calendar = scenario.clock.calendar()
        self.market = Market(scenario, master, now, self.calendar)
        self.fill_model = fill_model_for(scenario, master.getrandbits(64))
        self.account = Account(scenario.cash, scenario.positions)
        self.orders: dict[str, SimOrder] = {}
        self.client_order_ids: dict[str, str] = {}
        self.fills: list[Fill] = []
        self.account_book = account_book(scenario, self.account, self.calendar, self.fills, now)
        self.outbox: list[TradeUpdate] = []
        self.history: list[TradeUpdate] = []
        self.cursor = now
        self.ack_latency = timedelta(milliseconds=scenario.latency.ack_ms)
        self.fill_latency = timedelta(milliseconds=scenario.latency.fill_ms)
        self.race_armed = False  # the next cancel (on race_symbol, or any) loses to a fill
        self.race_symbol: str | None = None
        self.reject_next: tuple[int, int | None, str] | None = None
        self.venue_cancels: list[ArmedFault] = []  # each cancels one order once acknowledged
        self.unpriced_fills: list[ArmedFault] = []  # each strips the prices of one fill
        self.partial_fills: list[ArmedFault] = []  # each cuts one fill short (paper's random ones)
        self._agenda: list[tuple[datetime, int, Due, str]] = []
        self._open: dict[str, SimOrder] = {}  # orders not yet terminal, in arrival order
        uses_flow = self.fill_model.uses_flow
        self._flows = flow_streams(scenario, self.market, now, self.calendar) if uses_flow else {}
        self._seq = 0

    def open_orders(self) -> list[SimOrder]:
        """The orders not yet terminal, in arrival order: `orders` filtered by is_open, without
        walking every order ever placed."""
        return [o for o in self._open.values() if o.is_open]

    def new_id(self) -> str:
        return str(uuid.UUID(int=self._ids.getrandbits(128), version=4))

    # ----- time -----

    def run_until(self, now: datetime) -> None:
        """Replay what is due up to `now`; at one instant: agenda, then the step, then flow."""
        while True:
            due = self._agenda[0][0] if self._agenda and self._agenda[0][0] <= now else None
            step = self._next_matching_step(now)
            flow = self._next_arrival(now)
            pending = [
                (at, rank)
                for rank, at in enumerate((due, step, None if flow is None else flow[1].at))
                if at is not None
            ]
            if not pending:
                break
            at, first = min(pending)
            if first == 0:
                _, _, kind, order_id = heapq.heappop(self._agenda)
                self.cursor = max(self.cursor, at)
                self._handle(kind, self.orders[order_id], at)
            elif first == 1:
                self.cursor = at
                for order in list(self._open.values()):
                    if self._working(order, at):
                        self._try_match(order, at)
            elif flow is not None:
                self._meet_flow(*flow)
        self.cursor = max(self.cursor, now)

    def next_due(self) -> datetime | None:
        """The earliest instant at which `run_until` would act if nobody called in between (an
        agenda entry, a matching step or a flow arrival); None when nothing is scheduled."""
        pending = [self._agenda[0][0]] if self._agenda else []
        step = self._next_matching_step(_END_OF_TIME)
        if step is not None:
            pending.append(step)
        flow = self._next_arrival(_END_OF_TIME)
        if flow is not None:
            pending.append(flow[1].at)
        return min(pending, default=None)

    def quote_changed(self, symbol: str) -> None:
        """A scripted quote or a halt change is market news: working orders see it at once."""
        at = self.cursor
        for order in list(self._open.values()):
            if order.symbol == symbol and self._working(order, at):
                self._try_match(order, at)

    def _next_matching_step(self, now: datetime) -> datetime | None:
        if not any(self._working(o, self.cursor) for o in self._open.values()):
            return None
        step = self.market.next_step_time(self.cursor)
        return step if step <= now else None

    def _next_arrival(self, now: datetime) -> tuple[str, Arrival] | None:
        """The earliest flow arrival up to `now` on a symbol where one of our limits works."""
        if not self._flows:
            return None
        working = {
            o.symbol
            for o in self._open.values()
            if o.order_type == "limit" and self._working(o, self.cursor)
        }
        earliest: tuple[str, Arrival] | None = None
        for symbol in sorted(working & self._flows.keys()):
            arrival = self._flows[symbol].next_from(self.cursor)
            if arrival.at <= now and (earliest is None or arrival.at < earliest[1].at):
                earliest = (symbol, arrival)
        return earliest

    def _meet_flow(self, symbol: str, arrival: Arrival) -> None:
        """Another trader's marketable order arrives: it may hit our resting limits."""
        self._flows[symbol].consume()
        at = self.cursor = arrival.at
        if not self.calendar.is_open(at) or self.market.is_halted(symbol):
            return
        quote = self.market.quote(symbol, at)
        if not flow_can_trade(quote, at, self.market.stale_after):
            return
        resting = [o for o in self._open.values() if o.symbol == symbol and self._working(o, at)]
        fills = flow_fills(
            arrival,
            resting,
            quote,
            quote.touch(arrival.side)[1],  # the displayed size queued at our touch
            whole_shares=not self.scenario.assets[symbol].fractionable,
        )
        for order, execution in fills:
            self._execute(order, execution, at)

    def _working(self, order: SimOrder, at: datetime) -> bool:
        eligible = order.eligible_at
        return order.status in EXECUTABLE and eligible is not None and eligible <= at

    def _schedule(self, at: datetime, kind: Due, order: SimOrder) -> None:
        self._seq += 1
        heapq.heappush(self._agenda, (at, self._seq, kind, order.id))

    def _handle(self, kind: Due, order: SimOrder, at: datetime) -> None:
        if kind is Due.ACK and order.status in {S.ACCEPTED, S.PENDING_NEW}:
            self._acknowledge(order, at)
        elif kind is Due.MATCH and order.status in EXECUTABLE:
            self._first_match(order, at)
        elif kind in {Due.CANCEL, Due.EXPIRE} and order.status is S.PENDING_CANCEL:
            self._move(order, E.CANCELED, at)  # a cancel still pending at the close completes
        elif kind is Due.EXPIRE and order.status in _EXPIRABLE:
            self._move(order, E.EXPIRED, at)

    def _move(
        self,
        order: SimOrder,
        event: OrderEvent,
        at: datetime,
        fill: Fill | None = None,
        *,
        unpriced: bool = False,
    ) -> None:
        """Apply one table transition and emit its trade update (`unpriced`: without prices)."""
        transition = order.apply(event, at)
        if not order.is_open:
            self._open.pop(order.id, None)
        update = trade_update(transition.update, order, at, fill)
        self._publish(without_prices(update) if unpriced else update)

    def _publish(self, update: TradeUpdate) -> None:
        self.outbox.append(update)
        self.history.append(update)

    # ----- order entry -----

    def place(self, request: OrderRequest, *, replacing: SimOrder | None = None) -> SimOrder:
        at = self.cursor
        self._raise_injected_rejection()
        admission = admit(self._book(), request, at, replacing=replacing)
        reject_on_ack = self.reject_next is not None
        self.reject_next = None
        if replacing is not None:
            self._move(replacing, E.REPLACE_REQUESTED, at)
        order = self._create(admission, at, reject_on_ack, replacing)
        if replacing is not None:
            replacing.replaced_by = order.id
            self._move(replacing, E.REPLACED, at)
        self.run_until(at)
        return order

    def _raise_injected_rejection(self) -> None:
        """An injected error status refuses the next order outright; a 2xx one lets it be
        accepted and rejects it on acknowledgement."""
        if self.reject_next is not None and self.reject_next[0] >= 400:
            status, code, message = self.reject_next
            self.reject_next = None
            raise SimError(status, code, message)

    def _book(self) -> Book:
        return Book(
            self.account_book,
            self.open_orders(),
            self.client_order_ids,
            self.scenario.assets,
            self.market,
            self.scenario.collar_pct,
            self.scenario.refusals,
        )

    def _create(
        self, admission: Admission, at: datetime, reject_on_ack: bool, replaces: SimOrder | None
    ) -> SimOrder:
        request = admission.request
        in_session = self.calendar.is_open(at)
        birth = next_transition(
            None, E.RECEIVED_IN_SESSION if in_session else E.RECEIVED_OUT_OF_SESSION
        )
        self._seq += 1
        order = SimOrder(
            id=self.new_id(),
            seq=self._seq,
            client_order_id=request.client_order_id or self.new_id(),
            symbol=request.symbol,
            asset_id=admission.asset.asset_id,
            side=request.side,
            order_type=request.order_type,
            time_in_force=request.time_in_force,
            qty=request.qty,
            notional=request.notional,
            limit_price=request.limit_price,
            collar_price=admission.collar,
            valued_at=admission.valued_at,
            extended_hours=request.extended_hours,
            created_at=at,
            status=birth.to,
            sell_hold_qty=admission.sell_hold_qty,
            replaces=None if replaces is None else replaces.id,
            reject_on_ack=reject_on_ack,
        )
        self.orders[order.id] = order
        self.client_order_ids[order.client_order_id] = order.id
        self._open[order.id] = order
        self._publish(trade_update(birth.update, order, at, None))
        ack_at = at + self.ack_latency
        # Outside the session an order is taken ("accepted") and queued, not filled. Alpaca,
        # "Orders Submitted Outside of Eligible Trading Hours": "Orders submitted outside of
        # Regular Trading Hours (9:30am - 4:00pm ET) that are not eligible to be executed
        # during extended hours will be queued and eligible for execution at the time of the
        # next market open" (https://docs.alpaca.markets/orders/, now under
        # https://docs.alpaca.markets/docs/orders-at-alpaca). Only DAY limits marked
        # extended_hours are eligible, so a market DAY order sent after the close waits.
        if not self.calendar.is_open(ack_at):
            ack_at = self.calendar.next_open(ack_at)  # routed when the session opens
        self._schedule(ack_at, Due.ACK, order)
        if order.time_in_force == "day":
            # Alpaca, Time in Force, day: "eligible for execution only on the day it is live",
            # cancelled automatically at the end of market hours
            # (https://alpaca.markets/docs/trading/orders/#time-in-force); modelled as expiring
            # at the session's close.
            order.expires_at = self.calendar.close_for(ack_at)
            self._schedule(order.expires_at, Due.EXPIRE, order)
        return order

    def _acknowledge(self, order: SimOrder, at: datetime) -> None:
        if order.reject_on_ack:
            self._move(order, E.REJECTED, at)
            return
        self._move(order, E.ACKNOWLEDGED, at)
        if _take_armed(self.venue_cancels, order.symbol) is not None:
            self._move(order, E.CANCELED, at)  # canceled by the venue, unasked
            return
        order.eligible_at = at + self.fill_latency
        if self.fill_latency:
            self._schedule(order.eligible_at, Due.MATCH, order)
        else:
            self._first_match(order, at)

    # ----- matching -----

    def _first_match(self, order: SimOrder, at: datetime) -> None:
        """The order's first chance to execute; IOC/FOK leftovers are canceled here."""
        if order.time_in_force == "fok":
            found = self._find(order, at)
            if found is None or not fills_completely(order, found[1]):
                self._move(order, E.CANCELED, at)
                return
        self._try_match(order, at)
        if order.time_in_force in {"ioc", "fok"} and order.status in {S.NEW, S.PARTIALLY_FILLED}:
            self._move(order, E.CANCELED, at)

    def _find(self, order: SimOrder, at: datetime) -> tuple[Quote, Execution] | None:
        if not self.calendar.is_open(at):
            return None
        whole = not self.scenario.assets[order.symbol].fractionable
        return self.fill_model.find(order, self.market, at, whole_shares=whole)

    def _try_match(self, order: SimOrder, at: datetime) -> None:
        found = self._find(order, at)
        if found is not None:
            self._execute(order, self._cut_short(order, found[1]), at)

    def _cut_short(self, order: SimOrder, execution: Execution) -> Execution:
        """An armed partial fill takes at most its quantity (never from a fill-or-kill)."""
        if order.time_in_force == "fok":
            return execution
        armed = _take_armed(self.partial_fills, order.symbol)
        if armed is None or armed.partial_qty is None:
            return execution
        whole = not self.scenario.assets[order.symbol].fractionable
        return cut_to(execution, armed.partial_qty, whole_shares=whole)

    def _execute(self, order: SimOrder, execution: Execution, at: datetime) -> None:
        price, qty = execution.price, execution.qty
        position = self.account.apply_fill(order.symbol, order.side, qty, price)
        fill = Fill(self.new_id(), order.id, order.symbol, order.side, price, qty, at, position)
        order.fills.append(fill)
        self.fills.append(fill)
        event = E.FILLED if is_complete(order, price) else E.PARTIALLY_FILLED
        unpriced = _take_armed(self.unpriced_fills, order.symbol)
        if unpriced is not None:
            order.unpriced_reads = unpriced.hidden_reads
        self._move(order, event, at, fill, unpriced=unpriced is not None)

    # ----- cancel -----

    def cancel(self, order: SimOrder) -> None:
        """Request a cancel (asynchronous, like Alpaca: confirmed after the ack latency)."""
        at = self.cursor
        if not check_cancelable(order, self.scenario.refusals) or order.status is S.PENDING_CANCEL:
            return
        was_live = order.status in {S.NEW, S.PARTIALLY_FILLED}
        self._move(order, E.CANCEL_REQUESTED, at)
        if was_live and self.race_armed and self.race_symbol in {None, order.symbol}:
            execution = race_winning_execution(order, self.market.quote(order.symbol, at))
            if execution is not None:
                self.race_armed = False
                self._execute(order, execution, at)
                self._move(order, E.CANCEL_REJECTED, at)
                return
        self._schedule(at + self.ack_latency, Due.CANCEL, order)
        self.run_until(at)


def _take_armed(armed: list[ArmedFault], symbol: str) -> ArmedFault | None:
    """Remove and return the first armed fault that applies to `symbol`."""
    for index, fault in enumerate(armed):
        if fault.symbol in {None, symbol}:
            return armed.pop(index)
    return None
