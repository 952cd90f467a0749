"""Read a saved RDAP response from a file and turn it into an Observation.

A saved file is one of three things: an RDAP domain object, an RDAP error
object (RFC 9083 section 6, with ``errorCode``), or a small record of HTTP
metadata (``status`` and ``location``) for responses whose body was empty.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from domain_guard.errors import DomainGuardError, RdapBodyError
from domain_guard.models import (
    DnsOutcome,
    DnsResult,
    Observation,
    RdapOutcome,
    RdapResult,
)
from domain_guard.names import registrable_domain
from domain_guard.rdap import parse_domain
from domain_guard.rdap_client import (
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_JSON_DEPTH,
    json_depth_exceeds,
)

# Maximum size of a file `explain` reads. Saved responses are a few hundred kB.
MAX_FILE_BYTES = 20_000_000

_DOMAIN_IN_PATH = re.compile(r"/domain/([^/?#\s]+)", re.IGNORECASE)
_DOMAIN_IN_TITLE = re.compile(r"\bdomain\s+([a-z0-9.-]+\.[a-z0-9-]+)\b", re.IGNORECASE)


# rdap.org's 404 for a TLD it has no server for reads "not found in IANA
# boostrap file" (sic, seen in a 2021 capture); both spellings count.
_BOOTSTRAP_WORDS = ("bootstrap", "boostrap")


class SavedResponseError(DomainGuardError):
    """A saved response file cannot be read."""


@dataclass(frozen=True)
class LiveLimitExceeded:
    """A saved body that a live lookup would reject before decoding it."""

    reason: str


def load_saved(path: Path) -> Any:
    """Read and decode a saved response, with errors that name the file."""
    if path.is_dir():
        raise SavedResponseError(
            f"{path} is a directory; give the path of one saved RDAP response"
        )
    try:
        # Read one byte past the limit, so a device or pipe cannot stream
        # without end.
        with path.open("rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise SavedResponseError(f"cannot read {path}: {exc.strerror}") from exc
    if len(data) > MAX_FILE_BYTES:
        raise SavedResponseError(
            f"{path} is over the {MAX_FILE_BYTES}-byte limit for a saved RDAP response"
        )
    if not data.strip():
        raise SavedResponseError(f"{path} is empty; save the RDAP response body")
    if len(data) > DEFAULT_MAX_BODY_BYTES:
        return LiveLimitExceeded(
            f"body is {len(data)} bytes, over the {DEFAULT_MAX_BODY_BYTES}-byte"
            " limit of a live lookup"
        )
    if json_depth_exceeds(data, DEFAULT_MAX_JSON_DEPTH):
        return LiveLimitExceeded(
            f"body nests JSON deeper than {DEFAULT_MAX_JSON_DEPTH} levels, the"
            " limit of a live lookup"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SavedResponseError(
            f"{path} is not UTF-8 text (invalid byte at offset {exc.start}); save"
            " the RDAP response body as returned"
        ) from exc
    try:
        return json.loads(text)
    except RecursionError as exc:
        raise SavedResponseError(f"{path} nests JSON too deeply to read") from exc
    except ValueError as exc:
        raise SavedResponseError(
            f"{path} is not JSON ({exc}); save the raw RDAP response body"
        ) from exc


def observation_from_saved(
    body: Any, *, now: datetime, dns: DnsOutcome = DnsOutcome.NOT_PROBED
) -> Observation:
    """Interpret a decoded saved response as one lookup seen at ``now``."""
    dns_result = DnsResult(outcome=dns)
    rdap = _rdap_result(body)
    domain = rdap.record.domain if rdap.record else _domain_hint(body)
    return Observation(domain=domain or "", observed_at=now, rdap=rdap, dns=dns_result)


def _rdap_result(body: Any) -> RdapResult:
    if isinstance(body, LiveLimitExceeded):
        # explain gives the verdict a live lookup of this body would give.
        return RdapResult(outcome=RdapOutcome.FAILED, error=body.reason)
    if isinstance(body, dict) and "errorCode" in body and "ldhName" not in body:
        return _error_result(body)
    if isinstance(body, dict) and "status" in body and "request_uri" in body:
        return _http_metadata_result(body)
    try:
        record = parse_domain(body)
    except RdapBodyError as exc:
        return RdapResult(outcome=RdapOutcome.FAILED, error=str(exc))
    return RdapResult(outcome=RdapOutcome.FOUND, record=record)


def _error_result(body: dict[str, Any]) -> RdapResult:
    code = body.get("errorCode")
    if isinstance(code, str) and code.strip().isdigit():
        code = int(code)
    title = body.get("title") if isinstance(body.get("title"), str) else ""
    if code == 404 and any(word in title.lower() for word in _BOOTSTRAP_WORDS):
        # A bootstrap redirector that has no server for the TLD:
        # nothing was asked of the registry, so this is no evidence.
        return RdapResult(outcome=RdapOutcome.NO_SERVICE, error=f"404 {title}")
    if code == 404:
        return RdapResult(outcome=RdapOutcome.NOT_FOUND, error="404 not found")
    return RdapResult(outcome=RdapOutcome.FAILED, error=f"HTTP {code} {title}".strip())


def _http_metadata_result(body: dict[str, Any]) -> RdapResult:
    status = body.get("status")
    if status == 404:
        return RdapResult(outcome=RdapOutcome.NOT_FOUND, error="404 with an empty body")
    location = body.get("location")
    if isinstance(status, int) and 300 <= status < 400:
        return RdapResult(
            outcome=RdapOutcome.FAILED,
            error=f"HTTP {status} redirect to {location} (not followed offline)",
        )
    return RdapResult(outcome=RdapOutcome.FAILED, error=f"HTTP {status}")


def _domain_hint(body: Any) -> str | None:
    """Find the queried domain in an error body's links, title or request URI."""
    if not isinstance(body, dict):
        return None
    texts: list[str] = []
    if isinstance(body.get("request_uri"), str):
        texts.append(body["request_uri"])
    links = body.get("links")
    if isinstance(links, list):
        texts.extend(
            link["href"]
            for link in links
            if isinstance(link, dict) and isinstance(link.get("href"), str)
        )
    for text in texts:
        match = _DOMAIN_IN_PATH.search(text)
        if match:
            return _normalise(match.group(1))
    title = body.get("title")
    if isinstance(title, str):
        match = _DOMAIN_IN_TITLE.search(title)
        if match:
            return _normalise(match.group(1))
    return None


def _normalise(name: str) -> str | None:
    try:
        return registrable_domain(name).domain
    except DomainGuardError:
        return None
