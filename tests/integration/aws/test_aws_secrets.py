"""Alpaca credentials: parsed and validated, fetched from Secrets Manager (moto server) through
Powertools with caching, and the secret never shows in a repr, str, error or log line."""

import json
import logging
import traceback

import pytest
from tests.support.aws_faults import FaultInjector, json_api_error
from tests.support.aws_stack import TEST_ALPACA_SECRET, AwsStack

from plan_executor.adapters.aws_config import AwsConfig
from plan_executor.adapters.secrets import (
    AlpacaCredentials,
    CredentialsError,
    EnvironmentCredentialsSource,
    SecretsManagerConfig,
    SecretsManagerCredentialsSource,
    parse_alpaca_credentials,
)
from plan_executor.domain.enums import TradingMode

SECRET = "TOPSECRET-9f86d081884c7d65"


def _json(**fields: object) -> str:
    return json.dumps({"key_id": "PK123", "secret_key": SECRET, "mode": "live", **fields})


def _everything_said_about(error: BaseException) -> str:
    return "".join(traceback.format_exception(error)) + repr(error.__context__)


def test_valid_secret_parses() -> None:
    credentials = parse_alpaca_credentials(_json())

    assert credentials.key_id == "PK123"
    assert credentials.secret_key.reveal() == SECRET
    assert credentials.mode is TradingMode.LIVE
    assert not credentials.paper
    assert parse_alpaca_credentials(_json(mode="paper")).paper


def test_the_secret_never_shows_in_repr_or_str() -> None:
    credentials = parse_alpaca_credentials(_json().encode())

    for text in (repr(credentials), str(credentials), f"{credentials}", f"{credentials!r}"):
        assert SECRET not in text
        assert "PK123" in text


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (f'{{"key_id": "PK123", "secret_key": "{SECRET}", ', "not valid JSON"),
        (json.dumps([SECRET]), "JSON object"),
        (json.dumps({"key_id": "PK123", "secret_key": SECRET}), "lacks mode"),
        (json.dumps({"secret_key": SECRET, "mode": "paper"}), "lacks key_id"),
        (_json(mode="simulated"), "'paper' or 'live'"),
        (_json(mode="LIVE"), "'paper' or 'live'"),
        (_json(mode=["paper"]), "'paper' or 'live'"),
        (_json(secret_key=""), "secret_key must be a non-empty string"),
        (_json(secret_key=12345), "secret_key must be a non-empty string"),
        (_json(key_id=""), "key_id"),
        (_json(key_id="PK 123"), "whitespace"),
        (_json(key_id=7), "key_id must be a string"),
        (_json(key_id="REPLACE_ME"), "placeholder"),
    ],
)
def test_invalid_secrets_are_refused_without_showing_the_secret(raw: str, message: str) -> None:
    with pytest.raises(CredentialsError, match=message) as caught:
        parse_alpaca_credentials(raw)

    assert SECRET not in _everything_said_about(caught.value)


def _source(
    stack: AwsStack, aws: AwsConfig, secret_id: str | None = None
) -> SecretsManagerCredentialsSource:
    config = SecretsManagerConfig(secret_id or stack.secret_id, max_age_s=300)
    return SecretsManagerCredentialsSource(config, aws)


def test_credentials_load_from_secrets_manager_and_are_cached(
    aws_stack: AwsStack, aws_config: AwsConfig, aws_faults: FaultInjector
) -> None:
    source = _source(aws_stack, aws_config)

    first = source.load()
    second = source.load()

    assert first == second
    assert first.key_id == TEST_ALPACA_SECRET["key_id"]
    assert first.secret_key.reveal() == TEST_ALPACA_SECRET["secret_key"]
    assert first.paper
    assert len(aws_faults.requests("secretsmanager", operation="GetSecretValue")) == 1
    source.load(force_fetch=True)
    assert len(aws_faults.requests("secretsmanager", operation="GetSecretValue")) == 2


def test_a_transient_secrets_manager_error_is_retried(
    aws_stack: AwsStack, aws_config: AwsConfig, aws_faults: FaultInjector
) -> None:
    aws_faults.add(json_api_error("secretsmanager", "GetSecretValue", "InternalServiceError", 500))

    credentials = _source(aws_stack, aws_config).load()

    assert credentials.key_id == TEST_ALPACA_SECRET["key_id"]
    assert len(aws_faults.requests("secretsmanager", operation="GetSecretValue")) == 2


def test_a_missing_secret_is_a_clear_error(aws_stack: AwsStack, aws_config: AwsConfig) -> None:
    with pytest.raises(CredentialsError, match=r"no-such/alpaca.*ResourceNotFound"):
        _source(aws_stack, aws_config, "no-such/alpaca").load()


def test_an_invalid_stored_secret_names_the_secret_not_its_value(
    aws_stack: AwsStack, aws_config: AwsConfig
) -> None:
    aws_stack.client("secretsmanager").put_secret_value(
        SecretId=aws_stack.secret_id, SecretString=_json(mode="simulated")
    )

    with pytest.raises(CredentialsError, match="'paper' or 'live'") as caught:
        _source(aws_stack, aws_config).load()

    assert aws_stack.secret_id in str(caught.value)
    assert SECRET not in _everything_said_about(caught.value)


def test_nothing_logged_even_at_debug_shows_the_secret(
    aws_stack: AwsStack, aws_config: AwsConfig, caplog: pytest.LogCaptureFixture
) -> None:
    aws_stack.client("secretsmanager").put_secret_value(
        SecretId=aws_stack.secret_id, SecretString=_json()
    )
    caplog.set_level(logging.DEBUG)

    credentials = _source(aws_stack, aws_config).load()
    logging.getLogger("plan_executor.test").info("loaded %s / %r", credentials, credentials)

    assert credentials.secret_key.reveal() == SECRET
    bodies = [r for r in caplog.records if r.name == "botocore.parsers" and "body" in r.msg]
    assert bodies, "botocore's DEBUG response logging was not exercised"
    assert SECRET not in caplog.text
    assert "PK123" in caplog.text


def test_environment_source_for_local_runs() -> None:
    environ = {"ALPACA_KEY_ID": "PK9", "ALPACA_SECRET_KEY": SECRET}

    credentials = EnvironmentCredentialsSource(environ).load()

    assert credentials == AlpacaCredentials("PK9", credentials.secret_key, TradingMode.PAPER)
    assert credentials.secret_key.reveal() == SECRET
    live = EnvironmentCredentialsSource({**environ, "ALPACA_MODE": "live"}).load()
    assert live.mode is TradingMode.LIVE


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"ALPACA_SECRET_KEY": SECRET}, "ALPACA_KEY_ID"),
        ({"ALPACA_KEY_ID": "PK9"}, "ALPACA_SECRET_KEY"),
        ({"ALPACA_KEY_ID": "PK9", "ALPACA_SECRET_KEY": SECRET, "ALPACA_MODE": "sim"}, "paper"),
    ],
)
def test_environment_source_refuses_incomplete_settings(
    environ: dict[str, str], message: str
) -> None:
    with pytest.raises(CredentialsError, match=message) as caught:
        EnvironmentCredentialsSource(environ).load()

    assert SECRET not in _everything_said_about(caught.value)
