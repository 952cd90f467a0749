"""Simulate months of sweeps to measure RDAP load and how fast changes are seen.

Targets: at most 0.35 RDAP queries per domain per day, and every change of
verdict seen within 24 hours. The simulation runs the project's own schedule
(plan_checks, rdap_due, dns_changed), merge_observation and decide on a
population of domains whose registration lifecycle is scripted:

- most owners renew in the 60 days before expiry;
- some renew late, during the auto-renew grace period;
- some let the domain lapse: grace for 40 days, redemption for 30 (removed
  from DNS), pending delete for 5, then deleted; half of those are registered
  again by someone else within 3 days;
- a few are sold at the registrar's expired-domain auction on day 38.

Each domain is checked when its plan says so, with dispatch running hourly.
A change counts as seen at the first moment the verdict on the stored state
equals the true verdict. Run: .venv/bin/python benchmarks/schedule_sim.py
The last line is ``schedule: rdap_per_domain_day=R max_lag_hours=H``.
"""

from __future__ import annotations

import argparse
import heapq
import math
import random
import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from domain_guard.facts import enroll_baseline, merge_observation
from domain_guard.models import (
    DnsOutcome,
    DnsResult,
    DomainFacts,
    Observation,
    RdapOutcome,
    RdapRecord,
    RdapResult,
    Verdict,
)
from domain_guard.schedule import dns_changed, plan_checks, rdap_due
from domain_guard.verdict import decide

START = datetime(2026, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
GRACE = 40 * DAY
REDEMPTION = 30 * DAY
PENDING_DELETE = 5 * DAY
AUCTION_DAY = 38 * DAY


@dataclass
class Phase:
    """One stretch of a domain's true registration state."""

    start: datetime
    verdict: Verdict
    statuses: tuple[str, ...] = ()
    expires_at: datetime | None = None
    registered_at: datetime | None = None
    registrar: str = "Registrar A"
    in_rdap: bool = True
    in_dns: bool = True
    nameservers: tuple[str, ...] = ("ns1.dns-a.net", "ns2.dns-a.net")


@dataclass
class Domain:
    name: str
    phases: list[Phase]
    facts: DomainFacts | None = None
    next_check: datetime = START
    next_rdap: datetime | None = None
    rdap_queries: int = 0
    lags: list[float] = field(default_factory=list)
    missed: int = 0
    short: int = 0

    def truth(self, at: datetime) -> Phase:
        current = self.phases[0]
        for phase in self.phases:
            if phase.start <= at:
                current = phase
        return current


def script_domain(index: int, rng: random.Random) -> Domain:
    """Write one domain's true lifecycle from START for about a year."""
    name = f"d{index}.example"
    registered = START - timedelta(days=rng.uniform(400, 4000))
    expiry = START + timedelta(days=rng.uniform(1, 365))
    fate = rng.random()
    phases = [Phase(START - DAY, Verdict.ACTIVE, expires_at=expiry)]
    for phase in phases:
        phase.registered_at = registered

    def add(offset: datetime, verdict: Verdict, **fields: object) -> None:
        values = {"expires_at": expiry, "registered_at": registered, **fields}
        phases.append(Phase(offset, verdict, **values))  # type: ignore[arg-type]

    if fate < 0.78:
        renew_at = expiry - timedelta(days=rng.uniform(0, 60))
        add(renew_at, Verdict.ACTIVE, expires_at=expiry + 365 * DAY)
    elif fate < 0.86:
        add(expiry, Verdict.GRACE, statuses=("auto renew period",))
        add(
            expiry + timedelta(days=rng.uniform(1, 39)),
            Verdict.ACTIVE,
            expires_at=expiry + 365 * DAY,
        )
    elif fate < 0.88:
        add(expiry, Verdict.GRACE, statuses=("auto renew period",))
        add(
            expiry + AUCTION_DAY,
            Verdict.OWNER_CHANGED,
            expires_at=expiry + 365 * DAY,
            registrar="Auction Registrar",
        )
    else:
        add(expiry, Verdict.GRACE, statuses=("auto renew period",))
        redemption_at = expiry + GRACE
        add(
            redemption_at,
            Verdict.REDEMPTION,
            statuses=("redemption period", "pending delete"),
            in_dns=False,
        )
        deletion_at = redemption_at + REDEMPTION
        add(
            deletion_at,
            Verdict.PENDING_DELETE,
            statuses=("pending delete",),
            in_dns=False,
        )
        dropped_at = deletion_at + PENDING_DELETE
        add(dropped_at, Verdict.NOT_REGISTERED, in_rdap=False, in_dns=False)
        if rng.random() < 0.5:
            reborn_at = dropped_at + timedelta(days=rng.uniform(0, 3))
            add(
                reborn_at,
                Verdict.REREGISTERED,
                expires_at=reborn_at + 365 * DAY,
                registered_at=reborn_at,
                registrar="Registrar B",
                nameservers=("ns1.parking-b.com", "ns2.parking-b.com"),
            )
    return Domain(name=name, phases=phases)


def observe(domain: Domain, at: datetime, *, query_rdap: bool) -> Observation:
    phase = domain.truth(at)
    dns = DnsResult(outcome=DnsOutcome.NXDOMAIN)
    if phase.in_dns:
        dns = DnsResult(
            outcome=DnsOutcome.EXISTS,
            nameservers=phase.nameservers,
            mx=(f"mx.{domain.name}",),
        )
    rdap = None
    if query_rdap:
        domain.rdap_queries += 1
        if phase.in_rdap:
            record = RdapRecord(
                domain=domain.name,
                statuses=phase.statuses or ("client transfer prohibited",),
                expires_at=phase.expires_at,
                registered_at=phase.registered_at,
                registrar=phase.registrar,
                nameservers=phase.nameservers,
            )
            rdap = RdapResult(outcome=RdapOutcome.FOUND, record=record)
        else:
            rdap = RdapResult(outcome=RdapOutcome.NOT_FOUND)
    return Observation(domain=domain.name, observed_at=at, rdap=rdap, dns=dns)


def true_verdict(domain: Domain, at: datetime) -> Verdict:
    """Return the verdict a perfect observer would give, date rules included."""
    phase = domain.truth(at)
    if phase.verdict is Verdict.ACTIVE and phase.expires_at is not None:
        if phase.expires_at <= at:
            return Verdict.GRACE
        if phase.expires_at - at <= 30 * DAY:
            return Verdict.EXPIRING
    return phase.verdict


def check(domain: Domain, at: datetime) -> None:
    """Check a domain once, in the order the worker does."""
    query_rdap = rdap_due(domain.facts, domain.next_rdap, at)
    observation = observe(domain, at, query_rdap=query_rdap)
    merged = merge_observation(domain.facts, observation)
    if not query_rdap and dns_changed(domain.facts, merged):
        observation = observe(domain, at, query_rdap=True)
        merged = merge_observation(domain.facts, observation)
    if domain.facts is None:
        merged = enroll_baseline(merged, at=at)
    domain.facts = merged
    plan = plan_checks(merged, decide(merged, at).verdict, at)
    # Dispatch runs hourly, so a check happens at the first run after it is due.
    domain.next_check = _next_dispatch(plan.next_check_at)
    domain.next_rdap = plan.next_rdap_at


def _next_dispatch(when: datetime) -> datetime:
    hours = math.ceil((when - START) / HOUR)
    return START + hours * HOUR


def measure_lags(domain: Domain, checks: list[tuple[datetime, DomainFacts]]) -> None:
    """Record how long after each true change the stored verdict matched it."""
    boundaries = sorted(
        {p.start for p in domain.phases[1:]}
        | {
            p.expires_at - 30 * DAY
            for p in domain.phases
            if p.expires_at is not None and p.verdict is Verdict.ACTIVE
        }
        | {p.expires_at for p in domain.phases if p.expires_at is not None}
    )
    end = checks[-1][0]
    for index, changed_at in enumerate(boundaries):
        if not checks[0][0] < changed_at <= end:
            continue
        until = boundaries[index + 1] if index + 1 < len(boundaries) else end
        moments = [changed_at] + [t for t, _ in checks if changed_at < t < until]
        for moment in moments:
            facts = _stored_at(checks, moment)
            if decide(facts, moment).verdict is true_verdict(domain, moment):
                domain.lags.append((moment - changed_at) / HOUR)
                break
        else:
            # A state that lasted less than a day (a name registered again
            # hours after it dropped) may pass between two daily probes.
            if until - changed_at >= DAY:
                domain.missed += 1
            else:
                domain.short += 1


def _stored_at(checks: list[tuple[datetime, DomainFacts]], at: datetime) -> DomainFacts:
    stored = checks[0][1]
    for when, facts in checks:
        if when > at:
            break
        stored = facts
    return stored


def simulate(count: int, days: int, seed: int) -> tuple[float, list[float], int, int]:
    rng = random.Random(seed)
    domains = [script_domain(i, rng) for i in range(count)]
    history: dict[str, list[tuple[datetime, DomainFacts]]] = {
        d.name: [] for d in domains
    }
    end = START + days * DAY
    queue = [(d.next_check, i) for i, d in enumerate(domains)]
    heapq.heapify(queue)
    warmup_end = START + 7 * DAY
    warm_queries = {d.name: 0 for d in domains}
    while queue:
        at, index = heapq.heappop(queue)
        if at >= end:
            continue
        domain = domains[index]
        before = domain.rdap_queries
        check(domain, at)
        if at >= warmup_end:
            warm_queries[domain.name] += domain.rdap_queries - before
        assert domain.facts is not None
        history[domain.name].append((at, domain.facts))
        heapq.heappush(queue, (domain.next_check, index))
    for domain in domains:
        measure_lags(domain, history[domain.name])
    rate = sum(warm_queries.values()) / (count * (days - 7))
    lags = [lag for d in domains for lag in d.lags]
    missed = sum(d.missed for d in domains)
    short = sum(d.short for d in domains)
    return rate, lags, missed, short


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domains", type=int, default=1000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rate, lags, missed, short = simulate(args.domains, args.days, args.seed)
    lags.sort()
    p99 = lags[int(0.99 * (len(lags) - 1))] if lags else 0.0
    print(f"domains={args.domains} days={args.days} changes_seen={len(lags)}")
    print(f"states of a day or more never seen: {missed}")
    print(f"states shorter than a day never seen: {short}")
    print(f"lag hours: median={statistics.median(lags or [0]):.1f} p99={p99:.1f}")
    print(
        f"schedule: rdap_per_domain_day={rate:.3f} max_lag_hours={max(lags or [0]):.1f}"
    )


if __name__ == "__main__":
    main()
