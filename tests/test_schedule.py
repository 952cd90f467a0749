from __future__ import annotations

import dataclasses
import random
from datetime import timedelta

import pytest
from aws_support import NOW

from domain_guard.models import DnsOutcome, DomainFacts, RdapOutcome, Verdict
from domain_guard.schedule import (
    DNS_INTERVAL,
    RDAP_QUIET_INTERVAL,
    dns_changed,
    due_shard,
    plan_checks,
    rdap_due,
)

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


def facts(**changes: object) -> DomainFacts:
    base = DomainFacts(
        domain="example.com",
        rdap_outcome=RdapOutcome.FOUND,
        rdap_ok_at=NOW,
        expires_at=NOW + 200 * DAY,
        dns_outcome=DnsOutcome.EXISTS,
        checked_at=NOW,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("state", "verdict", "max_rdap_gap"),
    [
        (facts(), Verdict.ACTIVE, RDAP_QUIET_INTERVAL),
        (facts(expires_at=NOW + 20 * DAY), Verdict.EXPIRING, DAY),
        (facts(expires_at=NOW + 40 * DAY), Verdict.ACTIVE, DAY),
        (facts(statuses=("client hold",)), Verdict.HOLD, DAY),
        (facts(statuses=("redemption period",)), Verdict.REDEMPTION, 6 * HOUR),
        (facts(statuses=("pending delete",)), Verdict.PENDING_DELETE, 6 * HOUR),
        (facts(expires_at=NOW - 3 * DAY), Verdict.GRACE, DAY),
        (facts(dns_outcome=DnsOutcome.SERVFAIL), Verdict.ACTIVE, DAY),
        (facts(dns_outcome=DnsOutcome.TIMEOUT), Verdict.ACTIVE, DAY),
        (facts(dns_outcome=DnsOutcome.NOT_PROBED), Verdict.ACTIVE, DAY),
        (facts(dns_outcome=DnsOutcome.NXDOMAIN), Verdict.ACTIVE, RDAP_QUIET_INTERVAL),
        (facts(rdap_outcome=RdapOutcome.FAILED), Verdict.ACTIVE, 2 * HOUR),
        (facts(rdap_outcome=None, rdap_ok_at=None), Verdict.UNKNOWN, 2 * HOUR),
        (
            facts(rdap_outcome=RdapOutcome.NOT_FOUND, rdap_ok_at=None),
            Verdict.UNKNOWN,
            DAY,
        ),
    ],
)
def test_schedule_rdap_interval_by_state(
    state: DomainFacts, verdict: Verdict, max_rdap_gap: timedelta
) -> None:
    plan = plan_checks(state, verdict, NOW)
    assert plan.next_rdap_at - NOW <= max_rdap_gap
    assert plan.next_rdap_at - NOW >= max_rdap_gap * 0.9


@pytest.mark.parametrize("verdict", list(Verdict))
def test_schedule_dns_at_least_daily(verdict: Verdict) -> None:
    plan = plan_checks(facts(), verdict, NOW)
    assert NOW < plan.next_check_at <= NOW + DNS_INTERVAL


def test_schedule_quiet_domain_keeps_weekly_rhythm() -> None:
    state = facts(rdap_ok_at=NOW - 3 * DAY)
    plan = plan_checks(state, Verdict.ACTIVE, NOW)
    assert plan.next_rdap_at <= NOW + 4 * DAY


def test_schedule_checks_soon_after_expiry() -> None:
    state = facts(expires_at=NOW + 2 * HOUR)
    plan = plan_checks(state, Verdict.EXPIRING, NOW)
    assert plan.next_check_at <= NOW + 3 * HOUR


def test_schedule_shard_stable_and_in_range() -> None:
    shards = {due_shard(f"d{i}.example", 16) for i in range(500)}
    assert shards == {str(i) for i in range(16)}
    assert due_shard("example.com", 16) == due_shard("example.com", 16)


@pytest.mark.parametrize(
    ("state", "next_rdap", "expected"),
    [
        (None, None, True),
        (facts(), NOW + DAY, False),
        (facts(), NOW - HOUR, True),
        (facts(rdap_outcome=RdapOutcome.FAILED), NOW + DAY, True),
        (facts(rdap_outcome=RdapOutcome.NO_SERVICE), NOW + DAY, False),
    ],
)
def test_schedule_rdap_due(
    state: DomainFacts | None, next_rdap: object, expected: bool
) -> None:
    assert rdap_due(state, next_rdap, NOW) is expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("previous", "merged", "expected"),
    [
        (facts(), facts(), False),
        (facts(), facts(dns_changes=("nameservers moved",)), True),
        (facts(), facts(dns_outcome=DnsOutcome.NXDOMAIN), True),
        (
            facts(dns_outcome=DnsOutcome.NXDOMAIN),
            facts(dns_outcome=DnsOutcome.NXDOMAIN),
            False,
        ),
        (facts(dns_outcome=DnsOutcome.NXDOMAIN), facts(), True),
        (facts(), facts(dns_outcome=DnsOutcome.SERVFAIL), False),
    ],
)
def test_schedule_dns_changed(
    previous: DomainFacts, merged: DomainFacts, expected: bool
) -> None:
    assert dns_changed(previous, merged) is expected


def test_schedule_simulated_year_rdap_rate() -> None:
    """Simulate quiet domains with expiries spread over a year, renewed on time.

    Every check is a DNS probe, and RDAP is queried only when the plan has it
    due. The rate must stay under 0.35 queries per domain per day, with no gap
    between checks over 24 hours.
    """
    rng = random.Random(7)
    days = 365
    rdap_queries = 0
    longest_gap = timedelta(0)
    for index in range(200):
        expires = NOW + timedelta(days=rng.uniform(1, 365))
        state = facts(domain=f"d{index}.example", expires_at=expires)
        plan = plan_checks(state, Verdict.ACTIVE, NOW)
        now = NOW
        while now < NOW + days * DAY:
            step = plan.next_check_at - now
            longest_gap = max(longest_gap, step)
            now = plan.next_check_at
            if state.expires_at is not None and state.expires_at - now < 10 * DAY:
                # The owner renews ten days before expiry.
                state = dataclasses.replace(
                    state, expires_at=state.expires_at + 365 * DAY
                )
            if plan.next_rdap_at <= now:
                rdap_queries += 1
                state = dataclasses.replace(state, rdap_ok_at=now)
            verdict = (
                Verdict.EXPIRING
                if state.expires_at - now < 30 * DAY
                else Verdict.ACTIVE
            )  # type: ignore[operator]
            plan = plan_checks(state, verdict, now)
    rate = rdap_queries / (200 * days)
    print(f"simulated RDAP queries per domain per day: {rate:.3f}")
    assert rate <= 0.35
    assert longest_gap <= DNS_INTERVAL


@pytest.mark.parametrize("days", [30, 14, 7, 1])
def test_schedule_checks_just_after_threshold(days: int) -> None:
    # The threshold falls 12 hours from now, inside the next daily gap.
    expires_at = NOW + timedelta(days=days, hours=12)
    plan = plan_checks(facts(expires_at=expires_at), Verdict.EXPIRING, NOW)
    threshold = expires_at - timedelta(days=days)
    assert threshold < plan.next_check_at <= threshold + timedelta(minutes=5)


def test_schedule_custom_thresholds_used() -> None:
    expires_at = NOW + timedelta(days=3, hours=12)
    plan = plan_checks(
        facts(expires_at=expires_at), Verdict.EXPIRING, NOW, warning_days=(3,)
    )
    assert plan.next_check_at <= NOW + timedelta(hours=12, minutes=5)
