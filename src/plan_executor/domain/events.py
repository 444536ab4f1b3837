"""The `RebalancePlanned` EventBridge event and the one way in: parse, or refuse with reasons."""

import json
import re
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints, ValidationError

from plan_executor.domain.identifiers import Label, SchemaVersion, TraceId
from plan_executor.domain.json_object import JsonObject
from plan_executor.domain.plan import INPUT_MODEL_CONFIG, AllocationComparison, RebalancePlan
from plan_executor.domain.validation import (
    PlanValidationError,
    Violation,
    echo,
    violations_from_pydantic,
)
from plan_executor.domain.wire_values import UtcTimestamp

MAX_EVENT_BYTES = 1024 * 1024
"""EventBridge caps an event at 256 KB; anything much larger is not one of ours."""

PLAN_TIMESTAMP_FIELD = "detail.rebalance_plan.timestamp"
DEFAULT_MAX_CLOCK_SKEW = timedelta(seconds=60)

AccountId = Annotated[str, StringConstraints(pattern=r"^[0-9]{12}$")]
Region = Annotated[
    str, StringConstraints(max_length=32, pattern=r"^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$")
]
Resource = Annotated[str, StringConstraints(max_length=2048)]


class RebalancePlannedDetail(BaseModel):
    """The upstream `RebalancePlanned` event (the EventBridge `detail`)."""

    model_config = INPUT_MODEL_CONFIG

    event_id: TraceId = Field(description="Upstream event id. Carried through.")
    correlation_id: TraceId = Field(description="Workflow correlation id. Carried through.")
    causation_id: TraceId = Field(description="What caused this event. Carried through.")
    timestamp: UtcTimestamp = Field(description="When the event was made. Carried through.")
    schema_version: SchemaVersion = Field(description="Event schema version; major 1 only.")
    trades_required: StrictBool = Field(
        default=True, description="false: succeed at once with zero orders."
    )
    rebalance_plan: RebalancePlan = Field(description="The plan to execute.")
    allocation_comparison: AllocationComparison | None = Field(
        default=None,
        description="The producer's per-symbol target/current/difference values (alchemiser "
        "always sends it). Recorded in the ledger's result.json; not used to trade.",
    )
    metadata: JsonObject | None = Field(
        default=None, description="Free-form, bounded. Carried through."
    )
    event_type: Literal["RebalancePlanned"] | None = Field(
        default=None, description="Upstream's event type tag, if sent. Carried through."
    )
    source_module: Label | None = Field(default=None, description="Carried through.")
    source_component: Label | None = Field(default=None, description="Carried through.")


class RebalancePlannedEvent(BaseModel):
    """The EventBridge envelope around a `RebalancePlanned` detail."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", validate_by_alias=True, serialize_by_alias=True
    )

    version: Annotated[str, StringConstraints(max_length=8)] = Field(
        description="EventBridge envelope version ('0')."
    )
    id: TraceId = Field(description="EventBridge event id: the causation_id of our result.")
    detail_type: Literal["RebalancePlanned"] = Field(
        alias="detail-type",
        description="'RebalancePlanned': the rule routes only those, and anything else that "
        "reaches the function (a misconfigured rule, a hand-made invoke) is refused.",
    )
    source: Annotated[str, StringConstraints(min_length=1, max_length=256)] = Field(
        description="Publishing service, e.g. 'alchemiser.portfolio'. Carried through."
    )
    account: AccountId = Field(description="AWS account of the bus. Carried through.")
    time: UtcTimestamp = Field(description="When EventBridge received the event.")
    region: Region = Field(description="AWS region of the bus. Carried through.")
    resources: tuple[Resource, ...] = Field(
        default=(), max_length=100, description="ARNs. Carried through."
    )
    detail: RebalancePlannedDetail = Field(description="The upstream event.")
    replay_name: Annotated[str, StringConstraints(max_length=256)] | None = Field(
        default=None, alias="replay-name", description="Set when EventBridge replays an archive."
    )


def decode_event_json(text: str | bytes) -> object:
    """Decode raw event JSON with every non-integer number as Decimal (never float)."""
    if len(text) > MAX_EVENT_BYTES:
        violation = Violation("event", "max_size", f"larger than {MAX_EVENT_BYTES} bytes")
        raise PlanValidationError([violation])
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)
    except (ValueError, RecursionError, ArithmeticError) as error:
        # ArithmeticError: decimal.InvalidOperation, for an exponent beyond Decimal's range
        message = echo(str(error))
        raise PlanValidationError([Violation("event", "json_syntax", message)]) from None


def encode_event_json(event: Mapping[str, object]) -> str:
    """The event as JSON that `decode_event_json` reads back to the same values: a Decimal is
    written as the exact number it is (json would refuse it; str() would make it a string)."""
    marker = f"__decimal_{secrets.token_hex(8)}__:"

    def number_text(value: object) -> str:
        if isinstance(value, Decimal) and value.is_finite():
            text = str(value)
            integral = not any(mark in text for mark in ".eE")  # "7" would read back an int
            return marker + (f"{text}E0" if integral else text)
        raise TypeError(f"{type(value).__name__} is not a JSON value")

    text = json.dumps(event, default=number_text, separators=(",", ":"))
    return re.sub(f'"{marker}([^"]*)"', r"\1", text)


def decode_event_object(text: str | bytes) -> Mapping[str, object]:
    """`decode_event_json`, and the result must be a JSON object."""
    decoded = decode_event_json(text)
    if not isinstance(decoded, dict):
        raise PlanValidationError([Violation("event", "object_type", "expected a JSON object")])
    return decoded


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not a number")


def parse_rebalance_event(raw: Mapping[str, object]) -> RebalancePlannedEvent:
    """The validated envelope and plan, or `PlanValidationError` naming fields and rules."""
    try:
        return RebalancePlannedEvent.model_validate(raw)
    except ValidationError as error:
        raise violations_from_pydantic(error, root="") from None


def parse_rebalance_detail(raw: Mapping[str, object]) -> RebalancePlannedDetail:
    """The validated detail alone; fields are still reported as `detail.…`."""
    try:
        return RebalancePlannedDetail.model_validate(raw)
    except ValidationError as error:
        raise violations_from_pydantic(error, root="detail") from None


def plan_age_violation(
    plan: RebalancePlan,
    now: datetime,
    max_age: timedelta,
    *,
    max_clock_skew: timedelta = DEFAULT_MAX_CLOCK_SKEW,
) -> Violation | None:
    """The stale-plan rule: too old, or dated in the future beyond clock skew (a wrong clock)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    age = now - plan.timestamp
    if age > max_age:
        message = f"plan is {_seconds(age)} old, the limit is {_seconds(max_age)}"
        return Violation(PLAN_TIMESTAMP_FIELD, "max_plan_age", message)
    if -age > max_clock_skew:
        message = f"plan is dated {_seconds(-age)} in the future (clock skew?)"
        return Violation(PLAN_TIMESTAMP_FIELD, "not_in_future", message)
    return None


def _seconds(span: timedelta) -> str:
    """`12305s` reads badly: `3h25m05s`."""
    hours, rest = divmod(int(span.total_seconds()), 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m{seconds:02d}s"
    return f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"
