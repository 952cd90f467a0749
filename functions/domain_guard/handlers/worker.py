"""worker: checks the domains of one SQS batch and stores what it saw.

For each domain the worker takes a pacing token for its RDAP server, or puts
the message back with a visibility delay. It looks the domain up and merges the
observation into the stored state. After the mass-change valve it writes with a
condition on the version read, then sends the owner warnings that are due.
The response lists only the messages that failed, so SQS redelivers those and
no others.

Redelivery is safe at every step: a write is conditional and re-merged after a
lost race, a message for a domain already checked since it was queued skips the
lookup, and the warning ledger lets each warning out once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from ..config import Settings
from ..errors import (
    DomainGuardError,
    InvalidRequestError,
    PublishError,
    StaleWriteError,
    StoreError,
)
from ..facts import merge_observation
from ..models import Decision, DomainFacts, Observation, Verdict
from ..notifications import (
    OwnerWarning,
    due_warnings,
    mass_change_alert,
    publish_operator_alert,
    publish_owner_warning,
)
from ..pacing import ServerPacer, visibility_delay
from ..schedule import dns_changed, due_shard, plan_checks, rdap_due
from ..store import Claim, DomainStore, StoredFacts
from ..verdict import decide
from . import aws_client, build_lookup_for, current_settings, utc_now
from .dispatch import SweepMessage

if TYPE_CHECKING:
    from mypy_boto3_sns.client import SNSClient
    from mypy_boto3_sqs.client import SQSClient

    from ..lookup import Lookup

logger = Logger(service="domain-guard")

# A pacing wait up to this long is slept through; a longer one defers the message.
MAX_INLINE_WAIT = 1.0
# Estimated maximum duration of one check, in milliseconds: RDAP (10 s) and
# DNS (3 s), both again when the DNS tripwire fires, two inline pacing waits,
# and about 2 s of DynamoDB and SNS calls (a guess, not measured).
WORST_CHECK_MS = 2 * (10_000 + 3_000) + 2 * 1_000 + 2_000
WRITE_ATTEMPTS = 3
MARK_ATTEMPTS = 3
# Shorter than the queue's visibility timeout (360 s), so a redelivery after a
# crash finds an abandoned claim expired and sends the warning.
CLAIM_LEASE = timedelta(seconds=300)


class Outcome(StrEnum):
    STORED = "stored"
    ALREADY_CHECKED = "already_checked"  # a duplicate delivery; warnings re-checked
    DEFERRED = "deferred"  # the RDAP server is busy: back on the queue
    HELD_BACK = "held_back"  # the mass-change valve kept the old state


@dataclass(slots=True)
class DomainResult:
    domain: str
    outcome: Outcome
    verdict: Verdict | None = None
    wait_seconds: float = 0.0
    warnings: list[OwnerWarning] = field(default_factory=list)


class WarningInFlight(DomainGuardError):
    """Another delivery has a fresh claim on a warning, so retry this message later."""


@dataclass(slots=True)
class WorkerDeps:
    """The worker's dependencies, explicit so tests and the local stack can swap any."""

    store: DomainStore
    pacer: ServerPacer
    lookup: Lookup
    settings: Settings
    sqs: SQSClient | None = None
    sns: SNSClient | None = None
    clock: Callable[[], datetime] = utc_now
    sleep: Callable[[float], None] = time.sleep
    # Results of the last batch, for the local demo's report.
    results: list[DomainResult] = field(default_factory=list)


def handler(event: Any, context: Any) -> dict[str, Any]:
    settings = current_settings()
    client = aws_client("dynamodb")
    store = DomainStore(client, settings.table_name)
    lookup = build_lookup_for(settings, store)
    deps = WorkerDeps(
        store=store,
        pacer=ServerPacer(
            client,
            settings.table_name,
            rate=settings.rdap_rate_per_second,
            burst=settings.rdap_burst,
        ),
        lookup=lookup,
        settings=settings,
        sqs=aws_client("sqs"),
        sns=aws_client("sns"),
    )
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    try:
        return process_batch(event, deps, remaining_ms=remaining)
    finally:
        lookup.close()


def process_batch(
    event: Any,
    deps: WorkerDeps,
    *,
    remaining_ms: Callable[[], int] | None = None,
) -> dict[str, Any]:
    """Check every record of an SQS event; return the partial batch response.

    With ``remaining_ms`` (the Lambda context's clock), records that one more
    worst-case check could not finish in time go back untouched, so a slow
    registry never times the whole batch out.
    """
    records = event.get("Records", []) if isinstance(event, Mapping) else []
    failures: list[dict[str, str]] = []
    deps.results = []
    for index, record in enumerate(records):
        message_id = str(record.get("messageId", ""))
        if remaining_ms is not None and remaining_ms() < WORST_CHECK_MS:
            left = records[index:]
            logger.info(
                "time budget spent, returning records",
                extra={"returned": len(left), "remaining_ms": remaining_ms()},
            )
            for unchecked in left:
                _defer(unchecked, 1.0, deps)
                failures.append({"itemIdentifier": str(unchecked.get("messageId", ""))})
            break
        try:
            message = SweepMessage.parse(record.get("body"))
        except InvalidRequestError as exc:
            # Kept for the dead-letter queue, where an operator can read it.
            logger.error(
                "sweep message unreadable",
                extra={"message_id": message_id, "error": str(exc)},
            )
            failures.append({"itemIdentifier": message_id})
            continue
        try:
            result = check_domain(message, deps)
        except Exception:  # the boundary: this message fails, the batch goes on
            logger.exception("domain check failed", extra={"domain": message.domain})
            failures.append({"itemIdentifier": message_id})
            continue
        deps.results.append(result)
        if result.outcome is Outcome.DEFERRED:
            _defer(record, result.wait_seconds, deps)
            failures.append({"itemIdentifier": message_id})
    logger.info(
        "batch done",
        extra={"records": len(records), "failures": len(failures)},
    )
    return {"batchItemFailures": failures}


def check_domain(message: SweepMessage, deps: WorkerDeps) -> DomainResult:
    """Check one domain; raise on a failure that SQS should retry."""
    domain = message.domain
    settings = deps.settings
    now = deps.clock()
    stored = deps.store.get_facts(domain, consistent=True)
    previous = stored.facts if stored is not None else None

    if previous is not None and _already_checked(previous, message):
        # Another delivery checked it since it was queued; only make sure that
        # delivery's warnings went out.
        decision = decide(previous, now, policy=settings.policy())
        warnings = send_warnings(previous, decision.verdict, now, deps)
        return DomainResult(
            domain, Outcome.ALREADY_CHECKED, decision.verdict, warnings=warnings
        )

    query_rdap = rdap_due(previous, stored.next_rdap_at if stored else None, now)
    if query_rdap and (wait := _pace(domain, deps)):
        return DomainResult(domain, Outcome.DEFERRED, wait_seconds=wait)
    observation = deps.lookup.observe(domain, now, query_rdap=query_rdap)
    merged = merge_observation(previous, observation)
    if not query_rdap and dns_changed(previous, merged):
        # The DNS tripwire fired: ask the registry now, and store nothing until then.
        logger.info("DNS changed, querying RDAP", extra={"domain": domain})
        if wait := _pace(domain, deps):
            return DomainResult(domain, Outcome.DEFERRED, wait_seconds=wait)
        observation = deps.lookup.observe(domain, now, query_rdap=True)
        merged = merge_observation(previous, observation)
    _honour_retry_after(observation, deps)

    decision = decide(merged, now, policy=settings.policy())
    if _valve_holds(previous, decision, message, now, deps):
        return DomainResult(domain, Outcome.HELD_BACK, decision.verdict)
    written, decision = _write(stored, observation, merged, decision, now, deps)
    warnings = send_warnings(written.facts, decision.verdict, now, deps)
    logger.info(
        "domain checked",
        extra={
            "domain": domain,
            "verdict": decision.verdict,
            "rdap": query_rdap,
            "warnings": len(warnings),
        },
    )
    return DomainResult(domain, Outcome.STORED, decision.verdict, warnings=warnings)


def send_warnings(
    facts: DomainFacts, verdict: Verdict, now: datetime, deps: WorkerDeps
) -> list[OwnerWarning]:
    """Send each warning the state calls for that the ledger has not seen.

    A failed publish releases its claim and raises, so the message is retried.
    """
    topic = deps.settings.owner_topic_arn
    if topic is None or deps.sns is None:
        return []
    sent = []
    for warning in due_warnings(facts, verdict, now, deps.settings.warning_days):
        claim = deps.store.claim_warning(
            facts.domain, warning.cycle, warning.ledger_kind, now=now, lease=CLAIM_LEASE
        )
        if claim is Claim.SENT:
            continue
        if claim is Claim.IN_FLIGHT:
            raise WarningInFlight(
                f"{warning.ledger_kind} warning for {facts.domain} is in flight "
                "elsewhere"
            )
        try:
            message_id = publish_owner_warning(deps.sns, topic, warning)
        except PublishError:
            deps.store.release_warning(facts.domain, warning.cycle, warning.ledger_kind)
            raise
        _mark_sent(facts.domain, warning, now, message_id, deps)
        logger.info(
            "owner warning sent",
            extra={
                "domain": facts.domain,
                "kind": warning.kind,
                "days_left": warning.days_left,
            },
        )
        sent.append(warning)
    return sent


def _mark_sent(
    domain: str, warning: OwnerWarning, now: datetime, message_id: str, deps: WorkerDeps
) -> None:
    """Record a published warning, retrying: a failure here means a repeat later.

    The warning is already out. If every attempt fails the message is retried,
    the claim outlives its lease, and the warning goes out a second time. That
    is the one place a warning can repeat; it is never lost.
    """
    for attempt in range(1, MARK_ATTEMPTS + 1):
        try:
            deps.store.mark_warning_sent(
                domain,
                warning.cycle,
                warning.ledger_kind,
                now=now,
                message_id=message_id,
            )
        except StoreError:
            if attempt == MARK_ATTEMPTS:
                raise
            logger.warning(
                "warning ledger update failed, retrying",
                extra={"domain": domain, "attempt": attempt},
            )
        else:
            return


def _already_checked(previous: DomainFacts, message: SweepMessage) -> bool:
    if previous.checked_at is None or message.dispatched_at is None:
        return False
    return previous.checked_at >= message.dispatched_at


def _pace(domain: str, deps: WorkerDeps) -> float:
    """Take a token for the domain's RDAP server; return the wait left, or 0.0."""
    server = deps.lookup.server_for(domain)
    if server is None:
        return 0.0
    wait = deps.pacer.acquire(server)
    if 0 < wait <= MAX_INLINE_WAIT:
        deps.sleep(wait)
        wait = deps.pacer.acquire(server)
    if wait > 0:
        logger.info(
            "RDAP server busy, deferring",
            extra={"domain": domain, "server": server, "wait": wait},
        )
    return wait


def _honour_retry_after(observation: Observation, deps: WorkerDeps) -> None:
    result = observation.rdap
    if result is None or result.retry_after is None or result.server is None:
        return
    deps.pacer.block(result.server, result.retry_after)
    logger.info(
        "RDAP server asked to wait",
        extra={"server": result.server, "retry_after": result.retry_after},
    )


def _valve_holds(
    previous: DomainFacts | None,
    decision: Decision,
    message: SweepMessage,
    now: datetime,
    deps: WorkerDeps,
) -> bool:
    """Count a move from allow to deny; True when the sweep passed its limit."""
    if message.sweep_id is None or decision.allow:
        return False
    if (
        previous is not None
        and not decide(previous, now, policy=deps.settings.policy()).allow
    ):
        return False
    count = deps.store.record_deny_move(message.sweep_id)
    limit = (
        count.deny_limit
        if count.deny_limit is not None
        else deps.settings.mass_change_min
    )
    if count.deny_moves <= limit:
        return False
    logger.warning(
        "mass-change valve held back a move to deny",
        extra={
            "domain": message.domain,
            "verdict": decision.verdict,
            "moves": count.deny_moves,
        },
    )
    topic = deps.settings.operator_topic_arn
    if (
        topic
        and deps.sns is not None
        and deps.store.claim_sweep_alert(message.sweep_id)
    ):
        try:
            publish_operator_alert(
                deps.sns,
                topic,
                mass_change_alert(message.sweep_id, count.deny_moves, limit),
            )
        except PublishError as exc:
            # NOTE: the claim is kept, so this sweep sends no second alert.
            logger.error("mass-change alert not sent", extra={"error": str(exc)})
    return True


def _write(
    stored: StoredFacts | None,
    observation: Observation,
    merged: DomainFacts,
    decision: Decision,
    now: datetime,
    deps: WorkerDeps,
) -> tuple[StoredFacts, Decision]:
    """Write the merged state; after a lost race, re-read and merge again."""
    settings = deps.settings
    shard = due_shard(merged.domain, settings.due_shards)
    for attempt in range(1, WRITE_ATTEMPTS + 1):
        plan = plan_checks(
            merged, decision.verdict, now, warning_days=settings.warning_days
        )
        try:
            written = deps.store.put_facts(
                merged,
                previous=stored,
                shard=shard,
                next_check_at=plan.next_check_at,
                next_rdap_at=plan.next_rdap_at,
            )
        except StaleWriteError:
            if attempt == WRITE_ATTEMPTS:
                raise
            logger.info(
                "state changed meanwhile, merging again",
                extra={"domain": merged.domain},
            )
            stored = deps.store.get_facts(merged.domain, consistent=True)
            merged = merge_observation(stored.facts if stored else None, observation)
            decision = decide(merged, now, policy=settings.policy())
            continue
        return written, decision
    raise AssertionError("unreachable")


def _defer(record: Mapping[str, Any], wait: float, deps: WorkerDeps) -> None:
    """Hide a message for the pacing wait, so SQS redelivers it when a token is due."""
    queue_url = deps.settings.queue_url
    receipt = record.get("receiptHandle")
    if deps.sqs is None or queue_url is None or not isinstance(receipt, str):
        return
    try:
        deps.sqs.change_message_visibility(
            QueueUrl=queue_url,
            ReceiptHandle=receipt,
            VisibilityTimeout=visibility_delay(wait),
        )
    except (ClientError, BotoCoreError) as exc:
        # The queue's own visibility timeout then decides when it comes back.
        logger.warning("visibility delay not set", extra={"error": str(exc)})
