"""`python -m alpaca_sim serve` in a subprocess: prints its URLs, serves, stops on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from importlib import resources
from pathlib import Path

import aiohttp

from alpaca_sim.cli import main

WAIT_SECONDS = 60.0
"""Hang guard: a cold interpreter start prints the banner in about a second."""


async def read_banner(process: asyncio.subprocess.Process) -> dict[str, str]:
    banner: dict[str, str] = {}
    assert process.stdout is not None
    async with asyncio.timeout(WAIT_SECONDS):
        while "secret key" not in banner:
            line = (await process.stdout.readline()).decode()
            assert line, "the server exited before printing its URLs"
            name, _, value = line.partition(":")
            banner[name.strip()] = value.strip()
    return banner


async def test_serve_prints_urls_serves_and_stops_on_sigterm(tmp_path: Path):
    scenario = json.loads(
        resources.files("alpaca_sim").joinpath("scenarios/default.json").read_text("utf-8")
    )
    scenario["auth"] = {"api_key": "cli-key", "api_secret": "cli-secret"}
    scenario_file = tmp_path / "scenario.json"
    scenario_file.write_text(json.dumps(scenario))

    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "alpaca_sim",
        "serve",
        "--port",
        "0",
        "--seed",
        "3",
        "--scenario",
        str(scenario_file),
        "--speed",
        "60",
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        banner = await read_banner(process)
        assert banner["key id"] == "cli-key"
        assert banner["stream url"] == banner["trading url"].replace("http", "ws") + "/stream"
        headers = {"APCA-API-KEY-ID": "cli-key", "APCA-API-SECRET-KEY": "cli-secret"}
        async with (
            aiohttp.ClientSession(banner["trading url"], headers=headers) as session,
            session.get("/v2/clock") as response,
        ):
            assert response.status == 200
    finally:
        process.send_signal(signal.SIGTERM)
        exit_code = await asyncio.wait_for(process.wait(), WAIT_SECONDS)

    assert exit_code == 0


def test_rejects_a_non_positive_speed(capsys):
    assert main(["serve", "--speed", "0"]) == 2
    assert "--speed" in capsys.readouterr().out
