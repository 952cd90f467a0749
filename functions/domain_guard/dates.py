"""Lenient reading of the dates RDAP servers send.

RFC 9083 section 4.5 requires RFC 3339 timestamps. Servers also send
lowercase ``t`` and ``z``, offsets without a colon (``+0000``), up to nine
fraction digits, a space instead of ``T``, a date alone, or no zone at all.
A time without a zone is read as UTC, the zone registries keep their books in.
"""

from __future__ import annotations

from datetime import UTC, datetime

# Longer text is not a timestamp. Rejecting it early bounds the work per value.
MAX_DATE_LENGTH = 64

_ZONE_WORDS = (" UTC", " GMT", "UTC", "GMT")


def parse_rdap_date(text: object) -> datetime | None:
    """Parse an RDAP ``eventDate`` into an aware UTC datetime.

    Returns None for anything that is not a readable date (a number, an empty
    or redacted string, free text), so the caller can treat it as not published.
    """
    if not isinstance(text, str) or not text or len(text) > MAX_DATE_LENGTH:
        return None
    if not text.isprintable() and not text.strip().isprintable():
        # CPython's fromisoformat stops at a NUL and accepts what came before,
        # so control characters are rejected here.
        return None
    parsed: datetime | None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        parsed = _parse_slow(text)
    return _to_utc(parsed) if parsed is not None else None


def _parse_slow(text: str) -> datetime | None:
    """Retry the forms ``fromisoformat`` rejects: lowercase letters, zone words."""
    candidate = text.strip().upper()
    for word in _ZONE_WORDS:
        if candidate.endswith(word):
            candidate = candidate[: -len(word)] + "Z"
            break
    try:
        return datetime.fromisoformat(candidate)
    except ValueError:
        return None


def _to_utc(value: datetime) -> datetime | None:
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        # Year 1 with a positive offset, or year 9999 with a negative one.
        return None


def format_rdap_date(value: datetime) -> str:
    """Format an aware datetime as RFC 3339 in UTC with a ``Z`` suffix."""
    text = value.astimezone(UTC).isoformat()
    if text.endswith("+00:00"):
        text = text[:-6] + "Z"
    return text
