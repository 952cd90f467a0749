"""Measure how much of the per-server pacing limit a sweep actually uses.

Target: the sweep reaches at least 90 % of the throughput that the pacing
limits allow. Workers share the real ServerPacer token buckets in a moto
DynamoDB table created from template.yaml, and follow the worker's own rules:
a wait up to MAX_INLINE_WAIT is slept through, a longer one puts the message
back with the visibility delay the worker would set. Dispatch's own spacing
of each server's messages (SQS delays at the server's rate) is applied to the
queue first, as the real sweep does. Time is virtual, so the
figure does not depend on the machine's speed: every lookup takes
``--lookup-seconds`` and every pacing call ``--call-seconds``.

Run: .venv/bin/python benchmarks/pacing.py
The last line is ``pacing: efficiency=E`` (the lowest of the servers).
"""

from __future__ import annotations

import argparse
import heapq
import os
from dataclasses import dataclass

os.environ.update(
    {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    }
)

# Queries per second each server allows, and the messages due for it.
SERVERS = {"rdap.slow.test": 0.5, "rdap.medium.test": 2.0, "rdap.fast.test": 5.0}
MESSAGES_PER_SERVER_SECOND = 120  # each server gets rate x this many messages


@dataclass
class VirtualClock:
    now: float = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def run(workers: int, lookup_seconds: float, call_seconds: float, burst: float) -> None:
    import boto3
    from moto import mock_aws

    from domain_guard.config import Settings
    from domain_guard.handlers.dispatch import message_delay
    from domain_guard.handlers.worker import MAX_INLINE_WAIT
    from domain_guard.pacing import ServerPacer, visibility_delay
    from domain_guard_local.stack import transform_template

    with mock_aws():
        properties = transform_template()["Resources"]["StateTable"]["Properties"]
        client = boto3.client("dynamodb")
        client.create_table(
            TableName="pacing-bench",
            AttributeDefinitions=properties["AttributeDefinitions"],
            KeySchema=properties["KeySchema"],
            GlobalSecondaryIndexes=properties["GlobalSecondaryIndexes"],
            BillingMode="PAY_PER_REQUEST",
        )
        clock = VirtualClock()
        pacers = {
            server: ServerPacer(
                client, "pacing-bench", rate=rate, burst=burst, clock=clock
            )
            for server, rate in SERVERS.items()
        }
        start = clock.now
        # (visible at, sequence, server): the sweep queue, all due at once.
        queue: list[tuple[float, int, str]] = []
        for server, rate in SERVERS.items():
            settings = Settings(table_name="pacing-bench", rdap_rate_per_second=rate)
            for position in range(int(rate * MESSAGES_PER_SERVER_SECOND)):
                # Dispatch spreads each server's messages with SQS delays.
                delay = message_delay(position, settings)
                heapq.heappush(queue, (start + delay, len(queue), server))
        free_at = [start] * workers
        finished: dict[str, list[float]] = {server: [] for server in SERVERS}
        deferrals = 0
        while queue:
            worker = min(range(workers), key=free_at.__getitem__)
            visible_at, sequence, server = heapq.heappop(queue)
            at = max(free_at[worker], visible_at)
            clock.now = at
            wait = pacers[server].acquire(server)
            at += call_seconds
            if 0 < wait <= MAX_INLINE_WAIT:
                at += wait
                clock.now = at
                wait = pacers[server].acquire(server)
                at += call_seconds
            if wait > 0:
                deferrals += 1
                heapq.heappush(queue, (at + visibility_delay(wait), sequence, server))
                free_at[worker] = at
                continue
            at += lookup_seconds
            finished[server].append(at)
            free_at[worker] = at

    lowest = 1.0
    for server, rate in SERVERS.items():
        done = sorted(finished[server])
        # The first `burst` queries go at once; the rest at the refill rate.
        allowed = (len(done) - burst) / rate + lookup_seconds
        used = done[-1] - start
        efficiency = allowed / used
        lowest = min(lowest, efficiency)
        print(
            f"{server}: rate={rate:g}/s queries={len(done)} allowed={allowed:.1f} s"
            f" used={used:.1f} s efficiency={efficiency:.3f}"
        )
    print(f"workers={workers} deferrals={deferrals}")
    print(f"pacing: efficiency={lowest:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=5)
    parser.add_argument("--lookup-seconds", type=float, default=0.4)
    parser.add_argument("--call-seconds", type=float, default=0.01)
    parser.add_argument("--burst", type=float, default=3.0)
    args = parser.parse_args()
    run(args.workers, args.lookup_seconds, args.call_seconds, args.burst)


if __name__ == "__main__":
    main()
