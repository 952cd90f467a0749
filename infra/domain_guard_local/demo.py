"""``domain-guard demo``: the whole pipeline on a local moto stack.

The demo deploys template.yaml into moto and enrolls each domain through the
enroll handler. It then runs scheduled sweeps through the real dispatch and
worker handlers, collects the owner warnings published on the OwnerWarnings
topic, and calls the check handler for every domain.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from domain_guard.errors import DomainGuardError
from domain_guard.names import domain_from_email, registrable_domain

from .cli import UsageError, check_network_options, parse_time
from .examples import ExampleScenario, build_example

# Domains the live demo checks when no --domains-file is given.
LIVE_DOMAINS = (
    "google.com",
    "wikipedia.org",
    "bbc.co.uk",
    "nic.cz",
    "afnic.fr",
    "web.dev",
    "norway.no",
    "pypi.org",
)
MAX_SWEEPS = 50
MAX_DOMAINS = 10_000


@dataclass(frozen=True)
class DemoEntry:
    """One line of the domains list: what to enroll and how to check it."""

    request: dict[str, str]  # {"email": ...} or {"domain": ...}
    verified_at: str | None = None

    @property
    def label(self) -> str:
        return self.request.get("domain") or self.request.get("email", "")


def read_domains_file(path: Path) -> list[DemoEntry]:
    """Read ``NAME [VERIFIED_AT]`` lines; NAME is a domain or an address."""
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read --domains-file {path}: {exc}") from exc
    entries = []
    seen: set[tuple[object, ...]] = set()
    for number, line in enumerate(lines, start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        fields = text.split()
        if len(fields) > 2:
            raise UsageError(
                f"{path}:{number}: expected 'NAME [VERIFIED_AT]', got {text!r}"
            )
        entry = _entry(fields[0], fields[1:], where=f"{path}:{number}")
        # A repeated line would only print the same check twice.
        key = (*sorted(entry.request.items()), entry.verified_at)
        if key not in seen:
            seen.add(key)
            entries.append(entry)
    if not entries:
        raise UsageError(f"--domains-file {path} lists no domains")
    if len(entries) > MAX_DOMAINS:
        raise UsageError(
            f"--domains-file {path} lists {len(entries)} domains; the demo takes"
            f" at most {MAX_DOMAINS}"
        )
    return entries


def _entry(name: str, rest: list[str], *, where: str) -> DemoEntry:
    try:
        if "@" in name:
            domain_from_email(name)
            request = {"email": name}
        else:
            request = {"domain": registrable_domain(name).domain}
    except DomainGuardError as exc:
        raise UsageError(f"{where}: {exc}") from exc
    verified_at = None
    if rest:
        verified = parse_time(rest[0], f"VERIFIED_AT at {where}")
        verified_at = verified.strftime("%Y-%m-%dT%H:%M:%SZ")
    return DemoEntry(request=request, verified_at=verified_at)


def run_demo(args: argparse.Namespace) -> int:
    if not 1 <= args.sweeps <= MAX_SWEEPS:
        raise UsageError(
            f"--sweeps {args.sweeps} is out of range: use 1 to {MAX_SWEEPS}"
        )
    if args.example and (args.rdap_base_url or args.domains_file):
        raise UsageError(
            "--example brings its own RDAP server and domains: drop --rdap-base-url"
            " and --domains-file, or drop --example"
        )
    if args.example and args.nameserver:
        raise UsageError("--example brings its own DNS server: drop --nameserver")
    check_network_options(args)

    with contextlib.ExitStack() as resources:
        scenario: ExampleScenario | None = None
        if args.example:
            scenario = resources.enter_context(build_example())
            entries = [
                DemoEntry(request={"domain": case.domain}, verified_at=case.verified_at)
                for case in scenario.cases
            ]
            base_url: str | None = scenario.rdap_url
            nameserver = None if args.no_dns else scenario.nameserver
        else:
            if args.domains_file:
                entries = read_domains_file(Path(args.domains_file))
            else:
                entries = [DemoEntry(request={"domain": d}) for d in LIVE_DOMAINS]
            base_url = args.rdap_base_url
            nameserver = args.nameserver
        # Handler logs are JSON lines on stdout; stdout is kept for the result.
        with _stdout_to_stderr():
            result = _run_pipeline(
                entries,
                sweeps=args.sweeps,
                base_url=base_url,
                nameserver=nameserver,
                no_dns=args.no_dns,
                scenario=scenario,
            )
    if args.json:
        json.dump(result, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(format_table(result, scenario))
    return 0


def _run_pipeline(
    entries: list[DemoEntry],
    *,
    sweeps: int,
    base_url: str | None,
    nameserver: str | None,
    no_dns: bool,
    scenario: ExampleScenario | None,
) -> dict[str, Any]:
    from moto import mock_aws

    from .stack import deploy_stack

    local_environment: dict[str, str] = {}
    if base_url:
        local_environment["DOMAIN_GUARD_RDAP_BASE_URL"] = base_url
    if nameserver:
        local_environment["DOMAIN_GUARD_NAMESERVER"] = nameserver
    if no_dns:
        local_environment["DOMAIN_GUARD_NO_DNS"] = "1"

    with _demo_aws_environment(), mock_aws():
        stack = deploy_stack(local_environment=local_environment)
        for entry in entries:
            stack.invoke("EnrollFunction", entry.request)
        if scenario is not None:
            scenario.after_enroll()
        sweep_reports = []
        for _ in range(sweeps):
            stack.make_all_due()
            report = stack.sweep()
            sweep_reports.append(
                {
                    "checked": report.checked,
                    "warnings": [
                        {
                            "domain": w["domain"],
                            "kind": w["kind"],
                            "days_left": w["days_left"],
                        }
                        for w in report.warnings
                    ],
                }
            )
        checks = []
        for entry in entries:
            request = dict(entry.request)
            if entry.verified_at:
                request["verified_at"] = entry.verified_at
            checks.append(stack.invoke("CheckFunction", request))
    return {"sweeps": sweep_reports, "checks": checks}


@contextlib.contextmanager
def _demo_aws_environment() -> Iterator[None]:
    """Give moto fake credentials so nothing can reach a real AWS account."""
    fake = {
        "AWS_ACCESS_KEY_ID": "demo",
        "AWS_SECRET_ACCESS_KEY": "demo",
        "AWS_SESSION_TOKEN": "demo",
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "POWERTOOLS_TRACE_DISABLED": "true",
        # The handlers' INFO lines would bury the result; warnings still show.
        "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
    }
    saved = {name: os.environ.get(name) for name in [*fake, "AWS_PROFILE"]}
    os.environ.pop("AWS_PROFILE", None)
    os.environ.update(fake)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """Send everything written to file descriptor 1 to stderr for the block."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def format_table(result: dict[str, Any], scenario: ExampleScenario | None) -> str:
    """Render the demo result for a terminal."""
    lines = []
    for number, sweep in enumerate(result["sweeps"], start=1):
        checked = sweep["checked"]
        noun = "domain" if checked == 1 else "domains"
        lines.append(f"sweep {number}: {checked} {noun} checked")
        for warning in sweep["warnings"]:
            days = warning["days_left"]
            if days is None:
                when = ""
            elif days < 0:
                when = f"expired {-days} days ago"
            else:
                when = f"{days} days left"
            lines.append(
                f"  owner warning  {warning['domain']:<24} {warning['kind']:<15} {when}"
            )
    lines.append("")
    rows = [("domain", "verdict", "allow", "expires", "reasons")]
    for check in result["checks"]:
        if "error" in check:
            rows.append(("-", "invalid_request", "-", "-", check.get("message", "")))
            continue
        rows.append(
            (
                check["domain"],
                check["verdict"],
                "yes" if check["allow"] else "no",
                (check["expires_at"] or "-")[:10],
                "; ".join(check["reasons"]) or "-",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[4]]).rstrip())
    if scenario is not None:
        lines.append("")
        lines.extend(scenario.summary(result["checks"]))
    return "\n".join(lines) + "\n"
