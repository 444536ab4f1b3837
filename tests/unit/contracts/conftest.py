"""Fixtures for the contract tests: the saved events and a fresh valid raw event."""

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from plan_executor.domain.events import decode_event_object

REPO_ROOT = Path(__file__).resolve().parents[3]
EVENTS_DIR = REPO_ROOT / "events"
SCHEMAS_DIR = REPO_ROOT / "schemas"


@pytest.fixture
def events_dir() -> Path:
    return EVENTS_DIR


@pytest.fixture
def schemas_dir() -> Path:
    return SCHEMAS_DIR


@pytest.fixture
def valid_raw_event() -> Callable[[], dict[str, Any]]:
    """A factory: each call returns a fresh, mutable copy of the mixed sell-and-buy event."""
    text = (EVENTS_DIR / "mixed-sell-and-buy.json").read_bytes()
    decoded = decode_event_object(text)

    def make() -> dict[str, Any]:
        return copy.deepcopy(dict(decoded))

    return make
