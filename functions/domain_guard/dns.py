"""Probe a domain's apex in DNS with dnspython, within one overall deadline.

The prober sends each query itself with ``dns.query`` instead of calling
``dns.resolver.Resolver.resolve``, because the resolver's ``lifetime`` has been
seen to overrun. Every UDP or TCP exchange gets a timeout no longer than the
time left before the deadline, and no exchange starts once it has passed.

Only NXDOMAIN is evidence that a name is gone. SERVFAIL, REFUSED, a refused
connection and a timeout are no evidence at all, and the outcome records which
one happened.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from dataclasses import dataclass

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.nameserver
import dns.query
import dns.rcode
import dns.rdatatype
import dns.resolver

from domain_guard.errors import InvalidNameserverError
from domain_guard.models import DnsOutcome, DnsResult

logger = logging.getLogger(__name__)

# Large enough for a typical NS or MX answer with DNSSEC off, small enough to
# avoid IP fragmentation: the default that DNS Flag Day 2020 asked for.
_EDNS_PAYLOAD = 1232

# Failures of one exchange that are no evidence about the name: the server is
# unreachable, closed the connection, or sent something unreadable.
_EXCHANGE_ERRORS = (dns.exception.DNSException, OSError, EOFError, ValueError)


@dataclass(frozen=True, slots=True)
class Nameserver:
    """One DNS server to query: an IP address and a port."""

    address: str
    port: int = 53

    def __str__(self) -> str:
        if ":" in self.address:
            return f"[{self.address}]:{self.port}"
        return f"{self.address}:{self.port}"


@dataclass(frozen=True, slots=True)
class _Answer:
    outcome: DnsOutcome
    records: tuple[str, ...] = ()
    error: str | None = None
    server: Nameserver | None = None  # the server that answered


def parse_nameserver(text: str) -> Nameserver:
    """Parse ``HOST`` or ``HOST:PORT`` into a Nameserver.

    HOST is an IPv4 address, an IPv6 address (in brackets when a port
    follows) or ``localhost``. Raises InvalidNameserverError otherwise.
    """
    host, port_text = text.strip(), None
    if host.startswith("["):
        host, _, rest = host[1:].partition("]")
        if rest and not rest.startswith(":"):
            raise InvalidNameserverError(_nameserver_message(text))
        port_text = rest[1:] if rest else None
    elif host.count(":") == 1:
        host, _, port_text = host.partition(":")

    if host == "localhost":
        host = "127.0.0.1"
    try:
        address = str(ipaddress.ip_address(host))
    except ValueError as exc:
        raise InvalidNameserverError(_nameserver_message(text)) from exc

    if port_text is None:
        return Nameserver(address)
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise InvalidNameserverError(_nameserver_message(text))
    return Nameserver(address, int(port_text))


def _nameserver_message(text: str) -> str:
    return (
        f"invalid nameserver {text!r}: expected an IP address or localhost, "
        "with an optional :PORT (IPv6 as [ADDRESS]:PORT)"
    )


class DnsProber:
    """Query NS and MX at a domain's apex and classify the outcome.

    With ``nameservers`` given (``"HOST"`` or ``"HOST:PORT"``) only those are
    asked. Without them the system resolver configuration is read, once, on
    the first probe. The servers must be recursive resolvers or authoritative
    for the domain's zone.
    """

    def __init__(
        self,
        *,
        nameservers: list[str] | None = None,
        deadline_seconds: float = 3.0,
        attempt_timeout_seconds: float | None = None,
    ) -> None:
        if deadline_seconds <= 0:
            raise ValueError(
                f"deadline_seconds must be positive, not {deadline_seconds}"
            )
        self._deadline_seconds = deadline_seconds
        # Three attempts fit in the deadline, so a lost UDP packet or a slow
        # first recursion is retried, as stub resolvers do.
        self._attempt_timeout = attempt_timeout_seconds or deadline_seconds / 3
        self._nameservers: tuple[Nameserver, ...] | None = None
        if nameservers:
            self._nameservers = tuple(parse_nameserver(text) for text in nameservers)

    @property
    def nameservers(self) -> tuple[Nameserver, ...]:
        """The servers a probe queries, in order."""
        if self._nameservers is None:
            self._nameservers = _system_nameservers()
        return self._nameservers

    def probe(self, domain: str) -> DnsResult:
        """Query NS, then MX, at ``domain``.

        DNS and network failures become the outcome and ``error`` of the
        result. Only a bug raises.
        """
        deadline = time.monotonic() + self._deadline_seconds
        try:
            name = dns.name.from_text(domain)
        except dns.exception.DNSException as exc:
            return DnsResult(
                outcome=DnsOutcome.SERVFAIL, error=f"invalid domain name: {exc}"
            )
        servers = self.nameservers
        if not servers:
            return DnsResult(
                outcome=DnsOutcome.SERVFAIL,
                error="no nameservers: none given and none in the system resolver",
            )

        result = self._probe(name, servers, deadline)
        logger.debug(
            "dns probe finished",
            extra={"domain": domain, "outcome": result.outcome, "error": result.error},
        )
        return result

    def _probe(
        self, name: dns.name.Name, servers: tuple[Nameserver, ...], deadline: float
    ) -> DnsResult:
        ns = self._query(name, dns.rdatatype.NS, servers, deadline)
        if ns.outcome is not DnsOutcome.EXISTS:
            return DnsResult(outcome=ns.outcome, error=ns.error)

        # The server that answered NS is asked first for MX, so a dead server
        # early in the list costs one wait per probe, not one per query.
        if ns.server is not None:
            servers = (ns.server, *(other for other in servers if other != ns.server))
        mx = self._query(name, dns.rdatatype.MX, servers, deadline)
        if mx.outcome is DnsOutcome.EXISTS:
            return DnsResult(
                outcome=DnsOutcome.EXISTS, nameservers=ns.records, mx=mx.records
            )

        # Without an MX answer the MX set is not known, so the probe as a whole
        # is no evidence. Reporting EXISTS with no MX would later look like MX
        # appearing where there was none.
        if mx.outcome is DnsOutcome.NXDOMAIN:
            return DnsResult(
                outcome=DnsOutcome.SERVFAIL,
                nameservers=ns.records,
                error="MX query returned NXDOMAIN after the NS query found the name",
            )
        return DnsResult(
            outcome=mx.outcome,
            nameservers=ns.records,
            error=f"MX query failed after the NS query found the name: {mx.error}",
        )

    def _query(
        self,
        name: dns.name.Name,
        rdtype: dns.rdatatype.RdataType,
        servers: tuple[Nameserver, ...],
        deadline: float,
    ) -> _Answer:
        query = dns.message.make_query(name, rdtype, use_edns=0, payload=_EDNS_PAYLOAD)
        # Servers that returned an answer other than NOERROR or NXDOMAIN, or
        # failed outright, are not asked again. Silent ones are, in turn.
        candidates = list(servers)
        failures: list[str] = []
        turn = 0
        while candidates:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            server = candidates[turn % len(candidates)]
            try:
                response = self._exchange(query, server, remaining)
            except dns.exception.Timeout:
                turn += 1
                continue
            except _EXCHANGE_ERRORS as exc:
                failures.append(f"{server}: {type(exc).__name__} {exc}".rstrip())
                candidates.remove(server)
                continue

            rcode = response.rcode()
            if rcode == dns.rcode.NXDOMAIN:
                return _Answer(DnsOutcome.NXDOMAIN, server=server)
            if rcode == dns.rcode.NOERROR:
                # NOERROR without records of the type (NoAnswer) still means
                # the name exists.
                records = _records(response, name, rdtype)
                return _Answer(DnsOutcome.EXISTS, records, server=server)
            failures.append(f"{server}: {dns.rcode.to_text(rcode)}")
            candidates.remove(server)

        type_name = dns.rdatatype.to_text(rdtype)
        if candidates:
            detail = f"; {'; '.join(failures)}" if failures else ""
            return _Answer(
                DnsOutcome.TIMEOUT,
                error=f"{type_name} query timed out after "
                f"{self._deadline_seconds:g} s{detail}",
            )
        return _Answer(
            DnsOutcome.SERVFAIL,
            error=f"{type_name} query failed on every server: {'; '.join(failures)}",
        )

    def _exchange(
        self, query: dns.message.Message, server: Nameserver, remaining: float
    ) -> dns.message.Message:
        started = time.monotonic()
        response = dns.query.udp(
            query,
            server.address,
            timeout=min(remaining, self._attempt_timeout),
            port=server.port,
            ignore_unexpected=True,
            ignore_errors=True,
        )
        if not response.flags & dns.flags.TC:
            return response

        # A truncated (TC) UDP answer is asked again over TCP.
        remaining -= time.monotonic() - started
        if remaining <= 0:
            raise dns.exception.Timeout
        return dns.query.tcp(
            query,
            server.address,
            timeout=min(remaining, self._attempt_timeout),
            port=server.port,
        )


def _records(
    response: dns.message.Message,
    name: dns.name.Name,
    rdtype: dns.rdatatype.RdataType,
) -> tuple[str, ...]:
    hosts: set[str] = set()
    for rrset in response.answer:
        if rrset.rdtype == rdtype:
            hosts.update(_host(rdata) for rdata in rrset)

    # A server authoritative for the parent zone returns the delegation's NS
    # records in the authority section instead.
    if not hosts and rdtype == dns.rdatatype.NS:
        for rrset in response.authority:
            if rrset.rdtype == rdtype and rrset.name == name:
                hosts.update(_host(rdata) for rdata in rrset)

    # RFC 7505: a null MX ("0 .") declares that the domain accepts no mail,
    # which is the same as no MX for the appearing-MX rule.
    hosts.discard("")
    return tuple(sorted(hosts))


def _host(rdata: object) -> str:
    target = getattr(rdata, "exchange", None) or getattr(rdata, "target", None)
    if not isinstance(target, dns.name.Name) or target == dns.name.root:
        return ""
    return target.to_text(omit_final_dot=True).lower()


def _system_nameservers() -> tuple[Nameserver, ...]:
    try:
        resolver = dns.resolver.Resolver(configure=True)
    except (dns.exception.DNSException, OSError) as exc:
        logger.debug("system resolver configuration unreadable", exc_info=exc)
        return ()

    servers: list[Nameserver] = []
    for entry in resolver.nameservers:
        if isinstance(entry, str):
            port = resolver.nameserver_ports.get(entry, resolver.port)
            servers.append(Nameserver(entry, port))
        elif isinstance(entry, dns.nameserver.Do53Nameserver):
            servers.append(Nameserver(entry.address, entry.port))
    return tuple(servers)
