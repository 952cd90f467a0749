"""The check handler on the stack deployed from template.yaml into moto."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from aws_support import (
    NOW,
    SERVER,
    FakeLookup,
    found,
    save_state,
    stack_settings,
)

from domain_guard.config import Settings
from domain_guard.errors import StoreError
from domain_guard.handlers.check import check
from domain_guard.pacing import ServerPacer
from domain_guard.store import DomainStore
from domain_guard_local.rdap_server import RdapServer, domain_body
from domain_guard_local.stack import LocalStack

pytest_plugins = ["aws_fixtures"]

CONTRACT_KEYS = {
    "allow",
    "verdict",
    "domain",
    "reasons",
    "expires_at",
    "registered_at",
    "checked_at",
    "stale",
}


@pytest.fixture
def settings(stack: LocalStack) -> Settings:
    return stack_settings(stack, "CheckFunction")


def run(
    event: Any, store: DomainStore, settings: Settings, lookup: FakeLookup | None = None
) -> dict[str, Any]:
    fake = lookup or FakeLookup()
    return check(
        event,
        store=store,
        settings=settings,
        now=NOW,
        lookup_factory=lambda _settings, _store: fake,  # type: ignore[arg-type,return-value]
    )


def test_check_active_allows(store: DomainStore, settings: Settings) -> None:
    save_state(store, "example.com")
    response = run({"email": "alice@example.com"}, store, settings)
    assert set(response) == CONTRACT_KEYS
    assert response["allow"] is True
    assert response["verdict"] == "active"
    assert response["domain"] == "example.com"
    assert response["stale"] is False


def test_check_contract_dates(store: DomainStore, settings: Settings) -> None:
    save_state(store, "example.com")
    response = run({"domain": "example.com"}, store, settings)
    assert response["expires_at"] == "2025-12-26T12:00:00Z"
    assert response["registered_at"] == "2023-04-01T12:00:00Z"
    assert response["checked_at"] == "2025-03-01T12:00:00Z"


def test_check_subdomain_address(store: DomainStore, settings: Settings) -> None:
    save_state(store, "example.co.uk")
    response = run({"email": "bob@mail.example.co.uk"}, store, settings)
    assert response["domain"] == "example.co.uk"
    assert response["verdict"] == "active"


@pytest.mark.parametrize(
    ("statuses", "expires_in", "verdict"),
    [
        (("redemption period",), timedelta(days=-40), "redemption"),
        (("client hold",), timedelta(days=100), "hold"),
        (("pending delete",), timedelta(days=-70), "pending_delete"),
        (("active",), timedelta(days=-2), "grace"),
    ],
)
def test_check_bad_state_denies(
    store: DomainStore,
    settings: Settings,
    statuses: tuple[str, ...],
    expires_in: timedelta,
    verdict: str,
) -> None:
    save_state(store, "example.com", statuses=statuses, expires_in=expires_in)
    response = run({"email": "alice@example.com"}, store, settings)
    assert response["verdict"] == verdict
    assert response["allow"] is False


def test_check_expiring_allows(store: DomainStore, settings: Settings) -> None:
    save_state(store, "example.com", expires_in=timedelta(days=10))
    response = run({"email": "alice@example.com"}, store, settings)
    assert response["verdict"] == "expiring"
    assert response["allow"] is True


def test_check_reregistered_after_verification(
    store: DomainStore, settings: Settings
) -> None:
    save_state(store, "example.com", registered_at=NOW - timedelta(days=5))
    event = {"email": "alice@example.com", "verified_at": "2024-05-01T10:00:00Z"}
    response = run(event, store, settings)
    assert response["verdict"] == "reregistered"
    assert response["allow"] is False


def test_check_unknown_policy_deny(store: DomainStore, settings: Settings) -> None:
    deny = dataclasses.replace(settings, allow_unknown=False)
    response = run({"email": "a@unseen.example"}, store, deny, FakeLookup())
    assert response["verdict"] == "unknown"
    assert response["allow"] is False


@pytest.mark.parametrize(
    "event",
    [
        "alice@example.com",
        ["alice@example.com"],
        None,
        {},
        {"email": 5},
        {"email": None, "domain": None},
        {"email": "not an address"},
        {"email": "alice@"},
        {"email": "alice@[192.0.2.1]"},
        {"email": "alice@co.uk"},
        {"domain": "com"},
        {"email": "a" * 600 + "@example.com"},
        {"email": "alice@example.com", "verified_at": "yesterday"},
        {"email": "alice@example.com", "verified_at": 1714557600},
    ],
)
def test_check_invalid_request(
    store: DomainStore, settings: Settings, event: object
) -> None:
    response = run(event, store, settings)
    assert response["error"] == "invalid_request"
    assert isinstance(response["message"], str)
    assert response["message"]


def test_check_unseen_domain_looked_up(store: DomainStore, settings: Settings) -> None:
    lookup = FakeLookup({"fresh.example": found("fresh.example")})
    response = run({"email": "a@fresh.example"}, store, settings, lookup)
    assert response["verdict"] == "active"
    assert lookup.rdap_queries == ["fresh.example"]
    assert lookup.closed is True


def test_check_unseen_domain_stored_for_sweeps(
    store: DomainStore, settings: Settings
) -> None:
    lookup = FakeLookup({"fresh.example": found("fresh.example")})
    run({"email": "a@fresh.example"}, store, settings, lookup)
    stored = store.get_facts("fresh.example")
    assert stored is not None
    assert stored.next_check_at is not None
    assert stored.facts.enrolled_at is None


def test_check_unseen_missing_domain_not_stored(
    store: DomainStore, settings: Settings
) -> None:
    lookup = FakeLookup()  # the registry answers 404 for every domain
    response = run({"email": "a@made-up.example"}, store, settings, lookup)
    assert response["verdict"] == "unknown"
    assert store.get_facts("made-up.example") is None


def test_check_unseen_busy_server_skips_rdap(
    store: DomainStore, settings: Settings
) -> None:
    slow = dataclasses.replace(settings, rdap_rate_per_second=0.001, rdap_burst=1)
    pacer = ServerPacer(store.client, slow.table_name, rate=0.001, burst=1)
    assert pacer.acquire(SERVER) == 0.0  # the only token is spent here
    lookup = FakeLookup({"fresh.example": found("fresh.example")})
    response = run({"email": "a@fresh.example"}, store, slow, lookup)
    assert lookup.rdap_queries == []
    assert response["verdict"] == "unknown"
    assert any("pacing limit" in reason for reason in response["reasons"])


def test_check_known_domain_no_lookup(store: DomainStore, settings: Settings) -> None:
    save_state(store, "example.com")
    lookup = FakeLookup()
    run({"email": "alice@example.com"}, store, settings, lookup)
    assert lookup.rdap_queries == []


class BrokenStore(DomainStore):
    def get_facts(self, domain: str, *, consistent: bool = False) -> Any:
        raise StoreError("GetItem failed for example.com: throttled")


@pytest.mark.parametrize(("fail_closed", "allow"), [(True, False), (False, True)])
def test_check_internal_error_policy(
    stack: LocalStack, settings: Settings, fail_closed: bool, allow: bool
) -> None:
    broken = BrokenStore(boto3.client("dynamodb"), stack.table_name)
    policy = dataclasses.replace(settings, fail_closed=fail_closed)
    response = run({"email": "alice@example.com"}, broken, policy)
    assert set(response) == CONTRACT_KEYS
    assert response["allow"] is allow
    assert response["verdict"] == "unknown"
    assert response["domain"] == "example.com"


def test_check_handler_misconfigured_fails_closed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from domain_guard.handlers.check import handler

    monkeypatch.delenv("DOMAIN_GUARD_TABLE", raising=False)
    response = handler({"email": "alice@example.com"}, None)
    assert response["allow"] is False
    assert response["domain"] == "example.com"


def test_check_handler_through_stack(stack: LocalStack, store: DomainStore) -> None:
    # The handler decides at the current time, so the state is taken now.
    save_state(store, "example.com", at=datetime.now(UTC))
    response = stack.invoke("CheckFunction", {"email": "alice@example.com"})
    assert response["domain"] == "example.com"
    assert response["verdict"] == "active"
    assert response["stale"] is False


def test_check_unseen_through_real_rdap(rdap_server: RdapServer, aws: None) -> None:
    from domain_guard_local.stack import deploy_stack

    rdap_server.add_domain(
        "real.example", domain_body("real.example", expires_in_days=9.5)
    )
    stack = deploy_stack(
        local_environment={
            "DOMAIN_GUARD_RDAP_BASE_URL": rdap_server.url,
            "DOMAIN_GUARD_NO_DNS": "true",
        }
    )
    response = stack.invoke("CheckFunction", {"email": "ops@real.example"})
    assert response["verdict"] == "expiring"
    assert response["allow"] is True
    assert any("real.example" in path for path in rdap_server.requests)


def test_check_cold_import_stays_light() -> None:
    # httpx and dnspython load only on the unseen-domain path.
    code = (
        "import sys, json; import domain_guard.handlers.check; "
        "heavy = ('httpx', 'dns.resolver'); "
        "print(json.dumps(sorted(m for m in heavy if m in sys.modules)))"
    )
    output = subprocess.run(  # noqa: S603 - runs this interpreter on fixed code
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(output) == []
