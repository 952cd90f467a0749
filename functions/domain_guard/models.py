"""Records passed between the RDAP, DNS, verdict and store modules.

Every timestamp is a timezone-aware ``datetime`` in UTC. Every domain name is
the lowercase A-label form without a trailing dot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Verdict(StrEnum):
    """The verdict names of the check contract."""

    ACTIVE = "active"
    EXPIRING = "expiring"
    GRACE = "grace"
    HOLD = "hold"
    REDEMPTION = "redemption"
    PENDING_DELETE = "pending_delete"
    NOT_REGISTERED = "not_registered"
    REREGISTERED = "reregistered"
    OWNER_CHANGED = "owner_changed"
    UNKNOWN = "unknown"


# Verdicts that refuse a reset under any policy. `Policy.allow_unknown`
# decides `unknown`, and `active` and `expiring` allow.
DENY_VERDICTS = frozenset(
    {
        Verdict.GRACE,
        Verdict.HOLD,
        Verdict.REDEMPTION,
        Verdict.PENDING_DELETE,
        Verdict.NOT_REGISTERED,
        Verdict.REREGISTERED,
        Verdict.OWNER_CHANGED,
    }
)

# Lifecycle verdicts after expiry, in the order a lapsing domain passes them.
# The owner-change rule and the owner warnings key on these.
LAPSED_VERDICTS = frozenset(
    {Verdict.GRACE, Verdict.HOLD, Verdict.REDEMPTION, Verdict.PENDING_DELETE}
)


class RdapOutcome(StrEnum):
    """The outcome of an RDAP lookup."""

    FOUND = "found"
    NOT_FOUND = "not_found"  # HTTP 404 from the authoritative server
    FAILED = "failed"  # timeout, 5xx, 429, bad body, refused redirect, ...
    NO_SERVICE = "no_service"  # no RDAP server is known for the TLD


class DnsOutcome(StrEnum):
    """The outcome of a DNS probe of the domain's apex."""

    EXISTS = "exists"  # the name exists (an answer, or NoAnswer for the type)
    NXDOMAIN = "nxdomain"  # the only outcome that is evidence the name is gone
    SERVFAIL = "servfail"  # SERVFAIL or NoNameservers: no evidence
    TIMEOUT = "timeout"  # the overall deadline passed: no evidence
    NOT_PROBED = "not_probed"


@dataclass(frozen=True, slots=True)
class RdapRecord:
    """The fields Domain Guard reads from one RDAP domain object.

    A field the server did not publish, redacted (RFC 9537) or sent in a form
    that could not be read is ``None`` or empty, and ``notes`` names it.
    """

    domain: str
    statuses: tuple[str, ...] = ()  # RFC 8056 spaced lowercase, e.g. "client hold"
    expires_at: datetime | None = None
    registered_at: datetime | None = None  # latest registration/reregistration
    last_changed_at: datetime | None = None
    transferred_at: datetime | None = None
    registrar_expires_at: datetime | None = None  # "registrar expiration" event
    registrar: str | None = None  # registrar name from the registrar entity
    registrar_id: str | None = None  # IANA registrar id, when published
    registrar_rdap_url: str | None = None  # rel=related RDAP link, for referral
    nameservers: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RdapResult:
    """One RDAP lookup: the registry answer and, when followed, the registrar's."""

    outcome: RdapOutcome
    record: RdapRecord | None = None
    registrar_record: RdapRecord | None = None
    server: str | None = None  # host name of the registry RDAP server asked
    error: str | None = None  # why the lookup failed or a hop was skipped
    retry_after: float | None = None  # seconds, from Retry-After on 429/503
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DnsResult:
    outcome: DnsOutcome = DnsOutcome.NOT_PROBED
    nameservers: tuple[str, ...] = ()
    mx: tuple[str, ...] = ()
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Observation:
    """The result of one lookup of a domain at ``observed_at``."""

    domain: str
    observed_at: datetime
    rdap: RdapResult | None  # None when RDAP was not queried (DNS-only probe)
    dns: DnsResult = field(default_factory=DnsResult)


@dataclass(frozen=True, slots=True)
class DomainFacts:
    """The stored state of one registrable domain: the verdict's only input.

    ``merge_observation`` folds each new ``Observation`` into it. A failed
    lookup keeps the last good registry data and only moves ``checked_at``.
    The record contains no email address.
    """

    domain: str
    # Last RDAP outcome, and when RDAP last returned usable data.
    rdap_outcome: RdapOutcome | None = None
    rdap_error: str | None = None
    rdap_server: str | None = None
    rdap_ok_at: datetime | None = None
    statuses: tuple[str, ...] = ()
    expires_at: datetime | None = None
    registered_at: datetime | None = None
    last_changed_at: datetime | None = None
    transferred_at: datetime | None = None
    registrar: str | None = None
    registrar_id: str | None = None
    registrar_expires_at: datetime | None = None  # from the registrar hop
    # DNS, with the change reasons found when this probe was merged.
    dns_outcome: DnsOutcome = DnsOutcome.NOT_PROBED
    dns_checked_at: datetime | None = None
    nameservers: tuple[str, ...] = ()
    mx: tuple[str, ...] = ()
    dns_changes: tuple[str, ...] = ()
    # Baseline taken at enrollment (email verification).
    enrolled_at: datetime | None = None
    baseline_registered_at: datetime | None = None
    baseline_registrar: str | None = None
    # Last time the domain was seen lapsed (grace, hold, redemption, pending
    # delete) and the registrar at that moment: the owner-change rule's input.
    lapsed_seen_at: datetime | None = None
    lapsed_registrar: str | None = None
    checked_at: datetime | None = None  # last lookup attempt of any kind
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Policy:
    """Settings of the decision, from the deployment's parameters."""

    warning_days: int = 30
    allow_unknown: bool = True
    # The state is stale when no lookup confirmed it for `max_age_hours` (a
    # daily DNS probe missed twice) or its RDAP data is older than
    # `rdap_max_age_hours` (a weekly RDAP query missed). Then an allowing
    # verdict becomes `unknown` and a refusing one stays: old bad news is
    # still bad news.
    max_age_hours: float = 48.0
    rdap_max_age_hours: float = 240.0


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    allow: bool
    reasons: tuple[str, ...]
    stale: bool = False
