"""One lookup of a registrable domain: RDAP and DNS, folded into an Observation.

This module imports httpx and dnspython. The check handler imports it only on
the path that looks up an unseen domain, to keep its cold start small.
"""

from __future__ import annotations

import logging
from datetime import datetime

from .bootstrap import Bootstrap
from .dns import DnsProber
from .models import DnsResult, Observation
from .rdap_client import RdapClient

logger = logging.getLogger(__name__)


class Lookup:
    """The RDAP client and DNS prober one process uses for every lookup.

    Either part may be absent: without RDAP an observation carries only DNS,
    and without DNS the probe is recorded as not probed.
    """

    def __init__(self, *, rdap: RdapClient | None, dns: DnsProber | None) -> None:
        self._rdap = rdap
        self._dns = dns

    def server_for(self, domain: str) -> str | None:
        """Return the host of the RDAP server a lookup of ``domain`` queries first."""
        if self._rdap is None:
            return None
        return self._rdap.server_for(domain)

    def observe(
        self, domain: str, now: datetime, *, query_rdap: bool = True
    ) -> Observation:
        """Look ``domain`` up. Failures become outcomes; nothing here raises."""
        rdap_result = None
        if query_rdap and self._rdap is not None:
            rdap_result = self._rdap.lookup(domain)
        dns_result = self._dns.probe(domain) if self._dns is not None else DnsResult()
        logger.debug(
            "lookup finished",
            extra={
                "domain": domain,
                "rdap": rdap_result.outcome if rdap_result else None,
                "dns": dns_result.outcome,
            },
        )
        return Observation(
            domain=domain, observed_at=now, rdap=rdap_result, dns=dns_result
        )

    def close(self) -> None:
        if self._rdap is not None:
            self._rdap.close()

    def __enter__(self) -> Lookup:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def build_lookup(
    *,
    rdap_base_url: str | None = None,
    bootstrap: Bootstrap | None = None,
    nameservers: list[str] | None = None,
    dns_enabled: bool = True,
    rdap_deadline: float = 10.0,
    dns_deadline: float = 3.0,
) -> Lookup:
    """Build a Lookup from deployment settings.

    ``rdap_base_url`` sends every query to one operator-given server and
    disables the bootstrap. Without it, ``bootstrap`` picks the server; the
    client fetches the IANA file itself when none is given.
    """
    rdap = RdapClient(
        bootstrap=bootstrap, base_url=rdap_base_url, deadline_seconds=rdap_deadline
    )
    dns = None
    if dns_enabled:
        dns = DnsProber(nameservers=nameservers, deadline_seconds=dns_deadline)
    return Lookup(rdap=rdap, dns=dns)
