"""The rebalance plan: what the strategy service asks this executor to trade.

Every field says what it means in execution, or that it is carried through untouched.
"""

from decimal import ROUND_DOWN, Decimal
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from plan_executor.domain.enums import Action, Urgency
from plan_executor.domain.identifiers import PlanId, SchemaVersion, StrategyId, Symbol, TraceId
from plan_executor.domain.json_object import JsonObject
from plan_executor.domain.money import CENT, ZERO, Dollars
from plan_executor.domain.wire_values import JSON_INTEGER, DecimalField, UtcTimestamp, fixed_point

MAX_PLAN_ITEMS = 500

INPUT_MODEL_CONFIG = ConfigDict(frozen=True, extra="forbid")

SignedDollars = Annotated[Dollars, DecimalField()]
NonNegativeDollars = Annotated[Dollars, DecimalField(ge=ZERO)]
Weight = Annotated[Decimal, DecimalField(ge=ZERO, le=Decimal(1))]
WeightDelta = Annotated[Decimal, DecimalField(ge=Decimal(-1), le=Decimal(1))]
Priority = Annotated[int, Field(ge=1, le=5), JSON_INTEGER]
DurationMinutes = Annotated[int, Field(ge=1, le=7 * 24 * 60), JSON_INTEGER]

PlannerValue = Annotated[Decimal, DecimalField()]
PlannerValues = Annotated[
    dict[Symbol, PlannerValue],
    Field(max_length=MAX_PLAN_ITEMS, json_schema_extra={"maxProperties": MAX_PLAN_ITEMS}),
]


class AllocationComparison(BaseModel):
    """The producer's target-versus-current view, per symbol. Recorded in the ledger with the
    result; never used to trade (the plan's items are what is executed)."""

    model_config = INPUT_MODEL_CONFIG

    target_values: PlannerValues = Field(description="Target allocation by symbol. Recorded.")
    current_values: PlannerValues = Field(description="Current allocation by symbol. Recorded.")
    deltas: PlannerValues = Field(description="Difference by symbol, as the producer computed it.")


_SIGN_MESSAGE = {
    Action.BUY: "a BUY needs a positive trade_amount",
    Action.SELL: "a SELL needs a negative trade_amount",
    Action.HOLD: "a HOLD needs a zero trade_amount",
}


def _sign_agrees(action: Action, amount: Decimal) -> bool:
    if action is Action.BUY:
        return amount > 0
    if action is Action.SELL:
        return amount < 0
    return amount == 0


class PlanItem(BaseModel):
    """One symbol of the plan."""

    model_config = INPUT_MODEL_CONFIG

    symbol: Symbol = Field(description="Ticker to trade, upper-cased (e.g. AAPL, BRK.B).")
    action: Action = Field(description="BUY or SELL places orders on that side; HOLD places none.")
    trade_amount: SignedDollars = Field(
        description="Signed dollars to trade: positive buys, negative sells, zero holds. Its "
        "absolute value is the item's planned notional; its sign must agree with `action`."
    )
    current_weight: Weight = Field(description="Weight held now, 0-1. Carried through.")
    target_weight: Weight = Field(
        description="Weight wanted, 0-1. A SELL with target 0 is a full exit: exactly the "
        "quantity held is sold, whatever trade_amount says."
    )
    weight_diff: WeightDelta = Field(description="target - current weight. Carried through.")
    current_value: NonNegativeDollars = Field(
        description="Dollar value held now, per the planner. Carried through."
    )
    target_value: NonNegativeDollars = Field(
        description="Dollar value wanted, per the planner. Carried through."
    )
    priority: Priority = Field(
        description="1-5, 1 first: when buying power is short, buys are funded in this order "
        "(all of priority 1, then 2, ...; the level where the money runs out is shared pro rata "
        "and lower levels get nothing). Sells are never held back by priority. The alchemiser "
        "producer assigns it by trade size (>= $10,000 -> 1, >= $1,000 -> 2, >= $100 -> 3, "
        ">= $50 -> 4, else 5), so there it means: fund the largest buys first."
    )
    strategy_id: StrategyId | None = Field(
        default=None, description="Strategy that wants this item; copied to its order result."
    )

    @model_validator(mode="after")
    def _sign_agrees_with_action(self) -> Self:
        if not _sign_agrees(self.action, self.trade_amount):
            raise PydanticCustomError(
                "sign_agrees_with_action",
                _SIGN_MESSAGE[self.action] + ", got {amount}",
                {"at": "trade_amount", "amount": fixed_point(self.trade_amount)},
            )
        return self

    @property
    def planned_notional(self) -> Dollars:
        """The dollars this item asks to trade, without sign, in whole cents rounded toward zero.

        The rule for every side: an amount never grows by rounding (a buy never spends, a sell
        never sells, a fraction of a cent more than asked). The producer's amounts are Decimal
        products such as `17195.293333333332645521600`; nothing is sized from more digits.
        """
        return Dollars(abs(self.trade_amount).quantize(CENT, rounding=ROUND_DOWN))

    @property
    def is_full_exit(self) -> bool:
        """A sell down to nothing: sell exactly what is held."""
        return self.action is Action.SELL and self.target_weight == 0


class RebalancePlan(BaseModel):
    """The plan: items to trade plus context from the planner."""

    model_config = INPUT_MODEL_CONFIG

    plan_id: PlanId = Field(
        description="Unique plan id: the idempotency key (a plan runs at most once), part of "
        "the S3 ledger keys; 1-64 of [A-Za-z0-9._:-], or alchemiser's "
        "portfolio_v2_<correlation id>_<epoch seconds> (up to 160)."
    )
    correlation_id: TraceId = Field(
        description="Joins logs and the ExecutionResult to the workflow that made the plan."
    )
    causation_id: TraceId = Field(description="What caused the plan. Carried through.")
    timestamp: UtcTimestamp = Field(
        description="When the plan was made (with offset). Plans older than max_plan_age are "
        "rejected as stale."
    )
    schema_version: SchemaVersion = Field(description="Plan schema version; major 1 only.")
    items: tuple[PlanItem, ...] = Field(
        description=f"1-{MAX_PLAN_ITEMS} items, no symbol twice. Sells run first, then buys.",
        json_schema_extra={"minItems": 1, "maxItems": MAX_PLAN_ITEMS},
    )
    total_portfolio_value: NonNegativeDollars = Field(
        description="Portfolio value the planner saw. Carried through."
    )
    total_trade_value: SignedDollars = Field(
        description="The planner's total of the trades. Carried through; execution uses items."
    )
    execution_urgency: Urgency = Field(
        default=Urgency.NORMAL,
        description="Picks the smart-order profile: LOW starts near our side of the spread, "
        "NORMAL at the mid, HIGH near the far side, URGENT marketable.",
    )
    max_drift_tolerance: Weight = Field(description="Planner's drift band, 0-1. Carried through.")
    estimated_duration_minutes: DurationMinutes | None = Field(
        default=None, description="Planner's estimate. Carried through."
    )
    strategy_id: StrategyId | None = Field(default=None, description="Carried through.")
    metadata: JsonObject | None = Field(
        default=None, description="Free-form, bounded. Carried through."
    )

    @field_validator("items", mode="before")
    @classmethod
    def _item_count(cls, value: object) -> object:
        # Counted before the items are validated: a 10,000-item list is refused without
        # validating each item, and a list whose items all fail is not called "empty".
        if isinstance(value, list | tuple):
            if not value:
                raise PydanticCustomError("min_items", "a plan needs at least one item")
            if len(value) > MAX_PLAN_ITEMS:
                raise PydanticCustomError(
                    "max_items", "at most {limit} items", {"limit": MAX_PLAN_ITEMS}
                )
        return value

    @model_validator(mode="after")
    def _unique_symbols(self) -> Self:
        first_seen: dict[str, int] = {}
        for index, item in enumerate(self.items):
            if item.symbol in first_seen:
                raise PydanticCustomError(
                    "unique_symbols",
                    "symbol {symbol} already appears at items[{first}]",
                    {
                        "at": f"items[{index}].symbol",
                        "symbol": item.symbol,
                        "first": first_seen[item.symbol],
                    },
                )
            first_seen[item.symbol] = index
        return self

    def items_for(self, action: Action) -> tuple[PlanItem, ...]:
        """The items asking for `action`, in plan order."""
        return tuple(item for item in self.items if item.action is action)

    def notional_for(self, action: Action) -> Dollars:
        """Planned notional of all items asking for `action`."""
        return Dollars(sum((item.planned_notional for item in self.items_for(action)), ZERO))
