"""Where the AWS clients connect, and with which timeouts: the same code talks to moto in server
mode locally and to the real services in Lambda.

`endpoint_url=None` leaves endpoint resolution to botocore, which honours `AWS_ENDPOINT_URL` and
`AWS_ENDPOINT_URL_<SERVICE>`. Retries are ours (`aws_retry`), so botocore makes one attempt only
unless a caller asks otherwise.
"""

from dataclasses import dataclass
from typing import Any

from botocore.config import Config


@dataclass(frozen=True, slots=True)
class AwsConfig:
    region: str
    endpoint_url: str | None = None
    connect_timeout_s: float = 2.0
    read_timeout_s: float = 5.0

    def __post_init__(self) -> None:
        if not self.region:
            raise ValueError("region must not be empty")
        if self.endpoint_url == "":
            # An empty override (as a template declares it) means "the real service".
            object.__setattr__(self, "endpoint_url", None)
        if not (self.connect_timeout_s > 0 and self.read_timeout_s > 0):
            raise ValueError("timeouts must be positive")

    def botocore_config(self, *, max_attempts: int = 1) -> Config:
        """Timeouts on every call; `max_attempts` is botocore's own (1 = no hidden retries)."""
        return Config(
            connect_timeout=self.connect_timeout_s,
            read_timeout=self.read_timeout_s,
            retries={"mode": "standard", "total_max_attempts": max_attempts},
        )

    def client_kwargs(self, *, max_attempts: int = 1) -> dict[str, Any]:
        """Keyword arguments for `boto3.client(...)` and `aioboto3.Session().client(...)`."""
        return {
            "region_name": self.region,
            "endpoint_url": self.endpoint_url,
            "config": self.botocore_config(max_attempts=max_attempts),
        }
