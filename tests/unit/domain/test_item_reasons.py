"""An item's reason describes how it ended (issue 12 item 5): one rule over what was told on the
way and what the final state explains."""

import pytest

from plan_executor.domain.enums import ItemStatus
from plan_executor.domain.outcome import (
    EARLIER_ATTEMPT_REASON,
    ItemAccount,
    ItemEnding,
    item_reason,
)

E = ItemEnding
I = ItemStatus  # noqa: E741
CAPPED = "capped_at_position: sized to the 22.5 shares held; the 20000.00 to sell is ..."


@pytest.mark.parametrize(
    ("ending", "told", "notes"),
    [
        (E.WORKED, None, ("market order unfilled after 0:00:02",)),  # a slow ack, then a fill
        (E.CANCELED, "the deadline came", ()),  # the cleanup's cancel lost to a fill
        (E.SKIPPED, "below_min_notional: asked 0.049, buying power 9000", ()),  # a retry's dust
        (E.ERRORED, "cancel of x not confirmed; nothing more sent", ("reduced to 9 of 10",)),
    ],
)
def test_a_filled_item_carries_no_reason_told_on_the_way(
    ending: ItemEnding, told: str | None, notes: tuple[str, ...]
) -> None:
    account = ItemAccount(I.FILLED, ending, told_ending=told, notes=notes)
    assert item_reason(account) is None


def test_a_filled_item_keeps_what_explains_its_final_state() -> None:
    account = ItemAccount(
        I.FILLED,
        E.SKIPPED,
        told_ending="below_min_notional: asked 0.049, buying power 9000",
        explanations=(EARLIER_ATTEMPT_REASON,),
    )
    assert item_reason(account) == EARLIER_ATTEMPT_REASON
    capped = ItemAccount(I.FILLED, E.WORKED, explanations=(CAPPED,))
    assert item_reason(capped) == CAPPED


def test_an_unfinished_item_gives_its_ending_then_explanations_then_steps() -> None:
    account = ItemAccount(
        I.PARTIALLY_FILLED,
        E.CANCELED,
        told_ending="the deadline came",
        notes=("reduced to 485.00 of 900.00 (reduced_pro_rata)", "the deadline came"),
        explanations=(CAPPED,),
    )
    assert item_reason(account) == (
        f"the deadline came; {CAPPED}; reduced to 485.00 of 900.00 (reduced_pro_rata)"
    )


def test_a_skip_after_a_reduction_names_both() -> None:
    account = ItemAccount(
        I.SKIPPED,
        E.SKIPPED,
        told_ending="rounds_to_zero: 485.00 buys less than one whole share at 497.65",
        notes=("reduced to 485.00 of 900.00 (reduced_pro_rata)",),
        sent_orders=False,
    )
    reason = item_reason(account)
    assert reason is not None
    assert reason.startswith("rounds_to_zero: ")
    assert reason.endswith("(reduced_pro_rata)")


@pytest.mark.parametrize(
    ("status", "ending", "sent", "expected"),
    [
        (I.FAILED, E.WORKED, False, "nothing sent"),
        (I.FAILED, E.WORKED, True, "nothing filled"),
        (I.PARTIALLY_FILLED, E.WORKED, True, "part of the amount filled"),
        (I.CANCELED, E.CANCELED, True, "cancelled"),
        (I.FAILED, E.ERRORED, True, "error"),
    ],
)
def test_an_unfinished_item_always_says_how_it_ended(
    status: ItemStatus, ending: ItemEnding, sent: bool, expected: str
) -> None:
    reason = item_reason(ItemAccount(status, ending, sent_orders=sent))
    assert reason is not None
    assert expected in reason


def test_completed_by_an_earlier_attempt_is_said_only_when_the_fills_bear_it_out() -> None:
    told = ItemAccount(
        I.PARTIALLY_FILLED,
        E.WORKED,
        told_ending=EARLIER_ATTEMPT_REASON,
        notes=("reduced to 388.00 of 1002.25 (reduced_pro_rata)",),
    )
    assert item_reason(told) == "reduced to 388.00 of 1002.25 (reduced_pro_rata)"
