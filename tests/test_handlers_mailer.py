"""The optional SES mailer, deployed when OwnerMailerSender is set."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from aws_support import NOW
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from domain_guard.handlers.mailer import send_batch
from domain_guard.store import DomainStore
from domain_guard_local.stack import LocalStack, deploy_stack

pytest_plugins = ["aws_fixtures"]

SENDER = "warnings@guard.example"


@pytest.fixture
def mailer_stack(aws: None) -> LocalStack:
    boto3.client("ses").verify_email_identity(EmailAddress=SENDER)
    return deploy_stack(parameters={"OwnerMailerSender": SENDER})


def record(domain: str | None, message_id: str = "m1") -> dict[str, Any]:
    attributes = {}
    if domain is not None:
        attributes["domain"] = {"stringValue": domain, "dataType": "String"}
    attributes["kind"] = {"stringValue": "expiring", "dataType": "String"}
    return {
        "messageId": message_id,
        "body": "example.com expires soon",
        "messageAttributes": attributes,
    }


def sent_to() -> list[str]:
    messages = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
    return sorted(
        address for m in messages for address in m.destinations["ToAddresses"]
    )


def test_mailer_deployed_with_sender(mailer_stack: LocalStack) -> None:
    assert "MailerFunction" in mailer_stack.functions


def test_mailer_mails_each_contact(mailer_stack: LocalStack) -> None:
    store = DomainStore(boto3.client("dynamodb"), mailer_stack.table_name)
    store.put_contact("example.com", "alice@example.com", now=NOW)
    store.put_contact("example.com", "bob@example.com", now=NOW)
    response = send_batch(
        {"Records": [record("example.com")]},
        store=store,
        ses=boto3.client("ses"),
        sender=SENDER,
    )
    assert response == {"batchItemFailures": []}
    assert sent_to() == ["alice@example.com", "bob@example.com"]


def test_mailer_record_without_domain_fails(mailer_stack: LocalStack) -> None:
    store = DomainStore(boto3.client("dynamodb"), mailer_stack.table_name)
    response = send_batch(
        {"Records": [record(None, "m9")]},
        store=store,
        ses=boto3.client("ses"),
        sender=SENDER,
    )
    assert response == {"batchItemFailures": [{"itemIdentifier": "m9"}]}


def test_mailer_unverified_sender_fails_record(mailer_stack: LocalStack) -> None:
    store = DomainStore(boto3.client("dynamodb"), mailer_stack.table_name)
    store.put_contact("example.com", "alice@example.com", now=NOW)
    response = send_batch(
        {"Records": [record("example.com")]},
        store=store,
        ses=boto3.client("ses"),
        sender="unverified@else.example",
    )
    assert response == {"batchItemFailures": [{"itemIdentifier": "m1"}]}


def test_mailer_handler_through_stack(mailer_stack: LocalStack) -> None:
    store = DomainStore(boto3.client("dynamodb"), mailer_stack.table_name)
    store.put_contact("example.com", "alice@example.com", now=NOW)
    response = mailer_stack.invoke(
        "MailerFunction", {"Records": [record("example.com")]}
    )
    assert response == {"batchItemFailures": []}
    assert sent_to() == ["alice@example.com"]
