"""The per-server token bucket, shared through the template's table in moto."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from aws_support import EpochClock

from domain_guard.errors import StoreError
from domain_guard.pacing import ServerPacer, visibility_delay

pytest_plugins = ["aws_fixtures"]


def pacer(table: str, clock: EpochClock, **kw: Any) -> ServerPacer:
    return ServerPacer(
        boto3.client("dynamodb"),
        table,
        rate=kw.get("rate", 2.0),
        burst=kw.get("burst", 3.0),
        clock=clock,
    )


def test_pacing_burst_then_wait(table: str) -> None:
    clock = EpochClock()
    bucket = pacer(table, clock)
    waits = [bucket.acquire("rdap.test") for _ in range(4)]
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert waits[3] == pytest.approx(0.5)


def test_pacing_refills_at_rate(table: str) -> None:
    clock = EpochClock()
    bucket = pacer(table, clock)
    for _ in range(3):
        bucket.acquire("rdap.test")
    clock.now += 0.5
    assert bucket.acquire("rdap.test") == 0.0
    assert bucket.acquire("rdap.test") == pytest.approx(0.5)


def test_pacing_servers_independent(table: str) -> None:
    clock = EpochClock()
    bucket = pacer(table, clock, burst=1.0)
    assert bucket.acquire("a.test") == 0.0
    assert bucket.acquire("b.test") == 0.0
    assert bucket.acquire("a.test") > 0


def test_pacing_shared_between_workers(table: str) -> None:
    clock = EpochClock()
    first, second = pacer(table, clock, burst=2.0), pacer(table, clock, burst=2.0)
    spent = [first.acquire("rdap.test"), second.acquire("rdap.test")]
    assert spent == [0.0, 0.0]
    assert first.acquire("rdap.test") > 0
    assert second.acquire("rdap.test") > 0


def test_pacing_spacing_over_time(table: str) -> None:
    # 20 s of demand at 2 per second: at most burst + 40 tokens are granted.
    clock = EpochClock()
    bucket = pacer(table, clock)
    granted = 0
    for _ in range(200):
        if bucket.acquire("rdap.test") == 0.0:
            granted += 1
        clock.now += 0.1
    assert granted <= 3 + 40
    assert granted >= 40


def test_pacing_block_honoured(table: str) -> None:
    clock = EpochClock()
    bucket = pacer(table, clock)
    bucket.block("rdap.test", 30)
    assert bucket.acquire("rdap.test") == pytest.approx(30)
    clock.now += 31
    assert bucket.acquire("rdap.test") == 0.0


def test_pacing_block_never_shortened(table: str) -> None:
    clock = EpochClock()
    bucket = pacer(table, clock)
    bucket.block("rdap.test", 60)
    bucket.block("rdap.test", 5)
    assert bucket.acquire("rdap.test") == pytest.approx(60)


def test_pacing_damaged_bucket_reset(table: str) -> None:
    boto3.client("dynamodb").put_item(
        TableName=table,
        Item={
            "pk": {"S": "PACE#rdap.test"},
            "sk": {"S": "BUCKET"},
            "tokens": {"S": "lots"},
            "counted_at": {"S": "yesterday"},
        },
    )
    bucket = pacer(table, EpochClock())
    assert bucket.acquire("rdap.test") == 0.0


def test_pacing_lost_races_give_wait(table: str) -> None:
    class Racing:
        """Moves the bucket between every read and update, as a busy peer would."""

        def __init__(self, client: Any) -> None:
            self._client = client
            self._moves = 0

        def get_item(self, **kwargs: Any) -> Any:
            return self._client.get_item(**kwargs)

        def update_item(self, **kwargs: Any) -> Any:
            self._moves += 1
            self._client.update_item(
                TableName=kwargs["TableName"],
                Key=kwargs["Key"],
                UpdateExpression="SET counted_at = :other",
                ExpressionAttributeValues={":other": {"N": str(self._moves)}},
            )
            return self._client.update_item(**kwargs)

    clock = EpochClock()
    pacer(table, clock).acquire("rdap.test")
    racing = ServerPacer(
        Racing(boto3.client("dynamodb")),  # type: ignore[arg-type]
        table,
        rate=2.0,
        burst=3.0,
        clock=clock,
    )
    assert racing.acquire("rdap.test") == pytest.approx(0.5)


def test_pacing_store_failure_raises(aws: None) -> None:
    bucket = ServerPacer(boto3.client("dynamodb"), "no-such-table", rate=1.0, burst=1.0)
    with pytest.raises(StoreError, match=r"rdap\.test"):
        bucket.acquire("rdap.test")


@pytest.mark.parametrize(
    ("wait", "expected"), [(0.2, 1), (1.0, 1), (2.5, 3), (10**6, 43200)]
)
def test_pacing_visibility_delay(wait: float, expected: int) -> None:
    assert visibility_delay(wait) == expected


def test_pacing_rejects_bad_rate(table: str) -> None:
    with pytest.raises(ValueError, match="rate"):
        pacer(table, EpochClock(), rate=0.0)
