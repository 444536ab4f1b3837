"""The invariants every fault cell and every crash-and-retry must keep, checked against what the
broker (alpaca_sim) and AWS (moto) hold, never against the service's word alone:

- no client_order_id sent again once the broker had placed it;
- never more filled than planned per item (a full exit: exactly the held quantity at most);
- no order of the plan open at the broker once recovery's bound has passed (at the end of a
  cell; after a crash, once the sweep or a refused redelivery has cleaned up: docs/design.md
  5.1);
- exactly one result event per completed execution (the same event twice only where a lost
  PutEvents answer was resent, and then with one event_id);
- a ledger for every attempt that reported (S3 objects or the DLQ copy), and the last one
  accounts for every order and fill at the broker;
- a result status that tells the truth: every item's fills are the broker's, SUCCESS only when
  everything filled at the broker, anything not filled is not called filled.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from rel_support import LedgerObjects, SimTruth, filled_notional, filled_qty

from plan_executor.adapters.failure_sink import DeadLetteredLedger
from plan_executor.domain.ledger import LedgerOrderLine

FILL_SLACK = Decimal("0.01")
"""Fill prices move an item's filled dollars off its plan by at most this fraction (walk
steps, a spread, the drift of a second or two). A double execution is 100 % off."""
WHOLE_SHARE_SYMBOLS = frozenset({"BRK.B"})
"""Bought in whole shares: up to one share's price of the plan stays unspent."""
_SIDE = {"SELL": "sell", "BUY": "buy"}
_UNFILLED = frozenset({"FAILED", "CANCELED", "SKIPPED"})
_COMMITTED_FAULTS = ("/after",)


@dataclass(frozen=True)
class PlanAccount:
    """Everything both sides hold about one plan after all its invocations."""

    items: Sequence[Mapping[str, Any]]
    initial: Mapping[str, Decimal]
    truth: SimTruth
    ledgers: LedgerObjects
    letters: Mapping[str, DeadLetteredLedger]
    events: Sequence[Mapping[str, Any]]
    results: Sequence[Mapping[str, Any]]
    """What the invocations returned, in order (a stored duplicate repeats an earlier one)."""
    duplicate_events_possible: bool = False

    @property
    def final(self) -> Mapping[str, Any]:
        """The plan's last word: the last result returned, else the last result published."""
        if self.results:
            return self.results[-1]
        assert self.events, "neither a result nor a published event"
        detail: Mapping[str, Any] = self.events[-1]["detail"]
        return detail


def assert_every_invariant(account: PlanAccount) -> None:
    assert_no_order_placed_twice(account.truth)
    assert_never_overfilled(account)
    assert_nothing_left_open(account.truth)
    assert_one_event_per_execution(account)
    assert_ledger_for_every_attempt(account)
    assert_last_ledger_accounts_for_every_fill(account)
    assert_status_tells_the_truth(account)


def assert_no_order_placed_twice(truth: SimTruth) -> None:
    """A POST may be repeated only while the broker has not placed the order (a refusal before
    commit, confirmed absent by a lookup); once placed, never again."""
    placed: set[str] = set()
    at_broker = {str(order["client_order_id"]) for order in truth.orders}
    for entry in truth.posts():
        if "client_order_id" not in entry:
            continue  # refused before the venue read it (a fault "before"): nothing placed
        cid = str(entry["client_order_id"])
        assert cid not in placed, f"{cid} sent again after the broker had placed it"
        fault = str(entry.get("fault") or "")
        if entry["status"] == 200 or fault.endswith(_COMMITTED_FAULTS):
            placed.add(cid)
        # A 422 for an id the broker holds is its "client_order_id must be unique".
        assert not (entry["status"] == 422 and cid in at_broker), f"{cid} resent: duplicate"
    assert len(at_broker) == len(truth.orders)


def assert_never_overfilled(account: PlanAccount) -> None:
    for item in account.items:
        if item["action"] not in _SIDE:
            continue
        symbol = str(item["symbol"])
        orders = account.truth.orders_for(symbol, _SIDE[item["action"]])
        if is_full_exit(item):
            held = account.initial.get(symbol, Decimal(0))
            assert filled_qty(orders) <= held, f"{symbol}: sold {filled_qty(orders)} of {held}"
            continue
        ceiling = planned_notional(item) * (1 + FILL_SLACK)
        notional = filled_notional(orders)
        assert notional <= ceiling, f"{symbol}: filled ${notional} against a plan of {item}"


def assert_nothing_left_open(truth: SimTruth) -> None:
    still_open = [(o["client_order_id"], o["status"]) for o in truth.open_orders()]
    assert still_open == [], f"orders left open at the broker: {still_open}"


def assert_one_event_per_execution(account: PlanAccount) -> None:
    copies = Counter(str(event["detail"]["event_id"]) for event in account.events)
    details = {str(e["detail"]["event_id"]): e["detail"] for e in account.events}
    for event in account.events:
        assert event["detail"] == details[str(event["detail"]["event_id"])], "copies differ"
    repeated = {event_id: n for event_id, n in copies.items() if n > 1}
    assert not repeated or account.duplicate_events_possible, f"events repeated: {repeated}"
    per_attempt = Counter(str(detail["attempt"]) for detail in details.values())
    assert all(n == 1 for n in per_attempt.values()), f"an attempt published twice: {per_attempt}"
    for result in _distinct(account.results):
        published = details.get(str(result["event_id"]))
        assert published is not None, f"result {result['event_id']} was never published"
        assert published["status"] == result["status"]
        assert published["attempt"] == result["attempt"]


def assert_ledger_for_every_attempt(account: PlanAccount) -> None:
    reported = [*_distinct(account.results), *(e["detail"] for e in account.events)]
    for result in reported:
        attempt = str(result["attempt"])
        if result["ledger"] is not None:
            assert attempt in account.ledgers.results, f"no result.json for attempt {attempt}"
            assert attempt in account.ledgers.order_lines, f"no orders.jsonl for {attempt}"
            stored = account.ledgers.results[attempt]
            assert stored["status"] == result["status"]
            assert stored["event_id"] == result["event_id"]
        else:
            assert attempt in account.letters, f"attempt {attempt}: ledger in neither S3 nor DLQ"
            assert "ledger not written to S3" in str(result["reason"])


def assert_last_ledger_accounts_for_every_fill(account: PlanAccount) -> None:
    final = account.final
    lines = _ledger_lines(account, str(final["attempt"]))
    by_cid = {line.client_order_id: line for line in lines}
    for order in account.truth.orders:
        cid = str(order["client_order_id"])
        assert cid in by_cid, f"{cid} is at the broker but in no line of the last ledger"
        assert by_cid[cid].filled_qty == Decimal(str(order["filled_qty"])), cid
        assert by_cid[cid].broker_order_id == order["id"], cid


def assert_status_tells_the_truth(account: PlanAccount) -> None:
    final = account.final
    statuses = {str(order["symbol"]): str(order["status"]) for order in final["orders"]}
    if final["status"] == "REJECTED":
        assert account.truth.orders == [], "REJECTED, yet orders reached the broker"
        return
    for order in final["orders"]:
        _assert_item_truth(account, order)
    complete = {
        str(item["symbol"]): _complete_at_broker(account, item)
        for item in account.items
        if item["action"] in _SIDE
    }
    if final["status"] == "SUCCESS":
        assert all(complete.values()), f"SUCCESS, yet not all filled at the broker: {complete}"
        assert all(statuses[s] == "FILLED" for s in complete), statuses
    if not all(complete.values()):
        assert final["status"] != "SUCCESS", f"SUCCESS with unfilled items: {complete}"
    assert final["status"] == plan_status_of(final), (final["status"], statuses)


def _assert_item_truth(account: PlanAccount, order: Mapping[str, Any]) -> None:
    symbol, status = str(order["symbol"]), str(order["status"])
    item = next(i for i in account.items if i["symbol"] == symbol)
    if item["action"] not in _SIDE:
        assert order["child_orders"] == []
        return
    at_broker = account.truth.orders_for(symbol, _SIDE[item["action"]])
    by_cid = {str(o["client_order_id"]): o for o in at_broker}
    reported = {str(child["client_order_id"]): child for child in order["child_orders"]}
    missing = set(by_cid) - set(reported)
    assert not missing, f"{symbol}: orders at the broker the result does not report: {missing}"
    for cid in set(reported) - set(by_cid):
        refused = reported[cid]
        assert refused["status"] == "rejected", f"{cid} reported, yet the broker never had it"
        assert refused["broker_order_id"] is None
        assert Decimal(str(refused["filled_qty"])) == 0
    for cid, child in reported.items():
        if cid not in by_cid:
            continue
        assert child["status"] == by_cid[cid]["status"], (cid, child, by_cid[cid])
        assert Decimal(str(child["filled_qty"])) == Decimal(str(by_cid[cid]["filled_qty"])), cid
    qty = filled_qty(at_broker)
    assert Decimal(str(order["filled_qty"])) == qty, f"{symbol}: reported fills are not the sim's"
    if status == "FILLED":
        assert _complete_at_broker(account, item), f"{symbol} FILLED, yet not at the broker"
    if status in _UNFILLED:
        assert qty == 0, f"{symbol} {status}, yet {qty} filled at the broker"
    if status == "PARTIALLY_FILLED":
        assert qty > 0


def _complete_at_broker(account: PlanAccount, item: Mapping[str, Any]) -> bool:
    symbol = str(item["symbol"])
    orders = account.truth.orders_for(symbol, _SIDE[item["action"]])
    if is_full_exit(item):
        return filled_qty(orders) == account.initial.get(symbol, Decimal(0))
    floor = planned_notional(item) * (1 - FILL_SLACK)
    qty = filled_qty(orders)
    if symbol in WHOLE_SHARE_SYMBOLS and qty > 0:
        floor -= filled_notional(orders) / qty
    return filled_notional(orders) >= floor


def plan_status_of(final: Mapping[str, Any]) -> str:
    """The plan status its items imply (the design's rule, restated; HOLDs left out)."""
    if final["status"] == "TIMED_OUT":
        return "TIMED_OUT"
    trading = {str(o["status"]) for o in final["orders"] if o["action"] != "HOLD"}
    if trading <= {"FILLED"}:
        return "SUCCESS"
    if trading <= {"FILLED", "SKIPPED"}:
        return "SUCCESS_WITH_SKIPS"
    if not trading & {"FILLED", "PARTIALLY_FILLED"}:
        return "FAILURE"
    return "PARTIAL_SUCCESS"


def is_full_exit(item: Mapping[str, Any]) -> bool:
    return item["action"] == "SELL" and Decimal(str(item["target_weight"])) == 0


def planned_notional(item: Mapping[str, Any]) -> Decimal:
    return abs(Decimal(str(item["trade_amount"])))


def _ledger_lines(account: PlanAccount, attempt: str) -> list[LedgerOrderLine]:
    if attempt in account.ledgers.order_lines:
        return account.ledgers.order_lines[attempt]
    assert attempt in account.letters, f"no ledger at all for attempt {attempt}"
    return [line for line in account.letters[attempt].lines if isinstance(line, LedgerOrderLine)]


def _distinct(results: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Results by event_id, once each (a stored duplicate is the same result served again)."""
    seen: dict[str, Mapping[str, Any]] = {}
    for result in results:
        seen.setdefault(str(result["event_id"]), result)
    return list(seen.values())
