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
from domain_guard_local.stack import LocalStack, deploy_stack, transform_template


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


@pytest.fixture
def table(aws: None) -> str:
    """Create only the state table, with the template's own definition.

    For tests of the store and the pacer, which need nothing else; a whole
    stack takes about a second to deploy into moto.
    """
    properties = transform_template()["Resources"]["StateTable"]["Properties"]
    name = "domain-guard-state"
    boto3.client("dynamodb").create_table(
        TableName=name,
        AttributeDefinitions=properties["AttributeDefinitions"],
        KeySchema=properties["KeySchema"],
        GlobalSecondaryIndexes=properties["GlobalSecondaryIndexes"],
        BillingMode=properties["BillingMode"],
    )
    return name


@pytest.fixture
def table_store(table: str) -> DomainStore:
    return DomainStore(boto3.client("dynamodb"), table)
