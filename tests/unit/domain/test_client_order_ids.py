import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plan_executor.domain.enums import Side
from plan_executor.domain.order_ids import (
    MAX_CLIENT_ORDER_ID_LENGTH,
    ParsedId,
    belongs_to_plan,
    client_order_id,
    next_sequence,
    parse_client_order_id,
    plan_prefix,
    short_plan_hash,
)

PLAN = short_plan_hash('{"plan_id":"plan-2026-01-05"}')
OTHER = short_plan_hash('{"plan_id":"plan-2026-01-06"}')


def test_plan_hash_is_ten_hex_characters_of_the_fingerprint_sha256() -> None:
    # sha256("abc") starts ba7816bf8f01cfea...
    assert short_plan_hash("abc") == "ba7816bf8f"
    assert len(PLAN) == 10
    assert PLAN != OTHER


def test_id_shape_and_prefix() -> None:
    assert client_order_id(PLAN, "AAPL", Side.BUY, 1) == f"{PLAN}-AAPL-b-1"
    assert client_order_id(PLAN, "BRK.B", Side.SELL, 12) == f"{PLAN}-BRK.B-s-12"
    assert plan_prefix(PLAN) == f"{PLAN}-"
    assert client_order_id(PLAN, "AAPL", Side.BUY, 1).startswith(plan_prefix(PLAN))


def test_slash_in_a_symbol_is_encoded_and_decoded() -> None:
    encoded = client_order_id(PLAN, "BRK/B", Side.BUY, 2)
    assert "/" not in encoded
    assert parse_client_order_id(encoded) == ParsedId(PLAN, "BRK/B", Side.BUY, 2)
    assert encoded != client_order_id(PLAN, "BRK.B", Side.BUY, 2)


def test_incident_12_client_order_ids_are_the_same_on_every_attempt() -> None:
    first_attempt = [client_order_id(PLAN, "AAPL", Side.BUY, n) for n in (1, 2)]
    retry = [
        client_order_id(short_plan_hash('{"plan_id":"plan-2026-01-05"}'), "AAPL", Side.BUY, n)
        for n in (1, 2)
    ]
    assert first_attempt == retry


@pytest.mark.parametrize(
    "foreign",
    [
        "",
        "manual-order-1",
        f"{PLAN}-AAPL-x-1",
        f"{PLAN}-AAPL-b-0",
        f"{PLAN}-aapl-b-1",
        f"{PLAN.upper()}-AAPL-b-1",
        f"{PLAN}-AAPL-b-1-extra",
        "0123456789-AAPL-b-01",
    ],
)
def test_foreign_ids_do_not_parse(foreign: str) -> None:
    assert parse_client_order_id(foreign) is None


@pytest.mark.parametrize(
    ("plan_hash", "symbol", "sequence"),
    [
        ("ABCDEF0123", "AAPL", 1),
        ("abc", "AAPL", 1),
        (PLAN, "aapl", 1),
        (PLAN, "A-B", 1),
        (PLAN, "A_B", 1),
        (PLAN, "", 1),
        (PLAN, "AAPL", 0),
        (PLAN, "A" * 40, 1),
    ],
)
def test_unencodable_inputs_are_refused(plan_hash: str, symbol: str, sequence: int) -> None:
    with pytest.raises(ValueError, match=r"plan hash|symbol|sequence|48 characters"):
        client_order_id(plan_hash, symbol, Side.BUY, sequence)


def test_next_sequence_continues_after_the_highest_the_broker_has() -> None:
    existing = [
        client_order_id(PLAN, "AAPL", Side.BUY, 1),
        client_order_id(PLAN, "AAPL", Side.BUY, 3),
        client_order_id(PLAN, "AAPL", Side.SELL, 7),
        client_order_id(OTHER, "AAPL", Side.BUY, 9),
        "manual-order",
    ]
    assert next_sequence(existing, "AAPL", Side.BUY, plan_hash=PLAN) == 4
    assert next_sequence(existing, "AAPL", Side.BUY) == 10
    assert next_sequence(existing, "AAPL", Side.SELL, plan_hash=PLAN) == 8
    assert next_sequence(existing, "MSFT", Side.BUY, plan_hash=PLAN) == 1
    assert next_sequence([], "AAPL", Side.BUY) == 1


def test_belongs_to_plan() -> None:
    assert belongs_to_plan(client_order_id(PLAN, "AAPL", Side.BUY, 1), PLAN)
    assert not belongs_to_plan(client_order_id(OTHER, "AAPL", Side.BUY, 1), PLAN)
    assert not belongs_to_plan("manual", PLAN)


symbols = st.from_regex(r"[A-Z]{1,5}([./][A-Z0-9]{1,2})?", fullmatch=True)
plan_hashes = st.text(alphabet="0123456789abcdef", min_size=10, max_size=10)
sides = st.sampled_from(list(Side))
sequences = st.integers(min_value=1, max_value=10**12)


@settings(max_examples=300)
@given(plan_hash=plan_hashes, symbol=symbols, side=sides, sequence=sequences)
def test_ids_parse_back_and_fit_in_48_characters(
    plan_hash: str, symbol: str, side: Side, sequence: int
) -> None:
    value = client_order_id(plan_hash, symbol, side, sequence)
    assert len(value) <= MAX_CLIENT_ORDER_ID_LENGTH
    assert parse_client_order_id(value) == ParsedId(plan_hash, symbol, side, sequence)
    assert next_sequence([value], symbol, side) == sequence + 1


@settings(max_examples=300)
@given(
    first=st.tuples(plan_hashes, symbols, sides, sequences),
    second=st.tuples(plan_hashes, symbols, sides, sequences),
)
def test_distinct_inputs_never_collide_and_plans_never_share_a_prefix(
    first: tuple[str, str, Side, int], second: tuple[str, str, Side, int]
) -> None:
    first_id, second_id = client_order_id(*first), client_order_id(*second)
    assert (first_id == second_id) == (first == second)
    if first[0] != second[0]:
        assert not second_id.startswith(plan_prefix(first[0]))
        assert not first_id.startswith(plan_prefix(second[0]))
