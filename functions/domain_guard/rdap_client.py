"""RDAP lookups over HTTP: server choice, limits, redirects and registrar referral.

Every body comes from a server Domain Guard does not control, so each lookup
is bounded. Only https is used, also after redirects, and at most five
redirects are followed (plain http only to an operator-given loopback base).
Redirect and referral targets are checked on their resolved address, and the
connection is pinned to that address. An overall deadline covers connects,
reads and slow trickles. The body is capped while it streams, and its JSON
nesting depth is checked on the bytes before decoding.

``lookup`` does not raise for network or body problems. Each failure becomes
an ``RdapResult`` with outcome FAILED and a reason, which the verdict turns
into ``unknown``. A 404 is NOT_FOUND, which is ``not_registered`` only when
DNS also returns NXDOMAIN.
"""

from __future__ import annotations

import concurrent.futures
import email.utils
import ipaddress
import json
import logging
import re
import socket
import time
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, urljoin, urlsplit

import httpx

from .bootstrap import Bootstrap, BootstrapCache
from .deadline_http import deadline as socket_deadline
from .deadline_http import deadline_client
from .errors import BootstrapError, RdapBodyError, RdapConfigError, RdapFetchError
from .models import RdapOutcome, RdapRecord, RdapResult
from .rdap import parse_domain

logger = logging.getLogger(__name__)

USER_AGENT = "domain-guard/0.1 (RDAP client)"
ACCEPT = "application/rdap+json, application/json;q=0.9"
DEFAULT_DEADLINE_SECONDS = 10.0
DEFAULT_CONNECT_TIMEOUT = 3.0
DEFAULT_READ_TIMEOUT = 5.0
# Real domain responses are 2-30 kB (the largest saved sample is 29 kB).
DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024
DEFAULT_MAX_REDIRECTS = 5
# Real domain responses nest about 10 levels deep; json.loads recurses once
# per level and would raise RecursionError near 1,000.
DEFAULT_MAX_JSON_DEPTH = 100
# Error bodies (404, 429, 5xx) are read only this far, for the note.
MAX_ERROR_BODY_BYTES = 64 * 1024
# A Retry-After beyond a day is read as a day, so one hostile header cannot
# park a server's queue for good.
MAX_RETRY_AFTER_SECONDS = 86_400.0
# A registrar hop is not started with less time than this left.
MIN_REFERRAL_SECONDS = 0.5

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
JSON_MEDIA_TYPES = frozenset({"application/rdap+json", "application/json"})

# Addresses of cloud instance metadata services: AWS, GCP and Azure use the
# link-local 169.254.169.254, AWS also fd00:ec2::254, Alibaba 100.100.100.200.
METADATA_ADDRESSES = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),
        ipaddress.ip_address("fd00:ec2::254"),
        ipaddress.ip_address("100.100.100.200"),
    }
)
METADATA_HOST_NAMES = frozenset(
    {"metadata", "metadata.google.internal", "metadata.goog", "instance-data"}
)

Resolver = Callable[[str], Sequence[str]]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# A JSON string, with escapes, in the unrolled-loop form that does not backtrack.
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKETS = b"[]{}"
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in _BRACKETS)
_DEPTH_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


@dataclass(frozen=True, slots=True)
class _Target:
    """The URL one request connects to, and the host names it presents."""

    url: str
    host_header: str | None = None  # set when the URL carries a pinned address
    sni_hostname: str | None = None


@dataclass(frozen=True, slots=True)
class _Response:
    status: int
    url: str
    body: bytes | None = None
    retry_after: float | None = None


class RdapClient:
    """Look domains up in RDAP, through the bootstrap or one operator-given server.

    With ``base_url`` every query goes to ``base_url + "domain/NAME"``, no
    bootstrap is fetched and no other origin is contacted: redirects and
    registrar referrals to another origin are rejected or skipped with a
    reason. Plain http is accepted for a loopback ``base_url`` only.

    Without ``base_url``, ``bootstrap`` picks the server. Without it,
    ``bootstrap_cache`` (a stored copy refreshed daily) does; with neither,
    the IANA file is fetched on the first lookup and kept for a day.

    ``resolver`` (host name to addresses) and ``allowed_networks`` exist for
    tests and local runs: by default the system resolver is used and every
    non-public address is rejected.
    """

    def __init__(
        self,
        http: httpx.Client | None = None,
        *,
        bootstrap: Bootstrap | None = None,
        bootstrap_cache: BootstrapCache | None = None,
        base_url: str | None = None,
        deadline_seconds: float = DEFAULT_DEADLINE_SECONDS,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        max_redirects: int = DEFAULT_MAX_REDIRECTS,
        max_json_depth: int = DEFAULT_MAX_JSON_DEPTH,
        follow_referral: bool = True,
        resolver: Resolver | None = None,
        allowed_networks: Iterable[str | Network] = (),
        user_agent: str = USER_AGENT,
    ) -> None:
        # The base URL is checked first, so a bad one leaks no HTTP client.
        self._base_url = checked_base_url(base_url) if base_url else None
        self._owns_http = http is None
        self._http = http if http is not None else _default_http_client()
        self._bootstrap = bootstrap
        self._bootstrap_cache = bootstrap_cache
        self._base_origin = _origin(self._base_url) if self._base_url else None
        self._deadline_seconds = deadline_seconds
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._max_body_bytes = max_body_bytes
        self._max_redirects = max_redirects
        self._max_json_depth = max_json_depth
        self._follow_referral = follow_referral
        self._resolver = resolver
        self._resolver_pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._allowed_networks = tuple(
            ipaddress.ip_network(net) if isinstance(net, str) else net
            for net in allowed_networks
        )
        self._headers = {
            "Accept": ACCEPT,
            "Accept-Encoding": "identity",
            "User-Agent": user_agent,
        }

    # ----------------------------------------------------------------- API

    def server_for(self, domain: str) -> str | None:
        """Return the host name of the registry RDAP server for ``domain``.

        This is the pacing key. No I/O: before the first lookup has loaded
        the IANA file (when none was given), this returns None.
        """
        base = self._base_for(_clean(domain), fetch=False)
        return urlsplit(base).hostname if base else None

    def lookup(self, domain: str) -> RdapResult:
        """Look ``domain`` (an A-label registrable domain) up in RDAP."""
        name = _clean(domain)
        deadline = time.monotonic() + self._deadline_seconds
        try:
            base = self._base_for(name, fetch=True)
        except BootstrapError as exc:
            return RdapResult(
                outcome=RdapOutcome.FAILED, error=f"RDAP bootstrap unavailable: {exc}"
            )
        if base is None:
            tld = name.rsplit(".", 1)[-1]
            return RdapResult(
                outcome=RdapOutcome.NO_SERVICE,
                error=f"no RDAP server is known for .{tld}",
            )
        server = urlsplit(base).hostname
        try:
            result = self._lookup_at(base, name, deadline)
        except RdapFetchError as exc:
            result = RdapResult(
                outcome=RdapOutcome.FAILED,
                error=exc.reason,
                retry_after=exc.retry_after,
            )
        except Exception as exc:  # a bug must not escape: lookup never raises
            logger.warning(
                "RDAP lookup failed unexpectedly: domain=%s", name, exc_info=True
            )
            result = RdapResult(
                outcome=RdapOutcome.FAILED,
                error=f"RDAP lookup failed: {type(exc).__name__}: {exc}",
            )
        result = _with_server(result, server)
        logger.debug(
            "RDAP lookup finished: domain=%s server=%s outcome=%s error=%s",
            name,
            server,
            result.outcome,
            result.error,
        )
        return result

    def close(self) -> None:
        if self._owns_http:
            self._http.close()
        if self._resolver_pool is not None:
            # A resolver thread stuck in getaddrinfo must not block close().
            self._resolver_pool.shutdown(wait=False, cancel_futures=True)
            self._resolver_pool = None

    def __enter__(self) -> RdapClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------- lookups

    def _base_for(self, name: str, *, fetch: bool) -> str | None:
        if self._base_url is not None:
            return self._base_url
        bootstrap = self._bootstrap
        if bootstrap is None:
            if not fetch:
                cache = self._bootstrap_cache
                bootstrap = cache.loaded() if cache is not None else None
                if bootstrap is None:
                    return None
            else:
                if self._bootstrap_cache is None:
                    self._bootstrap_cache = BootstrapCache()
                bootstrap = self._bootstrap_cache.current(self._http, datetime.now(UTC))
        servers = bootstrap.servers_for(name)
        return servers[0] if servers else None

    def _lookup_at(self, base: str, name: str, deadline: float) -> RdapResult:
        url = f"{base}domain/{quote(name)}"
        response = self._get(url, deadline, purpose="RDAP query")
        if response.status == 404:
            return RdapResult(
                outcome=RdapOutcome.NOT_FOUND,
                error=f"HTTP 404 from {urlsplit(response.url).hostname}",
                notes=(_describe_404(response.body),),
            )
        record = self._record_from(response, name)
        if not self._follow_referral or not _needs_referral(record):
            return RdapResult(outcome=RdapOutcome.FOUND, record=record)
        registrar_record, note = self._referral(record, name, deadline)
        return RdapResult(
            outcome=RdapOutcome.FOUND,
            record=record,
            registrar_record=registrar_record,
            error=note if registrar_record is None else None,
            notes=(note,) if note else (),
        )

    def _record_from(self, response: _Response, name: str) -> RdapRecord:
        """Turn a non-404 response into a record, or raise RdapFetchError."""
        host = urlsplit(response.url).hostname
        status = response.status
        if status in (429, 503):
            wait = (
                f"; retry after {response.retry_after:.0f} s"
                if response.retry_after is not None
                else ""
            )
            raise RdapFetchError(
                f"HTTP {status} from {host}{wait}", retry_after=response.retry_after
            )
        if status != 200:
            raise RdapFetchError(f"HTTP {status} from {host}")
        body = self._decode(response.body or b"", host)
        try:
            record = parse_domain(body)
        except RdapBodyError as exc:
            raise RdapFetchError(f"body from {host}: {exc}") from exc
        if record.domain != name:
            raise RdapFetchError(
                f"response from {host} is for {record.domain!r}, not {name!r}"
            )
        return record

    def _referral(
        self, record: RdapRecord, name: str, deadline: float
    ) -> tuple[RdapRecord | None, str | None]:
        """Follow the registrar's ``related`` link. Failures become a note."""
        url = record.registrar_rdap_url
        if url is None:
            return None, "registrar referral skipped: the registry publishes no link"
        if self._base_origin is not None and _origin(url) != self._base_origin:
            return None, (
                f"registrar referral to {url} skipped: with a base URL only"
                f" {self._base_url} is contacted"
            )
        if deadline - time.monotonic() < MIN_REFERRAL_SECONDS:
            return None, "registrar referral skipped: the lookup deadline passed"
        try:
            response = self._get(url, deadline, purpose="registrar referral")
            if response.status == 404:
                host = urlsplit(response.url).hostname
                return None, f"registrar referral failed: HTTP 404 from {host}"
            return self._record_from(response, name), None
        except RdapFetchError as exc:
            return None, f"registrar referral failed: {exc.reason}"

    # ---------------------------------------------------------------- HTTP

    def _get(self, url: str, deadline: float, *, purpose: str) -> _Response:
        """GET ``url``, following at most ``max_redirects`` checked redirects.

        Reads the body only for a 200 (capped at ``max_body_bytes``) and a
        short prefix of a 404. Raises RdapFetchError for every network
        failure, rejected target and broken limit.
        """
        requested: set[str] = set()
        current = url
        action = purpose
        for hop in range(self._max_redirects + 1):
            target = self._target(current, deadline, action=action, redirected=hop > 0)
            requested.add(current)
            response = self._request(target, current, deadline)
            if isinstance(response, _Response):
                return response
            location = response
            next_url = urljoin(current, location)
            if next_url in requested:
                raise RdapFetchError(f"redirect loop: {next_url} was already requested")
            current = next_url
            action = f"redirect from {_short_url(url)}"
        raise RdapFetchError(
            f"more than {self._max_redirects} redirects from {_short_url(url)}"
        )

    def _request(
        self, target: _Target, display_url: str, deadline: float
    ) -> _Response | str:
        """Send one GET. Returns the response, or a redirect's Location."""
        headers = dict(self._headers)
        extensions: dict[str, object] = {}
        if target.host_header is not None:
            headers["Host"] = target.host_header
            # One pinned connection per request, so a connection verified for
            # one host name is never reused for another at the same address.
            headers["Connection"] = "close"
        if target.sni_hostname is not None:
            extensions["sni_hostname"] = target.sni_hostname
        host = urlsplit(display_url).hostname
        try:
            with (
                socket_deadline(deadline),
                self._http.stream(
                    "GET",
                    target.url,
                    headers=headers,
                    extensions=extensions,
                    timeout=self._timeout(deadline),
                    follow_redirects=False,
                ) as response,
            ):
                status = response.status_code
                if status in REDIRECT_STATUSES:
                    location = str(response.headers.get("location", ""))
                    if not location:
                        raise RdapFetchError(
                            f"HTTP {status} from {host} without Location"
                        )
                    return location
                retry_after = parse_retry_after(response.headers.get("retry-after"))
                body: bytes | None = None
                if status == 200:
                    _check_content_type(response.headers.get("content-type"), host)
                    body = self._read_body(
                        response, deadline, self._max_body_bytes, host
                    )
                elif status == 404:
                    body = self._read_error_body(response, deadline, host)
                return _Response(
                    status=status, url=display_url, body=body, retry_after=retry_after
                )
        except httpx.TimeoutException as exc:
            if time.monotonic() >= deadline:
                raise RdapFetchError(
                    f"lookup deadline of {self._deadline_seconds:g} s passed while"
                    f" waiting for {_short_url(display_url)}"
                ) from exc
            raise RdapFetchError(
                f"{_timeout_kind(exc)} timed out for {_short_url(display_url)}"
            ) from exc
        except httpx.HTTPError as exc:
            failure = f"{type(exc).__name__}: {exc}"
            raise RdapFetchError(
                f"request to {_short_url(display_url)} failed: {failure}"
            ) from exc
        except httpx.InvalidURL as exc:
            raise RdapFetchError(
                f"invalid URL {_short_url(display_url)}: {exc}"
            ) from exc

    def _read_body(
        self, response: httpx.Response, deadline: float, cap: int, host: str | None
    ) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            raise RdapFetchError(
                f"body from {host} declares {declared} bytes, over the {cap}-byte limit"
            )
        decoder = _decoder_for(response.headers.get("content-encoding"), host)
        body = bytearray()
        for chunk in response.iter_raw():
            if decoder is not None:
                # Never more than one byte past the cap, so a compressed bomb
                # cannot expand in memory.
                chunk = decoder.decompress(chunk, cap + 1 - len(body))
            body.extend(chunk)
            if len(body) > cap:
                raise RdapFetchError(
                    f"body from {host} is over the {cap}-byte limit; stopped reading"
                )
            if time.monotonic() > deadline:
                raise RdapFetchError(
                    f"lookup deadline of {self._deadline_seconds:g} s passed while"
                    f" reading the body from {host} ({len(body)} bytes read)"
                )
        return bytes(body)

    def _read_error_body(
        self, response: httpx.Response, deadline: float, host: str | None
    ) -> bytes | None:
        try:
            return self._read_body(response, deadline, MAX_ERROR_BODY_BYTES, host)
        except RdapFetchError:
            return None

    def _decode(self, body: bytes, host: str | None) -> object:
        if json_depth_exceeds(body, self._max_json_depth):
            raise RdapFetchError(
                f"body from {host} nests JSON deeper than {self._max_json_depth}"
                " levels; not decoded"
            )
        try:
            return json.loads(body)
        except RecursionError as exc:
            raise RdapFetchError(f"body from {host} nests JSON too deeply") from exc
        except ValueError as exc:
            raise RdapFetchError(f"body from {host} is not valid JSON: {exc}") from exc

    def _timeout(self, deadline: float) -> httpx.Timeout:
        # The default client also bounds every socket operation by the
        # deadline (deadline_http). A client passed in by the caller gets only
        # these per-request timeouts and the check in _read_body.
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise RdapFetchError(
                f"lookup deadline of {self._deadline_seconds:g} s passed"
            )
        connect = min(self._connect_timeout, remaining)
        read = min(self._read_timeout, remaining)
        return httpx.Timeout(connect=connect, read=read, write=read, pool=connect)

    # ------------------------------------------------------------- targets

    def _target(
        self, url: str, deadline: float, *, action: str, redirected: bool
    ) -> _Target:
        """Check where ``url`` points and pin it to a checked address.

        The base URL's origin is trusted as the operator gave it, but a
        redirect must be https even there. Raises RdapFetchError naming the
        URL and the rule it breaks; nothing is sent to a rejected target.
        """
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if not host:
            raise RdapFetchError(
                f"{action} to {_short_url(url)} rejected: no host name"
            )
        if parts.username is not None or parts.password is not None:
            raise RdapFetchError(
                f"{action} to {_short_url(url)} rejected: URL has credentials"
            )
        same_origin = self._base_origin is not None and (
            _origin(url) == self._base_origin
        )
        if parts.scheme.lower() != "https" and (redirected or not same_origin):
            raise RdapFetchError(
                f"{action} to {_short_url(url)} rejected: only https is allowed"
            )
        if same_origin:
            return _Target(url=url)
        literal = _ip_literal(host)
        if literal is not None:
            self._check_address(literal, url, action)
        if self._base_origin is not None:
            raise RdapFetchError(
                f"{action} to {_short_url(url)} rejected: with a base URL only"
                f" {self._base_url} is contacted"
            )
        if literal is not None:
            return _Target(url=url)
        if (
            host in METADATA_HOST_NAMES
            or host == "localhost"
            or host.endswith(".localhost")
        ):
            raise RdapFetchError(
                f"{action} to {_short_url(url)} rejected: {host} is a local name"
            )
        addresses = self._resolve(host, deadline)
        for address in addresses:
            self._check_address(address, url, action)
        pinned = addresses[0]
        port = f":{parts.port}" if parts.port else ""
        netloc = f"[{pinned}]" if pinned.version == 6 else str(pinned)
        return _Target(
            url=parts._replace(netloc=f"{netloc}{port}").geturl(),
            host_header=f"{host}{port}",
            sni_hostname=host,
        )

    def _check_address(self, address: Address, url: str, action: str) -> None:
        kind = self._rejected_kind(address)
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if kind is not None:
            raise RdapFetchError(
                f"{action} to {_short_url(url)} rejected: {kind} address {address}"
            )

    def _rejected_kind(self, address: Address) -> str | None:
        if any(address in network for network in self._allowed_networks):
            return None
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if address in METADATA_ADDRESSES:
            return "cloud metadata"
        if address.is_loopback:
            return "loopback"
        if address.is_link_local:
            return "link-local"
        if address.is_private:
            return "private"
        if address.is_multicast or address.is_unspecified or address.is_reserved:
            return "reserved"
        if not address.is_global:
            return "non-public"
        return None

    def _resolve(self, host: str, deadline: float) -> list[Address]:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise RdapFetchError(f"lookup deadline passed before resolving {host}")
        try:
            if self._resolver is not None:
                names = list(self._resolver(host))
            else:
                names = self._system_resolve(
                    host, min(remaining, self._connect_timeout)
                )
        except (OSError, UnicodeError) as exc:
            raise RdapFetchError(f"could not resolve {host}: {exc}") from exc
        addresses: list[Address] = []
        for text in names:
            try:
                address = ipaddress.ip_address(text.split("%", 1)[0])
            except ValueError:
                continue
            if address not in addresses:
                addresses.append(address)
        if not addresses:
            raise RdapFetchError(f"could not resolve {host}: no address")
        return addresses

    def _system_resolve(self, host: str, timeout: float) -> list[str]:
        # getaddrinfo has no timeout of its own, so it runs in a worker thread.
        if self._resolver_pool is None:
            self._resolver_pool = concurrent.futures.ThreadPoolExecutor(
                max_workers=2, thread_name_prefix="rdap-resolve"
            )
        future = self._resolver_pool.submit(
            socket.getaddrinfo, host, 443, type=socket.SOCK_STREAM
        )
        try:
            infos = future.result(timeout=timeout)
        except concurrent.futures.TimeoutError as exc:
            raise RdapFetchError(f"resolving {host} timed out") from exc
        return [str(info[4][0]) for info in infos]


def json_depth_exceeds(body: bytes, limit: int) -> bool:
    """Tell whether the JSON text ``body`` nests arrays and objects past ``limit``.

    Brackets inside strings do not count. A body with no more opening brackets
    than ``limit`` cannot exceed it, which skips the scan for real responses.
    """
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    brackets = _JSON_STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    depth = 0
    step = _DEPTH_STEP
    for byte in brackets:
        depth += step[byte]
        if depth > limit:
            return True
    return False


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Read a Retry-After header (RFC 9110 section 10.2.3) as seconds from now.

    Accepts delay-seconds and an HTTP date. Returns None when absent or
    unreadable; clamps to between 0 and ``MAX_RETRY_AFTER_SECONDS``.
    """
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        seconds = float(text) if len(text) < 12 else MAX_RETRY_AFTER_SECONDS
    else:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return max(0.0, min(seconds, MAX_RETRY_AFTER_SECONDS))


def _check_content_type(value: str | None, host: str | None) -> None:
    if value is None:
        raise RdapFetchError(f"response from {host} has no Content-Type; not RDAP JSON")
    media_type = value.split(";", 1)[0].strip().lower()
    if media_type in JSON_MEDIA_TYPES:
        return
    if media_type.startswith("application/") and media_type.endswith("+json"):
        return
    raise RdapFetchError(
        f"response from {host} has Content-Type {media_type[:60]!r}, not RDAP JSON"
    )


def _decoder_for(value: str | None, host: str | None) -> zlib._Decompress | None:
    """Return a bounded decompressor for a Content-Encoding the server sent anyway."""
    encoding = (value or "identity").strip().lower()
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return zlib.decompressobj()
    raise RdapFetchError(
        f"response from {host} uses Content-Encoding {encoding[:30]!r}"
    )


def _describe_404(body: bytes | None) -> str:
    if not body:
        return "404 with an empty body"
    try:
        document = json.loads(body) if not json_depth_exceeds(body, 20) else None
    except (ValueError, RecursionError):
        document = None
    if isinstance(document, dict) and "errorCode" in document:
        title = document.get("title")
        if isinstance(title, str) and title:
            return f"404 with an RDAP error body: {title[:80]}"
        return "404 with an RDAP error body"
    return "404 with a body that is not an RDAP error object"


def _needs_referral(record: RdapRecord) -> bool:
    """Tell whether the registrar's record is needed: no expiry, or auto-renew."""
    return record.expires_at is None or "auto renew period" in record.statuses


def _with_server(result: RdapResult, server: str | None) -> RdapResult:
    return RdapResult(
        outcome=result.outcome,
        record=result.record,
        registrar_record=result.registrar_record,
        server=server,
        error=result.error,
        retry_after=result.retry_after,
        notes=result.notes,
    )


def _clean(domain: str) -> str:
    name = domain.strip().lower()
    return name[:-1] if name.endswith(".") else name


def checked_base_url(base_url: str) -> str:
    parts = urlsplit(base_url.strip())
    if parts.username is not None or parts.password is not None:
        # The value is not echoed: it carries a credential.
        raise RdapConfigError(
            "RDAP base URL has a user name or password; RDAP needs none, so"
            " remove the part before '@'"
        )
    host = parts.hostname
    try:
        parts.port  # noqa: B018 -- reading it validates the port
    except ValueError:
        raise RdapConfigError(
            f"RDAP base URL {base_url!r} has an invalid port; use a number from"
            " 1 to 65535"
        ) from None
    if parts.scheme not in ("http", "https") or not host or " " in base_url.strip():
        raise RdapConfigError(
            f"RDAP base URL {base_url!r} is not an http(s) URL; use a form such as"
            " https://rdap.example/ or http://127.0.0.1:8080/"
        )
    if parts.scheme == "http" and not _is_loopback_host(host):
        raise RdapConfigError(
            f"RDAP base URL {base_url!r} uses plain http on a host that is not"
            " loopback; use https, or http only on 127.0.0.1, ::1 or localhost"
        )
    if parts.query or parts.fragment:
        raise RdapConfigError(
            f"RDAP base URL {base_url!r} must not have a query or fragment; give"
            " the part before /domain/, such as http://127.0.0.1:8080/"
        )
    url = parts.geturl()
    return url if url.endswith("/") else url + "/"


def _is_loopback_host(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    address = _ip_literal(host)
    return address is not None and address.is_loopback


def _ip_literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    default_port = 443 if scheme == "https" else 80
    return scheme, (parts.hostname or "").lower(), port or default_port


def _short_url(url: str) -> str:
    return url if len(url) <= 120 else url[:117] + "..."


def _timeout_kind(exc: httpx.TimeoutException) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return "connect"
    if isinstance(exc, httpx.ReadTimeout):
        return "read"
    return "request"


def _default_http_client() -> httpx.Client:
    # Proxy variables are ignored: they must not route RDAP traffic elsewhere.
    return deadline_client(
        timeout=httpx.Timeout(DEFAULT_READ_TIMEOUT, connect=DEFAULT_CONNECT_TIMEOUT),
        limits=httpx.Limits(max_connections=10, max_keepalive_connections=5),
    )
