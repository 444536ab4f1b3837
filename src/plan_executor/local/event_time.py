"""Make a saved event current: move its envelope `time` to now and every other timestamp in it
by the same offset, so relative ages survive (a stale plan stays stale by as much).

Text is rewritten in the shape it came in: the same UTC offset, `Z` stays `Z`, the same number
of fraction digits, and a naive timestamp stays naive (so a naive-timestamp event is still
refused for that reason, not for another).
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

_TIMESTAMP = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?P<fraction>\.\d{1,6})?"
    r"(?P<zone>Z|[+-]\d{2}:?\d{2})?$"
)
_WHOLE_MILLIS = 3


@dataclass(frozen=True, slots=True)
class ShiftedEvent:
    event: dict[str, Any]
    offset: timedelta | None
    """How far every timestamp moved; None when the envelope has no usable `time`."""
    moved: int
    """How many timestamps moved."""


def make_current(event: Mapping[str, Any], now: datetime) -> ShiftedEvent:
    """`event` as if EventBridge had published it at `now` (timezone-aware)."""
    published = _parse(event.get("time"))
    if published is None or published.tzinfo is None:
        return ShiftedEvent(dict(event), None, 0)
    offset = now - published
    counter = [0]
    shifted = _shift(dict(event), offset, counter)
    return ShiftedEvent(shifted, offset, counter[0])


def _shift(value: Any, offset: timedelta, counter: list[int]) -> Any:
    if isinstance(value, dict):
        return {key: _shift(item, offset, counter) for key, item in value.items()}
    if isinstance(value, list):
        return [_shift(item, offset, counter) for item in value]
    if isinstance(value, str) and (moment := _parse(value)) is not None:
        counter[0] += 1
        return _format_like(value, moment + offset)
    return value


def _parse(text: object) -> datetime | None:
    if not isinstance(text, str) or _TIMESTAMP.match(text) is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _format_like(original: str, moment: datetime) -> str:
    match = _TIMESTAMP.match(original)
    assert match is not None  # _parse matched it
    fraction, zone = match["fraction"], match["zone"]
    separator = original[10]
    digits = len(fraction) - 1 if fraction else 0
    if zone == "Z":
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    text = moment.isoformat(sep=separator, timespec=_timespec(digits))
    if zone == "Z":
        return text + "Z"
    if zone is not None and ":" not in zone:
        return text[:-3] + text[-2:]  # +0000 came without a colon: keep it so
    return text


def _timespec(digits: int) -> str:
    if digits == 0:
        return "seconds"
    return "milliseconds" if digits <= _WHOLE_MILLIS else "microseconds"
