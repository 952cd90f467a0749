"""Hostile RDAP servers against the real ``domain-guard lookup`` command.

Each case serves one domain with a fault, runs
``domain-guard lookup NAME --rdap-base-url URL --no-dns`` in a subprocess and
checks that the command exits 0 within ``LOOKUP_BOUND_SECONDS``, prints the
verdict ``unknown`` with a reason, and never fetches a redirect target. Most
cases come from the fixture server's own hostile set. The others need servers
of their own: redirect targets that record every connection, and raw sockets
that trickle the status line or a chunk header.

The bound is a functional deadline of the command, not a benchmark: the RDAP
client's own deadline is 10 s, and the rest is process start-up on a loaded
machine. The cases run once per module in parallel threads.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from domain_guard_local.rdap_server import (
    Fault,
    RdapServer,
    add_hostile_domains,
    domain_body,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
LOOKUP_BOUND_SECONDS = 25.0
# Enough threads to overlap the slow cases. More would only add CPU contention.
PARALLEL_RUNS = 6
TRICKLE_INTERVAL = 0.5  # seconds between single bytes
GZIP_BOMB_BYTES = 64 * 1024 * 1024  # decompressed size, 16 times the body cap


@dataclass(frozen=True)
class HostileCase:
    """One hostile domain and the words its reasons must contain, in any case."""

    domain: str
    fragments: tuple[str, ...]
    server: str = "fixture"  # "fixture", "slow-status" or "slow-chunk"


CASES = (
    # The cases the command must survive, served by add_hostile_domains.
    HostileCase("huge-body.example", ("limit",)),
    HostileCase("deep-nesting.example", ("nest",)),
    HostileCase("html-page.example", ("text/html",)),
    HostileCase("redirect-http.example", ("https",)),
    HostileCase("redirect-loop.example", ("loop",)),
    HostileCase("redirect-loopback.example", ("loopback",)),
    HostileCase("trickle.example", ("deadline",)),
    HostileCase("rate-limited.example", ("429", "retry after 120")),
    HostileCase("wrong-types.example", ("no expiry",)),
    HostileCase("bad-dates.example", ("is not a readable date",)),
    HostileCase("null-body.example", ("null",)),
    HostileCase("other-domain.example", ("someone-else.example",)),
    HostileCase("server-error.example", ("500",)),
    # More of the fixture server's hostile set.
    HostileCase("huge-declared.example", ("limit",)),
    HostileCase("plain-text.example", ("text/plain",)),
    HostileCase("redirect-chain.example", ("redirect",)),
    HostileCase("redirect-metadata.example", ("metadata",)),
    HostileCase("unavailable.example", ("503", "retry after")),
    HostileCase("slow.example", ("timed out",)),
    # Redirects to servers of their own, which record every request or
    # connection, and bodies built here.
    HostileCase("redirect-http-away.example", ("https",)),
    HostileCase("redirect-loopback-away.example", ("loopback",)),
    HostileCase("redirect-mapped-loopback.example", ("loopback",)),
    HostileCase("redirect-localhost.example", ("base url",)),
    HostileCase("gzip-bomb.example", ("limit",)),
    HostileCase("huge-integer.example", ("json",)),
    HostileCase("huge-arrays.example", ("no expiry",)),
    # Raw sockets that send one byte per TRICKLE_INTERVAL where the client
    # reads no body yet: in the status line and headers, and in a chunk header.
    HostileCase("slow-status.example", ("rdap lookup failed",), server="slow-status"),
    HostileCase("slow-chunk.example", ("rdap lookup failed",), server="slow-chunk"),
)
CASE_IDS = [case.domain.removesuffix(".example") for case in CASES]
FIXTURE_CASES = [case for case in CASES if case.server == "fixture"]
FIXTURE_IDS = [case.domain.removesuffix(".example") for case in FIXTURE_CASES]

SLOW_STATUS_PREFIX = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/rdap+json\r\nX-Pad: "
)
SLOW_CHUNK_PREFIX = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/rdap+json\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n1;pad="
)


class ConnectionProbe:
    """A TCP listener on 127.0.0.1 that counts connections and closes each one.

    A redirect target that must never be reached: it counts even a connection
    that would fail its TLS handshake, which a request log cannot show.
    """

    def __init__(self) -> None:
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._socket.settimeout(0.1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self.connections = 0

    @property
    def port(self) -> int:
        return int(self._socket.getsockname()[1])

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._socket.accept()
            except TimeoutError:
                continue
            self.connections += 1
            connection.close()

    def __enter__(self) -> ConnectionProbe:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._socket.close()


class TrickleServer:
    """A raw HTTP server that sends ``prefix`` and then one byte per interval.

    The fixture server trickles only a body. This one trickles what an HTTP
    client reads before any body data: the headers, or a chunk header.
    """

    def __init__(self, prefix: bytes, interval: float) -> None:
        self._prefix = prefix
        self._interval = interval
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._socket.settimeout(0.1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self.requests = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._socket.getsockname()[1]}/"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._socket.accept()
            except TimeoutError:
                continue
            self.requests += 1
            threading.Thread(
                target=self._trickle, args=(connection,), daemon=True
            ).start()

    def _trickle(self, connection: socket.socket) -> None:
        with connection:
            try:
                connection.recv(65536)
                connection.sendall(self._prefix)
                while not self._stop.wait(self._interval):
                    connection.sendall(b"a")
            except OSError:
                return  # the client gave up

    def __enter__(self) -> TrickleServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._socket.close()


@dataclass(frozen=True)
class LookupRun:
    """One run of the command: its exit code, output and wall-clock seconds."""

    seconds: float
    returncode: int | None  # None when the run was killed at the bound
    stdout: str
    stderr: str

    def document(self) -> dict[str, Any] | None:
        try:
            parsed = json.loads(self.stdout)
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None


@dataclass(frozen=True)
class HostileRuns:
    runs: dict[str, LookupRun]
    fixture_requests: list[str]
    away_requests: list[str]
    probe_connections: int


def run_lookup(domain: str, base_url: str) -> LookupRun:
    """Run ``domain-guard lookup`` as a subprocess, killed at the bound."""
    command = [
        sys.executable,
        "-m",
        "domain_guard_local.cli",
        "lookup",
        domain,
        "--rdap-base-url",
        base_url,
        "--no-dns",
    ]
    started = time.monotonic()
    try:
        # The command is this interpreter and the project's own module.
        completed = subprocess.run(  # noqa: S603
            command,
            capture_output=True,
            text=True,
            cwd=REPO_ROOT,
            env=dict(os.environ),
            timeout=LOOKUP_BOUND_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        return LookupRun(
            seconds=time.monotonic() - started,
            returncode=None,
            stdout=_text(exc.stdout),
            stderr=_text(exc.stderr),
        )
    return LookupRun(
        seconds=time.monotonic() - started,
        returncode=completed.returncode,
        stdout=completed.stdout,
        stderr=completed.stderr,
    )


def _text(output: str | bytes | None) -> str:
    if isinstance(output, bytes):
        return output.decode(errors="replace")
    return output or ""


def gzip_bomb(domain: str, size: int) -> bytes:
    """Return a gzip stream that inflates to a ``size``-byte RDAP domain object."""
    head = json.dumps({"objectClassName": "domain", "ldhName": domain})[:-1]
    opening = f'{head}, "remarks": [{{"description": ["'.encode()
    closing = b'"]}]}'
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    pieces = [compressor.compress(opening)]
    block = b"x" * (1024 * 1024)
    for _ in range((size - len(opening) - len(closing)) // len(block)):
        pieces.append(compressor.compress(block))
    pieces.append(compressor.compress(closing))
    pieces.append(compressor.flush())
    return b"".join(pieces)


def huge_arrays_body(domain: str) -> bytes:
    """Return a 3 MB domain object with hundreds of thousands of junk array items.

    It stays under the 4 MiB body cap, so it reaches the parser. The events
    hold no object at all, so no expiry can be read.
    """
    body = domain_body(domain, expires_in_days=None)
    body["status"] = [0] * 500_000
    body["entities"] = [{}] * 250_000
    body["nameservers"] = [None] * 150_000
    body["events"] = [1] * 250_000
    return json.dumps(body, separators=(",", ":")).encode()


def huge_integer_body(domain: str) -> bytes:
    """Return a domain object with a 100,000-digit number, past Python's int limit."""
    head = json.dumps({"objectClassName": "domain", "ldhName": domain})[:-1]
    return f'{head}, "port43": {"7" * 100_000}}}'.encode()


def serve_own_cases(
    server: RdapServer, away: RdapServer, probe: ConnectionProbe
) -> None:
    """Add the cases that need a target of their own, or a body built here."""
    redirects = {
        "redirect-http-away.example": f"http://127.0.0.1:{away.port}/domain/{{domain}}",
        "redirect-loopback-away.example": (
            f"https://127.0.0.1:{probe.port}/domain/{{domain}}"
        ),
        "redirect-mapped-loopback.example": (
            f"https://[::ffff:127.0.0.1]:{probe.port}/domain/{{domain}}"
        ),
        "redirect-localhost.example": (
            f"https://localhost:{probe.port}/domain/{{domain}}"
        ),
    }
    for domain, location in redirects.items():
        body = domain_body(domain)
        server.add_domain(domain, body, fault=Fault(redirect=location))
        # What a followed redirect would get, so a fetch would show in the log.
        away.add_domain(domain, body)
    server.add_domain(
        "gzip-bomb.example",
        gzip_bomb("gzip-bomb.example", GZIP_BOMB_BYTES),
        headers={"Content-Encoding": "gzip"},
    )
    server.add_domain("huge-integer.example", huge_integer_body("huge-integer.example"))
    server.add_domain("huge-arrays.example", huge_arrays_body("huge-arrays.example"))


@pytest.fixture(scope="module")
def hostile_runs(record_testsuite_property: Any) -> Iterator[HostileRuns]:
    with (
        RdapServer() as server,
        RdapServer() as away,
        ConnectionProbe() as probe,
        TrickleServer(SLOW_STATUS_PREFIX, TRICKLE_INTERVAL) as slow_status,
        TrickleServer(SLOW_CHUNK_PREFIX, TRICKLE_INTERVAL) as slow_chunk,
    ):
        add_hostile_domains(server, trickle_interval=TRICKLE_INTERVAL)
        serve_own_cases(server, away, probe)
        base_urls = {
            "fixture": server.url,
            "slow-status": slow_status.url,
            "slow-chunk": slow_chunk.url,
        }
        with ThreadPoolExecutor(max_workers=PARALLEL_RUNS) as pool:
            futures = {
                case.domain: pool.submit(
                    run_lookup, case.domain, base_urls[case.server]
                )
                for case in CASES
            }
            runs = {domain: future.result() for domain, future in futures.items()}
        for domain, run in runs.items():
            # Recorded in the JUnit XML report when pytest runs with --junitxml.
            record_testsuite_property(f"lookup_seconds[{domain}]", f"{run.seconds:.2f}")
        yield HostileRuns(
            runs=runs,
            fixture_requests=server.requests,
            away_requests=away.requests,
            probe_connections=probe.connections,
        )


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_lookup_hostile_within_bound(
    case: HostileCase, hostile_runs: HostileRuns
) -> None:
    run = hostile_runs.runs[case.domain]
    assert run.returncode is not None, (
        f"lookup of {case.domain} still running after {LOOKUP_BOUND_SECONDS:g} s;"
        " killed"
    )
    assert run.seconds <= LOOKUP_BOUND_SECONDS


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_lookup_hostile_exits_cleanly(
    case: HostileCase, hostile_runs: HostileRuns
) -> None:
    run = hostile_runs.runs[case.domain]
    assert run.returncode == 0, run.stderr[-2000:]
    assert "Traceback" not in run.stderr, run.stderr[-2000:]


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_lookup_hostile_unknown_with_reason(
    case: HostileCase, hostile_runs: HostileRuns
) -> None:
    document = hostile_runs.runs[case.domain].document()
    assert document is not None, "the command printed no JSON object"
    assert document.get("verdict") == "unknown", document
    assert document.get("domain") == case.domain
    reasons = document.get("reasons")
    assert isinstance(reasons, list)
    assert reasons, "no reason given"
    text = " | ".join(str(reason) for reason in reasons).lower()
    for fragment in case.fragments:
        assert fragment in text


@pytest.mark.parametrize("case", FIXTURE_CASES, ids=FIXTURE_IDS)
def test_lookup_hostile_single_request(
    case: HostileCase, hostile_runs: HostileRuns
) -> None:
    # Redirect targets on the fixture server sit under other paths (/plain/,
    # /loopback/, /hopN/), so any followed redirect shows up as a second path.
    requested = [
        path
        for path in hostile_runs.fixture_requests
        if path.endswith(f"/domain/{case.domain}")
    ]
    assert requested == [f"/domain/{case.domain}"]


def test_lookup_redirect_target_unrequested(hostile_runs: HostileRuns) -> None:
    assert hostile_runs.away_requests == []


def test_lookup_redirect_probe_unconnected(hostile_runs: HostileRuns) -> None:
    assert hostile_runs.probe_connections == 0
