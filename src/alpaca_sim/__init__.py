"""alpaca_sim: a local, seeded simulation of the parts of Alpaca the plan executor uses."""

from alpaca_sim.clock import SimClock
from alpaca_sim.errors import SimError
from alpaca_sim.scenario import Scenario, default_scenario, load_scenario, scenario_from_dict
from alpaca_sim.venue import TradeUpdate, Venue

__all__ = [
    "Scenario",
    "SimClock",
    "SimError",
    "TradeUpdate",
    "Venue",
    "default_scenario",
    "load_scenario",
    "scenario_from_dict",
]
