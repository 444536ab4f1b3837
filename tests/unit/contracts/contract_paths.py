"""Read and change a raw event by the same dotted paths violations use."""

import re
from typing import Any

DELETE = object()
_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def path_parts(path: str) -> list[str | int]:
    return [name if name else int(index) for name, index in _PART.findall(path)]


def get_at(raw: Any, path: str) -> Any:
    node = raw
    for part in path_parts(path):
        node = node[part]
    return node


def set_at(raw: Any, path: str, value: object) -> Any:
    """Set (or with DELETE remove) the value at `path`; returns `raw` for chaining."""
    *parents, last = path_parts(path)
    node = raw
    for part in parents:
        node = node[part]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return raw
