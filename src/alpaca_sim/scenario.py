"""Scenarios: the starting account, assets and market parameters of a simulated venue.

Other traders' marketable orders ("flow", see alpaca_sim.flow) are configured with an optional
top-level `"flow": {"rate_per_min": R, "mean_size": M}` that applies to every symbol, and an
optional `"flow"` object in a symbol's spec that overrides any of its fields for that symbol.
`rate_per_min` is the mean number of arrivals per minute of session time (buys and sells
together; 0, the default, means no flow: resting orders then fill only when the quote moves
through them); `mean_size` is the mean arriving size in shares (default 100);
`informed_share` is the share of arrivals that trade in the direction the mid is about to move
(default 0.15; alpaca_sim.flow says why). Flow fills our orders only under the `live` fill model.

An optional `"refusals"` object picks which recorded Alpaca wording the venue gives a duplicate
client_order_id and a cancel of a terminal order (readings and sources: alpaca_sim.refusals).

The `account` section says what kind of account is simulated (see AccountTerms): `type` "cash"
(the default) or "margin", and for a margin account its `multiplier`, `shorting_enabled`,
`pattern_day_trader` and `daytrade_count`. Two rules changed at Alpaca on a known date, so
their default follows the scenario's start (`clock.start`) and each can be forced:
`account.day_trade_rule` ("pdt" before 2026-07-06, "intraday_margin" from then) and
`market.quote_size_unit` ("lots" of 100 shares before 2025-11-03, "shares" from then).

The top-level `"fill_model"` chooses how orders fill (alpaca_sim.fillmodel): `"paper"`, the
default, as Alpaca's paper engine does, or `"live"`, as a real market does. Under paper, the
top-level `"partial_fill_share"` is the share of fills that are random partial fills (default
0.1, as Alpaca documents; 0 turns them off where a test needs every fill whole).

A symbol's quoted spread is either `"spread_bps"` of the mid (default 2), or `"spread_ticks"`: a
distribution of the spread in whole ticks, drawn afresh at every market step, e.g.
`{"1": 0.85, "2": 0.12, "3": 0.03}` (the weights must add up to 1; `spread_ticks` wins when both
are given). The default scenario's large caps use ticks (alpaca_sim.market gives the sources).
"""

import bisect
import importlib
import json
import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Literal

from alpaca_sim.clock import require_aware
from alpaca_sim.decimals import Dollars, Price, Shares, to_decimal
from alpaca_sim.errors import SimError, bad_request
from alpaca_sim.refusals import RefusalWording, refusal_wording
from alpaca_sim.session import SessionCalendar

_EXCHANGES = frozenset({"AMEX", "ARCA", "BATS", "NYSE", "NASDAQ", "NYSEARCA", "OTC"})

PDT_RETIRED_ON = date(2026, 7, 6)
"""Alpaca changelog, 2026-07-06 "Pattern day trading fields and configurations removed" (and
2026-06-03: "Accounts are no longer flagged for pattern day trading", following FINRA's revised
Rule 4210 intraday margin standards): from this day no PDT refusal and no `pattern_day_trader`,
`daytrade_count` or `daytrading_buying_power` in GET /v2/account."""
SHARE_SIZES_FROM = date(2025, 11, 3)
"""Quote sizes: before this day Alpaca's `bs`/`as` were round lots of 100 shares (Alpaca staff,
forum.alpaca.markets/t/16000: "The Alpaca quote sizes are actually in round lots: the first ask
size of 15 in your example means 15 * 100 = 1500 shares"). The SEC's round-lot amendments to
Regulation NMS took effect that day and the SIPs disseminate sizes in shares (Cboe "Regulation
NMS Round Lots Enhancements FAQ", 28 Oct 2025); Alpaca announced it in its changelog of
2025-10-30, "CTA/UTP bid and ask size display change"."""
ROUND_LOT = 100
DAY_TRADE_RULES = frozenset({"pdt", "intraday_margin"})
QUOTE_SIZE_UNITS = frozenset({"lots", "shares"})
FillModel = Literal["paper", "live"]
FILL_MODELS: tuple[FillModel, ...] = ("paper", "live")


@dataclass(frozen=True)
class AssetSpec:
    symbol: str
    asset_id: str
    name: str
    exchange: str
    status: str = "active"
    tradable: bool = True
    fractionable: bool = True
    marginable: bool = True
    shortable: bool = True
    easy_to_borrow: bool = True


@dataclass(frozen=True)
class AccountTerms:
    """The account's kind. Cash: buying power is cash less open buys, never borrowed. Margin
    (Alpaca, "Margin and Short Selling"; Reg T): `multiplier` 1, 2 (Reg T, overnight and
    intraday) or 4 (a pattern day trader's intraday buying power, legacy rule only).
    `daytrade_count` is the day trades made in the business days before the start (they count
    as made on the session before it); `pattern_day_trader` is the legacy designation."""

    type: str = "cash"
    multiplier: int = 1
    shorting_enabled: bool = False
    day_trade_rule: str = "intraday_margin"
    pattern_day_trader: bool = False
    daytrade_count: int = 0

    @property
    def is_margin(self) -> bool:
        return self.type == "margin"

    @property
    def legacy_pdt(self) -> bool:
        return self.day_trade_rule == "pdt"


CASH_ACCOUNT = AccountTerms()


@dataclass(frozen=True)
class PositionSpec:
    qty: Shares
    avg_entry_price: Price


@dataclass(frozen=True)
class ClockSpec:
    start: datetime
    session_open: time
    session_close: time
    display_offset: timedelta
    holidays: frozenset[date] = field(default_factory=frozenset)
    weekends: bool = False

    def calendar(self) -> SessionCalendar:
        return SessionCalendar(
            self.session_open,
            self.session_close,
            self.display_offset,
            self.holidays,
            weekends=self.weekends,
        )


@dataclass(frozen=True)
class LatencySpec:
    ack_ms: float = 0.0
    fill_ms: float = 0.0


@dataclass(frozen=True)
class FlowSpec:
    """Other traders' marketable orders on one symbol: Poisson arrivals in session time."""

    rate_per_min: float = 0.0
    mean_size: float = 100.0  # shares
    informed_share: float = 0.15  # of arrivals, trading the way the mid is about to move

    @property
    def active(self) -> bool:
        return self.rate_per_min > 0


NO_FLOW = FlowSpec()


@dataclass(frozen=True)
class Spread:
    """A symbol's quoted spread: `bps` of the mid, or, when `ticks` is set, a whole number of
    ticks drawn at each market step (`ticks[i]` up to cumulative probability `cumulative[i]`)."""

    bps: Decimal = Decimal(2)
    ticks: tuple[int, ...] = ()
    cumulative: tuple[float, ...] = ()

    def ticks_for(self, unit: float) -> int:
        """The spread in ticks for a uniform draw `unit` in [0, 1)."""
        index = bisect.bisect_right(self.cumulative, unit)
        return self.ticks[min(index, len(self.ticks) - 1)]


@dataclass(frozen=True)
class Scenario:
    name: str
    cash: Dollars
    positions: Mapping[str, PositionSpec]
    assets: Mapping[str, AssetSpec]
    prices: Mapping[str, Price]
    spreads: Mapping[str, Spread]
    volatility: Mapping[str, Decimal]  # annualised, e.g. 0.30
    sizes: Mapping[str, int]  # typical displayed size per side, in shares
    clock: ClockSpec
    latency: LatencySpec
    rate_limit_per_min: int = 200
    rate_limit_enabled: bool = True
    account: AccountTerms = CASH_ACCOUNT
    api_key: str = "sim-key"
    api_secret: str = "sim-secret"  # noqa: S105 - a local simulator's default credential
    account_id: str = "5f0c7e1a-9b1d-4e55-8a3a-2b6f1c0d9e01"
    account_number: str = "PA3SIM000001"
    step_seconds: float = 1.0
    stale_after_seconds: float = 5.0
    collar_pct: Decimal = Decimal(2)
    flow: Mapping[str, FlowSpec] = field(default_factory=dict)  # absent symbol: NO_FLOW
    refusals: RefusalWording = field(default_factory=RefusalWording)  # alpaca_sim.refusals
    quote_size_unit: str = "shares"
    fill_model: FillModel = "paper"
    partial_fill_share: float = 0.10  # paper: Alpaca docs, "Paper trading"

    @property
    def account_type(self) -> str:
        return self.account.type

    @property
    def quote_lot(self) -> int:
        """Shares per unit of a served quote size: 100 in lots, 1 in shares."""
        return ROUND_LOT if self.quote_size_unit == "lots" else 1


def load_scenario(path: str | Path) -> Scenario:
    source = Path(path)
    text = source.read_text(encoding="utf-8")
    if source.suffix.lower() in {".yaml", ".yml"}:
        try:
            yaml = importlib.import_module("yaml")
        except ImportError as exc:
            raise bad_request("invalid scenario: YAML needs PyYAML installed") from exc
        data = yaml.safe_load(text)
    else:
        data = json.loads(text)
    if not isinstance(data, Mapping):
        raise bad_request("invalid scenario: the document must be an object")
    return scenario_from_dict(data)


def default_scenario() -> Scenario:
    text = resources.files("alpaca_sim").joinpath("scenarios/default.json").read_text("utf-8")
    return scenario_from_dict(json.loads(text))


def scenario_from_dict(d: Mapping[str, object]) -> Scenario:
    """Build a Scenario from its JSON shape (see scenarios/default.json); raises SimError 422."""
    try:
        return _parse(d)
    except SimError:
        raise
    except (ValueError, TypeError, KeyError) as exc:
        raise bad_request(f"invalid scenario: {exc}") from exc


def _parse(d: Mapping[str, object]) -> Scenario:
    scenario = _build(d)
    if scenario.stale_after_seconds < scenario.step_seconds:
        raise ValueError("market.stale_after_seconds must be >= market.step_seconds")
    return scenario


def _build(d: Mapping[str, object]) -> Scenario:
    account = _section(d, "account")
    auth = _section(d, "auth")
    market = _section(d, "market")
    latency = _section(d, "latency")
    rate_limit = _section(d, "rate_limit")
    symbols = _section(d, "symbols", required=True)
    specs = {symbol: _section(symbols, symbol, required=True) for symbol in symbols}
    clock = _clock(_section(d, "clock", required=True))
    return Scenario(
        name=str(d.get("name", "custom")),
        cash=Dollars(to_decimal(account.get("cash", "0"))),
        positions=_positions(_section(d, "positions"), specs),
        assets={s: _asset(s, spec) for s, spec in specs.items()},
        prices={s: _positive(spec, "price") for s, spec in specs.items()},
        spreads={s: _spread(s, spec) for s, spec in specs.items()},
        volatility={s: to_decimal(spec.get("volatility", "0.3")) for s, spec in specs.items()},
        sizes={s: _positive_int(spec, "size", 300) for s, spec in specs.items()},
        clock=clock,
        latency=LatencySpec(
            ack_ms=_non_negative(latency, "ack_ms"), fill_ms=_non_negative(latency, "fill_ms")
        ),
        rate_limit_per_min=int(str(rate_limit.get("per_minute", 200))),
        rate_limit_enabled=_bool(rate_limit, "enabled", default=True),
        api_key=str(auth.get("api_key", Scenario.api_key)),
        api_secret=str(auth.get("api_secret", Scenario.api_secret)),
        account_id=str(account.get("id", Scenario.account_id)),
        account_number=str(account.get("account_number", Scenario.account_number)),
        account=_account_terms(account, clock.start.date()),
        step_seconds=_positive_float(market, "step_seconds", 1.0),
        stale_after_seconds=float(str(market.get("stale_after_seconds", 5.0))),
        collar_pct=to_decimal(market.get("collar_pct", "2")),
        flow=_flows(_section(d, "flow"), specs),
        refusals=refusal_wording(_section(d, "refusals")),
        quote_size_unit=_choice(
            market,
            "quote_size_unit",
            QUOTE_SIZE_UNITS,
            "lots" if clock.start.date() < SHARE_SIZES_FROM else "shares",
        ),
        fill_model=_fill_model(d.get("fill_model", "paper")),
        partial_fill_share=_share(d, "partial_fill_share", Scenario.partial_fill_share),
    )


def _account_terms(account: Mapping[str, object], start: date) -> AccountTerms:
    kind = _choice(account, "type", frozenset({"cash", "margin"}), "cash")
    margin = kind == "margin"
    multiplier = int(str(account.get("multiplier", 2 if margin else 1)))
    if multiplier not in ({1, 2, 4} if margin else {1}):
        raise ValueError(f"account multiplier {multiplier} is not allowed for a {kind} account")
    shorting = _bool(account, "shorting_enabled", default=margin)
    if shorting and not margin:
        raise ValueError("a cash account cannot short")
    count = int(str(account.get("daytrade_count", 0)))
    if count < 0:
        raise ValueError("'daytrade_count' must be >= 0")
    era = "pdt" if start < PDT_RETIRED_ON else "intraday_margin"
    rule = _choice(account, "day_trade_rule", DAY_TRADE_RULES, era)
    if multiplier == 4 and rule != "pdt":
        # 4x was the day trading buying power of a designated pattern day trader; what the
        # intraday margin rule allows instead is not modelled.
        raise ValueError("multiplier 4 needs day_trade_rule 'pdt'")
    return AccountTerms(
        type=kind,
        multiplier=multiplier,
        shorting_enabled=shorting,
        day_trade_rule=rule,
        pattern_day_trader=_bool(account, "pattern_day_trader", default=False),
        daytrade_count=count,
    )


def _choice(d: Mapping[str, object], key: str, allowed: frozenset[str], default: str) -> str:
    value = str(d.get(key, default))
    if value not in allowed:
        raise ValueError(f"{key!r} must be one of {sorted(allowed)}")
    return value


def _fill_model(value: object) -> FillModel:
    if value not in FILL_MODELS:
        raise ValueError(f"fill_model must be one of {list(FILL_MODELS)}, got {value!r}")
    return value


def _spread(symbol: str, spec: Mapping[str, object]) -> Spread:
    bps = to_decimal(spec.get("spread_bps", "2"))
    if bps <= 0:
        raise ValueError(f"{symbol}: spread_bps must be > 0")
    weights = _section(spec, "spread_ticks")
    if not weights:
        return Spread(bps=bps)
    pairs = sorted((int(str(ticks)), to_decimal(weight)) for ticks, weight in weights.items())
    if any(ticks < 1 or weight <= 0 for ticks, weight in pairs):
        raise ValueError(f"{symbol}: spread_ticks maps ticks >= 1 to weights > 0")
    if sum(weight for _, weight in pairs) != 1:
        raise ValueError(f"{symbol}: spread_ticks weights must add up to 1")
    running, cumulative = Decimal(0), []
    for _, weight in pairs:
        running += weight
        cumulative.append(float(running))
    return Spread(bps=bps, ticks=tuple(t for t, _ in pairs), cumulative=tuple(cumulative))


def _flows(
    default: Mapping[str, object], specs: Mapping[str, Mapping[str, object]]
) -> dict[str, FlowSpec]:
    flows: dict[str, FlowSpec] = {}
    for symbol, spec in specs.items():
        merged = {**default, **_section(spec, "flow")}
        flow = FlowSpec(
            rate_per_min=_non_negative(merged, "rate_per_min"),
            mean_size=_positive_float(merged, "mean_size", FlowSpec.mean_size),
            informed_share=_share(merged, "informed_share", FlowSpec.informed_share),
        )
        if flow.active:
            flows[symbol] = flow
    return flows


def _section(d: Mapping[str, object], key: str, *, required: bool = False) -> Mapping[str, object]:
    value = d.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, Mapping):
        raise ValueError(f"{key!r} must be an object")
    return value


def _bool(d: Mapping[str, object], key: str, *, default: bool) -> bool:
    value = d.get(key, default)
    if not isinstance(value, bool):
        raise ValueError(f"{key!r} must be true or false")
    return value


def _positive(d: Mapping[str, object], key: str) -> Price:
    value = to_decimal(d[key])
    if value <= 0:
        raise ValueError(f"{key!r} must be > 0")
    return Price(value)


def _positive_int(d: Mapping[str, object], key: str, default: int) -> int:
    value = int(str(d.get(key, default)))
    if value <= 0:
        raise ValueError(f"{key!r} must be > 0")
    return value


def _positive_float(d: Mapping[str, object], key: str, default: float) -> float:
    value = float(str(d.get(key, default)))
    if not value > 0 or math.isinf(value):
        raise ValueError(f"{key!r} must be > 0 and finite")
    return value


def _share(d: Mapping[str, object], key: str, default: float) -> float:
    value = float(str(d.get(key, default)))
    if not 0 <= value <= 1:
        raise ValueError(f"{key!r} must be between 0 and 1")
    return value


def _non_negative(d: Mapping[str, object], key: str) -> float:
    value = float(str(d.get(key, 0)))
    if not value >= 0 or math.isinf(value):
        raise ValueError(f"{key!r} must be >= 0 and finite")
    return value


def _asset(symbol: str, spec: Mapping[str, object]) -> AssetSpec:
    exchange = str(spec.get("exchange", "NASDAQ"))
    if exchange not in _EXCHANGES:
        raise ValueError(f"{symbol}: unknown exchange {exchange!r}")
    status = str(spec.get("status", "active"))
    if status not in {"active", "inactive"}:
        raise ValueError(f"{symbol}: status must be active or inactive")
    return AssetSpec(
        symbol=symbol,
        asset_id=str(spec.get("asset_id", "")) or _derived_asset_id(symbol),
        name=str(spec.get("name", symbol)),
        exchange=exchange,
        status=status,
        tradable=_bool(spec, "tradable", default=True),
        fractionable=_bool(spec, "fractionable", default=True),
        marginable=_bool(spec, "marginable", default=True),
        shortable=_bool(spec, "shortable", default=True),
        easy_to_borrow=_bool(spec, "easy_to_borrow", default=True),
    )


def _derived_asset_id(symbol: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"alpaca-sim/asset/{symbol}"))


def _positions(
    d: Mapping[str, object], specs: Mapping[str, Mapping[str, object]]
) -> dict[str, PositionSpec]:
    positions: dict[str, PositionSpec] = {}
    for symbol in d:
        if symbol not in specs:
            raise ValueError(f"position in unknown symbol {symbol!r}")
        spec = _section(d, symbol, required=True)
        qty = to_decimal(spec["qty"])
        if qty <= 0:
            raise ValueError(f"{symbol}: position qty must be > 0 (long only)")
        entry = spec.get("avg_entry_price", specs[symbol]["price"])
        positions[symbol] = PositionSpec(Shares(qty), Price(to_decimal(entry)))
    return positions


def _clock(d: Mapping[str, object]) -> ClockSpec:
    start = require_aware(datetime.fromisoformat(str(d["start"])))
    holidays = d.get("holidays", [])
    if not isinstance(holidays, list):
        raise ValueError("'holidays' must be a list of dates")
    return ClockSpec(
        start=start,
        session_open=time.fromisoformat(str(d.get("session_open_utc", "14:30"))),
        session_close=time.fromisoformat(str(d.get("session_close_utc", "21:00"))),
        display_offset=_offset(str(d.get("display_utc_offset", "-05:00"))),
        holidays=frozenset(date.fromisoformat(str(day)) for day in holidays),
        weekends=_bool(d, "weekends", default=False),
    )


def _offset(text: str) -> timedelta:
    sign = -1 if text.startswith("-") else 1
    hours, minutes = text.lstrip("+-").split(":")
    return sign * timedelta(hours=int(hours), minutes=int(minutes))
