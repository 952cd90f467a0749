"""When each domain is checked next, and whether that check queries RDAP.

Every domain gets a DNS probe at least once a day, the tripwire that detects a
domain leaving DNS (hold, deletion) or changing hands (new nameservers). RDAP, which
registries rate-limit, is queried only when it can change the verdict soon:

- no usable RDAP data yet, or the last query failed: retry in 2 hours;
- within 45 days of expiry, or past it: daily;
- a bad status (hold, redemption, pending delete, auto renew period) or a
  refusing verdict: daily, and every 6 hours in redemption or pending delete;
- the DNS probe saw a change: at once, in the same check;
- DNS gave no answer last time (SERVFAIL, timeout, or DNS turned off): daily,
  because only an answer confirms the state between RDAP queries;
- otherwise weekly.

With expiry dates spread over the year about 12 % of domains are within 45 days
of expiry, so the estimate is 0.88 / 7 + 0.12 * 1 = 0.25 RDAP queries per
domain per day, under the 0.35 target. docs/scheduling.md has the reasoning.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from .config import DEFAULT_WARNING_DAYS
from .models import DnsOutcome, DomainFacts, RdapOutcome, Verdict

DNS_INTERVAL = timedelta(hours=24)
RDAP_QUIET_INTERVAL = timedelta(days=7)
RDAP_NEAR_EXPIRY_INTERVAL = timedelta(hours=24)
LIFECYCLE_INTERVAL = timedelta(hours=6)
RETRY_INTERVAL = timedelta(hours=2)
MINIMUM_GAP = timedelta(minutes=10)
NEAR_EXPIRY = timedelta(days=45)
# How long after a warning threshold the check that sends its warning runs.
THRESHOLD_MARGIN = timedelta(minutes=5)
# Checks move up to this share of their interval earlier, by a hash of the
# domain, so domains enrolled together do not stay due together.
SPREAD_SHARE = 0.05

_DNS_ANSWERED = frozenset({DnsOutcome.EXISTS, DnsOutcome.NXDOMAIN})
_BAD_STATUS_WORDS = ("hold", "redemption", "pending delete", "pending restore")
_FAST_VERDICTS = frozenset({Verdict.REDEMPTION, Verdict.PENDING_DELETE})
_DAILY_RDAP_VERDICTS = frozenset(
    {
        Verdict.GRACE,
        Verdict.HOLD,
        Verdict.NOT_REGISTERED,
        Verdict.REREGISTERED,
        Verdict.OWNER_CHANGED,
        Verdict.EXPIRING,
    }
)


@dataclass(frozen=True, slots=True)
class CheckPlan:
    """The next check of a domain and the earliest time it queries RDAP again."""

    next_check_at: datetime
    next_rdap_at: datetime


def due_shard(domain: str, shard_count: int) -> str:
    """Return the due index shard of a domain: a stable hash, as a string key."""
    digest = hashlib.sha256(domain.encode()).digest()
    return str(int.from_bytes(digest[:4], "big") % shard_count)


def plan_checks(
    facts: DomainFacts,
    verdict: Verdict,
    now: datetime,
    *,
    warning_days: tuple[int, ...] = DEFAULT_WARNING_DAYS,
) -> CheckPlan:
    """Plan the next check of a domain from its state just written.

    A check is also planned just after each owner-warning threshold
    (``warning_days`` before expiry), so a daily rhythm that drifts by a
    few minutes never steps over the 1-day warning.
    """
    rdap_interval = _rdap_interval(facts, verdict, now)
    last_rdap = facts.rdap_ok_at if facts.rdap_outcome is RdapOutcome.FOUND else None
    # A quiet domain keeps its weekly rhythm across DNS-only checks; retries and
    # lifecycle checks count from now.
    base = now
    if rdap_interval in (RDAP_QUIET_INTERVAL, RDAP_NEAR_EXPIRY_INTERVAL) and last_rdap:
        base = min(last_rdap, now)
    next_rdap = max(base + _spread(facts.domain, rdap_interval), now + MINIMUM_GAP)

    next_check = min(now + _spread(facts.domain, DNS_INTERVAL), next_rdap)
    # Look again soon after the expiry instant, so grace is seen on its first day.
    if facts.expires_at is not None and now < facts.expires_at < next_check:
        next_check = facts.expires_at + timedelta(minutes=30)
        next_rdap = min(next_rdap, next_check)
    if facts.expires_at is not None:
        for days in warning_days:
            threshold = facts.expires_at - timedelta(days=days)
            if now < threshold < next_check:
                next_check = threshold + THRESHOLD_MARGIN
    return CheckPlan(next_check_at=next_check, next_rdap_at=next_rdap)


def rdap_due(
    facts: DomainFacts | None, next_rdap_at: datetime | None, now: datetime
) -> bool:
    """Tell whether a check at ``now`` must query RDAP before probing DNS."""
    if facts is None or next_rdap_at is None:
        return True
    if facts.rdap_outcome not in (RdapOutcome.FOUND, RdapOutcome.NO_SERVICE):
        return True
    return next_rdap_at <= now


def dns_changed(previous: DomainFacts | None, merged: DomainFacts) -> bool:
    """Tell whether a DNS-only probe saw something that calls for RDAP now."""
    if merged.dns_changes:
        return True
    if merged.dns_outcome is DnsOutcome.NXDOMAIN:
        return previous is None or previous.dns_outcome is not DnsOutcome.NXDOMAIN
    if previous is None:
        return False
    return (
        previous.dns_outcome is DnsOutcome.NXDOMAIN
        and merged.dns_outcome is DnsOutcome.EXISTS
    )


def _rdap_interval(facts: DomainFacts, verdict: Verdict, now: datetime) -> timedelta:
    if verdict in _FAST_VERDICTS:
        return LIFECYCLE_INTERVAL
    if facts.rdap_outcome is RdapOutcome.NO_SERVICE:
        return RDAP_QUIET_INTERVAL
    if facts.rdap_outcome is RdapOutcome.NOT_FOUND:
        return RDAP_NEAR_EXPIRY_INTERVAL
    if facts.rdap_outcome in (None, RdapOutcome.FAILED) or facts.rdap_ok_at is None:
        return RETRY_INTERVAL
    if verdict in _DAILY_RDAP_VERDICTS or _has_bad_status(facts):
        return RDAP_NEAR_EXPIRY_INTERVAL
    if facts.dns_outcome not in _DNS_ANSWERED:
        # Without a DNS answer the daily probe confirms nothing, and the
        # verdict calls a state stale after two days without confirmation.
        return RDAP_NEAR_EXPIRY_INTERVAL
    if facts.expires_at is not None and facts.expires_at - now <= NEAR_EXPIRY:
        return RDAP_NEAR_EXPIRY_INTERVAL
    return RDAP_QUIET_INTERVAL


def _has_bad_status(facts: DomainFacts) -> bool:
    return (
        any(word in status for status in facts.statuses for word in _BAD_STATUS_WORDS)
        or "auto renew period" in facts.statuses
    )


def _spread(domain: str, interval: timedelta) -> timedelta:
    digest = hashlib.sha256(f"spread:{domain}".encode()).digest()
    fraction = int.from_bytes(digest[:2], "big") / 0xFFFF
    return interval - interval * (SPREAD_SHARE * fraction)
