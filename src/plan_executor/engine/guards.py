"""Step 1: guard rails before any order, failing closed.

Each rail either passes or names itself in a rejection. An error while checking a rail (the
broker's clock unreachable, an unreadable account...) is a rejection too: a rail that cannot be
checked never lets the plan through.

The local rails (`check_local_rails`) run first: no broker call at all when one refuses.
Then (`check_broker_rails`) the broker's clock, the account and the assets are read
concurrently (one round trip, not three; three requests whatever the plan's size, the assets
being one listing: `Broker.assets`) and the rails are judged in the same order as before, so
the first refusing rail still names the rejection. The executor starts its early
reads, which send nothing, between the two.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from plan_executor.domain.enums import Action, TradingMode
from plan_executor.domain.events import plan_age_violation
from plan_executor.domain.money import Dollars
from plan_executor.domain.plan import RebalancePlan
from plan_executor.engine.config import ExecutionSettings
from plan_executor.ports import AccountSnapshot, AssetInfo, Broker, Clock, MarketClock

logger = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class GuardsPassed:
    """What the rails read, reused by the execution (equity, asset terms, the close)."""

    account: AccountSnapshot
    assets: Mapping[str, AssetInfo]
    market: MarketClock
    """The market clock read by the market_open rail: its `next_close` ends the plan."""


@dataclass(frozen=True, slots=True)
class GuardRejection:
    rail: str
    reason: str

    def describe(self) -> str:
        return f"guard rail {self.rail}: {self.reason}"


class _Refused(Exception):
    """A rail said no (internal: never escapes this module)."""


async def check_local_rails(
    plan: RebalancePlan, *, clock: Clock, settings: ExecutionSettings, trading_mode: TradingMode
) -> GuardRejection | None:
    """The rails that need no broker call (trading mode, kill switch, plan age), in order."""
    return await _GuardRails(plan, clock, settings, trading_mode).check_local()


async def check_broker_rails(
    plan: RebalancePlan,
    *,
    broker: Broker,
    clock: Clock,
    settings: ExecutionSettings,
    trading_mode: TradingMode,
) -> GuardsPassed | GuardRejection:
    """The rails judged from the broker's answers (market open, account, notional limits,
    assets), in order; to be called once `check_local_rails` passed."""
    return await _GuardRails(plan, clock, settings, trading_mode).check_broker(broker)


class _GuardRails:
    def __init__(
        self,
        plan: RebalancePlan,
        clock: Clock,
        settings: ExecutionSettings,
        trading_mode: TradingMode,
    ) -> None:
        self._plan = plan
        self._clock = clock
        self._settings = settings
        self._mode = trading_mode
        self._symbols = [item.symbol for item in plan.items if item.action is not Action.HOLD]
        self._reads: _BrokerReads | None = None
        self._account: AccountSnapshot | None = None
        self._market: MarketClock | None = None
        self._assets: Mapping[str, AssetInfo] | None = None

    async def check_local(self) -> GuardRejection | None:
        return await _first_rejection(
            [
                ("trading_mode", self._trading_mode),
                ("kill_switch", self._kill_switch),
                ("plan_age", self._plan_age),
            ]
        )

    async def check_broker(self, broker: Broker) -> GuardsPassed | GuardRejection:
        self._reads = await _read_concurrently(broker, self._symbols)
        rejection = await _first_rejection(
            [
                ("market_open", self._market_open),
                ("account", self._account_usable),
                ("notional_limits", self._notional_limits),
                ("assets", self._assets_tradable),
            ]
        )
        if rejection is not None:
            return rejection
        if self._account is None or self._assets is None or self._market is None:
            return GuardRejection("internal", "a rail passed without reading its data")
        return GuardsPassed(account=self._account, assets=self._assets, market=self._market)

    async def _trading_mode(self) -> None:
        if self._mode is TradingMode.LIVE and not self._settings.allow_live:
            raise _Refused("live credentials, but live trading is not allowed by configuration")

    async def _kill_switch(self) -> None:
        if self._settings.kill_switch:
            raise _Refused("the kill switch is on")

    async def _plan_age(self) -> None:
        violation = plan_age_violation(self._plan, self._clock.now(), self._settings.max_plan_age)
        if violation is not None:
            raise _Refused(violation.describe())

    def _read(self) -> "_BrokerReads":
        if self._reads is None:
            raise _Refused("the broker was not read")
        return self._reads

    async def _market_open(self) -> None:
        market = _result(self._read().clock)
        if not market.is_open:
            raise _Refused(f"the market is closed (next open {market.next_open.isoformat()})")
        self._market = market

    async def _account_usable(self) -> None:
        account = _result(self._read().account)
        if account.trading_blocked:
            raise _Refused("the account is blocked from trading")
        self._account = account

    async def _notional_limits(self) -> None:
        if self._account is None:
            raise _Refused("no account read")
        _check_notionals(self._plan, self._settings, self._account.equity)

    async def _assets_tradable(self) -> None:
        found = _result(self._read().assets)
        _check_assets(self._symbols, found)
        self._assets = found


@dataclass(frozen=True, slots=True)
class _BrokerReads:
    """What the broker answered to each read, or the error it raised instead."""

    clock: MarketClock | BaseException
    account: AccountSnapshot | BaseException
    assets: Mapping[str, AssetInfo] | BaseException


async def _read_concurrently(broker: Broker, symbols: list[str]) -> _BrokerReads:
    """The three reads at once; each failure is kept for its own rail to judge (fail closed)."""
    clock, account, assets = await asyncio.gather(
        broker.clock(), broker.account(), broker.assets(symbols), return_exceptions=True
    )
    return _BrokerReads(clock=clock, account=account, assets=assets)


def _result(read: T | BaseException) -> T:
    if isinstance(read, BaseException):
        raise read
    return read


async def _first_rejection(
    rails: list[tuple[str, Callable[[], Awaitable[None]]]],
) -> GuardRejection | None:
    for name, rail in rails:
        rejection = await _checked(name, rail)
        if rejection is not None:
            return rejection
    return None


async def _checked(name: str, rail: Callable[[], Awaitable[None]]) -> GuardRejection | None:
    try:
        await rail()
    except _Refused as refusal:
        return GuardRejection(name, str(refusal))
    except Exception as error:
        logger.warning("guard rail %s could not be checked", name, exc_info=True)
        return GuardRejection(name, f"could not be checked ({type(error).__name__}: {error})")
    return None


def _check_notionals(plan: RebalancePlan, settings: ExecutionSettings, equity: Dollars) -> None:
    for item in plan.items:
        if item.planned_notional > settings.max_order_notional:
            raise _Refused(
                f"{item.symbol} asks for {item.planned_notional}, above max_order_notional "
                f"{settings.max_order_notional}"
            )
    sells, buys = plan.notional_for(Action.SELL), plan.notional_for(Action.BUY)
    if sells + buys > settings.max_plan_notional:
        raise _Refused(
            f"plan trades {sells + buys}, above max_plan_notional {settings.max_plan_notional}"
        )
    allowed = equity * settings.max_equity_fraction
    for side, amount in (("sells", sells), ("buys", buys)):
        if amount > allowed:
            raise _Refused(
                f"{side} of {amount} exceed {settings.max_equity_fraction} of equity {equity}"
            )


def _check_assets(symbols: list[str], found: Mapping[str, AssetInfo]) -> None:
    for symbol in symbols:
        asset = found.get(symbol)
        if asset is None:
            raise _Refused(f"{symbol} is not a known asset")
        if not (asset.tradable and asset.active):
            raise _Refused(f"{symbol} is not tradable and active")
