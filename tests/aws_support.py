"""Fakes and helpers for the AWS-side tests: lookups, clocks, settings.

Import these freely; the fixtures live in aws_fixtures.py, which test modules
load with ``pytest_plugins = ["aws_fixtures"]``.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

from domain_guard.config import Settings
from domain_guard.facts import merge_observation
from domain_guard.models import (
    DnsOutcome,
    DnsResult,
    DomainFacts,
    Observation,
    RdapOutcome,
    RdapRecord,
    RdapResult,
)
from domain_guard.schedule import due_shard
from domain_guard.store import DomainStore
from domain_guard_local.stack import LocalStack

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
SERVER = "rdap.registry.test"


def stack_settings(stack: LocalStack, function: str, **changes: Any) -> Settings:
    """Read a function's Settings from its deployed environment."""
    settings = Settings.from_env(stack.environment(function))
    return dataclasses.replace(settings, **changes)


def record(
    domain: str,
    *,
    expires_in: timedelta | None = timedelta(days=300),
    statuses: tuple[str, ...] = ("active",),
    registered_at: datetime = NOW - timedelta(days=700),
    registrar: str = "Example Registrar",
    now: datetime = NOW,
) -> RdapRecord:
    return RdapRecord(
        domain=domain,
        statuses=statuses,
        expires_at=now + expires_in if expires_in is not None else None,
        registered_at=registered_at,
        registrar=registrar,
        nameservers=(f"ns1.{domain}",),
    )


def found(domain: str, **kwargs: Any) -> RdapResult:
    return RdapResult(
        outcome=RdapOutcome.FOUND, record=record(domain, **kwargs), server=SERVER
    )


class FakeLookup:
    """A Lookup stand-in that returns scripted RDAP results and counts queries."""

    def __init__(
        self,
        results: dict[str, RdapResult] | None = None,
        *,
        dns: DnsResult | None = None,
        server: str | None = SERVER,
    ) -> None:
        self.results = dict(results or {})
        self.dns = dns or DnsResult(
            outcome=DnsOutcome.EXISTS, nameservers=("ns1.example.net",)
        )
        self.dns_by_domain: dict[str, DnsResult] = {}
        self.server = server
        self.rdap_queries: list[str] = []
        self.dns_probes: list[str] = []
        self.closed = False

    def server_for(self, domain: str) -> str | None:
        return self.server

    def observe(
        self, domain: str, now: datetime, *, query_rdap: bool = True
    ) -> Observation:
        rdap = None
        if query_rdap:
            self.rdap_queries.append(domain)
            rdap = self.results.get(
                domain,
                RdapResult(outcome=RdapOutcome.NOT_FOUND, server=self.server),
            )
        self.dns_probes.append(domain)
        dns = self.dns_by_domain.get(domain, self.dns)
        return Observation(domain=domain, observed_at=now, rdap=rdap, dns=dns)

    def close(self) -> None:
        self.closed = True


class Clock:
    """A settable clock for handler dependencies."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


class EpochClock:
    """A settable Unix-seconds clock for the pacer."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def observed(domain: str, *, at: datetime = NOW, **record_kwargs: Any) -> Observation:
    """An observation of a domain that RDAP found, with a DNS answer."""
    return Observation(
        domain=domain,
        observed_at=at,
        rdap=found(domain, now=at, **record_kwargs),
        dns=DnsResult(outcome=DnsOutcome.EXISTS, nameservers=(f"ns1.{domain}",)),
    )


def save_state(
    store: DomainStore, domain: str, *, at: datetime = NOW, **record_kwargs: Any
) -> DomainFacts:
    """Store the facts of one found observation, due at ``at``."""
    facts = merge_observation(None, observed(domain, at=at, **record_kwargs))
    store.put_facts(
        facts,
        previous=store.get_facts(domain, consistent=True),
        shard=due_shard(domain, 16),
        next_check_at=at,
        next_rdap_at=at,
    )
    return facts
