"""Owner warnings and operator alerts: which are due, their text, and SNS publish.

Owner warnings go to one ``OwnerWarnings`` topic with the message attributes
``domain``, ``kind`` and ``days_left``, so an email subscription with a filter
policy on ``domain`` receives only its own domain's warnings. Each warning is
sent once per expiry cycle: the cycle is the expiry date, so a renewal (a new
expiry date) starts a new cycle and resets every threshold.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from .errors import PublishError
from .models import DomainFacts, RdapOutcome, Verdict

if TYPE_CHECKING:
    from mypy_boto3_sns.client import SNSClient

logger = logging.getLogger(__name__)

# SNS email subjects must be ASCII, one line, under 100 characters.
MAX_SUBJECT = 99


class WarningKind(StrEnum):
    EXPIRING = "expiring"
    GRACE = "grace"
    HOLD = "hold"
    REDEMPTION = "redemption"
    PENDING_DELETE = "pending_delete"


class AlertKind(StrEnum):
    MASS_CHANGE = "mass_change"
    DEAD_LETTERS = "dead_letters"
    SWEEP_FAILURE = "sweep_failure"


_ENTERED_STATE = {
    Verdict.GRACE: WarningKind.GRACE,
    Verdict.HOLD: WarningKind.HOLD,
    Verdict.REDEMPTION: WarningKind.REDEMPTION,
    Verdict.PENDING_DELETE: WarningKind.PENDING_DELETE,
}


@dataclass(frozen=True, slots=True)
class OwnerWarning:
    """One warning to the owners of a domain."""

    domain: str
    kind: WarningKind
    cycle: str  # the expiry date the warning belongs to, or "no-expiry"
    days_left: int | None  # whole days to expiry, negative once it passed
    threshold: int | None = None  # the warning day crossed, for `expiring`
    expires_at: datetime | None = None
    registrar: str | None = None

    @property
    def ledger_kind(self) -> str:
        """Return the ledger entry name: one per threshold, one per entered state."""
        if self.threshold is None:
            return self.kind.value
        return f"{self.kind.value}-{self.threshold}"

    def to_json(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "kind": self.kind.value,
            "days_left": self.days_left,
        }


@dataclass(frozen=True, slots=True)
class OperatorAlert:
    kind: AlertKind
    subject: str
    text: str


def expiry_cycle(facts: DomainFacts) -> str:
    if facts.expires_at is None:
        return "no-expiry"
    return facts.expires_at.date().isoformat()


def days_left(expires_at: datetime, now: datetime) -> int:
    """Return whole days from ``now`` to the expiry, rounded down."""
    return math.floor((expires_at - now) / timedelta(days=1))


def due_warnings(
    facts: DomainFacts,
    verdict: Verdict,
    now: datetime,
    warning_days: tuple[int, ...],
) -> list[OwnerWarning]:
    """List the warnings the facts call for; the ledger drops those already sent.

    Before expiry only the smallest threshold crossed is due: a domain first
    seen 9 days before expiry gets the 14-day warning, not also the 30-day one.
    A verdict that entered a lapsed state is due once per cycle. A verdict that
    the domain changed hands sends no warning: the owner is someone else now.
    """
    remaining = days_left(facts.expires_at, now) if facts.expires_at else None
    base = OwnerWarning(
        domain=facts.domain,
        kind=WarningKind.EXPIRING,
        cycle=expiry_cycle(facts),
        days_left=remaining,
        expires_at=facts.expires_at,
        registrar=facts.registrar,
    )
    entered = _ENTERED_STATE.get(verdict)
    if entered is not None:
        return [dataclasses.replace(base, kind=entered)]
    # Stale data gives `unknown`, but its last known expiry is still valid, so
    # the owner of a domain whose registry RDAP is down is still warned.
    last_known = (
        verdict is Verdict.UNKNOWN
        and facts.rdap_ok_at is not None
        and facts.rdap_outcome is not RdapOutcome.NOT_FOUND
    )
    expiry_verdict = verdict in (Verdict.ACTIVE, Verdict.EXPIRING) or last_known
    if not expiry_verdict or facts.expires_at is None:
        return []
    left = facts.expires_at - now
    crossed = [day for day in warning_days if left <= timedelta(days=day)]
    if not crossed or left <= timedelta(0):
        return []
    return [dataclasses.replace(base, threshold=min(crossed))]


def warning_subject(warning: OwnerWarning) -> str:
    domain = warning.domain
    subjects = {
        WarningKind.EXPIRING: f"{domain} expires in {_days(warning.days_left)}",
        WarningKind.GRACE: f"{domain} has expired",
        WarningKind.HOLD: f"{domain} is on hold and out of DNS",
        WarningKind.REDEMPTION: f"{domain} was deleted and can still be restored",
        WarningKind.PENDING_DELETE: f"{domain} will be released for registration",
    }
    return _subject(f"Domain Guard: {subjects[warning.kind]}")


def warning_text(warning: OwnerWarning) -> str:
    """Write the warning body: which domain, what happens, what to do."""
    domain = warning.domain
    expiry = warning.expires_at.date().isoformat() if warning.expires_at else "unknown"
    registrar = f" ({warning.registrar})" if warning.registrar else ""
    refused = f"Password resets for addresses at {domain} are refused while this lasts."
    paragraphs: dict[WarningKind, list[str]] = {
        WarningKind.EXPIRING: [
            f"The registration of {domain} expires on {expiry}, in "
            f"{_days(warning.days_left)}.",
            f"What happens: once it expires, password resets for addresses at "
            f"{domain} are refused. If it is then deleted, anyone can register "
            "the name and receive its email, including password reset links.",
            f"What to do: renew {domain} with its registrar{registrar}, or turn "
            "on automatic renewal there.",
        ],
        WarningKind.GRACE: [
            f"The registration of {domain} expired on {expiry} and is in its "
            "grace period.",
            f"What happens: {refused} After the grace period the registrar can "
            "delete it, and then anyone can register it.",
            f"What to do: renew {domain} with its registrar{registrar} now.",
        ],
        WarningKind.HOLD: [
            f"{domain} is on hold: the registry removed it from DNS, so email to "
            "it is not delivered.",
            f"What happens: {refused} A hold often follows a missed payment or "
            "a dispute, and can lead to deletion.",
            f"What to do: ask the registrar{registrar} why {domain} is on hold "
            "and have the hold lifted.",
        ],
        WarningKind.REDEMPTION: [
            f"{domain} is in its redemption period: it was deleted, and only the "
            "registrar can still restore it, for a fee.",
            f"What happens: {refused} When redemption ends the name is released "
            "and anyone can register it.",
            f"What to do: ask the registrar{registrar} to restore {domain} now.",
        ],
        WarningKind.PENDING_DELETE: [
            f"{domain} is pending delete: within days the registry releases it "
            "and anyone can register it. It can no longer be restored.",
            f"What happens: {refused} A new owner of {domain} would receive its email.",
            f"What to do: move every account that uses an address at {domain} "
            "to an address at another domain.",
        ],
    }
    return "\n\n".join(paragraphs[warning.kind])


def publish_owner_warning(sns: SNSClient, topic_arn: str, warning: OwnerWarning) -> str:
    """Publish a warning and return the SNS message id; raise PublishError."""
    attributes: dict[str, Any] = {
        "domain": {"DataType": "String", "StringValue": warning.domain},
        "kind": {"DataType": "String", "StringValue": warning.kind.value},
        # Lets a downstream mailer drop a repeat of the same warning.
        "warning_id": {
            "DataType": "String",
            "StringValue": f"{warning.domain}#{warning.cycle}#{warning.ledger_kind}",
        },
    }
    if warning.days_left is not None:
        attributes["days_left"] = {
            "DataType": "Number",
            "StringValue": str(warning.days_left),
        }
    try:
        response = sns.publish(
            TopicArn=topic_arn,
            Subject=warning_subject(warning),
            Message=warning_text(warning),
            MessageAttributes=attributes,
        )
    except (ClientError, BotoCoreError) as exc:
        raise PublishError(
            f"publish of the {warning.ledger_kind} warning for {warning.domain} "
            f"failed: {exc}"
        ) from exc
    return response["MessageId"]


def mass_change_alert(sweep_id: str, moves: int, limit: int) -> OperatorAlert:
    return OperatorAlert(
        kind=AlertKind.MASS_CHANGE,
        subject="Domain Guard: sweep stopped moving domains to deny",
        text=(
            f"Sweep {sweep_id} moved {moves} domains from allow to deny, more than "
            f"the limit of {limit}. Further moves to deny in this sweep are not "
            "stored, so checks keep their previous answer for those domains.\n\n"
            "A jump like this usually means an RDAP server or the parser returns "
            "wrong data, rather than that many domains lapsed at once. Look at "
            "the worker logs for the domains listed as held back. If the change "
            "is real, raise DOMAIN_GUARD_MASS_CHANGE_SHARE or "
            "DOMAIN_GUARD_MASS_CHANGE_MIN and let the next sweep store it."
        ),
    )


def dead_letter_alert(depth: int) -> OperatorAlert:
    return OperatorAlert(
        kind=AlertKind.DEAD_LETTERS,
        subject=f"Domain Guard: {depth} sweep messages in the dead-letter queue",
        text=(
            f"The sweep dead-letter queue holds about {depth} messages: domains "
            "whose check failed on every delivery. Their state is not being "
            "refreshed until a later sweep finds them due again.\n\n"
            "Read a few messages and the worker logs for their domains, fix the "
            "cause, then redrive the queue to the sweep queue."
        ),
    )


def sweep_failure_alert(sweep_id: str, failed: int, detail: str) -> OperatorAlert:
    return OperatorAlert(
        kind=AlertKind.SWEEP_FAILURE,
        subject=f"Domain Guard: sweep {sweep_id} could not queue {failed} domains",
        text=(
            f"Sweep {sweep_id} failed to queue {failed} due domains: {detail}\n\n"
            "They become due again when their lease ends, so nothing is lost, "
            "but their checks are late. Check the dispatch logs and the queue's "
            "permissions and limits."
        ),
    )


def publish_operator_alert(sns: SNSClient, topic_arn: str, alert: OperatorAlert) -> str:
    try:
        response = sns.publish(
            TopicArn=topic_arn,
            Subject=_subject(alert.subject),
            Message=alert.text,
            MessageAttributes={
                "kind": {"DataType": "String", "StringValue": alert.kind.value}
            },
        )
    except (ClientError, BotoCoreError) as exc:
        raise PublishError(f"publish of the {alert.kind} alert failed: {exc}") from exc
    return response["MessageId"]


def _days(count: int | None) -> str:
    if count is None:
        return "an unknown number of days"
    if count == 1:
        return "1 day"
    if count == 0:
        return "less than a day"
    return f"{count} days"


def _subject(text: str) -> str:
    ascii_text = text.encode("ascii", "replace").decode().replace("\n", " ")
    return ascii_text[:MAX_SUBJECT]
