"""Alarms and dashboard watch metrics that exist, on the resources this stack creates."""

import ast
import json
from typing import Any

from cfn_template import ROOT, Template, render_sub, resources_of_type, sub_variables

from plan_executor.domain.enums import ExecutionStatus

REQUIRED_ALARMS = frozenset(
    {
        ("AWS/Lambda", "Errors"),
        ("AWS/Lambda", "Throttles"),
        ("AWS/Lambda", "AsyncEventsDropped"),
        ("AWS/Lambda", "DestinationDeliveryFailures"),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
        ("PlanExecutor", "PlansTimedOut"),
        ("PlanExecutor", "PlansFailed"),
        ("PlanExecutor", "LedgerWriteFailures"),
        ("PlanExecutor", "SlippageBps"),
    }
)
# The EMF metric counting plans that ended in each status.
STATUS_METRICS = {
    ExecutionStatus.SUCCESS: "PlansSucceeded",
    ExecutionStatus.SUCCESS_WITH_SKIPS: "PlansSucceededWithSkips",
    ExecutionStatus.PARTIAL_SUCCESS: "PlansPartiallySucceeded",
    ExecutionStatus.FAILURE: "PlansFailed",
    ExecutionStatus.REJECTED: "PlansRejected",
    ExecutionStatus.TIMED_OUT: "PlansTimedOut",
}
DASHBOARD_METRICS = frozenset(
    {
        *STATUS_METRICS.values(),
        "OrdersPlaced",
        "OrdersFilled",
        "OrdersFailed",
        "SlippageBps",
        "RePegs",
        "MarketFallbacks",
        "ExecutionDuration",
        "DuplicatesServed",
    }
)
LAMBDA_DASHBOARD_METRICS = frozenset({"Errors", "Throttles", "Duration"})


def _alarms(template: Template) -> dict[str, dict[str, Any]]:
    """The single-metric alarms (a metric-math alarm, NoPlanAlarm, is tested on its own)."""
    return {
        name: resource["Properties"]
        for name, resource in resources_of_type(template, "AWS::CloudWatch::Alarm").items()
        if "MetricName" in resource["Properties"]
    }


def _dashboard_rows(template: Template) -> tuple[list[list[Any]], dict[str, str]]:
    """The dashboard's metric rows, rendered with a stand-in value per ${...} variable."""
    body = template["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    parameters = template["Parameters"]
    stand_ins = {
        # A number parameter stands inside JSON unquoted: give it a number.
        name: "1" if parameters.get(name, {}).get("Type") == "Number" else f"<{name}>"
        for name in sub_variables(body)
    }
    widgets = json.loads(render_sub(body, stand_ins))["widgets"]
    rows = [
        row
        for widget in widgets
        if widget["type"] == "metric"
        for row in widget["properties"]["metrics"]
    ]
    assert all("." not in row[:4] for row in rows), "spell rows out: no '.' shorthand"
    return rows, stand_ins


def _string_constants_in_service() -> set[str]:
    constants: set[str] = set()
    for path in (ROOT / "src" / "plan_executor").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        constants |= {
            node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
        }
    return constants


def test_the_required_alarms_exist(template: Template) -> None:
    present = {(alarm["Namespace"], alarm["MetricName"]) for alarm in _alarms(template).values()}
    assert present >= REQUIRED_ALARMS


def test_every_alarm_notifies_the_topic(template: Template) -> None:
    for name, alarm in _alarms(template).items():
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
        assert alarm["TreatMissingData"] == "notBreaching", name


def test_alarm_email_is_optional(template: Template) -> None:
    subscription = template["Resources"]["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"]["TopicArn"] == {"Ref": "AlarmTopic"}
    assert template["Parameters"]["AlarmEmail"]["Default"] == ""


def test_aws_alarms_watch_this_stacks_function_and_queue(template: Template) -> None:
    expected_dimensions = {
        "AWS/Lambda": [{"Name": "FunctionName", "Value": {"Ref": "ExecutorFunction"}}],
        "AWS/SQS": [
            {"Name": "QueueName", "Value": {"Fn::GetAtt": ["DeadLetterQueue", "QueueName"]}}
        ],
    }
    sweeper = [{"Name": "FunctionName", "Value": {"Ref": "SweeperFunction"}}]
    for name, alarm in _alarms(template).items():
        if name.startswith("Sweeper"):
            assert alarm["Dimensions"] == sweeper, name
        elif alarm["Namespace"] in expected_dimensions:
            assert alarm["Dimensions"] == expected_dimensions[alarm["Namespace"]], name


def test_service_alarms_use_the_namespace_and_dimension_powertools_emits(
    template: Template, environment: dict[str, Any]
) -> None:
    service_alarms = {
        name: alarm
        for name, alarm in _alarms(template).items()
        if not alarm["Namespace"].startswith("AWS/")
    }
    assert service_alarms
    for name, alarm in service_alarms.items():
        assert alarm["Namespace"] == environment["POWERTOOLS_METRICS_NAMESPACE"], name
        # Powertools Metrics adds exactly one default dimension: service.
        assert alarm["Dimensions"] == [
            {"Name": "service", "Value": environment["POWERTOOLS_SERVICE_NAME"]}
        ], name


def test_slippage_alarm_threshold_is_a_parameter(template: Template) -> None:
    (alarm,) = [a for a in _alarms(template).values() if a["MetricName"] == "SlippageBps"]
    assert alarm["Threshold"] == {"Ref": "SlippageAlarmBps"}
    assert alarm["Statistic"] == "Maximum"


def test_status_metrics_cover_every_execution_status() -> None:
    assert set(STATUS_METRICS) == set(ExecutionStatus)


def test_dashboard_shows_the_service_and_lambda_metrics(
    template: Template, environment: dict[str, Any]
) -> None:
    rows, stand_ins = _dashboard_rows(template)
    namespace = environment["POWERTOOLS_METRICS_NAMESPACE"]
    service = render_sub(environment["POWERTOOLS_SERVICE_NAME"]["Fn::Sub"], stand_ins)
    service_rows = [row for row in rows if row[0] == namespace]
    assert {row[1] for row in service_rows} >= DASHBOARD_METRICS
    assert all(row[2:4] == ["service", service] for row in service_rows)
    lambda_rows = [row for row in rows if row[0] == "AWS/Lambda"]
    assert {row[1] for row in lambda_rows} >= LAMBDA_DASHBOARD_METRICS
    assert all(row[2:4] == ["FunctionName", "<ExecutorFunction>"] for row in lambda_rows)
    assert {row[0] for row in rows} == {namespace, "AWS/Lambda", "AWS/SQS"}


def test_every_watched_service_metric_is_emitted_by_the_service(
    template: Template, environment: dict[str, Any]
) -> None:
    namespace = environment["POWERTOOLS_METRICS_NAMESPACE"]
    watched = {a["MetricName"] for a in _alarms(template).values() if a["Namespace"] == namespace}
    rows, _ = _dashboard_rows(template)
    watched |= {row[1] for row in rows if row[0] == namespace}
    missing = sorted(watched - _string_constants_in_service())
    assert not missing, f"alarms/dashboard watch metrics no code in src/ emits: {missing}"
