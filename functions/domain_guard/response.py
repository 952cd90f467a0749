"""The check contract's response document, shared by check, authorizer and CLI."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .models import Decision, DomainFacts


def format_time(value: datetime | None) -> str | None:
    """Format a timestamp as RFC 3339 in UTC with a ``Z``.

    Fractional seconds are kept when the source had them, so a printed
    ``registered_at`` compares with a ``verified_at`` as the verdict did.
    """
    if value is None:
        return None
    # isoformat pads the year to four digits, which strftime does not for
    # years before 1000 on glibc.
    return value.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"


def check_response(
    domain: str,
    facts: DomainFacts | None,
    decision: Decision,
    *,
    extra_reasons: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Build the check response: allow, verdict, reasons and the dates behind them.

    ``extra_reasons`` come before the decision's own, for facts about the
    request itself, such as an address on a private-section suffix.
    """
    return {
        "allow": decision.allow,
        "verdict": decision.verdict.value,
        "domain": domain,
        "reasons": [*extra_reasons, *decision.reasons],
        "expires_at": format_time(facts.expires_at if facts else None),
        "registered_at": format_time(facts.registered_at if facts else None),
        "checked_at": format_time(facts.checked_at if facts else None),
        "stale": decision.stale,
    }


def invalid_request(message: str) -> dict[str, Any]:
    return {"error": "invalid_request", "message": message}
