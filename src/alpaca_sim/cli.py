"""`alpaca-sim serve ...`: run the simulator until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from collections.abc import Sequence

from alpaca_sim.scenario import Scenario, default_scenario, load_scenario
from alpaca_sim.server import SimServer


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="alpaca-sim", description="Local Alpaca simulator")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the REST, data and websocket APIs")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    serve.add_argument("--seed", type=int, default=0)
    serve.add_argument("--scenario", help="scenario file (JSON, or YAML if PyYAML is installed)")
    serve.add_argument(
        "--speed",
        type=float,
        default=None,
        help="sim seconds per wall second (e.g. 60); omitted: manual clock (/_sim/clock)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    scenario = load_scenario(args.scenario) if args.scenario else default_scenario()
    if args.speed is not None and args.speed <= 0:
        print("alpaca-sim: --speed must be > 0")
        return 2
    asyncio.run(_serve(scenario, args.seed, args.host, args.port, args.speed))
    return 0


async def _serve(scenario: Scenario, seed: int, host: str, port: int, speed: float | None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with SimServer(scenario, seed, host, port, speed=speed) as sim:
            print(f"trading url: {sim.trading_url}")
            print(f"data url:    {sim.data_url}")
            print(f"stream url:  {sim.stream_url}")
            print(f"key id:      {sim.api_key}")
            print(f"secret key:  {sim.api_secret}")
            print("control:     /_sim/state, /_sim/reset, ... (Ctrl-C to stop)", flush=True)
            await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(ValueError, RuntimeError):
                loop.remove_signal_handler(sig)
