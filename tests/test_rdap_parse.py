"""RDAP domain objects to RdapRecord: one hand-written fixture per registry quirk."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain_guard.errors import RdapBodyError
from domain_guard.models import RdapRecord
from domain_guard.rdap import (
    MAX_STATUSES,
    event_kind,
    normalise_status,
    parse_domain,
)

FIXTURES = Path(__file__).parent / "fixtures" / "rdap"
REGISTERED = datetime(2015, 3, 1, 12, 0, tzinfo=UTC)
EXPIRES = datetime(2030, 3, 1, 12, 0, tzinfo=UTC)


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def parsed(name: str) -> RdapRecord:
    return parse_domain(fixture(name))


# --- dates ---------------------------------------------------------------------

DATE_FIXTURES = [
    ("dates-lowercase-tz", REGISTERED, EXPIRES),
    ("dates-offset-no-colon", REGISTERED, EXPIRES),
    (
        "dates-nine-fraction-digits",
        REGISTERED.replace(microsecond=100000),
        EXPIRES.replace(microsecond=123456),
    ),
    (
        "dates-date-only",
        datetime(2015, 3, 1, tzinfo=UTC),
        datetime(2030, 3, 1, tzinfo=UTC),
    ),
    ("dates-no-zone", REGISTERED, EXPIRES),
]


@pytest.mark.parametrize(
    ("name", "registered", "expires"),
    DATE_FIXTURES,
    ids=[case[0] for case in DATE_FIXTURES],
)
def test_parse_domain_date_forms(
    name: str, registered: datetime, expires: datetime
) -> None:
    record = parsed(name)
    assert record.registered_at == registered
    assert record.expires_at == expires


def test_parse_domain_unparseable_expiry_is_unpublished() -> None:
    record = parsed("dates-unparseable")
    assert record.expires_at is None
    assert record.registered_at == REGISTERED


def test_parse_domain_unparseable_expiry_noted() -> None:
    notes = parsed("dates-unparseable").notes
    assert any("expiration event date '31/02/2030'" in note for note in notes)


# --- events --------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["event-record-expires", "event-soft-expiration", "event-case-insensitive"]
)
def test_parse_domain_expiry_event_variants(name: str) -> None:
    assert parsed(name).expires_at == EXPIRES


def test_parse_domain_last_update_is_last_changed() -> None:
    record = parsed("event-last-update")
    assert record.last_changed_at == datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)


def test_parse_domain_case_insensitive_events() -> None:
    record = parsed("event-case-insensitive")
    assert record.registered_at == REGISTERED
    assert record.last_changed_at == datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    assert record.transferred_at == datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_parse_domain_reregistration_is_registered_at() -> None:
    record = parsed("event-reregistration")
    assert record.registered_at == datetime(2024, 4, 15, 9, 30, tzinfo=UTC)


def test_parse_domain_registrar_expiration_separate() -> None:
    record = parsed("event-registrar-expiration")
    assert record.expires_at == datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    assert record.registrar_expires_at == datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


EVENT_NAMES = [
    ("expiration", "expiration"),
    ("Record expires", "expiration"),
    ("soft expiration", "expiration"),
    ("EXPIRATION DATE", "expiration"),
    ("registration", "registration"),
    ("Created", "registration"),
    ("reregistration", "reregistration"),
    ("re-registration", "reregistration"),
    ("last changed", "last changed"),
    ("last update", "last changed"),
    ("lastChanged", "last changed"),
    ("transfer", "transfer"),
    ("registrar expiration", "registrar expiration"),
    ("last update of RDAP database", None),
    ("deletion", None),
    ("enqueued", None),
]


@pytest.mark.parametrize(("action", "kind"), EVENT_NAMES)
def test_event_kind(action: str, kind: str | None) -> None:
    assert event_kind(action) == kind


def test_parse_domain_latest_expiry_wins() -> None:
    body = fixture("dates-lowercase-tz")
    body["events"].append(
        {"eventAction": "expiration", "eventDate": "2031-03-01T12:00:00Z"}
    )
    assert parse_domain(body).expires_at == datetime(2031, 3, 1, 12, 0, tzinfo=UTC)


# --- statuses ------------------------------------------------------------------


def test_parse_domain_epp_camelcase_statuses() -> None:
    assert parsed("status-epp-camelcase").statuses == (
        "client hold",
        "server transfer prohibited",
        "active",
        "pending delete",
        "redemption period",
    )


def test_parse_domain_unknown_statuses_kept() -> None:
    assert parsed("status-unknown").statuses == (
        "client transfer prohibited",
        "registry lock vendor",
        "frozen by court order",
    )


STATUS_FORMS = [
    ("clientHold", "client hold"),
    ("client hold", "client hold"),
    ("Client Hold", "client hold"),
    ("CLIENT HOLD", "client hold"),
    ("client_hold", "client hold"),
    ("client-hold", "client hold"),
    ("serverTransferProhibited", "server transfer prohibited"),
    ("autoRenewPeriod", "auto renew period"),
    ("redemptionPeriod", "redemption period"),
    ("pendingRestore", "pending restore"),
    # RFC 8056 section 2: EPP "ok" is RDAP "active".
    ("ok", "active"),
    ("OK", "active"),
    ("linked", "associated"),
    (
        "clientTransferProhibited https://icann.org/epp#clientTransferProhibited",
        "client transfer prohibited",
    ),
    ("https://icann.org/epp#serverHold", "server hold"),
    ("  inactive ", "inactive"),
    ("registry lock", "registry lock"),
]


@pytest.mark.parametrize(("raw", "expected"), STATUS_FORMS)
def test_normalise_status(raw: str, expected: str) -> None:
    assert normalise_status(raw) == expected


def test_parse_domain_duplicate_statuses_once() -> None:
    body = fixture("status-unknown")
    body["status"] = ["clientHold", "client hold", "Client Hold"]
    assert parse_domain(body).statuses == ("client hold",)


def test_parse_domain_status_string_read_as_one() -> None:
    body = fixture("status-unknown")
    body["status"] = "serverHold"
    assert parse_domain(body).statuses == ("server hold",)


def test_parse_domain_huge_status_array_capped() -> None:
    body = fixture("status-unknown")
    body["status"] = [f"status {index}" for index in range(100_000)]
    record = parse_domain(body)
    assert len(record.statuses) == MAX_STATUSES
    assert any("100000 entries" in note for note in record.notes)


# --- names ---------------------------------------------------------------------


def test_parse_domain_ldhname_normalised() -> None:
    assert parsed("ldhname-trailing-dot-upper").domain == (
        "ldhname-trailing-dot-upper.example"
    )


def test_parse_domain_unicodename_to_a_label() -> None:
    record = parsed("unicodename-only")
    assert record.domain == "xn--bcher-unicodename-only-slc.example"
    assert "ldhName missing; domain taken from unicodeName" in record.notes


# --- registrar and referral ----------------------------------------------------


def test_parse_domain_registrar_from_vcard() -> None:
    record = parsed("dates-lowercase-tz")
    assert record.registrar == "Example Registrar, Inc."
    assert record.registrar_id == "9999"


def test_parse_domain_registrar_handle_only() -> None:
    record = parsed("registrar-handle-only")
    assert record.registrar == "292"
    assert record.registrar_id == "292"


def test_parse_domain_registrar_org_and_identifier() -> None:
    record = parsed("registrar-org-identifier")
    assert record.registrar == "Org Only Registrar Ltd"
    assert record.registrar_id == "1234"


def test_parse_domain_related_rdap_link() -> None:
    record = parsed("thin-registry-no-expiry")
    assert record.registrar_rdap_url == (
        "https://rdap.registrar.example/rdap/domain/THIN-REGISTRY-NO-EXPIRY.EXAMPLE"
    )


def test_parse_domain_thin_registry_lacks_expiry() -> None:
    assert parsed("thin-registry-no-expiry").expires_at is None


def test_parse_domain_registrar_hop_record() -> None:
    record = parsed("registrar-hop")
    assert record.domain == "thin-registry-no-expiry.example"
    assert record.registrar_expires_at == EXPIRES


def test_parse_domain_auto_renew_period_link() -> None:
    record = parsed("status-auto-renew-period")
    assert record.statuses == ("auto renew period",)
    assert record.registrar_rdap_url is not None


def test_parse_domain_html_related_link_ignored() -> None:
    body = fixture("thin-registry-no-expiry")
    body["links"] = [link for link in body["links"] if link["type"] == "text/html"]
    assert parse_domain(body).registrar_rdap_url is None


# --- redaction -----------------------------------------------------------------


def test_parse_domain_redacted_registrar_name() -> None:
    record = parsed("redacted-rfc9537")
    assert record.registrar is None
    assert record.expires_at is None


def test_parse_domain_redactions_noted() -> None:
    notes = parsed("redacted-rfc9537").notes
    assert any(
        note.startswith("redacted (RFC 9537)") and "Registry Expiry Date" in note
        for note in notes
    )


# --- wrong types and bodies that are not domain objects ------------------------


def test_parse_domain_wrong_types_do_not_raise() -> None:
    record = parsed("wrong-types")
    assert record.domain == "wrong-types.example"
    assert record.statuses == ("active",)
    assert record.expires_at is None
    assert record.registered_at == REGISTERED


def test_parse_domain_wrong_types_noted() -> None:
    notes = " | ".join(parsed("wrong-types").notes)
    assert "entities is an object, not an array" in notes
    assert "nameservers is a string, not an array" in notes
    assert "links is an object, not an array" in notes
    assert "redacted is a string, not an array" in notes


NOT_DOMAIN_OBJECTS = [
    ("null", None, "null"),
    ("list", [], "an array"),
    ("string", "domain", "a string"),
    ("number", 404, "a number"),
    ("error_object", {"errorCode": 404, "title": "Not Found"}, "error object"),
    ("entity", {"objectClassName": "entity", "handle": "X"}, "'entity'"),
    ("class_not_string", {"objectClassName": 5, "ldhName": "a.example"}, "5"),
    ("no_names", {"objectClassName": "domain"}, "neither ldhName nor unicodeName"),
    ("blank_names", {"ldhName": " ", "unicodeName": ""}, "neither ldhName"),
    ("bad_unicode_name", {"unicodeName": "exa mple.com"}, "not a valid domain"),
]


@pytest.mark.parametrize(
    ("body", "message"),
    [case[1:] for case in NOT_DOMAIN_OBJECTS],
    ids=[case[0] for case in NOT_DOMAIN_OBJECTS],
)
def test_parse_domain_not_domain_object(body: object, message: str) -> None:
    with pytest.raises(RdapBodyError, match=message):
        parse_domain(body)


def test_parse_domain_error_fixture_raises() -> None:
    with pytest.raises(RdapBodyError, match="errorCode 404"):
        parsed("error-404")


def test_parse_domain_missing_object_class_noted() -> None:
    record = parse_domain({"ldhName": "a.example"})
    assert record.domain == "a.example"
    assert "objectClassName missing; read as a domain object" in record.notes


def test_parse_domain_deep_nesting_elsewhere() -> None:
    nested: Any = []
    for _ in range(100_000):
        nested = [nested]
    body = fixture("dates-lowercase-tz")
    body["remarks"] = nested
    body["status"] = nested
    record = parse_domain(body)
    assert record.expires_at == EXPIRES


def test_parse_domain_huge_number_in_status() -> None:
    body = fixture("dates-lowercase-tz")
    body["status"] = [10**5000]
    record = parse_domain(body)
    assert record.statuses == ()


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
DOMAIN_KEYS = st.sampled_from(
    [
        "ldhName",
        "unicodeName",
        "objectClassName",
        "status",
        "events",
        "entities",
        "links",
        "nameservers",
        "redacted",
        "errorCode",
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(DOMAIN_KEYS, JSON_VALUES, max_size=8))
def test_parse_domain_junk_never_crashes(body: dict[str, object]) -> None:
    try:
        record = parse_domain(body)
    except RdapBodyError:
        return
    assert isinstance(record.domain, str)
    assert all(isinstance(status, str) for status in record.statuses)
