"""alpaca_sim: a local, seeded simulation of the parts of Alpaca the plan executor uses.

Fills. A scenario's top-level `"fill_model"` chooses how orders fill (alpaca_sim.fillmodel has
every rule with its source); both models read one market, so a seed gives the same prices,
spreads and other traders' arrivals under either, and a plan can be compared on both.
  * `"paper"` (the default, and any scenario without the key): Alpaca's paper engine as its docs
    ("Paper trading") describe it. Marketable orders fill at the NBBO quote, whole whatever the
    quote's size, about 10 % of fills at random partial (the rest keeps working and fills at a
    later market step while still marketable); no price improvement, queue or impact; no other
    trader fills a passive limit, which fills only once the quote moves through it.
  * `"live"`: the market a real retail order meets. Marketable orders fill whole at a
    wholesaler's improved price, about 0.43-0.5 of the half-spread from the mid (S3/BMLL, April
    2025), on a $0.0001 grid; resting limits fill at their limit through other traders' flow
    (alpaca_sim.flow, configured in the scenario's `"flow"`), at the touch behind the displayed
    size, with adverse selection (some of the flow trades the way the mid is about to move).
Spreads (alpaca_sim.market): the default scenario's large caps quote a whole number of ticks
drawn per market step, one tick most of the time, wider sometimes. Every behaviour's source is
in the docstring of the module that implements it.
"""

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
