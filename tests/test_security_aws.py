"""Security checks as tests: no full address in logs, no secret in the repository.

The IAM checks (no wildcard actions, wildcard resources only where DynamoDB
needs them) run on the transformed template in test_template.py.
"""

from __future__ import annotations

import logging
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
from aws_support import save_state

from domain_guard.handlers.dispatch import SweepMessage
from domain_guard.store import DomainStore
from domain_guard_local.rdap_server import RdapServer, domain_body
from domain_guard_local.stack import LocalStack, deploy_stack

pytest_plugins = ["aws_fixtures"]

REPO_ROOT = Path(__file__).resolve().parents[1]
ADDRESSES = [
    "alice.secret@logs.example",
    "bob+tag@mail.logs.example",
    "not-an-address@",
    "carol@[192.0.2.1]",
]
SECRET_PATTERNS = {
    "AWS access key id": re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
    "private key": re.compile(r"-----BEGIN (RSA |EC |OPENSSH |)PRIVATE KEY-----"),
    "AWS secret key assignment": re.compile(
        r"aws_secret_access_key\s*[=:]\s*['\"]?(?!testing\b)[A-Za-z0-9/+]{40}"
    ),
    "Slack or GitHub token": re.compile(
        r"\b(xox[abpr]-[0-9A-Za-z-]{10,}|ghp_[0-9A-Za-z]{36})\b"
    ),
}


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


def repository_files() -> list[Path]:
    listed = subprocess.run(
        [  # noqa: S607 - git from PATH, as a developer runs it
            "git",
            "ls-files",
            "--cached",
            "--others",
            "--exclude-standard",
            "-z",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [REPO_ROOT / name for name in listed.split("\0") if name]


def test_repository_holds_no_secret() -> None:
    files = repository_files()
    assert files, "git listed no files"
    findings = []
    for path in files:
        if not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for name, pattern in SECRET_PATTERNS.items():
            if pattern.search(text):
                findings.append(f"{path.relative_to(REPO_ROOT)}: {name}")
    assert findings == []
