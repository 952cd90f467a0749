"""The dispatch handler on the stack deployed from template.yaml into moto."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from aws_support import NOW, save_state, stack_settings

from domain_guard.config import Settings
from domain_guard.handlers.dispatch import SweepMessage, dispatch
from domain_guard.store import DomainStore
from domain_guard_local.stack import LocalStack

pytest_plugins = ["aws_fixtures"]


@pytest.fixture
def settings(stack: LocalStack) -> Settings:
    return stack_settings(stack, "DispatchFunction")


class CountingSqs:
    """Wraps the SQS client: counts batch calls and fails chosen entries once."""

    def __init__(self, fail_first: int = 0, fail_always: bool = False) -> None:
        self._client = boto3.client("sqs")
        self.batch_sizes: list[int] = []
        self._fail_first = fail_first
        self._fail_always = fail_always

    def send_message_batch(self, **kwargs: Any) -> Any:
        entries = kwargs["Entries"]
        self.batch_sizes.append(len(entries))
        failing = entries if self._fail_always else entries[: self._fail_first]
        self._fail_first = 0
        kept = [entry for entry in entries if entry not in failing]
        response = (
            self._client.send_message_batch(QueueUrl=kwargs["QueueUrl"], Entries=kept)
            if kept
            else {"Successful": []}
        )
        response.setdefault("Failed", [])
        response["Failed"] = [
            {
                "Id": e["Id"],
                "Code": "ServiceUnavailable",
                "Message": "try later",
                "SenderFault": False,
            }
            for e in failing
        ]
        return response

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def queued(stack: LocalStack) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    bodies = []
    while True:
        messages = sqs.receive_message(
            QueueUrl=stack.queue_url, MaxNumberOfMessages=10
        ).get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(
                QueueUrl=stack.queue_url, ReceiptHandle=message["ReceiptHandle"]
            )


def run(store: DomainStore, settings: Settings, sqs: Any = None, **kw: Any) -> Any:
    return dispatch(
        store=store,
        sqs=sqs or boto3.client("sqs"),
        sns=boto3.client("sns"),
        settings=settings,
        now=kw.pop("now", NOW),
        **kw,
    )


def test_dispatch_queues_only_due(
    stack: LocalStack, store: DomainStore, settings: Settings
) -> None:
    save_state(store, "due.example", at=NOW - timedelta(minutes=5))
    save_state(store, "later.example", at=NOW + timedelta(hours=3))
    report = run(store, settings)
    assert report.queued == 1
    assert [body["domain"] for body in queued(stack)] == ["due.example"]


def test_dispatch_message_readable_by_worker(
    stack: LocalStack, store: DomainStore, settings: Settings
) -> None:
    save_state(store, "due.example", at=NOW)
    report = run(store, settings, sweep_id="sweep-1")
    (body,) = queued(stack)
    message = SweepMessage.parse(json.dumps(body))
    assert message.domain == "due.example"
    assert message.sweep_id == report.sweep_id == "sweep-1"
    assert message.dispatched_at == NOW


def test_dispatch_pages_every_shard(
    stack: LocalStack, store: DomainStore, settings: Settings
) -> None:
    domains = {f"d{index}.example" for index in range(23)}
    for domain in domains:
        save_state(store, domain, at=NOW)
    sqs = CountingSqs()
    report = run(store, settings, sqs=sqs)
    assert report.queued == 23
    assert {body["domain"] for body in queued(stack)} == domains
    assert max(sqs.batch_sizes) <= 10


def test_dispatch_batches_of_ten(
    stack: LocalStack, store: DomainStore, settings: Settings
) -> None:
    one_shard = dataclasses.replace(settings, due_shards=1)
    for index in range(23):
        domain = f"d{index}.example"
        save_state(store, domain, at=NOW)
        # Move every domain to shard 0, the only one this run reads.
        boto3.client("dynamodb").update_item(
            TableName=stack.table_name,
            Key={"pk": {"S": f"DOMAIN#{domain}"}, "sk": {"S": "STATE"}},
            UpdateExpression="SET due_shard = :zero",
            ExpressionAttributeValues={":zero": {"S": "0"}},
        )
    sqs = CountingSqs()
    run(store, one_shard, sqs=sqs)
    assert sqs.batch_sizes == [10, 10, 3]


def test_dispatch_lease_stops_second_run(
    stack: LocalStack, store: DomainStore, settings: Settings
) -> None:
    save_state(store, "due.example", at=NOW)
    run(store, settings)
    second = run(store, settings, now=NOW + timedelta(minutes=30))
    assert second.queued == 0
    stored = store.get_facts("due.example")
    assert stored.next_check_at == NOW + timedelta(hours=6)  # type: ignore[union-attr]


def test_dispatch_due_again_after_lease(
    stack: LocalStack, store: DomainStore, settings: Settings
) -> None:
    save_state(store, "due.example", at=NOW)
    run(store, settings)
    later = run(store, settings, now=NOW + timedelta(hours=7))
    assert later.queued == 1


def test_dispatch_retries_failed_entries(
    stack: LocalStack, store: DomainStore, settings: Settings
) -> None:
    for index in range(4):
        save_state(store, f"d{index}.example", at=NOW)
    sqs = CountingSqs(fail_first=2)
    report = run(store, settings, sqs=sqs)
    assert report.queued == 4
    assert report.failed == 0
    assert len(queued(stack)) == 4


def test_dispatch_alerts_when_sends_fail(
    stack: LocalStack, store: DomainStore, settings: Settings
) -> None:
    save_state(store, "due.example", at=NOW)
    report = run(store, settings, sqs=CountingSqs(fail_always=True))
    assert report.failed == 1
    (alert,) = stack.operator_alerts()
    assert alert["kind"] == "sweep_failure"


def test_dispatch_alerts_dead_letters(
    stack: LocalStack, store: DomainStore, settings: Settings
) -> None:
    boto3.client("sqs").send_message(
        QueueUrl=stack.dead_letter_queue_url, MessageBody="x"
    )
    report = run(store, settings)
    assert report.dead_letters == 1
    assert [a["kind"] for a in stack.operator_alerts()] == ["dead_letters"]


def test_dispatch_spreads_one_server(
    stack: LocalStack, store: DomainStore, settings: Settings
) -> None:
    for index in range(3):
        save_state(store, f"d{index}.example", at=NOW)
    slow = dataclasses.replace(settings, rdap_rate_per_second=0.5, due_shards=16)
    sqs = CountingSqs()
    delays: list[int] = []
    original = sqs.send_message_batch

    def record(**kwargs: Any) -> Any:
        delays.extend(entry["DelaySeconds"] for entry in kwargs["Entries"])
        return original(**kwargs)

    sqs.send_message_batch = record  # type: ignore[method-assign]
    run(store, slow, sqs=sqs)
    assert sorted(delays) == [0, 2, 4]


def test_dispatch_postpones_beyond_capacity(
    stack: LocalStack, store: DomainStore, settings: Settings
) -> None:
    for index in range(5):
        save_state(store, f"d{index}.example", at=NOW)
    # 900 s of delay at 0.001 per second fits 0.9 checks, plus a burst of 2.
    tight = dataclasses.replace(settings, rdap_rate_per_second=0.001, rdap_burst=2.0)
    report = run(store, tight)
    assert report.queued == 2
    assert report.postponed == 3


def test_dispatch_records_sweep_limit(
    stack: LocalStack, store: DomainStore, settings: Settings
) -> None:
    save_state(store, "due.example", at=NOW)
    report = run(store, settings, sweep_id="s-limit")
    count = store.record_deny_move(report.sweep_id)
    assert count.deny_limit == settings.mass_change_min


def test_dispatch_skips_bootstrap_with_base_url(
    store: DomainStore, settings: Settings
) -> None:
    local = dataclasses.replace(settings, rdap_base_url="http://127.0.0.1:9")
    report = run(
        store, local, http=httpx.Client(transport=httpx.MockTransport(_no_call))
    )
    assert report.bootstrap == "skipped"
    assert store.get_bootstrap() is None


def test_dispatch_refreshes_bootstrap(
    store: DomainStore, settings: Settings, rdap_samples: Path
) -> None:
    document = json.loads((rdap_samples / "bootstrap" / "dns.json").read_text())
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=document))
    with httpx.Client(transport=transport) as http:
        report = run(store, settings, http=http)
    assert report.bootstrap == "refreshed"
    cached = store.get_bootstrap()
    assert cached is not None
    assert cached.fetched_at == NOW


def test_dispatch_keeps_fresh_bootstrap(store: DomainStore, settings: Settings) -> None:
    document = {"version": "1.0", "services": [[["test"], ["https://rdap.test/"]]]}
    store.put_bootstrap(document, NOW - timedelta(minutes=10))
    http = httpx.Client(transport=httpx.MockTransport(_no_call))
    report = run(store, settings, http=http)
    assert report.bootstrap == "cached"


def test_dispatch_bootstrap_failure_not_fatal(
    stack: LocalStack, store: DomainStore, settings: Settings
) -> None:
    save_state(store, "due.example", at=NOW)
    transport = httpx.MockTransport(lambda request: httpx.Response(503))
    with httpx.Client(transport=transport) as http:
        report = run(store, settings, http=http)
    assert report.bootstrap == "failed"
    assert report.queued == 1


def test_dispatch_handler_through_stack(stack: LocalStack, store: DomainStore) -> None:
    save_state(store, "due.example", at=NOW)
    stack.local_environment["DOMAIN_GUARD_RDAP_BASE_URL"] = "http://127.0.0.1:9"
    report = stack.invoke("DispatchFunction", {})
    assert report["queued"] == 1
    assert report["bootstrap"] == "skipped"


def test_dispatch_schedule_created(stack: LocalStack) -> None:
    schedule = boto3.client("scheduler").get_schedule(Name=stack.schedule_name)
    assert schedule["ScheduleExpression"] == "rate(1 hour)"
    assert schedule["Target"]["Arn"].endswith(stack.functions["DispatchFunction"])


def _no_call(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"unexpected request to {request.url}")


def test_dispatch_dead_letter_alert_once_per_rise(
    stack: LocalStack, store: DomainStore, settings: Settings
) -> None:
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=stack.dead_letter_queue_url, MessageBody="x")
    run(store, settings)
    run(store, settings, now=NOW + timedelta(hours=1))
    sqs.send_message(QueueUrl=stack.dead_letter_queue_url, MessageBody="y")
    run(store, settings, now=NOW + timedelta(hours=2))
    assert [a["kind"] for a in stack.operator_alerts()] == ["dead_letters"] * 2
