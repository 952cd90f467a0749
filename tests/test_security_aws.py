"""Security checks as tests: no full address in logs or in the domain state.

The IAM checks (no wildcard actions, wildcard resources only where DynamoDB
needs them) run on the transformed template in test_template.py, and the
secret scan of the repository in test_repository_secrets.py.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import boto3
import pytest
from aws_support import save_state

from domain_guard.handlers.dispatch import SweepMessage
from domain_guard.store import DomainStore
from domain_guard_local.rdap_server import RdapServer, domain_body
from domain_guard_local.stack import LocalStack, deploy_stack

pytest_plugins = ["aws_fixtures"]

ADDRESSES = [
    "alice.secret@logs.example",
    "bob+tag@mail.logs.example",
    "not-an-address@",
    "carol@[192.0.2.1]",
]


def test_logs_never_hold_full_address(
    rdap_server: RdapServer,
    aws: None,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    rdap_server.add_domain(
        "logs.example", domain_body("logs.example", expires_in_days=5)
    )
    stack = deploy_stack(
        local_environment={
            "DOMAIN_GUARD_RDAP_BASE_URL": rdap_server.url,
            "DOMAIN_GUARD_NO_DNS": "true",
            "POWERTOOLS_LOG_LEVEL": "DEBUG",
        }
    )
    # Domain Guard's own loggers at DEBUG. botocore's DEBUG log prints request
    # parameters, addresses included, and is off unless an operator enables it.
    caplog.set_level(logging.DEBUG, logger="domain_guard")
    caplog.set_level(logging.DEBUG, logger="domain-guard")
    for address in ADDRESSES:
        stack.invoke("EnrollFunction", {"email": address, "subscribe": True})
        stack.invoke("CheckFunction", {"email": address})
        stack.invoke(
            "AuthorizerFunction",
            {
                "version": "2.0",
                "type": "REQUEST",
                "headers": {"x-reset-email": address},
            },
        )
    stack.invoke("EnrollFunction", {"email": ADDRESSES[0], "action": "unsubscribe"})
    stack.make_all_due()
    stack.sweep()
    output = capfd.readouterr()
    logged = output.out + output.err + caplog.text
    assert "logs.example" in logged  # the logs were captured at all
    for address in ADDRESSES:
        assert address not in logged


def test_logs_worker_failure_no_address(
    stack: LocalStack, capfd: pytest.CaptureFixture[str]
) -> None:
    body = SweepMessage("logs.example").to_json().replace("logs.example", ADDRESSES[0])
    boto3.client("sqs").send_message(QueueUrl=stack.queue_url, MessageBody=body)
    stack.drain_queue()
    output = capfd.readouterr()
    assert ADDRESSES[0] not in output.out + output.err


def test_state_item_never_holds_address(rdap_server: RdapServer, aws: None) -> None:
    rdap_server.add_domain("logs.example", domain_body("logs.example"))
    stack = deploy_stack(
        local_environment={
            "DOMAIN_GUARD_RDAP_BASE_URL": rdap_server.url,
            "DOMAIN_GUARD_NO_DNS": "true",
        }
    )
    stack.invoke("EnrollFunction", {"email": ADDRESSES[0], "subscribe": True})
    items = boto3.client("dynamodb").scan(TableName=stack.table_name)["Items"]
    holding = [item["sk"]["S"] for item in items if ADDRESSES[0] in repr(item)]
    assert len(holding) == 1
    assert holding[0].startswith("CONTACT#")


def test_saved_state_has_no_address(stack: LocalStack) -> None:
    store = DomainStore(boto3.client("dynamodb"), stack.table_name)
    facts = save_state(store, "logs.example", at=datetime.now(UTC))
    assert "@" not in repr(facts)
