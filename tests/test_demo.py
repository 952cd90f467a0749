"""domain-guard demo: the whole pipeline on moto, against local RDAP and DNS."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from domain_guard_local.cli import main
from domain_guard_local.rdap_server import RdapServer, domain_body

SAMPLE_DOMAINS = (
    "google.com",
    "wikipedia.org",
    "bbc.co.uk",
    "example.cz",
    "afnic.fr",
    "web.dev",
    "norway.no",
)
VERDICTS = {
    "active",
    "expiring",
    "grace",
    "hold",
    "redemption",
    "pending_delete",
    "not_registered",
    "reregistered",
    "owner_changed",
    "unknown",
}


def run_demo(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    code = main(["demo", *argv])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    document: dict[str, Any] = json.loads(captured.out)
    return document


def by_domain(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {check["domain"]: check for check in document["checks"]}


def test_demo_samples_and_generated_domains(
    capsys: pytest.CaptureFixture[str], rdap_samples: Path, tmp_path: Path
) -> None:
    domains_file = tmp_path / "domains.txt"
    domains_file.write_text(
        "\n".join(
            [
                "# generated",
                "soon.test",
                "redeem.test",
                "never-heard-of.test",
                "# saved samples",
                *SAMPLE_DOMAINS,
            ]
        ),
        encoding="utf-8",
    )
    with RdapServer(directory=rdap_samples) as server:
        server.add_domain("soon.test", domain_body("soon.test", expires_in_days=10))
        server.add_domain(
            "redeem.test",
            domain_body(
                "redeem.test", expires_in_days=-40, statuses=("redemption period",)
            ),
        )
        document = run_demo(
            capsys,
            "--rdap-base-url",
            server.url,
            "--domains-file",
            str(domains_file),
            "--no-dns",
            "--json",
        )

    assert set(document) == {"sweeps", "checks"}
    assert document["sweeps"][0]["checked"] == 3 + len(SAMPLE_DOMAINS)
    checks = by_domain(document)
    assert checks["soon.test"]["verdict"] == "expiring"
    assert checks["redeem.test"]["verdict"] == "redemption"
    assert checks["never-heard-of.test"]["verdict"] == "unknown"
    for domain in SAMPLE_DOMAINS:
        assert checks[domain]["verdict"] in VERDICTS, domain
    warned = {w["domain"]: w for w in document["sweeps"][0]["warnings"]}
    assert warned["soon.test"]["days_left"] in (9, 10)
    assert set(warned["soon.test"]) == {"domain", "kind", "days_left"}


def test_demo_example_shows_every_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    document = run_demo(capsys, "--example", "--json")
    verdicts = [check["verdict"] for check in document["checks"]]
    assert sorted(verdicts) == sorted(VERDICTS)


def test_demo_repeated_sweep_sends_no_repeat_warning(
    capsys: pytest.CaptureFixture[str],
) -> None:
    document = run_demo(capsys, "--example", "--sweeps", "2", "--json")
    first, second = document["sweeps"]
    assert first["checked"] == second["checked"] == 10
    assert first["warnings"]
    assert second["warnings"] == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--sweeps", "0"], "--sweeps 0"),
        (["--example", "--rdap-base-url", "http://127.0.0.1:1"], "--example"),
    ],
)
def test_demo_invalid_options_name_them(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code = main(["demo", *argv])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert message in captured.err


def test_demo_bad_domains_line_names_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    domains_file = tmp_path / "domains.txt"
    domains_file.write_text("good.test\nbad@@address\n", encoding="utf-8")
    code = main(["demo", "--domains-file", str(domains_file), "--no-dns"])
    captured = capsys.readouterr()
    assert code == 2
    assert f"{domains_file}:2" in captured.err


def test_demo_domains_file_drops_repeats(tmp_path: Path) -> None:
    from domain_guard_local.demo import read_domains_file

    domains_file = tmp_path / "domains.txt"
    domains_file.write_text(
        "good.test\nGOOD.TEST\ngood.test # again\nalice@good.test\n", encoding="utf-8"
    )
    entries = read_domains_file(domains_file)
    assert [entry.label for entry in entries] == ["good.test", "alice@good.test"]
