"""What an execution knows when an item starts, handed to the choice between walk and marketable
(`domain/execution_choice.py`)."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from plan_executor.domain.enums import Urgency, Venue
from plan_executor.domain.execution_choice import (
    ChoiceInputs,
    ExecutionChoice,
    choose_execution,
    spread_in_ticks,
)
from plan_executor.domain.pricing import PricingProfile
from plan_executor.domain.quotes import Quote


@dataclass(frozen=True, slots=True)
class ExecutionPolicy:
    venue: Venue
    urgency: Urgency
    walk_min_spread_ticks: int | None
    time_left: Callable[[], timedelta | None]
    """Until the plan's deadline or the market's close, whichever is first; None: neither."""

    def choose(self, arrival: Quote, profile: PricingProfile) -> ExecutionChoice:
        inputs = ChoiceInputs(
            venue=self.venue,
            urgency=self.urgency,
            spread_ticks=spread_in_ticks(arrival),
            walk_duration=profile.walk_duration,
            time_left=self.time_left(),
        )
        return choose_execution(inputs, walk_min_spread_ticks=self.walk_min_spread_ticks)
