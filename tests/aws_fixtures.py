"""pytest fixtures for the AWS-side tests: moto, the local stack, a server.

Load with ``pytest_plugins = ["aws_fixtures"]``. The AWS environment variables
(region, fake credentials, endpoint mode) are set by conftest.py before any
test imports boto3.
"""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from domain_guard.handlers import reset_clients
from domain_guard.store import DomainStore
from domain_guard_local.rdap_server import RdapServer
from domain_guard_local.stack import LocalStack, deploy_stack


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        reset_clients()
        yield
    reset_clients()


@pytest.fixture
def stack(aws: None) -> LocalStack:
    return deploy_stack()


@pytest.fixture
def store(stack: LocalStack) -> DomainStore:
    return DomainStore(boto3.client("dynamodb"), stack.table_name)


@pytest.fixture
def rdap_server() -> Iterator[RdapServer]:
    with RdapServer() as server:
        yield server
