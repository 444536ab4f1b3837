"""What the caller hands the engine and what it gets back."""

from dataclasses import dataclass, field

from plan_executor.domain.enums import TradingMode
from plan_executor.domain.events import RebalancePlannedDetail
from plan_executor.domain.ledger import LedgerCancellationLine, LedgerOrderLine
from plan_executor.domain.results import ExecutionResult
from plan_executor.engine.config import ExecutionSettings
from plan_executor.engine.progress import ProgressCallback
from plan_executor.ports import Broker, Clock

LedgerLine = LedgerOrderLine | LedgerCancellationLine


@dataclass(frozen=True, slots=True)
class ExecutionRequest:
    """One plan to execute, and the ids the caller assigns to this attempt."""

    detail: RebalancePlannedDetail
    causation_id: str
    """The input EventBridge event id."""
    result_event_id: str
    """Id of the ExecutionResult event this attempt will publish."""
    attempt: str
    """The attempt token (`domain.ledger_keys.attempt_token`)."""
    earlier_attempt: bool = False
    """An earlier attempt of this plan may have sent orders (its in-flight marker is there):
    if the rails refuse this one, it cleans up after that attempt instead (`recover_plan`)."""


@dataclass(frozen=True, slots=True)
class ExecutionDeps:
    broker: Broker
    clock: Clock
    trading_mode: TradingMode
    """What the credentials are (paper / live / simulated); live needs `allow_live`."""
    settings: ExecutionSettings = field(default_factory=ExecutionSettings)
    progress: ProgressCallback | None = None
    """Optional: phase starts/ends and every order change, for a CLI to show progress."""


@dataclass(frozen=True, slots=True)
class ExecutionOutcome:
    """The result (its `ledger` still None: the caller sets it after writing) and the ledger
    lines for `orders.jsonl`."""

    result: ExecutionResult
    ledger_lines: tuple[LedgerLine, ...]
