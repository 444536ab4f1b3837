import pytest

from plan_executor.domain.enums import ExecutionStatus, ItemStatus
from plan_executor.domain.money import dollars, shares
from plan_executor.domain.outcome import ItemEnding, ItemProgress, classify_item, classify_plan

E = ItemEnding
I = ItemStatus  # noqa: E741
X = ExecutionStatus


def progress(
    ending: ItemEnding,
    planned: str,
    filled_notional: str,
    filled_qty: str,
    planned_qty: str | None = None,
) -> ItemProgress:
    return ItemProgress(
        ending=ending,
        planned_notional=dollars(planned),
        filled_notional=dollars(filled_notional),
        filled_qty=shares(filled_qty),
        planned_qty=None if planned_qty is None else shares(planned_qty),
    )


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        # Complete by notional, within a cent.
        (progress(E.WORKED, "1000.00", "1000.00", "10"), I.FILLED),
        (progress(E.WORKED, "1000.00", "999.99", "10"), I.FILLED),
        (progress(E.WORKED, "1000.00", "999.98", "10"), I.PARTIALLY_FILLED),
        # Complete by quantity, within one share quantum, whatever the notional.
        (progress(E.WORKED, "1000.00", "900.00", "3", planned_qty="3"), I.FILLED),
        (progress(E.WORKED, "1000.00", "999.99", "7.227357599", "7.2273576"), I.FILLED),
        (progress(E.WORKED, "1000.00", "990.00", "7.22", "7.2273576"), I.PARTIALLY_FILLED),
        # A fill that won a cancel race, or came before an error, still counts.
        (progress(E.CANCELED, "500", "500", "5"), I.FILLED),
        (progress(E.CANCELED, "500", "200", "2"), I.PARTIALLY_FILLED),
        (progress(E.ERRORED, "500", "100", "1"), I.PARTIALLY_FILLED),
        (progress(E.SKIPPED, "500", "500", "5"), I.FILLED),
        # Nothing filled: the ending decides.
        (progress(E.SKIPPED, "0.50", "0", "0"), I.SKIPPED),
        (progress(E.ERRORED, "500", "0", "0"), I.FAILED),
        (progress(E.CANCELED, "500", "0", "0"), I.CANCELED),
        (progress(E.WORKED, "500", "0", "0"), I.FAILED),
    ],
)
def test_item_classification(item: ItemProgress, expected: ItemStatus) -> None:
    assert classify_item(item) is expected


def test_item_classification_refuses_negative_fills() -> None:
    with pytest.raises(ValueError, match="negative"):
        classify_item(progress(E.WORKED, "10", "-1", "0"))


@pytest.mark.parametrize(
    ("items", "timed_out", "expected"),
    [
        ([], False, X.SUCCESS),
        ([I.FILLED, I.FILLED], False, X.SUCCESS),
        ([I.FILLED, I.SKIPPED], False, X.SUCCESS_WITH_SKIPS),
        ([I.SKIPPED, I.SKIPPED], False, X.SUCCESS_WITH_SKIPS),
        ([I.FILLED, I.PARTIALLY_FILLED], False, X.PARTIAL_SUCCESS),
        ([I.FILLED, I.FAILED], False, X.PARTIAL_SUCCESS),
        ([I.PARTIALLY_FILLED], False, X.PARTIAL_SUCCESS),
        ([I.FILLED, I.CANCELED, I.SKIPPED], False, X.PARTIAL_SUCCESS),
        ([I.FAILED], False, X.FAILURE),
        ([I.FAILED, I.SKIPPED], False, X.FAILURE),
        ([I.CANCELED, I.FAILED], False, X.FAILURE),
        ([I.FILLED], True, X.TIMED_OUT),
        ([], True, X.TIMED_OUT),
    ],
)
def test_plan_classification(
    items: list[ItemStatus], timed_out: bool, expected: ExecutionStatus
) -> None:
    assert classify_plan(items, timed_out=timed_out) is expected


def test_plan_classification_never_decides_rejected() -> None:
    every_mix = [[a, b] for a in ItemStatus for b in ItemStatus]
    outcomes = {classify_plan(mix, timed_out=t) for mix in every_mix for t in (False, True)}
    assert X.REJECTED not in outcomes
    assert outcomes == set(ExecutionStatus) - {X.REJECTED}
