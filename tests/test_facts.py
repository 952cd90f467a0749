"""Folding observations into stored facts: RDAP, DNS, lapse tracking, baselines."""

from __future__ import annotations

import dataclasses
import sys
import types
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain_guard.errors import InvalidDomainError
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
from domain_guard.verdict import decide

DOMAIN = "example.com"
NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
REGISTRAR = "Example Registrar, Inc."
AUCTION_REGISTRAR = "Drop Catcher LLC"
REGISTERED = datetime(2015, 3, 1, tzinfo=UTC)


def record(**changes: Any) -> RdapRecord:
    base = RdapRecord(
        domain=DOMAIN,
        statuses=("client transfer prohibited",),
        expires_at=NOW + 365 * DAY,
        registered_at=REGISTERED,
        last_changed_at=NOW - 30 * DAY,
        registrar=REGISTRAR,
        registrar_id="9999",
    )
    return dataclasses.replace(base, **changes)


def found(
    registry: RdapRecord | None = None,
    *,
    registrar_record: RdapRecord | None = None,
    error: str | None = None,
) -> RdapResult:
    return RdapResult(
        outcome=RdapOutcome.FOUND,
        record=registry if registry is not None else record(),
        registrar_record=registrar_record,
        server="rdap.example",
        error=error,
    )


def observe(
    rdap: RdapResult | None,
    dns: DnsResult | None = None,
    *,
    at: datetime = NOW,
) -> Observation:
    return Observation(domain=DOMAIN, observed_at=at, rdap=rdap, dns=dns or DnsResult())


def exists(nameservers: tuple[str, ...] = (), mx: tuple[str, ...] = ()) -> DnsResult:
    return DnsResult(outcome=DnsOutcome.EXISTS, nameservers=nameservers, mx=mx)


CLOUDFLARE = ("ns1.cloudflare.com", "ns2.cloudflare.com")


@pytest.fixture
def stub_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """Replace the name module with one that takes the last two labels.

    The real module needs the Public Suffix List; this one makes the DNS
    change rules testable on their own. Hosts under ``invalid`` raise.
    """
    module = types.ModuleType("domain_guard.names")

    def registrable_domain(name: str) -> types.SimpleNamespace:
        labels = name.lower().split(".")
        if labels[-1] == "invalid":
            raise InvalidDomainError(f"{name} is not under a public suffix")
        return types.SimpleNamespace(domain=".".join(labels[-2:]))

    module.registrable_domain = registrable_domain  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "domain_guard.names", module)


# --- RDAP --------------------------------------------------------------------


def test_merge_first_found_sets_registry_fields() -> None:
    facts = merge_observation(None, observe(found()))
    assert facts.domain == DOMAIN
    assert facts.rdap_outcome is RdapOutcome.FOUND
    assert facts.rdap_ok_at == NOW
    assert facts.checked_at == NOW
    assert facts.rdap_server == "rdap.example"
    assert facts.statuses == ("client transfer prohibited",)
    assert facts.expires_at == NOW + 365 * DAY
    assert facts.registered_at == REGISTERED
    assert facts.last_changed_at == NOW - 30 * DAY
    assert facts.registrar == REGISTRAR
    assert facts.registrar_id == "9999"


def test_merge_found_replaces_every_registry_field() -> None:
    previous = merge_observation(
        None, observe(found(record(transferred_at=NOW - 60 * DAY)), at=NOW - DAY)
    )
    renewed = record(
        statuses=("client hold",),
        expires_at=NOW + 700 * DAY,
        registered_at=NOW - 10 * DAY,
        last_changed_at=NOW - DAY,
        registrar="Other Registrar",
        registrar_id=None,
    )
    facts = merge_observation(previous, observe(found(renewed)))
    assert facts.statuses == ("client hold",)
    assert facts.expires_at == NOW + 700 * DAY
    assert facts.registered_at == NOW - 10 * DAY
    assert facts.last_changed_at == NOW - DAY
    assert facts.transferred_at is None
    assert facts.registrar == "Other Registrar"
    assert facts.registrar_id is None


@pytest.mark.parametrize(
    "outcome", [RdapOutcome.FAILED, RdapOutcome.NO_SERVICE, RdapOutcome.NOT_FOUND]
)
def test_merge_unsuccessful_rdap_keeps_registry_data(outcome: RdapOutcome) -> None:
    previous = merge_observation(None, observe(found(), at=NOW - DAY))
    result = RdapResult(outcome=outcome, error="HTTP 503", server="rdap.example")
    facts = merge_observation(previous, observe(result))
    assert facts.rdap_outcome is outcome
    assert facts.rdap_error == "HTTP 503"
    assert facts.rdap_ok_at == NOW - DAY
    assert facts.checked_at == NOW
    assert facts.expires_at == previous.expires_at
    assert facts.statuses == previous.statuses
    assert facts.registrar == previous.registrar


def test_merge_not_found_reaches_verdict() -> None:
    previous = merge_observation(None, observe(found(), at=NOW - DAY))
    gone = RdapResult(outcome=RdapOutcome.NOT_FOUND, server="rdap.example")
    facts = merge_observation(
        previous, observe(gone, DnsResult(outcome=DnsOutcome.NXDOMAIN))
    )
    assert decide(facts, NOW).verdict is Verdict.NOT_REGISTERED


def test_merge_success_clears_last_error() -> None:
    failed = RdapResult(outcome=RdapOutcome.FAILED, error="read timed out")
    previous = merge_observation(None, observe(failed, at=NOW - DAY))
    facts = merge_observation(previous, observe(found()))
    assert facts.rdap_outcome is RdapOutcome.FOUND
    assert facts.rdap_error is None


def test_merge_dns_only_probe_keeps_rdap_fields() -> None:
    previous = merge_observation(None, observe(found(), at=NOW - DAY))
    facts = merge_observation(previous, observe(None, exists(CLOUDFLARE)))
    assert facts.rdap_outcome is RdapOutcome.FOUND
    assert facts.rdap_ok_at == NOW - DAY
    assert facts.expires_at == previous.expires_at
    assert facts.checked_at == NOW


def test_merge_dns_only_probe_keeps_notes() -> None:
    noted = RdapResult(
        outcome=RdapOutcome.FOUND,
        record=record(notes=("registrant redacted",)),
        notes=("registrar hop skipped",),
    )
    previous = merge_observation(None, observe(noted, at=NOW - DAY))
    facts = merge_observation(previous, observe(None))
    assert facts.notes == ("registrar hop skipped", "registrant redacted")


def test_merge_found_without_record_is_failed() -> None:
    facts = merge_observation(None, observe(RdapResult(outcome=RdapOutcome.FOUND)))
    assert facts.rdap_outcome is RdapOutcome.FAILED
    assert facts.rdap_ok_at is None


def test_merge_record_for_other_domain_is_failed() -> None:
    facts = merge_observation(None, observe(found(record(domain="other.example"))))
    assert facts.rdap_outcome is RdapOutcome.FAILED
    assert facts.rdap_error == "RDAP record is for other.example, not example.com"
    assert facts.expires_at is None


def test_merge_record_name_case_and_dot_ignored() -> None:
    facts = merge_observation(None, observe(found(record(domain="EXAMPLE.COM."))))
    assert facts.rdap_outcome is RdapOutcome.FOUND


def test_merge_other_domain_facts_raise() -> None:
    previous = DomainFacts(domain="other.example")
    with pytest.raises(ValueError, match=r"other\.example"):
        merge_observation(previous, observe(found()))


# --- registrar expiry --------------------------------------------------------

RENEWED = NOW + 300 * DAY


@pytest.mark.parametrize(
    ("registry", "hop", "expected"),
    [
        (record(), record(registrar_expires_at=RENEWED), RENEWED),
        (record(), record(expires_at=RENEWED), RENEWED),
        (record(registrar_expires_at=NOW + 5 * DAY), None, NOW + 5 * DAY),
        (
            record(registrar_expires_at=NOW + 5 * DAY),
            record(expires_at=RENEWED),
            RENEWED,
        ),
        (record(), record(expires_at=None), None),
        (record(), None, None),
    ],
    ids=["hop_registrar_expiration", "hop_expiration", "registry_event",
         "hop_ahead_of_registry_event", "hop_without_dates", "nothing"],
)  # fmt: skip
def test_merge_registrar_expiry_sources(
    registry: RdapRecord, hop: RdapRecord | None, expected: datetime | None
) -> None:
    facts = merge_observation(None, observe(found(registry, registrar_record=hop)))
    assert facts.registrar_expires_at == expected


def test_merge_failed_hop_keeps_registrar_expiry() -> None:
    hop = record(expires_at=RENEWED)
    previous = merge_observation(
        None, observe(found(registrar_record=hop), at=NOW - DAY)
    )
    facts = merge_observation(previous, observe(found(error="registrar hop failed")))
    assert facts.registrar_expires_at == RENEWED


def test_merge_new_registrar_drops_registrar_expiry() -> None:
    hop = record(expires_at=RENEWED)
    previous = merge_observation(
        None, observe(found(registrar_record=hop), at=NOW - DAY)
    )
    moved = record(registrar=AUCTION_REGISTRAR)
    facts = merge_observation(previous, observe(found(moved)))
    assert facts.registrar_expires_at is None


def test_merge_auto_renew_with_hop_evidence_is_not_grace() -> None:
    registry = record(statuses=("auto renew period",), expires_at=NOW + 360 * DAY)
    hop = record(expires_at=NOW + 360 * DAY)
    facts = merge_observation(None, observe(found(registry, registrar_record=hop)))
    assert decide(facts, NOW).verdict is Verdict.ACTIVE


def test_merge_auto_renew_without_hop_is_grace() -> None:
    registry = record(statuses=("auto renew period",), expires_at=NOW + 360 * DAY)
    facts = merge_observation(None, observe(found(registry)))
    assert decide(facts, NOW).verdict is Verdict.GRACE


# --- DNS records -------------------------------------------------------------


def test_merge_dns_exists_stores_records_sorted() -> None:
    probe = exists(
        ("ns2.example.net", "ns1.example.net"), ("mx2.example", "mx1.example")
    )
    facts = merge_observation(None, observe(None, probe))
    assert facts.dns_outcome is DnsOutcome.EXISTS
    assert facts.dns_checked_at == NOW
    assert facts.nameservers == ("ns1.example.net", "ns2.example.net")
    assert facts.mx == ("mx1.example", "mx2.example")


def test_merge_nxdomain_clears_records() -> None:
    previous = merge_observation(
        None, observe(None, exists(CLOUDFLARE, ("mx.example",)))
    )
    facts = merge_observation(
        previous, observe(None, DnsResult(outcome=DnsOutcome.NXDOMAIN))
    )
    assert facts.dns_outcome is DnsOutcome.NXDOMAIN
    assert facts.nameservers == ()
    assert facts.mx == ()


@pytest.mark.parametrize("outcome", [DnsOutcome.SERVFAIL, DnsOutcome.TIMEOUT])
def test_merge_dns_failure_keeps_records(outcome: DnsOutcome) -> None:
    previous = merge_observation(
        None, observe(None, exists(CLOUDFLARE, ("mx.example",)), at=NOW - DAY)
    )
    probe = DnsResult(outcome=outcome, error="no answer")
    facts = merge_observation(previous, observe(None, probe))
    assert facts.dns_outcome is outcome
    assert facts.dns_checked_at == NOW
    assert facts.nameservers == CLOUDFLARE
    assert facts.mx == ("mx.example",)


def test_merge_dns_not_probed_keeps_everything() -> None:
    previous = merge_observation(None, observe(None, exists(CLOUDFLARE), at=NOW - DAY))
    facts = merge_observation(previous, observe(found()))
    assert facts.dns_outcome is DnsOutcome.EXISTS
    assert facts.dns_checked_at == NOW - DAY
    assert facts.nameservers == CLOUDFLARE


# --- DNS changes -------------------------------------------------------------


def _changes(before: DnsResult, after: DnsResult) -> DomainFacts:
    previous = merge_observation(None, observe(None, before, at=NOW - DAY))
    return merge_observation(previous, observe(None, after))


@pytest.mark.usefixtures("stub_names")
def test_merge_ns_operator_change_is_reason() -> None:
    facts = _changes(exists(CLOUDFLARE), exists(("ns01.parking.example",)))
    assert facts.dns_changes == (
        "nameservers moved from cloudflare.com to parking.example",
    )


@pytest.mark.usefixtures("stub_names")
def test_merge_ns_same_operator_is_no_change() -> None:
    facts = _changes(exists(CLOUDFLARE), exists(("ns7.cloudflare.com",)))
    assert facts.dns_changes == ()


@pytest.mark.usefixtures("stub_names")
def test_merge_ns_added_operator_is_reason() -> None:
    both = (*CLOUDFLARE, "ns1.backup.example")
    facts = _changes(exists(CLOUDFLARE), exists(both))
    assert facts.dns_changes == (
        "nameservers moved from cloudflare.com to backup.example, cloudflare.com",
    )


@pytest.mark.usefixtures("stub_names")
def test_merge_mx_appearing_is_reason() -> None:
    facts = _changes(exists(CLOUDFLARE), exists(CLOUDFLARE, ("mail.attacker.example",)))
    assert facts.dns_changes == (
        "MX mail.attacker.example appeared where there was none",
    )


@pytest.mark.usefixtures("stub_names")
def test_merge_mx_changing_is_no_reason() -> None:
    facts = _changes(
        exists(CLOUDFLARE, ("mx1.example",)), exists(CLOUDFLARE, ("mx2.example",))
    )
    assert facts.dns_changes == ()


@pytest.mark.usefixtures("stub_names")
def test_merge_ns_and_mx_after_nxdomain_are_reasons() -> None:
    after = exists(("ns1.parking.example",), ("mx.parking.example",))
    facts = _changes(DnsResult(outcome=DnsOutcome.NXDOMAIN), after)
    assert facts.dns_changes == (
        "nameservers ns1.parking.example appeared after DNS returned NXDOMAIN",
        "MX mx.parking.example appeared where there was none",
    )


@pytest.mark.usefixtures("stub_names")
def test_merge_first_probe_has_no_changes() -> None:
    facts = merge_observation(None, observe(None, exists(CLOUDFLARE, ("mx.example",))))
    assert facts.dns_changes == ()


@pytest.mark.usefixtures("stub_names")
def test_merge_failure_before_first_answer_has_no_changes() -> None:
    facts = _changes(
        DnsResult(outcome=DnsOutcome.TIMEOUT), exists(CLOUDFLARE, ("mx.example",))
    )
    assert facts.dns_changes == ()


@pytest.mark.usefixtures("stub_names")
def test_merge_changes_survive_dns_failure() -> None:
    moved = _changes(exists(CLOUDFLARE), exists(("ns1.parking.example",)))
    facts = merge_observation(
        moved, observe(None, DnsResult(outcome=DnsOutcome.SERVFAIL), at=NOW + DAY)
    )
    assert facts.dns_changes == moved.dns_changes


@pytest.mark.usefixtures("stub_names")
def test_merge_changes_compare_against_records_kept_through_failure() -> None:
    previous = merge_observation(None, observe(None, exists(CLOUDFLARE), at=NOW - DAY))
    failed = merge_observation(
        previous, observe(None, DnsResult(outcome=DnsOutcome.TIMEOUT))
    )
    facts = merge_observation(
        failed, observe(None, exists(("ns1.parking.example",)), at=NOW + DAY)
    )
    assert facts.dns_changes == (
        "nameservers moved from cloudflare.com to parking.example",
    )


@pytest.mark.usefixtures("stub_names")
def test_merge_changes_clear_on_next_answer() -> None:
    moved = _changes(exists(CLOUDFLARE), exists(("ns1.parking.example",)))
    facts = merge_observation(
        moved, observe(None, exists(("ns1.parking.example",)), at=NOW + DAY)
    )
    assert facts.dns_changes == ()


@pytest.mark.usefixtures("stub_names")
def test_merge_unreadable_ns_host_skips_comparison() -> None:
    facts = _changes(exists(CLOUDFLARE), exists(("ns1.host.invalid",)))
    assert facts.dns_changes == ()
    assert facts.notes == (
        "nameserver operator comparison skipped: ns1.host.invalid is not under a "
        "public suffix",
    )


def test_merge_missing_name_module_skips_comparison(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # None in sys.modules makes the import raise ImportError.
    monkeypatch.setitem(sys.modules, "domain_guard.names", None)
    facts = _changes(exists(CLOUDFLARE), exists(("ns1.parking.example",)))
    assert facts.dns_changes == ()
    assert facts.notes[0].startswith("nameserver operator comparison skipped")


def test_merge_ns_operator_change_with_public_suffix_list() -> None:
    pytest.importorskip("domain_guard.names")
    before = exists(("ns1.example.co.uk", "ns2.example.co.uk"))
    same = _changes(before, exists(("dns3.example.co.uk",)))
    moved = _changes(before, exists(("ns1.other.co.uk",)))
    assert same.dns_changes == ()
    assert moved.dns_changes == ("nameservers moved from example.co.uk to other.co.uk",)


@pytest.mark.usefixtures("stub_names")
def test_merge_dns_changes_reach_verdict() -> None:
    previous = merge_observation(
        None, observe(found(), exists(CLOUDFLARE), at=NOW - DAY)
    )
    facts = merge_observation(previous, observe(None, exists(("ns1.parking.example",))))
    decision = decide(facts, NOW)
    assert decision.verdict is Verdict.ACTIVE
    assert (
        "nameservers moved from cloudflare.com to parking.example" in decision.reasons
    )


# --- lapse tracking ----------------------------------------------------------

LAPSED_RECORDS = [
    ("grace_by_date", record(expires_at=NOW - DAY)),
    ("grace_auto_renew", record(statuses=("auto renew period",))),
    ("hold", record(statuses=("client hold",))),
    ("redemption", record(statuses=("redemption period", "pending delete"))),
    ("pending_delete", record(statuses=("pending delete",))),
]


@pytest.mark.parametrize(
    "lapsed",
    [case[1] for case in LAPSED_RECORDS],
    ids=[case[0] for case in LAPSED_RECORDS],
)
def test_merge_lapse_is_recorded(lapsed: RdapRecord) -> None:
    facts = merge_observation(None, observe(found(lapsed)))
    assert facts.lapsed_seen_at == NOW
    assert facts.lapsed_registrar == REGISTRAR


@pytest.mark.parametrize(
    "healthy",
    [record(), record(expires_at=NOW + 5 * DAY), record(expires_at=None)],
    ids=["active", "expiring", "no_expiry"],
)
def test_merge_healthy_domain_records_no_lapse(healthy: RdapRecord) -> None:
    facts = merge_observation(None, observe(found(healthy)))
    assert facts.lapsed_seen_at is None
    assert facts.lapsed_registrar is None


def test_merge_lapse_moves_forward_while_lapsed() -> None:
    lapsed = found(record(expires_at=NOW - 10 * DAY))
    first = merge_observation(None, observe(lapsed, at=NOW - 5 * DAY))
    facts = merge_observation(first, observe(lapsed))
    assert facts.lapsed_seen_at == NOW


def test_merge_dns_only_probe_after_expiry_records_lapse() -> None:
    previous = merge_observation(
        None, observe(found(record(expires_at=NOW + DAY)), at=NOW - DAY)
    )
    facts = merge_observation(previous, observe(None, at=NOW + 2 * DAY))
    assert facts.lapsed_seen_at == NOW + 2 * DAY


def test_merge_renewal_keeps_lapse_evidence() -> None:
    lapsed = merge_observation(
        None, observe(found(record(expires_at=NOW - DAY)), at=NOW - DAY)
    )
    facts = merge_observation(lapsed, observe(found()))
    assert facts.lapsed_seen_at == NOW - DAY
    assert decide(facts, NOW).verdict is Verdict.ACTIVE


def test_merge_registrar_change_while_lapsed_keeps_old_lapse() -> None:
    # The buyer's registrar still shows a hold: the evidence must survive it.
    lapsed = merge_observation(
        None, observe(found(record(expires_at=NOW - DAY)), at=NOW - DAY)
    )
    held = record(statuses=("client hold",), registrar=AUCTION_REGISTRAR)
    facts = merge_observation(lapsed, observe(found(held)))
    assert facts.lapsed_seen_at == NOW - DAY
    assert facts.lapsed_registrar == REGISTRAR


# --- lifecycle scenarios -----------------------------------------------------


def test_scenario_registrar_auction_is_owner_changed() -> None:
    facts = enroll_baseline(
        merge_observation(None, observe(found(), at=NOW - 400 * DAY)),
        at=NOW - 400 * DAY,
    )
    expired = record(expires_at=NOW - 40 * DAY, statuses=("auto renew period",))
    facts = merge_observation(facts, observe(found(expired), at=NOW - 38 * DAY))
    assert decide(facts, NOW - 38 * DAY).verdict is Verdict.GRACE

    sold = record(
        expires_at=NOW + 325 * DAY,
        registrar=AUCTION_REGISTRAR,
        transferred_at=NOW - DAY,
    )
    facts = merge_observation(facts, observe(found(sold)))
    decision = decide(facts, NOW)
    assert decision.verdict is Verdict.OWNER_CHANGED
    assert decision.allow is False


def test_scenario_drop_and_reregistration() -> None:
    verified = NOW - 400 * DAY
    facts = enroll_baseline(
        merge_observation(None, observe(found(), at=verified)), at=verified
    )
    steps = [
        (found(record(statuses=("redemption period", "pending delete"))),
         DnsResult(outcome=DnsOutcome.NXDOMAIN), NOW - 40 * DAY, Verdict.REDEMPTION),
        (found(record(statuses=("pending delete",))),
         DnsResult(outcome=DnsOutcome.NXDOMAIN), NOW - 8 * DAY, Verdict.PENDING_DELETE),
        (RdapResult(outcome=RdapOutcome.NOT_FOUND),
         DnsResult(outcome=DnsOutcome.NXDOMAIN), NOW - 2 * DAY, Verdict.NOT_REGISTERED),
        (found(record(registered_at=NOW - DAY, registrar=AUCTION_REGISTRAR,
                      statuses=("add period",))),
         exists(("ns1.parking.example",)), NOW, Verdict.REREGISTERED),
    ]  # fmt: skip
    for rdap, dns, at, expected in steps:
        facts = merge_observation(facts, observe(rdap, dns, at=at))
        assert decide(facts, at, verified_at=verified).verdict is expected


def test_scenario_reregistration_seen_without_verified_at() -> None:
    enrolled = enroll_baseline(
        merge_observation(None, observe(found(), at=NOW - 400 * DAY)),
        at=NOW - 400 * DAY,
    )
    new_owner = record(registered_at=NOW - DAY, registrar=AUCTION_REGISTRAR)
    facts = merge_observation(enrolled, observe(found(new_owner)))
    assert decide(facts, NOW).verdict is Verdict.REREGISTERED


# --- baseline ----------------------------------------------------------------


def test_enroll_baseline_takes_current_values() -> None:
    facts = enroll_baseline(merge_observation(None, observe(found())), at=NOW)
    assert facts.enrolled_at == NOW
    assert facts.baseline_registered_at == REGISTERED
    assert facts.baseline_registrar == REGISTRAR


def test_enroll_baseline_clears_earlier_lapse() -> None:
    lapsed = merge_observation(
        None, observe(found(record(expires_at=NOW - 2 * DAY)), at=NOW - DAY)
    )
    facts = enroll_baseline(lapsed, at=NOW)
    assert facts.lapsed_seen_at is None
    assert facts.lapsed_registrar is None


def test_enroll_baseline_keeps_lapse_seen_at_enrollment() -> None:
    # The enrollment's own lookup saw the lapse, so an auction can still show.
    lapsed = merge_observation(None, observe(found(record(expires_at=NOW - DAY))))
    facts = enroll_baseline(lapsed, at=NOW)
    assert facts.lapsed_seen_at == NOW
    assert facts.lapsed_registrar == REGISTRAR


def test_enroll_baseline_without_data_keeps_none() -> None:
    facts = enroll_baseline(DomainFacts(domain=DOMAIN), at=NOW)
    assert facts.enrolled_at == NOW
    assert facts.baseline_registered_at is None
    assert facts.baseline_registrar is None
