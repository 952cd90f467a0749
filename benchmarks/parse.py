"""Benchmark: RDAP parse plus verdict against json.loads of the same bodies.

Reads every saved domain object in the shared sample folder (override with
DOMAIN_GUARD_SAMPLES), then times, per round, ``json.loads`` of all bodies and
``parse_domain`` plus ``merge_observation`` plus ``decide`` on the decoded
bodies. The ratio is the median round of the second over the median round of
the first; the target is 3x or less. The last line is
``parse: bodies=N ratio=Rx``.

Run: .venv/bin/python benchmarks/parse.py [--rounds N]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from domain_guard.errors import RdapBodyError
from domain_guard.facts import merge_observation
from domain_guard.models import Observation, RdapOutcome, RdapResult
from domain_guard.rdap import parse_domain
from domain_guard.verdict import decide

REPO_ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2025, 1, 1, tzinfo=UTC)


def samples_dir() -> Path:
    override = os.environ.get("DOMAIN_GUARD_SAMPLES")
    return Path(override) if override else REPO_ROOT.parent / "shared" / "rdap-samples"


def domain_bodies(folder: Path) -> list[bytes]:
    """Return the raw bytes of every saved file that is an RDAP domain object."""
    bodies = []
    for path in sorted(folder.rglob("*.json")):
        raw = path.read_bytes()
        try:
            parse_domain(json.loads(raw))
        except (RdapBodyError, ValueError):
            continue
        bodies.append(raw)
    return bodies


def time_loads(bodies: list[bytes]) -> float:
    started = time.perf_counter()
    for raw in bodies:
        json.loads(raw)
    return time.perf_counter() - started


def time_parse_and_verdict(decoded: list[object]) -> float:
    started = time.perf_counter()
    for body in decoded:
        record = parse_domain(body)
        result = RdapResult(outcome=RdapOutcome.FOUND, record=record)
        observation = Observation(domain=record.domain, observed_at=NOW, rdap=result)
        decide(merge_observation(None, observation), NOW)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300, help="timed rounds")
    args = parser.parse_args()

    folder = samples_dir()
    if not folder.is_dir():
        print(f"sample folder {folder} not found; set DOMAIN_GUARD_SAMPLES")
        return 1
    bodies = domain_bodies(folder)
    decoded = [json.loads(raw) for raw in bodies]

    for _ in range(20):  # warm caches and the status/event tables
        time_loads(bodies)
        time_parse_and_verdict(decoded)

    loads_rounds: list[float] = []
    parse_rounds: list[float] = []
    gc.disable()
    try:
        for _ in range(args.rounds):
            loads_rounds.append(time_loads(bodies))
            parse_rounds.append(time_parse_and_verdict(decoded))
    finally:
        gc.enable()

    loads = statistics.median(loads_rounds)
    parse = statistics.median(parse_rounds)
    size = sum(len(raw) for raw in bodies)
    print(f"python {sys.version.split()[0]}, {args.rounds} rounds, {size} bytes")
    print(f"json.loads:        {loads * 1e6 / len(bodies):8.1f} us per body")
    print(f"parse + verdict:   {parse * 1e6 / len(bodies):8.1f} us per body")
    print(f"loads + parse + verdict against loads: {(loads + parse) / loads:.2f}x")
    print(f"parse: bodies={len(bodies)} ratio={parse / loads:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
