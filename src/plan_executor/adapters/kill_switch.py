"""The kill switch: one SSM parameter, read through Powertools Parameters at every invocation
with a cache of at most `MAX_CACHE_SECONDS`, written by `plan-executor halt` / `resume`.

The value is JSON: `{"state": "off" | "halted", "by": "...", "at": "<ISO-8601>", "reason": "..."}`.
Only `state` "off" lets a plan run. Any other state, a value that is not that JSON, or a read
that fails refuses the plan (fail closed).
"""

import contextlib
import json
from dataclasses import dataclass
from typing import Final

import boto3
from aws_lambda_powertools.utilities.parameters import SSMProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

from plan_executor.adapters.aws_config import AwsConfig

OFF: Final = "off"
HALTED: Final = "halted"
MAX_CACHE_SECONDS: Final = 30
FIELDS: Final = ("state", "by", "at", "reason")


class KillSwitchReadError(Exception):
    """The parameter could not be read: the caller refuses the plan."""


@dataclass(frozen=True, slots=True)
class SwitchState:
    state: str
    by: str
    at: str
    reason: str = ""

    @property
    def halted(self) -> bool:
        return self.state != OFF

    def describe(self) -> str:
        told = f"{self.state} by {self.by} at {self.at}"
        return f"{told}: {self.reason}" if self.reason else told

    def to_value(self) -> str:
        return json.dumps(
            {"state": self.state, "by": self.by, "at": self.at, "reason": self.reason},
            separators=(",", ":"),
        )


def parse_switch(raw: object) -> SwitchState:
    """The state a value means; never raises: what is not understood means halted."""
    fields: object = None
    if isinstance(raw, str):
        with contextlib.suppress(ValueError):
            fields = json.loads(raw)
    if not isinstance(fields, dict) or not all(isinstance(fields.get(f), str) for f in FIELDS[:3]):
        return SwitchState(HALTED, "unknown", "unknown", "the value is not the switch's JSON")
    reason = fields.get("reason")
    return SwitchState(
        fields["state"], fields["by"], fields["at"], reason if isinstance(reason, str) else ""
    )


class SsmKillSwitch:
    """Reads the parameter; Powertools keeps the value for `max_age_s` (one per environment)."""

    def __init__(
        self,
        name: str,
        aws: AwsConfig,
        *,
        max_age_s: int = MAX_CACHE_SECONDS,
        provider: SSMProvider | None = None,
    ) -> None:
        if not name:
            raise ValueError("the kill switch parameter name must not be empty")
        if not 0 <= max_age_s <= MAX_CACHE_SECONDS:
            raise ValueError(f"max_age_s must be 0-{MAX_CACHE_SECONDS}")
        self.name = name
        self._max_age_s = max_age_s
        if provider is None:
            client = boto3.client("ssm", **aws.client_kwargs(max_attempts=3))
            provider = SSMProvider(boto3_client=client)
        self._provider = provider

    def read(self) -> SwitchState:
        try:
            raw = self._provider.get(self.name, max_age=self._max_age_s)
        except GetParameterError as error:
            raise KillSwitchReadError(
                f"parameter {self.name} could not be read ({type(error).__name__}: {error})"
            ) from error
        return parse_switch(raw)
