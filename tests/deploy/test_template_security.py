"""Least privilege, encryption and data protection in the template."""

import json
from typing import Any

import pytest

from plan_executor.adapters.alpaca_config import Secret
from plan_executor.adapters.secrets import (
    PLACEHOLDER_KEY_ID,
    AlpacaCredentials,
    CredentialsError,
)
from plan_executor.domain.enums import TradingMode

# The whole permission set of the function role, inline statements only.
EXPECTED_ACTIONS = {
    "dynamodb:DeleteItem": {"Fn::GetAtt": ["IdempotencyTable", "Arn"]},
    "dynamodb:GetItem": {"Fn::GetAtt": ["IdempotencyTable", "Arn"]},
    "dynamodb:PutItem": {"Fn::GetAtt": ["IdempotencyTable", "Arn"]},
    # The sweep's search for in-flight markers (plan_executor.sweeper).
    "dynamodb:Scan": {"Fn::GetAtt": ["IdempotencyTable", "Arn"]},
    "dynamodb:UpdateItem": {"Fn::GetAtt": ["IdempotencyTable", "Arn"]},
    "events:PutEvents": {
        "Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}"
        ":event-bus/${EventBusName}"
    },
    "s3:GetObject": {"Fn::Sub": "${LedgerBucket.Arn}/executions/*"},  # HeadObject
    "s3:PutObject": {"Fn::Sub": "${LedgerBucket.Arn}/executions/*"},
    "secretsmanager:GetSecretValue": {
        "Fn::If": [
            "CreateAlpacaSecret",
            {"Ref": "AlpacaSecret"},
            {"Ref": "ExistingAlpacaSecretArn"},
        ]
    },
    "sqs:SendMessage": {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]},
    "ssm:GetParameter": {  # the kill switch, and nothing else
        "Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}"
        ":parameter${KillSwitchParameter}"
    },
    "xray:PutTelemetryRecords": "*",
    "xray:PutTraceSegments": "*",
}


def _role_statements(
    resources: dict[str, Any], conditions: dict[str, bool] | None = None
) -> list[dict[str, Any]]:
    """The role's statements as deployed when `conditions` hold (unnamed ones are false)."""
    role = resources["ExecutorRole"]["Properties"]
    return [
        statement
        for policy in _chosen(role["Policies"], conditions or {})
        for statement in policy["PolicyDocument"]["Statement"]
    ]


def _chosen(entries: list[Any], conditions: dict[str, bool]) -> list[Any]:
    chosen = []
    for entry in entries:
        picked = entry
        if "Fn::If" in entry:
            name, when_true, when_false = entry["Fn::If"]
            picked = when_true if conditions.get(name, False) else when_false
        if picked != {"Ref": "AWS::NoValue"}:
            chosen.append(picked)
    return chosen


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _granted(statements: list[dict[str, Any]]) -> dict[str, Any]:
    granted: dict[str, Any] = {}
    for statement in statements:
        assert statement["Effect"] == "Allow"
        for action in _as_list(statement["Action"]):
            (resource,) = _as_list(statement["Resource"])
            assert action not in granted, f"{action} granted twice"
            granted[action] = resource
    return granted


def test_function_role_grants_exactly_the_least_privilege_set(resources: dict[str, Any]) -> None:
    assert _granted(_role_statements(resources)) == EXPECTED_ACTIONS


def test_reading_plans_from_a_queue_adds_exactly_the_queue_reads_on_that_queue(
    resources: dict[str, Any],
) -> None:
    granted = _granted(_role_statements(resources, {"DeliverViaSqs": True}))
    added = {action: granted[action] for action in granted.keys() - EXPECTED_ACTIONS.keys()}
    queue = {"Fn::GetAtt": ["PlanQueue", "Arn"]}
    assert added == {
        "sqs:ReceiveMessage": queue,
        "sqs:DeleteMessage": queue,
        "sqs:GetQueueAttributes": queue,
        "sqs:ChangeMessageVisibility": queue,
    }
    assert resources["PlanQueue"]["Condition"] == "DeliverViaSqs"


@pytest.mark.parametrize("via_sqs", [False, True])
def test_no_wildcard_resource_except_xray(resources: dict[str, Any], via_sqs: bool) -> None:
    for statement in _role_statements(resources, {"DeliverViaSqs": via_sqs}):
        actions = _as_list(statement["Action"])
        assert all("*" not in action for action in actions), actions
        if "*" in _as_list(statement["Resource"]):
            assert all(action.startswith("xray:") for action in actions), actions


def test_logs_come_from_the_managed_basic_role_only(resources: dict[str, Any]) -> None:
    role = resources["ExecutorRole"]["Properties"]
    assert role["ManagedPolicyArns"] == [
        {
            "Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/"
            "AWSLambdaBasicExecutionRole"
        }
    ]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ]
    assert "RoleName" not in role, "a named role would need CAPABILITY_NAMED_IAM"


def test_ledger_write_permission_covers_the_ledger_root_only() -> None:
    from plan_executor.domain.ledger_keys import LEDGER_ROOT  # noqa: PLC0415

    ledger_objects = {"Fn::Sub": f"${{LedgerBucket.Arn}}/{LEDGER_ROOT}/*"}
    s3_actions = {action for action in EXPECTED_ACTIONS if action.startswith("s3:")}
    assert s3_actions == {"s3:PutObject", "s3:GetObject"}
    assert all(EXPECTED_ACTIONS[action] == ledger_objects for action in s3_actions)


def test_results_may_only_be_published_under_our_source(resources: dict[str, Any]) -> None:
    (statement,) = [s for s in _role_statements(resources) if s["Action"] == "events:PutEvents"]
    assert statement["Condition"] == {
        "StringEquals": {
            "events:source": {
                "Fn::If": [
                    "PublishAlchemiserEvents",
                    [{"Ref": "ResultSource"}, "alchemiser.execution"],
                    {"Ref": "ResultSource"},
                ]
            }
        }
    }


def test_alchemiser_events_are_off_by_default_and_never_reach_the_plan_rule(
    template: dict[str, Any],
) -> None:
    parameter = template["Parameters"]["AlchemiserCompatEvents"]
    assert parameter["Default"] == "false"
    assert template["Conditions"]["PublishAlchemiserEvents"] == {
        "Fn::Equals": [{"Ref": "AlchemiserCompatEvents"}, "true"]
    }
    (assertion,) = template["Rules"]["CompatEventsNeverMatchThePlanRule"]["Assertions"]
    assert {"Fn::Not": [{"Fn::Equals": [{"Ref": "PlanSource"}, "alchemiser.execution"]}]} in (
        assertion["Assert"]["Fn::Or"]
    )


def test_ledger_bucket_is_encrypted_versioned_private_and_owner_enforced(
    resources: dict[str, Any],
) -> None:
    bucket = resources["LedgerBucket"]
    properties = bucket["Properties"]
    (rule,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in {"AES256", "aws:kms"}
    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
    assert properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert properties["OwnershipControls"] == {
        "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]
    }
    assert bucket["DeletionPolicy"] == bucket["UpdateReplacePolicy"] == "Retain"


def test_ledger_lifecycle_ages_objects_but_never_expires_current_ones(
    resources: dict[str, Any],
) -> None:
    rules = resources["LedgerBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    assert rules
    for rule in rules:
        assert not {"ExpirationInDays", "ExpirationDate"} & set(rule), rule["Id"]
    assert any(rule.get("Transitions") for rule in rules)
    assert any(rule.get("NoncurrentVersionExpiration") for rule in rules)


def test_ledger_bucket_refuses_plain_http(resources: dict[str, Any]) -> None:
    policy = resources["LedgerBucketPolicy"]["Properties"]
    assert policy["Bucket"] == {"Ref": "LedgerBucket"}
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Principal"] == "*"
    assert statement["Action"] == "s3:*"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert statement["Resource"] == [
        {"Fn::GetAtt": ["LedgerBucket", "Arn"]},
        {"Fn::Sub": "${LedgerBucket.Arn}/*"},
    ]


def test_idempotency_table_matches_powertools_and_is_protected(resources: dict[str, Any]) -> None:
    properties = resources["IdempotencyTable"]["Properties"]
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert properties["AttributeDefinitions"] == [{"AttributeName": "id", "AttributeType": "S"}]
    assert properties["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["SSESpecification"] == {"SSEEnabled": True}
    assert properties["DeletionProtectionEnabled"] == {"Fn::If": ["IsProd", True, False]}


def test_dead_letter_queue_is_encrypted_keeps_14_days_and_admits_only_our_senders(
    resources: dict[str, Any],
) -> None:
    queue = resources["DeadLetterQueue"]["Properties"]
    assert queue["MessageRetentionPeriod"] == 14 * 24 * 3600
    assert queue.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in queue
    statements = resources["DeadLetterQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    allowed = {
        str(s["Principal"]): s.get("Condition") for s in statements if s["Effect"] == "Allow"
    }
    assert allowed == {
        str({"Service": "events.amazonaws.com"}): {
            "ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["PlanRequestedRule", "Arn"]}}
        },
        str({"AWS": {"Fn::GetAtt": ["ExecutorRole", "Arn"]}}): None,
    }
    denied = [s for s in statements if s["Effect"] == "Deny"]
    assert [s["Condition"] for s in denied] == [{"Bool": {"aws:SecureTransport": "false"}}]


def test_secret_is_a_generated_placeholder_never_a_value(resources: dict[str, Any]) -> None:
    secret = resources["AlpacaSecret"]
    assert secret["Condition"] == "CreateAlpacaSecret"
    properties = secret["Properties"]
    assert "SecretString" not in properties
    generated = properties["GenerateSecretString"]
    assert generated["GenerateStringKey"] == "secret_key"
    placeholder = json.loads(generated["SecretStringTemplate"])
    assert placeholder == {"key_id": PLACEHOLDER_KEY_ID, "mode": "paper"}


def test_the_service_refuses_the_placeholder_credentials() -> None:
    with pytest.raises(CredentialsError, match="placeholder"):
        AlpacaCredentials(PLACEHOLDER_KEY_ID, Secret("generated"), TradingMode.PAPER)
