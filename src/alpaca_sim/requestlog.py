"""The request log exposed by GET /_sim/state (bounded: the oldest entries fall off)."""

from __future__ import annotations

from collections import deque


class RequestLog:
    def __init__(self, max_entries: int = 10_000) -> None:
        self._entries: deque[dict[str, object]] = deque(maxlen=max_entries)

    def record(
        self,
        *,
        method: str,
        path: str,
        query: dict[str, str],
        status: int,
        time: str,
        request_id: str,
        client_order_id: object = None,
        fault: str | None = None,
    ) -> None:
        entry: dict[str, object] = {
            "method": method,
            "path": path,
            "query": query,
            "status": status,
            "time": time,
            "request_id": request_id,
        }
        if client_order_id is not None:
            entry["client_order_id"] = client_order_id
        if fault is not None:
            entry["fault"] = fault
        self._entries.append(entry)

    def entries(self) -> list[dict[str, object]]:
        return list(self._entries)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
