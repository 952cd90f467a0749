"""DomainStore against the state table defined in template.yaml, in moto."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import boto3
import pytest
from aws_support import NOW

from domain_guard.errors import StaleWriteError
from domain_guard.models import DnsOutcome, DomainFacts, RdapOutcome
from domain_guard.store import Claim, DomainStore, facts_to_item

pytest_plugins = ["aws_fixtures"]


@pytest.fixture
def store(table_store: DomainStore) -> DomainStore:
    """The store on a lone state table: these tests need no other resource."""
    return table_store


FULL_FACTS = DomainFacts(
    domain="example.com",
    rdap_outcome=RdapOutcome.FOUND,
    rdap_server="rdap.verisign.com",
    rdap_ok_at=NOW,
    statuses=("client transfer prohibited", "active"),
    expires_at=NOW + timedelta(days=200),
    registered_at=NOW - timedelta(days=3000),
    last_changed_at=NOW - timedelta(days=20),
    transferred_at=NOW - timedelta(days=900),
    registrar="Example Registrar",
    registrar_id="9999",
    registrar_expires_at=NOW + timedelta(days=201),
    dns_outcome=DnsOutcome.EXISTS,
    dns_checked_at=NOW,
    nameservers=("a.iana-servers.net", "b.iana-servers.net"),
    mx=("mail.example.com",),
    dns_changes=("MX appeared",),
    enrolled_at=NOW - timedelta(days=10),
    baseline_registered_at=NOW - timedelta(days=3000),
    baseline_registrar="Example Registrar",
    lapsed_seen_at=None,
    lapsed_registrar=None,
    checked_at=NOW,
    notes=("registrar hop skipped",),
)


def put(store: DomainStore, facts: DomainFacts, previous: Any = None, **kw: Any) -> Any:
    return store.put_facts(
        facts,
        previous=previous,
        shard=kw.get("shard", "0"),
        next_check_at=kw.get("next_check_at", NOW + timedelta(hours=24)),
        next_rdap_at=kw.get("next_rdap_at", NOW + timedelta(days=7)),
    )


def raw_put(store: DomainStore, item: dict[str, Any]) -> None:
    boto3.client("dynamodb").put_item(TableName=store.table_name, Item=item)


def test_store_facts_round_trip(store: DomainStore) -> None:
    put(store, FULL_FACTS)
    stored = store.get_facts("example.com")
    assert stored is not None
    assert stored.facts == FULL_FACTS
    assert stored.version == 1


def test_store_missing_domain_is_none(store: DomainStore) -> None:
    assert store.get_facts("absent.example") is None


def test_store_from_table_resource(store: DomainStore) -> None:
    table = boto3.resource("dynamodb").Table(store.table_name)
    resource_store = DomainStore.from_table(table)
    put(resource_store, FULL_FACTS)
    assert resource_store.get_facts("example.com") is not None


def test_store_write_bumps_version(store: DomainStore) -> None:
    first = put(store, FULL_FACTS)
    second = put(store, FULL_FACTS, previous=first)
    assert second.version == 2
    assert store.get_facts("example.com").version == 2  # type: ignore[union-attr]


def test_store_stale_write_rejected(store: DomainStore) -> None:
    first = put(store, FULL_FACTS)
    put(store, FULL_FACTS, previous=first)
    with pytest.raises(StaleWriteError):
        put(store, FULL_FACTS, previous=first)


def test_store_create_twice_rejected(store: DomainStore) -> None:
    put(store, FULL_FACTS)
    with pytest.raises(StaleWriteError):
        put(store, FULL_FACTS, previous=None)


def test_store_item_without_version_writable(store: DomainStore) -> None:
    item = facts_to_item(FULL_FACTS)
    raw_put(store, item)
    stored = store.get_facts("example.com")
    assert stored is not None
    assert stored.version == 0
    assert put(store, FULL_FACTS, previous=stored).version == 1


def test_store_state_holds_no_address(store: DomainStore) -> None:
    put(store, FULL_FACTS)
    store.put_contact("example.com", "alice@example.com", now=NOW)
    state = boto3.client("dynamodb").get_item(
        TableName=store.table_name,
        Key={"pk": {"S": "DOMAIN#example.com"}, "sk": {"S": "STATE"}},
    )["Item"]
    assert "alice@example.com" not in repr(state)


@pytest.mark.parametrize(
    ("attribute", "damage"),
    [
        ("expires_at", {"S": "next tuesday"}),
        ("expires_at", {"N": "12"}),
        ("statuses", {"S": "active"}),
        ("statuses", {"L": [{"N": "1"}]}),
        ("rdap_outcome", {"S": "exploded"}),
        ("dns_outcome", {"BOOL": True}),
        ("registrar", {"L": []}),
        ("version", {"S": "three"}),
    ],
)
def test_store_damaged_attribute_dropped(
    store: DomainStore,
    caplog: pytest.LogCaptureFixture,
    attribute: str,
    damage: dict[str, Any],
) -> None:
    item = facts_to_item(FULL_FACTS)
    item["version"] = {"N": "4"}
    item[attribute] = damage
    raw_put(store, item)
    with caplog.at_level(logging.WARNING, logger="domain_guard.store"):
        stored = store.get_facts("example.com")
    assert stored is not None
    default = getattr(DomainFacts(domain="example.com"), attribute, None)
    if attribute == "version":
        assert stored.version == 0
    else:
        assert getattr(stored.facts, attribute) == default
    assert stored.facts.registered_at == FULL_FACTS.registered_at
    assert any(attribute in str(vars(r)) for r in caplog.records)


def test_store_damaged_version_still_writable(store: DomainStore) -> None:
    item = facts_to_item(FULL_FACTS)
    item["version"] = {"S": "three"}
    raw_put(store, item)
    stored = store.get_facts("example.com")
    assert put(store, FULL_FACTS, previous=stored).version == 1


def test_store_unknown_attribute_ignored(store: DomainStore) -> None:
    item = facts_to_item(FULL_FACTS)
    item["written_by_v9"] = {"M": {"x": {"S": "y"}}}
    raw_put(store, item)
    assert store.get_facts("example.com").facts == FULL_FACTS  # type: ignore[union-attr]


def test_store_due_pages_only_due(store: DomainStore) -> None:
    put(store, FULL_FACTS, next_check_at=NOW - timedelta(minutes=1))
    later = DomainFacts(domain="later.example")
    put(store, later, next_check_at=NOW + timedelta(hours=1))
    due = [entry.domain for page in store.due_pages("0", NOW) for entry in page]
    assert due == ["example.com"]


def test_store_due_pages_paginate(store: DomainStore) -> None:
    for index in range(7):
        put(store, DomainFacts(domain=f"d{index}.example"), next_check_at=NOW)
    pages = list(store.due_pages("0", NOW, page_size=3))
    assert [len(page) for page in pages] == [3, 3, 1]


def test_store_due_pages_per_shard(store: DomainStore) -> None:
    put(store, DomainFacts(domain="a.example"), shard="1", next_check_at=NOW)
    put(store, DomainFacts(domain="b.example"), shard="2", next_check_at=NOW)
    due = [entry.domain for page in store.due_pages("2", NOW) for entry in page]
    assert due == ["b.example"]


def test_store_due_entry_carries_rdap_fields(store: DomainStore) -> None:
    put(store, FULL_FACTS, next_check_at=NOW, next_rdap_at=NOW + timedelta(days=3))
    (entry,) = next(store.due_pages("0", NOW))
    assert entry.rdap_server == "rdap.verisign.com"
    assert entry.next_rdap_at == NOW + timedelta(days=3)


def test_store_lease_once(store: DomainStore) -> None:
    put(store, FULL_FACTS, next_check_at=NOW)
    (entry,) = next(store.due_pages("0", NOW))
    assert store.lease_due(entry, NOW + timedelta(hours=6)) is True
    assert store.lease_due(entry, NOW + timedelta(hours=6)) is False
    assert list(store.due_pages("0", NOW)) == []


def test_store_contacts_apart_and_removable(store: DomainStore) -> None:
    store.put_contact("example.com", "alice@example.com", now=NOW, subscription_arn="x")
    store.put_contact("example.com", "bob@example.com", now=NOW)
    emails = sorted(c.email for c in store.list_contacts("example.com"))
    assert emails == ["alice@example.com", "bob@example.com"]
    removed = store.delete_contact("example.com", "ALICE@example.com")
    assert removed is not None
    assert removed.subscription_arn == "x"
    assert [c.email for c in store.list_contacts("example.com")] == ["bob@example.com"]


def test_store_delete_absent_contact(store: DomainStore) -> None:
    assert store.delete_contact("example.com", "nobody@example.com") is None


def test_store_bootstrap_round_trip(store: DomainStore) -> None:
    document = {"version": "1.0", "services": [[["com"], ["https://rdap.test/"]]]}
    store.put_bootstrap(document, NOW)
    cached = store.get_bootstrap()
    assert cached is not None
    assert cached.data == document
    assert cached.fetched_at == NOW


def test_store_bootstrap_damaged_ignored(store: DomainStore) -> None:
    raw_put(
        store,
        {"pk": {"S": "BOOTSTRAP"}, "sk": {"S": "IANA"}, "data": {"S": "{not json"}},
    )
    assert store.get_bootstrap() is None


def test_store_warning_claim_once(store: DomainStore) -> None:
    lease = timedelta(minutes=5)
    first = store.claim_warning(
        "example.com", "2025-09-01", "expiring-30", now=NOW, lease=lease
    )
    second = store.claim_warning(
        "example.com", "2025-09-01", "expiring-30", now=NOW, lease=lease
    )
    assert first is Claim.CLAIMED
    assert second is Claim.IN_FLIGHT


def test_store_warning_sent_stays_sent(store: DomainStore) -> None:
    lease = timedelta(minutes=5)
    store.claim_warning("example.com", "c", "grace", now=NOW, lease=lease)
    store.mark_warning_sent("example.com", "c", "grace", now=NOW, message_id="m")
    later = NOW + timedelta(days=3)
    claim = store.claim_warning("example.com", "c", "grace", now=later, lease=lease)
    assert claim is Claim.SENT


def test_store_abandoned_claim_taken_over(store: DomainStore) -> None:
    lease = timedelta(minutes=5)
    store.claim_warning("example.com", "c", "hold", now=NOW, lease=lease)
    later = NOW + timedelta(minutes=6)
    claim = store.claim_warning("example.com", "c", "hold", now=later, lease=lease)
    assert claim is Claim.CLAIMED


def test_store_released_claim_reclaimable(store: DomainStore) -> None:
    lease = timedelta(minutes=5)
    store.claim_warning("example.com", "c", "hold", now=NOW, lease=lease)
    store.release_warning("example.com", "c", "hold")
    claim = store.claim_warning("example.com", "c", "hold", now=NOW, lease=lease)
    assert claim is Claim.CLAIMED


def test_store_new_cycle_new_claim(store: DomainStore) -> None:
    lease = timedelta(minutes=5)
    store.claim_warning("example.com", "2025-09-01", "expiring-7", now=NOW, lease=lease)
    claim = store.claim_warning(
        "example.com", "2026-09-01", "expiring-7", now=NOW, lease=lease
    )
    assert claim is Claim.CLAIMED


def test_store_sweep_counts_moves(store: DomainStore) -> None:
    store.put_sweep("s1", dispatched=100, deny_limit=20, now=NOW)
    store.record_deny_move("s1")
    count = store.record_deny_move("s1")
    assert count.deny_moves == 2
    assert count.deny_limit == 20


def test_store_sweep_alert_claimed_once(store: DomainStore) -> None:
    assert store.claim_sweep_alert("s1") is True
    assert store.claim_sweep_alert("s1") is False
