"""A DNS server on 127.0.0.1 that serves zones written by tests, with fault knobs.

Built on dnslib, it answers authoritatively over UDP and TCP on one port. A name
inside a zone gets its records, or NOERROR with no records when it exists
without the requested type. A name absent from its zone, or in no zone at all,
gets NXDOMAIN. For a name and every name below it the server can instead
return SERVFAIL, or never answer, which a client sees as a timeout.

Zones come from a mapping of origin to zone-file text, or from a directory of
``ORIGIN.zone`` files that is read again whenever a file changes. Run it for a
demo or CI with::

    python -m domain_guard_local.dns_server --zones DIR --port 5353
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any, Self

from dnslib import QTYPE, RCODE, RR, DNSError, DNSHeader, DNSRecord  # type: ignore[import-untyped]
from dnslib.server import DNSHandler, DNSLogger, DNSServer  # type: ignore[import-untyped]

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"
ZONE_SUFFIX = ".zone"
# UDP answers to a query without EDNS are limited to 512 bytes.
_PLAIN_UDP_LIMIT = 512
# A silent TCP connection is held open at most this long after a query, in
# seconds, so a stuck client cannot keep a handler thread forever.
_NO_ANSWER_HOLD_SECONDS = 60.0


class _NoReply(DNSError):  # type: ignore[misc]
    """Raised to make dnslib's handler drop a query without answering."""


@dataclass(frozen=True, slots=True)
class QueryRecord:
    """One query the server received."""

    name: str  # lowercase, without the trailing dot
    type: str  # "NS", "MX", ...
    protocol: str  # "udp" or "tcp"


@dataclass(frozen=True, slots=True)
class _Zone:
    origin: str  # lowercase with the trailing dot
    records: dict[str, list[Any]]  # owner name, as `origin`, to dnslib RRs


def _key(name: str) -> str:
    return name.strip().lower().rstrip(".") + "."


def _within(name: str, ancestor: str) -> bool:
    return name == ancestor or name.endswith("." + ancestor)


def _fault(spec: str) -> tuple[str, str | None]:
    # "example.test" covers every type, "example.test/MX" only MX queries.
    name, _, query_type = spec.partition("/")
    return _key(name), query_type.strip().upper() or None


def _matches(faults: set[tuple[str, str | None]], name: str, query_type: str) -> bool:
    return any(
        _within(name, fault_name) and fault_type in (None, query_type)
        for fault_name, fault_type in faults
    )


def parse_zone(origin: str, text: str) -> _Zone:
    """Parse zone-file text, with names relative to ``origin``.

    ``$ORIGIN`` and ``$TTL`` lines are honoured. Raises ValueError when dnslib
    cannot read the text.
    """
    try:
        records = RR.fromZone(text, origin=_key(origin), ttl=300)
    except (DNSError, ValueError, IndexError, KeyError) as exc:
        raise ValueError(f"invalid zone text for {origin}: {exc}") from exc

    by_owner: dict[str, list[Any]] = {}
    zone_origin = _key(origin)
    for record in records:
        owner = _key(str(record.rname))
        by_owner.setdefault(owner, []).append(record)
        if record.rtype == QTYPE.SOA:
            zone_origin = owner
    return _Zone(origin=zone_origin, records=by_owner)


class _ZoneResolver:
    """The dnslib resolver: zone lookup, fault knobs and the query log."""

    def __init__(
        self,
        zones: Mapping[str, str],
        directory: Path | None,
        servfail: Iterable[str],
        no_answer: Iterable[str],
    ) -> None:
        self._lock = threading.Lock()
        self._zones = {
            zone.origin: zone
            for zone in (parse_zone(origin, text) for origin, text in zones.items())
        }
        self._directory = directory
        self._files: dict[Path, tuple[int, int, _Zone]] = {}
        self.servfail = {_fault(spec) for spec in servfail}
        self.no_answer = {_fault(spec) for spec in no_answer}
        self.queries: list[QueryRecord] = []
        self.stopping = threading.Event()

    def set_zone(self, origin: str, text: str) -> None:
        zone = parse_zone(origin, text)
        with self._lock:
            self._zones[zone.origin] = zone

    def remove_zone(self, origin: str) -> None:
        with self._lock:
            self._zones.pop(_key(origin), None)

    def add_fault(self, kind: str, spec: str) -> None:
        with self._lock:
            faults = self.servfail if kind == "servfail" else self.no_answer
            faults.add(_fault(spec))

    def clear_faults(self) -> None:
        with self._lock:
            self.servfail.clear()
            self.no_answer.clear()

    def query_log(self) -> list[QueryRecord]:
        with self._lock:
            return list(self.queries)

    def resolve(self, request: Any, handler: Any) -> Any:
        name = _key(str(request.q.qname))
        query_type = str(QTYPE[request.q.qtype])
        protocol = handler.protocol
        with self._lock:
            self.queries.append(QueryRecord(name.rstrip("."), query_type, protocol))
            silent = _matches(self.no_answer, name, query_type)
            failing = _matches(self.servfail, name, query_type)
            zone = self._find_zone(name)

        if silent:
            if protocol == "tcp":
                # Keep the connection open, as a server that never answers
                # does, so the client waits for its own timeout.
                self.stopping.wait(_NO_ANSWER_HOLD_SECONDS)
            raise _NoReply(f"no answer on purpose for {name}")

        reply = request.reply()
        if failing:
            reply.header.rcode = RCODE.SERVFAIL
        elif zone is None:
            reply.header.rcode = RCODE.NXDOMAIN
        else:
            _answer_from_zone(request, reply, zone, name)

        if protocol == "udp":
            return _fit_udp(request, reply)
        return reply

    def _find_zone(self, name: str) -> _Zone | None:
        zones = dict(self._zones)
        zones.update(self._directory_zones())
        best: _Zone | None = None
        for origin, zone in zones.items():
            if _within(name, origin) and (
                best is None or len(origin) > len(best.origin)
            ):
                best = zone
        return best

    def _directory_zones(self) -> dict[str, _Zone]:
        if self._directory is None:
            return {}
        seen: dict[Path, tuple[int, int, _Zone]] = {}
        for path in sorted(self._directory.glob(f"*{ZONE_SUFFIX}")):
            try:
                stat = path.stat()
                cached = self._files.get(path)
                if cached and cached[:2] == (stat.st_mtime_ns, stat.st_size):
                    seen[path] = cached
                    continue
                origin = path.name.removesuffix(ZONE_SUFFIX)
                zone = parse_zone(origin, path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                logger.warning(
                    "zone file skipped", extra={"path": str(path)}, exc_info=exc
                )
                continue
            seen[path] = (stat.st_mtime_ns, stat.st_size, zone)
        self._files = seen
        return {entry[2].origin: entry[2] for entry in seen.values()}


def _answer_from_zone(request: Any, reply: Any, zone: _Zone, name: str) -> None:
    qtype = request.q.qtype
    records = zone.records.get(name)
    if records:
        matching = [r for r in records if qtype in (QTYPE.ANY, r.rtype)]
        if not matching:
            matching = [r for r in records if r.rtype == QTYPE.CNAME]
        for record in matching:
            reply.add_answer(record)
        if not matching:
            _add_soa(reply, zone)
        return

    # An empty non-terminal (a name with only names below it) exists.
    if not any(owner.endswith("." + name) for owner in zone.records):
        reply.header.rcode = RCODE.NXDOMAIN
    _add_soa(reply, zone)


def _add_soa(reply: Any, zone: _Zone) -> None:
    for record in zone.records.get(zone.origin, []):
        if record.rtype == QTYPE.SOA:
            reply.add_auth(record)


def _fit_udp(request: Any, reply: Any) -> Any:
    limit = _PLAIN_UDP_LIMIT
    for record in request.ar:
        if record.rtype == QTYPE.OPT:
            limit = max(limit, record.rclass)  # EDNS: the class is the UDP size
    if len(reply.pack()) <= limit:
        return reply
    # Set TC so the client asks again over TCP.
    # The question stays, because clients match answers by it.
    header = DNSHeader(id=reply.header.id, bitmap=reply.header.bitmap, tc=1)
    return DNSRecord(header, q=request.q)


class _QuietLogger(DNSLogger):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__(log="error", prefix=False, logf=self._debug)

    @staticmethod
    def _debug(text: str) -> None:
        logger.debug("dnslib: %s", text)


class LocalDnsServer:
    """The server on 127.0.0.1, UDP and TCP on one port, as a context manager.

    ``zones`` is a mapping of origin to zone-file text, or a directory of
    ``ORIGIN.zone`` files. ``port=0`` picks a free port. ``servfail`` and
    ``no_answer`` list fault specs: ``NAME`` makes NAME and every name below it
    get SERVFAIL or no answer at all, and ``NAME/TYPE`` limits that to queries
    of one type, such as ``example.test/MX``.
    """

    def __init__(
        self,
        zones: Mapping[str, str] | Path | str | None = None,
        *,
        port: int = 0,
        servfail: Iterable[str] = (),
        no_answer: Iterable[str] = (),
    ) -> None:
        directory = None
        mapping: Mapping[str, str] = {}
        if isinstance(zones, str | Path):
            directory = Path(zones)
            if not directory.is_dir():
                raise ValueError(f"zone directory not found: {directory}")
        elif zones is not None:
            mapping = zones
        self._resolver = _ZoneResolver(mapping, directory, servfail, no_answer)
        self._requested_port = port
        self._servers: list[Any] = []
        self._threads: list[threading.Thread] = []
        self._port: int | None = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the DNS server is not started")
        return self._port

    @property
    def address(self) -> str:
        """``HOST:PORT``, the form DnsProber and ``--nameserver`` take."""
        return f"{HOST}:{self.port}"

    @property
    def queries(self) -> list[QueryRecord]:
        """The queries received so far, oldest first."""
        return self._resolver.query_log()

    def set_zone(self, origin: str, text: str) -> None:
        """Add or replace the zone at ``origin``. Raises ValueError on bad text."""
        self._resolver.set_zone(origin, text)

    def remove_zone(self, origin: str) -> None:
        self._resolver.remove_zone(origin)

    def add_servfail(self, spec: str) -> None:
        """Answer SERVFAIL from now on for a fault spec, ``NAME`` or ``NAME/TYPE``."""
        self._resolver.add_fault("servfail", spec)

    def add_no_answer(self, spec: str) -> None:
        """Never answer from now on for a fault spec, ``NAME`` or ``NAME/TYPE``."""
        self._resolver.add_fault("no_answer", spec)

    def clear_faults(self) -> None:
        self._resolver.clear_faults()

    def start(self) -> Self:
        """Bind UDP and TCP on one port and serve from background threads."""
        udp, tcp = self._bind()
        self._servers = [udp, tcp]
        self._port = int(udp.server.server_address[1])
        for server in self._servers:
            thread = threading.Thread(
                target=server.server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"dns-{self._port}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)
        logger.debug("dns server started", extra={"port": self._port})
        return self

    def _bind(self) -> tuple[Any, Any]:
        # With port 0 the UDP socket picks the port and TCP must take the
        # same one, which another process may hold: try again a few times.
        attempts = 1 if self._requested_port else 20
        last_error: OSError | None = None
        for _ in range(attempts):
            udp = self._server(self._requested_port, tcp=False)
            port = int(udp.server.server_address[1])
            try:
                return udp, self._server(port, tcp=True)
            except OSError as exc:
                udp.server.server_close()
                last_error = exc
        raise OSError(f"no free port for UDP and TCP on {HOST}: {last_error}")

    def _server(self, port: int, *, tcp: bool) -> Any:
        return DNSServer(
            self._resolver,
            address=HOST,
            port=port,
            tcp=tcp,
            logger=_QuietLogger(),
            handler=DNSHandler,
        )

    def stop(self) -> None:
        """Stop serving, release silent connections and close the sockets."""
        self._resolver.stopping.set()
        for server in self._servers:
            server.server.shutdown()
            server.server.server_close()
        for thread in self._threads:
            thread.join()
        self._servers, self._threads = [], []
        logger.debug("dns server stopped", extra={"port": self._port})

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    """Serve a zone directory on 127.0.0.1 until SIGINT or SIGTERM."""
    parser = argparse.ArgumentParser(
        prog="python -m domain_guard_local.dns_server",
        description="Serve DNS zones on 127.0.0.1 over UDP and TCP.",
    )
    parser.add_argument(
        "--zones",
        type=Path,
        required=True,
        help="directory of ORIGIN.zone files, read again when a file changes",
    )
    parser.add_argument("--port", type=int, default=5353, help="UDP and TCP port")
    parser.add_argument(
        "--servfail",
        action="append",
        default=[],
        metavar="NAME[/TYPE]",
        help="answer SERVFAIL for NAME and the names below it; NAME/TYPE limits "
        "it to one query type (repeatable)",
    )
    parser.add_argument(
        "--no-answer",
        action="append",
        default=[],
        metavar="NAME[/TYPE]",
        help="never answer NAME and the names below it; NAME/TYPE limits it to "
        "one query type (repeatable)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    try:
        server = LocalDnsServer(
            args.zones,
            port=args.port,
            servfail=args.servfail,
            no_answer=args.no_answer,
        )
        server.start()
    except (OSError, ValueError) as exc:
        parser.exit(1, f"dns_server: failed to start: {exc}\n")

    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    logger.info(
        "serving DNS zones from %s on %s (UDP and TCP)", args.zones, server.address
    )
    while not stop.wait(0.5):
        pass
    server.stop()
    logger.info("DNS server on %s stopped", server.address)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
