"""`plan-executor local-stack`: the local stack alone, until Ctrl-C, for
`sam local invoke -e events/<file>.json --env-vars env/sam-local-env.json` (Docker).

The names are the ones env/sam-local-env.json expects (prefix `plan-executor-local`, results on
the `default` bus); listen on 0.0.0.0 so SAM's container reaches it at host.docker.internal.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, TextIO

from plan_executor.local.aws_stack import DEFAULT_EVENT_BUS, LOCAL_SERVICE_NAME
from plan_executor.local.local_stack import LocalStack, StackOptions, local_stack

SAM_MOTO_PORT: Final = 5000
SAM_SIM_PORT: Final = 8765


@dataclass(frozen=True, slots=True)
class StackCommandOptions:
    host: str = "0.0.0.0"  # noqa: S104 (SAM's container must reach it)
    moto_port: int = SAM_MOTO_PORT
    sim_port: int = SAM_SIM_PORT
    seed: int = 0


def serve_stack(
    options: StackCommandOptions, *, out: TextIO, wait: Callable[[LocalStack], None]
) -> int:
    """Start the stack, describe it, `wait` (until Ctrl-C), stop it."""
    stack_options = StackOptions(
        host=options.host,
        moto_port=options.moto_port,
        sim_port=options.sim_port,
        seed=options.seed,
        event_bus=DEFAULT_EVENT_BUS,
        name_prefix=LOCAL_SERVICE_NAME,
    )
    with local_stack(stack_options) as stack:
        out.write("\n".join(describe(stack)) + "\n")
        out.flush()
        wait(stack)
    out.write("local stack stopped\n")
    return 0


def describe(stack: LocalStack) -> list[str]:
    aws, sim = stack.aws, stack.sim_endpoints
    lines = [
        "local stack running (Ctrl-C to stop)",
        f"  moto (AWS)     {aws.endpoint_url}",
        f"    table {aws.idempotency_table}, bucket {aws.ledger_bucket}",
        f"    DLQ {aws.dlq_url}",
        f"    results: bus {aws.event_bus} -> rule {aws.results_rule} -> {aws.results_queue_url}",
        f"    secret {aws.secret_id} (the simulator's keys)",
    ]
    if sim is not None:
        lines.append(f"  alpaca_sim     {sim.trading_url}  (stream {sim.stream_url})")
    lines += [
        "",
        "in another shell (Docker needed):",
        "  make build",
        "  sam local invoke ExecutorFunction -e events/mixed-sell-and-buy.json \\",
        "      --env-vars env/sam-local-env.json",
        "sam sends the saved event as it is (the env file accepts old plans: MAX_PLAN_AGE_SECONDS",
        "is ten years there); `plan-executor replay` moves an event to now instead.",
    ]
    return lines
