"""Hostile input against parsing, at volume: every input is refused naming the field it broke,
or it parses into something safe to put in S3 keys, client order ids and logs. Nothing else
(no other exception, no crash) may come out of `parse_event`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hostile_support import (
    CONFUSABLES,
    CONTROL_CHARACTERS,
    HOSTILE_NUMBERS,
    INJECTION_SHAPES,
    LINE_INJECTIONS,
    PATH_TRAVERSALS,
    PLAN,
    Mutation,
    apply,
    assert_safe_to_execute,
    assert_well_formed,
    base_event,
    hostile_strings,
    mutations,
    pooled,
    value_at,
)
from hypothesis import event, given, settings
from hypothesis import strategies as st

from plan_executor.domain.events import RebalancePlannedEvent, decode_event_object
from plan_executor.domain.validation import PlanValidationError, echo, field_path
from plan_executor.invocation import parse_event

NOW = datetime(2025, 6, 2, 14, 30, 5, tzinfo=UTC)
BASE = base_event("rebal-20250602-143001-7f3c9a2e", NOW)
MANY = settings(max_examples=1500, deadline=None)


def outcome_of(raw: object) -> RebalancePlannedEvent | PlanValidationError:
    """parse_event's answer; any other exception fails the test where it is raised."""
    try:
        return parse_event(raw)  # type: ignore[arg-type]  # not always a Mapping: on purpose
    except PlanValidationError as error:
        return error


def assert_refusal_names_the_mutation(error: PlanValidationError, mutation: Mutation) -> None:
    for violation in error.violations:
        assert_well_formed(violation)
    assert error.reason.startswith(f"{error.violations[0].field}: ")
    assert unexplained_violations(error, mutation) == [], mutation.describe()


_CROSS_ITEM_RULES = frozenset({"unique_symbols"})
_ITEMS = field_path("", (*PLAN, "items"))


def related(field: str, mutation: Mutation) -> bool:
    """Whether a violation at `field` is explained by `mutation`: the field itself, inside it,
    the object that got an unknown key, the free-form metadata around it, or a sibling in the
    same object (a rule across fields such as the sign of trade_amount). A replaced envelope
    explains any field."""
    target, container = mutation.target, mutation.container
    if mutation.kind == "envelope" or field == target:
        return True
    if field.startswith((f"{target}.", f"{target}[")):
        return True
    if mutation.kind == "extra" and field == container:
        return True
    if field.endswith(".metadata") and target.startswith((f"{field}.", f"{field}[")):
        return True  # free-form: its bounds are checked, and reported, as a whole
    return bool(container) and field.startswith((f"{container}.", f"{container}["))


def unexplained_violations(error: PlanValidationError, mutation: Mutation) -> list[str]:
    """The violations (as text) that `mutation` does not explain."""
    return [
        violation.describe()
        for violation in error.violations
        if not related(violation.field, mutation)
        and not (violation.rule in _CROSS_ITEM_RULES and violation.field.startswith(_ITEMS))
    ]


def apply_if_possible(event: object, mutation: Mutation) -> object:
    """`apply`, or `event` unchanged when an earlier change removed the mutation's place."""
    if mutation.kind == "envelope":
        return mutation.value
    extra = mutation.kind == "extra"
    try:
        holder = value_at(event, mutation.path if extra else mutation.path[:-1])
    except (KeyError, IndexError, TypeError):
        return event
    fits = isinstance(holder, dict) if extra else _has(holder, mutation.path[-1])
    return apply(event, mutation) if fits and isinstance(event, dict) else event


def _has(holder: object, step: str | int) -> bool:
    if isinstance(holder, dict):
        return step in holder
    return isinstance(holder, list) and isinstance(step, int) and 0 <= step < len(holder)


@MANY
@given(mutations(BASE))
def test_one_hostile_change_is_refused_naming_its_field_or_parses_safely(
    mutation: Mutation,
) -> None:
    outcome = outcome_of(apply(BASE, mutation))

    event(f"{mutation.kind}: {type(outcome).__name__}")
    if isinstance(outcome, PlanValidationError):
        assert_refusal_names_the_mutation(outcome, mutation)
    else:
        assert_safe_to_execute(outcome)


@settings(max_examples=1000, deadline=None)
@given(st.lists(mutations(BASE), min_size=2, max_size=5))
def test_several_hostile_changes_at_once_never_escape_as_another_error(
    changes: list[Mutation],
) -> None:
    raw: object = BASE
    for change in changes:
        raw = apply_if_possible(raw, change)

    outcome = outcome_of(raw)

    if isinstance(outcome, PlanValidationError):
        for violation in outcome.violations:
            assert_well_formed(violation)
    else:
        assert_safe_to_execute(outcome)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from([("plan_id",), ("items", 0, "symbol"), ("correlation_id",)]),
    hostile_strings,
)
def test_hostile_ids_and_symbols_never_reach_keys_or_order_ids(
    where: tuple[str | int, ...], value: str
) -> None:
    outcome = outcome_of(apply(BASE, Mutation("replace", (*PLAN, *where), value)))

    if isinstance(outcome, RebalancePlannedEvent):
        assert_safe_to_execute(outcome)
        assert value.isascii(), f"non-ASCII {value!r} was accepted"


NOT_PLAN_IDS = (
    *PATH_TRAVERSALS,
    *CONTROL_CHARACTERS,
    *LINE_INJECTIONS,
    *CONFUSABLES,
    *INJECTION_SHAPES,
    *("A" * 65, "a" * 129, "x" * 100_000, "", " ", "  AAPL  "),
)


@pytest.mark.parametrize("value", NOT_PLAN_IDS, ids=range(len(NOT_PLAN_IDS)))
def test_every_unsafe_string_is_refused_as_a_plan_id(value: str) -> None:
    outcome = outcome_of(apply(BASE, Mutation("replace", (*PLAN, "plan_id"), value)))

    assert isinstance(outcome, PlanValidationError)
    assert outcome.violations[0].field == "detail.rebalance_plan.plan_id"


SYMBOL = (*PLAN, "items", 0, "symbol")


@pytest.mark.parametrize(
    "value",
    ["\u017fpy", "\u0131bm", "\ufb01", "\ufb00", "\ufb05", "\u00df", "\u212a", "\u0410APL"],
)
def test_a_non_ascii_symbol_is_refused_not_upper_cased_into_a_ticker(value: str) -> None:
    outcome = outcome_of(apply(BASE, Mutation("replace", SYMBOL, value)))

    assert isinstance(outcome, PlanValidationError)
    assert outcome.violations[0].field == field_path("", SYMBOL)


AMOUNT = (*PLAN, "items", 0, "trade_amount")
NUMBER_FIELDS = [
    AMOUNT,
    (*PLAN, "items", 1, "priority"),
    (*PLAN, "items", 2, "current_weight"),
    (*PLAN, "total_portfolio_value"),
    (*PLAN, "estimated_duration_minutes"),
]


@pytest.mark.parametrize("where", NUMBER_FIELDS, ids=lambda path: str(path[-1]))
@pytest.mark.parametrize("value", [10**5000, -(10**5000), 10**4301], ids=["big", "-big", "4301"])
def test_an_integer_too_long_to_print_is_refused_naming_its_field(
    where: tuple[str | int, ...], value: int
) -> None:
    outcome = outcome_of(apply(BASE, Mutation("replace", where, value)))

    assert isinstance(outcome, PlanValidationError)
    assert outcome.violations[0].field == field_path("", where)
    assert len(outcome.reason) < 400


@pytest.mark.parametrize("where", [(*PLAN, "metadata"), ("detail", "metadata")])
@pytest.mark.parametrize(
    "value", [{"note": "\ud800"}, {"\udfff": 1}, {"a": ["ok", {"b": "x\udbff"}]}]
)
def test_a_lone_surrogate_in_metadata_is_refused(
    where: tuple[str | int, ...], value: dict[str, Any]
) -> None:
    outcome = outcome_of(apply(BASE, Mutation("replace", where, value)))

    assert isinstance(outcome, PlanValidationError)
    assert outcome.violations[0].field.startswith(field_path("", where))


@pytest.mark.parametrize(
    "envelope",
    [None, "event", 0, 1.5, True, [], [("version", "0"), ("detail", {})], list(BASE.items())],
    ids=["none", "str", "int", "float", "bool", "list", "pairs", "all-pairs"],
)
def test_an_envelope_that_is_not_an_object_is_refused_at_event_level(envelope: object) -> None:
    outcome = outcome_of(envelope)

    assert isinstance(outcome, PlanValidationError)
    assert [v.field for v in outcome.violations] == ["event"]


def exactly(value: object) -> Decimal:
    """What an accepted wire number must parse to: floats by their repr, never binary."""
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value.strip()) if isinstance(value, str) else Decimal(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", HOSTILE_NUMBERS, ids=range(len(HOSTILE_NUMBERS)))
@pytest.mark.parametrize(
    "where", [*NUMBER_FIELDS[:3], (*PLAN, "total_trade_value")], ids=lambda path: str(path[-1])
)
def test_pooled_numbers_are_refused_naming_the_field_or_taken_exactly(
    where: tuple[str | int, ...], value: object
) -> None:
    outcome = outcome_of(apply(BASE, Mutation("replace", where, value)))

    if isinstance(outcome, PlanValidationError):
        assert outcome.violations[0].field == field_path("", where)
    else:
        assert_safe_to_execute(outcome)
        taken = value_at(outcome.model_dump(by_alias=True), where)
        assert not isinstance(taken, float)
        assert Decimal(taken) == exactly(value)


# --- raw JSON text ------------------------------------------------------------------------

BASE_TEXT = json.dumps(BASE)
JSON_BOMBS = {
    "deep-arrays": "[" * 200_000 + "]" * 200_000,
    "deep-objects": '{"a":' * 100_000 + "1" + "}" * 100_000,
    "deep-in-metadata": BASE_TEXT.replace(
        '"planner"', '"x": ' + "[" * 50_000 + "]" * 50_000 + ', "planner"'
    ),
    "long-int": BASE_TEXT.replace('"priority": 1', '"priority": ' + "9" * 5000, 1),
    "huge-exponent": BASE_TEXT.replace('"-3234.56"', "-1e999999999", 1),
    "tiny-exponent": BASE_TEXT.replace('"-3234.56"', "-1e-999999999", 1),
    "exponent-beyond-decimal": BASE_TEXT.replace('"-3234.56"', "-1e1000000000000000000", 1),
    "nan-literal": BASE_TEXT.replace('"-3234.56"', "NaN", 1),
    "infinity-literal": BASE_TEXT.replace('"-3234.56"', "-Infinity", 1),
    "oversized": BASE_TEXT[:-1] + ', "pad": "' + "x" * 2_000_000 + '"}',
    "truncated": BASE_TEXT[: len(BASE_TEXT) // 2],
    "duplicate-key-last-wins": BASE_TEXT.replace(
        '"plan_id": "rebal-20250602-143001-7f3c9a2e"',
        '"plan_id": "rebal-20250602-143001-7f3c9a2e", "plan_id": "../../x"',
    ),
    "not-an-object": "[1, 2, 3]",
    "empty": "",
    "nul": "\x00",
    "lone-surrogate-escape": BASE_TEXT.replace('"portfolio_v2"', '"\\ud800"', 1),
}


@pytest.mark.parametrize("text", list(JSON_BOMBS.values()), ids=list(JSON_BOMBS))
def test_json_bombs_are_refused_before_they_reach_anything(text: str) -> None:
    try:
        outcome = outcome_of(decode_event_object(text))
    except PlanValidationError as error:
        outcome = error

    assert isinstance(outcome, PlanValidationError)
    for violation in outcome.violations:
        assert_well_formed(violation)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32", "latin-1"])
def test_text_in_other_encodings_is_refused_or_parses_the_same(encoding: str) -> None:
    raw = BASE_TEXT.replace("portfolio_v2", "portf\u00f6lio", 1).encode(encoding)

    try:
        outcome = outcome_of(decode_event_object(raw))
    except PlanValidationError as error:
        outcome = error

    if isinstance(outcome, RebalancePlannedEvent):
        assert outcome == parse_event(json.loads(raw.decode(encoding)))
    else:
        assert outcome.violations[0].field == "event"


# --- the renderers of refused input -------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), hostile_strings, pooled(HOSTILE_NUMBERS)))
def test_echo_is_one_short_printable_line_whatever_it_is_given(value: object) -> None:
    text = echo(value)

    assert text.isprintable()
    assert len(text) <= 32 * len(r"\U0010ffff") + 5


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(hostile_strings, st.integers(0, 10**6)), max_size=8))
def test_field_paths_are_printable_and_bounded(location: list[str | int]) -> None:
    path = field_path("detail", location)

    assert path.isprintable()
    assert len(path) <= len("detail") + 8 * 42


def test_the_base_event_parses() -> None:
    assert isinstance(outcome_of(BASE), RebalancePlannedEvent)
    assert isinstance(
        outcome_of(base_event("p", NOW, age=timedelta(hours=1))), RebalancePlannedEvent
    )
