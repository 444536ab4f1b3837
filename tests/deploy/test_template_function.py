"""The function: what it runs, how it is built, what it is told, and how it is invoked."""

import ast
from pathlib import Path
from types import ModuleType
from typing import Any

from cfn_template import ROOT, Template, resolve_with_defaults

# Python runtimes Lambda, SAM 1.170 and cfn-lint 1.58 support, which the brief allows.
SUPPORTED_RUNTIMES = frozenset({"python3.12", "python3.13"})
# Variables read by libraries rather than by plan_executor.settings.
LIBRARY_VARIABLES = frozenset(
    {
        "POWERTOOLS_SERVICE_NAME",  # Logger, Metrics (the `service` dimension), Tracer
        "POWERTOOLS_METRICS_NAMESPACE",  # Metrics
        "POWERTOOLS_LOG_LEVEL",  # Logger
        "AWS_ENDPOINT_URL",  # botocore and aiobotocore; empty means the real endpoints
    }
)
# Lambda refuses these in a function's configuration.
LAMBDA_RESERVED_VARIABLES = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    }
)
SECRET_WORDS = ("SECRET_KEY", "API_KEY", "PASSWORD", "TOKEN")


def _top_level_names(module_path: Path) -> set[str]:
    tree = ast.parse(module_path.read_text(encoding="utf-8"), filename=str(module_path))
    names = {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    }
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        names |= {target.id for target in targets if isinstance(target, ast.Name)}
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def test_runtime_is_a_supported_python_and_the_one_the_artifact_is_built_for(
    function: dict[str, Any], build_script: ModuleType
) -> None:
    assert function["Runtime"] in SUPPORTED_RUNTIMES
    assert function["Runtime"] == f"python{build_script.LAMBDA_PYTHON}"


def test_architecture_is_the_one_the_artifact_is_built_for(
    function: dict[str, Any], build_script: ModuleType
) -> None:
    assert function["Architectures"] == [build_script.DEFAULT_ARCH]


def test_code_is_the_zip_the_build_writes(
    function: dict[str, Any], build_script: ModuleType
) -> None:
    assert function["CodeUri"] == build_script.ZIP_PATH.relative_to(ROOT).as_posix()


def test_handler_names_a_function_in_src() -> None:
    handler = "plan_executor.handler.lambda_handler"
    module, _, attribute = handler.rpartition(".")
    module_path = ROOT / "src" / Path(*module.split(".")).with_suffix(".py")
    assert module_path.is_file(), f"{module_path.relative_to(ROOT)} does not exist yet"
    assert attribute in _top_level_names(module_path)


def test_template_handler_is_the_one_checked_above(function: dict[str, Any]) -> None:
    assert function["Handler"] == "plan_executor.handler.lambda_handler"


def test_every_variable_is_a_setting_the_service_reads(environment: dict[str, Any]) -> None:
    from plan_executor.settings import ENVIRONMENT_VARIABLES  # noqa: PLC0415

    read_by_service = set(ENVIRONMENT_VARIABLES)
    assert set(environment) - LIBRARY_VARIABLES <= read_by_service, (
        "set in template.yaml but never read: "
        f"{sorted(set(environment) - LIBRARY_VARIABLES - read_by_service)}"
    )


def test_template_defaults_configure_a_service_that_starts(
    template: Template, environment: dict[str, Any]
) -> None:
    from plan_executor.settings import load_settings  # noqa: PLC0415

    resolved = {name: resolve_with_defaults(value, template) for name, value in environment.items()}
    settings = load_settings(resolved)  # raises SettingsError naming a bad variable
    assert settings.trading_mode == "paper"
    assert not settings.allow_live_trading
    assert settings.kill_switch_parameter == "<KillSwitchParameter>"
    assert settings.kill_switch_cache_seconds <= 30
    assert settings.alpaca_secret_id == "<AlpacaSecret>"
    assert settings.credentials_source == "secretsmanager"
    assert settings.alpaca_trading_url is None  # the empty override means the real Alpaca


def test_variables_carry_no_secret_and_no_reserved_name(environment: dict[str, Any]) -> None:
    assert not set(environment) & LAMBDA_RESERVED_VARIABLES
    for name, value in environment.items():
        if any(word in name for word in SECRET_WORDS):
            raise AssertionError(f"{name} looks like a secret: {value!r}")
    assert environment["ALPACA_SECRET_ID"]["Fn::If"][0] == "CreateAlpacaSecret"


def test_endpoint_overrides_are_empty_in_aws(environment: dict[str, Any]) -> None:
    overrides = [name for name in environment if name.endswith("_URL") and "QUEUE" not in name]
    assert overrides, "the local-stack overrides are declared"
    assert {name: environment[name] for name in overrides} == dict.fromkeys(overrides, "")


def test_one_plan_at_a_time(function: dict[str, Any]) -> None:
    assert function["ReservedConcurrentExecutions"] == 1


def test_deadline_margin_fits_inside_the_timeout(
    function: dict[str, Any], environment: dict[str, Any]
) -> None:
    margin = int(environment["DEADLINE_MARGIN_SECONDS"])
    assert 0 < margin < function["Timeout"] / 4
    assert function["Timeout"] <= 900


def test_tracing_and_log_retention(template: Template, function: dict[str, Any]) -> None:
    assert function["Tracing"] == "Active"
    assert function["LoggingConfig"]["LogGroup"] == {"Ref": "ExecutorLogGroup"}
    log_group = template["Resources"]["ExecutorLogGroup"]["Properties"]
    assert log_group["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_snapstart_is_a_switch_on_published_versions(
    template: Template, function: dict[str, Any]
) -> None:
    assert function["AutoPublishAlias"]
    assert function["SnapStart"]["ApplyOn"] == {
        "Fn::If": ["UseSnapStart", "PublishedVersions", "None"]
    }
    assert template["Conditions"]["UseSnapStart"] == {
        "Fn::Equals": [{"Ref": "EnableSnapStart"}, "true"]
    }
    assert template["Parameters"]["EnableSnapStart"]["Default"] == "false"


def test_async_invocations_retry_a_bounded_number_of_times_then_go_to_the_dlq(
    template: Template, function: dict[str, Any]
) -> None:
    config = function["EventInvokeConfig"]
    assert 0 <= config["MaximumRetryAttempts"] <= 2
    age = config["MaximumEventAgeInSeconds"]
    assert age == {"Ref": "MaxPlanAgeSeconds"}
    assert template["Parameters"]["MaxPlanAgeSeconds"]["MaxValue"] <= 21600
    on_failure = config["DestinationConfig"]["OnFailure"]
    assert on_failure == {"Type": "SQS", "Destination": {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}}


def test_rule_matches_the_plan_event_on_the_configured_bus(resources: dict[str, Any]) -> None:
    rule = resources["PlanRequestedRule"]["Properties"]
    assert rule["EventBusName"] == {"Ref": "EventBusName"}
    assert rule["EventPattern"] == {
        "source": [{"Ref": "PlanSource"}],
        "detail-type": [{"Ref": "PlanDetailType"}],
    }
    assert rule["State"] == "ENABLED"


def test_rule_target_is_the_alias_with_retries_and_a_dead_letter_queue(
    resources: dict[str, Any],
) -> None:
    (choice,) = resources["PlanRequestedRule"]["Properties"]["Targets"]
    condition, queue_target, target = choice["Fn::If"]
    assert condition == "DeliverViaSqs"
    assert target["Arn"] == {"Ref": "ExecutorFunction.Alias"}
    assert queue_target["Arn"] == {"Fn::GetAtt": ["PlanQueue", "Arn"]}
    assert queue_target["RetryPolicy"] == target["RetryPolicy"]
    assert queue_target["DeadLetterConfig"] == target["DeadLetterConfig"]
    assert resources["PlanRequestedPermission"]["Condition"] == "DeliverDirectly"
    assert 0 < target["RetryPolicy"]["MaximumRetryAttempts"] <= 10
    assert target["RetryPolicy"]["MaximumEventAgeInSeconds"] == {"Ref": "MaxPlanAgeSeconds"}
    assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}
    permission = resources["PlanRequestedPermission"]["Properties"]
    assert permission["FunctionName"] == target["Arn"]
    assert permission["Principal"] == "events.amazonaws.com"
    assert permission["SourceArn"] == {"Fn::GetAtt": ["PlanRequestedRule", "Arn"]}


def test_plans_from_a_queue_are_read_one_per_invocation_reporting_failed_messages(
    resources: dict[str, Any], template: Template
) -> None:
    assert template["Parameters"]["PlanDelivery"]["Default"] == "eventbridge"
    mapping = resources["PlanQueueMapping"]
    assert mapping["Condition"] == "DeliverViaSqs"
    properties = mapping["Properties"]
    assert properties["BatchSize"] == 1
    assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert properties["FunctionName"] == {"Ref": "ExecutorFunction.Alias"}
    queue = resources["PlanQueue"]["Properties"]
    timeout = resources["ExecutorFunction"]["Properties"]["Timeout"]
    assert queue["VisibilityTimeout"] >= 6 * timeout
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": ["DeadLetterQueue", "Arn"]
    }


def test_live_trading_needs_both_keys_and_defaults_to_paper(template: Template) -> None:
    parameters = template["Parameters"]
    assert parameters["TradingMode"]["Default"] == "paper"
    assert parameters["AllowLive"]["Default"] == "false"
    assert parameters["KillSwitch"]["AllowedValues"] == ["true", "false"]
    (assertion,) = template["Rules"]["LiveNeedsAllowLive"]["Assertions"]
    assert assertion["Assert"] == {
        "Fn::Or": [
            {"Fn::Equals": [{"Ref": "TradingMode"}, "paper"]},
            {"Fn::Equals": [{"Ref": "AllowLive"}, "true"]},
        ]
    }


def test_results_cannot_retrigger_the_rule(template: Template) -> None:
    (assertion,) = template["Rules"]["ResultsNeverMatchThePlanRule"]["Assertions"]
    assert assertion["Assert"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "ResultSource"}, {"Ref": "PlanSource"}]}]
    }
    defaults = {
        name: template["Parameters"][name]["Default"] for name in ("ResultSource", "PlanSource")
    }
    assert defaults["ResultSource"] != defaults["PlanSource"]
