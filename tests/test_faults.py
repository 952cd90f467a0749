"""Fault injection on the worker: nothing lost, nothing doubled, with counts.

A small in-memory delivery loop replaces SQS and the event source mapping:
a batch whose worker dies goes back whole, failed records go back alone, and
the clock moves on six minutes between rounds (longer than the warning claim
lease, as a real visibility timeout is). Faults come from wrappers around the
DynamoDB and SNS clients, driven by a seeded random generator, so every run
injects the same faults. The counts are printed to the terminal.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import boto3
import pytest
from aws_support import (
    NOW,
    Clock,
    EpochClock,
    FakeLookup,
    found,
    save_state,
    stack_settings,
)
from botocore.exceptions import ClientError

from domain_guard.handlers.dispatch import SweepMessage
from domain_guard.handlers.worker import MARK_ATTEMPTS, WorkerDeps, process_batch
from domain_guard.pacing import ServerPacer
from domain_guard.store import DomainStore
from domain_guard_local.stack import LocalStack

pytest_plugins = ["aws_fixtures"]

ROUND = timedelta(minutes=6)
MAX_ROUNDS = 300


class WorkerKilled(BaseException):
    """The Lambda process died: no response, the whole batch comes back."""


@dataclass
class FaultPlan:
    """Decides, per client call, whether to fail it, and counts what it did."""

    rng: random.Random
    dynamo_error_rate: float = 0.0  # every DynamoDB call but the ledger update
    ledger_error_rate: float = 0.0  # the update that marks a warning sent
    sns_error_rate: float = 0.0
    kill_point: str | None = None  # a step name from `step_of`
    kill_every: int = 0  # kill at every n-th occurrence of the kill point
    kill_rate: float = 0.0  # or at random occurrences of any step
    max_kills: int = 8  # then the worker runs on, so the sweep can finish
    counts: Counter[str] = field(default_factory=Counter)
    # Consecutive failed ledger updates per warning, to spot exhausted retries.
    ledger_failures: Counter[str] = field(default_factory=Counter)

    def before(self, service: str, operation: str, kwargs: dict[str, Any]) -> None:
        step = step_of(operation, kwargs)
        if step == "read_state":
            self._maybe_kill("before_read_state")
        rate = self.dynamo_error_rate if service == "dynamodb" else self.sns_error_rate
        if step == "mark_sent":
            rate = self.ledger_error_rate
        if operation in ("put_item", "update_item", "get_item", "publish") and (
            self.rng.random() < rate
        ):
            self.counts[f"{service} errors"] += 1
            if step == "mark_sent":
                key = sort_key_of(kwargs)
                self.ledger_failures[key] += 1
                if self.ledger_failures[key] == MARK_ATTEMPTS:
                    self.counts["ledger updates failed after retries"] += 1
                    self.ledger_failures[key] = 0
            code = (
                "ProvisionedThroughputExceededException"
                if service == "dynamodb"
                else "Throttled"
            )
            raise ClientError(
                {"Error": {"Code": code, "Message": "injected"}}, operation
            )

    def after(self, service: str, operation: str, kwargs: dict[str, Any]) -> None:
        step = step_of(operation, kwargs)
        if step == "mark_sent":
            self.ledger_failures[sort_key_of(kwargs)] = 0
        if step is not None:
            self._maybe_kill(f"after_{step}")

    def _maybe_kill(self, point: str) -> None:
        self.counts[f"seen {point}"] += 1
        due = False
        if self.counts["kills"] >= self.max_kills:
            return
        if self.kill_point == point and self.kill_every:
            due = self.counts[f"seen {point}"] % self.kill_every == 1
        elif self.kill_rate and point != "after_publish":
            due = self.rng.random() < self.kill_rate
        if due:
            self.counts["kills"] += 1
            self.counts[f"kills {point}"] += 1
            raise WorkerKilled(point)


def sort_key_of(kwargs: dict[str, Any]) -> str:
    return str(kwargs.get("Key", kwargs.get("Item", {})).get("sk", {}).get("S", ""))


def step_of(operation: str, kwargs: dict[str, Any]) -> str | None:
    """Name the worker step a client call belongs to, for kill points."""
    sort_key = sort_key_of(kwargs)
    if operation == "get_item" and sort_key == "STATE":
        return "read_state"
    if operation == "put_item" and sort_key == "STATE":
        return "write_state"
    if operation == "put_item" and sort_key.startswith("WARNING#"):
        return "claim"
    if operation == "publish":
        return "publish"
    if operation == "update_item" and sort_key.startswith("WARNING#"):
        return "mark_sent"
    return None


class Faulty:
    """A client proxy that consults the fault plan before and after each call."""

    def __init__(self, client: Any, service: str, plan: FaultPlan) -> None:
        self._client = client
        self._service = service
        self._plan = plan

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if not callable(attribute) or name.startswith("_") or name == "exceptions":
            return attribute

        def call(**kwargs: Any) -> Any:
            self._plan.before(self._service, name, kwargs)
            result = attribute(**kwargs)
            self._plan.after(self._service, name, kwargs)
            return result

        return call


class PublishCounter:
    """Counts successful publishes per warning, after the fault wrapper."""

    def __init__(self) -> None:
        self._client = boto3.client("sns")
        self.sent: Counter[tuple[str, str]] = Counter()

    def publish(self, **kwargs: Any) -> Any:
        response = self._client.publish(**kwargs)
        attributes = kwargs["MessageAttributes"]
        key = (attributes["domain"]["StringValue"], attributes["kind"]["StringValue"])
        self.sent[key] += 1
        return response


# Each domain's RDAP record fields and the one warning it must cause (or none).
SCENARIO: dict[str, tuple[dict[str, Any], str | None]] = {}
for index in range(12):
    SCENARIO[f"soon{index}.example"] = (
        {"expires_in": timedelta(days=5 + index)},
        "expiring",
    )
for index in range(6):
    SCENARIO[f"lapsed{index}.example"] = (
        {"expires_in": timedelta(days=-35), "statuses": ("redemption period",)},
        "redemption",
    )
for index in range(6):
    SCENARIO[f"hold{index}.example"] = ({"statuses": ("client hold",)}, "hold")
for index in range(10):
    SCENARIO[f"fine{index}.example"] = ({}, None)


@dataclass
class Outcome:
    lost_state: int
    lost_warnings: int
    doubled_warnings: int
    rounds: int
    redelivered_batches: int
    counts: Counter[str]


def run_sweep(
    stack: LocalStack, plan: FaultPlan, *, redeliver_all: bool = False
) -> Outcome:
    """Sweep every scenario domain once under the plan's faults, to completion."""
    store = DomainStore(boto3.client("dynamodb"), stack.table_name)
    for domain in SCENARIO:
        save_state(store, domain, at=NOW - timedelta(days=8))
    # A large mass-change limit: this test is about faults, not the valve.
    settings = stack_settings(stack, "WorkerFunction", mass_change_min=1000)
    lookup = FakeLookup({d: found(d, **kw) for d, (kw, _) in SCENARIO.items()})
    counter = PublishCounter()
    clock = Clock(NOW)
    faulty_dynamo = Faulty(boto3.client("dynamodb"), "dynamodb", plan)
    deps = WorkerDeps(
        store=DomainStore(faulty_dynamo, stack.table_name),  # type: ignore[arg-type]
        pacer=ServerPacer(
            faulty_dynamo,  # type: ignore[arg-type]
            stack.table_name,
            rate=1000.0,
            burst=1000.0,
            clock=EpochClock(),
        ),
        lookup=lookup,  # type: ignore[arg-type]
        settings=settings,
        sqs=None,
        sns=Faulty(counter, "sns", plan),  # type: ignore[arg-type]
        clock=clock,
        sleep=lambda seconds: None,
    )
    pending = [
        {"messageId": f"m-{domain}", "body": SweepMessage(domain, None, NOW).to_json()}
        for domain in SCENARIO
    ]
    rounds = redelivered = 0
    while pending and rounds < MAX_ROUNDS:
        rounds += 1
        batch, pending = pending[:10], pending[10:]
        try:
            response = process_batch({"Records": batch}, deps)
        except WorkerKilled:
            redelivered += 1
            pending.extend(batch)
        else:
            failed = {f["itemIdentifier"] for f in response["batchItemFailures"]}
            pending.extend(r for r in batch if r["messageId"] in failed)
            if redeliver_all:
                # SQS at-least-once: a whole batch may arrive a second time.
                redelivered += 1
                try:
                    process_batch({"Records": batch}, deps)
                except WorkerKilled:
                    pending.extend(batch)
        clock.advance(ROUND)
    assert not pending, f"messages still pending after {MAX_ROUNDS} rounds"
    return Outcome(
        lost_state=_lost_state(store, lookup),
        lost_warnings=sum(
            1
            for domain, (_, kind) in SCENARIO.items()
            if kind and counter.sent[(domain, kind)] == 0
        ),
        doubled_warnings=sum(count - 1 for count in counter.sent.values() if count > 1),
        rounds=rounds,
        redelivered_batches=redelivered,
        counts=plan.counts,
    )


def _lost_state(store: DomainStore, lookup: FakeLookup) -> int:
    lost = 0
    for domain in SCENARIO:
        stored = store.get_facts(domain, consistent=True)
        expected = lookup.results[domain].record
        if (
            stored is None
            or expected is None
            or stored.facts.statuses != expected.statuses
            or stored.facts.expires_at != expected.expires_at
            or stored.facts.checked_at is None
            or stored.facts.checked_at < NOW
        ):
            lost += 1
    return lost


def report(capsys: pytest.CaptureFixture[str], name: str, outcome: Outcome) -> None:
    injected = ", ".join(
        f"{k}={v}"
        for k, v in sorted(outcome.counts.items())
        if not k.startswith("seen")
    )
    with capsys.disabled():
        print(
            f"\nfault injection [{name}]: {injected or 'none'}; "
            f"rounds={outcome.rounds} "
            f"redelivered_batches={outcome.redelivered_batches}; "
            f"lost_state={outcome.lost_state} lost_warnings={outcome.lost_warnings} "
            f"doubled_warnings={outcome.doubled_warnings}"
        )


def test_faults_none_baseline(
    stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    outcome = run_sweep(stack, FaultPlan(random.Random(1)))
    report(capsys, "no faults", outcome)
    assert (outcome.lost_state, outcome.lost_warnings, outcome.doubled_warnings) == (
        0,
        0,
        0,
    )


def test_faults_dynamodb_throttling(
    stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = FaultPlan(random.Random(2), dynamo_error_rate=0.25)
    outcome = run_sweep(stack, plan)
    report(capsys, "DynamoDB errors 25%", outcome)
    assert outcome.counts["dynamodb errors"] > 0
    assert (outcome.lost_state, outcome.lost_warnings, outcome.doubled_warnings) == (
        0,
        0,
        0,
    )


def test_faults_ledger_update_failures(
    stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    """A failed ledger update after a publish repeats that warning, never loses it.

    The worker retries the update; only when every retry fails does the warning
    go out again on redelivery, once per such failure.
    """
    plan = FaultPlan(random.Random(8), ledger_error_rate=0.6)
    outcome = run_sweep(stack, plan)
    report(capsys, "ledger update failures 60%", outcome)
    assert outcome.counts["dynamodb errors"] > 0
    assert (outcome.lost_state, outcome.lost_warnings) == (0, 0)
    expected = outcome.counts["ledger updates failed after retries"]
    assert outcome.doubled_warnings == expected


def test_faults_sns_publish_failures(
    stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = FaultPlan(random.Random(3), sns_error_rate=0.4)
    outcome = run_sweep(stack, plan)
    report(capsys, "SNS publish failures 40%", outcome)
    assert outcome.counts["sns errors"] > 0
    assert (outcome.lost_state, outcome.lost_warnings, outcome.doubled_warnings) == (
        0,
        0,
        0,
    )


@pytest.mark.parametrize(
    "point",
    [
        "before_read_state",  # killed between records: mid-batch
        "after_read_state",
        "after_write_state",
        "after_claim",
        "after_mark_sent",
    ],
)
def test_faults_worker_killed(
    stack: LocalStack, capsys: pytest.CaptureFixture[str], point: str
) -> None:
    plan = FaultPlan(random.Random(4), kill_point=point, kill_every=4)
    outcome = run_sweep(stack, plan)
    report(capsys, f"worker killed {point}", outcome)
    assert outcome.counts["kills"] > 0
    assert (outcome.lost_state, outcome.lost_warnings, outcome.doubled_warnings) == (
        0,
        0,
        0,
    )


def test_faults_worker_killed_after_publish(
    stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    """A death between the SNS publish and the ledger update repeats that warning.

    SNS standard topics cannot deduplicate, so the worker sends at least once:
    the repeat carries the same ``warning_id`` attribute. Nothing is lost.
    """
    plan = FaultPlan(random.Random(5), kill_point="after_publish", kill_every=4)
    outcome = run_sweep(stack, plan)
    report(capsys, "worker killed after_publish (at-least-once window)", outcome)
    assert (outcome.lost_state, outcome.lost_warnings) == (0, 0)
    assert outcome.doubled_warnings == outcome.counts["kills after_publish"]


def test_faults_redelivered_batches(
    stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    outcome = run_sweep(stack, FaultPlan(random.Random(6)), redeliver_all=True)
    report(capsys, "every batch delivered twice", outcome)
    assert outcome.redelivered_batches > 0
    assert (outcome.lost_state, outcome.lost_warnings, outcome.doubled_warnings) == (
        0,
        0,
        0,
    )


def test_faults_everything_at_once(
    stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = FaultPlan(
        random.Random(7), dynamo_error_rate=0.15, sns_error_rate=0.2, kill_rate=0.05
    )
    # Kills after a publish and failed ledger updates can repeat a warning by
    # design; they have their own tests above.
    outcome = run_sweep(stack, plan, redeliver_all=True)
    report(capsys, "all faults", outcome)
    assert outcome.counts["kills"] > 0
    assert (outcome.lost_state, outcome.lost_warnings, outcome.doubled_warnings) == (
        0,
        0,
        0,
    )
