"""IANA RDAP bootstrap: matching, lenient reading, overrides, fetch and daily cache."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from domain_guard.bootstrap import (
    Bootstrap,
    BootstrapCache,
    fetch_iana_bootstrap,
    packaged_overrides,
)
from domain_guard.errors import BootstrapError
from domain_guard_local.rdap_server import RdapServer

FIXTURES = Path(__file__).parent / "fixtures" / "rdap"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
SMALL = {
    "version": "1.0",
    "services": [
        [["com", "net"], ["https://rdap.verisign.test/com/v1/"]],
        [["org"], ["https://rdap.org-registry.test/"]],
    ],
}


def quirks() -> Bootstrap:
    data = json.loads((FIXTURES / "bootstrap-quirks.json").read_text(encoding="utf-8"))
    return Bootstrap.from_json(data)


# --- matching and lenient reading ----------------------------------------------

SERVERS = [
    ("https_preferred", "a.example", ("https://rdap.example-registry.test/rdap/",)),
    ("second_tld_same_entry", "a.test", ("https://rdap.example-registry.test/rdap/",)),
    ("longest_label_match", "shop.co.example", ("https://rdap.co-example.test/",)),
    ("deeper_name_longest_match", "a.b.co.example", ("https://rdap.co-example.test/",)),
    ("odd_port_skipped", "a.odd", ("https://rdap2.odd.test/",)),
    ("http_only_kept", "a.httponly", ("http://rdap.httponly.test/",)),
    (
        "odd_port_before_http",
        "a.oddport",
        ("https://rdap.oddport.test:8443/", "http://rdap.oddport.test/"),
    ),
    ("u_label_key_as_a_label", "a.xn--90ais", ("https://rdap.bel.test/",)),
    ("mixed_case_key", "a.mixedcase", ("https://rdap.mixedcase.test/",)),
    ("upper_case_query", "A.MIXEDCASE.", ("https://rdap.mixedcase.test/",)),
    ("bad_entry_neighbour_kept", "a.five", ("https://rdap.five.test/",)),
    ("unknown_tld", "a.nowhere", ()),
    ("no_url_entry", "a.nourl", ()),
]


@pytest.mark.parametrize(
    ("domain", "expected"),
    [case[1:] for case in SERVERS],
    ids=[case[0] for case in SERVERS],
)
def test_bootstrap_servers_for(domain: str, expected: tuple[str, ...]) -> None:
    assert quirks().servers_for(domain) == expected


def test_bootstrap_bad_entries_noted() -> None:
    notes = quirks().notes
    assert "service 7 is not a [tlds, urls] pair; skipped" in notes
    assert "service 8 is not a [tlds, urls] pair; skipped" in notes
    assert "service 11 is not a [tlds, urls] pair; skipped" in notes


@pytest.mark.parametrize("document", [None, [], "services", {"services": {}}, {}])
def test_bootstrap_not_a_document(document: object) -> None:
    with pytest.raises(BootstrapError):
        Bootstrap.from_json(document)


def test_bootstrap_real_iana_file(rdap_samples: Path) -> None:
    data = json.loads((rdap_samples / "bootstrap" / "dns.json").read_text())
    bootstrap = Bootstrap.from_json(data)
    assert bootstrap.notes == ()
    assert bootstrap.publication == "2025-11-06T23:00:01Z"
    assert bootstrap.servers_for("google.com") == ("https://rdap.verisign.com/com/v1/",)
    assert bootstrap.servers_for("bbc.co.uk") == ("https://rdap.nominet.uk/uk/",)


def test_bootstrap_real_file_lacks_de(rdap_samples: Path) -> None:
    data = json.loads((rdap_samples / "bootstrap" / "dns.json").read_text())
    assert Bootstrap.from_json(data).servers_for("denic.de") == ()


# --- overrides -----------------------------------------------------------------


def test_bootstrap_overrides_fill_gap() -> None:
    bootstrap = Bootstrap.from_json(SMALL, overrides=packaged_overrides())
    assert bootstrap.servers_for("denic.de") == ("https://rdap.denic.de/",)


def test_bootstrap_iana_wins_over_override() -> None:
    overrides = {"services": [{"tlds": ["com"], "urls": ["https://other.test/"]}]}
    bootstrap = Bootstrap.from_json(SMALL, overrides=overrides)
    assert bootstrap.servers_for("a.com") == ("https://rdap.verisign.test/com/v1/",)


def test_bootstrap_bad_override_ignored() -> None:
    overrides = {"services": ["junk", {"tlds": ["de"]}]}
    bootstrap = Bootstrap.from_json(SMALL, overrides=overrides)
    assert bootstrap.servers_for("a.com") == ("https://rdap.verisign.test/com/v1/",)
    assert bootstrap.servers_for("a.de") == ()


def test_packaged_overrides_have_sources() -> None:
    services = packaged_overrides()["services"]
    assert services
    assert all(service["source"].startswith("https://") for service in services)


def test_packaged_overrides_https_only() -> None:
    urls = [
        url for service in packaged_overrides()["services"] for url in service["urls"]
    ]
    assert all(url.startswith("https://") for url in urls)


# --- round trip for the stored copy --------------------------------------------


def test_bootstrap_to_json_round_trip() -> None:
    bootstrap = quirks()
    again = Bootstrap.from_json(bootstrap.to_json())
    assert again.to_json() == bootstrap.to_json()
    assert again.servers_for("shop.co.example") == ("https://rdap.co-example.test/",)


def test_bootstrap_to_json_leaves_overrides_out() -> None:
    bootstrap = Bootstrap.from_json(SMALL, overrides=packaged_overrides())
    tlds = {tld for tlds, _urls in bootstrap.to_json()["services"] for tld in tlds}
    assert "de" not in tlds


# --- fetch and cache through a local server ------------------------------------


@pytest.fixture
def server() -> Iterator[RdapServer]:
    with RdapServer() as running:
        running.add_raw("/dns.json", json.dumps(SMALL).encode())
        yield running


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False) as client:
        yield client


def test_fetch_iana_bootstrap(server: RdapServer, http: httpx.Client) -> None:
    document = fetch_iana_bootstrap(http, url=server.url + "dns.json")
    assert document["services"] == SMALL["services"]


FETCH_FAILURES = [
    ("not_found", "/missing.json", None, "HTTP 404"),
    ("not_json", "/junk.json", b"<html>", "not JSON"),
    ("no_services", "/empty.json", b"{}", "no 'services' array"),
]


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [case[1:] for case in FETCH_FAILURES],
    ids=[case[0] for case in FETCH_FAILURES],
)
def test_fetch_iana_bootstrap_failures(
    server: RdapServer, http: httpx.Client, path: str, body: bytes | None, message: str
) -> None:
    if body is not None:
        server.add_raw(path, body)
    with pytest.raises(BootstrapError, match=message):
        fetch_iana_bootstrap(http, url=server.url + path.lstrip("/"))


def test_fetch_iana_bootstrap_requires_https(http: httpx.Client) -> None:
    with pytest.raises(BootstrapError, match="must use https"):
        fetch_iana_bootstrap(http, url="http://data.iana.org/rdap/dns.json")


def cache(server: RdapServer, **kwargs: Any) -> BootstrapCache:
    return BootstrapCache(url=server.url + "dns.json", overrides={}, **kwargs)


def fetches(server: RdapServer) -> int:
    return server.requests.count("/dns.json")


def test_cache_fetches_when_empty(server: RdapServer, http: httpx.Client) -> None:
    subject = cache(server)
    bootstrap = subject.current(http, NOW)
    assert bootstrap.servers_for("a.org") == ("https://rdap.org-registry.test/",)
    assert subject.refreshed
    assert subject.fetched_at == NOW


def test_cache_fresh_copy_not_refetched(server: RdapServer, http: httpx.Client) -> None:
    subject = cache(server, stored=SMALL, fetched_at=NOW - timedelta(hours=23))
    subject.current(http, NOW)
    assert fetches(server) == 0
    assert not subject.refreshed


def test_cache_refreshes_once_a_day(server: RdapServer, http: httpx.Client) -> None:
    subject = cache(server, stored=SMALL, fetched_at=NOW - timedelta(days=1))
    subject.current(http, NOW)
    subject.current(http, NOW + timedelta(hours=12))
    assert fetches(server) == 1
    assert subject.fetched_at == NOW


def test_cache_keeps_last_good_copy(server: RdapServer, http: httpx.Client) -> None:
    stored = {"services": [[["org"], ["https://old.test/"]]]}
    server.add_raw("/dns.json", b"{}")
    subject = cache(server, stored=stored, fetched_at=NOW - timedelta(days=3))
    bootstrap = subject.current(http, NOW)
    assert bootstrap.servers_for("a.org") == ("https://old.test/",)
    assert not subject.refreshed
    assert subject.error is not None
    assert subject.fetched_at == NOW - timedelta(days=3)


def test_cache_failed_refresh_retried_hourly(
    server: RdapServer, http: httpx.Client
) -> None:
    server.add_raw("/dns.json", b"{}")
    subject = cache(server, stored=SMALL, fetched_at=NOW - timedelta(days=3))
    subject.current(http, NOW)
    subject.current(http, NOW + timedelta(minutes=30))
    subject.current(http, NOW + timedelta(minutes=61))
    assert fetches(server) == 2


def test_cache_rejects_truncated_refresh(
    server: RdapServer, http: httpx.Client
) -> None:
    stored = {
        "services": [[[f"tld{index}"], ["https://rdap.test/"]] for index in range(10)]
    }
    subject = cache(server, stored=stored, fetched_at=NOW - timedelta(days=2))
    bootstrap = subject.current(http, NOW)
    assert bootstrap.servers_for("a.tld9") == ("https://rdap.test/",)
    assert subject.error is not None and "kept the stored copy" in subject.error


def test_cache_no_copy_and_failure_raises(
    server: RdapServer, http: httpx.Client
) -> None:
    server.add_raw("/dns.json", b"not json")
    with pytest.raises(BootstrapError, match="no RDAP bootstrap available"):
        cache(server).current(http, NOW)


def test_cache_loaded_needs_no_io(server: RdapServer) -> None:
    subject = cache(server, stored=SMALL, fetched_at=NOW - timedelta(days=9))
    loaded = subject.loaded()
    assert loaded is not None
    assert loaded.servers_for("a.com") == ("https://rdap.verisign.test/com/v1/",)
    assert fetches(server) == 0
