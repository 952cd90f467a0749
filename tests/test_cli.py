"""The domain-guard command: explain, lookup and their error messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from domain_guard_local.cli import main
from domain_guard_local.rdap_server import RdapServer, domain_body

NOW = "2025-01-15T00:00:00Z"
CONTRACT_KEYS = {
    "allow",
    "verdict",
    "domain",
    "reasons",
    "expires_at",
    "registered_at",
    "checked_at",
    "stale",
}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def explain(
    capsys: pytest.CaptureFixture[str], path: Path, *extra: str
) -> dict[str, object]:
    code, out, err = run(capsys, "explain", "--rdap-file", str(path), *extra)
    assert code == 0, err
    document: dict[str, object] = json.loads(out)
    return document


def test_explain_sample_prints_contract(
    capsys: pytest.CaptureFixture[str], rdap_samples: Path
) -> None:
    document = explain(capsys, rdap_samples / "uk-nominet/bbc.co.uk.json", "--now", NOW)
    assert set(document) == CONTRACT_KEYS
    assert document["domain"] == "bbc.co.uk"
    assert document["verdict"] == "active"
    assert document["allow"] is True


@pytest.mark.parametrize(
    ("dns", "verdict"),
    [
        ("nxdomain", "not_registered"),
        ("exists", "unknown"),
        ("servfail", "unknown"),
        ("timeout", "unknown"),
        (None, "unknown"),
    ],
)
def test_explain_registry_404_needs_nxdomain(
    capsys: pytest.CaptureFixture[str],
    rdap_samples: Path,
    dns: str | None,
    verdict: str,
) -> None:
    path = rdap_samples / "errors/centralnic__jsiqpmcurt.design__404.json"
    extra = ["--dns", dns] if dns else []
    document = explain(capsys, path, "--now", NOW, *extra)
    assert document["domain"] == "jsiqpmcurt.design"
    assert document["verdict"] == verdict


def test_explain_bootstrap_404_is_no_service(
    capsys: pytest.CaptureFixture[str], rdap_samples: Path
) -> None:
    path = rdap_samples / "errors/rdap.org__test.fr__404-not-in-bootstrap.json"
    document = explain(capsys, path, "--now", NOW, "--dns", "nxdomain")
    assert document["verdict"] == "unknown"


def test_explain_verified_at_finds_reregistration(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "reborn.json"
    body = domain_body(
        "reborn.test",
        expires_at=None,
        expires_in_days=300,
        registered_days_ago=10,
    )
    path.write_text(json.dumps(body), encoding="utf-8")
    document = explain(capsys, path, "--verified-at", "2020-01-01T00:00:00Z")
    assert document["verdict"] == "reregistered"
    assert document["allow"] is False


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json at all", "is not JSON"),
    ],
)
def test_explain_unreadable_file_names_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "broken.json"
    path.write_text(content, encoding="utf-8")
    code, out, err = run(capsys, "explain", "--rdap-file", str(path))
    assert code == 2
    assert out == ""
    assert message in err
    assert str(path) in err


def test_explain_missing_file_names_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "absent.json"
    code, _, err = run(capsys, "explain", "--rdap-file", str(path))
    assert code == 2
    assert str(path) in err


def test_explain_null_body_is_unknown(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "null.json"
    path.write_text("null", encoding="utf-8")
    document = explain(capsys, path, "--now", NOW)
    assert document["verdict"] == "unknown"
    assert document["reasons"]


def test_explain_invalid_now_names_value(
    capsys: pytest.CaptureFixture[str], rdap_samples: Path
) -> None:
    path = rdap_samples / "uk-nominet/bbc.co.uk.json"
    code, _, err = run(capsys, "explain", "--rdap-file", str(path), "--now", "soon")
    assert code == 2
    assert "'soon'" in err
    assert "--now" in err


def test_lookup_against_local_server(capsys: pytest.CaptureFixture[str]) -> None:
    body = domain_body("shop.test", expires_in_days=5)
    with RdapServer(domains={"shop.test": body}) as server:
        code, out, err = run(
            capsys,
            "lookup",
            "alice@mail.shop.test",
            "--rdap-base-url",
            server.url,
            "--no-dns",
        )
    assert code == 0, err
    document = json.loads(out)
    assert document["domain"] == "shop.test"
    assert document["verdict"] == "expiring"


def test_lookup_invalid_address_names_it(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "lookup", "alice@", "--no-dns")
    assert code == 2
    assert out == ""
    # Addresses are masked even in errors, because errors end up in logs.
    assert "a***@" in err
    assert "has no domain" in err


@pytest.mark.parametrize(
    ("base_url", "message"),
    [
        ("", "--rdap-base-url is empty"),
        ("http://user:secret@127.0.0.1:1", "user name or password"),
        ("http://127.0.0.1:abc", "invalid port"),
        ("http://127.0.0.1:99999", "invalid port"),
        ("http://192.0.2.1:8080", "not loopback"),
    ],
    ids=["empty", "credentials", "port_text", "port_range", "plain_http_remote"],
)
def test_lookup_invalid_base_url_names_it(
    capsys: pytest.CaptureFixture[str], base_url: str, message: str
) -> None:
    code, out, err = run(
        capsys, "lookup", "a@good.test", "--no-dns", "--rdap-base-url", base_url
    )
    assert code == 2
    assert out == ""
    assert message in err
    assert "secret" not in err


@pytest.mark.parametrize("value", ["", " ", "tomorrow"])
def test_explain_invalid_time_rejected(
    capsys: pytest.CaptureFixture[str], rdap_samples: Path, value: str
) -> None:
    path = rdap_samples / "uk-nominet/bbc.co.uk.json"
    code, out, _ = run(capsys, "explain", "--rdap-file", str(path), "--now", value)
    assert code == 2
    assert out == ""


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "is empty"), (b"\xff\xfe\x00junk", "is not UTF-8 text")],
    ids=["empty", "binary"],
)
def test_explain_bad_file_content_names_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "saved.json"
    path.write_bytes(content)
    code, _, err = run(capsys, "explain", "--rdap-file", str(path))
    assert code == 2
    assert message in err


def test_explain_directory_names_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(capsys, "explain", "--rdap-file", str(tmp_path))
    assert code == 2
    assert "is a directory" in err


def test_explain_endless_device_stops_at_limit(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = run(capsys, "explain", "--rdap-file", "/dev/zero")
    assert code == 2
    assert "byte limit" in err


def test_explain_year_one_padded(
    capsys: pytest.CaptureFixture[str], rdap_samples: Path
) -> None:
    path = rdap_samples / "uk-nominet/bbc.co.uk.json"
    document = explain(capsys, path, "--now", "0001-01-01T00:00:00Z")
    assert document["checked_at"] == "0001-01-01T00:00:00Z"


def test_explain_dns_choice_any_case(
    capsys: pytest.CaptureFixture[str], rdap_samples: Path
) -> None:
    path = rdap_samples / "errors/centralnic__jsiqpmcurt.design__404.json"
    document = explain(capsys, path, "--now", NOW, "--dns", "NXDOMAIN")
    assert document["verdict"] == "not_registered"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("[" * 100_000 + "]" * 100_000, "nests JSON deeper than 100 levels"),
        ('{"a": "' + "x" * 5_000_000 + '"}', "over the 4194304-byte limit"),
    ],
    ids=["deep_nesting", "over_size_cap"],
)
def test_explain_applies_live_limits(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str, reason: str
) -> None:
    path = tmp_path / "hostile.json"
    path.write_text(content, encoding="utf-8")
    document = explain(capsys, path, "--now", NOW)
    assert document["verdict"] == "unknown"
    assert any(reason in text for text in document["reasons"])


def test_explain_string_error_code_is_404(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "error.json"
    body = {
        "errorCode": "404",
        "title": "Not Found",
        "links": [{"rel": "self", "href": "https://rdap.example/domain/gone.test"}],
    }
    path.write_text(json.dumps(body), encoding="utf-8")
    document = explain(capsys, path, "--now", NOW, "--dns", "nxdomain")
    assert document["verdict"] == "not_registered"


def test_explain_unreadable_expiry_says_so(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "bad-expiry.json"
    body = domain_body("odd.test", expires_in_days=None)
    body["events"].append({"eventAction": "expiration", "eventDate": "not a date"})
    path.write_text(json.dumps(body), encoding="utf-8")
    document = explain(capsys, path, "--now", NOW)
    assert document["verdict"] == "unknown"
    assert any("'not a date' is not a readable date" in r for r in document["reasons"])
