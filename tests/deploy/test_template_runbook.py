"""The operations side of the template (issue 14): alarms that reach someone, each with a
runbook entry; the result archive; the saved Logs Insights queries; and the deployment
commands the README and runbook give, checked against the template and the CLI."""

import json
import re
import shlex
from typing import Any

import pytest
from cfn_template import ROOT, Template, render_sub, resolve_with_defaults, resources_of_type

from plan_executor.adapters.eventbridge_publisher import DETAIL_TYPE
from plan_executor.cli import _parser
from plan_executor.domain.rejection_classes import RejectionClass
from plan_executor.observability import PLANS_BY_STATUS, PLANS_RECEIVED, REJECTED_BY_CLASS

RUNBOOK = ROOT / "docs" / "runbook.md"
README = ROOT / "README.md"
MAKEFILE = ROOT / "Makefile"
SERVICE_DIMENSION = [{"Name": "service", "Value": {"Fn::Sub": "plan-executor-${Stage}"}}]
UNALARMED_CLASSES = {RejectionClass.KILL_SWITCH}  # someone turned it on: no page


def _alarms(template: Template) -> dict[str, dict[str, Any]]:
    return resources_of_type(template, "AWS::CloudWatch::Alarm")


def _runbook_headings() -> set[str]:
    text = RUNBOOK.read_text(encoding="utf-8")
    return set(re.findall(r"^#{2,4} `(\w+)`\s*$", text, flags=re.MULTILINE))


def test_every_alarm_has_a_runbook_entry(template: Template) -> None:
    missing = sorted(set(_alarms(template)) - _runbook_headings())
    assert not missing, f"docs/runbook.md has no '### `Name`' section for {missing}"


def test_every_runbook_alarm_entry_is_an_alarm(template: Template) -> None:
    headings = {h for h in _runbook_headings() if h.endswith("Alarm")}
    assert headings <= set(_alarms(template))


def test_every_alarm_notifies_the_topic(template: Template) -> None:
    for name, alarm in _alarms(template).items():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}], name


def _alarmed_metrics(template: Template) -> dict[str, dict[str, Any]]:
    return {
        alarm["Properties"]["MetricName"]: alarm["Properties"]
        for alarm in _alarms(template).values()
        if "MetricName" in alarm["Properties"]
    }


@pytest.mark.parametrize("rejection", sorted(set(RejectionClass) - UNALARMED_CLASSES))
def test_each_rejection_class_has_an_alarm(template: Template, rejection: RejectionClass) -> None:
    alarm = _alarmed_metrics(template)[REJECTED_BY_CLASS[rejection]]
    assert alarm["Namespace"] == "PlanExecutor"
    assert alarm["Dimensions"] == SERVICE_DIMENSION
    assert (alarm["Statistic"], alarm["Threshold"]) == ("Sum", 0)
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"


def test_partial_success_has_an_alarm(template: Template) -> None:
    from plan_executor.domain.enums import ExecutionStatus  # noqa: PLC0415

    metric = PLANS_BY_STATUS[ExecutionStatus.PARTIAL_SUCCESS]
    assert _alarmed_metrics(template)[metric]["Dimensions"] == SERVICE_DIMENSION


def test_the_no_plan_alarm_is_off_by_default_and_watches_plans_received(
    template: Template,
) -> None:
    alarm = template["Resources"]["NoPlanAlarm"]
    assert alarm["Condition"] == "WatchForMissingPlans"
    condition = template["Conditions"]["WatchForMissingPlans"]
    ((_, (equals,)),) = condition.items()
    left, right = (resolve_with_defaults(v, template) for v in equals["Fn::Equals"])
    assert left == right == "-1"  # the default switches it off
    properties = alarm["Properties"]
    (received,) = [m for m in properties["Metrics"] if m["Id"] == "received"]
    metric = received["MetricStat"]["Metric"]
    assert (metric["MetricName"], metric["Dimensions"]) == (PLANS_RECEIVED, SERVICE_DIMENSION)
    (watched,) = [m for m in properties["Metrics"] if m.get("ReturnData")]
    expression = render_sub(
        watched["Expression"]["Fn::Sub"], {"NoPlanDeadlineHourUtc": "15", "NoPlanWindowHours": "4"}
    )
    assert "DAY(FILL(received, 0)) <= 5" in expression
    assert ">= 15 - 4" in expression
    assert "< 15" in expression
    assert properties["EvaluationPeriods"] == properties["DatapointsToAlarm"]
    assert properties["EvaluationPeriods"] == {"Ref": "NoPlanWindowHours"}


def test_results_are_archived_for_a_parameter_of_days(template: Template) -> None:
    (archive,) = resources_of_type(template, "AWS::Events::Archive").values()
    properties = archive["Properties"]
    assert properties["EventPattern"] == {
        "source": [{"Ref": "ResultSource"}],
        "detail-type": [DETAIL_TYPE],
    }
    assert properties["SourceArn"]["Fn::Sub"].endswith(":event-bus/${EventBusName}")
    assert properties["RetentionDays"] == {"Ref": "ResultArchiveRetentionDays"}


def test_saved_queries_read_the_function_log_and_the_runbook_uses_them(
    template: Template,
) -> None:
    queries = resources_of_type(template, "AWS::Logs::QueryDefinition")
    runbook = RUNBOOK.read_text(encoding="utf-8")
    assert len(queries) >= 4
    for name, query in queries.items():
        properties = query["Properties"]
        assert properties["LogGroupNames"] == [{"Ref": "ExecutorLogGroup"}], name
        suffix = properties["Name"]["Fn::Sub"].removeprefix("${AWS::StackName}/")
        assert f"`<stack>/{suffix}`" in runbook, name


def test_queries_filter_on_the_line_the_handler_writes(template: Template) -> None:
    handler = (ROOT / "src" / "plan_executor" / "handler.py").read_text(encoding="utf-8")
    for query in resources_of_type(template, "AWS::Logs::QueryDefinition").values():
        for message in re.findall(r'message = "([^"]+)"', query["Properties"]["QueryString"]):
            assert f'"{message}"' in handler


def _dashboard_widgets(template: Template) -> list[dict[str, Any]]:
    body = template["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    names = set(re.findall(r"\$\{([^}!]+)\}", body))
    parameters = template["Parameters"]
    stand_ins = {
        n: "1" if parameters.get(n, {}).get("Type") == "Number" else f"<{n}>" for n in names
    }
    widgets: list[dict[str, Any]] = json.loads(render_sub(body, stand_ins))["widgets"]
    return widgets


def test_the_dashboard_shows_every_alarm_and_the_last_plans(template: Template) -> None:
    widgets = _dashboard_widgets(template)
    (alarm_widget,) = [w for w in widgets if w["type"] == "alarm"]
    unconditional = {n for n, a in _alarms(template).items() if "Condition" not in a}
    assert set(alarm_widget["properties"]["alarms"]) == {f"<{n}.Arn>" for n in unconditional}
    shown = {row[1] for w in widgets if w["type"] == "metric" for row in w["properties"]["metrics"]}
    assert shown >= {PLANS_RECEIVED, *REJECTED_BY_CLASS.values()}
    (log_widget,) = [w for w in widgets if w["type"] == "log"]
    assert log_widget["properties"]["query"].startswith("SOURCE '<ExecutorLogGroup>'")


def test_alarm_email_is_asked_for_and_checked(template: Template) -> None:
    parameter = template["Parameters"]["AlarmEmail"]
    assert re.fullmatch(parameter["AllowedPattern"], "ops@example.com")
    assert re.fullmatch(parameter["AllowedPattern"], "")
    assert not re.fullmatch(parameter["AllowedPattern"], "not an address")


def test_the_readme_documents_every_parameter_guided_deploy_asks(template: Template) -> None:
    deployment = README.read_text(encoding="utf-8").split("## Deployment", 1)[1]
    missing = [name for name in template["Parameters"] if f"`{name}`" not in deployment]
    assert not missing, f"README's deployment section does not explain {missing}"


def _documented_commands() -> list[list[str]]:
    """Every `plan-executor ...` command line in the README and the runbook."""
    lines = []
    for path in (README, RUNBOOK):
        for line in path.read_text(encoding="utf-8").splitlines():
            text = line.strip().removeprefix("$ ")
            if text.startswith("plan-executor ") and "[" not in text and "..." not in text:
                lines.append(shlex.split(text.split("  #", 1)[0])[1:])
    return lines


def test_documented_cli_commands_parse() -> None:
    commands = _documented_commands()
    assert any(c[0] == "send" for c in commands)
    assert any(c[0] == "redrive-ledger" for c in commands)
    for argv in commands:
        _parser().parse_args(argv)  # SystemExit (a failed test) if a name or flag is wrong


def test_documented_stack_outputs_exist(template: Template) -> None:
    text = README.read_text(encoding="utf-8") + RUNBOOK.read_text(encoding="utf-8")
    used = set(re.findall(r"\$\(out (\w+)\)", text))
    assert used, "the docs read no stack output"
    assert used <= set(template["Outputs"])


def test_make_deploy_builds_validates_then_deploys() -> None:
    makefile = MAKEFILE.read_text(encoding="utf-8")
    match = re.search(r"^deploy:([^\n]*)\n((?:\t[^\n]*\n)+)", makefile, flags=re.MULTILINE)
    assert match is not None, "no deploy target"
    prerequisites, recipe = match[1], match[2]
    assert "build" in prerequisites
    assert "validate" in prerequisites
    assert "sam deploy" in recipe
    assert ".venv-tools/bin/sam" in recipe


# `aws` subcommands that are CLI customizations, not API operations.
AWS_CLI_CUSTOM = {("logs", "tail"): {"--follow", "--since"}}
AWS_CLI_GLOBAL = {"--query", "--output", "--region", "--profile"}
# Parameters the AWS CLI renames (awscli's argrename customization).
AWS_CLI_RENAMED = {("sns", "--notification-endpoint"): "Endpoint"}


def _documented_aws_commands() -> list[list[str]]:
    """Every `aws ...` command in the README and the runbook, continuation lines joined and
    `$(...)` substitutions replaced by a word."""
    commands = []
    for path in (README, RUNBOOK):
        text = re.sub(r"\\\n\s*", " ", path.read_text(encoding="utf-8"))
        for line in text.splitlines():
            words = line.strip()
            if words.startswith(("aws ", "out() { aws ")):
                words = re.sub(r"\$\([^)]*\)", "VALUE", words.removeprefix("out() { "))
                words = words.split(";", 1)[0].split(" && ", 1)[0]
                commands.append(shlex.split(words)[1:])
    return commands


def test_documented_aws_cli_commands_name_real_operations_and_parameters() -> None:
    import botocore.session  # noqa: PLC0415

    session = botocore.session.get_session()
    commands = _documented_aws_commands()
    assert {c[1] for c in commands} >= {"put-secret-value", "describe-stacks", "subscribe"}
    for service, command, *rest in commands:
        flags = {word for word in rest if word.startswith("--")} - AWS_CLI_GLOBAL
        if (service, command) in AWS_CLI_CUSTOM:
            assert flags <= AWS_CLI_CUSTOM[service, command], command
            continue
        model = session.get_service_model(service)
        operation = "".join(part.capitalize() for part in command.split("-"))
        assert operation in model.operation_names, f"aws {service} {command}"
        members = set(model.operation_model(operation).input_shape.members)
        for flag in flags:
            name = AWS_CLI_RENAMED.get((service, flag)) or "".join(
                part.capitalize() for part in flag[2:].split("-")
            )
            assert name in members, f"aws {service} {command} {flag}"
