"""Lint-level checks on template.yaml after the SAM transform."""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Iterator
from typing import Any

import pytest

from domain_guard_local.stack import HANDLER_MODULES, transform_template

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

FUNCTIONS = (
    "DispatchFunction",
    "WorkerFunction",
    "CheckFunction",
    "AuthorizerFunction",
    "EnrollFunction",
)
WITH_OPTIONS = {
    "OperatorAlertEmail": "ops@example.com",
    "OwnerMailerSender": "warnings@example.com",
}
# AWS-managed policies a function role may carry: CloudWatch Logs only.
ALLOWED_MANAGED = {"arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return transform_template()


@pytest.fixture(scope="module")
def full_template() -> dict[str, Any]:
    return transform_template(parameters=WITH_OPTIONS)


def resources_of(template: dict[str, Any], kind: str) -> dict[str, Any]:
    return {
        name: resource
        for name, resource in template["Resources"].items()
        if resource["Type"] == kind
    }


def policy_statements(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, role in resources_of(template, "AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            statements = policy["PolicyDocument"]["Statement"]
            for statement in (
                statements if isinstance(statements, list) else [statements]
            ):
                yield name, statement


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def resource_text(value: Any) -> str:
    """Flatten a resource expression to the text a wildcard could hide in."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        return sub[0] if isinstance(sub, list) else sub
    return ""  # Ref and Fn::GetAtt name one resource


@pytest.mark.parametrize("name", FUNCTIONS)
def test_template_function_runtime(template: dict[str, Any], name: str) -> None:
    properties = template["Resources"][name]["Properties"]
    assert properties["Runtime"] == "python3.13"
    assert properties["Architectures"] == ["arm64"]


@pytest.mark.parametrize("name", FUNCTIONS)
def test_template_handler_importable(template: dict[str, Any], name: str) -> None:
    handler = template["Resources"][name]["Properties"]["Handler"]
    module_name, _, attribute = handler.rpartition(".")
    assert module_name == HANDLER_MODULES[name]
    assert callable(getattr(importlib.import_module(module_name), attribute))


def test_template_queue_visibility_six_times_worker(template: dict[str, Any]) -> None:
    queue = template["Resources"]["SweepQueue"]["Properties"]
    worker = template["Resources"]["WorkerFunction"]["Properties"]
    assert queue["VisibilityTimeout"] >= 6 * worker["Timeout"]


def test_template_queue_redrive_to_dead_letters(template: dict[str, Any]) -> None:
    redrive = template["Resources"]["SweepQueue"]["Properties"]["RedrivePolicy"]
    assert redrive["deadLetterTargetArn"] == {
        "Fn::GetAtt": ["SweepDeadLetterQueue", "Arn"]
    }


def test_template_worker_mapping(template: dict[str, Any]) -> None:
    mappings = resources_of(template, "AWS::Lambda::EventSourceMapping")
    (mapping,) = [
        m["Properties"]
        for m in mappings.values()
        if m["Properties"]["FunctionName"] == {"Ref": "WorkerFunction"}
    ]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["ScalingConfig"]["MaximumConcurrency"] == {
        "Ref": "WorkerMaxConcurrency"
    }
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": ["SweepQueue", "Arn"]}


def test_template_schedule_uses_parameter(template: dict[str, Any]) -> None:
    (schedule,) = resources_of(template, "AWS::Scheduler::Schedule").values()
    properties = schedule["Properties"]
    assert properties["ScheduleExpression"] == {"Ref": "ScheduleExpression"}
    assert properties["Target"]["Arn"] == {"Fn::GetAtt": ["DispatchFunction", "Arn"]}


def test_template_table_settings(template: dict[str, Any]) -> None:
    table = template["Resources"]["StateTable"]["Properties"]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"]
    (index,) = table["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "due"
    assert [key["AttributeName"] for key in index["KeySchema"]] == [
        "due_shard",
        "next_check_at",
    ]


@pytest.mark.parametrize("topic", ["OwnerWarnings", "OperatorAlerts"])
def test_template_topics_present(template: dict[str, Any], topic: str) -> None:
    assert template["Resources"][topic]["Type"] == "AWS::SNS::Topic"


@pytest.mark.parametrize(
    "parameter",
    [
        "ScheduleExpression",
        "WarningDays",
        "OperatorAlertEmail",
        "UnknownPolicy",
        "CheckFailurePolicy",
        "AuthorizerIdentitySource",
        "AuthorizerResultTtlSeconds",
        "WorkerMaxConcurrency",
        "OwnerMailerSender",
    ],
)
def test_template_parameter_present(template: dict[str, Any], parameter: str) -> None:
    assert parameter in template["Parameters"]


def test_template_warning_days_default(template: dict[str, Any]) -> None:
    assert template["Parameters"]["WarningDays"]["Default"] == "30,14,7,1"


def test_template_policy_defaults(template: dict[str, Any]) -> None:
    assert template["Parameters"]["UnknownPolicy"]["Default"] == "allow"
    assert template["Parameters"]["CheckFailurePolicy"]["Default"] == "fail-closed"


@pytest.mark.parametrize(
    "output",
    [
        *(f"{name}Arn" for name in FUNCTIONS),
        "StateTableName",
        "OwnerWarningsTopicArn",
        "OperatorAlertsTopicArn",
        "SweepQueueUrl",
    ],
)
def test_template_output_present(template: dict[str, Any], output: str) -> None:
    assert output in template["Outputs"]


def test_template_operator_email_conditional(template: dict[str, Any]) -> None:
    subscription = template["Resources"]["OperatorAlertEmailSubscription"]
    assert subscription["Condition"] == "HasOperatorAlertEmail"
    assert subscription["Properties"]["Protocol"] == "email"


@pytest.mark.parametrize(
    "name", ["MailerFunction", "MailerQueue", "MailerSubscription", "MailerMapping"]
)
def test_template_mailer_optional(template: dict[str, Any], name: str) -> None:
    assert template["Resources"][name]["Condition"] == "UseSesMailer"


@pytest.mark.parametrize("variant", ["template", "full_template"])
def test_template_no_wildcard_actions(
    request: pytest.FixtureRequest, variant: str
) -> None:
    template = request.getfixturevalue(variant)
    wildcards = [
        (role, action)
        for role, statement in policy_statements(template)
        for action in as_list(statement["Action"])
        if "*" in action
    ]
    assert wildcards == []


@pytest.mark.parametrize("variant", ["template", "full_template"])
def test_template_wildcard_resources_only_indexes(
    request: pytest.FixtureRequest, variant: str
) -> None:
    # DynamoDB names each index of a table by ARN; the SAM policy templates
    # grant `table/NAME/index/*` so queries of the table's own indexes work.
    template = request.getfixturevalue(variant)
    wildcards = [
        (role, text)
        for role, statement in policy_statements(template)
        for resource in as_list(statement["Resource"])
        if "*" in (text := resource_text(resource))
        and not text.endswith(":table/${tableName}/index/*")
    ]
    assert wildcards == []


@pytest.mark.parametrize("variant", ["template", "full_template"])
def test_template_managed_policies_logs_only(
    request: pytest.FixtureRequest, variant: str
) -> None:
    template = request.getfixturevalue(variant)
    managed = {
        arn
        for role in resources_of(template, "AWS::IAM::Role").values()
        for arn in role["Properties"].get("ManagedPolicyArns", [])
    }
    assert managed <= ALLOWED_MANAGED


def test_template_check_cannot_delete(template: dict[str, Any]) -> None:
    actions = {
        action
        for role, statement in policy_statements(template)
        if role == "CheckFunctionRole"
        for action in as_list(statement["Action"])
    }
    assert "dynamodb:DeleteItem" not in actions
    assert not any(action.startswith(("sns:", "sqs:")) for action in actions)


@pytest.mark.parametrize("role", ["CheckFunctionRole", "AuthorizerFunctionRole"])
def test_template_request_roles_cannot_list(
    template: dict[str, Any], role: str
) -> None:
    # Owner contacts share the table; only Query or Scan could enumerate them.
    actions = {
        action
        for name, statement in policy_statements(template)
        if name == role
        for action in as_list(statement["Action"])
    }
    assert actions == {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"}


def test_template_mailer_sends_only(full_template: dict[str, Any]) -> None:
    actions = {
        action
        for name, statement in policy_statements(full_template)
        if name == "MailerFunctionRole"
        for action in as_list(statement["Action"])
        if action.startswith("ses:")
    }
    assert actions == {"ses:SendEmail"}


@pytest.mark.parametrize(
    ("parameter", "value", "accepted"),
    [
        ("WarningDays", "30,14,7,1", True),
        ("WarningDays", "365,1", True),
        ("WarningDays", "0", False),
        ("WarningDays", "30,366", False),
        ("RdapQueriesPerSecond", "1", True),
        ("RdapQueriesPerSecond", "0.25", True),
        ("RdapQueriesPerSecond", "0", False),
        ("RdapQueriesPerSecond", "0.0", False),
    ],
)
def test_template_parameter_pattern_matches_config(
    template: dict[str, Any], parameter: str, value: str, accepted: bool
) -> None:
    # A value the pattern lets through must not stop the functions at start.
    pattern = template["Parameters"][parameter]["AllowedPattern"]
    assert (re.fullmatch(pattern, value) is not None) is accepted
