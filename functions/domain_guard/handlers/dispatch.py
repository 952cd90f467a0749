"""dispatch: run by the schedule, sends the domains that are due to the sweep queue.

One run refreshes the IANA bootstrap (unless a fixed RDAP base URL is set) and
stores it for the workers, then pages the due index shard by shard. Each due
domain is leased first (its next check moves a few hours ahead, on condition
that no other run moved it), so overlapping runs never queue it twice, and a message
that is lost or dead-lettered comes due again when the lease ends. Messages for
one RDAP server are spread in time with SQS delays at the server's pacing rate.
"""

from __future__ import annotations

import json
import math
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from ..config import Settings
from ..errors import ConfigError, InvalidRequestError, PublishError
from ..names import registrable_domain
from ..notifications import (
    dead_letter_alert,
    publish_operator_alert,
    sweep_failure_alert,
)
from ..store import DomainStore, DueItem
from . import aws_client, current_settings, utc_now

if TYPE_CHECKING:
    import httpx
    from mypy_boto3_sns.client import SNSClient
    from mypy_boto3_sqs.client import SQSClient

logger = Logger(service="domain-guard")

LEASE = timedelta(hours=6)
SQS_BATCH = 10  # SendMessageBatch takes at most 10 entries
SEND_ATTEMPTS = 3
MAX_DELAY_SECONDS = 900  # the SQS limit on DelaySeconds
# A refresh at most this often: once per run on the default hourly schedule.
BOOTSTRAP_MAX_AGE = timedelta(minutes=50)


@dataclass(frozen=True, slots=True)
class SweepMessage:
    """The body of one sweep queue message."""

    domain: str
    sweep_id: str | None = None
    dispatched_at: datetime | None = None

    def to_json(self) -> str:
        return json.dumps(
            {
                "domain": self.domain,
                "sweep_id": self.sweep_id,
                "dispatched_at": self.dispatched_at.isoformat()
                if self.dispatched_at
                else None,
            }
        )

    @classmethod
    def parse(cls, body: object) -> SweepMessage:
        """Read a message body; raise InvalidRequestError when it is not one."""
        try:
            data = json.loads(body) if isinstance(body, str) else None
        except ValueError:
            data = None
        if not isinstance(data, Mapping) or not isinstance(data.get("domain"), str):
            raise InvalidRequestError(
                "sweep message is not a JSON object with 'domain'"
            )
        domain = data["domain"]
        try:
            canonical = registrable_domain(domain).domain
        except ValueError as exc:
            raise InvalidRequestError(
                f"sweep message domain is invalid: {exc}"
            ) from exc
        if canonical != domain:
            raise InvalidRequestError(
                f"sweep message domain {domain!r} is not registrable"
            )
        sweep_id = data.get("sweep_id")
        dispatched_at = None
        if isinstance(data.get("dispatched_at"), str):
            try:
                dispatched_at = datetime.fromisoformat(data["dispatched_at"])
            except ValueError:
                dispatched_at = None
        return cls(
            domain=domain,
            sweep_id=sweep_id if isinstance(sweep_id, str) else None,
            dispatched_at=dispatched_at,
        )


@dataclass(slots=True)
class DispatchReport:
    sweep_id: str
    queued: int = 0
    failed: int = 0
    leased_elsewhere: int = 0  # another run leased them first
    postponed: int = 0  # over a server's pacing capacity for one run
    bootstrap: str = "skipped"  # refreshed, cached, failed or skipped
    dead_letters: int | None = None
    errors: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "sweep_id": self.sweep_id,
            "queued": self.queued,
            "failed": self.failed,
            "leased_elsewhere": self.leased_elsewhere,
            "postponed": self.postponed,
            "bootstrap": self.bootstrap,
            "dead_letters": self.dead_letters,
        }


def handler(event: Any, context: Any) -> dict[str, Any]:
    settings = current_settings()
    if settings.queue_url is None:
        raise ConfigError(
            "DOMAIN_GUARD_QUEUE_URL is missing: set it to the sweep queue"
        )
    store = DomainStore(aws_client("dynamodb"), settings.table_name)
    http = None
    if settings.rdap_base_url is None:
        import httpx

        http = httpx.Client()
    try:
        report = dispatch(
            store=store,
            sqs=aws_client("sqs"),
            sns=aws_client("sns"),
            settings=settings,
            now=utc_now(),
            http=http,
        )
    finally:
        if http is not None:
            http.close()
    return report.to_json()


def dispatch(
    *,
    store: DomainStore,
    sqs: SQSClient,
    sns: SNSClient | None,
    settings: Settings,
    now: datetime,
    http: httpx.Client | None = None,
    sweep_id: str | None = None,
    bootstrap_url: str | None = None,
) -> DispatchReport:
    """Run one sweep: refresh the bootstrap, lease and queue every due domain."""
    report = DispatchReport(
        sweep_id=sweep_id or f"{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
    )
    logger.append_keys(sweep_id=report.sweep_id)
    try:
        _run_sweep(store, sqs, sns, settings, now, http, bootstrap_url, report)
    finally:
        logger.remove_keys(["sweep_id"])
    return report


def _run_sweep(
    store: DomainStore,
    sqs: SQSClient,
    sns: SNSClient | None,
    settings: Settings,
    now: datetime,
    http: httpx.Client | None,
    bootstrap_url: str | None,
    report: DispatchReport,
) -> None:
    logger.info("sweep started")
    if settings.rdap_base_url is None and http is not None:
        report.bootstrap = _refresh_bootstrap(store, http, now, bootstrap_url)
    sender = _BatchSender(sqs, settings.queue_url or "", report)
    per_server: Counter[str] = Counter()
    capacity = _server_capacity(settings)
    for shard in range(settings.due_shards):
        for page in store.due_pages(str(shard), now):
            for entry in page:
                # Only checks that query RDAP count against the server's pace.
                server = None
                if _rdap_due(entry, now):
                    server = entry.rdap_server or "unknown"
                if server is not None and per_server[server] >= capacity:
                    report.postponed += 1
                    continue
                if not store.lease_due(entry, now + LEASE):
                    report.leased_elsewhere += 1
                    continue
                delay = 0
                if server is not None:
                    delay = message_delay(per_server[server], settings)
                    per_server[server] += 1
                sender.add(SweepMessage(entry.domain, report.sweep_id, now), delay)
        sender.flush()
        _record_sweep(store, settings, report, now)
    _check_dead_letters(sqs, settings, report)
    _alert_failures(sns, store, settings, report)
    logger.info("sweep queued", extra=report.to_json())


def _rdap_due(entry: DueItem, now: datetime) -> bool:
    return entry.next_rdap_at is None or entry.next_rdap_at <= now


def message_delay(position: int, settings: Settings) -> int:
    """Return the SQS delay, in seconds, of a server's message at ``position``.

    Messages for one server are spread at its pacing rate, so workers find
    them due about when the server's bucket has a token for them.
    """
    spacing = position / settings.rdap_rate_per_second
    return min(MAX_DELAY_SECONDS, math.floor(spacing))


def _server_capacity(settings: Settings) -> int:
    """Return how many RDAP checks one server can take within the longest delay."""
    return math.floor(
        MAX_DELAY_SECONDS * settings.rdap_rate_per_second + settings.rdap_burst
    )


def _refresh_bootstrap(
    store: DomainStore, http: httpx.Client, now: datetime, url: str | None
) -> str:
    from ..bootstrap import IANA_BOOTSTRAP_URL, BootstrapCache
    from ..errors import BootstrapError

    cached = store.get_bootstrap()
    cache = BootstrapCache(
        cached.data if cached else None,
        cached.fetched_at if cached else None,
        max_age=BOOTSTRAP_MAX_AGE,
        url=url or IANA_BOOTSTRAP_URL,
    )
    try:
        cache.current(http, now)
    except BootstrapError as exc:
        logger.warning("bootstrap unavailable", extra={"error": str(exc)})
        return "failed"
    if cache.refreshed and cache.document is not None and cache.fetched_at is not None:
        store.put_bootstrap(cache.document, cache.fetched_at)
        logger.info("bootstrap refreshed")
        return "refreshed"
    if cache.error:
        logger.warning(
            "bootstrap refresh failed, using stored copy", extra={"error": cache.error}
        )
        return "failed"
    return "cached"


def _record_sweep(
    store: DomainStore, settings: Settings, report: DispatchReport, now: datetime
) -> None:
    limit = max(
        settings.mass_change_min, math.ceil(settings.mass_change_share * report.queued)
    )
    store.put_sweep(
        report.sweep_id, dispatched=report.queued, deny_limit=limit, now=now
    )


def _check_dead_letters(
    sqs: SQSClient, settings: Settings, report: DispatchReport
) -> None:
    if settings.dead_letter_queue_url is None:
        return
    try:
        response = sqs.get_queue_attributes(
            QueueUrl=settings.dead_letter_queue_url,
            AttributeNames=["ApproximateNumberOfMessages"],
        )
        report.dead_letters = int(response["Attributes"]["ApproximateNumberOfMessages"])
    except (ClientError, BotoCoreError, KeyError, ValueError) as exc:
        logger.warning("dead-letter depth unreadable", extra={"error": str(exc)})


def _alert_failures(
    sns: SNSClient | None,
    store: DomainStore,
    settings: Settings,
    report: DispatchReport,
) -> None:
    alerts = []
    if report.failed:
        alerts.append(
            sweep_failure_alert(
                report.sweep_id, report.failed, "; ".join(report.errors[:3])
            )
        )
    if report.dead_letters is not None:
        # Alert when the depth grew, not on every run while it stays put.
        previous = store.swap_alert_level("dead_letters", report.dead_letters)
        if report.dead_letters > (previous or 0):
            alerts.append(dead_letter_alert(report.dead_letters))
    if not alerts or sns is None or settings.operator_topic_arn is None:
        return
    for alert in alerts:
        try:
            publish_operator_alert(sns, settings.operator_topic_arn, alert)
        except PublishError as exc:
            logger.error("operator alert not sent", extra={"error": str(exc)})


class _BatchSender:
    """Sends sweep messages in SendMessageBatch calls, retrying failed entries."""

    def __init__(self, sqs: SQSClient, queue_url: str, report: DispatchReport) -> None:
        self._sqs = sqs
        self._queue_url = queue_url
        self._report = report
        self._pending: list[tuple[SweepMessage, int]] = []

    def add(self, message: SweepMessage, delay: int) -> None:
        self._pending.append((message, delay))
        if len(self._pending) == SQS_BATCH:
            self.flush()

    def flush(self) -> None:
        batch = dict(enumerate(self._pending))
        self._pending = []
        for attempt in range(1, SEND_ATTEMPTS + 1):
            if not batch:
                return
            batch = self._send(batch, attempt)
        for message, _ in batch.values():
            logger.error("domain not queued", extra={"domain": message.domain})
        self._report.failed += len(batch)

    def _send(
        self, batch: dict[int, tuple[SweepMessage, int]], attempt: int
    ) -> dict[int, tuple[SweepMessage, int]]:
        """Send one batch; return the entries that failed, for another attempt."""
        entries: list[Any] = [
            {"Id": str(index), "MessageBody": message.to_json(), "DelaySeconds": delay}
            for index, (message, delay) in batch.items()
        ]
        try:
            response = self._sqs.send_message_batch(
                QueueUrl=self._queue_url, Entries=entries
            )
        except (ClientError, BotoCoreError) as exc:
            logger.warning(
                "SendMessageBatch failed", extra={"attempt": attempt, "error": str(exc)}
            )
            self._report.errors.append(str(exc))
            return batch
        self._report.queued += len(response.get("Successful", []))
        failed = {}
        for entry in response.get("Failed", []):
            index = int(entry["Id"])
            failed[index] = batch[index]
            self._report.errors.append(f"{entry.get('Code')}: {entry.get('Message')}")
        if failed:
            logger.warning(
                "SendMessageBatch entries failed",
                extra={"attempt": attempt, "failed": len(failed)},
            )
        return failed
