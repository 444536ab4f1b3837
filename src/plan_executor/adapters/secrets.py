"""Alpaca credentials: from Secrets Manager in AWS (Powertools Parameters, cached), from the
environment for local runs. The secret key is a `Secret` (repr/str show ***), and no error
message or log line built here ever contains the secret's value.

The secret is JSON `{"key_id": ..., "secret_key": ..., "mode": "paper" | "live"}`.
"""

import contextlib
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Protocol

import boto3
from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

from plan_executor.adapters.alpaca_config import Secret
from plan_executor.adapters.aws_config import AwsConfig
from plan_executor.domain.enums import TradingMode

CREDENTIAL_MODES: Final = (TradingMode.PAPER, TradingMode.LIVE)
PLACEHOLDER_KEY_ID: Final = "REPLACE_ME"
KEY_ID_VARIABLE: Final = "ALPACA_KEY_ID"
SECRET_KEY_VARIABLE: Final = "ALPACA_SECRET_KEY"  # noqa: S105 (a variable name, not a secret)
MODE_VARIABLE: Final = "ALPACA_MODE"
MAX_KEY_ID_CHARS: Final = 128
_NOT_JSON: Final = object()


class CredentialsError(Exception):
    """The credentials could not be read or are not valid. Never carries the secret value."""


@dataclass(frozen=True, slots=True)
class AlpacaCredentials:
    key_id: str
    secret_key: Secret
    mode: TradingMode

    def __post_init__(self) -> None:
        if self.mode not in CREDENTIAL_MODES:
            raise CredentialsError("mode must be 'paper' or 'live'")
        if not self.key_id or len(self.key_id) > MAX_KEY_ID_CHARS or not self.key_id.isprintable():
            raise CredentialsError(f"key_id must be 1-{MAX_KEY_ID_CHARS} printable characters")
        if any(char.isspace() for char in self.key_id):
            raise CredentialsError("key_id must not contain whitespace")
        if self.key_id == PLACEHOLDER_KEY_ID:
            raise CredentialsError("key_id is still the placeholder; put the real keys in")

    @property
    def paper(self) -> bool:
        return self.mode is TradingMode.PAPER


def _mode(value: object) -> TradingMode:
    if not isinstance(value, str) or value not in {mode.value for mode in CREDENTIAL_MODES}:
        raise CredentialsError("mode must be 'paper' or 'live'")
    return TradingMode(str(value))


def credentials_from_fields(key_id: object, secret_key: object, mode: object) -> AlpacaCredentials:
    if not isinstance(key_id, str):
        raise CredentialsError("key_id must be a string")
    if not isinstance(secret_key, str) or not secret_key:
        raise CredentialsError("secret_key must be a non-empty string")
    return AlpacaCredentials(key_id=key_id, secret_key=Secret(secret_key), mode=_mode(mode))


def parse_alpaca_credentials(raw: str | bytes) -> AlpacaCredentials:
    """Parse the secret's JSON. Errors name the field and the rule, never a value."""
    fields: object = _NOT_JSON
    # Raised below, outside the handler: a decode error holds the document, secret included.
    with contextlib.suppress(ValueError):
        fields = json.loads(raw)
    if fields is _NOT_JSON:
        raise CredentialsError("the secret is not valid JSON")
    if not isinstance(fields, dict):
        raise CredentialsError("the secret must be a JSON object")
    missing = [name for name in ("key_id", "secret_key", "mode") if name not in fields]
    if missing:
        raise CredentialsError(f"the secret lacks {', '.join(missing)}")
    return credentials_from_fields(fields["key_id"], fields["secret_key"], fields["mode"])


class CredentialsSource(Protocol):
    def load(self) -> AlpacaCredentials: ...


@dataclass(frozen=True, slots=True)
class SecretsManagerConfig:
    secret_id: str
    max_age_s: int = 300
    """How long a fetched value is reused: keep one source per execution environment."""

    def __post_init__(self) -> None:
        if not self.secret_id:
            raise ValueError("secret_id must not be empty")
        if self.max_age_s < 0:
            raise ValueError("max_age_s must not be negative")


class _SecretResponseRedaction(logging.Filter):
    """botocore logs every response body at DEBUG, a GetSecretValue one included."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        if any(_carries_secret(arg) for arg in args):
            record.args = ("<redacted: Secrets Manager response>",)
        return True


def _carries_secret(value: object) -> bool:
    if isinstance(value, bytes):
        return b"SecretString" in value or b"SecretBinary" in value
    return isinstance(value, str) and ("SecretString" in value or "SecretBinary" in value)


def install_secret_log_redaction() -> None:
    """Idempotent: redact Secrets Manager responses from botocore's DEBUG response logging."""
    parser_log = logging.getLogger("botocore.parsers")
    if not any(isinstance(f, _SecretResponseRedaction) for f in parser_log.filters):
        parser_log.addFilter(_SecretResponseRedaction())


class SecretsManagerCredentialsSource:
    """Reads the secret through Powertools `SecretsProvider`, which caches it for `max_age_s`."""

    def __init__(
        self,
        config: SecretsManagerConfig,
        aws: AwsConfig,
        *,
        provider: SecretsProvider | None = None,
    ) -> None:
        install_secret_log_redaction()
        self._config = config
        if provider is None:
            client = boto3.client("secretsmanager", **aws.client_kwargs(max_attempts=3))
            provider = SecretsProvider(boto3_client=client)
        self._provider = provider

    def load(self, *, force_fetch: bool = False) -> AlpacaCredentials:
        secret_id = self._config.secret_id
        try:
            raw = self._provider.get(
                secret_id, max_age=self._config.max_age_s, force_fetch=force_fetch
            )
        except GetParameterError as exc:
            raise CredentialsError(f"could not read secret {secret_id!r}: {exc}") from exc
        if not isinstance(raw, str | bytes):
            raise CredentialsError(f"secret {secret_id!r} has no string value")
        try:
            return parse_alpaca_credentials(raw)
        except CredentialsError as exc:
            raise CredentialsError(f"secret {secret_id!r}: {exc}") from None


class EnvironmentCredentialsSource:
    """`ALPACA_KEY_ID`, `ALPACA_SECRET_KEY` and `ALPACA_MODE` (default paper): local runs only."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = os.environ if environ is None else environ

    def load(self) -> AlpacaCredentials:
        missing = [
            name for name in (KEY_ID_VARIABLE, SECRET_KEY_VARIABLE) if not self._environ.get(name)
        ]
        if missing:
            raise CredentialsError(f"environment lacks {', '.join(missing)}")
        return credentials_from_fields(
            self._environ[KEY_ID_VARIABLE],
            self._environ[SECRET_KEY_VARIABLE],
            self._environ.get(MODE_VARIABLE, TradingMode.PAPER.value),
        )
