"""An event kept for later (the in-flight marker) is written back as the same JSON values:
Decimals stay exact numbers, strings stay strings, whatever they contain."""

from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from plan_executor.domain.events import decode_event_object, encode_event_json

_decimals = st.decimals(allow_nan=False, allow_infinity=False, places=None).filter(
    lambda d: abs(d.adjusted()) < 300
)
_leaves = st.none() | st.booleans() | st.integers() | _decimals | st.text(max_size=20)
_values = st.recursive(
    _leaves,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@given(st.dictionaries(st.text(max_size=8), _values, max_size=5))
def test_an_encoded_event_decodes_to_the_same_values(event: dict[str, Any]) -> None:
    decoded = decode_event_object(encode_event_json(event))

    assert decoded == event
    assert _kinds(decoded) == _kinds(event)


def test_a_string_that_looks_like_the_marker_stays_a_string() -> None:
    event = {"note": "__decimal_0123456789abcdef__:1", "qty": Decimal("0E+23")}

    decoded = decode_event_object(encode_event_json(event))

    assert decoded == event
    assert isinstance(decoded["note"], str)
    assert str(decoded["qty"]) == "0E+23"


def _kinds(value: object) -> object:
    if isinstance(value, dict):
        return {key: _kinds(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_kinds(item) for item in value]
    return type(value).__name__
