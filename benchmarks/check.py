"""Measure the check function against its two targets.

1. A warm check costs at most 1.15x a bare DynamoDB GetItem of the same item.
   Both run against the same moto table in this process, so moto's own cost
   is in both and the ratio shows what the check adds: request parsing, the
   verdict and the response.
2. The check module's cold import costs at most 1.3x ``import boto3`` alone.
   Each import runs in a fresh interpreter; the figure is the median.

Run: .venv/bin/python benchmarks/check.py [--rounds N] [--imports N]
The last two lines are ``check: warm ratio=Rx`` and ``check: import ratio=Rx``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

os.environ.update(
    {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
)

IMPORT_SNIPPET = (
    "import time; t = time.perf_counter(); import {module}; "
    "print(time.perf_counter() - t)"
)


def time_import(module: str) -> float:
    output = subprocess.run(
        [sys.executable, "-c", IMPORT_SNIPPET.format(module=module)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return float(output.strip())


def measure_imports(rounds: int) -> tuple[float, float]:
    boto3_times, check_times = [], []
    for _ in range(rounds):
        # Alternate, so a noisy neighbour slows both alike.
        boto3_times.append(time_import("boto3"))
        check_times.append(time_import("domain_guard.handlers.check"))
    return statistics.median(boto3_times), statistics.median(check_times)


def measure_warm(rounds: int) -> tuple[float, float]:
    import boto3
    from moto import mock_aws

    from domain_guard.config import Settings
    from domain_guard.handlers.check import check
    from domain_guard.models import DomainFacts, RdapOutcome
    from domain_guard.store import DomainStore
    from domain_guard_local.stack import deploy_stack

    now = datetime.now(UTC)
    with mock_aws():
        stack = deploy_stack()
        client = boto3.client("dynamodb")
        store = DomainStore(client, stack.table_name)
        facts = DomainFacts(
            domain="bench.example",
            rdap_outcome=RdapOutcome.FOUND,
            rdap_ok_at=now,
            checked_at=now,
            statuses=("client transfer prohibited",),
            expires_at=now + timedelta(days=200),
            registered_at=now - timedelta(days=5000),
            registrar="Example Registrar, Inc.",
            nameservers=("ns1.bench.example", "ns2.bench.example"),
        )
        store.put_facts(
            facts,
            previous=None,
            shard="0",
            next_check_at=now + timedelta(days=1),
            next_rdap_at=now + timedelta(days=7),
        )
        item = client.scan(TableName=stack.table_name)["Items"][0]
        key = {name: item[name] for name in ("pk", "sk") if name in item}
        settings = Settings(table_name=stack.table_name)
        event = {"email": "alice@bench.example", "verified_at": "2024-01-01T00:00:00Z"}

        def get_item() -> None:
            client.get_item(TableName=stack.table_name, Key=key)

        def run_check() -> None:
            response = check(event, store=store, settings=settings, now=now)
            assert response["verdict"] == "active", response

        for _ in range(20):
            get_item()
            run_check()
        get_times, check_times = [], []
        for _ in range(rounds):
            start = time.perf_counter()
            get_item()
            get_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            run_check()
            check_times.append(time.perf_counter() - start)
    return statistics.median(get_times), statistics.median(check_times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2000, help="warm rounds")
    parser.add_argument("--imports", type=int, default=15, help="cold imports each")
    args = parser.parse_args()

    get_item, warm = measure_warm(args.rounds)
    print(f"warm GetItem median: {get_item * 1e6:.0f} us")
    print(f"warm check median:   {warm * 1e6:.0f} us")
    boto3_import, check_import = measure_imports(args.imports)
    print(f"import boto3 median:        {boto3_import * 1e3:.1f} ms")
    print(f"import check module median: {check_import * 1e3:.1f} ms")
    print(f"check: warm ratio={warm / get_item:.2f}x")
    print(f"check: import ratio={check_import / boto3_import:.2f}x")


if __name__ == "__main__":
    main()
