"""A counter that tasks can await reaching a value (no polling)."""

from __future__ import annotations

import asyncio


class CountWatch:
    def __init__(self) -> None:
        self.value = 0
        self._changed = asyncio.Event()

    def add(self, delta: int) -> None:
        self.value += delta
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for(self, value: int) -> None:
        """Return once the count equals `value`; callers bound the wait with a timeout."""
        while self.value != value:
            await self._changed.wait()

    async def wait_at_least(self, value: int) -> None:
        """Return once the count is `value` or more; callers bound the wait with a timeout."""
        while self.value < value:
            await self._changed.wait()
