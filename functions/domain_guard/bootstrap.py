"""The IANA RDAP bootstrap for domains (RFC 9224) and the project's override file.

IANA's ``dns.json`` lists, per service, the TLDs it covers and the base URLs
of its RDAP servers. A domain is served by the entry with the longest
matching label suffix. Entries IANA does not have (ccTLDs that run RDAP
without registering it) come from ``data/rdap-overrides.json``.

Reading is lenient: a malformed entry is skipped with a note and never breaks
the rest of the file.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from .errors import BootstrapError, InvalidDomainError
from .names import to_a_label

logger = logging.getLogger(__name__)

IANA_BOOTSTRAP_URL = "https://data.iana.org/rdap/dns.json"
OVERRIDES_PATH = Path(__file__).parent / "data" / "rdap-overrides.json"
# The IANA file is about 40 kB; anything far larger is not that file.
MAX_BOOTSTRAP_BYTES = 2 * 1024 * 1024
FETCH_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
# A refreshed file with fewer than this share of the stored copy's TLDs is
# taken for a truncated download and not used.
MIN_KEPT_SHARE = 0.5
MAX_NOTES = 20


@dataclass(frozen=True, slots=True)
class _Entry:
    tlds: tuple[str, ...]
    urls: tuple[str, ...]


class Bootstrap:
    """Map a domain to the base URLs of its RDAP servers."""

    def __init__(
        self,
        entries: tuple[_Entry, ...],
        *,
        override_entries: tuple[_Entry, ...] = (),
        publication: str | None = None,
        notes: tuple[str, ...] = (),
    ) -> None:
        self._entries = entries
        self._publication = publication
        self.notes = notes
        servers: dict[str, tuple[str, ...]] = {}
        for entry in entries:
            for tld in entry.tlds:
                servers[tld] = _merge_urls(servers.get(tld, ()), entry.urls)
        # Overrides fill gaps: once IANA lists a TLD, its entry is authoritative.
        for entry in override_entries:
            for tld in entry.tlds:
                servers.setdefault(tld, entry.urls)
        self._servers = servers

    @classmethod
    def from_json(
        cls, data: object, *, overrides: Mapping[str, Any] | None = None
    ) -> Bootstrap:
        """Build from a decoded ``dns.json`` and an optional override document.

        Raises BootstrapError only when ``data`` is not a bootstrap document at
        all (not an object, or no ``services`` array).
        """
        if not isinstance(data, Mapping):
            raise BootstrapError(
                f"bootstrap document is {type(data).__name__}, not a JSON object"
            )
        services = data.get("services")
        if not isinstance(services, list):
            raise BootstrapError("bootstrap document has no 'services' array")
        notes: list[str] = []
        entries = tuple(
            entry
            for index, service in enumerate(services)
            if (entry := _read_service(index, service, notes)) is not None
        )
        override_entries: tuple[_Entry, ...] = ()
        if overrides is not None:
            override_entries = _read_overrides(overrides, notes)
        publication = data.get("publication")
        if len(notes) > MAX_NOTES:
            notes = [*notes[:MAX_NOTES], f"... and {len(notes) - MAX_NOTES} more"]
        return cls(
            entries,
            override_entries=override_entries,
            publication=publication if isinstance(publication, str) else None,
            notes=tuple(notes),
        )

    @property
    def publication(self) -> str | None:
        return self._publication

    @property
    def tld_count(self) -> int:
        return len(self._servers)

    def servers_for(self, domain: str) -> tuple[str, ...]:
        """Return the base URLs (ending in "/") serving ``domain``, best first.

        ``domain`` is an A-label name; the longest label suffix with an entry
        wins. An empty tuple means no RDAP service is known.
        """
        labels = domain.strip().lower().rstrip(".").split(".")
        for start in range(len(labels)):
            urls = self._servers.get(".".join(labels[start:]))
            if urls:
                return urls
        return ()

    def to_json(self) -> dict[str, Any]:
        """Return the IANA part as a ``dns.json`` document, for a stored cache.

        Overrides are left out: they ship with the code and are merged again
        when the stored copy is read with ``from_json``.
        """
        document: dict[str, Any] = {
            "version": "1.0",
            "services": [
                [list(entry.tlds), list(entry.urls)] for entry in self._entries
            ],
        }
        if self._publication is not None:
            document["publication"] = self._publication
        return document


def packaged_overrides() -> dict[str, Any]:
    """Return the override document shipped in ``data/rdap-overrides.json``."""
    document = json.loads(OVERRIDES_PATH.read_text(encoding="utf-8"))
    if not isinstance(document, dict):
        raise BootstrapError("data/rdap-overrides.json is not a JSON object")
    return document


def fetch_iana_bootstrap(
    http: httpx.Client, *, url: str = IANA_BOOTSTRAP_URL
) -> dict[str, Any]:
    """Download and decode the IANA bootstrap file.

    Raises BootstrapError when the request fails, times out, returns a status
    other than 200, or the body is too large or not a bootstrap document.
    Plain http is accepted only for a loopback host (a local test server).
    """
    parts = urlsplit(url)
    if parts.scheme != "https" and not (
        parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1")
    ):
        raise BootstrapError(f"bootstrap URL {url} must use https")
    try:
        with http.stream(
            "GET",
            url,
            timeout=FETCH_TIMEOUT,
            follow_redirects=False,
            headers={"Accept": "application/json"},
        ) as response:
            if response.status_code != 200:
                raise BootstrapError(
                    f"bootstrap fetch from {url} returned HTTP {response.status_code}"
                )
            body = bytearray()
            for chunk in response.iter_bytes():
                body.extend(chunk)
                if len(body) > MAX_BOOTSTRAP_BYTES:
                    raise BootstrapError(
                        f"bootstrap body from {url} is over {MAX_BOOTSTRAP_BYTES} bytes"
                    )
    except httpx.HTTPError as exc:
        raise BootstrapError(f"bootstrap fetch from {url} failed: {exc!r}") from exc
    try:
        document = json.loads(bytes(body))
    except (ValueError, RecursionError) as exc:
        raise BootstrapError(f"bootstrap body from {url} is not JSON: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("services"), list):
        raise BootstrapError(f"bootstrap body from {url} has no 'services' array")
    return document


class BootstrapCache:
    """The bootstrap a process uses, refreshed from IANA once its copy is a day old.

    The caller passes in the stored copy and the time it was fetched (the
    store keeps them between runs) and, after ``current``, writes back
    ``document`` and ``fetched_at`` when ``refreshed`` is true. A failed
    refresh keeps the stored copy and is retried after ``retry_interval``.
    """

    def __init__(
        self,
        stored: Mapping[str, Any] | None = None,
        fetched_at: datetime | None = None,
        *,
        overrides: Mapping[str, Any] | None = None,
        max_age: timedelta = timedelta(days=1),
        retry_interval: timedelta = timedelta(hours=1),
        url: str = IANA_BOOTSTRAP_URL,
    ) -> None:
        self.document: dict[str, Any] | None = dict(stored) if stored else None
        self.fetched_at = fetched_at
        self.refreshed = False
        self.error: str | None = None
        self._overrides = overrides if overrides is not None else packaged_overrides()
        self._max_age = max_age
        self._retry_interval = retry_interval
        self._url = url
        self._attempted_at: datetime | None = None
        self._bootstrap: Bootstrap | None = None

    def current(self, http: httpx.Client, now: datetime) -> Bootstrap:
        """Return the bootstrap to use at ``now``, refreshing it when due.

        Raises BootstrapError only when there is no stored copy and the fetch
        failed, so no server is known at all.
        """
        if self._due(now):
            self._refresh(http, now)
        if self.document is None:
            raise BootstrapError(
                f"no RDAP bootstrap available: {self.error or 'never fetched'}"
            )
        if self._bootstrap is None:
            self._bootstrap = Bootstrap.from_json(
                self.document, overrides=self._overrides
            )
        return self._bootstrap

    def loaded(self) -> Bootstrap | None:
        """Return the bootstrap already in memory, without any I/O."""
        if self._bootstrap is None and self.document is not None:
            self._bootstrap = Bootstrap.from_json(
                self.document, overrides=self._overrides
            )
        return self._bootstrap

    def _due(self, now: datetime) -> bool:
        if self._attempted_at is not None and now - self._attempted_at < (
            self._retry_interval
        ):
            return False
        if self.document is None or self.fetched_at is None:
            return True
        return now - self.fetched_at >= self._max_age

    def _refresh(self, http: httpx.Client, now: datetime) -> None:
        self._attempted_at = now
        try:
            document = fetch_iana_bootstrap(http, url=self._url)
            fresh = Bootstrap.from_json(document, overrides=self._overrides)
            self._check_not_truncated(fresh)
        except BootstrapError as exc:
            self.error = str(exc)
            logger.debug("bootstrap refresh failed, keeping stored copy: %s", exc)
            return
        self.document = document
        self.fetched_at = now
        self.refreshed = True
        self.error = None
        self._bootstrap = fresh
        logger.debug("bootstrap refreshed: tlds=%s", fresh.tld_count)

    def _check_not_truncated(self, fresh: Bootstrap) -> None:
        if fresh.tld_count == 0:
            raise BootstrapError("refreshed bootstrap lists no usable TLD")
        if self.document is None:
            return
        try:
            stored = Bootstrap.from_json(self.document)
        except BootstrapError:
            return
        if fresh.tld_count < stored.tld_count * MIN_KEPT_SHARE:
            raise BootstrapError(
                f"refreshed bootstrap lists {fresh.tld_count} TLDs against"
                f" {stored.tld_count} stored; kept the stored copy"
            )


def _read_service(index: int, service: object, notes: list[str]) -> _Entry | None:
    if not isinstance(service, list) or len(service) < 2:
        notes.append(f"service {index} is not a [tlds, urls] pair; skipped")
        return None
    tlds = _read_tlds(index, service[0], notes)
    urls = _read_urls(index, service[1], notes)
    if not tlds or not urls:
        notes.append(f"service {index} has no usable TLD or URL; skipped")
        return None
    return _Entry(tlds=tlds, urls=urls)


def _read_tlds(index: int, raw: object, notes: list[str]) -> tuple[str, ...]:
    if not isinstance(raw, list):
        return ()
    tlds: list[str] = []
    for item in raw:
        if not isinstance(item, str):
            notes.append(f"service {index}: TLD {item!r:.40} is not a string")
            continue
        try:
            tld = to_a_label(item.strip().strip("."))
        except InvalidDomainError:
            notes.append(f"service {index}: TLD {item!r:.40} is not a valid label")
            continue
        if tld not in tlds:
            tlds.append(tld)
    return tuple(tlds)


def _read_urls(index: int, raw: object, notes: list[str]) -> tuple[str, ...]:
    """Return the usable base URLs, https on the default port first.

    http and odd-port URLs are dropped when a plain https URL exists, and kept
    as a last resort otherwise (the client still rejects plain http).
    """
    if not isinstance(raw, list):
        return ()
    preferred: list[str] = []
    others: list[str] = []
    for item in raw:
        url = _base_url(item)
        if url is None:
            notes.append(f"service {index}: URL {item!r:.60} is not an http(s) URL")
            continue
        parts = urlsplit(url)
        if parts.scheme == "https" and parts.port in (None, 443):
            preferred.append(url)
        else:
            others.append(url)
    if preferred:
        return tuple(dict.fromkeys(preferred))
    # https before http among the rest.
    others.sort(key=lambda url: not url.startswith("https://"))
    return tuple(dict.fromkeys(others))


def _base_url(raw: object) -> str | None:
    if not isinstance(raw, str):
        return None
    url = raw.strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        return None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return None
    if parts.query or parts.fragment or parts.username or parts.password:
        return None
    return url if url.endswith("/") else url + "/"


def _merge_urls(first: tuple[str, ...], second: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*first, *second)))


def _read_overrides(
    document: Mapping[str, Any], notes: list[str]
) -> tuple[_Entry, ...]:
    """Read the override file: ``{"services": [{"tlds": [...], "urls": [...]}]}``."""
    services = document.get("services")
    if not isinstance(services, list):
        notes.append("override document has no 'services' array; ignored")
        return ()
    entries: list[_Entry] = []
    for index, service in enumerate(services):
        if not isinstance(service, dict):
            notes.append(f"override {index} is not an object; skipped")
            continue
        tlds = _read_tlds(index, service.get("tlds"), notes)
        urls = _read_urls(index, service.get("urls"), notes)
        if tlds and urls:
            entries.append(_Entry(tlds=tlds, urls=urls))
        else:
            notes.append(f"override {index} has no usable TLD or URL; skipped")
    return tuple(entries)
