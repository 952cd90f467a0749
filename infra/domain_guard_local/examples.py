"""The built-in offline scenario of ``domain-guard demo --example``.

One fictional domain under the reserved ``.example`` TLD (RFC 2606) for each
verdict. The RDAP server and the DNS server both run on 127.0.0.1 for the
length of the demo; nothing else is contacted.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .dns_server import LocalDnsServer
from .rdap_server import RdapServer, domain_body

OLD_REGISTRAR = "Example Registrar, Inc."
AUCTION_REGISTRAR = "Drop Catch Auctions, LLC"


@dataclass(frozen=True)
class ExampleCase:
    domain: str
    expected: str  # the verdict the scenario is built to show
    story: str  # what happened to the domain, for the summary
    body: dict[str, Any] | None  # None: the RDAP server returns 404
    in_dns: bool = True
    verified_at: str | None = None  # sent with the check request


@dataclass
class ExampleScenario:
    cases: list[ExampleCase]
    rdap: RdapServer
    dns: LocalDnsServer
    # Changes applied between enrollment and the first sweep.
    changes: list[Callable[[], None]] = field(default_factory=list)

    @property
    def rdap_url(self) -> str:
        return self.rdap.url

    @property
    def nameserver(self) -> str:
        return self.dns.address

    def after_enroll(self) -> None:
        for change in self.changes:
            change()

    def summary(self, checks: list[dict[str, Any]]) -> list[str]:
        """Say, per domain, whether the check returned the verdict it was built for."""
        lines = ["scenario:"]
        by_domain = {c.get("domain"): c for c in checks}
        for case in self.cases:
            got = by_domain.get(case.domain, {}).get("verdict")
            mark = "ok" if got == case.expected else f"GOT {got}"
            lines.append(f"  {mark:<6} {case.expected:<15} {case.story}")
        return lines


def _cases(now: dt.datetime) -> list[ExampleCase]:
    def days(n: float) -> dt.datetime:
        return now + dt.timedelta(days=n)

    def iso(value: dt.datetime) -> str:
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")

    def body(domain: str, **fields: Any) -> dict[str, Any]:
        return domain_body(domain, now=now, **fields)

    return [
        ExampleCase(
            "steady.example",
            "active",
            "renewed, expires in 300 days",
            body("steady.example", expires_in_days=300),
        ),
        ExampleCase(
            "renew-soon.example",
            "expiring",
            "expires in 10 days: the owner gets a warning",
            body("renew-soon.example", expires_in_days=10),
        ),
        ExampleCase(
            "lapsed.example",
            "grace",
            "expired 5 days ago, not renewed",
            body("lapsed.example", expires_in_days=-5, statuses=("auto renew period",)),
        ),
        ExampleCase(
            "on-hold.example",
            "hold",
            "registry put it on hold: removed from DNS",
            body(
                "on-hold.example",
                expires_in_days=-20,
                statuses=("client hold", "client transfer prohibited"),
            ),
            in_dns=False,
        ),
        ExampleCase(
            "redeem.example",
            "redemption",
            "deleted by the registrar, in the 30-day redemption period",
            body(
                "redeem.example",
                expires_in_days=-50,
                statuses=("redemption period", "pending delete"),
            ),
        ),
        ExampleCase(
            "deleting.example",
            "pending_delete",
            "past redemption, to be released within days",
            body("deleting.example", expires_in_days=-78, statuses=("pending delete",)),
        ),
        ExampleCase(
            "gone.example",
            "not_registered",
            "registry 404 and NXDOMAIN: free for anyone to register",
            None,
            in_dns=False,
        ),
        ExampleCase(
            "reborn.example",
            "reregistered",
            "registered 12 days ago, after the address was verified",
            body("reborn.example", expires_in_days=353, registered_days_ago=12),
            verified_at=iso(days(-400)),
        ),
        ExampleCase(
            "auctioned.example",
            "owner_changed",
            "seen expired, then moved to an auction registrar",
            body(
                "auctioned.example",
                expires_in_days=-38,
                statuses=("auto renew period",),
                registrar=OLD_REGISTRAR,
            ),
        ),
        ExampleCase(
            "quiet.example",
            "unknown",
            "registry publishes no expiry date: allowed, with the reason",
            body("quiet.example", expires_in_days=None),
        ),
    ]


def _zone(domain: str) -> str:
    return (
        f"$ORIGIN {domain}.\n"
        f"@ 3600 IN SOA ns1.{domain}. hostmaster.{domain}. 1 7200 900 1209600 300\n"
        f"@ 3600 IN NS ns1.{domain}.\n"
        f"@ 3600 IN NS ns2.{domain}.\n"
        f"@ 3600 IN MX 10 mail.{domain}.\n"
        f"ns1 3600 IN A 127.0.0.1\n"
        f"ns2 3600 IN A 127.0.0.1\n"
    )


@contextlib.contextmanager
def build_example(now: dt.datetime | None = None) -> Iterator[ExampleScenario]:
    """Start the scenario's RDAP and DNS servers and yield the scenario."""
    now = now or dt.datetime.now(dt.UTC)
    cases = _cases(now)
    zones = {case.domain: _zone(case.domain) for case in cases if case.in_dns}
    with RdapServer() as rdap, LocalDnsServer(zones) as dns:
        for case in cases:
            if case.body is not None:
                rdap.add_domain(case.domain, case.body)
        scenario = ExampleScenario(cases=cases, rdap=rdap, dns=dns)

        def auction_transfer() -> None:
            # The expired domain goes to a new registrar through the
            # registrar's auction, renewed for a year, without a deletion.
            rdap.add_domain(
                "auctioned.example",
                domain_body(
                    "auctioned.example",
                    now=now,
                    expires_in_days=327,
                    registrar=AUCTION_REGISTRAR,
                    registrar_id="9998",
                    transferred_at=now - dt.timedelta(days=1),
                ),
            )

        scenario.changes.append(auction_transfer)
        yield scenario
