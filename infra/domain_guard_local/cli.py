"""The ``domain-guard`` command: explain a saved response, look a domain up, demo."""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from domain_guard.errors import DomainGuardError
from domain_guard.facts import merge_observation
from domain_guard.models import DnsOutcome, Policy
from domain_guard.names import DomainName, domain_from_email, registrable_domain
from domain_guard.response import check_response
from domain_guard.verdict import decide

from .saved import load_saved, observation_from_saved

DNS_CHOICES = ("nxdomain", "exists", "servfail", "timeout")
NOW_HELP = "decide at this time, ISO 8601; a time without a zone is UTC"
VERIFIED_HELP = "when the address was verified, ISO 8601 (UTC without a zone)"


class UsageError(DomainGuardError):
    """A command-line value is invalid. The message names the value and the fix."""


def parse_time(value: str, option: str) -> datetime:
    """Parse an ISO 8601 time given on the command line; no zone means UTC."""
    text = value.strip()
    if not text:
        raise UsageError(
            f"{option} is empty; give an ISO 8601 time such as 2024-05-01T10:00:00Z"
        )
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"invalid {option} value {value!r}: expected an ISO 8601 time such as"
            " 2024-05-01T10:00:00Z"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def package_version() -> str:
    try:
        return importlib.metadata.version("domain-guard")
    except importlib.metadata.PackageNotFoundError:
        return "unknown (not installed)"


def utc_now() -> datetime:
    return datetime.now(UTC)


def check_network_options(args: argparse.Namespace) -> None:
    """Validate --rdap-base-url and --nameserver before anything is contacted."""
    from domain_guard.dns import parse_nameserver
    from domain_guard.rdap_client import checked_base_url

    if args.rdap_base_url is not None:
        if not args.rdap_base_url.strip():
            raise UsageError(
                "--rdap-base-url is empty; give a URL such as http://127.0.0.1:8080/"
                " or leave the option out to use the IANA bootstrap"
            )
        try:
            checked_base_url(args.rdap_base_url)
        except ValueError as exc:
            raise UsageError(f"invalid --rdap-base-url: {exc}") from exc
    if args.nameserver is not None:
        try:
            parse_nameserver(args.nameserver)
        except ValueError as exc:
            raise UsageError(f"invalid --nameserver: {exc}") from exc


def parse_domain_argument(value: str) -> DomainName:
    """Accept a domain, a host name or an email address."""
    if "@" in value:
        return domain_from_email(value)
    return registrable_domain(value)


def print_json(document: Any) -> None:
    json.dump(document, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def run_explain(args: argparse.Namespace) -> int:
    now = parse_time(args.now, "--now") if args.now is not None else utc_now()
    verified_at = None
    if args.verified_at is not None:
        verified_at = parse_time(args.verified_at, "--verified-at")
    dns = DnsOutcome(args.dns.lower()) if args.dns else DnsOutcome.NOT_PROBED
    body = load_saved(Path(args.rdap_file))
    observation = observation_from_saved(body, now=now, dns=dns)
    facts = merge_observation(None, observation)
    decision = decide(facts, now, verified_at=verified_at, policy=Policy())
    print_json(check_response(observation.domain or None, facts, decision))
    return 0


def run_lookup(args: argparse.Namespace) -> int:
    from domain_guard.lookup import build_lookup  # httpx and dnspython load here

    check_network_options(args)
    if args.verified_at is not None:
        parse_time(args.verified_at, "--verified-at")
    name = parse_domain_argument(args.name)
    now = parse_time(args.now, "--now") if args.now is not None else utc_now()
    nameservers = [args.nameserver] if args.nameserver else None
    with build_lookup(
        rdap_base_url=args.rdap_base_url,
        nameservers=nameservers,
        dns_enabled=not args.no_dns,
    ) as lookup:
        observation = lookup.observe(name.domain, now)
    facts = merge_observation(None, observation)
    verified_at = None
    if args.verified_at is not None:
        verified_at = parse_time(args.verified_at, "--verified-at")
    decision = decide(facts, now, verified_at=verified_at, policy=Policy())
    print_json(check_response(name.domain, facts, decision, extra_reasons=name.reasons))
    return 0


def run_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo as demo

    return demo(args)


def add_network_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--rdap-base-url",
        metavar="URL",
        help="send every RDAP query to URL/domain/NAME instead of the IANA"
        " bootstrap server (plain http only on a loopback address)",
    )
    parser.add_argument(
        "--no-dns", action="store_true", help="send no DNS query at all"
    )
    parser.add_argument(
        "--nameserver",
        metavar="HOST[:PORT]",
        help="DNS server to ask instead of the system resolver",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="domain-guard",
        description="Decide whether a password reset may go to an email domain.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {package_version()}"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    explain = commands.add_parser(
        "explain",
        help="print the verdict for one saved RDAP response, offline",
        description="print the verdict for one saved RDAP response, offline",
    )
    explain.add_argument(
        "--rdap-file",
        required=True,
        metavar="FILE",
        help="a saved RDAP domain response, an RDAP error body, or a record of"
        " HTTP status and location",
    )
    explain.add_argument("--now", metavar="ISO", help=NOW_HELP)
    explain.add_argument("--verified-at", metavar="ISO", help=VERIFIED_HELP)
    explain.add_argument(
        "--dns",
        choices=DNS_CHOICES,
        type=str.lower,
        help="the DNS outcome a live lookup would have seen (default: not probed)",
    )
    explain.set_defaults(run=run_explain)

    lookup = commands.add_parser(
        "lookup",
        help="look one domain up over RDAP and DNS, without AWS",
        description="look one domain up over RDAP and DNS, without AWS",
    )
    lookup.add_argument("name", metavar="NAME", help="a domain or an email address")
    lookup.add_argument("--now", metavar="ISO", help=NOW_HELP)
    lookup.add_argument("--verified-at", metavar="ISO", help=VERIFIED_HELP)
    add_network_options(lookup)
    lookup.set_defaults(run=run_lookup)

    demo = commands.add_parser(
        "demo",
        help="run enroll, a scheduled sweep and checks on a local moto stack",
        description="run enroll, a scheduled sweep and checks on a local moto stack",
    )
    demo.add_argument(
        "--domains-file",
        metavar="FILE",
        help="domains or addresses to enroll, one a line as NAME [VERIFIED_AT],"
        " where VERIFIED_AT is when the address was verified (# starts a"
        " comment; at most 10,000 lines)",
    )
    demo.add_argument(
        "--example",
        action="store_true",
        help="run the built-in offline scenario: one fictional domain per verdict",
    )
    demo.add_argument(
        "--sweeps",
        type=int,
        default=1,
        metavar="N",
        help="number of sweeps, 1 to 50; each treats every domain as due (default 1)",
    )
    demo.add_argument(
        "--json", action="store_true", help="print one JSON document on stdout"
    )
    add_network_options(demo)
    demo.set_defaults(run=run_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.run(args)
        sys.stdout.flush()
    except DomainGuardError as exc:
        print(f"domain-guard {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"domain-guard {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (``| head``); Python would complain again
        # when it flushes stdout at exit, so stdout goes to /dev/null first.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except OSError as exc:
        print(
            f"domain-guard {args.command}: cannot write the output: {exc.strerror}",
            file=sys.stderr,
        )
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
