"""The worker handler on the stack deployed from template.yaml into moto."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from aws_support import (
    NOW,
    SERVER,
    Clock,
    EpochClock,
    FakeLookup,
    found,
    save_state,
    stack_settings,
)

from domain_guard.config import Settings
from domain_guard.errors import StaleWriteError
from domain_guard.handlers.dispatch import SweepMessage
from domain_guard.handlers.worker import WORST_CHECK_MS, WorkerDeps, process_batch
from domain_guard.models import DnsOutcome, DnsResult, RdapOutcome, RdapResult
from domain_guard.pacing import ServerPacer
from domain_guard.store import DomainStore
from domain_guard_local.rdap_server import RdapServer, domain_body
from domain_guard_local.stack import LocalStack, deploy_stack, sqs_record

pytest_plugins = ["aws_fixtures"]


@pytest.fixture
def settings(stack: LocalStack) -> Settings:
    return stack_settings(stack, "WorkerFunction")


def make_deps(
    store: DomainStore,
    settings: Settings,
    lookup: FakeLookup,
    *,
    clock: Clock | None = None,
    epoch: EpochClock | None = None,
    rate: float = 100.0,
    burst: float = 100.0,
) -> WorkerDeps:
    epoch = epoch or EpochClock()
    return WorkerDeps(
        store=store,
        pacer=ServerPacer(
            store.client, store.table_name, rate=rate, burst=burst, clock=epoch
        ),
        lookup=lookup,  # type: ignore[arg-type]
        settings=settings,
        sqs=boto3.client("sqs"),
        sns=boto3.client("sns"),
        clock=clock or Clock(),
        sleep=epoch.sleep,
    )


def event_for(
    stack: LocalStack,
    *domains: str,
    sweep_id: str | None = "sweep-1",
    at: datetime = NOW,
) -> dict[str, Any]:
    """Queue one message per domain and receive them as a Lambda SQS event."""
    sqs = boto3.client("sqs")
    for domain in domains:
        body = SweepMessage(domain, sweep_id, at - timedelta(minutes=1)).to_json()
        sqs.send_message(QueueUrl=stack.queue_url, MessageBody=body)
    records = []
    while len(records) < len(domains):
        messages = sqs.receive_message(
            QueueUrl=stack.queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]
        ).get("Messages", [])
        records.extend(
            sqs_record(m, "arn:aws:sqs:us-east-1:123456789012:q", "us-east-1")
            for m in messages
        )
    return {"Records": records}


def failures(response: dict[str, Any]) -> list[str]:
    return [f["itemIdentifier"] for f in response["batchItemFailures"]]


def test_worker_stores_state(
    stack: LocalStack, store: DomainStore, settings: Settings
) -> None:
    save_state(store, "example.com", at=NOW - timedelta(days=8))
    lookup = FakeLookup(
        {"example.com": found("example.com", statuses=("client hold",))}
    )
    response = process_batch(
        event_for(stack, "example.com"), make_deps(store, settings, lookup)
    )
    assert failures(response) == []
    stored = store.get_facts("example.com")
    assert stored is not None
    assert stored.facts.statuses == ("client hold",)
    assert stored.facts.checked_at == NOW
    assert stored.version == 2
    assert stored.next_check_at is not None
    assert NOW < stored.next_check_at <= NOW + timedelta(hours=24)


def test_worker_partial_batch_failure(
    stack: LocalStack, store: DomainStore, settings: Settings
) -> None:
    save_state(store, "good.example", at=NOW - timedelta(days=8))
    event = event_for(stack, "good.example")
    event["Records"].append({"messageId": "broken-1", "body": "{not json"})
    event["Records"].append({"messageId": "broken-2", "body": '{"domain": "COM"}'})
    lookup = FakeLookup({"good.example": found("good.example")})
    response = process_batch(event, make_deps(store, settings, lookup))
    assert failures(response) == ["broken-1", "broken-2"]
    assert store.get_facts("good.example").facts.checked_at == NOW  # type: ignore[union-attr]


def test_worker_time_budget_returns_rest(
    stack: LocalStack, store: DomainStore, settings: Settings
) -> None:
    event = event_for(stack, "first.example", "second.example", "third.example")
    ids = [record["messageId"] for record in event["Records"]]
    lookup = FakeLookup({d: found(d) for d in ("first.example", "second.example")})
    clock = iter([WORST_CHECK_MS + 1, WORST_CHECK_MS - 1, WORST_CHECK_MS - 1])
    response = process_batch(
        event, make_deps(store, settings, lookup), remaining_ms=lambda: next(clock)
    )
    assert lookup.rdap_queries == ["first.example"]
    assert failures(response) == ids[1:]


def test_worker_failure_isolated_to_message(
    stack: LocalStack, store: DomainStore, settings: Settings
) -> None:
    class Exploding(FakeLookup):
        def observe(
            self, domain: str, now: datetime, *, query_rdap: bool = True
        ) -> Any:
            if domain == "bad.example":
                raise RuntimeError("lookup bug")
            return super().observe(domain, now, query_rdap=query_rdap)

    event = event_for(stack, "bad.example", "good.example")
    bad_id = event["Records"][0]["messageId"]
    lookup = Exploding({"good.example": found("good.example")})
    response = process_batch(event, make_deps(store, settings, lookup))
    assert failures(response) == [bad_id]
    assert store.get_facts("good.example") is not None


def test_worker_dns_only_when_rdap_not_due(
    stack: LocalStack, store: DomainStore, settings: Settings
) -> None:
    facts = save_state(store, "quiet.example", at=NOW - timedelta(days=1))
    stored = store.get_facts("quiet.example")
    store.put_facts(
        facts,
        previous=stored,
        shard="0",
        next_check_at=NOW - timedelta(minutes=5),
        next_rdap_at=NOW + timedelta(days=5),
    )
    lookup = FakeLookup({"quiet.example": found("quiet.example")})
    lookup.dns = DnsResult(
        outcome=DnsOutcome.EXISTS, nameservers=("ns1.quiet.example",)
    )
    process_batch(event_for(stack, "quiet.example"), make_deps(store, settings, lookup))
    assert lookup.rdap_queries == []
    assert lookup.dns_probes == ["quiet.example"]


def test_worker_dns_change_triggers_rdap(
    stack: LocalStack, store: DomainStore, settings: Settings
) -> None:
    facts = save_state(store, "moved.example", at=NOW - timedelta(days=1))
    store.put_facts(
        facts,
        previous=store.get_facts("moved.example"),
        shard="0",
        next_check_at=NOW - timedelta(minutes=5),
        next_rdap_at=NOW + timedelta(days=5),
    )
    lookup = FakeLookup({"moved.example": found("moved.example")})
    lookup.dns = DnsResult(outcome=DnsOutcome.NXDOMAIN)
    process_batch(event_for(stack, "moved.example"), make_deps(store, settings, lookup))
    assert lookup.rdap_queries == ["moved.example"]


def test_worker_warns_once_per_threshold(
    stack: LocalStack, store: DomainStore, settings: Settings
) -> None:
    save_state(
        store, "soon.example", at=NOW - timedelta(days=8), expires_in=timedelta(days=18)
    )
    lookup = FakeLookup(
        {"soon.example": found("soon.example", expires_in=timedelta(days=10))}
    )
    deps = make_deps(store, settings, lookup)
    process_batch(event_for(stack, "soon.example"), deps)
    deps.clock = Clock(NOW + timedelta(hours=20))
    process_batch(event_for(stack, "soon.example", at=NOW + timedelta(hours=20)), deps)
    warnings = [
        (w["domain"], w["kind"], w["days_left"]) for w in stack.owner_warnings()
    ]
    assert warnings == [("soon.example", "expiring", 10)]


def test_worker_redelivered_batch_no_double(
    stack: LocalStack, store: DomainStore, settings: Settings
) -> None:
    save_state(store, "soon.example", at=NOW - timedelta(days=8))
    lookup = FakeLookup(
        {"soon.example": found("soon.example", expires_in=timedelta(days=5))}
    )
    deps = make_deps(store, settings, lookup)
    event = event_for(stack, "soon.example")
    process_batch(event, deps)
    process_batch(event, deps)
    assert len(stack.owner_warnings()) == 1
    assert lookup.rdap_queries == ["soon.example"]


def test_worker_renewal_resets_warnings(
    stack: LocalStack, store: DomainStore, settings: Settings
) -> None:
    save_state(store, "renew.example", at=NOW - timedelta(days=8))
    lookup = FakeLookup(
        {"renew.example": found("renew.example", expires_in=timedelta(days=5))}
    )
    deps = make_deps(store, settings, lookup)
    process_batch(event_for(stack, "renew.example"), deps)
    # Renewed for a year; a year later it nears expiry again.
    later = NOW + timedelta(days=365)
    lookup.results["renew.example"] = found(
        "renew.example", expires_in=timedelta(days=5), now=later
    )
    deps.clock = Clock(later)
    process_batch(event_for(stack, "renew.example", at=later), deps)
    kinds = [(w["kind"], w["days_left"]) for w in stack.owner_warnings()]
    assert kinds == [("expiring", 5), ("expiring", 5)]


def test_worker_warns_on_entering_redemption(
    stack: LocalStack, store: DomainStore, settings: Settings
) -> None:
    save_state(store, "lapse.example", at=NOW - timedelta(days=8))
    lookup = FakeLookup(
        {
            "lapse.example": found(
                "lapse.example",
                expires_in=timedelta(days=-35),
                statuses=("redemption period",),
            )
        }
    )
    process_batch(event_for(stack, "lapse.example"), make_deps(store, settings, lookup))
    (warning,) = stack.owner_warnings()
    assert warning["kind"] == "redemption"
    assert "What to do:" in warning["message"]


def test_worker_publish_failure_retried_once(
    stack: LocalStack, store: DomainStore, settings: Settings
) -> None:
    class FailingSns:
        def __init__(self) -> None:
            self.calls = 0
            self._client = boto3.client("sns")

        def publish(self, **kwargs: Any) -> Any:
            self.calls += 1
            if self.calls == 1:
                raise self._client.exceptions.InternalErrorException(
                    {"Error": {"Code": "InternalError", "Message": "down"}}, "Publish"
                )
            return self._client.publish(**kwargs)

    save_state(store, "soon.example", at=NOW - timedelta(days=8))
    lookup = FakeLookup(
        {"soon.example": found("soon.example", expires_in=timedelta(days=5))}
    )
    deps = make_deps(store, settings, lookup)
    deps.sns = FailingSns()  # type: ignore[assignment]
    event = event_for(stack, "soon.example")
    first = process_batch(event, deps)
    second = process_batch(event, deps)
    assert failures(first) == [event["Records"][0]["messageId"]]
    assert failures(second) == []
    assert len(stack.owner_warnings()) == 1


def test_worker_busy_server_deferred(
    stack: LocalStack, store: DomainStore, settings: Settings
) -> None:
    for domain in ("a.example", "b.example"):
        save_state(store, domain, at=NOW - timedelta(days=8))
    lookup = FakeLookup({d: found(d) for d in ("a.example", "b.example")})
    deps = make_deps(store, settings, lookup, rate=0.01, burst=1.0)
    event = event_for(stack, "a.example", "b.example")
    response = process_batch(event, deps)
    assert failures(response) == [event["Records"][1]["messageId"]]
    assert lookup.rdap_queries == ["a.example"]
    # The deferred message is hidden, not back on the queue at once.
    visible = boto3.client("sqs").receive_message(QueueUrl=stack.queue_url)
    assert visible.get("Messages", []) == []


def test_worker_short_wait_slept(
    stack: LocalStack, store: DomainStore, settings: Settings
) -> None:
    for domain in ("a.example", "b.example"):
        save_state(store, domain, at=NOW - timedelta(days=8))
    lookup = FakeLookup({d: found(d) for d in ("a.example", "b.example")})
    epoch = EpochClock()
    deps = make_deps(store, settings, lookup, epoch=epoch, rate=2.0, burst=1.0)
    response = process_batch(event_for(stack, "a.example", "b.example"), deps)
    assert failures(response) == []
    assert epoch.sleeps == [pytest.approx(0.5)]


def test_worker_retry_after_blocks_server(
    stack: LocalStack, store: DomainStore, settings: Settings
) -> None:
    save_state(store, "a.example", at=NOW - timedelta(days=8))
    limited = RdapResult(
        outcome=RdapOutcome.FAILED, server=SERVER, retry_after=120.0, error="429"
    )
    lookup = FakeLookup({"a.example": limited})
    epoch = EpochClock()
    deps = make_deps(store, settings, lookup, epoch=epoch)
    process_batch(event_for(stack, "a.example"), deps)
    assert deps.pacer.acquire(SERVER) == pytest.approx(120.0)


def test_worker_lost_race_merges_again(
    stack: LocalStack, store: DomainStore, settings: Settings
) -> None:
    class RacingStore(DomainStore):
        raced = False

        def put_facts(self, facts: Any, **kwargs: Any) -> Any:
            if not self.raced:
                self.raced = True
                save_state(store, facts.domain, at=NOW - timedelta(hours=1))
            return super().put_facts(facts, **kwargs)

    save_state(store, "race.example", at=NOW - timedelta(days=8))
    racing = RacingStore(store.client, store.table_name)
    lookup = FakeLookup(
        {"race.example": found("race.example", statuses=("client hold",))}
    )
    deps = make_deps(racing, settings, lookup)
    response = process_batch(event_for(stack, "race.example"), deps)
    assert failures(response) == []
    stored = store.get_facts("race.example")
    assert stored.facts.statuses == ("client hold",)  # type: ignore[union-attr]
    assert stored.version == 3  # type: ignore[union-attr]


def test_worker_gives_up_after_repeated_races(
    stack: LocalStack, store: DomainStore, settings: Settings
) -> None:
    class AlwaysStale(DomainStore):
        def put_facts(self, facts: Any, **kwargs: Any) -> Any:
            raise StaleWriteError("changed")

    save_state(store, "race.example", at=NOW - timedelta(days=8))
    lookup = FakeLookup({"race.example": found("race.example")})
    deps = make_deps(AlwaysStale(store.client, store.table_name), settings, lookup)
    event = event_for(stack, "race.example")
    assert failures(process_batch(event, deps)) == [event["Records"][0]["messageId"]]


def test_worker_already_checked_skips_lookup(
    stack: LocalStack, store: DomainStore, settings: Settings
) -> None:
    save_state(store, "fresh.example", at=NOW)
    lookup = FakeLookup()
    event = event_for(stack, "fresh.example", at=NOW)
    process_batch(event, make_deps(store, settings, lookup))
    assert lookup.rdap_queries == []
    assert lookup.dns_probes == []


def test_worker_mass_change_valve(
    stack: LocalStack, store: DomainStore, settings: Settings
) -> None:
    domains = [f"d{index}.example" for index in range(4)]
    for domain in domains:
        save_state(store, domain, at=NOW - timedelta(days=8))
    store.put_sweep("sweep-1", dispatched=4, deny_limit=2, now=NOW)
    held = {d: found(d, statuses=("client hold",)) for d in domains}
    lookup = FakeLookup(held)
    deps = make_deps(store, settings, lookup)
    response = process_batch(event_for(stack, *domains), deps)
    assert failures(response) == []
    states = [store.get_facts(d).facts.statuses for d in domains]  # type: ignore[union-attr]
    assert states.count(("client hold",)) == 2
    assert states.count(("active",)) == 2
    alerts = stack.operator_alerts()
    assert [a["kind"] for a in alerts] == ["mass_change"]


def test_worker_valve_ignores_allowing_moves(
    stack: LocalStack, store: DomainStore, settings: Settings
) -> None:
    domains = [f"d{index}.example" for index in range(4)]
    for domain in domains:
        save_state(store, domain, at=NOW - timedelta(days=8))
    store.put_sweep("sweep-1", dispatched=4, deny_limit=0, now=NOW)
    lookup = FakeLookup({d: found(d) for d in domains})
    process_batch(event_for(stack, *domains), make_deps(store, settings, lookup))
    assert stack.operator_alerts() == []


def test_worker_handler_through_stack_real_rdap(
    rdap_server: RdapServer, aws: None
) -> None:
    """End to end: enroll, then a sweep through dispatch and worker, real Lookup."""
    rdap_server.add_domain(
        "soon.example", domain_body("soon.example", expires_in_days=9.5)
    )
    rdap_server.add_domain(
        "lapsed.example",
        domain_body(
            "lapsed.example", expires_in_days=-40, statuses=["redemption period"]
        ),
    )
    stack = deploy_stack(
        local_environment={
            "DOMAIN_GUARD_RDAP_BASE_URL": rdap_server.url,
            "DOMAIN_GUARD_NO_DNS": "true",
        }
    )
    for domain in ("soon.example", "lapsed.example", "missing.example"):
        stack.invoke("EnrollFunction", {"email": f"owner@{domain}"})
    stack.make_all_due()
    report = stack.sweep()
    assert report.checked == 3
    assert report.failed == 0
    kinds = sorted((w["domain"], w["kind"], w["days_left"]) for w in report.warnings)
    assert kinds == [
        ("lapsed.example", "redemption", -41),
        ("soon.example", "expiring", 9),
    ]
    verdicts = {
        domain: stack.invoke("CheckFunction", {"domain": domain})["verdict"]
        for domain in ("soon.example", "lapsed.example", "missing.example")
    }
    assert verdicts == {
        "soon.example": "expiring",
        "lapsed.example": "redemption",
        "missing.example": "unknown",
    }


def test_worker_repeated_sweep_no_repeat_warning(
    rdap_server: RdapServer, aws: None
) -> None:
    rdap_server.add_domain(
        "soon.example", domain_body("soon.example", expires_in_days=9.5)
    )
    stack = deploy_stack(
        local_environment={
            "DOMAIN_GUARD_RDAP_BASE_URL": rdap_server.url,
            "DOMAIN_GUARD_NO_DNS": "true",
        }
    )
    stack.invoke("EnrollFunction", {"domain": "soon.example"})
    counts = []
    for _ in range(2):
        stack.make_all_due()
        counts.append(len(stack.sweep().warnings))
    assert counts == [1, 0]


def test_worker_real_time_clock_default() -> None:
    deps_clock = WorkerDeps.__dataclass_fields__["clock"].default
    assert deps_clock().tzinfo is UTC  # type: ignore[operator]
    assert dataclasses.is_dataclass(WorkerDeps)
