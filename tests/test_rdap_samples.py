"""Every real RDAP response in the shared sample folder, with its expected reading.

Each saved domain object has its expected domain, registry expiry,
registration date, statuses and verdict at a fixed time. Each error body and
HTTP metadata record has the lookup outcome and verdict it leads to when the
local RDAP server serves it. The expectations were read off the files by
hand, not produced by the parser.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from domain_guard.dates import parse_rdap_date
from domain_guard.errors import RdapBodyError
from domain_guard.facts import merge_observation
from domain_guard.models import (
    DnsOutcome,
    DnsResult,
    Observation,
    RdapOutcome,
    RdapResult,
    Verdict,
)
from domain_guard.rdap import parse_domain
from domain_guard.rdap_client import RdapClient
from domain_guard.verdict import decide
from domain_guard_local.rdap_server import RdapServer

NOW = "2025-01-01T00:00:00Z"
C3 = frozenset(
    {
        "client delete prohibited",
        "client transfer prohibited",
        "client update prohibited",
    }
)
S3 = frozenset(
    {
        "server delete prohibited",
        "server transfer prohibited",
        "server update prohibited",
    }
)
CTP = frozenset({"client transfer prohibited"})
ACTIVE_ONLY = frozenset({"active"})


@dataclass(frozen=True)
class Body:
    """A saved domain object and what it must be read as."""

    path: str
    domain: str
    expires: str | None
    registered: str
    statuses: frozenset[str]
    verdict: Verdict
    now: str = NOW


@dataclass(frozen=True)
class NotBody:
    """A saved file that is not a domain object, and the lookup it stands for.

    ``domain`` is None for files the local server cannot map to a domain
    (no domain in the file): those are only checked as unparseable bodies.
    """

    path: str
    domain: str | None
    outcome: RdapOutcome
    verdict: Verdict
    verdict_with_nxdomain: Verdict | None = None


BODIES = [
    Body(
        "click/microsoft.click.json",
        "microsoft.click",
        "2024-11-12T19:15:55.283Z",
        "2014-11-12T19:15:55.283Z",
        C3,
        Verdict.GRACE,
    ),
    Body(
        "cz-cznic/example.cz.json",
        "example.cz",
        "2019-08-30T12:00:00Z",
        "2004-08-30T22:55:00Z",
        ACTIVE_ONLY,
        Verdict.GRACE,
    ),
    Body(
        "cz-cznic/nic.cz.json",
        "nic.cz",
        "2027-03-15T13:00:00Z",
        "1997-10-30T00:00:00Z",
        frozenset({"server transfer prohibited"}),
        Verdict.ACTIVE,
    ),
    Body(
        "dev-google-registry/web.dev.json",
        "web.dev",
        "2027-10-29T15:57:39.435Z",
        "2018-10-29T15:57:39.435Z",
        C3 | S3,
        Verdict.ACTIVE,
    ),
    Body(
        "fr-afnic/afnic.fr.json",
        "afnic.fr",
        "2029-07-18T08:26:59Z",
        "2001-12-10T23:00:00Z",
        ACTIVE_ONLY,
        Verdict.ACTIVE,
    ),
    # Dates without a zone, read as UTC.
    Body(
        "id-pandi/zulfa.id.json",
        "zulfa.id",
        "2025-09-24T23:59:59Z",
        "2017-09-24T19:25:32Z",
        frozenset({"client transfer prohibited", "server transfer prohibited"}),
        Verdict.ACTIVE,
    ),
    Body(
        "info-identity-digital/trellian.info.json",
        "trellian.info",
        "2023-08-18T02:05:16.65Z",
        "2006-08-18T02:05:16.65Z",
        CTP,
        Verdict.GRACE,
    ),
    Body(
        "malformed/something-not-real.com__bad_response_02.json",
        "something-not-real.com",
        "2024-07-05T00:00:00Z",
        "2023-07-05T00:00:00Z",
        ACTIVE_ONLY,
        Verdict.GRACE,
    ),
    Body(
        "moscow-flexireg/home.moscow.json",
        "home.moscow",
        "2024-10-19T19:28:12Z",
        "2021-10-19T19:28:12Z",
        CTP,
        Verdict.GRACE,
    ),
    # No expiration event and no status: "no data" is unknown, never active.
    Body(
        "no-norid/norway.no__no-expiration.json",
        "norway.no",
        None,
        "2017-01-24T12:09:23Z",
        frozenset(),
        Verdict.UNKNOWN,
    ),
    Body(
        "org-pir/wikipedia.org.json",
        "wikipedia.org",
        "2027-01-13T00:12:14Z",
        "2001-01-13T00:12:14.754Z",
        C3,
        Verdict.ACTIVE,
    ),
    # ldhName with a trailing dot.
    Body(
        "registrar-comlaude/amazon.cyou.json",
        "amazon.cyou",
        "2021-05-14T00:00:00Z",
        "2020-05-14T00:00:00Z",
        frozenset({"client delete prohibited", "client update prohibited"}),
        Verdict.GRACE,
    ),
    # Registrar bodies: offsets without a colon, "last update" events.
    Body(
        "registrar-markmonitor/amazon.com.json",
        "amazon.com",
        "2025-10-31T00:00:00Z",
        "1994-11-01T05:00:00Z",
        C3 | S3,
        Verdict.ACTIVE,
    ),
    Body(
        "registrar-markmonitor/google.com__2021-04.json",
        "google.com",
        "2028-09-13T07:00:00Z",
        "1997-09-15T07:00:00Z",
        C3 | S3,
        Verdict.ACTIVE,
    ),
    Body(
        "registrar-markmonitor/google.com__2024-07.json",
        "google.com",
        "2028-09-13T07:00:00Z",
        "1997-09-15T07:00:00Z",
        C3 | S3,
        Verdict.ACTIVE,
    ),
    Body(
        "registrar-namecheap/bitcoin.org.json",
        "bitcoin.org",
        "2029-08-18T13:19:55Z",
        "2008-08-18T13:19:55Z",
        CTP,
        Verdict.ACTIVE,
    ),
    Body(
        "synthetic/example.com__rfc9537-redaction.json",
        "example.com",
        "2021-06-03T04:00:00Z",
        "1997-06-03T00:00:00Z",
        S3 | CTP,
        Verdict.GRACE,
    ),
    Body(
        "synthetic/xn--fo-5ja.example__rfc9083.json",
        "xn--fo-5ja.example",
        "2016-12-31T23:59:59Z",
        "1990-12-31T23:59:59Z",
        frozenset({"locked", "transfer prohibited"}),
        Verdict.GRACE,
    ),
    Body(
        "top-zdns/bitcoin.top.json",
        "bitcoin.top",
        "2021-11-17T16:00:29Z",
        "2014-11-17T16:00:29Z",
        ACTIVE_ONLY,
        Verdict.GRACE,
    ),
    Body(
        "tube/you.tube.json",
        "you.tube",
        "2022-04-16T23:59:59Z",
        "2016-04-17T11:31:13Z",
        C3,
        Verdict.GRACE,
    ),
    Body(
        "uk-nominet/bbc.co.uk.json",
        "bbc.co.uk",
        "2034-12-13T03:49:48Z",
        "1994-12-13T03:49:48Z",
        S3,
        Verdict.ACTIVE,
    ),
    # Upper-case ldhName and no status member; 18 days before expiry.
    Body(
        "verisign/20c.com__no-status.json",
        "20c.com",
        "2025-06-28T18:28:14Z",
        "2004-06-28T18:28:14Z",
        frozenset(),
        Verdict.EXPIRING,
        now="2025-06-10T00:00:00Z",
    ),
    Body(
        "verisign/amazon.com.json",
        "amazon.com",
        "2024-10-31T04:00:00Z",
        "1994-11-01T05:00:00Z",
        C3 | S3,
        Verdict.GRACE,
    ),
    Body(
        "verisign/google.com__2021-06.json",
        "google.com",
        "2028-09-14T04:00:00Z",
        "1997-09-15T04:00:00Z",
        C3 | S3,
        Verdict.ACTIVE,
    ),
    Body(
        "verisign/google.com__2022-05.json",
        "google.com",
        "2028-09-14T04:00:00Z",
        "1997-09-15T04:00:00Z",
        C3 | S3,
        Verdict.ACTIVE,
    ),
    Body(
        "verisign/google.com__2024-07.json",
        "google.com",
        "2028-09-14T04:00:00Z",
        "1997-09-15T04:00:00Z",
        C3 | S3,
        Verdict.ACTIVE,
    ),
    Body(
        "verisign/hhgames.com.json",
        "hhgames.com",
        "2026-07-04T19:21:02Z",
        "2002-07-04T19:15:32Z",
        C3,
        Verdict.EXPIRING,
        now="2026-06-20T00:00:00Z",
    ),
    Body(
        "verisign/speedtest.net.json",
        "speedtest.net",
        "2032-06-25T05:27:48Z",
        "1999-06-25T05:27:48Z",
        CTP,
        Verdict.ACTIVE,
    ),
    Body(
        "verisign/themarquetry.com.json",
        "themarquetry.com",
        "2022-03-16T17:07:37Z",
        "2021-03-16T17:07:37Z",
        CTP,
        Verdict.GRACE,
    ),
]

NOT_BODIES = [
    NotBody(
        "errors/centralnic__jsiqpmcurt.design__404.json",
        "jsiqpmcurt.design",
        RdapOutcome.NOT_FOUND,
        Verdict.UNKNOWN,
        Verdict.NOT_REGISTERED,
    ),
    # A bootstrap redirector's 404, not the registry's: served as a 404, but
    # only NXDOMAIN from DNS would turn it into not_registered.
    NotBody(
        "errors/rdap.org__test.fr__404-not-in-bootstrap.json",
        "test.fr",
        RdapOutcome.NOT_FOUND,
        Verdict.UNKNOWN,
    ),
    NotBody("errors/ripe__404.json", None, RdapOutcome.FAILED, Verdict.UNKNOWN),
    NotBody(
        "errors/ripe__501-not-implemented.json",
        None,
        RdapOutcome.FAILED,
        Verdict.UNKNOWN,
    ),
    NotBody(
        "errors/verisign__jsiqpmcurt.com__404-empty-body.http.json",
        "jsiqpmcurt.com",
        RdapOutcome.NOT_FOUND,
        Verdict.UNKNOWN,
        Verdict.NOT_REGISTERED,
    ),
    # A trimmed fragment: objectClassName "domain" but no ldhName.
    NotBody(
        "org-pir/icann.org__trimmed-fragment.json",
        None,
        RdapOutcome.FAILED,
        Verdict.UNKNOWN,
    ),
    # Redirects to real servers: rejected in base-URL mode, never followed.
    NotBody(
        "redirects/rdap-bootstrap.arin.net__google.com__302.http.json",
        "google.com",
        RdapOutcome.FAILED,
        Verdict.UNKNOWN,
    ),
    NotBody(
        "redirects/rdap.org__google.com__302.http.json",
        "google.com",
        RdapOutcome.FAILED,
        Verdict.UNKNOWN,
    ),
    NotBody(
        "redirects/rdap.org__heaven.porn__302.http.json",
        "heaven.porn",
        RdapOutcome.FAILED,
        Verdict.UNKNOWN,
    ),
]

# Read by test_bootstrap.py; not an RDAP response.
NOT_RESPONSES = {"bootstrap/dns.json"}


def load(folder: Path, relative: str) -> object:
    return json.loads((folder / relative).read_bytes())


def instant(text: str) -> datetime:
    parsed = parse_rdap_date(text)
    assert parsed is not None
    return parsed


def verdict_of(
    domain: str,
    result: RdapResult,
    now: datetime,
    dns: DnsOutcome = DnsOutcome.NOT_PROBED,
) -> Verdict:
    observation = Observation(
        domain=domain, observed_at=now, rdap=result, dns=DnsResult(outcome=dns)
    )
    return decide(merge_observation(None, observation), now).verdict


def test_samples_every_file_has_expectation(rdap_samples: Path) -> None:
    on_disk = {
        path.relative_to(rdap_samples).as_posix()
        for path in rdap_samples.rglob("*.json")
    }
    expected = {case.path for case in BODIES} | {case.path for case in NOT_BODIES}
    assert on_disk - NOT_RESPONSES == expected


# --- saved domain objects, parsed directly --------------------------------------


@pytest.mark.parametrize("case", BODIES, ids=[case.path for case in BODIES])
def test_sample_domain(rdap_samples: Path, case: Body) -> None:
    assert parse_domain(load(rdap_samples, case.path)).domain == case.domain


@pytest.mark.parametrize("case", BODIES, ids=[case.path for case in BODIES])
def test_sample_expiry(rdap_samples: Path, case: Body) -> None:
    record = parse_domain(load(rdap_samples, case.path))
    expected = instant(case.expires) if case.expires else None
    assert record.expires_at == expected


@pytest.mark.parametrize("case", BODIES, ids=[case.path for case in BODIES])
def test_sample_registration(rdap_samples: Path, case: Body) -> None:
    record = parse_domain(load(rdap_samples, case.path))
    assert record.registered_at == instant(case.registered)


@pytest.mark.parametrize("case", BODIES, ids=[case.path for case in BODIES])
def test_sample_statuses(rdap_samples: Path, case: Body) -> None:
    record = parse_domain(load(rdap_samples, case.path))
    assert frozenset(record.statuses) == case.statuses


@pytest.mark.parametrize("case", BODIES, ids=[case.path for case in BODIES])
def test_sample_verdict(rdap_samples: Path, case: Body) -> None:
    record = parse_domain(load(rdap_samples, case.path))
    result = RdapResult(outcome=RdapOutcome.FOUND, record=record)
    assert verdict_of(case.domain, result, instant(case.now)) is case.verdict


@pytest.mark.parametrize("case", NOT_BODIES, ids=[case.path for case in NOT_BODIES])
def test_sample_not_a_domain_object(rdap_samples: Path, case: NotBody) -> None:
    with pytest.raises(RdapBodyError):
        parse_domain(load(rdap_samples, case.path))


# --- every sample served by the local server, looked up by the client ----------


@pytest.fixture(scope="module")
def sample_server(rdap_samples: Path) -> Iterator[RdapServer]:
    with RdapServer(directory=rdap_samples) as server:
        yield server


def lookup_sample(server: RdapServer, relative: str, domain: str) -> RdapResult:
    prefix = relative.removesuffix(".json").removesuffix(".http")
    with RdapClient(base_url=f"{server.url}{prefix}/", deadline_seconds=5.0) as rdap:
        return rdap.lookup(domain)


@pytest.mark.parametrize("case", BODIES, ids=[case.path for case in BODIES])
def test_sample_served_found(sample_server: RdapServer, case: Body) -> None:
    result = lookup_sample(sample_server, case.path, case.domain)
    assert result.outcome is RdapOutcome.FOUND
    assert result.record is not None
    assert result.record.expires_at == (instant(case.expires) if case.expires else None)


@pytest.mark.parametrize("case", BODIES, ids=[case.path for case in BODIES])
def test_sample_served_verdict(sample_server: RdapServer, case: Body) -> None:
    result = lookup_sample(sample_server, case.path, case.domain)
    assert verdict_of(case.domain, result, instant(case.now)) is case.verdict


SERVED_NOT_BODIES = [case for case in NOT_BODIES if case.domain is not None]


@pytest.mark.parametrize(
    "case", SERVED_NOT_BODIES, ids=[case.path for case in SERVED_NOT_BODIES]
)
def test_sample_served_outcome(sample_server: RdapServer, case: NotBody) -> None:
    assert case.domain is not None
    result = lookup_sample(sample_server, case.path, case.domain)
    assert result.outcome is case.outcome


@pytest.mark.parametrize(
    "case", SERVED_NOT_BODIES, ids=[case.path for case in SERVED_NOT_BODIES]
)
def test_sample_served_not_body_verdict(
    sample_server: RdapServer, case: NotBody
) -> None:
    assert case.domain is not None
    result = lookup_sample(sample_server, case.path, case.domain)
    assert verdict_of(case.domain, result, instant(NOW)) is case.verdict


NXDOMAIN_CASES = [case for case in SERVED_NOT_BODIES if case.verdict_with_nxdomain]


@pytest.mark.parametrize(
    "case", NXDOMAIN_CASES, ids=[case.path for case in NXDOMAIN_CASES]
)
def test_sample_served_404_with_nxdomain(
    sample_server: RdapServer, case: NotBody
) -> None:
    assert case.domain is not None
    result = lookup_sample(sample_server, case.path, case.domain)
    verdict = verdict_of(case.domain, result, instant(NOW), DnsOutcome.NXDOMAIN)
    assert verdict is case.verdict_with_nxdomain


@pytest.mark.parametrize(
    "case",
    [case for case in NOT_BODIES if case.domain is None],
    ids=[case.path for case in NOT_BODIES if case.domain is None],
)
def test_sample_unmapped_file_fails_lookup(rdap_samples: Path, case: NotBody) -> None:
    with pytest.raises(RdapBodyError) as caught:
        parse_domain(load(rdap_samples, case.path))
    result = RdapResult(outcome=RdapOutcome.FAILED, error=str(caught.value))
    assert verdict_of("example.com", result, instant(NOW)) is case.verdict


def test_sample_redirect_target_never_fetched(sample_server: RdapServer) -> None:
    result = lookup_sample(
        sample_server, "redirects/rdap.org__heaven.porn__302.http.json", "heaven.porn"
    )
    assert result.error is not None
    assert "rejected: with a base URL only" in result.error
