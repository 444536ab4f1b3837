"""Every name the template refers to exists: parameters, resources, conditions, attributes."""

import json
from typing import Any

import pytest
from cfn_template import (
    PSEUDO_PARAMETERS,
    Template,
    intrinsics,
    load_template,
    render_sub,
    sub_variables,
)

# SAM's referenceable properties of a function with AutoPublishAlias.
SAM_FUNCTION_SUFFIXES = ("Alias", "Version")


def _refable_names(template: Template) -> set[str]:
    names = set(template.get("Parameters", {})) | set(template["Resources"]) | PSEUDO_PARAMETERS
    for name, resource in template["Resources"].items():
        is_function = resource["Type"] == "AWS::Serverless::Function"
        if is_function and "AutoPublishAlias" in resource.get("Properties", {}):
            names |= {f"{name}.{suffix}" for suffix in SAM_FUNCTION_SUFFIXES}
    return names


def _unresolved(template: Template) -> list[str]:
    return [
        *_dangling_refs(template),
        *_dangling_subs(template),
        *_dangling_conditions(template),
        *_dangling_depends_on(template),
    ]


def _dangling_refs(template: Template) -> list[str]:
    refable = _refable_names(template)
    resources = set(template["Resources"])
    problems = [f"Ref {name}" for name in intrinsics(template, "Ref") if name not in refable]
    problems += [
        f"GetAtt {'.'.join(target)}"
        for target in intrinsics(template, "Fn::GetAtt")
        if target[0] not in resources
    ]
    return problems


def _dangling_subs(template: Template) -> list[str]:
    refable = _refable_names(template)
    resources = set(template["Resources"])
    return [
        f"Sub ${{{variable}}}"
        for argument in intrinsics(template, "Fn::Sub")
        for variable in sorted(sub_variables(argument))
        if variable not in refable and variable.split(".", 1)[0] not in resources
    ]


def _dangling_conditions(template: Template) -> list[str]:
    conditions = set(template.get("Conditions", {}))
    used = [arguments[0] for arguments in intrinsics(template, "Fn::If")]
    used += list(intrinsics(template.get("Conditions", {}), "Condition"))
    problems = [f"Condition {name}" for name in used if name not in conditions]
    problems += [
        f"{name}.Condition {resource['Condition']}"
        for name, resource in template["Resources"].items()
        if "Condition" in resource and resource["Condition"] not in conditions
    ]
    return problems


def _dangling_depends_on(template: Template) -> list[str]:
    resources = set(template["Resources"])
    problems = []
    for name, resource in template["Resources"].items():
        depends = resource.get("DependsOn", [])
        for target in [depends] if isinstance(depends, str) else depends:
            if target not in resources:
                problems.append(f"{name}.DependsOn {target}")
    return problems


def test_every_reference_resolves(template: Template) -> None:
    assert _unresolved(template) == []


def test_the_check_catches_a_dangling_reference() -> None:
    broken = load_template()
    broken["Resources"]["ExecutorFunction"]["Properties"]["Environment"]["Variables"]["EXTRA"] = {
        "Fn::Sub": "${NoSuchParameter}-${LedgerBucket.Arn}"
    }
    broken["Resources"]["LedgerBucketPolicy"]["Properties"]["Bucket"] = {"Ref": "Nope"}
    broken["Resources"]["AlarmTopic"]["Condition"] = "NoSuchCondition"
    broken["Resources"]["Dashboard"]["DependsOn"] = "Ghost"
    broken["Outputs"]["Extra"] = {"Value": {"Fn::If": ["NotACondition", "a", "b"]}}
    broken["Outputs"]["Attribute"] = {"Value": {"Fn::GetAtt": ["Missing", "Arn"]}}
    assert sorted(_unresolved(broken)) == [
        "AlarmTopic.Condition NoSuchCondition",
        "Condition NotACondition",
        "Dashboard.DependsOn Ghost",
        "GetAtt Missing.Arn",
        "Ref Nope",
        "Sub ${NoSuchParameter}",
    ]


def test_conditions_are_used_and_defined(template: Template) -> None:
    defined = set(template["Conditions"])
    used = {arguments[0] for arguments in intrinsics(template["Resources"], "Fn::If")}
    used |= {arguments[0] for arguments in intrinsics(template["Outputs"], "Fn::If")}
    used |= {r["Condition"] for r in template["Resources"].values() if "Condition" in r}
    assert used == defined


def test_dashboard_body_is_json_once_substituted(template: Template) -> None:
    body = template["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    stand_ins = dict.fromkeys(sub_variables(body), "1")
    widgets = json.loads(render_sub(body, stand_ins))["widgets"]
    assert len(widgets) >= 6
    # What each kind of widget cannot do without: its metrics, alarms or query.
    needs = {"metric": "metrics", "alarm": "alarms", "log": "query"}
    for widget in widgets:
        assert widget["properties"][needs[widget["type"]]], widget["properties"]["title"]


@pytest.mark.parametrize(
    "output",
    [
        "FunctionArn",
        "IdempotencyTableName",
        "LedgerBucketName",
        "DeadLetterQueueUrl",
        "AlpacaSecretArn",
        "DashboardUrl",
    ],
)
def test_outputs_name_what_an_operator_needs(template: Template, output: str) -> None:
    value: Any = template["Outputs"][output]["Value"]
    assert value
