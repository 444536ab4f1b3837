"""Reading the guard rails' one assets listing: only the symbols asked for, failing closed."""

import pytest

from plan_executor.adapters.alpaca_assets import ACTIVE_US_EQUITIES, assets_from_listing
from plan_executor.adapters.alpaca_wire import MalformedResponseError


def _listed(symbol: str, *, tradable: bool = True, fractionable: bool = True) -> dict[str, object]:
    return {
        "symbol": symbol,
        "class": "us_equity",
        "status": "active",
        "tradable": tradable,
        "fractionable": fractionable,
    }


def test_the_request_asks_for_active_us_equities() -> None:
    assert ACTIVE_US_EQUITIES.to_request_fields() == {
        "status": "active",
        "asset_class": "us_equity",
    }


def test_every_symbol_asked_for_is_answered_in_order_and_others_are_not_read() -> None:
    whole_shares = _listed("BRK.B", fractionable=False)
    listing = [_listed("AAPL"), "not an object", {"symbol": 7}, whole_shares]

    assets = assets_from_listing(listing, ["BRK.B", "AAPL"])

    assert list(assets) == ["BRK.B", "AAPL"]
    assert (assets["AAPL"].tradable, assets["AAPL"].active) == (True, True)
    assert assets["BRK.B"].fractionable is False


def test_a_symbol_not_listed_reads_as_neither_tradable_nor_active() -> None:
    asset = assets_from_listing([_listed("AAPL")], ["DFNCT"])["DFNCT"]

    assert (asset.tradable, asset.active, asset.fractionable) == (False, False, False)


def test_a_symbol_listed_twice_is_as_restricted_as_its_strictest_entry() -> None:
    listing = [_listed("XYZ"), _listed("XYZ", tradable=False), _listed("XYZ")]

    assert assets_from_listing(listing, ["XYZ"])["XYZ"].tradable is False


def test_an_answer_that_is_not_a_list_cannot_be_read() -> None:
    with pytest.raises(MalformedResponseError, match="expected a JSON array"):
        assets_from_listing({"message": "oops"}, ["AAPL"])
