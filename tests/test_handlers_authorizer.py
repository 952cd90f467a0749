"""The API Gateway authorizer: same decision as check, API Gateway shapes."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aws_support import NOW, FakeLookup, save_state, stack_settings

from domain_guard.config import Settings
from domain_guard.handlers.authorizer import authorize
from domain_guard.handlers.check import check
from domain_guard.store import DomainStore
from domain_guard_local.stack import LocalStack

pytest_plugins = ["aws_fixtures"]

METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/POST/reset"


@pytest.fixture
def settings(stack: LocalStack) -> Settings:
    return stack_settings(stack, "AuthorizerFunction")


def rest_event(address: str | None = None, *, query: bool = False) -> dict[str, Any]:
    event: dict[str, Any] = {"type": "REQUEST", "methodArn": METHOD_ARN}
    if address is not None and query:
        event["queryStringParameters"] = {"email": address}
    elif address is not None:
        event["headers"] = {"X-Reset-Email": address}
    return event


def http_event(address: str | None) -> dict[str, Any]:
    headers = {"x-reset-email": address} if address is not None else {}
    return {
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": METHOD_ARN,
        "headers": headers,
    }


def run(event: Any, store: DomainStore, settings: Settings) -> dict[str, Any]:
    lookup = FakeLookup()
    return authorize(
        event,
        store=store,
        settings=settings,
        now=NOW,
        lookup_factory=lambda _s, _t: lookup,  # type: ignore[arg-type,return-value]
    )


def effect(response: dict[str, Any]) -> str:
    return str(response["policyDocument"]["Statement"][0]["Effect"])


def test_authorizer_rest_allow(store: DomainStore, settings: Settings) -> None:
    save_state(store, "example.com")
    uncached = dataclasses.replace(settings, authorizer_ttl_seconds=0)
    response = run(rest_event("alice@example.com"), store, uncached)
    assert effect(response) == "Allow"
    assert response["policyDocument"]["Statement"][0]["Resource"] == METHOD_ARN
    assert response["principalId"] == "example.com"
    assert response["context"]["verdict"] == "active"


def test_authorizer_rest_deny(store: DomainStore, settings: Settings) -> None:
    save_state(store, "example.com", statuses=("redemption period",))
    response = run(rest_event("alice@example.com"), store, settings)
    assert effect(response) == "Deny"
    assert response["context"]["verdict"] == "redemption"


def test_authorizer_two_addresses_denied(
    store: DomainStore, settings: Settings
) -> None:
    save_state(store, "example.com")
    event = rest_event("alice@example.com")
    event["queryStringParameters"] = {"email": "victim@lapsed.example"}
    response = run(event, store, settings)
    assert effect(response) == "Deny"
    assert response["context"]["verdict"] == "invalid_request"


def test_authorizer_same_address_twice_allowed(
    store: DomainStore, settings: Settings
) -> None:
    save_state(store, "example.com")
    event = rest_event("alice@example.com")
    event["queryStringParameters"] = {"email": "Alice@Example.com"}
    assert effect(run(event, store, settings)) == "Allow"


def test_authorizer_query_parameter(store: DomainStore, settings: Settings) -> None:
    save_state(store, "example.com")
    response = run(rest_event("alice@example.com", query=True), store, settings)
    assert effect(response) == "Allow"


def test_authorizer_header_case_insensitive(
    store: DomainStore, settings: Settings
) -> None:
    save_state(store, "example.com")
    event = rest_event()
    event["headers"] = {"x-RESET-email": "alice@example.com"}
    assert effect(run(event, store, settings)) == "Allow"


def test_authorizer_cached_policy_covers_stage(
    store: DomainStore, settings: Settings
) -> None:
    save_state(store, "example.com")
    cached = dataclasses.replace(settings, authorizer_ttl_seconds=300)
    response = run(rest_event("alice@example.com"), store, cached)
    resource = response["policyDocument"]["Statement"][0]["Resource"]
    assert resource == "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/*"


@pytest.mark.parametrize("address", [None, "", "not an address", "a@co.uk"])
def test_authorizer_bad_address_denied(
    store: DomainStore, settings: Settings, address: str | None
) -> None:
    response = run(rest_event(address), store, settings)
    assert effect(response) == "Deny"
    assert response["context"]["verdict"] == "invalid_request"


def test_authorizer_http_simple_response(
    store: DomainStore, settings: Settings
) -> None:
    save_state(store, "example.com")
    response = run(http_event("alice@example.com"), store, settings)
    assert response["isAuthorized"] is True
    assert response["context"]["domain"] == "example.com"


def test_authorizer_http_deny(store: DomainStore, settings: Settings) -> None:
    save_state(store, "example.com", statuses=("client hold",))
    assert (
        run(http_event("alice@example.com"), store, settings)["isAuthorized"] is False
    )


def test_authorizer_http_missing_address(
    store: DomainStore, settings: Settings
) -> None:
    assert run(http_event(None), store, settings)["isAuthorized"] is False


def test_authorizer_event_without_method_arn(
    store: DomainStore, settings: Settings
) -> None:
    save_state(store, "example.com")
    response = run({"headers": {"X-Reset-Email": "alice@example.com"}}, store, settings)
    assert effect(response) == "Deny"


@pytest.mark.parametrize(
    ("statuses", "expires_in"),
    [
        (("active",), timedelta(days=300)),
        (("active",), timedelta(days=9)),
        (("active",), timedelta(days=-1)),
        (("client hold",), timedelta(days=300)),
        (("redemption period",), timedelta(days=-35)),
        (("pending delete",), timedelta(days=-70)),
    ],
)
def test_authorizer_agrees_with_check(
    store: DomainStore,
    settings: Settings,
    statuses: tuple[str, ...],
    expires_in: timedelta,
) -> None:
    save_state(store, "example.com", statuses=statuses, expires_in=expires_in)
    decision = check(
        {"email": "alice@example.com"}, store=store, settings=settings, now=NOW
    )
    response = run(http_event("alice@example.com"), store, settings)
    assert response["isAuthorized"] is decision["allow"]
    assert response["context"]["verdict"] == decision["verdict"]


def test_authorizer_handler_through_stack(
    stack: LocalStack, store: DomainStore
) -> None:
    save_state(store, "example.com", statuses=("client hold",), at=datetime.now(UTC))
    response = stack.invoke("AuthorizerFunction", http_event("alice@example.com"))
    assert response["isAuthorized"] is False
    assert response["context"]["verdict"] == "hold"
