"""Decide the verdict on a domain from its stored facts and the current time.

Pure: no I/O and no clock reads. The rules run in a fixed order, and the first
rule that matches sets the verdict:

1. Registry RDAP outcome: a 404 is ``not_registered`` only with NXDOMAIN from
   DNS, and a domain without any successful RDAP answer is ``unknown``.
2. Lifecycle statuses (RFC 8056 names of the EPP statuses of RFC 5731 and the
   RGP statuses of RFC 3915), ahead of any date.
3. Re-registration after the address was verified or after the enrolled
   baseline.
4. Owner change after the domain was seen lapsed.
5. Dates: expiry passed, inside the warning window, or beyond it.

Staleness is applied last: an allowing verdict becomes ``unknown``, and a
refusing one stays, when no lookup confirmed the state (an RDAP answer or a
DNS answer) within ``Policy.max_age_hours`` or when the registry data is older
than ``Policy.rdap_max_age_hours``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache

from domain_guard.models import (
    DENY_VERDICTS,
    Decision,
    DnsOutcome,
    DomainFacts,
    Policy,
    RdapOutcome,
    Verdict,
)

_DEFAULT_POLICY = Policy()

# RFC 3915 section 4.2.5: a deleted name that is not yet purged can still be
# restored by its registrar, and `pending restore` follows an accepted restore
# request. Both mean the registrant is about to lose the name.
_REDEMPTION_STATUSES = ("redemption period", "pending restore")
_PENDING_DELETE = "pending delete"
# The RFC 8056 registrations of both holds: DNS delegation information must
# not be published, so the name no longer resolves.
_HOLD_STATUSES = ("client hold", "server hold")
_AUTO_RENEW = "auto renew period"
_DNS_ANSWERED = frozenset({DnsOutcome.EXISTS, DnsOutcome.NXDOMAIN})

# Statuses that decide nothing but are worth telling the reader of a verdict.
_NOTED_STATUSES = {
    "inactive": "status inactive: no nameservers delegated",
    "add period": "status add period: newly registered",
    "pending create": "status pending create",
    "pending transfer": "status pending transfer",
    "transfer period": "status transfer period: recently transferred",
    "pending renew": "status pending renew",
}

_NO_STATUSES: frozenset[str] = frozenset()
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z])(?=[A-Z])")


@lru_cache(maxsize=512)
def normalise_status(status: str) -> str:
    """Map an EPP camelCase or RDAP spaced status to the RFC 8056 spaced form.

    ``clientHold``, ``client_hold`` and ``Client Hold`` all become
    ``client hold``.
    """
    spaced = _CAMEL_BOUNDARY.sub(" ", status).replace("_", " ").replace("-", " ")
    return " ".join(spaced.lower().split())


def format_instant(value: datetime) -> str:
    """Format a datetime as RFC 3339 in UTC with a ``Z`` suffix."""
    return _utc(value).isoformat().replace("+00:00", "Z")


def owner_change_reason(facts: DomainFacts) -> str | None:
    """Return the reason the domain changed hands after it was seen lapsed.

    The evidence is a registrar other than the one seen while lapsed, or a
    transfer event dated after the domain was last seen lapsed. Returns None
    when the domain was never seen lapsed or there is no such evidence.

    NOTE: a registrar that moves an expired name to another of its own
    customers changes neither field, so that sale is not detected.
    """
    lapsed_at = facts.lapsed_seen_at
    if lapsed_at is None:
        return None

    seen = format_instant(lapsed_at)
    old_registrar = facts.lapsed_registrar
    new_registrar = facts.registrar
    if (
        old_registrar is not None
        and new_registrar is not None
        and _registrar_key(old_registrar) != _registrar_key(new_registrar)
    ):
        return (
            f"registrar changed from {old_registrar} to {new_registrar} "
            f"after the domain was seen lapsed at {seen}"
        )

    transferred_at = facts.transferred_at
    if transferred_at is not None and _utc(transferred_at) > _utc(lapsed_at):
        return (
            f"transferred {format_instant(transferred_at)} "
            f"after the domain was seen lapsed at {seen}"
        )
    return None


def decide(
    facts: DomainFacts,
    now: datetime,
    *,
    verified_at: datetime | None = None,
    policy: Policy = _DEFAULT_POLICY,
) -> Decision:
    """Decide the verdict on ``facts`` at ``now`` and whether a reset may go.

    ``verified_at`` is when the address of the request was verified. Naive
    datetimes are read as UTC.
    """
    now = _utc(now)
    # Seconds, compared with timedelta.total_seconds(): cheaper than building
    # a timedelta on every call, and this runs once per parsed response.
    max_age = policy.max_age_hours * 3600.0

    if facts.rdap_outcome is RdapOutcome.NOT_FOUND:
        verdict, reasons = _decide_not_found(facts)
        stale = (
            facts.checked_at is not None
            and (now - _utc(facts.checked_at)).total_seconds() > max_age
        )
        return _finish(verdict, reasons, stale, policy)

    if facts.rdap_ok_at is None:
        return _finish(Verdict.UNKNOWN, [_no_data_reason(facts)], False, policy)

    verdict, reasons = _decide_registered(facts, now, verified_at, policy)
    if facts.rdap_outcome in (RdapOutcome.FAILED, RdapOutcome.NO_SERVICE):
        reasons.append(
            f"last RDAP lookup failed ({facts.rdap_error or facts.rdap_outcome}), "
            f"using data from {format_instant(facts.rdap_ok_at)}"
        )
    reasons.extend(facts.dns_changes)
    if facts.dns_outcome is DnsOutcome.NXDOMAIN:
        reasons.append("DNS returned NXDOMAIN for a registered domain")

    stale = False
    confirmed_at = _confirmed_at(facts)
    if (now - confirmed_at).total_seconds() > max_age:
        stale = True
        reasons.append(
            f"state last confirmed {format_instant(confirmed_at)}, more than "
            f"{policy.max_age_hours:g} hours ago"
        )
    rdap_age = (now - _utc(facts.rdap_ok_at)).total_seconds()
    if rdap_age > policy.rdap_max_age_hours * 3600.0:
        stale = True
        reasons.append(
            f"registry data from {format_instant(facts.rdap_ok_at)} is older "
            f"than {policy.rdap_max_age_hours:g} hours"
        )
    if stale and verdict not in DENY_VERDICTS:
        verdict = Verdict.UNKNOWN
    return _finish(verdict, reasons, stale, policy)


def _decide_registered(
    facts: DomainFacts,
    now: datetime,
    verified_at: datetime | None,
    policy: Policy,
) -> tuple[Verdict, list[str]]:
    statuses = (
        frozenset(map(normalise_status, facts.statuses))
        if facts.statuses
        else _NO_STATUSES
    )

    status_verdict = _decide_by_status(facts, statuses, now)
    if status_verdict is not None:
        verdict, status_reasons = status_verdict
        # The first matching status decides; the others and a passed expiry
        # are still stated, so the response shows everything that refuses.
        for status in (*_HOLD_STATUSES, _AUTO_RENEW):
            stated = f"status {status}"
            if status in statuses and not any(
                reason.startswith(stated) for reason in status_reasons
            ):
                status_reasons.append(stated)
        if facts.expires_at is not None and _utc(facts.expires_at) <= now:
            status_reasons.append(f"expired {format_instant(facts.expires_at)}")
        return verdict, status_reasons

    reasons: list[str] = []
    if _AUTO_RENEW in statuses and facts.registrar_expires_at is not None:
        # Only reached when the registrar expiry is after `now`.
        reasons.append(
            f"status {_AUTO_RENEW}, renewed at the registrar until "
            f"{format_instant(facts.registrar_expires_at)}"
        )
    if not statuses.isdisjoint(_NOTED_STATUSES):
        reasons.extend(
            reason for status, reason in _NOTED_STATUSES.items() if status in statuses
        )

    reregistered = _reregistration_reason(facts, verified_at)
    if reregistered is not None:
        return Verdict.REREGISTERED, [reregistered, *reasons]

    changed_hands = owner_change_reason(facts)
    if changed_hands is not None:
        return Verdict.OWNER_CHANGED, [changed_hands, *reasons]

    if facts.transferred_at is not None:
        reasons.append(f"transferred {format_instant(facts.transferred_at)}")

    verdict, date_reason = _decide_by_expiry(facts, now, policy)
    return verdict, [date_reason, *reasons]


def _decide_by_status(
    facts: DomainFacts, statuses: frozenset[str], now: datetime
) -> tuple[Verdict, list[str]] | None:
    redemption = [f"status {s}" for s in _REDEMPTION_STATUSES if s in statuses]
    if redemption:
        # A name in redemption also carries `pending delete`, as in the info
        # response example of RFC 3915 section 4.1.2, so redemption comes first.
        if _PENDING_DELETE in statuses:
            redemption.append(f"status {_PENDING_DELETE}")
        return Verdict.REDEMPTION, redemption

    if _PENDING_DELETE in statuses:
        return Verdict.PENDING_DELETE, [f"status {_PENDING_DELETE}"]

    holds = [f"status {s}" for s in _HOLD_STATUSES if s in statuses]
    if holds:
        return Verdict.HOLD, holds

    if _AUTO_RENEW in statuses:
        # The registry renews at expiry and may move the expiry date a year
        # ahead, so only the registrar's own expiry shows a real renewal.
        renewed_until = facts.registrar_expires_at
        if renewed_until is None:
            return Verdict.GRACE, [
                f"status {_AUTO_RENEW} without a registrar expiry to show renewal"
            ]
        if _utc(renewed_until) <= now:
            return Verdict.GRACE, [
                f"status {_AUTO_RENEW}, registrar expiry "
                f"{format_instant(renewed_until)} has passed"
            ]
    return None


def _reregistration_reason(
    facts: DomainFacts, verified_at: datetime | None
) -> str | None:
    registered_at = facts.registered_at
    if registered_at is None:
        return None
    registered = _utc(registered_at)

    if verified_at is not None and registered > _utc(verified_at):
        return (
            f"registered {format_instant(registered)} after the address was "
            f"verified {format_instant(verified_at)}"
        )

    baseline = facts.baseline_registered_at
    if baseline is not None and registered > _utc(baseline):
        return (
            f"registered {format_instant(registered)} after the enrolled "
            f"registration date {format_instant(baseline)}"
        )

    # An enrollment that saw no registration date still dates the baseline.
    enrolled_at = facts.enrolled_at
    if baseline is None and enrolled_at is not None and registered > _utc(enrolled_at):
        return (
            f"registered {format_instant(registered)} after the domain was "
            f"enrolled {format_instant(enrolled_at)}"
        )
    return None


def _decide_by_expiry(
    facts: DomainFacts, now: datetime, policy: Policy
) -> tuple[Verdict, str]:
    if facts.expires_at is None:
        # rdap.parse_domain adds a note for an expiration date it could not
        # read. That note is more precise than "not published", so it is the
        # reason (tests/test_cli.py checks the wording).
        for note in facts.notes:
            if note.startswith("expiration event date"):
                return Verdict.UNKNOWN, note
        return Verdict.UNKNOWN, "no expiry date published"

    expires_at = _utc(facts.expires_at)
    if expires_at <= now:
        return Verdict.GRACE, f"expired {format_instant(expires_at)}"
    if (expires_at - now).total_seconds() <= policy.warning_days * 86400.0:
        return (
            Verdict.EXPIRING,
            f"expires {format_instant(expires_at)}, within the "
            f"{policy.warning_days}-day warning window",
        )
    return Verdict.ACTIVE, f"expires {format_instant(expires_at)}"


_UNCORROBORATED_404 = {
    DnsOutcome.NOT_PROBED: "DNS not probed, so the 404 is not corroborated",
    DnsOutcome.EXISTS: "DNS still resolves the domain, so the 404 is not corroborated",
    DnsOutcome.SERVFAIL: "DNS failed (SERVFAIL), so the 404 is not corroborated",
    DnsOutcome.TIMEOUT: "DNS timed out, so the 404 is not corroborated",
}


def _decide_not_found(facts: DomainFacts) -> tuple[Verdict, list[str]]:
    reasons = ["registry RDAP server returned 404 (object not found)"]
    if facts.dns_outcome is DnsOutcome.NXDOMAIN:
        reasons.append("DNS returned NXDOMAIN")
        return Verdict.NOT_REGISTERED, reasons

    reasons.append(_UNCORROBORATED_404[facts.dns_outcome])
    if facts.lapsed_seen_at is not None:
        reasons.append(f"last seen lapsed at {format_instant(facts.lapsed_seen_at)}")
    return Verdict.UNKNOWN, reasons


def _confirmed_at(facts: DomainFacts) -> datetime:
    """Return when a lookup last confirmed the state: RDAP or an answered probe.

    Quiet domains query RDAP weekly and DNS daily, so a DNS answer that
    changed nothing confirms the state in between.
    """
    assert facts.rdap_ok_at is not None
    confirmed = _utc(facts.rdap_ok_at)
    dns_at = facts.dns_checked_at
    if dns_at is not None and facts.dns_outcome in _DNS_ANSWERED:
        confirmed = max(confirmed, _utc(dns_at))
    return confirmed


def _no_data_reason(facts: DomainFacts) -> str:
    if facts.rdap_outcome is RdapOutcome.NO_SERVICE:
        return "no RDAP service is known for the TLD"
    if facts.rdap_outcome is RdapOutcome.FAILED:
        return f"RDAP lookup failed: {facts.rdap_error or 'no detail'}"
    return "no RDAP data yet"


def _finish(
    verdict: Verdict, reasons: list[str], stale: bool, policy: Policy
) -> Decision:
    if verdict is Verdict.UNKNOWN:
        allow = policy.allow_unknown
        reasons.append(
            "unknown is allowed by policy" if allow else "unknown is denied by policy"
        )
    else:
        allow = verdict not in DENY_VERDICTS
    return Decision(verdict=verdict, allow=allow, reasons=tuple(reasons), stale=stale)


def _registrar_key(name: str) -> str:
    # "Example Registrar, Inc." and "EXAMPLE REGISTRAR INC" are one registrar.
    return "".join(character for character in name.casefold() if character.isalnum())


def _utc(value: datetime) -> datetime:
    if value.tzinfo is UTC:
        return value
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
