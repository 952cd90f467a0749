"""RDAP client against a real local server: limits, redirects, referral, hostile bodies.

Every request goes to the RdapServer on 127.0.0.1. Names such as
rdap.registry.test are resolved by a table passed to the client, never by DNS.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from domain_guard.bootstrap import Bootstrap, BootstrapCache
from domain_guard.errors import RdapConfigError
from domain_guard.models import RdapOutcome, RdapResult
from domain_guard.rdap_client import (
    RdapClient,
    json_depth_exceeds,
    parse_retry_after,
)
from domain_guard_local.rdap_server import (
    Fault,
    RdapServer,
    add_hostile_domains,
    domain_body,
)

FIXTURES = Path(__file__).parent / "fixtures" / "rdap"
TLS_NAMES = ("rdap.registry.test", "rdap.registrar.test", "rdap.other.test")
LOCAL_NAMES = {name: ["127.0.0.1"] for name in TLS_NAMES}


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture
def server() -> Iterator[RdapServer]:
    with RdapServer() as running:
        yield running


@pytest.fixture
def client(server: RdapServer) -> Iterator[RdapClient]:
    with RdapClient(base_url=server.url, deadline_seconds=5.0) as rdap:
        yield rdap


@pytest.fixture
def tls_server() -> Iterator[RdapServer]:
    with RdapServer(tls=True, tls_names=TLS_NAMES) as running:
        yield running


TlsClientFactory = Callable[..., RdapClient]


@pytest.fixture
def tls_client(tls_server: RdapServer) -> Iterator[TlsClientFactory]:
    """Build bootstrap-mode clients for .test that trust the server's test CA."""
    opened: list[tuple[RdapClient, httpx.Client]] = []

    def build(
        names: Mapping[str, Sequence[str]] = LOCAL_NAMES, **options: Any
    ) -> RdapClient:
        http = httpx.Client(verify=tls_server.client_ssl_context(), trust_env=False)
        url = f"https://rdap.registry.test:{tls_server.port}/"
        bootstrap = Bootstrap.from_json({"services": [[["test"], [url]]]})
        rdap = RdapClient(
            http,
            bootstrap=bootstrap,
            resolver=lambda host: list(names.get(host, [])),
            allowed_networks=["127.0.0.0/8"],
            **options,
        )
        opened.append((rdap, http))
        return rdap

    yield build
    for rdap, http in opened:
        rdap.close()
        http.close()


def failed_with(result: RdapResult, text: str) -> bool:
    return result.outcome is RdapOutcome.FAILED and text in (result.error or "")


# --- plain responses ------------------------------------------------------------


def test_client_found(server: RdapServer, client: RdapClient) -> None:
    expires = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    server.add_domain("soon.example", domain_body("soon.example", expires_at=expires))
    result = client.lookup("soon.example")
    assert result.outcome is RdapOutcome.FOUND
    assert result.record is not None
    assert result.record.expires_at == expires
    assert result.server == "127.0.0.1"


def test_client_query_path(server: RdapServer, client: RdapClient) -> None:
    server.add_domain("path.example", domain_body("path.example"))
    client.lookup("PATH.Example.")
    assert server.requests == ["/domain/path.example"]


def test_client_base_url_with_path(server: RdapServer) -> None:
    server.add_domain("nested.example", domain_body("nested.example"), prefix="rdap/v1")
    with RdapClient(base_url=server.url + "rdap/v1") as rdap:
        result = rdap.lookup("nested.example")
    assert result.outcome is RdapOutcome.FOUND


@pytest.mark.parametrize(
    "content_type",
    [
        "application/rdap+json",
        "application/rdap+json; charset=utf-8",
        "application/json",
        "Application/JSON;charset=UTF-8",
    ],
)
def test_client_accepts_json_types(
    server: RdapServer, client: RdapClient, content_type: str
) -> None:
    server.add_domain(
        "typed.example", domain_body("typed.example"), content_type=content_type
    )
    assert client.lookup("typed.example").outcome is RdapOutcome.FOUND


def test_client_gzip_body_read(server: RdapServer, client: RdapClient) -> None:
    body = gzip.compress(json.dumps(domain_body("zipped.example")).encode())
    server.add_domain("zipped.example", body, headers={"Content-Encoding": "gzip"})
    assert client.lookup("zipped.example").outcome is RdapOutcome.FOUND


def test_client_gzip_bomb_capped(server: RdapServer) -> None:
    bomb = gzip.compress(b'{"objectClassName": "domain", "x": "' + b"0" * 5_000_000)
    server.add_domain("bomb.example", bomb, headers={"Content-Encoding": "gzip"})
    with RdapClient(base_url=server.url, max_body_bytes=100_000) as rdap:
        result = rdap.lookup("bomb.example")
    assert failed_with(result, "over the 100000-byte limit")


# --- status codes ---------------------------------------------------------------


def test_client_404_with_error_body(server: RdapServer, client: RdapClient) -> None:
    result = client.lookup("gone.example")
    assert result.outcome is RdapOutcome.NOT_FOUND
    assert result.notes == ("404 with an RDAP error body: gone.example not found",)


def test_client_404_without_body(server: RdapServer, client: RdapClient) -> None:
    server.add_fault("empty.example", Fault(status=404, error_body=False))
    result = client.lookup("empty.example")
    assert result.outcome is RdapOutcome.NOT_FOUND
    assert result.notes == ("404 with an empty body",)


def test_client_429_retry_after_seconds(server: RdapServer, client: RdapClient) -> None:
    server.add_fault("busy.example", Fault(status=429, retry_after="120"))
    result = client.lookup("busy.example")
    assert failed_with(result, "HTTP 429")
    assert result.retry_after == 120.0


def test_client_503_retry_after_date(server: RdapServer, client: RdapClient) -> None:
    when = datetime.now(UTC) + timedelta(hours=1)
    server.add_fault(
        "down.example", Fault(status=503, retry_after=format_datetime(when, True))
    )
    result = client.lookup("down.example")
    assert failed_with(result, "HTTP 503")
    assert result.retry_after is not None
    assert 0 < result.retry_after <= 3600


def test_client_429_without_retry_after(server: RdapServer, client: RdapClient) -> None:
    server.add_fault("busy.example", Fault(status=429))
    result = client.lookup("busy.example")
    assert failed_with(result, "HTTP 429")
    assert result.retry_after is None


@pytest.mark.parametrize("status", [500, 502, 400, 403])
def test_client_error_status_failed(
    server: RdapServer, client: RdapClient, status: int
) -> None:
    server.add_fault("broken.example", Fault(status=status))
    assert failed_with(client.lookup("broken.example"), f"HTTP {status}")


RETRY_AFTER = [
    ("seconds", "30", 30.0),
    ("zero", "0", 0.0),
    ("capped", "99999999", 86_400.0),
    ("date_past", "Fri, 31 Dec 1999 23:00:00 GMT", 0.0),
    ("date_future", "Sat, 01 Jan 2000 00:10:00 GMT", 600.0),
    ("junk", "soon", None),
    ("empty", "", None),
    ("negative", "-5", None),
]


@pytest.mark.parametrize(
    ("value", "expected"),
    [case[1:] for case in RETRY_AFTER],
    ids=[case[0] for case in RETRY_AFTER],
)
def test_parse_retry_after(value: str, expected: float | None) -> None:
    now = datetime(2000, 1, 1, tzinfo=UTC)
    assert parse_retry_after(value, now) == expected


# --- bodies that are not RDAP ---------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "body"),
    [("text/html; charset=utf-8", b"<html></html>"), ("text/plain", b"{}")],
)
def test_client_rejects_non_json_type(
    server: RdapServer, client: RdapClient, content_type: str, body: bytes
) -> None:
    server.add_fault("page.example", Fault(content_type=content_type, raw_body=body))
    result = client.lookup("page.example")
    assert failed_with(result, f"Content-Type {content_type.split(';')[0]!r}")


def test_client_null_body(server: RdapServer, client: RdapClient) -> None:
    server.add_fault("null.example", Fault(null_body=True))
    assert failed_with(client.lookup("null.example"), "RDAP body is null")


def test_client_invalid_json(server: RdapServer, client: RdapClient) -> None:
    server.add_fault("cut.example", Fault(raw_body=b'{"ldhName": "cut.exa'))
    assert failed_with(client.lookup("cut.example"), "not valid JSON")


def test_client_other_domain_rejected(server: RdapServer, client: RdapClient) -> None:
    server.add_fault("mine.example", Fault(other_domain="theirs.example"))
    result = client.lookup("mine.example")
    assert failed_with(result, "is for 'theirs.example', not 'mine.example'")


def test_client_deep_nesting(server: RdapServer, client: RdapClient) -> None:
    server.add_fault("deep.example", Fault(nesting_depth=200_000))
    assert failed_with(client.lookup("deep.example"), "nests JSON deeper than 100")


def test_client_brackets_in_strings_not_nesting(
    server: RdapServer, client: RdapClient
) -> None:
    body = domain_body("brackets.example")
    body["remarks"] = [{"description": ["[" * 5000 + "{" * 5000]}]
    server.add_domain("brackets.example", body)
    assert client.lookup("brackets.example").outcome is RdapOutcome.FOUND


def test_client_wrong_types_found_with_notes(
    server: RdapServer, client: RdapClient
) -> None:
    server.add_domain("wrong-types.example", fixture("wrong-types"))
    result = client.lookup("wrong-types.example")
    assert result.outcome is RdapOutcome.FOUND
    assert result.record is not None
    assert result.record.expires_at is None
    assert result.record.notes


DEPTHS = [
    ("flat", b'{"a": 1}', 1, False),
    ("at_limit", b"[[[]]]", 3, False),
    ("over_limit", b"[[[[]]]]", 3, True),
    ("strings_ignored", b'["[[[[", "{{{{"]', 1, False),
    ("escaped_quote", b'["\\"[[[["]', 1, False),
    ("objects", b'{"a": {"b": {"c": {}}}}', 3, True),
]


@pytest.mark.parametrize(
    ("body", "limit", "expected"),
    [case[1:] for case in DEPTHS],
    ids=[case[0] for case in DEPTHS],
)
def test_json_depth_exceeds(body: bytes, limit: int, expected: bool) -> None:
    assert json_depth_exceeds(body, limit) is expected


# --- size and time limits -------------------------------------------------------


def test_client_huge_streamed_body_capped(server: RdapServer) -> None:
    server.add_fault("huge.example", Fault(huge_bytes=5_000_000))
    with RdapClient(base_url=server.url, max_body_bytes=200_000) as rdap:
        result = rdap.lookup("huge.example")
    assert failed_with(result, "over the 200000-byte limit; stopped reading")


def test_client_huge_declared_body_rejected(server: RdapServer) -> None:
    server.add_fault("huge.example", Fault(huge_bytes=5_000_000, declare_length=True))
    with RdapClient(base_url=server.url, max_body_bytes=200_000) as rdap:
        result = rdap.lookup("huge.example")
    assert failed_with(result, "declares 5000000 bytes")


def test_client_trickle_hits_deadline(server: RdapServer) -> None:
    server.add_fault("drip.example", Fault(trickle_interval=0.05))
    with RdapClient(base_url=server.url, deadline_seconds=0.5) as rdap:
        result = rdap.lookup("drip.example")
    assert failed_with(result, "deadline of 0.5 s passed while")


def test_client_slow_headers_read_timeout(server: RdapServer) -> None:
    server.add_fault("slow.example", Fault(latency=3.0))
    with RdapClient(base_url=server.url, read_timeout=0.3) as rdap:
        result = rdap.lookup("slow.example")
    assert failed_with(result, "read timed out")


def test_client_connection_refused() -> None:
    with RdapServer() as closed:
        url = closed.url
    with RdapClient(base_url=url) as rdap:
        result = rdap.lookup("nobody.example")
    assert failed_with(result, "failed: ConnectError")


# --- redirects in base-URL mode -------------------------------------------------


def test_client_redirect_loop(server: RdapServer, client: RdapClient) -> None:
    server.add_fault("loop.example", Fault(redirect_loop=True))
    assert failed_with(client.lookup("loop.example"), "redirect loop")


def test_client_redirect_to_http_rejected(
    server: RdapServer, client: RdapClient
) -> None:
    server.add_fault(
        "plain.example",
        Fault(redirect="http://127.0.0.1:{port}/plain/domain/{domain}"),
    )
    server.add_domain("plain.example", domain_body("plain.example"), prefix="plain")
    result = client.lookup("plain.example")
    assert failed_with(result, "rejected: only https is allowed")
    assert "/plain/domain/plain.example" not in server.requests


def test_client_redirect_to_loopback_rejected(
    server: RdapServer, client: RdapClient
) -> None:
    server.add_fault(
        "lo.example", Fault(redirect="https://127.0.0.1:{port}/lo/domain/{domain}")
    )
    result = client.lookup("lo.example")
    assert failed_with(result, "rejected: loopback address 127.0.0.1")
    assert server.requests == ["/domain/lo.example"]


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("https://169.254.169.254/latest/meta-data/", "cloud metadata address"),
        ("https://[fd00:ec2::254]/latest/", "cloud metadata address"),
        ("https://10.0.0.8/domain/x.example", "private address 10.0.0.8"),
        ("https://[::ffff:192.168.1.1]/", "private address 192.168.1.1"),
        ("https://[fe80::1]/", "link-local address"),
        ("https://0.0.0.0/", "address 0.0.0.0"),
        ("https://rdap.elsewhere.example/domain/x", "with a base URL only"),
        ("https://user:pw@rdap.elsewhere.example/", "URL has credentials"),
        ("ftp://rdap.elsewhere.example/", "only https is allowed"),
    ],
)
def test_client_redirect_targets_rejected(
    server: RdapServer, client: RdapClient, location: str, reason: str
) -> None:
    server.add_fault("away.example", Fault(redirect=location))
    assert failed_with(client.lookup("away.example"), reason)
    assert server.requests == ["/domain/away.example"]


def test_client_base_url_rules() -> None:
    with pytest.raises(RdapConfigError, match="not loopback"):
        RdapClient(base_url="http://rdap.example.com/")
    with pytest.raises(RdapConfigError, match="not an http"):
        RdapClient(base_url="ftp://127.0.0.1/")


def test_client_hostile_set_all_fail(server: RdapServer) -> None:
    add_hostile_domains(server, trickle_interval=0.05)
    with RdapClient(base_url=server.url, deadline_seconds=1.0) as rdap:
        outcomes = {
            name: rdap.lookup(name).outcome
            for name in server.domains()
            if name not in ("wrong-types.example", "bad-dates.example")
            and not name.startswith("not-found")
        }
    assert set(outcomes.values()) == {RdapOutcome.FAILED}
    assert not [path for path in server.requests if "/plain/" in path]
    assert not [path for path in server.requests if "/loopback/" in path]


# --- https, pinning and redirects in bootstrap mode ------------------------------


def test_client_tls_bootstrap_found(
    tls_server: RdapServer, tls_client: TlsClientFactory
) -> None:
    tls_server.add_domain("site.test", domain_body("site.test"))
    result = tls_client().lookup("site.test")
    assert result.outcome is RdapOutcome.FOUND
    assert result.server == "rdap.registry.test"


def test_client_pinned_host_header(
    tls_server: RdapServer, tls_client: TlsClientFactory
) -> None:
    tls_server.add_domain("site.test", domain_body("site.test"))
    tls_client().lookup("site.test")
    assert tls_server.request_hosts == [f"rdap.registry.test:{tls_server.port}"]


def test_client_server_for_bootstrap(tls_client: TlsClientFactory) -> None:
    rdap = tls_client()
    assert rdap.server_for("site.test") == "rdap.registry.test"
    assert rdap.server_for("site.nowhere") is None


def test_client_server_for_base(server: RdapServer, client: RdapClient) -> None:
    assert client.server_for("anything.example") == "127.0.0.1"


def test_client_no_service(tls_client: TlsClientFactory) -> None:
    result = tls_client().lookup("site.nowhere")
    assert result.outcome is RdapOutcome.NO_SERVICE
    assert result.error == "no RDAP server is known for .nowhere"


def test_client_tls_relative_redirect_followed(
    tls_server: RdapServer, tls_client: TlsClientFactory
) -> None:
    tls_server.add_fault("moved.test", Fault(redirect="/new/domain/{domain}"))
    tls_server.add_domain("moved.test", domain_body("moved.test"), prefix="new")
    assert tls_client().lookup("moved.test").outcome is RdapOutcome.FOUND


def test_client_tls_redirect_other_host_followed(
    tls_server: RdapServer, tls_client: TlsClientFactory
) -> None:
    location = "https://rdap.other.test:{port}/new/domain/{domain}"
    tls_server.add_fault("moved.test", Fault(redirect=location))
    tls_server.add_domain("moved.test", domain_body("moved.test"), prefix="new")
    assert tls_client().lookup("moved.test").outcome is RdapOutcome.FOUND
    assert tls_server.request_hosts[-1] == f"rdap.other.test:{tls_server.port}"


def test_client_tls_at_most_five_redirects(
    tls_server: RdapServer, tls_client: TlsClientFactory
) -> None:
    tls_server.add_fault("chain.test", Fault(redirect_chain=True))
    result = tls_client().lookup("chain.test")
    assert failed_with(result, "more than 5 redirects")
    assert len(tls_server.requests) == 6


RESOLVED_REJECTIONS = [
    ("private", ["10.1.2.3"], "private address 10.1.2.3"),
    ("mixed", ["127.0.0.1", "192.168.0.9"], "private address 192.168.0.9"),
    ("metadata", ["169.254.169.254"], "cloud metadata address"),
    ("shared_space", ["100.64.0.1"], "non-public address 100.64.0.1"),
    ("unresolved", [], "could not resolve rdap.inside.test"),
]


@pytest.mark.parametrize(
    ("addresses", "reason"),
    [case[1:] for case in RESOLVED_REJECTIONS],
    ids=[case[0] for case in RESOLVED_REJECTIONS],
)
def test_client_redirect_checked_on_resolved_address(
    tls_server: RdapServer,
    tls_client: TlsClientFactory,
    addresses: list[str],
    reason: str,
) -> None:
    tls_server.add_fault(
        "inside.test",
        Fault(redirect="https://rdap.inside.test:{port}/x/domain/{domain}"),
    )
    names = {**LOCAL_NAMES, "rdap.inside.test": addresses}
    result = tls_client(names).lookup("inside.test")
    assert failed_with(result, reason)
    assert tls_server.requests == ["/domain/inside.test"]


def test_client_loopback_rejected_without_allowlist(tls_server: RdapServer) -> None:
    url = f"https://rdap.registry.test:{tls_server.port}/"
    bootstrap = Bootstrap.from_json({"services": [[["test"], [url]]]})
    with RdapClient(bootstrap=bootstrap, resolver=lambda host: ["127.0.0.1"]) as rdap:
        result = rdap.lookup("site.test")
    assert failed_with(result, "loopback address 127.0.0.1")
    assert tls_server.requests == []


def test_client_local_names_rejected(tls_client: TlsClientFactory) -> None:
    url = "https://localhost/domain/x.test"
    bootstrap = Bootstrap.from_json({"services": [[["test"], [url]]]})
    with RdapClient(bootstrap=bootstrap, resolver=lambda host: ["8.8.8.8"]) as rdap:
        result = rdap.lookup("x.test")
    assert failed_with(result, "localhost is a local name")


def test_client_http_only_bootstrap_rejected() -> None:
    bootstrap = Bootstrap.from_json({"services": [[["kg"], ["http://rdap.kg.test/"]]]})
    with RdapClient(bootstrap=bootstrap, resolver=lambda host: []) as rdap:
        result = rdap.lookup("site.kg")
    assert failed_with(result, "only https is allowed")


def test_client_bootstrap_unavailable(server: RdapServer) -> None:
    cache = BootstrapCache(url=server.url + "missing.json", overrides={})
    with RdapClient(bootstrap_cache=cache) as rdap:
        result = rdap.lookup("site.example")
    assert failed_with(result, "RDAP bootstrap unavailable")


def test_client_bootstrap_cache_used(server: RdapServer) -> None:
    stored = {"services": [[["example"], [server.url]]]}
    cache = BootstrapCache(stored, datetime.now(UTC), overrides={})
    with RdapClient(bootstrap_cache=cache) as rdap:
        assert rdap.server_for("site.example") == "127.0.0.1"


# --- registrar referral ---------------------------------------------------------


def registry_and_registrar(
    server: RdapServer,
    domain: str,
    registry: dict[str, Any],
    registrar: dict[str, Any] | None,
    *,
    registrar_host: str | None = None,
) -> None:
    base = server.url
    if registrar_host is not None:
        base = f"https://{registrar_host}:{server.port}/"
    registry["links"] = [
        {
            "rel": "related",
            "type": "application/rdap+json",
            "href": f"{base}registrar/domain/{domain}",
        }
    ]
    server.add_domain(domain, registry)
    if registrar is not None:
        server.add_domain(domain, registrar, prefix="registrar")


def test_referral_thin_registry(server: RdapServer, client: RdapClient) -> None:
    registry = domain_body("thin.example", expires_in_days=None)
    registrar = domain_body("thin.example", expires_in_days=200)
    registry_and_registrar(server, "thin.example", registry, registrar)
    result = client.lookup("thin.example")
    assert result.outcome is RdapOutcome.FOUND
    assert result.record is not None and result.record.expires_at is None
    assert result.registrar_record is not None
    assert result.registrar_record.expires_at is not None


def test_referral_auto_renew_period(
    tls_server: RdapServer, tls_client: TlsClientFactory
) -> None:
    renewed = datetime(2031, 1, 1, tzinfo=UTC)
    registry = domain_body(
        "renew.test", expires_in_days=-3, statuses=["autoRenewPeriod"]
    )
    registrar = domain_body(
        "renew.test", expires_in_days=360, registrar_expires_at=renewed
    )
    registry_and_registrar(
        tls_server, "renew.test", registry, registrar, registrar_host=TLS_NAMES[1]
    )
    result = tls_client().lookup("renew.test")
    assert result.registrar_record is not None
    assert result.registrar_record.registrar_expires_at == renewed
    assert tls_server.request_hosts[-1].startswith("rdap.registrar.test:")


def test_referral_not_needed(server: RdapServer, client: RdapClient) -> None:
    registry = domain_body("thick.example", expires_in_days=300)
    registry_and_registrar(server, "thick.example", registry, None)
    result = client.lookup("thick.example")
    assert result.registrar_record is None
    assert server.requests == ["/domain/thick.example"]


def test_referral_disabled(server: RdapServer) -> None:
    registry = domain_body("thin.example", expires_in_days=None)
    registry_and_registrar(
        server, "thin.example", registry, domain_body("thin.example")
    )
    with RdapClient(base_url=server.url, follow_referral=False) as rdap:
        result = rdap.lookup("thin.example")
    assert result.registrar_record is None
    assert server.requests == ["/domain/thin.example"]


REFERRAL_FAILURES = [
    ("server_error", Fault(status=500), "registrar referral failed: HTTP 500"),
    ("not_found", Fault(status=404), "registrar referral failed: HTTP 404"),
    ("html", Fault(content_type="text/html"), "registrar referral failed: response"),
    (
        "other_domain",
        Fault(other_domain="else.example"),
        "is for 'else.example', not 'thin.example'",
    ),
    ("null", Fault(null_body=True), "RDAP body is null"),
]


@pytest.mark.parametrize(
    ("fault", "note"),
    [case[1:] for case in REFERRAL_FAILURES],
    ids=[case[0] for case in REFERRAL_FAILURES],
)
def test_referral_failure_keeps_registry_data(
    server: RdapServer, client: RdapClient, fault: Fault, note: str
) -> None:
    registry = domain_body("thin.example", expires_in_days=None, statuses=["ok"])
    registry_and_registrar(
        server, "thin.example", registry, domain_body("thin.example")
    )
    server.add_fault("thin.example", fault, prefix="registrar")
    result = client.lookup("thin.example")
    assert result.outcome is RdapOutcome.FOUND
    assert result.record is not None
    assert result.record.statuses == ("active",)
    assert result.registrar_record is None
    assert any(note in text for text in result.notes)


def test_referral_other_origin_skipped_in_base_mode(
    server: RdapServer, client: RdapClient
) -> None:
    registry = domain_body("thin.example", expires_in_days=None)
    registry_and_registrar(
        server, "thin.example", registry, None, registrar_host="rdap.registrar.test"
    )
    result = client.lookup("thin.example")
    assert result.outcome is RdapOutcome.FOUND
    assert result.error is not None
    assert "skipped: with a base URL only" in result.error
    assert server.requests == ["/domain/thin.example"]


def test_referral_thin_registry_fixtures(
    server: RdapServer, client: RdapClient
) -> None:
    registry = fixture("thin-registry-no-expiry")
    registry["links"][-1]["href"] = (
        f"{server.url}registrar/domain/thin-registry-no-expiry.example"
    )
    server.add_domain("thin-registry-no-expiry.example", registry)
    server.add_domain(
        "thin-registry-no-expiry.example", fixture("registrar-hop"), prefix="registrar"
    )
    result = client.lookup("thin-registry-no-expiry.example")
    assert result.registrar_record is not None
    assert result.registrar_record.registrar_expires_at == datetime(
        2030, 3, 1, 12, 0, tzinfo=UTC
    )


def test_referral_redirect_target_checked(
    tls_server: RdapServer, tls_client: TlsClientFactory
) -> None:
    registry = domain_body("thin.test", expires_in_days=None)
    registry["links"] = [
        {
            "rel": "related",
            "type": "application/rdap+json",
            "href": "https://169.254.169.254/domain/thin.test",
        }
    ]
    tls_server.add_domain("thin.test", registry)
    result = tls_client().lookup("thin.test")
    assert result.outcome is RdapOutcome.FOUND
    assert result.error is not None
    assert "cloud metadata address" in result.error
