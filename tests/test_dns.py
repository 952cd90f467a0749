"""DNS probe against a real DNS server on 127.0.0.1, and the server itself."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dns.exception
import dns.message
import dns.query
import dns.resolver
import pytest

from domain_guard import dns as dns_module
from domain_guard.dns import DnsProber, Nameserver, parse_nameserver
from domain_guard.errors import InvalidNameserverError
from domain_guard.models import DnsOutcome
from domain_guard_local.dns_server import LocalDnsServer

REPO_ROOT = Path(__file__).resolve().parents[1]

SOA = "@ SOA ns1 hostmaster 2024060101 7200 3600 1209600 300\n"
ZONES = {
    "example.test": SOA
    + "@ NS ns1.cloudflare.com.\n"
    + "@ NS NS2.Cloudflare.COM.\n"
    + "@ MX 10 mail\n"
    + "@ MX 20 backup-mx.example.net.\n"
    + "www A 192.0.2.10\n"
    + "a.b A 192.0.2.11\n",
    "nomail.test": SOA + "@ NS ns1.nomail.test.\n",
    "nullmx.test": SOA + "@ NS ns1.nullmx.test.\n@ MX 0 .\n",
    "big.test": SOA
    + "@ NS ns1.big.test.\n"
    + "".join(f"@ MX {n} mx{n:02d}-{'x' * 40}.big.test.\n" for n in range(40)),
    "mxfail.test": SOA + "@ NS ns1.mxfail.test.\n@ MX 10 mail\n",
    "mxsilent.test": SOA + "@ NS ns1.mxsilent.test.\n@ MX 10 mail\n",
    "broken.test": SOA + "@ NS ns1.broken.test.\n",
    "silent.test": SOA + "@ NS ns1.silent.test.\n",
}
FAULTS = {
    "servfail": ["broken.test", "mxfail.test/MX"],
    "no_answer": ["silent.test", "mxsilent.test/MX"],
}


@pytest.fixture(scope="module")
def server() -> Iterator[LocalDnsServer]:
    with LocalDnsServer(ZONES, **FAULTS) as running:
        yield running


@pytest.fixture
def prober(server: LocalDnsServer) -> DnsProber:
    return DnsProber(nameservers=[server.address], deadline_seconds=0.5)


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe_socket:
        probe_socket.bind(("127.0.0.1", 0))
        port: int = probe_socket.getsockname()[1]
    return port


# --- outcomes ----------------------------------------------------------------


def test_probe_exists_records_ns_and_mx(prober: DnsProber) -> None:
    result = prober.probe("example.test")
    assert result.outcome is DnsOutcome.EXISTS
    assert result.nameservers == ("ns1.cloudflare.com", "ns2.cloudflare.com")
    assert result.mx == ("backup-mx.example.net", "mail.example.test")
    assert result.error is None


def test_probe_no_mx_is_exists(prober: DnsProber) -> None:
    result = prober.probe("nomail.test")
    assert result.outcome is DnsOutcome.EXISTS
    assert result.nameservers == ("ns1.nomail.test",)
    assert result.mx == ()


@pytest.mark.parametrize("name", ["www.example.test", "b.example.test"])
def test_probe_name_without_ns_exists(prober: DnsProber, name: str) -> None:
    # NoAnswer: NOERROR without records, so the name exists.
    result = prober.probe(name)
    assert result.outcome is DnsOutcome.EXISTS
    assert result.nameservers == ()


@pytest.mark.parametrize("name", ["unregistered.test", "missing.example.test"])
def test_probe_nxdomain(prober: DnsProber, name: str) -> None:
    result = prober.probe(name)
    assert result.outcome is DnsOutcome.NXDOMAIN
    assert result.nameservers == ()
    assert result.mx == ()


def test_probe_nxdomain_stops_after_ns(
    prober: DnsProber, server: LocalDnsServer
) -> None:
    prober.probe("stops-early.test")
    asked = [query.type for query in server.queries if query.name == "stops-early.test"]
    assert asked == ["NS"]


def test_probe_servfail(prober: DnsProber, server: LocalDnsServer) -> None:
    result = prober.probe("broken.test")
    assert result.outcome is DnsOutcome.SERVFAIL
    assert result.error == (
        f"NS query failed on every server: {server.address}: SERVFAIL"
    )


def test_probe_no_answer_is_timeout(prober: DnsProber) -> None:
    result = prober.probe("silent.test")
    assert result.outcome is DnsOutcome.TIMEOUT
    assert result.error == "NS query timed out after 0.5 s"


def test_probe_mx_servfail_after_ns(prober: DnsProber) -> None:
    result = prober.probe("mxfail.test")
    assert result.outcome is DnsOutcome.SERVFAIL
    assert result.nameservers == ("ns1.mxfail.test",)
    assert result.error is not None
    assert result.error.startswith("MX query failed after the NS query found the name")


def test_probe_mx_timeout_after_ns(prober: DnsProber) -> None:
    result = prober.probe("mxsilent.test")
    assert result.outcome is DnsOutcome.TIMEOUT
    assert result.nameservers == ("ns1.mxsilent.test",)


def test_probe_null_mx_is_no_mx(prober: DnsProber) -> None:
    result = prober.probe("nullmx.test")
    assert result.outcome is DnsOutcome.EXISTS
    assert result.mx == ()


def test_probe_truncated_answer_retried_over_tcp(
    prober: DnsProber, server: LocalDnsServer
) -> None:
    result = prober.probe("big.test")
    asked = [(q.type, q.protocol) for q in server.queries if q.name == "big.test"]
    assert result.outcome is DnsOutcome.EXISTS
    assert len(result.mx) == 40
    assert ("MX", "tcp") in asked


def test_probe_invalid_name_never_raises(prober: DnsProber) -> None:
    result = prober.probe("x" * 64 + ".test")
    assert result.outcome is DnsOutcome.SERVFAIL
    assert result.error is not None
    assert result.error.startswith("invalid domain name")


def test_probe_nothing_listening_times_out() -> None:
    prober = DnsProber(
        nameservers=[f"127.0.0.1:{_closed_port()}"], deadline_seconds=0.3
    )
    assert prober.probe("example.test").outcome is DnsOutcome.TIMEOUT


# --- several servers ---------------------------------------------------------


def test_probe_next_server_after_servfail(server: LocalDnsServer) -> None:
    with LocalDnsServer(ZONES, servfail=["example.test"]) as failing:
        prober = DnsProber(
            nameservers=[failing.address, server.address], deadline_seconds=1.0
        )
        result = prober.probe("example.test")
    assert result.outcome is DnsOutcome.EXISTS


def test_probe_next_server_after_silence(server: LocalDnsServer) -> None:
    with LocalDnsServer(ZONES, no_answer=["example.test"]) as silent:
        prober = DnsProber(
            nameservers=[silent.address, server.address],
            deadline_seconds=2.0,
            attempt_timeout_seconds=0.2,
        )
        result = prober.probe("example.test")
        asked = [query.type for query in silent.queries]
    assert result.outcome is DnsOutcome.EXISTS
    assert asked == ["NS"]


def test_probe_servfail_everywhere_lists_servers(server: LocalDnsServer) -> None:
    with LocalDnsServer(ZONES, servfail=["broken.test"]) as other:
        prober = DnsProber(
            nameservers=[server.address, other.address], deadline_seconds=1.0
        )
        result = prober.probe("broken.test")
    assert result.outcome is DnsOutcome.SERVFAIL
    assert result.error == (
        f"NS query failed on every server: {server.address}: SERVFAIL; "
        f"{other.address}: SERVFAIL"
    )


# --- deadline ----------------------------------------------------------------


@pytest.fixture
def udp_timeouts(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record the timeout of every UDP exchange the prober starts."""
    timeouts: list[float] = []
    real_udp = dns.query.udp

    def recording_udp(*args: Any, **kwargs: Any) -> dns.message.Message:
        timeouts.append(kwargs["timeout"])
        return real_udp(*args, **kwargs)

    monkeypatch.setattr(dns_module.dns.query, "udp", recording_udp)
    return timeouts


@pytest.mark.parametrize("server_count", [1, 3])
def test_probe_timeouts_fit_in_deadline(
    server: LocalDnsServer, udp_timeouts: list[float], server_count: int
) -> None:
    prober = DnsProber(
        nameservers=[server.address] * server_count, deadline_seconds=0.6
    )
    result = prober.probe("silent.test")
    assert result.outcome is DnsOutcome.TIMEOUT
    assert len(udp_timeouts) >= 3
    assert sum(udp_timeouts) <= 0.6


def test_probe_returns_by_deadline_against_silent_server(
    server: LocalDnsServer,
) -> None:
    prober = DnsProber(nameservers=[server.address], deadline_seconds=0.5)
    started = time.monotonic()
    result = prober.probe("silent.test")
    elapsed = time.monotonic() - started
    assert result.outcome is DnsOutcome.TIMEOUT
    # Generous margin: only an overrun of the deadline by seconds is a failure.
    assert elapsed < 2.0


def test_prober_rejects_non_positive_deadline() -> None:
    with pytest.raises(ValueError, match="deadline_seconds"):
        DnsProber(deadline_seconds=0)


# --- system resolver ---------------------------------------------------------


class _FakeSystemResolver:
    """Stands in for dns.resolver.Resolver so no test reads /etc/resolv.conf."""

    address = "127.0.0.1"
    port = 53

    def __init__(self, configure: bool = True) -> None:
        self.nameservers = [self.address]
        self.nameserver_ports = {self.address: self.port}


def test_probe_uses_system_resolver_servers(
    server: LocalDnsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_FakeSystemResolver, "port", server.port)
    monkeypatch.setattr(dns.resolver, "Resolver", _FakeSystemResolver)
    prober = DnsProber(deadline_seconds=1.0)
    assert prober.nameservers == (Nameserver("127.0.0.1", server.port),)
    assert prober.probe("example.test").outcome is DnsOutcome.EXISTS


def test_probe_without_system_resolver_is_servfail(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def unconfigured(configure: bool = True) -> None:
        raise dns.resolver.NoResolverConfiguration("no nameservers")

    monkeypatch.setattr(dns.resolver, "Resolver", unconfigured)
    result = DnsProber().probe("example.test")
    assert result.outcome is DnsOutcome.SERVFAIL
    assert result.error == "no nameservers: none given and none in the system resolver"


# --- nameserver parsing ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1", Nameserver("127.0.0.1", 53)),
        ("127.0.0.1:5353", Nameserver("127.0.0.1", 5353)),
        (" 127.0.0.1:5353 ", Nameserver("127.0.0.1", 5353)),
        ("localhost", Nameserver("127.0.0.1", 53)),
        ("localhost:40053", Nameserver("127.0.0.1", 40053)),
        ("::1", Nameserver("::1", 53)),
        ("[::1]", Nameserver("::1", 53)),
        ("[::1]:5353", Nameserver("::1", 5353)),
        ("[2001:DB8::1]:53", Nameserver("2001:db8::1", 53)),
    ],
)
def test_parse_nameserver(text: str, expected: Nameserver) -> None:
    assert parse_nameserver(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "resolver.example",
        "resolver.example:53",
        "127.0.0.1:",
        "127.0.0.1:0",
        "127.0.0.1:65536",
        "127.0.0.1:dns",
        "127.0.0.256",
        "[::1]5353",
        "[::1]:x",
        "[::1]:",
    ],
)
def test_parse_nameserver_rejects(text: str) -> None:
    with pytest.raises(InvalidNameserverError, match="invalid nameserver"):
        parse_nameserver(text)


def test_nameserver_text_form() -> None:
    assert str(Nameserver("::1", 5353)) == "[::1]:5353"


# --- the local server --------------------------------------------------------


def test_server_directory_zones_read_on_change(tmp_path: Path) -> None:
    with LocalDnsServer(tmp_path) as running:
        prober = DnsProber(nameservers=[running.address], deadline_seconds=1.0)
        before = prober.probe("written.test")
        (tmp_path / "written.test.zone").write_text(SOA + "@ NS ns1.one.example.\n")
        written = prober.probe("written.test")
        (tmp_path / "written.test.zone").write_text(
            SOA + "@ NS ns1.other-operator.example.\n"
        )
        rewritten = prober.probe("written.test")
    assert before.outcome is DnsOutcome.NXDOMAIN
    assert written.nameservers == ("ns1.one.example",)
    assert rewritten.nameservers == ("ns1.other-operator.example",)


def test_server_skips_unreadable_zone_file(tmp_path: Path) -> None:
    (tmp_path / "bad.test.zone").write_text("@ MX not-a-number\n")
    (tmp_path / "good.test.zone").write_text(SOA + "@ NS ns1.good.test.\n")
    with LocalDnsServer(tmp_path) as running:
        prober = DnsProber(nameservers=[running.address], deadline_seconds=1.0)
        good = prober.probe("good.test")
        bad = prober.probe("bad.test")
    assert good.outcome is DnsOutcome.EXISTS
    assert bad.outcome is DnsOutcome.NXDOMAIN


def test_server_rejects_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="zone directory not found"):
        LocalDnsServer(tmp_path / "absent")


def test_server_rejects_invalid_zone_text() -> None:
    with pytest.raises(ValueError, match=r"invalid zone text for bad\.test"):
        LocalDnsServer({"bad.test": "@ MX not-a-number\n"})


def test_server_faults_added_and_cleared() -> None:
    with LocalDnsServer(ZONES) as running:
        prober = DnsProber(nameservers=[running.address], deadline_seconds=0.3)
        running.add_servfail("nomail.test")
        failing = prober.probe("nomail.test")
        running.clear_faults()
        running.add_no_answer("nomail.test/NS")
        silent = prober.probe("nomail.test")
        running.clear_faults()
        healthy = prober.probe("nomail.test")
    assert failing.outcome is DnsOutcome.SERVFAIL
    assert silent.outcome is DnsOutcome.TIMEOUT
    assert healthy.outcome is DnsOutcome.EXISTS


def test_server_set_and_remove_zone() -> None:
    with LocalDnsServer() as running:
        prober = DnsProber(nameservers=[running.address], deadline_seconds=1.0)
        running.set_zone("added.test", SOA + "@ NS ns1.added.test.\n")
        added = prober.probe("added.test")
        running.remove_zone("added.test")
        removed = prober.probe("added.test")
    assert added.outcome is DnsOutcome.EXISTS
    assert removed.outcome is DnsOutcome.NXDOMAIN


def test_server_no_answer_over_tcp(server: LocalDnsServer) -> None:
    query = dns.message.make_query("silent.test", "NS")
    with pytest.raises(dns.exception.Timeout):
        dns.query.tcp(query, "127.0.0.1", timeout=0.3, port=server.port)


def test_server_answers_over_tcp(server: LocalDnsServer) -> None:
    query = dns.message.make_query("example.test", "MX")
    response = dns.query.tcp(query, "127.0.0.1", timeout=1.0, port=server.port)
    assert len(response.answer) == 1


def test_server_nxdomain_carries_zone_soa(server: LocalDnsServer) -> None:
    query = dns.message.make_query("missing.example.test", "A")
    response = dns.query.udp(query, "127.0.0.1", timeout=1.0, port=server.port)
    assert response.rcode() == dns.rcode.NXDOMAIN
    assert [rrset.rdtype for rrset in response.authority] == [dns.rdatatype.SOA]


def test_server_command_line(tmp_path: Path) -> None:
    (tmp_path / "cli.test.zone").write_text(SOA + "@ NS ns1.cli.test.\n")
    port = _closed_port()
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            [str(REPO_ROOT / "infra"), str(REPO_ROOT / "functions")]
        ),
    }
    command = [
        sys.executable, "-m", "domain_guard_local.dns_server",
        "--zones", str(tmp_path), "--port", str(port),
    ]  # fmt: skip
    process = subprocess.Popen(  # noqa: S603 - fixed command, test-owned paths
        command, env=environment, stderr=subprocess.PIPE, text=True
    )
    try:
        prober = DnsProber(nameservers=[f"127.0.0.1:{port}"], deadline_seconds=0.5)
        result = prober.probe("cli.test")
        for _ in range(40):
            if result.outcome is DnsOutcome.EXISTS:
                break
            result = prober.probe("cli.test")
    finally:
        process.send_signal(signal.SIGTERM)
        _, errors = process.communicate(timeout=10)
    assert result.outcome is DnsOutcome.EXISTS
    assert process.returncode == 0
    assert f"on 127.0.0.1:{port}" in errors
