"""The fault matrix as tables: the service's outside calls, the faults each can suffer, the
phases each happens in, and what the service must make of each combination.

Cells are generated from these tables; a combination that does not exist is simply not
generated (an "after commit" fault for a read, a phase a call is never made in, a 429 that was
committed). `all_cells()` is the whole product; `matrix_cells()` the fast part of it (every
call, every fault, every phase; the writes in full) and `soak_cells()` the rest (pytest -m
soak). Faults take 1-3 requests, or every request ("down") until the trouble is cleared.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Commit(StrEnum):
    BEFORE = "before"
    """The server never acted on the request."""
    AFTER = "after"
    """The server acted (committed), then the client got the fault instead of the answer."""


class Kind(StrEnum):
    STATUS = "status"
    HANG = "hang"
    """No answer: the client's own timeout ends the wait."""
    REJECT = "reject"
    """The broker refuses the next order outright (HTTP 403)."""
    REJECT_ON_ACK = "reject-on-ack"
    """The broker accepts the next order, then rejects it when acknowledging it."""
    DROP_STREAM = "drop-stream"
    DELAY_ACK = "delay-ack"
    CANCEL_RACE = "cancel-race"
    """The next cancel loses to a fill."""
    ENTRY_FAILURE = "entry-failure"
    """PutEvents answers 200 but fails the entry."""


@dataclass(frozen=True)
class FaultSpec:
    kind: Kind
    status: int | None = None
    commit: Commit = Commit.BEFORE
    count: int | None = 1
    """Requests it takes; None: every matching one, until the trouble is cleared."""

    @property
    def label(self) -> str:
        times = "down" if self.count is None else f"x{self.count}"
        if self.kind is Kind.STATUS:
            return f"{self.status}-{self.commit}-{times}"
        if self.kind is Kind.HANG:
            return f"hang-{self.commit}"
        if self.kind is Kind.ENTRY_FAILURE:
            return f"{self.kind}-{times}"
        return str(self.kind)

    @property
    def persistent(self) -> bool:
        return self.count is None


class Setup(StrEnum):
    LOST_SUBMIT = "lost-submit"
    """The next order is placed, but its answer is lost (504 after commit)."""
    UNRESOLVED_SUBMIT = "unresolved-submit"
    """As LOST_SUBMIT, and the lookups fail until the adapter gives up on the submit."""


class Expect(StrEnum):
    """What the service must make of a cell."""

    ABSORBED = "absorbed"
    """Retried within its budget: the first invocation returns SUCCESS."""
    DEGRADED = "degraded"
    """The first invocation returns a non-success result that says what did not fill."""
    REJECTED = "rejected"
    """A guard rail could not be checked: REJECTED, nothing sent (fail closed)."""
    RAISES = "raises"
    """The invocation raises and its idempotency record is released (at once, or by its own
    short deadline); the redelivery completes the plan."""
    LOCKED = "locked"
    """Raises after the plan was done and reported, and its in-progress record stays until the
    invocation's deadline (Powertools could not complete it): a prompt redelivery is refused."""
    SERVED = "served"
    """Raises after the plan was done and its record completed (the answer to the update was
    lost): the redelivery is served the stored result."""
    DEAD_LETTERED = "dead-lettered"
    """SUCCESS, with the ledger in the DLQ instead of S3 and the result saying so."""


STATUS_COUNTS: Mapping[int, int] = {429: 1, 500: 2, 503: 3, 504: 1}
"""Each status with its own count, so the matrix spans counts 1-3."""
BEFORE_STATUSES = (429, 500, 503, 504)
AFTER_STATUSES = (500, 503, 504)
"""A 429 is a refusal: nothing was committed, so it has no "after commit" form."""
DOWN = FaultSpec(Kind.STATUS, 503, Commit.BEFORE, None)
SUBMIT_ATTEMPTS = 4
"""The broker adapter's attempts per call (AlpacaConfig.retry_attempts): a submit's lost answer
and the failed lookups after it share them."""


# --- the broker (alpaca_sim) ------------------------------------------------------------------


@dataclass(frozen=True)
class BrokerCall:
    name: str
    method: str
    path: str
    """The sim's fault rule pattern (fnmatch)."""
    phases: tuple[str, ...]
    writes: bool = False
    extra: tuple[FaultSpec, ...] = ()
    down_for_good: Mapping[str, Expect] = field(default_factory=dict)
    """Phase -> what the service must make of this call failing for the rest of the run."""
    arm_at: Mapping[str, str] = field(default_factory=dict)
    """Phase -> the phase whose start arms the fault, when the call is made before its own
    phase is announced (the reconcile's listings start with the guard rails' last reads)."""
    setup: Mapping[str, tuple[str, Setup]] = field(default_factory=dict)
    """Phase -> (the phase to arrange it in, what): for calls made only when something else
    went wrong first (the lookup of a submit whose answer was lost; the cleanup's listing,
    made only after a submit the adapter could not resolve)."""

    def arming_phase(self, phase: str) -> str:
        return self.arm_at.get(phase, phase)


BROKER_CALLS: tuple[BrokerCall, ...] = (
    BrokerCall(
        "submit",
        "POST",
        "/v2/orders",
        ("sells", "buys"),
        writes=True,
        extra=(FaultSpec(Kind.REJECT), FaultSpec(Kind.REJECT_ON_ACK)),
        down_for_good={"sells": Expect.DEGRADED, "buys": Expect.DEGRADED},
    ),
    BrokerCall(
        "order-by-client-id",
        "GET",
        "/v2/orders:by_client_order_id",
        ("sells", "buys"),
        setup={
            "sells": ("sells", Setup.LOST_SUBMIT),
            "buys": ("buys", Setup.LOST_SUBMIT),
        },
    ),
    BrokerCall(
        "list-orders",
        "GET",
        "/v2/orders",
        ("reconcile", "cleanup"),
        down_for_good={"reconcile": Expect.RAISES, "cleanup": Expect.ABSORBED},
        arm_at={"reconcile": "guards"},
        setup={"cleanup": ("sells", Setup.UNRESOLVED_SUBMIT)},
    ),
    BrokerCall(
        "cancel",
        "DELETE",
        "/v2/orders/*",
        ("sells", "buys"),
        writes=True,
        extra=(FaultSpec(Kind.CANCEL_RACE),),
    ),
    BrokerCall(
        "quotes",
        "GET",
        "/v2/stocks/quotes/latest",
        ("sells", "buys"),
        down_for_good={"sells": Expect.DEGRADED, "buys": Expect.DEGRADED},
    ),
    BrokerCall(
        "account",
        "GET",
        "/v2/account",
        ("guards", "buys"),
        down_for_good={"guards": Expect.REJECTED, "buys": Expect.DEGRADED},
    ),
    BrokerCall(
        "positions",
        "GET",
        "/v2/positions",
        ("sells",),
        down_for_good={"sells": Expect.DEGRADED},
        arm_at={"sells": "guards"},
    ),
    BrokerCall("clock", "GET", "/v2/clock", ("guards",), down_for_good={"guards": Expect.REJECTED}),
    BrokerCall(
        "assets", "GET", "/v2/assets", ("guards",), down_for_good={"guards": Expect.REJECTED}
    ),
)

STREAM_FAULTS = (FaultSpec(Kind.DROP_STREAM), FaultSpec(Kind.DELAY_ACK))
STREAM_PHASES = ("sells", "buys")
CORE_DOWN = frozenset(
    {
        ("list-orders", "reconcile"),
        ("account", "guards"),
        ("clock", "guards"),
        ("positions", "sells"),
    }
)
"""Calls down for good that the fast matrix keeps (cheap, and each a distinct outcome)."""


# --- AWS (moto) -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AwsCall:
    name: str
    service: str
    operation: str | None
    point: str
    """Where in the invocation the call is made (the AWS side's "phase")."""
    attempts: int
    """Tries the service's client makes (botocore's for Powertools' clients, ours otherwise)."""
    writes: bool = True
    method: str | None = None
    path_has_plan: bool = False
    extra: tuple[FaultSpec, ...] = ()
    needs_s3_down: bool = False
    """Made only when the ledger cannot go to S3: S3 is made to refuse every put."""


AWS_CALLS: tuple[AwsCall, ...] = (
    AwsCall("idempotency-put", "dynamodb", "PutItem", "start", attempts=3),
    AwsCall("idempotency-update", "dynamodb", "UpdateItem", "finish", attempts=3),
    AwsCall("ledger-put", "s3", None, "ledger", attempts=4, method="PUT", path_has_plan=True),
    AwsCall(
        "result-event",
        "events",
        "PutEvents",
        "publish",
        attempts=4,
        extra=(
            FaultSpec(Kind.ENTRY_FAILURE, count=2),
            FaultSpec(Kind.ENTRY_FAILURE, count=None),
        ),
    ),
    AwsCall("dead-letter", "sqs", "SendMessage", "dead-letter", attempts=4, needs_s3_down=True),
    AwsCall(
        "alpaca-secret", "secretsmanager", "GetSecretValue", "credentials", attempts=3, writes=False
    ),
)


CORE_AWS_HANGS = frozenset({"idempotency-put"})
"""A hung AWS call costs the client's 5 s read timeout, so the fast matrix hangs one write (the
idempotency put, whose lost answer makes the invocation meet its own lock) and the one read;
the soak run hangs them all. The other writes' lost answers are the "after" statuses, and an
S3 put that never answers at all is test_rel_aws_call_bound."""


# --- cells -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    side: str
    """"broker" or "aws"."""
    call: str
    fault: FaultSpec
    phase: str
    expect: Expect

    @property
    def id(self) -> str:
        return f"{self.side}:{self.call}:{self.fault.label}:{self.phase}"

    @property
    def slug(self) -> str:
        """Safe in a plan id and an AWS resource name."""
        return "".join(ch if ch.isalnum() else "-" for ch in f"{self.call}-{self.phase}")[:40]

    def broker_call(self) -> BrokerCall:
        return next(call for call in BROKER_CALLS if call.name == self.call)

    def aws_call(self) -> AwsCall:
        return next(call for call in AWS_CALLS if call.name == self.call)

    @property
    def short_lock(self) -> bool:
        """The first invocation's in-progress lock is made short (a short deadline), so the
        redelivery can wait it out: only where the plan never starts (the put failed)."""
        return self.call == "idempotency-put" and self.expect is Expect.RAISES

    @property
    def duplicate_events_possible(self) -> bool:
        """A PutEvents that EventBridge took but whose answer was lost is sent again: the same
        event (same event_id) arrives more than once, as the publisher documents."""
        return self.call == "result-event" and self.fault.commit is Commit.AFTER


def _broker_faults(call: BrokerCall) -> Iterator[FaultSpec]:
    for status in BEFORE_STATUSES:
        yield FaultSpec(Kind.STATUS, status, Commit.BEFORE, STATUS_COUNTS[status])
    if call.writes:
        for status in AFTER_STATUSES:
            yield FaultSpec(Kind.STATUS, status, Commit.AFTER, STATUS_COUNTS[status])
    yield FaultSpec(Kind.HANG, commit=Commit.BEFORE)
    if call.writes:
        yield FaultSpec(Kind.HANG, commit=Commit.AFTER)
    yield from call.extra


def _broker_expect(fault: FaultSpec) -> Expect:
    if fault.kind in (Kind.REJECT, Kind.REJECT_ON_ACK):
        return Expect.DEGRADED
    return Expect.ABSORBED


def _broker_cells() -> Iterator[tuple[Cell, bool]]:
    """Every broker cell, with whether the fast matrix runs it. Writes meet every fault in
    every phase; a read made in several phases meets each fault in one of them, in turn (every
    phase still meets several), and the soak run adds the rest."""
    for call in BROKER_CALLS:
        for index, fault in enumerate(_broker_faults(call)):
            fast_phase = call.phases[index % len(call.phases)]
            for phase in call.phases:
                fast = call.writes or phase == fast_phase
                yield Cell("broker", call.name, fault, phase, _broker_expect(fault)), fast
        for phase, expect in call.down_for_good.items():
            yield Cell("broker", call.name, DOWN, phase, expect), (call.name, phase) in CORE_DOWN
    for phase in STREAM_PHASES:
        for fault in STREAM_FAULTS:
            yield Cell("broker", "stream", fault, phase, Expect.ABSORBED), True


def _aws_faults(call: AwsCall) -> Iterator[tuple[FaultSpec, bool]]:
    """Every fault of `call`, with whether the fast matrix runs it."""
    for status in BEFORE_STATUSES:
        yield FaultSpec(Kind.STATUS, status, Commit.BEFORE, STATUS_COUNTS[status]), True
    if call.writes:
        for status in AFTER_STATUSES:
            yield FaultSpec(Kind.STATUS, status, Commit.AFTER, STATUS_COUNTS[status]), True
        yield FaultSpec(Kind.HANG, commit=Commit.AFTER), call.name in CORE_AWS_HANGS
        yield FaultSpec(Kind.HANG, commit=Commit.BEFORE), False
    else:
        yield FaultSpec(Kind.HANG, commit=Commit.BEFORE), True
    yield DOWN, True
    for fault in call.extra:
        yield fault, True


def _exhausted(call: AwsCall, fault: FaultSpec) -> bool:
    if fault.count is None:
        return True
    return fault.kind in (Kind.STATUS, Kind.ENTRY_FAILURE) and fault.count >= call.attempts


def _aws_expect(call: AwsCall, fault: FaultSpec) -> Expect:
    exhausted = _exhausted(call, fault)
    if call.name == "idempotency-put":
        lost_answer = fault.commit is Commit.AFTER
        return Expect.RAISES if exhausted or lost_answer else Expect.ABSORBED
    if call.name == "idempotency-update":
        if not exhausted:
            return Expect.ABSORBED
        return Expect.SERVED if fault.commit is Commit.AFTER else Expect.LOCKED
    if call.name == "ledger-put":
        return Expect.DEAD_LETTERED if exhausted else Expect.ABSORBED
    if call.name == "dead-letter":
        return Expect.RAISES if exhausted else Expect.DEAD_LETTERED
    return Expect.RAISES if exhausted else Expect.ABSORBED


def _aws_cells() -> Iterator[tuple[Cell, bool]]:
    for call in AWS_CALLS:
        for fault, fast in _aws_faults(call):
            yield Cell("aws", call.name, fault, call.point, _aws_expect(call, fault)), fast


def all_cells() -> list[Cell]:
    """The whole product of the tables (the fast matrix and the soak run together)."""
    return [cell for cell, _ in (*_broker_cells(), *_aws_cells())]


def matrix_cells() -> list[Cell]:
    return [cell for cell, fast in (*_broker_cells(), *_aws_cells()) if fast]


def soak_cells() -> list[Cell]:
    """What the fast matrix leaves out: reads in their other phases, calls down for good, the
    other AWS hangs (each costs a 5 s client timeout)."""
    return [cell for cell, fast in (*_broker_cells(), *_aws_cells()) if not fast]
