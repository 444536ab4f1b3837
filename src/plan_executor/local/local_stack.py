"""The local stack: moto in server mode with the service's resources, and (unless the orders go
to Alpaca itself) alpaca_sim, both on loopback; everything stopped on every path.

moto keeps state per process, so each stack in one process needs its own name prefix: replays
number theirs (`plan-executor-replay`, `-2`, ...); `local-stack` uses the names
env/sam-local-env.json expects (`plan-executor-local`).
"""

import itertools
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from plan_executor.local.aws_server import start_moto_server
from plan_executor.local.aws_stack import AwsStack, create_stack
from plan_executor.local.sim_process import SimEndpoints, SimProcess

REPLAY_PREFIX = "plan-executor-replay"
_stack_numbers = itertools.count(1)


@dataclass(frozen=True, slots=True)
class LocalStack:
    aws: AwsStack
    sim: SimProcess | None
    """None when the orders go to Alpaca (`--broker alpaca`)."""

    @property
    def sim_endpoints(self) -> SimEndpoints | None:
        return None if self.sim is None else self.sim.endpoints


@dataclass(frozen=True, slots=True)
class StackOptions:
    host: str = "127.0.0.1"
    moto_port: int = 0
    sim_port: int = 0
    seed: int = 0
    use_sim: bool = True
    broker_secret: Mapping[str, str] | None = None
    """The secret's content when not using the sim (Alpaca keys, `{key_id, secret_key, mode}`)."""
    event_bus: str | None = None
    """None: a bus of the stack's own; "default" for `sam local invoke` (its env file)."""
    name_prefix: str | None = None
    """None: the next replay prefix of this process."""


def next_name_prefix() -> str:
    number = next(_stack_numbers)
    return REPLAY_PREFIX if number == 1 else f"{REPLAY_PREFIX}-{number}"


@contextmanager
def local_stack(
    options: StackOptions, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> Iterator[LocalStack]:
    """Start both servers (the sim boots in its process while moto starts here), create the
    resources, put the broker keys in the secret; stop both on the way out, whatever happens."""
    with ExitStack() as stack:
        sim = None
        if options.use_sim:
            sim = SimProcess.launch(
                host=options.host, port=options.sim_port, seed=options.seed, now=clock()
            )
            stack.callback(sim.stop)
        moto = start_moto_server(options.host, options.moto_port)
        stack.callback(moto.stop)
        secret = _broker_secret(sim, options, clock)
        aws = create_stack(
            moto.endpoint_url,
            name_prefix=options.name_prefix or next_name_prefix(),
            alpaca_secret=secret,
            event_bus=options.event_bus,
        )
        yield LocalStack(aws=aws, sim=sim)


def _broker_secret(
    sim: SimProcess | None, options: StackOptions, clock: Callable[[], datetime]
) -> Mapping[str, str]:
    if sim is None:
        if options.broker_secret is None:
            raise ValueError("without the simulator the broker keys must be given")
        return options.broker_secret
    endpoints = sim.wait_ready()
    sim.sync_clock(clock())
    return {"key_id": endpoints.key_id, "secret_key": endpoints.secret_key, "mode": "paper"}
