"""The local stack: template.yaml deployed into moto, with what moto skips."""

from __future__ import annotations

import json
from datetime import timedelta

import boto3
from aws_support import NOW, save_state

from domain_guard.handlers.dispatch import SweepMessage
from domain_guard.schedule import due_shard
from domain_guard.store import DomainStore
from domain_guard_local.stack import LocalStack, deploy_stack

pytest_plugins = ["aws_fixtures"]


def test_stack_physical_names(stack: LocalStack) -> None:
    assert boto3.client("dynamodb").describe_table(TableName=stack.table_name)
    assert stack.queue_url.startswith("https://")
    assert stack.owner_topic_arn.startswith("arn:aws:sns:")
    assert set(stack.functions) == {
        "DispatchFunction",
        "WorkerFunction",
        "CheckFunction",
        "AuthorizerFunction",
        "EnrollFunction",
    }


def test_stack_environment_from_template(stack: LocalStack) -> None:
    environment = stack.environment("WorkerFunction")
    assert environment["DOMAIN_GUARD_TABLE"] == stack.table_name
    assert environment["DOMAIN_GUARD_QUEUE_URL"] == stack.queue_url
    assert environment["DOMAIN_GUARD_OWNER_TOPIC_ARN"] == stack.owner_topic_arn


def test_stack_local_environment_added(aws: None) -> None:
    stack = deploy_stack(local_environment={"DOMAIN_GUARD_NO_DNS": "true"})
    assert stack.environment("CheckFunction")["DOMAIN_GUARD_NO_DNS"] == "true"


def test_stack_invoke_restores_environment(stack: LocalStack) -> None:
    import os

    before = os.environ.get("DOMAIN_GUARD_TABLE")
    stack.invoke("CheckFunction", {"domain": "com"})
    assert os.environ.get("DOMAIN_GUARD_TABLE") == before


def test_stack_operator_email_subscription(aws: None) -> None:
    stack = deploy_stack(parameters={"OperatorAlertEmail": "ops@example.com"})
    subscriptions = boto3.client("sns").list_subscriptions_by_topic(
        TopicArn=stack.operator_topic_arn
    )["Subscriptions"]
    assert ("email", "ops@example.com") in {
        (s["Protocol"], s["Endpoint"]) for s in subscriptions
    }


def test_stack_alarms_created(stack: LocalStack) -> None:
    alarms = boto3.client("cloudwatch").describe_alarms()["MetricAlarms"]
    assert {a["MetricName"] for a in alarms} == {
        "ApproximateNumberOfMessagesVisible",
        "Errors",
    }
    assert all(a["AlarmActions"] == [stack.operator_topic_arn] for a in alarms)


def test_stack_redrive_policy(stack: LocalStack) -> None:
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=stack.queue_url, AttributeNames=["All"]
    )["Attributes"]
    assert json.loads(attributes["RedrivePolicy"])["maxReceiveCount"] == 10
    assert int(attributes["VisibilityTimeout"]) == 360


def test_stack_drain_feeds_worker(stack: LocalStack, store: DomainStore) -> None:
    save_state(store, "example.com", at=NOW)
    stack.local_environment.update(
        {
            "DOMAIN_GUARD_RDAP_BASE_URL": "http://127.0.0.1:9",
            "DOMAIN_GUARD_NO_DNS": "true",
        }
    )
    sqs = boto3.client("sqs")
    for _ in range(12):
        sqs.send_message(
            QueueUrl=stack.queue_url, MessageBody=SweepMessage("example.com").to_json()
        )
    report = stack.drain_queue()
    assert report.checked == 12
    assert report.batches == 2
    assert sqs.receive_message(QueueUrl=stack.queue_url).get("Messages", []) == []


def test_stack_drain_leaves_failures(stack: LocalStack) -> None:
    boto3.client("sqs").send_message(QueueUrl=stack.queue_url, MessageBody="junk")
    report = stack.drain_queue()
    assert report.failed == 1
    assert report.checked == 0


def test_stack_make_all_due(stack: LocalStack, store: DomainStore) -> None:
    save_state(store, "example.com", at=NOW)
    assert stack.make_all_due() == 1
    shard = due_shard("example.com", 16)
    (page,) = store.due_pages(shard, NOW - timedelta(days=365))
    assert [entry.domain for entry in page] == ["example.com"]
