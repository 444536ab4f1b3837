"""The recorded wordings of two refusals (alpaca_sim.refusals): a duplicate client_order_id and a
cancel of an order past cancelling, in each reading a scenario can pick."""

import dataclasses
from collections.abc import Callable

import pytest
from simcore_support import limit, make_venue, market, recorded, refused, step

from alpaca_sim import SimError
from alpaca_sim.errors import BAD_REQUEST, UNPROCESSABLE
from alpaca_sim.refusals import RefusalWording
from alpaca_sim.scenario import default_scenario, scenario_from_dict
from alpaca_sim.venue import Venue

AFTER_ACKS_S = 5.0
"""Simulated seconds after which any configured ack and fill latency has run out."""


def venue_with(**wording: str) -> Venue:
    scenario = dataclasses.replace(default_scenario(), refusals=RefusalWording(**wording))
    return Venue(scenario, seed=7)


def filled_order(venue: Venue) -> str:
    venue.script_quote("AAPL", bid="270.00", ask="270.10")
    order_id = str(venue.submit_order(market("AAPL", "buy", "1"))["id"])
    step(venue, AFTER_ACKS_S)
    assert venue.get_order(order_id)["status"] == "filled"
    return order_id


def canceled_order(venue: Venue) -> str:
    order_id = str(venue.submit_order(limit("AAPL", "buy", "1", "1.00"))["id"])
    venue.cancel_order(order_id)
    step(venue, AFTER_ACKS_S)
    assert venue.get_order(order_id)["status"] == "canceled"
    return order_id


def rejected_order(venue: Venue) -> str:
    venue.reject_next_order(200, None, "rejected by venue")
    order_id = str(venue.submit_order(limit("AAPL", "buy", "1", "1.00"))["id"])
    step(venue, AFTER_ACKS_S)
    assert venue.get_order(order_id)["status"] == "rejected"
    return order_id


def replaced_order(venue: Venue) -> str:
    order_id = str(venue.submit_order(limit("AAPL", "buy", "1", "1.00"))["id"])
    step(venue, AFTER_ACKS_S)
    venue.replace_order(order_id, {"limit_price": "1.01"})
    assert venue.get_order(order_id)["status"] == "replaced"
    return order_id


@pytest.mark.parametrize(
    ("make_order", "status"),
    [
        (filled_order, "filled"),
        (canceled_order, "canceled"),
        (rejected_order, "rejected"),
        (replaced_order, "replaced"),
    ],
)
def test_a_cancel_past_cancelling_names_the_orders_state(
    make_order: Callable[[Venue], str], status: str
) -> None:
    venue = make_venue()
    order_id = make_order(venue)

    error = refused(lambda: venue.cancel_order(order_id))

    assert (error.status, error.code, error.message) == (
        422,
        UNPROCESSABLE,
        f'order is already in "{status}" state',
    )
    assert venue.get_order(order_id)["status"] == status


def test_the_2021_reading_takes_a_cancel_of_a_filled_order_and_changes_nothing() -> None:
    venue = venue_with(cancel_when_terminal="accepted")
    order_id = filled_order(venue)
    updates = recorded(venue)

    venue.cancel_order(order_id)
    step(venue, AFTER_ACKS_S)

    assert venue.get_order(order_id)["status"] == "filled"
    assert updates.events(order_id) == []


def test_the_2021_reading_still_cancels_an_open_order() -> None:
    venue = venue_with(cancel_when_terminal="accepted")

    order_id = canceled_order(venue)

    assert venue.get_order(order_id)["status"] == "canceled"


@pytest.mark.parametrize(
    ("reading", "status", "code", "message"),
    [
        ("underscored", 422, BAD_REQUEST, "client_order_id must be unique"),
        ("underscored_42210000", 422, UNPROCESSABLE, "client_order_id must be unique"),
        ("spaced", 422, BAD_REQUEST, "client order id must be unique"),
        ("spaced_without_code", 422, None, "client order id must be unique"),
    ],
)
def test_a_duplicate_client_order_id_in_each_recorded_wording(
    reading: str, status: int, code: int | None, message: str
) -> None:
    venue = venue_with(duplicate_client_order_id=reading)
    venue.submit_order(limit("AAPL", "buy", "1", "1.00", client_order_id="dup-1"))

    error = refused(
        lambda: venue.submit_order(limit("AAPL", "buy", "2", "1.00", client_order_id="dup-1"))
    )

    assert (error.status, error.code, error.message) == (status, code, message)
    assert ("code" in error.body()) is (code is not None)
    assert len(venue.list_orders(status="all", limit=500)) == 1


def test_the_default_scenario_uses_the_current_wordings() -> None:
    assert default_scenario().refusals == RefusalWording("underscored", "already_in_state")


def test_a_scenario_document_picks_its_readings() -> None:
    document = {
        "symbols": {"AAPL": {"price": "100"}},
        "clock": {"start": "2026-03-02T15:00:00+00:00"},
        "refusals": {"duplicate_client_order_id": "spaced", "cancel_when_terminal": "accepted"},
    }

    scenario = scenario_from_dict(document)

    assert scenario.refusals == RefusalWording("spaced", "accepted")


@pytest.mark.parametrize(
    ("refusals", "complaint"),
    [
        ({"duplicate_client_order_id": "shouted"}, "duplicate_client_order_id must be one of"),
        ({"cancel_when_terminal": "ignored"}, "cancel_when_terminal must be one of"),
        ({"other": "x"}, "unknown refusals setting"),
    ],
)
def test_an_unknown_reading_is_refused(refusals: dict[str, str], complaint: str) -> None:
    document = {
        "symbols": {"AAPL": {"price": "100"}},
        "clock": {"start": "2026-03-02T15:00:00+00:00"},
        "refusals": refusals,
    }

    with pytest.raises(SimError, match=complaint):
        scenario_from_dict(document)
