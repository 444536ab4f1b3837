"""The history section of the template: Glue tables whose columns are the ledger models', with
partition projection on the ledger's own keys, an Athena workgroup that keeps its results in an
encrypted bucket of its own, and named queries that are the query files, word for word."""

from datetime import date
from typing import Any

import pytest
from cfn_template import TEMPLATE_PATH, Template, render_sub, resources_of_type

from plan_executor.domain.ledger_keys import ledger_keys
from plan_executor.ops.glue_columns import PARTITION_KEY, TABLES, LedgerTable, glue_columns
from plan_executor.ops.history_queries import named_queries
from plan_executor.ops.history_template import current_section, render_section

ATTEMPT = "0001-20261205T140001Z-9f86d081"


def _table(template: Template, table: LedgerTable) -> dict[str, Any]:
    tables = resources_of_type(template, "AWS::Glue::Table").values()
    [found] = [t for t in tables if t["Properties"]["TableInput"]["Name"] == table.name]
    properties: dict[str, Any] = found["Properties"]
    return properties


def test_the_history_section_is_what_make_glue_writes() -> None:
    assert current_section(TEMPLATE_PATH.read_text(encoding="utf-8")) == render_section(), (
        "template.yaml's history section is stale: run `make glue`"
    )


@pytest.mark.parametrize("table", TABLES, ids=lambda table: table.name)
def test_glue_columns_are_the_ledger_models_fields(template: Template, table: LedgerTable) -> None:
    descriptor = _table(template, table)["TableInput"]["StorageDescriptor"]
    assert descriptor["Columns"] == glue_columns(table)


@pytest.mark.parametrize("table", TABLES, ids=lambda table: table.name)
def test_partition_projection_lands_on_the_keys_the_ledger_writes(
    template: Template, table: LedgerTable
) -> None:
    properties = _table(template, table)
    table_input = properties["TableInput"]
    parameters = table_input["Parameters"]
    assert properties["DatabaseName"] == {"Ref": "HistoryDatabase"}
    assert table_input["PartitionKeys"] == [{"Name": PARTITION_KEY, "Type": "date"}]
    assert parameters["projection.enabled"] == "true"
    assert parameters[f"projection.{PARTITION_KEY}.type"] == "date"
    assert parameters[f"projection.{PARTITION_KEY}.format"] == "yyyy-MM-dd"
    day = date(2026, 12, 5)
    template_text = render_sub(
        parameters["storage.location.template"]["Fn::Sub"], {"LedgerBucket": "ledger-bkt"}
    )
    # What Athena does with the projected value of each day:
    where = template_text.replace("${" + PARTITION_KEY + "}", day.isoformat())
    assert where != template_text
    location = render_sub(
        table_input["StorageDescriptor"]["Location"]["Fn::Sub"], {"LedgerBucket": "ledger-bkt"}
    )
    keys = ledger_keys("plan-1", day, ATTEMPT)
    assert f"s3://ledger-bkt/{keys.result}".startswith(where)
    assert f"s3://ledger-bkt/{keys.orders}".startswith(where)
    assert where.startswith(location)
    other_day = ledger_keys("plan-1", date(2026, 12, 6), ATTEMPT)
    assert not f"s3://ledger-bkt/{other_day.result}".startswith(where)


def test_named_queries_are_the_query_files_in_the_history_workgroup(template: Template) -> None:
    resources = resources_of_type(template, "AWS::Athena::NamedQuery").values()
    in_template = {r["Properties"]["Name"]: r["Properties"] for r in resources}
    files = {query.name: query for query in named_queries()}
    assert set(in_template) == set(files)
    assert {"last_plans", "cost_by_day", "cost_by_symbol", "orders_per_plan"} <= set(files)
    for name, properties in in_template.items():
        assert properties["QueryString"] == files[name].sql, name
        assert properties["Database"] == {"Ref": "HistoryDatabase"}
        assert properties["WorkGroup"] == {"Ref": "HistoryWorkGroup"}


def test_the_workgroup_enforces_encrypted_results_in_its_own_expiring_bucket(
    template: Template,
) -> None:
    resources = template["Resources"]
    config = resources["HistoryWorkGroup"]["Properties"]["WorkGroupConfiguration"]
    assert config["EnforceWorkGroupConfiguration"] is True
    results = config["ResultConfiguration"]
    assert results["EncryptionConfiguration"] == {"EncryptionOption": "SSE_S3"}
    output = render_sub(results["OutputLocation"]["Fn::Sub"], {"HistoryResultsBucket": "r"})
    assert output.startswith("s3://r/")
    bucket = resources["HistoryResultsBucket"]["Properties"]
    [default] = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert default["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in {"AES256", "aws:kms"}
    [rule] = bucket["LifecycleConfiguration"]["Rules"]
    assert rule["Status"] == "Enabled"
    assert 0 < rule["ExpirationInDays"] <= 90
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    [statement] = resources["HistoryResultsBucketPolicy"]["Properties"]["PolicyDocument"][
        "Statement"
    ]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_history_grants_nobody_anything(template: Template) -> None:
    """Queries run with the operator's own credentials: the section adds no role or policy,
    and the function keeps its permissions (test_template_security checks those)."""
    section_types = {
        resource["Type"]
        for name, resource in template["Resources"].items()
        if name.startswith("History")
    }
    assert not {t for t in section_types if t.startswith("AWS::IAM::")}
    assert section_types == {
        "AWS::S3::Bucket",
        "AWS::S3::BucketPolicy",
        "AWS::Athena::WorkGroup",
        "AWS::Glue::Database",
        "AWS::Glue::Table",
        "AWS::Athena::NamedQuery",
    }
