"""The enroll handler on the stack deployed from template.yaml into moto."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import boto3
import pytest
from aws_support import NOW, FakeLookup, found, stack_settings

from domain_guard.config import Settings
from domain_guard.handlers.enroll import enroll
from domain_guard.store import DomainStore
from domain_guard_local.rdap_server import RdapServer, domain_body
from domain_guard_local.stack import LocalStack, deploy_stack

pytest_plugins = ["aws_fixtures"]

REGISTERED = NOW - timedelta(days=700)


@pytest.fixture
def settings(stack: LocalStack) -> Settings:
    return stack_settings(stack, "EnrollFunction")


def run(
    event: Any,
    store: DomainStore,
    settings: Settings,
    lookup: FakeLookup | None = None,
    *,
    now: Any = NOW,
) -> dict[str, Any]:
    return enroll(
        event,
        store=store,
        lookup=lookup or FakeLookup({"example.com": found("example.com")}),  # type: ignore[arg-type]
        sns=boto3.client("sns"),
        settings=settings,
        now=now,
    )


def owner_subscriptions(stack: LocalStack) -> list[dict[str, Any]]:
    sns = boto3.client("sns")
    listed = sns.list_subscriptions_by_topic(TopicArn=stack.owner_topic_arn)
    return [s for s in listed["Subscriptions"] if s["Protocol"] == "email"]


def test_enroll_records_baseline(store: DomainStore, settings: Settings) -> None:
    response = run({"email": "alice@example.com"}, store, settings)
    assert response["domain"] == "example.com"
    assert response["baseline_registered_at"] == "2023-04-01T12:00:00Z"
    assert response["baseline_registrar"] == "Example Registrar"
    stored = store.get_facts("example.com")
    assert stored is not None
    assert stored.facts.enrolled_at == NOW
    assert stored.facts.baseline_registered_at == REGISTERED


def test_enroll_fresh_lookup_each_time(store: DomainStore, settings: Settings) -> None:
    lookup = FakeLookup({"example.com": found("example.com")})
    run({"email": "alice@example.com"}, store, settings, lookup)
    run({"email": "bob@example.com"}, store, settings, lookup)
    assert lookup.rdap_queries == ["example.com", "example.com"]


def test_enroll_keeps_first_baseline(store: DomainStore, settings: Settings) -> None:
    run({"email": "alice@example.com"}, store, settings)
    new_owner = FakeLookup(
        {
            "example.com": found(
                "example.com", registered_at=NOW, registrar="Other Registrar"
            )
        }
    )
    later = NOW + timedelta(days=30)
    response = run(
        {"email": "mallory@example.com"}, store, settings, new_owner, now=later
    )
    assert response["baseline_registrar"] == "Example Registrar"
    assert response["verdict"] == "reregistered"
    assert response["allow"] is False


def test_enroll_subscribes_with_filter(
    stack: LocalStack, store: DomainStore, settings: Settings
) -> None:
    response = run({"email": "alice@example.com", "subscribe": True}, store, settings)
    assert response["subscribed"] is True
    (subscription,) = owner_subscriptions(stack)
    assert subscription["Endpoint"] == "alice@example.com"
    attributes = boto3.client("sns").get_subscription_attributes(
        SubscriptionArn=subscription["SubscriptionArn"]
    )["Attributes"]
    assert json.loads(attributes["FilterPolicy"]) == {"domain": ["example.com"]}


def test_enroll_contact_kept_apart(store: DomainStore, settings: Settings) -> None:
    run({"email": "alice@example.com", "subscribe": True}, store, settings)
    (contact,) = store.list_contacts("example.com")
    assert contact.email == "alice@example.com"
    state = boto3.client("dynamodb").get_item(
        TableName=store.table_name,
        Key={"pk": {"S": "DOMAIN#example.com"}, "sk": {"S": "STATE"}},
    )["Item"]
    assert "alice" not in json.dumps(state)


def test_enroll_without_subscribe_stores_no_contact(
    store: DomainStore, settings: Settings
) -> None:
    run({"email": "alice@example.com"}, store, settings)
    assert store.list_contacts("example.com") == []


def test_enroll_unsubscribe_removes_contact(
    stack: LocalStack, store: DomainStore, settings: Settings
) -> None:
    run({"email": "alice@example.com", "subscribe": True}, store, settings)
    response = run(
        {"email": "alice@example.com", "action": "unsubscribe"}, store, settings
    )
    assert response == {"domain": "example.com", "contact_removed": True}
    assert store.list_contacts("example.com") == []
    assert owner_subscriptions(stack) == []


@pytest.mark.parametrize(
    "event",
    [
        None,
        {},
        {"email": 3},
        {"email": "no-at-sign"},
        {"domain": "example.com", "subscribe": True},
        {"email": "alice@example.com", "subscribe": "yes"},
        {"email": "alice@example.com", "action": "delete"},
    ],
)
def test_enroll_invalid_request(
    store: DomainStore, settings: Settings, event: object
) -> None:
    response = run(event, store, settings)
    assert response["error"] == "invalid_request"
    assert response["message"]


def test_enroll_through_stack_real_rdap(rdap_server: RdapServer, aws: None) -> None:
    rdap_server.add_domain(
        "real.example",
        domain_body("real.example", registrar="Real Registrar", registered_days_ago=50),
    )
    stack = deploy_stack(
        local_environment={
            "DOMAIN_GUARD_RDAP_BASE_URL": rdap_server.url,
            "DOMAIN_GUARD_NO_DNS": "true",
        }
    )
    response = stack.invoke("EnrollFunction", {"email": "ops@real.example"})
    assert response["baseline_registrar"] == "Real Registrar"
    assert response["verdict"] == "active"
