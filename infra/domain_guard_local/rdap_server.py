"""A local RDAP server for tests and demos, with fault knobs per domain.

It listens on a loopback address only and serves ``/domain/NAME`` (and
``/PREFIX/domain/NAME``) from a directory of saved responses, from bodies
added in memory, or from both. Each domain can be given a ``Fault``: latency,
another status code, redirects, a wrong content type, a huge or trickled
body, deep nesting or a ``null`` body.

From a test::

    with RdapServer(directory=samples) as server:
        body = domain_body("soon.example", expires_in_days=10)
        server.add_domain("soon.example", body)
        server.add_fault("slow.example", Fault(latency=2.0))
        client = RdapClient(base_url=server.url)

From another process::

    python -m domain_guard_local.rdap_server --dir DIR --port 8053 [--hostile]

The first line on stdout is ``serving RDAP on URL``; ``--url-file`` also
writes the URL to a file once the socket is listening.
"""

from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
import json
import logging
import signal
import socket
import ssl
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import unquote, urlsplit

logger = logging.getLogger(__name__)

RDAP_CONTENT_TYPE = "application/rdap+json"
STREAM_CHUNK_BYTES = 64 * 1024
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")
# Ranks of saved files that claim the same domain at the root path: a
# domain body wins over an error body, which wins over HTTP metadata.
_RANK_BODY, _RANK_ERROR, _RANK_METADATA = 0, 1, 2


@dataclass(frozen=True)
class Fault:
    """The misbehaviour of the server for one domain. The defaults change nothing.

    ``redirect`` may contain ``{port}`` and ``{domain}``, filled in per
    request, so a fault can point at this server's own port.
    """

    latency: float = 0.0  # seconds before the status line
    status: int | None = None  # replaces the status code
    error_body: bool = True  # with a 4xx/5xx status: send an RDAP error object
    retry_after: str | None = None  # Retry-After header value, verbatim
    redirect: str | None = None  # Location header (absolute URL or path)
    redirect_status: int = 302
    redirect_loop: bool = False  # Location is the request's own path
    redirect_chain: bool = False  # Location is a new path every time, endlessly
    content_type: str | None = None  # replaces application/rdap+json
    raw_body: bytes | None = None  # replaces the body
    huge_bytes: int = 0  # body of this many bytes, streamed in chunks
    declare_length: bool = False  # send Content-Length with a huge body
    trickle_interval: float = 0.0  # seconds between single bytes of the body
    nesting_depth: int = 0  # body nests arrays this deep inside a domain object
    null_body: bool = False  # body is the JSON literal null
    other_domain: str | None = None  # body's ldhName is this name instead


@dataclass
class _Entry:
    status: int = 200
    body: bytes | None = None
    content_type: str = RDAP_CONTENT_TYPE
    headers: dict[str, str] = field(default_factory=dict)
    fault: Fault = field(default_factory=Fault)
    source: str = "memory"
    rank: int = _RANK_BODY


class RdapServer:
    """A threaded RDAP server on a loopback address, for tests and demos."""

    def __init__(
        self,
        *,
        directory: str | Path | None = None,
        domains: Mapping[str, object] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: bool = False,
        tls_names: Sequence[str] = ("localhost",),
    ) -> None:
        if host not in LOOPBACK_HOSTS:
            raise ValueError(
                f"RdapServer listens on loopback only; {host!r} is not one of"
                f" {', '.join(LOOPBACK_HOSTS)}"
            )
        self._host = host
        self._port = port
        self._tls = tls
        self._tls_names = tuple(tls_names)
        self._entries: dict[tuple[str, str], _Entry] = {}
        self._raw: dict[str, _Entry] = {}
        self._lock = threading.Lock()
        self._requests: list[tuple[str, str]] = []
        self._stop = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._tempdir: tempfile.TemporaryDirectory[str] | None = None
        self.ca_path: Path | None = None
        self.duplicates: list[tuple[str, str, str]] = []
        self.skipped: list[tuple[str, str]] = []
        if directory is not None:
            self.load_directory(directory)
        for name, body in (domains or {}).items():
            self.add_domain(name, body)

    # ------------------------------------------------------------- content

    def add_domain(
        self,
        domain: str,
        body: object,
        *,
        status: int = 200,
        fault: Fault | None = None,
        prefix: str = "",
        content_type: str = RDAP_CONTENT_TYPE,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Serve ``body`` (JSON-encoded unless bytes) at ``/PREFIX/domain/DOMAIN``."""
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        entry = _Entry(
            status=status,
            body=raw,
            content_type=content_type,
            headers=dict(headers or {}),
            fault=fault or Fault(),
        )
        with self._lock:
            self._entries[(_clean_prefix(prefix), _clean_name(domain))] = entry

    def add_fault(self, domain: str, fault: Fault, *, prefix: str = "") -> None:
        """Give ``domain`` a fault, keeping its body (an empty one if it has none)."""
        key = (_clean_prefix(prefix), _clean_name(domain))
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                body = json.dumps(domain_body(key[1])).encode()
                entry = _Entry(body=body)
            self._entries[key] = replace(entry, fault=fault)

    def add_raw(
        self,
        path: str,
        body: bytes,
        *,
        status: int = 200,
        content_type: str = "application/json",
    ) -> None:
        """Serve ``body`` at exactly ``path`` (for bootstrap files and the like)."""
        with self._lock:
            self._raw[path] = _Entry(
                status=status, body=body, content_type=content_type
            )

    def load_directory(self, directory: str | Path) -> int:
        """Serve every saved response under ``directory``; return how many.

        A domain body is served for its ``ldhName`` (lowercase, no trailing
        dot). An RDAP error body is served with its ``errorCode`` as status,
        for the domain its file name or self link names. A ``*.http.json``
        metadata record is served as its status and Location. Each file is also served
        under its own prefix, ``/RELATIVE-PATH-WITHOUT-.json/domain/NAME``,
        and raw at ``/files/RELATIVE-PATH``.
        """
        root = Path(directory)
        count = 0
        for path in sorted(root.rglob("*.json")):
            relative = path.relative_to(root).as_posix()
            data = path.read_bytes()
            self.add_raw(f"/files/{relative}", data)
            loaded = _entry_from_file(path.name, data)
            if isinstance(loaded, str):
                self.skipped.append((relative, loaded))
                continue
            domain, entry = loaded
            entry.source = relative
            prefix = relative.removesuffix(".json").removesuffix(".http")
            with self._lock:
                self._entries[(prefix, domain)] = entry
                current = self._entries.get(("", domain))
                if current is None or entry.rank < current.rank:
                    self._entries[("", domain)] = entry
                else:
                    self.duplicates.append((domain, current.source, relative))
            count += 1
        return count

    def domains(self) -> list[str]:
        """Return the domains served at the root path, sorted."""
        with self._lock:
            return sorted(name for prefix, name in self._entries if prefix == "")

    @property
    def requests(self) -> list[str]:
        """Return the paths requested so far, in order."""
        with self._lock:
            return [path for _host, path in self._requests]

    @property
    def request_hosts(self) -> list[str]:
        """Return the Host header of each request so far, in order."""
        with self._lock:
            return [host for host, _path in self._requests]

    # ------------------------------------------------------------ lifecycle

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("RdapServer is not started")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """Return the base URL, ending in "/": ``url + "domain/NAME"`` is a query."""
        scheme = "https" if self._tls else "http"
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"{scheme}://{host}:{self.port}/"

    def start(self) -> RdapServer:
        handler = _handler_class(self)
        server_class = (
            _IPv6ThreadingHTTPServer if ":" in self._host else _ThreadingHTTPServer
        )
        httpd = server_class((self._host, self._port), handler)
        if self._tls:
            httpd.socket = self._tls_context().wrap_socket(
                httpd.socket, server_side=True, do_handshake_on_connect=False
            )
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="rdap-server",
            daemon=True,
        )
        self._thread.start()
        logger.debug("RDAP test server started: url=%s", self.url)
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._tempdir is not None:
            self._tempdir.cleanup()
            self._tempdir = None

    def __enter__(self) -> RdapServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def client_ssl_context(self) -> ssl.SSLContext:
        """Return a client context that trusts this server's generated CA."""
        if self.ca_path is None:
            raise RuntimeError("RdapServer was not started with tls=True")
        return ssl.create_default_context(cafile=str(self.ca_path))

    def _tls_context(self) -> ssl.SSLContext:
        self._tempdir = tempfile.TemporaryDirectory(prefix="rdap-server-tls-")
        folder = Path(self._tempdir.name)
        self.ca_path, cert_path, key_path = _write_test_certificates(
            folder, self._tls_names
        )
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_path, key_path)
        return context

    # ------------------------------------------------------------- requests

    def _record(self, path: str, host: str) -> None:
        with self._lock:
            self._requests.append((host, path))

    def _lookup(self, path: str) -> tuple[_Entry | None, str, str]:
        """Return the entry for a request path, with its prefix and domain."""
        with self._lock:
            raw = self._raw.get(path)
            if raw is not None:
                return raw, "", ""
            marker = path.rfind("/domain/")
            if marker < 0:
                return None, "", ""
            prefix = _clean_prefix(path[:marker])
            name = _clean_name(path[marker + len("/domain/") :])
            entry = self._entries.get((prefix, name))
            if entry is None and prefix.startswith("hop"):
                entry = self._entries.get(("", name))
            return entry, prefix, name


class _ThreadingHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a trickling response must not hold up stop()


class _IPv6ThreadingHTTPServer(_ThreadingHTTPServer):
    address_family = socket.AF_INET6


def _handler_class(server: RdapServer) -> type[BaseHTTPRequestHandler]:
    class Handler(_RdapHandler):
        rdap = server

    return Handler


class _RdapHandler(BaseHTTPRequestHandler):
    rdap: RdapServer
    protocol_version = "HTTP/1.1"
    server_version = "domain-guard-test-rdap/1"

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("rdap server: " + format, *args)

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        path = unquote(urlsplit(self.path).path)
        self.rdap._record(path, self.headers.get("Host", ""))
        entry, prefix, name = self.rdap._lookup(path)
        try:
            if entry is None:
                self._send_error_object(404, f"{name or path} not found")
            else:
                self._respond(entry, prefix, name)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, TimeoutError):
            # The client gave up, which is what most faults are for.
            self.close_connection = True

    def _respond(self, entry: _Entry, prefix: str, name: str) -> None:
        fault = entry.fault
        stop = self.rdap._stop
        if fault.latency and stop.wait(fault.latency):
            return
        location = self._location(fault, prefix, name)
        if location is not None:
            self._send(fault.redirect_status, b"", "text/plain", {"Location": location})
            return
        if entry.headers.get("Location") and 300 <= entry.status < 400:
            self._send(entry.status, b"", entry.content_type, entry.headers)
            return

        headers = dict(entry.headers)
        if fault.retry_after is not None:
            headers["Retry-After"] = fault.retry_after
        status = fault.status or entry.status
        if status != 200 and fault.status is not None:
            if fault.error_body:
                self._send_error_object(status, f"fault {status}", headers)
            else:
                self._send(status, b"", fault.content_type or "text/plain", headers)
            return

        content_type = fault.content_type or entry.content_type
        if fault.huge_bytes:
            self._send_stream(status, content_type, headers, fault, name)
            return
        body = self._body(entry, fault, name)
        if fault.trickle_interval:
            self._send_trickle(status, body, content_type, headers, fault)
            return
        self._send(status, body, content_type, headers)

    def _location(self, fault: Fault, prefix: str, name: str) -> str | None:
        if fault.redirect_loop:
            return self.path
        if fault.redirect_chain:
            hop = int(prefix[3:]) + 1 if prefix.startswith("hop") else 1
            return f"/hop{hop}/domain/{name}"
        if fault.redirect is not None:
            return fault.redirect.format(port=self.rdap.port, domain=name)
        return None

    def _body(self, entry: _Entry, fault: Fault, name: str) -> bytes:
        if fault.null_body:
            return b"null"
        if fault.raw_body is not None:
            return fault.raw_body
        if fault.nesting_depth:
            depth = fault.nesting_depth
            head = json.dumps({"objectClassName": "domain", "ldhName": name})[:-1]
            return f'{head}, "remarks": '.encode() + b"[" * depth + b"]" * depth + b"}"
        if fault.other_domain is not None:
            return json.dumps(domain_body(fault.other_domain)).encode()
        return entry.body or b""

    def _send(
        self, status: int, body: bytes, content_type: str, headers: Mapping[str, str]
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.close_connection = True

    def _send_error_object(
        self, status: int, title: str, headers: Mapping[str, str] | None = None
    ) -> None:
        body = json.dumps(
            {
                "rdapConformance": ["rdap_level_0"],
                "errorCode": status,
                "title": title,
                "description": [f"local test server: {title}"],
            }
        ).encode()
        self._send(status, body, RDAP_CONTENT_TYPE, headers or {})

    def _start_chunked(
        self, status: int, content_type: str, headers: Mapping[str, str]
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.close_connection = True

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _send_stream(
        self,
        status: int,
        content_type: str,
        headers: Mapping[str, str],
        fault: Fault,
        name: str,
    ) -> None:
        """Send a domain object of ``fault.huge_bytes`` bytes with one vast remark."""
        head = json.dumps({"objectClassName": "domain", "ldhName": name})[:-1]
        opening = f'{head}, "remarks": [{{"description": ["'.encode()
        closing = b'"]}]}'
        filler = max(0, fault.huge_bytes - len(opening) - len(closing))
        write: Callable[[bytes], object]
        if fault.declare_length:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header(
                "Content-Length", str(len(opening) + filler + len(closing))
            )
            self.send_header("Connection", "close")
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.close_connection = True
            write = self.wfile.write
        else:
            self._start_chunked(status, content_type, headers)
            write = self._write_chunk
        stop = self.rdap._stop
        for piece in _huge_pieces(opening, filler, closing):
            if stop.is_set():
                return
            write(piece)
        if not fault.declare_length:
            self.wfile.write(b"0\r\n\r\n")

    def _send_trickle(
        self,
        status: int,
        body: bytes,
        content_type: str,
        headers: Mapping[str, str],
        fault: Fault,
    ) -> None:
        """Send ``body`` one byte per ``fault.trickle_interval`` seconds."""
        self._start_chunked(status, content_type, headers)
        stop = self.rdap._stop
        for index in range(len(body)):
            if stop.wait(fault.trickle_interval):
                return
            self._write_chunk(body[index : index + 1])
        self.wfile.write(b"0\r\n\r\n")


def _huge_pieces(opening: bytes, filler: int, closing: bytes) -> Iterator[bytes]:
    yield opening
    block = b"x" * STREAM_CHUNK_BYTES
    while filler > 0:
        size = min(filler, STREAM_CHUNK_BYTES)
        yield block[:size]
        filler -= size
    yield closing


# ------------------------------------------------------------ saved files


def _entry_from_file(file_name: str, data: bytes) -> tuple[str, _Entry] | str:
    """Read one saved file into (domain, entry), or return why it is skipped."""
    try:
        document = json.loads(data)
    except (ValueError, RecursionError):
        return "not JSON"
    if not isinstance(document, dict):
        return "not a JSON object"
    if file_name.endswith(".http.json"):
        return _metadata_entry(document)
    name = document.get("ldhName") or document.get("unicodeName")
    if isinstance(name, str) and name.strip():
        return _clean_name(name), _Entry(body=data, rank=_RANK_BODY)
    code = document.get("errorCode")
    if code is not None:
        domain = _domain_from_error(file_name, document)
        if domain is None:
            return "error body names no domain"
        status = code if isinstance(code, int) and 400 <= code <= 599 else 404
        return domain, _Entry(status=status, body=data, rank=_RANK_ERROR)
    return "neither a domain object, an error object nor HTTP metadata"


def _metadata_entry(document: dict[str, Any]) -> tuple[str, _Entry] | str:
    uri = document.get("request_uri")
    status = document.get("status")
    if not isinstance(uri, str) or not isinstance(status, int):
        return "HTTP metadata without request_uri and status"
    domain = _domain_from_path(urlsplit(uri).path)
    if domain is None:
        return "HTTP metadata request_uri names no domain"
    headers = {}
    location = document.get("location")
    if isinstance(location, str) and location:
        headers["Location"] = location
    content_type = document.get("content_type")
    entry = _Entry(
        status=status,
        body=b"",
        content_type=content_type if isinstance(content_type, str) else "text/plain",
        headers=headers,
        rank=_RANK_METADATA,
    )
    return domain, entry


def _domain_from_error(file_name: str, document: dict[str, Any]) -> str | None:
    # Saved error files are named SERVER__DOMAIN__WHAT.json.
    parts = file_name.removesuffix(".json").split("__")
    if len(parts) >= 3 and "." in parts[1]:
        return _clean_name(parts[1])
    links = document.get("links")
    if isinstance(links, list):
        for link in links:
            href = link.get("href") if isinstance(link, dict) else None
            if isinstance(href, str):
                domain = _domain_from_path(urlsplit(href).path)
                if domain is not None:
                    return domain
    return None


def _domain_from_path(path: str) -> str | None:
    marker = path.rfind("/domain/")
    if marker < 0:
        return None
    name = _clean_name(path[marker + len("/domain/") :])
    return name or None


def _clean_name(name: str) -> str:
    text = name.strip().lower()
    return text[:-1] if text.endswith(".") else text


def _clean_prefix(prefix: str) -> str:
    return prefix.strip("/")


# ---------------------------------------------------------- generated bodies


def domain_body(
    domain: str,
    *,
    now: dt.datetime | None = None,
    expires_in_days: float | None = 365,
    expires_at: dt.datetime | None = None,
    registered_at: dt.datetime | None = None,
    registered_days_ago: float = 400,
    statuses: Sequence[str] = ("active",),
    registrar: str | None = "Example Registrar, Inc.",
    registrar_id: str | None = "9999",
    registrar_url: str | None = None,
    registrar_expires_at: dt.datetime | None = None,
    last_changed_at: dt.datetime | None = None,
    transferred_at: dt.datetime | None = None,
    nameservers: Sequence[str] | None = None,
    extra_events: Sequence[tuple[str, dt.datetime]] = (),
) -> dict[str, Any]:
    """Build an RDAP domain object for a made-up domain.

    Times are relative to ``now`` (default: the current time): the domain
    expires ``expires_in_days`` from now (None: no expiration event) and was
    registered ``registered_days_ago``. ``registrar_url`` adds the
    ``related`` link a registry gives to the registrar's RDAP record.
    """
    now = now or dt.datetime.now(dt.UTC)
    if expires_at is None and expires_in_days is not None:
        expires_at = now + dt.timedelta(days=expires_in_days)
    if registered_at is None:
        registered_at = now - dt.timedelta(days=registered_days_ago)
    events: list[tuple[str, dt.datetime]] = [("registration", registered_at)]
    if expires_at is not None:
        events.append(("expiration", expires_at))
    if last_changed_at is not None:
        events.append(("last changed", last_changed_at))
    if transferred_at is not None:
        events.append(("transfer", transferred_at))
    if registrar_expires_at is not None:
        events.append(("registrar expiration", registrar_expires_at))
    events.extend(extra_events)
    events.append(("last update of RDAP database", now))

    body: dict[str, Any] = {
        "rdapConformance": ["rdap_level_0"],
        "objectClassName": "domain",
        "handle": f"{domain.upper().replace('.', '_')}-TEST",
        "ldhName": domain,
        "status": list(statuses),
        "events": [
            {"eventAction": action, "eventDate": _rfc3339(when)}
            for action, when in events
        ],
        "nameservers": [
            {"objectClassName": "nameserver", "ldhName": host}
            for host in (nameservers or (f"ns1.{domain}", f"ns2.{domain}"))
        ],
    }
    if registrar is not None or registrar_id is not None:
        body["entities"] = [_registrar_entity(registrar, registrar_id)]
    if registrar_url is not None:
        body["links"] = [
            {
                "rel": "related",
                "type": RDAP_CONTENT_TYPE,
                "href": registrar_url,
                "value": registrar_url,
            }
        ]
    return body


def _registrar_entity(name: str | None, iana_id: str | None) -> dict[str, Any]:
    entity: dict[str, Any] = {"objectClassName": "entity", "roles": ["registrar"]}
    if iana_id is not None:
        entity["handle"] = iana_id
        entity["publicIds"] = [{"type": "IANA Registrar ID", "identifier": iana_id}]
    if name is not None:
        entity["vcardArray"] = [
            "vcard",
            [["version", {}, "text", "4.0"], ["fn", {}, "text", name]],
        ]
    return entity


def _rfc3339(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def hostile_domains(
    *, trickle_interval: float = 0.5
) -> dict[str, tuple[object, Fault]]:
    """Return domains, each with a body and a fault, that a lookup must survive.

    Every one must end as a failed lookup (verdict ``unknown``) with a reason,
    and no redirect target may be fetched.
    """
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=3650)
    wrong_types = domain_body("wrong-types.example")
    wrong_types.update(
        {
            "status": 7,
            "events": {"eventAction": "expiration"},
            "entities": "registrar",
            "nameservers": [1, None, {"ldhName": 5}],
            "links": "https://rdap.wrong-types.example/",
        }
    )
    bad_dates = domain_body("bad-dates.example")
    bad_dates["events"] = [
        {"eventAction": "expiration", "eventDate": "next Tuesday"},
        {"eventAction": "registration", "eventDate": 20240101},
        {"eventAction": "last changed", "eventDate": None},
    ]
    http_date = format_datetime(
        dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10), True
    )
    cases: dict[str, Fault] = {
        "huge-body.example": Fault(huge_bytes=200_000_000),
        "huge-declared.example": Fault(huge_bytes=200_000_000, declare_length=True),
        "deep-nesting.example": Fault(nesting_depth=200_000),
        "html-page.example": Fault(
            content_type="text/html; charset=utf-8",
            raw_body=b"<!doctype html><html><body>Not RDAP</body></html>",
        ),
        "plain-text.example": Fault(content_type="text/plain", raw_body=b"hello"),
        "redirect-http.example": Fault(
            redirect="http://127.0.0.1:{port}/plain/domain/{domain}"
        ),
        "redirect-loop.example": Fault(redirect_loop=True),
        "redirect-chain.example": Fault(redirect_chain=True),
        "redirect-loopback.example": Fault(
            redirect="https://127.0.0.1:{port}/loopback/domain/{domain}"
        ),
        "redirect-metadata.example": Fault(
            redirect="https://169.254.169.254/latest/meta-data/"
        ),
        "trickle.example": Fault(trickle_interval=trickle_interval),
        "rate-limited.example": Fault(status=429, retry_after="120"),
        "unavailable.example": Fault(status=503, retry_after=http_date),
        "server-error.example": Fault(status=500),
        "not-found.example": Fault(status=404),
        "not-found-empty.example": Fault(status=404, error_body=False),
        "null-body.example": Fault(null_body=True),
        "other-domain.example": Fault(other_domain="someone-else.example"),
        "slow.example": Fault(latency=30.0),
    }
    result: dict[str, tuple[object, Fault]] = {
        name: (domain_body(name, expires_at=later), fault)
        for name, fault in cases.items()
    }
    result["wrong-types.example"] = (wrong_types, Fault())
    result["bad-dates.example"] = (bad_dates, Fault())
    return result


def add_hostile_domains(server: RdapServer, *, trickle_interval: float = 0.5) -> None:
    """Serve every case of ``hostile_domains`` on ``server``."""
    for name, (body, fault) in hostile_domains(
        trickle_interval=trickle_interval
    ).items():
        server.add_domain(name, body, fault=fault)
        if fault.redirect is not None:
            # What a followed redirect would get: a clean body, so a test can
            # tell from the request log that it was never fetched.
            for prefix in ("plain", "loopback"):
                server.add_domain(name, body, prefix=prefix)


# ------------------------------------------------------------ certificates


def _write_test_certificates(
    folder: Path, names: Sequence[str]
) -> tuple[Path, Path, Path]:
    """Write a throwaway CA and a server certificate for ``names`` and loopback.

    Needs the ``cryptography`` package, imported here so plain-http use of the
    server does not.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC)
    validity = (now - dt.timedelta(hours=1), now + dt.timedelta(days=2))

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, "domain-guard test CA")]
    )
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(validity[0])
        .not_valid_after(validity[1])
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )

    key = ec.generate_private_key(ec.SECP256R1())
    alt_names: list[x509.GeneralName] = [x509.DNSName(name) for name in names]
    alt_names += [
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("::1")),
    ]
    cert = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(
                        NameOID.COMMON_NAME, names[0] if names else "localhost"
                    )
                ]
            )
        )
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(validity[0])
        .not_valid_after(validity[1])
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )

    ca_path = folder / "ca.pem"
    cert_path = folder / "server.pem"
    key_path = folder / "server.key"
    ca_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return ca_path, cert_path, key_path


# --------------------------------------------------------------------- CLI


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m domain_guard_local.rdap_server",
        description="Serve RDAP responses on a loopback address, for tests and demos.",
    )
    parser.add_argument(
        "--dir", type=Path, help="folder of saved RDAP responses to serve (recursive)"
    )
    parser.add_argument(
        "--host", default="127.0.0.1", choices=LOOPBACK_HOSTS, help="loopback address"
    )
    parser.add_argument(
        "--port", type=int, default=0, help="TCP port; 0 picks a free one (default)"
    )
    parser.add_argument(
        "--hostile",
        action="store_true",
        help="also serve the hostile cases (huge-body.example, trickle.example, ...)",
    )
    parser.add_argument(
        "--tls", action="store_true", help="serve https with a generated test CA"
    )
    parser.add_argument(
        "--url-file", type=Path, help="write the base URL to this file once listening"
    )
    args = parser.parse_args(argv)

    server = RdapServer(
        directory=args.dir, host=args.host, port=args.port, tls=args.tls
    )
    if args.hostile:
        add_hostile_domains(server)
    stopped = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stopped.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    server.start()
    try:
        print(f"serving RDAP on {server.url}", flush=True)
        print(f"domains: {len(server.domains())}", flush=True)
        if server.ca_path is not None:
            print(f"test CA: {server.ca_path}", flush=True)
        for relative, reason in server.skipped:
            print(f"skipped {relative}: {reason}", file=sys.stderr)
        if args.url_file is not None:
            args.url_file.write_text(server.url + "\n", encoding="utf-8")
        stopped.wait()
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
