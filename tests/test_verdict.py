"""Verdict rules: every verdict, the date boundaries and real status combinations."""

from __future__ import annotations

import dataclasses
import json
import os
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from domain_guard.models import (
    DENY_VERDICTS,
    DnsOutcome,
    DomainFacts,
    Policy,
    RdapOutcome,
    Verdict,
)
from domain_guard.verdict import decide, format_instant, normalise_status

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
REGISTRAR = "Example Registrar, Inc."
AUCTION_REGISTRAR = "Drop Catcher LLC"


def healthy(**changes: Any) -> DomainFacts:
    """Facts of a registered domain looked up an hour ago, a year from expiry."""
    base = DomainFacts(
        domain="example.com",
        rdap_outcome=RdapOutcome.FOUND,
        rdap_server="rdap.example",
        rdap_ok_at=NOW - HOUR,
        statuses=("client transfer prohibited",),
        expires_at=NOW + 365 * DAY,
        registered_at=datetime(2015, 3, 1, tzinfo=UTC),
        registrar=REGISTRAR,
        dns_outcome=DnsOutcome.EXISTS,
        dns_checked_at=NOW - HOUR,
        nameservers=("ns1.example.net", "ns2.example.net"),
        checked_at=NOW - HOUR,
    )
    return dataclasses.replace(base, **changes)


# --- every verdict, decided by dates -----------------------------------------

DATE_CASES = [
    ("year_ahead", NOW + 365 * DAY, Verdict.ACTIVE),
    ("window_plus_one_second", NOW + 30 * DAY + timedelta(seconds=1), Verdict.ACTIVE),
    (
        "window_plus_one_microsecond",
        NOW + 30 * DAY + timedelta(microseconds=1),
        Verdict.ACTIVE,
    ),
    ("window_edge_exact", NOW + 30 * DAY, Verdict.EXPIRING),
    ("window_inside", NOW + 10 * DAY, Verdict.EXPIRING),
    ("one_microsecond_left", NOW + timedelta(microseconds=1), Verdict.EXPIRING),
    ("expiry_instant_exact", NOW, Verdict.GRACE),
    ("one_microsecond_past", NOW - timedelta(microseconds=1), Verdict.GRACE),
    ("month_past", NOW - 30 * DAY, Verdict.GRACE),
]


@pytest.mark.parametrize(
    ("expires_at", "expected"),
    [case[1:] for case in DATE_CASES],
    ids=[case[0] for case in DATE_CASES],
)
def test_decide_expiry_boundaries(expires_at: datetime, expected: Verdict) -> None:
    decision = decide(healthy(expires_at=expires_at), NOW)
    assert decision.verdict is expected


def test_decide_expired_reason_names_date() -> None:
    facts = healthy(expires_at=datetime(2024, 5, 1, tzinfo=UTC))
    assert decide(facts, NOW).reasons[0] == "expired 2024-05-01T00:00:00Z"


def test_decide_expiring_reason_names_window() -> None:
    reasons = decide(healthy(expires_at=NOW + 5 * DAY), NOW).reasons
    assert reasons[0] == (
        "expires 2024-06-06T12:00:00Z, within the 30-day warning window"
    )


def test_decide_active_reason_names_expiry() -> None:
    reasons = decide(healthy(), NOW).reasons
    assert reasons == ("expires 2025-06-01T12:00:00Z",)


def test_decide_no_expiry_is_unknown() -> None:
    decision = decide(healthy(expires_at=None), NOW)
    assert decision.verdict is Verdict.UNKNOWN
    assert decision.reasons[0] == "no expiry date published"


@pytest.mark.parametrize(
    ("warning_days", "days_left", "expected"),
    [
        (0, 0.5, Verdict.ACTIVE),
        (7, 7, Verdict.EXPIRING),
        (7, 8, Verdict.ACTIVE),
        (60, 45, Verdict.EXPIRING),
        (60, 61, Verdict.ACTIVE),
    ],
)
def test_decide_warning_days_policy(
    warning_days: int, days_left: float, expected: Verdict
) -> None:
    facts = healthy(expires_at=NOW + timedelta(days=days_left))
    decision = decide(facts, NOW, policy=Policy(warning_days=warning_days))
    assert decision.verdict is expected


# --- time zones --------------------------------------------------------------

PLUS_FIVE = timezone(timedelta(hours=5))
MINUS_SEVEN = timezone(timedelta(hours=-7))


@pytest.mark.parametrize(
    ("expires_at", "now", "expected"),
    [
        # 17:00 at +05:00 is 12:00 UTC, the same instant as NOW.
        (datetime(2024, 6, 1, 17, 0, tzinfo=PLUS_FIVE), NOW, Verdict.GRACE),
        (datetime(2024, 6, 1, 17, 0, 1, tzinfo=PLUS_FIVE), NOW, Verdict.EXPIRING),
        # 05:00 at -07:00 is NOW.
        (NOW, datetime(2024, 6, 1, 5, 0, tzinfo=MINUS_SEVEN), Verdict.GRACE),
        (NOW, datetime(2024, 6, 1, 4, 59, 59, tzinfo=MINUS_SEVEN), Verdict.EXPIRING),
        # A naive time is read as UTC.
        (NOW, datetime(2024, 6, 1, 12, 0), Verdict.GRACE),
        (datetime(2024, 6, 1, 12, 0, 1), NOW, Verdict.EXPIRING),
    ],
    ids=["offset_expiry_exact", "offset_expiry_after", "offset_now_exact",
         "offset_now_before", "naive_now", "naive_expiry"],
)  # fmt: skip
def test_decide_compares_instants_in_utc(
    expires_at: datetime, now: datetime, expected: Verdict
) -> None:
    decision = decide(healthy(expires_at=expires_at), now)
    assert decision.verdict is expected


def test_decide_reason_dates_in_utc() -> None:
    facts = healthy(expires_at=datetime(2024, 5, 1, 5, 0, tzinfo=PLUS_FIVE))
    assert decide(facts, NOW).reasons[0] == "expired 2024-05-01T00:00:00Z"


def test_decide_verified_at_with_offset() -> None:
    facts = healthy(registered_at=datetime(2024, 5, 1, 10, 30, tzinfo=UTC))
    # 15:00 at +05:00 is 10:00 UTC, before the registration.
    verified_at = datetime(2024, 5, 1, 15, 0, tzinfo=PLUS_FIVE)
    decision = decide(facts, NOW, verified_at=verified_at)
    assert decision.verdict is Verdict.REREGISTERED


# --- statuses ----------------------------------------------------------------

STATUS_CASES = [
    ("redemption", ("redemption period",), Verdict.REDEMPTION),
    ("redemption_with_pending_delete", ("redemption period", "pending delete"),
     Verdict.REDEMPTION),
    ("redemption_with_hold", ("redemption period", "pending delete", "server hold",
                              "client transfer prohibited"), Verdict.REDEMPTION),
    ("pending_restore", ("pending restore", "pending delete"), Verdict.REDEMPTION),
    ("pending_delete_alone", ("pending delete",), Verdict.PENDING_DELETE),
    ("pending_delete_with_hold", ("pending delete", "client hold"),
     Verdict.PENDING_DELETE),
    ("pending_delete_with_prohibitions", ("pending delete", "server update prohibited",
                                          "server transfer prohibited"),
     Verdict.PENDING_DELETE),
    ("client_hold", ("client hold",), Verdict.HOLD),
    ("client_hold_with_prohibitions", ("client hold", "client transfer prohibited",
                                       "client update prohibited",
                                       "client delete prohibited"), Verdict.HOLD),
    ("server_hold", ("server hold", "server delete prohibited"), Verdict.HOLD),
    ("hold_in_auto_renew", ("auto renew period", "client hold"), Verdict.HOLD),
    ("auto_renew_without_evidence", ("auto renew period",), Verdict.GRACE),
    ("camel_client_hold", ("clientHold", "clientTransferProhibited"), Verdict.HOLD),
    ("camel_server_hold", ("serverHold",), Verdict.HOLD),
    ("camel_redemption", ("redemptionPeriod", "pendingDelete"), Verdict.REDEMPTION),
    ("camel_pending_restore", ("pendingRestore",), Verdict.REDEMPTION),
    ("camel_pending_delete", ("pendingDelete",), Verdict.PENDING_DELETE),
    ("camel_auto_renew", ("autoRenewPeriod",), Verdict.GRACE),
    ("upper_case", ("CLIENT HOLD",), Verdict.HOLD),
    ("inactive_alone", ("inactive",), Verdict.ACTIVE),
    ("prohibitions_only", ("client delete prohibited", "client transfer prohibited",
                           "client update prohibited", "server delete prohibited",
                           "server transfer prohibited", "server update prohibited"),
     Verdict.ACTIVE),
    ("active_status", ("active",), Verdict.ACTIVE),
    ("no_status", (), Verdict.ACTIVE),
    ("unrecognised_status", ("something registries invent",), Verdict.ACTIVE),
    ("add_period", ("add period",), Verdict.ACTIVE),
    ("transfer_period", ("transfer period",), Verdict.ACTIVE),
    ("renew_period", ("renew period",), Verdict.ACTIVE),
]  # fmt: skip


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [case[1:] for case in STATUS_CASES],
    ids=[case[0] for case in STATUS_CASES],
)
def test_decide_statuses(statuses: tuple[str, ...], expected: Verdict) -> None:
    decision = decide(healthy(statuses=statuses), NOW)
    assert decision.verdict is expected


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (("redemption period",), Verdict.REDEMPTION),
        (("pending delete",), Verdict.PENDING_DELETE),
        (("client hold",), Verdict.HOLD),
        (("auto renew period",), Verdict.GRACE),
    ],
)
def test_decide_status_ahead_of_future_expiry(
    statuses: tuple[str, ...], expected: Verdict
) -> None:
    # Registries often move the expiry a year ahead when the grace starts.
    facts = healthy(statuses=statuses, expires_at=NOW + 364 * DAY)
    assert decide(facts, NOW).verdict is expected


def test_decide_redemption_reasons_list_both_statuses() -> None:
    facts = healthy(statuses=("pending delete", "redemption period"))
    reasons = decide(facts, NOW).reasons
    assert reasons[:2] == ("status redemption period", "status pending delete")


def test_decide_hold_reason() -> None:
    facts = healthy(statuses=("client hold", "client transfer prohibited"))
    assert decide(facts, NOW).reasons == ("status client hold",)


def test_decide_inactive_alone_states_reason() -> None:
    reasons = decide(healthy(statuses=("inactive",)), NOW).reasons
    assert "status inactive: no nameservers delegated" in reasons


def test_decide_inactive_with_past_expiry_is_grace() -> None:
    facts = healthy(statuses=("inactive",), expires_at=NOW - DAY)
    assert decide(facts, NOW).verdict is Verdict.GRACE


# --- auto renew period and registrar evidence --------------------------------


@pytest.mark.parametrize(
    ("registrar_expires_at", "expected"),
    [
        (None, Verdict.GRACE),
        (NOW - DAY, Verdict.GRACE),
        (NOW, Verdict.GRACE),
        (NOW + timedelta(seconds=1), Verdict.ACTIVE),
        (NOW + 365 * DAY, Verdict.ACTIVE),
    ],
    ids=["no_evidence", "registrar_expired", "registrar_expiry_now",
         "renewed_just_now", "renewed_for_a_year"],
)  # fmt: skip
def test_decide_auto_renew_evidence(
    registrar_expires_at: datetime | None, expected: Verdict
) -> None:
    facts = healthy(
        statuses=("auto renew period",), registrar_expires_at=registrar_expires_at
    )
    assert decide(facts, NOW).verdict is expected


def test_decide_auto_renew_renewed_states_reason() -> None:
    facts = healthy(
        statuses=("auto renew period",),
        registrar_expires_at=datetime(2025, 6, 1, tzinfo=UTC),
    )
    reasons = decide(facts, NOW).reasons
    assert (
        "status auto renew period, renewed at the registrar until 2025-06-01T00:00:00Z"
        in reasons
    )


def test_decide_auto_renew_renewed_still_checks_expiry() -> None:
    facts = healthy(
        statuses=("auto renew period",),
        registrar_expires_at=NOW + 365 * DAY,
        expires_at=NOW - DAY,
    )
    assert decide(facts, NOW).verdict is Verdict.GRACE


# --- re-registration ---------------------------------------------------------

VERIFIED = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("registered_at", "verified_at", "baseline", "expected"),
    [
        (datetime(2024, 6, 1, tzinfo=UTC), VERIFIED, None, Verdict.REREGISTERED),
        (VERIFIED + timedelta(seconds=1), VERIFIED, None, Verdict.REREGISTERED),
        (VERIFIED, VERIFIED, None, Verdict.ACTIVE),
        (VERIFIED - DAY, VERIFIED, None, Verdict.ACTIVE),
        (datetime(2024, 3, 1, tzinfo=UTC), None, datetime(2015, 3, 1, tzinfo=UTC),
         Verdict.REREGISTERED),
        (datetime(2015, 3, 1, tzinfo=UTC), None, datetime(2015, 3, 1, tzinfo=UTC),
         Verdict.ACTIVE),
        (NOW - HOUR, None, None, Verdict.ACTIVE),
        (None, VERIFIED, datetime(2015, 3, 1, tzinfo=UTC), Verdict.ACTIVE),
        # The baseline is checked even when the request's own time is older.
        (datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 4, 1, tzinfo=UTC),
         datetime(2015, 3, 1, tzinfo=UTC), Verdict.REREGISTERED),
    ],
    ids=["after_verified", "one_second_after", "equal_to_verified", "before_verified",
         "after_baseline", "equal_to_baseline", "no_baseline_no_verified_at",
         "no_registration_date", "after_baseline_before_verified"],
)  # fmt: skip
def test_decide_reregistration(
    registered_at: datetime | None,
    verified_at: datetime | None,
    baseline: datetime | None,
    expected: Verdict,
) -> None:
    facts = healthy(registered_at=registered_at, baseline_registered_at=baseline)
    decision = decide(facts, NOW, verified_at=verified_at)
    assert decision.verdict is expected


def test_decide_reregistered_reason_names_both_dates() -> None:
    facts = healthy(registered_at=datetime(2024, 6, 1, tzinfo=UTC))
    reasons = decide(facts, NOW, verified_at=VERIFIED).reasons
    assert reasons[0] == (
        "registered 2024-06-01T00:00:00Z after the address was verified "
        "2024-05-01T10:00:00Z"
    )


def test_decide_reregistered_after_enrollment_without_baseline_date() -> None:
    facts = healthy(registered_at=NOW - DAY, enrolled_at=NOW - 30 * DAY)
    decision = decide(facts, NOW)
    assert decision.verdict is Verdict.REREGISTERED


def test_decide_registered_before_enrollment_is_active() -> None:
    facts = healthy(registered_at=NOW - 60 * DAY, enrolled_at=NOW - 30 * DAY)
    assert decide(facts, NOW).verdict is Verdict.ACTIVE


def test_decide_hold_ahead_of_reregistration() -> None:
    facts = healthy(statuses=("server hold",), registered_at=NOW - DAY)
    decision = decide(facts, NOW, verified_at=VERIFIED)
    assert decision.verdict is Verdict.HOLD


def test_decide_reregistration_ahead_of_expiry() -> None:
    facts = healthy(registered_at=NOW - DAY, expires_at=NOW + DAY)
    decision = decide(facts, NOW, verified_at=VERIFIED)
    assert decision.verdict is Verdict.REREGISTERED


# --- owner change ------------------------------------------------------------

LAPSED_AT = datetime(2024, 4, 20, tzinfo=UTC)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"registrar": AUCTION_REGISTRAR}, Verdict.OWNER_CHANGED),
        ({"transferred_at": LAPSED_AT + DAY}, Verdict.OWNER_CHANGED),
        ({"transferred_at": LAPSED_AT - 90 * DAY}, Verdict.ACTIVE),
        ({"transferred_at": LAPSED_AT}, Verdict.ACTIVE),
        ({"registrar": "EXAMPLE REGISTRAR INC"}, Verdict.ACTIVE),
        ({"registrar": None}, Verdict.ACTIVE),
        ({"lapsed_registrar": None}, Verdict.ACTIVE),
        ({"lapsed_seen_at": None, "registrar": AUCTION_REGISTRAR}, Verdict.ACTIVE),
        ({"lapsed_seen_at": None, "transferred_at": NOW - DAY}, Verdict.ACTIVE),
    ],
    ids=["registrar_changed", "transfer_after_lapse", "transfer_before_lapse",
         "transfer_at_lapse_instant", "registrar_spelled_differently",
         "registrar_not_published", "lapsed_registrar_unknown",
         "never_lapsed_new_registrar", "never_lapsed_transfer"],
)  # fmt: skip
def test_decide_owner_change(changes: dict[str, Any], expected: Verdict) -> None:
    lapse = {"lapsed_seen_at": LAPSED_AT, "lapsed_registrar": REGISTRAR}
    facts = healthy(**{**lapse, **changes})
    assert decide(facts, NOW).verdict is expected


def test_decide_owner_changed_reason_names_registrars() -> None:
    facts = healthy(
        lapsed_seen_at=LAPSED_AT,
        lapsed_registrar=REGISTRAR,
        registrar=AUCTION_REGISTRAR,
    )
    assert decide(facts, NOW).reasons[0] == (
        "registrar changed from Example Registrar, Inc. to Drop Catcher LLC after "
        "the domain was seen lapsed at 2024-04-20T00:00:00Z"
    )


def test_decide_owner_change_ahead_of_expiry_dates() -> None:
    facts = healthy(
        lapsed_seen_at=LAPSED_AT,
        lapsed_registrar=REGISTRAR,
        registrar=AUCTION_REGISTRAR,
        expires_at=NOW - DAY,
    )
    assert decide(facts, NOW).verdict is Verdict.OWNER_CHANGED


def test_decide_reregistration_ahead_of_owner_change() -> None:
    facts = healthy(
        lapsed_seen_at=LAPSED_AT,
        lapsed_registrar=REGISTRAR,
        registrar=AUCTION_REGISTRAR,
        registered_at=NOW - DAY,
    )
    decision = decide(facts, NOW, verified_at=VERIFIED)
    assert decision.verdict is Verdict.REREGISTERED


def test_decide_healthy_transfer_is_allowed_reason() -> None:
    facts = healthy(transferred_at=datetime(2024, 5, 20, tzinfo=UTC))
    decision = decide(facts, NOW)
    assert decision.allow is True
    assert "transferred 2024-05-20T00:00:00Z" in decision.reasons


# --- registry 404 and missing data -------------------------------------------

NOT_FOUND_CASES = [
    ("nxdomain", DnsOutcome.NXDOMAIN, Verdict.NOT_REGISTERED),
    ("exists", DnsOutcome.EXISTS, Verdict.UNKNOWN),
    ("servfail", DnsOutcome.SERVFAIL, Verdict.UNKNOWN),
    ("timeout", DnsOutcome.TIMEOUT, Verdict.UNKNOWN),
    ("not_probed", DnsOutcome.NOT_PROBED, Verdict.UNKNOWN),
]


@pytest.mark.parametrize(
    ("dns_outcome", "expected"),
    [case[1:] for case in NOT_FOUND_CASES],
    ids=[case[0] for case in NOT_FOUND_CASES],
)
def test_decide_registry_404(dns_outcome: DnsOutcome, expected: Verdict) -> None:
    facts = DomainFacts(
        domain="gone.example",
        rdap_outcome=RdapOutcome.NOT_FOUND,
        dns_outcome=dns_outcome,
        checked_at=NOW,
    )
    assert decide(facts, NOW).verdict is expected


@pytest.mark.parametrize(
    ("dns_outcome", "reason"),
    [
        (DnsOutcome.EXISTS, "DNS still resolves the domain"),
        (DnsOutcome.SERVFAIL, "DNS failed (SERVFAIL)"),
        (DnsOutcome.TIMEOUT, "DNS timed out"),
    ],
)
def test_decide_404_reason_names_dns_outcome(
    dns_outcome: DnsOutcome, reason: str
) -> None:
    facts = DomainFacts(
        domain="gone.example",
        rdap_outcome=RdapOutcome.NOT_FOUND,
        dns_outcome=dns_outcome,
    )
    reasons = decide(facts, NOW).reasons
    assert f"{reason}, so the 404 is not corroborated" in reasons


def test_decide_404_ignores_old_registry_data() -> None:
    # Data from an earlier lookup stays for history, but the 404 decides.
    facts = healthy(rdap_outcome=RdapOutcome.NOT_FOUND, dns_outcome=DnsOutcome.EXISTS)
    assert decide(facts, NOW).verdict is Verdict.UNKNOWN


def test_decide_404_after_lapse_mentions_lapse() -> None:
    facts = healthy(
        rdap_outcome=RdapOutcome.NOT_FOUND,
        dns_outcome=DnsOutcome.TIMEOUT,
        lapsed_seen_at=LAPSED_AT,
    )
    reasons = decide(facts, NOW).reasons
    assert "last seen lapsed at 2024-04-20T00:00:00Z" in reasons


NO_DATA_CASES = [
    ("never_looked_up", None, None, "no RDAP data yet"),
    (
        "no_service",
        RdapOutcome.NO_SERVICE,
        None,
        "no RDAP service is known for the TLD",
    ),
    ("failed", RdapOutcome.FAILED, "HTTP 503", "RDAP lookup failed: HTTP 503"),
    ("failed_no_detail", RdapOutcome.FAILED, None, "RDAP lookup failed: no detail"),
    ("found_but_never_stored", RdapOutcome.FOUND, None, "no RDAP data yet"),
]


@pytest.mark.parametrize(
    ("outcome", "error", "reason"),
    [case[1:] for case in NO_DATA_CASES],
    ids=[case[0] for case in NO_DATA_CASES],
)
def test_decide_no_data_is_unknown(
    outcome: RdapOutcome | None, error: str | None, reason: str
) -> None:
    facts = DomainFacts(
        domain="example.com",
        rdap_outcome=outcome,
        rdap_error=error,
        dns_outcome=DnsOutcome.NXDOMAIN,
    )
    decision = decide(facts, NOW)
    assert decision.verdict is Verdict.UNKNOWN
    assert decision.reasons[0] == reason


def test_decide_failed_lookup_uses_last_good_data() -> None:
    facts = healthy(
        rdap_outcome=RdapOutcome.FAILED,
        rdap_error="read timed out",
        statuses=("redemption period",),
    )
    decision = decide(facts, NOW)
    assert decision.verdict is Verdict.REDEMPTION
    assert (
        "last RDAP lookup failed (read timed out), using data from "
        "2024-06-01T11:00:00Z" in decision.reasons
    )


# --- staleness ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "statuses", "expected", "stale"),
    [
        (timedelta(hours=48), (), Verdict.ACTIVE, False),
        (timedelta(hours=48, seconds=1), (), Verdict.UNKNOWN, True),
        (timedelta(days=30), (), Verdict.UNKNOWN, True),
        (timedelta(days=30), ("redemption period",), Verdict.REDEMPTION, True),
        (timedelta(days=30), ("client hold",), Verdict.HOLD, True),
    ],
    ids=["at_max_age", "just_over_max_age", "month_old", "month_old_redemption",
         "month_old_hold"],
)  # fmt: skip
def test_decide_staleness(
    age: timedelta, statuses: tuple[str, ...], expected: Verdict, stale: bool
) -> None:
    facts = healthy(rdap_ok_at=NOW - age, dns_checked_at=NOW - age, statuses=statuses)
    decision = decide(facts, NOW)
    assert decision.verdict is expected
    assert decision.stale is stale


@pytest.mark.parametrize(
    ("rdap_age", "dns_outcome", "stale"),
    [
        (timedelta(days=6), DnsOutcome.EXISTS, False),
        (timedelta(days=6), DnsOutcome.NXDOMAIN, False),
        (timedelta(days=6), DnsOutcome.SERVFAIL, True),
        (timedelta(days=6), DnsOutcome.TIMEOUT, True),
        (timedelta(hours=240), DnsOutcome.EXISTS, False),
        (timedelta(hours=240, seconds=1), DnsOutcome.EXISTS, True),
    ],
    ids=["weekly_rdap_dns_answer", "weekly_rdap_nxdomain", "weekly_rdap_servfail",
         "weekly_rdap_timeout", "rdap_at_max_age", "rdap_over_max_age"],
)  # fmt: skip
def test_decide_dns_answer_confirms_state(
    rdap_age: timedelta, dns_outcome: DnsOutcome, stale: bool
) -> None:
    facts = healthy(
        rdap_ok_at=NOW - rdap_age, dns_outcome=dns_outcome, dns_checked_at=NOW - HOUR
    )
    assert decide(facts, NOW).stale is stale


def test_decide_stale_reason_names_age() -> None:
    old = datetime(2024, 5, 1, tzinfo=UTC)
    reasons = decide(healthy(rdap_ok_at=old, dns_checked_at=old), NOW).reasons
    assert "state last confirmed 2024-05-01T00:00:00Z, more than 48 hours ago" in (
        reasons
    )
    assert "registry data from 2024-05-01T00:00:00Z is older than 240 hours" in (
        reasons
    )


def test_decide_stale_expiring_becomes_unknown() -> None:
    facts = healthy(
        rdap_ok_at=NOW - 10 * DAY, dns_checked_at=NOW - 10 * DAY, expires_at=NOW + DAY
    )
    assert decide(facts, NOW).verdict is Verdict.UNKNOWN


def test_decide_max_age_policy() -> None:
    facts = healthy(rdap_ok_at=NOW - 2 * HOUR, dns_checked_at=NOW - 2 * HOUR)
    decision = decide(facts, NOW, policy=Policy(max_age_hours=1))
    assert decision.stale is True


def test_decide_old_404_is_stale() -> None:
    facts = DomainFacts(
        domain="gone.example",
        rdap_outcome=RdapOutcome.NOT_FOUND,
        dns_outcome=DnsOutcome.NXDOMAIN,
        checked_at=NOW - 10 * DAY,
    )
    decision = decide(facts, NOW)
    assert decision.verdict is Verdict.NOT_REGISTERED
    assert decision.stale is True


# --- allow -------------------------------------------------------------------

ALLOW_CASES: list[tuple[DomainFacts, Verdict, bool]] = [
    (healthy(), Verdict.ACTIVE, True),
    (healthy(expires_at=NOW + DAY), Verdict.EXPIRING, True),
    (healthy(expires_at=NOW - DAY), Verdict.GRACE, False),
    (healthy(statuses=("client hold",)), Verdict.HOLD, False),
    (healthy(statuses=("redemption period",)), Verdict.REDEMPTION, False),
    (healthy(statuses=("pending delete",)), Verdict.PENDING_DELETE, False),
    (
        DomainFacts(
            domain="gone.example",
            rdap_outcome=RdapOutcome.NOT_FOUND,
            dns_outcome=DnsOutcome.NXDOMAIN,
        ),
        Verdict.NOT_REGISTERED,
        False,
    ),
    (healthy(baseline_registered_at=datetime(2010, 1, 1, tzinfo=UTC)),
     Verdict.REREGISTERED, False),
    (healthy(lapsed_seen_at=LAPSED_AT, lapsed_registrar=AUCTION_REGISTRAR),
     Verdict.OWNER_CHANGED, False),
    (healthy(expires_at=None), Verdict.UNKNOWN, True),
]  # fmt: skip


@pytest.mark.parametrize(
    ("facts", "verdict", "allow"),
    ALLOW_CASES,
    ids=[case[1].value for case in ALLOW_CASES],
)
def test_decide_allow_by_verdict(
    facts: DomainFacts, verdict: Verdict, allow: bool
) -> None:
    decision = decide(facts, NOW)
    assert decision.verdict is verdict
    assert decision.allow is allow


def test_allow_cases_cover_every_verdict() -> None:
    assert {case[1] for case in ALLOW_CASES} == set(Verdict)


@pytest.mark.parametrize(("allow_unknown", "reason"), [
    (True, "unknown is allowed by policy"),
    (False, "unknown is denied by policy"),
])  # fmt: skip
def test_decide_unknown_follows_policy(allow_unknown: bool, reason: str) -> None:
    policy = Policy(allow_unknown=allow_unknown)
    decision = decide(healthy(expires_at=None), NOW, policy=policy)
    assert decision.allow is allow_unknown
    assert decision.reasons[-1] == reason


# --- DNS reasons -------------------------------------------------------------


def test_decide_dns_changes_are_reasons() -> None:
    change = "nameservers moved from example.net to parking.example"
    decision = decide(healthy(dns_changes=(change,)), NOW)
    assert decision.verdict is Verdict.ACTIVE
    assert change in decision.reasons


def test_decide_nxdomain_for_registered_domain_is_reason() -> None:
    decision = decide(healthy(dns_outcome=DnsOutcome.NXDOMAIN), NOW)
    assert "DNS returned NXDOMAIN for a registered domain" in decision.reasons


# --- helpers -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("clientHold", "client hold"),
        ("client hold", "client hold"),
        ("Client Hold", "client hold"),
        ("client_hold", "client hold"),
        ("autoRenewPeriod", "auto renew period"),
        ("  redemption   period ", "redemption period"),
        ("pending-delete", "pending delete"),
    ],
)
def test_normalise_status(status: str, expected: str) -> None:
    assert normalise_status(status) == expected


def test_format_instant_fraction_and_offset() -> None:
    value = datetime(2024, 5, 1, 7, 0, 0, 250000, tzinfo=PLUS_FIVE)
    assert format_instant(value) == "2024-05-01T02:00:00.250000Z"


# --- properties --------------------------------------------------------------

STATUS_WORDS = [
    "active", "inactive", "client hold", "server hold", "redemption period",
    "pending restore", "pending delete", "auto renew period", "add period",
    "renew period", "transfer period", "pending transfer", "client transfer prohibited",
    "server update prohibited", "clientHold", "pendingDelete", "autoRenewPeriod",
]  # fmt: skip

instants = st.datetimes(
    min_value=datetime(1990, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from([UTC, PLUS_FIVE, MINUS_SEVEN]),
)
optional_instants = st.none() | instants
registrars = st.none() | st.sampled_from([REGISTRAR, AUCTION_REGISTRAR, "", "x"])


@st.composite
def facts_without_expiry(draw: st.DrawFn) -> DomainFacts:
    return DomainFacts(
        domain="example.com",
        rdap_outcome=draw(st.none() | st.sampled_from(RdapOutcome)),
        rdap_error=draw(st.none() | st.text(max_size=20)),
        rdap_ok_at=draw(optional_instants),
        statuses=tuple(
            draw(st.lists(st.sampled_from(STATUS_WORDS) | st.text(max_size=15)))
        ),
        expires_at=None,
        registered_at=draw(optional_instants),
        last_changed_at=draw(optional_instants),
        transferred_at=draw(optional_instants),
        registrar=draw(registrars),
        registrar_expires_at=draw(optional_instants),
        dns_outcome=draw(st.sampled_from(DnsOutcome)),
        dns_changes=tuple(draw(st.lists(st.text(max_size=10), max_size=2))),
        enrolled_at=draw(optional_instants),
        baseline_registered_at=draw(optional_instants),
        baseline_registrar=draw(registrars),
        lapsed_seen_at=draw(optional_instants),
        lapsed_registrar=draw(registrars),
        checked_at=draw(optional_instants),
    )


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    facts=facts_without_expiry(),
    now=instants,
    verified_at=optional_instants,
    allow_unknown=st.booleans(),
)
def test_decide_without_expiry_never_allows_as_active(
    facts: DomainFacts, now: datetime, verified_at: datetime | None, allow_unknown: bool
) -> None:
    policy = Policy(allow_unknown=allow_unknown)
    decision = decide(facts, now, verified_at=verified_at, policy=policy)
    assert decision.verdict not in (Verdict.ACTIVE, Verdict.EXPIRING)
    assert decision.allow is (
        decision.verdict not in DENY_VERDICTS
        and (decision.verdict is not Verdict.UNKNOWN or allow_unknown)
    )


def _samples_folder() -> Path:
    override = os.environ.get("DOMAIN_GUARD_SAMPLES")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[1].parent / "shared" / "rdap-samples"


# Bodies for the property below, read in place from the real corpus.
def _sample_bodies() -> list[dict[str, Any]]:
    folder = _samples_folder()
    bodies: list[dict[str, Any]] = []
    for path in sorted(Path(folder).glob("*/*.json")):
        if path.name.endswith(".http.json") or path.parent.name == "bootstrap":
            continue
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(body, dict) and body.get("objectClassName") == "domain":
            bodies.append(body)
    return bodies


def _without_expiry(body: dict[str, Any], junk_date: str | None) -> dict[str, Any]:
    """Drop every expiry-like event, or give each one an unreadable date."""
    mutated = dict(body)
    events = []
    for event in body.get("events") or []:
        action = (
            str(event.get("eventAction", "")).lower() if isinstance(event, dict) else ""
        )
        if "expir" not in action:
            events.append(event)
        elif junk_date is not None:
            events.append({**event, "eventDate": junk_date})
    mutated["events"] = events
    return mutated


SAMPLE_BODIES = _sample_bodies()


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(
    index=st.integers(min_value=0),
    junk_date=st.none() | st.text(max_size=25),
    now=instants,
    verified_at=optional_instants,
    dns_outcome=st.sampled_from(DnsOutcome),
)
def test_body_without_parseable_expiry_never_active(
    index: int,
    junk_date: str | None,
    now: datetime,
    verified_at: datetime | None,
    dns_outcome: DnsOutcome,
) -> None:
    rdap = pytest.importorskip("domain_guard.rdap")
    dates = pytest.importorskip("domain_guard.dates")
    from domain_guard.errors import RdapBodyError
    from domain_guard.facts import merge_observation
    from domain_guard.models import DnsResult, Observation, RdapResult

    if not SAMPLE_BODIES:
        pytest.skip(f"real RDAP samples not found in {_samples_folder()}")
    assume(junk_date is None or dates.parse_rdap_date(junk_date) is None)

    body = _without_expiry(SAMPLE_BODIES[index % len(SAMPLE_BODIES)], junk_date)
    try:
        record = rdap.parse_domain(body)
    except RdapBodyError:
        return
    observation = Observation(
        domain=record.domain.rstrip(".").lower() or "example.com",
        observed_at=now,
        rdap=RdapResult(outcome=RdapOutcome.FOUND, record=record),
        dns=DnsResult(outcome=dns_outcome),
    )
    facts = merge_observation(None, observation)
    decision = decide(facts, now, verified_at=verified_at)
    assert decision.verdict not in (Verdict.ACTIVE, Verdict.EXPIRING)


EVENT_ACTIONS = [
    "registration", "reregistration", "last changed", "transfer", "deletion",
    "last update of RDAP database", "locked", "Registration", "lastChanged",
]  # fmt: skip
event_dates = st.sampled_from(
    ["2024-05-01T00:00:00Z", "2015-03-01", "2030-01-01T00:00:00+05:00", "soon", ""]
) | st.text(max_size=25)


@st.composite
def bodies_without_expiry(draw: st.DrawFn) -> dict[str, Any]:
    """Generate a domain object whose expiry is absent or unreadable."""
    action = st.sampled_from(EVENT_ACTIONS) | st.text(max_size=20)
    events: list[Any] = [
        {"eventAction": draw(action), "eventDate": draw(event_dates)}
        for _ in range(draw(st.integers(min_value=0, max_value=4)))
    ]
    junk_expiry = draw(st.none() | st.text(max_size=25))
    if junk_expiry is not None:
        events.append({"eventAction": "expiration", "eventDate": junk_expiry})
    events.extend(draw(st.lists(st.none() | st.integers() | st.text(), max_size=2)))
    return {
        "objectClassName": "domain",
        "ldhName": "example.com",
        "status": draw(
            st.lists(st.sampled_from(STATUS_WORDS) | st.text(max_size=15), max_size=5)
        ),
        "events": events,
    }


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(body=bodies_without_expiry(), now=instants, verified_at=optional_instants)
def test_generated_body_without_expiry_never_active(
    body: dict[str, Any], now: datetime, verified_at: datetime | None
) -> None:
    rdap = pytest.importorskip("domain_guard.rdap")
    dates = pytest.importorskip("domain_guard.dates")
    from domain_guard.facts import merge_observation
    from domain_guard.models import Observation, RdapResult

    for event in body["events"]:
        if isinstance(event, dict):
            action = str(event["eventAction"]).lower()
            expiry_like = "expir" in action
            assume(not expiry_like or dates.parse_rdap_date(event["eventDate"]) is None)

    record = rdap.parse_domain(body)
    observation = Observation(
        domain="example.com",
        observed_at=now,
        rdap=RdapResult(outcome=RdapOutcome.FOUND, record=record),
    )
    facts = merge_observation(None, observation)
    decision = decide(facts, now, verified_at=verified_at)
    assert record.expires_at is None
    assert decision.verdict not in (Verdict.ACTIVE, Verdict.EXPIRING)
