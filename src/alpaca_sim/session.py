"""Trading sessions: one regular session per weekday (UTC times), minus holidays; or, for
local demos that run on the wall clock at any hour, one session every day (`weekends=True`).

The market's price process runs in *session time*: seconds elapsed inside sessions only, so
prices do not move overnight or at weekends and a step index maps to one instant.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

_ZERO = timedelta(0)
_SATURDAY = 5
_MAX_DAYS_AHEAD = 3660  # a calendar with no sessions at all must not loop forever


@dataclass(frozen=True)
class SessionCalendar:
    open_utc: time
    close_utc: time
    display_offset: timedelta = _ZERO
    holidays: frozenset[date] = field(default_factory=frozenset)
    weekends: bool = False
    """True: Saturdays and Sundays have sessions too (demos on the wall clock)."""

    def __post_init__(self) -> None:
        if self.open_utc >= self.close_utc:
            raise ValueError("session open must be before close (same UTC day)")

    def session_on(self, day: date) -> tuple[datetime, datetime] | None:
        if (day.weekday() >= _SATURDAY and not self.weekends) or day in self.holidays:
            return None
        return (
            datetime.combine(day, self.open_utc, tzinfo=UTC),
            datetime.combine(day, self.close_utc, tzinfo=UTC),
        )

    def sessions_from(self, day: date) -> Iterator[tuple[datetime, datetime]]:
        for offset in range(_MAX_DAYS_AHEAD):
            session = self.session_on(day + timedelta(days=offset))
            if session is not None:
                yield session

    def is_open(self, at: datetime) -> bool:
        session = self.session_on(at.date())
        return session is not None and session[0] <= at < session[1]

    def next_open(self, at: datetime) -> datetime:
        """The first session open strictly after `at`."""
        for opens, _ in self.sessions_from(at.date()):
            if opens > at:
                return opens
        raise ValueError("calendar has no future session")

    def close_for(self, at: datetime) -> datetime:
        """The close of the session in progress at `at`, or of the next one."""
        for _, closes in self.sessions_from(at.date()):
            if closes > at:
                return closes
        raise ValueError("calendar has no future session")

    def session_time_between(self, start: datetime, end: datetime) -> timedelta:
        """In-session time in [start, end)."""
        total = _ZERO
        if end <= start:
            return total
        for opens, closes in self.sessions_from(start.date()):
            if opens >= end:
                break
            overlap = min(closes, end) - max(opens, start)
            if overlap > _ZERO:
                total += overlap
        return total

    def instant_after(self, start: datetime, session_time: timedelta) -> datetime:
        """The earliest instant t >= start with session_time_between(start, t) == session_time."""
        remaining = session_time
        if remaining <= _ZERO:
            return start
        for opens, closes in self.sessions_from(start.date()):
            begin = max(opens, start)
            if closes <= begin:
                continue
            available = closes - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
        raise ValueError("calendar has no future session")
