"""Hostile input for the reliability tests: value pools, one-mutation events, and the checks.

A hostile event is a valid `RebalancePlanned` event with exactly one thing broken (a value
replaced, a field deleted, an unknown field added) or an envelope that is not an object at all,
so a rejection can be checked to name the field that was broken. Values aim at what plan ids,
symbols and ids become: S3 keys, client order ids and log lines.

`ServiceRig` is the real handler on moto + alpaca_sim (tests/integration/service harness),
shared by many examples: one stack, one sim, one cold start.
"""

from __future__ import annotations

import itertools
import logging
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import ModuleType
from typing import Any, TypeVar

import pytest
from hypothesis import strategies as st
from tests.integration.service.service_support import (
    LambdaContextStub,
    SimThread,
    fresh_handler,
    published_now,
    saved_event,
    service_env,
    service_scenario,
)
from tests.support.aws_stack import AwsStack, LocalMotoServer, create_stack

from alpaca_sim.scenario import Scenario
from plan_executor.domain.enums import Side
from plan_executor.domain.events import RebalancePlannedEvent
from plan_executor.domain.fingerprint import plan_fingerprint
from plan_executor.domain.identifiers import is_safe_plan_id, is_trace_id
from plan_executor.domain.ledger_keys import (
    ATTEMPT_PATTERN,
    ORDERS_OBJECT,
    RESULT_OBJECT,
    attempt_token,
    ledger_keys,
)
from plan_executor.domain.order_ids import (
    MAX_CLIENT_ORDER_ID_LENGTH,
    PLAN_HASH_LENGTH,
    client_order_id,
)
from plan_executor.domain.validation import MAX_MESSAGE_CHARS, Violation, echo, field_path

EventPath = tuple[str | int, ...]
T = TypeVar("T")

BASE_EVENT = "mixed-sell-and-buy.json"
PLAN: EventPath = ("detail", "rebalance_plan")
INJECTED = "INJECTED-LOG-LINE"
"""Follows a line break in hostile strings: a log line starting with it came from input."""
LINE_BREAKS = ("\n", "\r", "\u2028", "\u2029", "\x85", "\x0b", "\x0c")

# --- hostile values -----------------------------------------------------------------------

# fmt: off
PATH_TRAVERSALS = (
    "..", "../", "../../../../etc/passwd", "..\\..\\windows", "%2e%2e", "%2e%2e%2f",
    "%252e%252e%252f", "..%2f..%2f", "executions/../",
    "executions/date=2000-01-01/plan_id=x/attempt=1/result.json", "plan_id=x/../../y", "a/b",
    "/", "./a", ".hidden", "-leading-dash", "a..b", "a:..", "~root", "s3://bucket/key",
)
CONTROL_CHARACTERS = (
    "\x00", "plan\x00id", "AAPL\x00", "\t", "\x1b[31mred\x1b[0m", "\x7f", "\u202etxt.exe",
    "\u200b", "AAPL\u200b", "\ufeff", "\ud800", "a\udfffb",
)
LINE_INJECTIONS = tuple(f"ok{brk}{INJECTED} level=ERROR" for brk in (*LINE_BREAKS, "\r\n"))
CONFUSABLES = (
    "\u017fpy", "\u0131bm", "\ufb01", "\ufb00", "\ufb05", "\u00df",  # upper() gives ASCII
    "\uff21\uff21\uff30\uff2c", "\u0410APL", "\u212a", "\u1d00\u1d00\u1d18\u029f", "\u0661\u0662",
)
INJECTION_SHAPES = (
    "' OR '1'='1", "${jndi:ldap://127.0.0.1/a}", "{{7*7}}", "%s%s%s%n", "{0.__class__}",
    "<script>alert(1)</script>", '{"$ne": null}', "$(reboot)", "AAPL;DROP", "BRK.B/../../x",
)
LONG_STRINGS = ("A" * 11, "A" * 65, "a" * 129, "9" * 41, "x" * 100_000, "\u00e9" * 300_000)
EMPTYISH = ("", " ", "  AAPL  ", "null", "None", "undefined")
HOSTILE_STRINGS = (
    PATH_TRAVERSALS + CONTROL_CHARACTERS + LINE_INJECTIONS + CONFUSABLES + INJECTION_SHAPES
    + LONG_STRINGS + EMPTYISH
)
HOSTILE_NUMBERS: tuple[object, ...] = (
    float("nan"), float("inf"), float("-inf"), -0.0, 0.1, 1.5, 1e308, -1e308, 5e-324,
    10**15, -(10**15), 10**30, 10**5000, -(10**5000), True, False,
    Decimal("NaN"), Decimal("-NaN"), Decimal("sNaN"), Decimal("Infinity"), Decimal("-0"),
    Decimal("1E+999999"), Decimal("1E-999999"), Decimal("0.0000000000000000001"),
    "NaN", "Infinity", "-inf", "1e999999", "0x10", "1_000", " 1", "1,5", "+-1", "1e", ".", "-",
    "9" * 5000, "\uff11",
)
# fmt: on


# --- one-mutation events ------------------------------------------------------------------


@dataclass(frozen=True)
class Mutation:
    """What was broken: `kind` is replace, delete, extra (a new key `key`) or envelope."""

    kind: str
    path: EventPath
    value: object = None
    key: str | None = None

    @property
    def target(self) -> str:
        """The dotted field path of what was broken (as rejections spell it)."""
        if self.kind == "envelope":
            return "event"
        return field_path("", self.path if self.key is None else (*self.path, self.key))

    @property
    def container(self) -> str:
        """The dotted path of the object holding the target ("" at the top)."""
        if self.kind == "envelope":
            return ""
        if self.kind == "extra":
            return field_path("", self.path)  # "event" at the top
        return field_path("", self.path[:-1]) if len(self.path) > 1 else ""

    def describe(self) -> str:
        return f"{self.kind} {self.target} = {_short(self.value)}"

    def __repr__(self) -> str:
        return f"Mutation<{self.describe()}>"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """Hypothesis prints failing examples with this (a deep value would recurse)."""
        printer.text(repr(self))


def _short(value: object) -> str:
    """`echo` for scalars; containers by type and size (they may be 50,000 levels deep)."""
    if isinstance(value, dict | list):
        return f"<{type(value).__name__} of {len(value)}>"
    return echo(value)


def base_event(plan_id: str, now: datetime, *, age: timedelta = timedelta(0)) -> dict[str, Any]:
    """The saved mixed plan under `plan_id`, its plan made `age` before `now`."""
    event = published_now(saved_event(BASE_EVENT), now - age)
    event["detail"]["rebalance_plan"]["plan_id"] = plan_id
    return event


def event_paths(node: object, prefix: EventPath = ()) -> list[EventPath]:
    """Every key and index inside `node`, parents before children."""
    found: list[EventPath] = []
    children: list[tuple[str | int, object]] = []
    if isinstance(node, dict):
        children = list(node.items())
    elif isinstance(node, list):
        children = list(enumerate(node))
    for key, child in children:
        found.append((*prefix, key))
        found.extend(event_paths(child, (*prefix, key)))
    return found


def apply(event: dict[str, Any], mutation: Mutation) -> object:
    """`event` with `mutation` made, sharing what it did not change (the value itself for an
    envelope replacement). Only the objects along the path are copied: a deep copy of an event
    holding a 5,000-level value would recurse past Python's limit."""
    if mutation.kind == "envelope":
        return mutation.value
    extra = mutation.kind == "extra"
    changed: Any = dict(event)
    holder = changed
    for step in mutation.path if extra else mutation.path[:-1]:
        holder[step] = _shallow_copy(holder[step])
        holder = holder[step]
    if extra:
        holder[mutation.key] = mutation.value
    elif mutation.kind == "replace":
        holder[mutation.path[-1]] = mutation.value
    else:
        del holder[mutation.path[-1]]
    return changed


def _shallow_copy(node: object) -> object:
    if isinstance(node, dict):
        return dict(node)
    if isinstance(node, list):
        return list(node)
    raise TypeError(f"cannot step into a {type(node).__name__}")


def nested_list(depth: int) -> object:
    value: object = "leaf"
    for _ in range(depth):
        value = [value]
    return value


def nested_dict(depth: int) -> object:
    value: object = "leaf"
    for _ in range(depth):
        value = {"a": value}
    return value


def pooled(pool: tuple[T, ...]) -> st.SearchStrategy[T]:
    """`sampled_from(pool)`, drawn by index: the pool holds 300,000-character strings and a
    5,000-digit int, and Hypothesis would otherwise build the strategy's repr out of them."""
    return st.sampled_from(range(len(pool))).map(pool.__getitem__)


hostile_strings = st.one_of(
    pooled(HOSTILE_STRINGS),
    st.builds(lambda head, tail: head + tail, pooled(HOSTILE_STRINGS), st.text(max_size=8)),
    st.text(max_size=40),
)
hostile_numbers = st.one_of(
    pooled(HOSTILE_NUMBERS),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.decimals(allow_nan=True, allow_infinity=True),
)
hostile_structures = st.one_of(
    st.sampled_from([None, [], {}, [None], [[]], {"": None}]),
    st.sampled_from([10, 500, 5_000, 50_000]).map(nested_list),
    st.sampled_from([10, 500, 5_000]).map(nested_dict),
    st.sampled_from([600, 20_000]).map(lambda n: list(range(n))),
    st.dictionaries(hostile_strings, st.integers(), min_size=1, max_size=3),
    st.lists(hostile_strings, min_size=1, max_size=3),
)
hostile_values = st.one_of(hostile_strings, hostile_numbers, hostile_structures)
hostile_envelopes = st.one_of(
    st.sampled_from([None, "", "event", 0, 1.5, True, [], {}]),
    st.builds(list, st.just([("version", "0"), ("detail", {})])),
    hostile_strings,
    hostile_numbers,
    st.lists(st.integers(), max_size=3),
)


@st.composite
def mutations(draw: st.DrawFn, event: Mapping[str, Any]) -> Mutation:
    """One hostile change to `event`."""
    kind = draw(st.sampled_from([*["replace"] * 5, "delete", "extra", "extra", "envelope"]))
    if kind == "envelope":
        return Mutation("envelope", (), draw(hostile_envelopes))
    paths = event_paths(event)
    if kind == "extra":
        objects = [()] + [path for path in paths if isinstance(value_at(event, path), dict)]
        key = draw(st.one_of(hostile_strings, st.sampled_from(["evil", "plan_id", "__proto__"])))
        return Mutation("extra", draw(st.sampled_from(objects)), draw(hostile_values), key)
    if kind == "delete":
        keyed = [path for path in paths if isinstance(path[-1], str)]
        return Mutation("delete", draw(st.sampled_from(keyed)))
    return Mutation("replace", draw(st.sampled_from(paths)), draw(hostile_values))


def value_at(event: object, path: EventPath) -> object:
    node: Any = event
    for step in path:
        node = node[step]
    return node


# --- checks -------------------------------------------------------------------------------


MAX_FIELD_CHARS = 200
_ASCII_SYMBOL = re.compile(r"[A-Z][A-Z0-9]*(?:[./][A-Z0-9]+)?", re.ASCII)
_FIRST_ORDER_ID = re.compile(r"[0-9a-f]{10}-[A-Z0-9._]+-[bs]-1", re.ASCII)
_SOME_DAY = datetime(2025, 6, 2, 14, 30, 5, tzinfo=UTC)


def assert_well_formed(violation: Violation) -> None:
    """A violation is one printable, bounded line naming a field and a rule."""
    for text, limit in ((violation.field, MAX_FIELD_CHARS), (violation.message, MAX_MESSAGE_CHARS)):
        assert text.isprintable(), violation
        assert len(text) <= limit, violation
    assert re.fullmatch(r"[a-z0-9_]+", violation.rule), violation


def assert_safe_to_execute(event: RebalancePlannedEvent) -> None:
    """What a parsed event feeds: S3 keys, client order ids, log keys, JSON, the fingerprint."""
    plan = event.detail.rebalance_plan
    assert is_safe_plan_id(plan.plan_id), plan.plan_id
    attempt = attempt_token(1, _SOME_DAY, "0" * 8)
    keys = ledger_keys(plan.plan_id, _SOME_DAY.date(), attempt)
    assert outside_ledger_layout(list(keys.all)) == []
    for trace in (event.id, event.detail.event_id, plan.correlation_id, plan.causation_id):
        assert is_trace_id(trace), trace
    plan_hash = plan_fingerprint(plan)[:PLAN_HASH_LENGTH]
    for item in plan.items:
        assert _ASCII_SYMBOL.fullmatch(item.symbol), item.symbol
        order_id = client_order_id(plan_hash, item.symbol, Side.BUY, 1)
        assert _FIRST_ORDER_ID.fullmatch(order_id), order_id
        assert len(order_id) <= MAX_CLIENT_ORDER_ID_LENGTH
    event.model_dump_json().encode("utf-8")  # no lone surrogate reaches anything we write
    assert all(number.is_finite() for number in _decimals(event.model_dump()))


def _decimals(node: object) -> list[Decimal]:
    if isinstance(node, dict):
        return [d for value in node.values() for d in _decimals(value)]
    if isinstance(node, list | tuple):
        return [d for value in node for d in _decimals(value)]
    return [node] if isinstance(node, Decimal) else []


def injected_lines(text: str) -> list[str]:
    """Lines of `text` that begin with the injected marker: a line break from input got out."""
    return [line for line in re.split(r"\r\n|[\n\r]", text) if line.startswith(INJECTED)]


_LEDGER_KEY = re.compile(
    r"executions/date=[0-9]{4}-[0-9]{2}-[0-9]{2}/plan_id=(?P<plan_id>[^/]+)/"
    rf"attempt=(?P<attempt>[^/]+)/(?:{re.escape(RESULT_OBJECT)}|{re.escape(ORDERS_OBJECT)})"
)
_ATTEMPT = re.compile(ATTEMPT_PATTERN)


def outside_ledger_layout(keys: list[str]) -> list[str]:
    """Keys that are not `executions/date=.../plan_id=<safe id>/attempt=<token>/<object>`."""
    bad = []
    for key in keys:
        match = _LEDGER_KEY.fullmatch(key)
        if (
            match is None
            or not (match["plan_id"] == "unknown" or is_safe_plan_id(match["plan_id"]))
            or not _ATTEMPT.fullmatch(match["attempt"])
        ):
            bad.append(key)
    return bad


class LineCollector(logging.Handler):
    """Every record any logger emits, formatted with its traceback, kept as text."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    def take(self) -> str:
        text, self.lines = "\n".join(self.lines), []
        return text


@contextmanager
def collected_logs(level: int) -> Iterator[LineCollector]:
    """All logging at `level` and above (botocore included) goes to a LineCollector too."""
    root = logging.getLogger()
    collector, previous = LineCollector(), root.level
    root.addHandler(collector)
    root.setLevel(level)
    try:
        yield collector
    finally:
        root.removeHandler(collector)
        root.setLevel(previous)


# --- the service on moto + alpaca_sim -----------------------------------------------------


@dataclass
class ServiceRig:
    """The real handler with one stack and one sim, reused across examples."""

    stack: AwsStack
    sim: SimThread
    handler: ModuleType
    seen_keys: set[str] = field(default_factory=set)

    def invoke(self, event: object, *, request_id: str = "hostile") -> dict[str, Any]:
        context = LambdaContextStub(aws_request_id=request_id)
        result: dict[str, Any] = self.handler.lambda_handler(event, context)
        return result

    def ledger_keys(self) -> list[str]:
        s3 = self.stack.client("s3")
        keys: list[str] = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=self.stack.ledger_bucket):
            keys.extend(item["Key"] for item in page.get("Contents", []))
        return keys

    def new_ledger_keys(self) -> list[str]:
        """Keys written since the last call (every key in the bucket, the first time)."""
        keys = set(self.ledger_keys())
        new, self.seen_keys = sorted(keys - self.seen_keys), keys
        return new

    def ledger_texts(self) -> dict[str, str]:
        s3 = self.stack.client("s3")
        bucket = self.stack.ledger_bucket
        return {
            key: s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")
            for key in self.ledger_keys()
        }


_rig_numbers = itertools.count(1)


@contextmanager
def service_rig(
    moto_server: LocalMotoServer,
    name: str,
    *,
    alpaca_secret: Mapping[str, str] | None = None,
    **env_overrides: str,
) -> Iterator[ServiceRig]:
    """A fresh stack and sim, the function's environment set (plus `env_overrides`), and the
    handler imported cold. With `alpaca_secret`, the stack's secret holds it and the sim
    accepts exactly its keys."""
    prefix = f"h13-{name}-{os.getpid()}-{next(_rig_numbers)}"
    extra = {} if alpaca_secret is None else {"alpaca_secret": alpaca_secret}
    stack = create_stack(moto_server.endpoint_url, name_prefix=prefix, **extra)
    scenario = service_scenario(datetime.now(UTC))
    if alpaca_secret is not None:
        scenario = _with_auth(scenario, alpaca_secret)
    with SimThread(scenario) as sim, pytest.MonkeyPatch.context() as patch:
        for variable, value in {**service_env(stack, sim), **env_overrides}.items():
            patch.setenv(variable, value)
        yield ServiceRig(stack, sim, fresh_handler())


def _with_auth(scenario: Scenario, secret: Mapping[str, str]) -> Scenario:
    return replace(scenario, api_key=secret["key_id"], api_secret=secret["secret_key"])
