"""The class of a REJECTED result's reason: a small fixed set an alarm can watch.

Reasons are free text for people; alarms need a few stable names. The class is read from the
reason's stable prefix: `guard rail <rail>: ...` for the guard rails, `<field>: <rule> ...` for
a contract violation. A reason nobody foresaw is `other`, never dropped.
"""

import re
from enum import StrEnum
from typing import Final


class RejectionClass(StrEnum):
    KILL_SWITCH = "kill_switch"
    MARKET_CLOSED = "market_closed"
    STALE = "stale"
    CONTRACT = "contract"
    LIMITS = "limits"
    ACCOUNT = "account"
    DUPLICATE = "duplicate"
    BROKER_UNAVAILABLE = "broker_unavailable"
    OTHER = "other"


_GUARD = re.compile(r"^guard rail (?P<rail>[a-z_]+): (?P<detail>.*)$", re.DOTALL)
_FIELD_RULE = re.compile(r"^[A-Za-z_][\w.\[\]-]*: (?P<rule>[a-z_]+)\b")
_UNCHECKED: Final = "could not be checked"
_RAILS: Final = {
    "kill_switch": RejectionClass.KILL_SWITCH,
    "market_open": RejectionClass.MARKET_CLOSED,
    "plan_age": RejectionClass.STALE,
    "notional_limits": RejectionClass.LIMITS,
    "assets": RejectionClass.LIMITS,
    "account": RejectionClass.ACCOUNT,
    "trading_mode": RejectionClass.ACCOUNT,
}
_RULES: Final = {
    "max_plan_age": RejectionClass.STALE,
    "not_in_future": RejectionClass.STALE,
    "plan_id_reused": RejectionClass.DUPLICATE,
    "workflow_already_planned": RejectionClass.DUPLICATE,
}


def rejection_class(reason: str | None) -> RejectionClass:
    """The class of a rejection reason (see the module docstring)."""
    text = (reason or "").strip()
    guard = _GUARD.match(text)
    if guard is not None:
        if guard["detail"].startswith(_UNCHECKED):
            return RejectionClass.BROKER_UNAVAILABLE
        return _RAILS.get(guard["rail"], RejectionClass.OTHER)
    field_rule = _FIELD_RULE.match(text)
    if field_rule is not None:
        return _RULES.get(field_rule["rule"], RejectionClass.CONTRACT)
    return RejectionClass.OTHER
