from __future__ import annotations

import dataclasses
from datetime import timedelta

import boto3
import pytest
from aws_support import NOW

from domain_guard.errors import PublishError
from domain_guard.models import DomainFacts, RdapOutcome, Verdict
from domain_guard.notifications import (
    AlertKind,
    WarningKind,
    dead_letter_alert,
    due_warnings,
    expiry_cycle,
    mass_change_alert,
    publish_operator_alert,
    publish_owner_warning,
    sweep_failure_alert,
    warning_subject,
    warning_text,
)
from domain_guard_local.stack import LocalStack

pytest_plugins = ["aws_fixtures"]

DAYS = (30, 14, 7, 1)


def facts(expires_in: timedelta | None, **changes: object) -> DomainFacts:
    base = DomainFacts(
        domain="example.com",
        expires_at=NOW + expires_in if expires_in is not None else None,
        registrar="Example Registrar",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("days_left", "threshold"),
    [
        (45, None),
        (30.5, None),
        (30, 30),
        (29.9, 30),
        (14, 14),
        (9.5, 14),
        (7, 7),
        (2, 7),
        (1, 1),
        (0.2, 1),
    ],
)
def test_warnings_smallest_threshold_crossed(
    days_left: float, threshold: int | None
) -> None:
    state = facts(timedelta(days=days_left))
    warnings = due_warnings(state, Verdict.EXPIRING, NOW, DAYS)
    assert [w.threshold for w in warnings] == ([threshold] if threshold else [])


def test_warnings_days_left_rounded_down() -> None:
    (warning,) = due_warnings(facts(timedelta(days=9.9)), Verdict.EXPIRING, NOW, DAYS)
    assert warning.days_left == 9
    assert warning.to_json() == {
        "domain": "example.com",
        "kind": "expiring",
        "days_left": 9,
    }


@pytest.mark.parametrize(
    ("verdict", "kind"),
    [
        (Verdict.GRACE, WarningKind.GRACE),
        (Verdict.HOLD, WarningKind.HOLD),
        (Verdict.REDEMPTION, WarningKind.REDEMPTION),
        (Verdict.PENDING_DELETE, WarningKind.PENDING_DELETE),
    ],
)
def test_warnings_on_entering_state(verdict: Verdict, kind: WarningKind) -> None:
    (warning,) = due_warnings(facts(timedelta(days=-3)), verdict, NOW, DAYS)
    assert warning.kind is kind
    assert warning.ledger_kind == kind.value
    assert warning.days_left == -3


@pytest.mark.parametrize(
    "verdict",
    [
        Verdict.UNKNOWN,
        Verdict.REREGISTERED,
        Verdict.OWNER_CHANGED,
        Verdict.NOT_REGISTERED,
    ],
)
def test_warnings_none_for_verdict(verdict: Verdict) -> None:
    assert due_warnings(facts(timedelta(days=5)), verdict, NOW, DAYS) == []


def test_warnings_stale_state_uses_last_expiry() -> None:
    stale = facts(
        timedelta(days=5),
        rdap_outcome=RdapOutcome.FAILED,
        rdap_ok_at=NOW - timedelta(days=11),
    )
    (warning,) = due_warnings(stale, Verdict.UNKNOWN, NOW, DAYS)
    assert warning.threshold == 7


def test_warnings_none_after_registry_404() -> None:
    gone = facts(
        timedelta(days=5),
        rdap_outcome=RdapOutcome.NOT_FOUND,
        rdap_ok_at=NOW - timedelta(days=2),
    )
    assert due_warnings(gone, Verdict.UNKNOWN, NOW, DAYS) == []


def test_warnings_none_without_expiry() -> None:
    assert due_warnings(facts(None), Verdict.ACTIVE, NOW, DAYS) == []


def test_warnings_renewal_starts_new_cycle() -> None:
    before = due_warnings(facts(timedelta(days=6)), Verdict.EXPIRING, NOW, DAYS)
    renewed = facts(timedelta(days=6 + 365))
    later = NOW + timedelta(days=365)
    after = due_warnings(renewed, Verdict.EXPIRING, later, DAYS)
    assert before[0].ledger_kind == after[0].ledger_kind == "expiring-7"
    assert before[0].cycle != after[0].cycle


def test_warnings_cycle_is_expiry_date() -> None:
    assert (
        expiry_cycle(facts(timedelta(days=6)))
        == (NOW + timedelta(days=6)).date().isoformat()
    )
    assert expiry_cycle(facts(None)) == "no-expiry"


@pytest.mark.parametrize(
    "verdict",
    [
        Verdict.EXPIRING,
        Verdict.GRACE,
        Verdict.HOLD,
        Verdict.REDEMPTION,
        Verdict.PENDING_DELETE,
    ],
)
def test_warning_text_says_domain_effect_action(verdict: Verdict) -> None:
    (warning,) = due_warnings(facts(timedelta(days=5)), verdict, NOW, DAYS)
    text = warning_text(warning)
    assert "example.com" in text
    assert "What happens:" in text
    assert "What to do:" in text


@pytest.mark.parametrize("verdict", [Verdict.EXPIRING, Verdict.REDEMPTION])
def test_warning_subject_fits_sns(verdict: Verdict) -> None:
    long_name = "a" * 60 + ".example.com"
    state = facts(timedelta(days=5), domain=long_name)
    (warning,) = due_warnings(state, verdict, NOW, DAYS)
    subject = warning_subject(warning)
    assert len(subject) < 100
    assert subject.isascii()
    assert "\n" not in subject


def test_publish_owner_warning_attributes(stack: LocalStack) -> None:
    (warning,) = due_warnings(facts(timedelta(days=9.5)), Verdict.EXPIRING, NOW, DAYS)
    publish_owner_warning(boto3.client("sns"), stack.owner_topic_arn, warning)
    (published,) = stack.owner_warnings()
    assert published["domain"] == "example.com"
    assert published["kind"] == "expiring"
    assert published["days_left"] == 9


def test_publish_owner_warning_failure(aws: None) -> None:
    (warning,) = due_warnings(facts(timedelta(days=5)), Verdict.EXPIRING, NOW, DAYS)
    missing = "arn:aws:sns:us-east-1:123456789012:missing"
    with pytest.raises(PublishError, match=r"example\.com"):
        publish_owner_warning(boto3.client("sns"), missing, warning)


@pytest.mark.parametrize(
    ("alert", "kind"),
    [
        (mass_change_alert("s1", 40, 25), AlertKind.MASS_CHANGE),
        (dead_letter_alert(3), AlertKind.DEAD_LETTERS),
        (sweep_failure_alert("s1", 2, "throttled"), AlertKind.SWEEP_FAILURE),
    ],
)
def test_operator_alert_published(
    stack: LocalStack, alert: object, kind: AlertKind
) -> None:
    publish_operator_alert(boto3.client("sns"), stack.operator_topic_arn, alert)  # type: ignore[arg-type]
    (published,) = stack.operator_alerts()
    assert published["kind"] == kind.value
    assert published["subject"].startswith("Domain Guard:")
