"""Token bucket per RDAP server, shared by every worker through one DynamoDB item.

Registries publish no rate limits and block clients that exceed them, so all
workers together must space their queries to one server in time. Each server
has an item ``PACE#<host>`` / ``BUCKET`` holding the tokens left, the time they
were counted (Unix seconds) and, after a 429 or 503, the time the server asked
us to wait until. Taking a token is a read followed by an update conditioned on
the counting time read, so two workers can never spend the same token. A worker
that gets no token puts the message back on the queue with a visibility delay.
docs/scheduling.md explains why this design was chosen over FIFO message groups.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from .errors import StoreError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

logger = logging.getLogger(__name__)

# Attempts at the conditional update before giving up on a contended bucket.
MAX_ATTEMPTS = 5
# The maximum block a Retry-After can set, in seconds: the SQS visibility limit.
MAX_BLOCK_SECONDS = 12 * 3600


class ServerPacer:
    """Spaces RDAP queries to each server at ``rate`` per second with ``burst``."""

    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        *,
        rate: float,
        burst: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be above 0 and burst at least 1")
        self._client = client
        self._table = table_name
        self._rate = rate
        self._burst = burst
        self._clock = clock

    def acquire(self, server: str) -> float:
        """Take one token for ``server``; return 0.0, or the seconds to wait first."""
        for _ in range(MAX_ATTEMPTS):
            now = self._clock()
            tokens, counted_at, blocked_until = self._read(server)
            if counted_at is not None:
                refill = max(0.0, now - counted_at) * self._rate
                tokens = min(self._burst, tokens + refill)
            if blocked_until > now:
                return blocked_until - now
            if tokens < 1:
                return (1 - tokens) / self._rate
            if self._spend(server, tokens - 1, now, counted_at, blocked_until):
                return 0.0
            logger.debug("pacing bucket contended, retrying", extra={"server": server})
        # Every attempt lost a race: the server is busy enough to wait a token.
        return 1 / self._rate

    def block(self, server: str, seconds: float) -> None:
        """Hold every query to ``server`` for ``seconds``, as a Retry-After requests."""
        seconds = min(max(seconds, 0.0), MAX_BLOCK_SECONDS)
        until = self._clock() + seconds
        try:
            self._client.update_item(
                TableName=self._table,
                Key=_bucket_key(server),
                UpdateExpression="SET blocked_until = :until",
                ConditionExpression=(
                    "attribute_not_exists(blocked_until) OR blocked_until < :until"
                ),
                ExpressionAttributeValues={":until": {"N": _number(until)}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != (
                "ConditionalCheckFailedException"
            ):
                raise StoreError(f"pacing block of {server} failed: {exc}") from exc
        except BotoCoreError as exc:
            raise StoreError(f"pacing block of {server} failed: {exc}") from exc
        logger.debug("server blocked", extra={"server": server, "seconds": seconds})

    def _read(self, server: str) -> tuple[float, float | None, float]:
        """Return tokens, the time they were counted and the block end of a bucket.

        A bucket never used, or only blocked so far, is full and never counted.
        """
        try:
            response = self._client.get_item(
                TableName=self._table, Key=_bucket_key(server), ConsistentRead=True
            )
        except (ClientError, BotoCoreError) as exc:
            raise StoreError(f"pacing read of {server} failed: {exc}") from exc
        item = response.get("Item", {})
        tokens = _read_number(item.get("tokens"))
        counted_at = _read_number(item.get("counted_at"))
        blocked_until = _read_number(item.get("blocked_until")) or 0.0
        if "tokens" not in item and "counted_at" not in item:
            return self._burst, None, blocked_until
        if tokens is None or counted_at is None:
            # A damaged bucket is replaced by a full one on the next spend.
            logger.warning("pacing bucket damaged, resetting", extra={"server": server})
            return self._burst, None, blocked_until
        return tokens, counted_at, blocked_until

    def _spend(
        self,
        server: str,
        tokens: float,
        now: float,
        counted_at: float | None,
        blocked_until: float,
    ) -> bool:
        values: dict[str, Any] = {
            ":tokens": {"N": _number(tokens)},
            ":now": {"N": _number(now)},
        }
        if counted_at is None:
            # A new bucket, or a damaged one whose attributes are not numbers.
            condition = (
                "attribute_not_exists(counted_at) OR "
                "NOT attribute_type(counted_at, :numeric) OR "
                "NOT attribute_type(tokens, :numeric)"
            )
            values[":numeric"] = {"S": "N"}
        else:
            condition = "counted_at = :seen"
            values[":seen"] = {"N": _number(counted_at)}
        try:
            self._client.update_item(
                TableName=self._table,
                Key=_bucket_key(server),
                UpdateExpression="SET tokens = :tokens, counted_at = :now",
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == (
                "ConditionalCheckFailedException"
            ):
                return False
            raise StoreError(f"pacing update of {server} failed: {exc}") from exc
        except BotoCoreError as exc:
            raise StoreError(f"pacing update of {server} failed: {exc}") from exc
        return True


def visibility_delay(wait_seconds: float) -> int:
    """Convert a pacing wait to an SQS visibility timeout in whole seconds."""
    return max(1, min(MAX_BLOCK_SECONDS, math.ceil(wait_seconds)))


def _bucket_key(server: str) -> dict[str, Any]:
    return {"pk": {"S": f"PACE#{server}"}, "sk": {"S": "BUCKET"}}


def _number(value: float) -> str:
    return repr(round(value, 6))


def _read_number(raw: Any) -> float | None:
    try:
        value = float(raw["N"])
    except (TypeError, ValueError, KeyError):
        return None
    return value if math.isfinite(value) else None
