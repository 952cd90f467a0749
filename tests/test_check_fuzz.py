"""Generated requests against the real check and authorizer functions.

The stack is deployed from template.yaml into moto once for the module. The
lookup of an unseen domain never touches the network: it either reports a
failed RDAP lookup at once or raises, which is the internal-error path. Every
check request must get the contract response or ``invalid_request``; every
authorizer event a well-formed REST API policy or HTTP API simple response.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from aws_support import save_state, stack_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from domain_guard.config import Settings
from domain_guard.dates import parse_rdap_date
from domain_guard.errors import InvalidRequestError
from domain_guard.handlers import reset_clients
from domain_guard.handlers.authorizer import address_from_event, authorize
from domain_guard.handlers.check import check, parse_request
from domain_guard.models import DnsResult, Observation, RdapOutcome, RdapResult, Verdict
from domain_guard.store import DomainStore
from domain_guard_local.stack import LocalStack, deploy_stack

settings.register_profile(
    "domain-guard-check-fuzz",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PROFILE = settings.get_profile("domain-guard-check-fuzz")

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
STORED_DOMAIN = "stored-domain.com"
METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/POST/reset"
CONTRACT_KEYS = frozenset(
    {
        "allow",
        "verdict",
        "domain",
        "reasons",
        "expires_at",
        "registered_at",
        "checked_at",
        "stale",
    }
)
VERDICT_NAMES = frozenset(verdict.value for verdict in Verdict)
ADDRESS_HEADERS = ("X-Reset-Email", "x-reset-email", "X-RESET-EMAIL", "X-Reset-Emai")


class FailedLookup:
    """A Lookup that reports a failed RDAP lookup at once and sends nothing."""

    def server_for(self, domain: str) -> str | None:
        return None

    def observe(
        self, domain: str, now: datetime, *, query_rdap: bool = True
    ) -> Observation:
        rdap = RdapResult(
            outcome=RdapOutcome.FAILED, error="lookup disabled in this test"
        )
        return Observation(domain=domain, observed_at=now, rdap=rdap, dns=DnsResult())

    def close(self) -> None:
        return None


def failed_lookup(settings: Settings, store: DomainStore) -> Any:
    return FailedLookup()


def broken_lookup(settings: Settings, store: DomainStore) -> Any:
    raise RuntimeError("lookup factory failed on purpose")


LOOKUP_FACTORIES = {"failed": failed_lookup, "broken": broken_lookup}


# --------------------------------------------------------------- strategies

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=15,
)
domain_parts = st.sampled_from(
    [
        "example.com",
        "EXAMPLE.COM.",
        STORED_DOMAIN,
        "mail.example.co.uk",
        "com",
        "co.uk",
        "github.io",
        "user.github.io",
        "b\u00fccher.de",
        "xn--bcher-kva.de",
        "\u4f8b\u3048.jp",
        "xn--zz.com",
        "[127.0.0.1]",
        "127.0.0.1",
        "[IPv6:::1]",
        "::1",
        "0x7f.1",
        "localhost",
        "a..b",
        "...",
        "example.com\u3002",
        "example.com..",
        "\u200b.com",
        "e\u0301xample.com",
        "ex ample.com",
        "example.com\n",
        "example.com\x00",
        "x" * 64 + ".com",
        ".".join(["a"] * 130),
    ]
)
labels = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]),
    min_size=1,
    max_size=12,
)
generated_hosts = st.lists(labels, min_size=1, max_size=4).map(".".join)
local_parts = st.sampled_from(["alice", "a", "", "a.b+tag", '"quoted@local"']) | labels


@st.composite
def addresses(draw: st.DrawFn) -> str:
    """Build an address-like string: zero to three '@', odd hosts and local parts."""
    host = draw(domain_parts | generated_hosts)
    at_signs = draw(st.integers(0, 3))
    local = "@".join(draw(local_parts) for _ in range(max(at_signs, 1)))
    return f"{local}@{host}" if at_signs else f"{local}{host}"


ldh_labels = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
# Addresses a reset flow would really send, so that many requests get past
# the input checks to the stored state and the on-demand lookup.
plausible_hosts = st.sampled_from(
    [
        STORED_DOMAIN,
        "mail." + STORED_DOMAIN,
        STORED_DOMAIN.upper() + ".",
        "mail.example.co.uk",
        "user.github.io",
        "b\u00fccher.de",
        "\u4f8b\u3048.jp",
    ]
) | st.builds(
    "{}.{}".format, ldh_labels, st.sampled_from(["com", "org", "co.uk", "de", "io"])
)
plausible_addresses = st.builds(
    "{}@{}".format,
    st.sampled_from(["alice", "bob.smith", "x+tag", "\u00e9lodie"]),
    plausible_hosts,
)
control_text = st.text(
    alphabet=st.characters(min_codepoint=0, max_codepoint=0x1F) | st.sampled_from("@."),
    max_size=20,
)
field_values = (
    plausible_addresses
    | addresses()
    | domain_parts
    | generated_hosts
    | control_text
    | st.text(min_size=300, max_size=2000)
    | st.just("alice@" + "a" * 600 + ".com")
    | json_values
)
time_values = (
    st.sampled_from(
        [
            "2024-05-01T10:00:00Z",
            "2030-05-01t10:00:00z",
            "2024-05-01",
            "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59-01:00",
            "yesterday",
            "",
        ]
    )
    | json_values
)
check_events = (
    json_values
    | st.fixed_dictionaries(
        {},
        optional={
            "email": field_values,
            "domain": field_values,
            "verified_at": time_values,
            "extra": json_values,
        },
    )
    | st.fixed_dictionaries(
        {"email": plausible_addresses | addresses()},
        optional={"verified_at": time_values},
    )
    | st.fixed_dictionaries({"domain": plausible_hosts})
)

header_maps = (
    st.dictionaries(
        st.sampled_from(ADDRESS_HEADERS) | st.text(max_size=12),
        field_values,
        max_size=3,
    )
    | json_values
)
query_maps = st.none() | st.fixed_dictionaries({"email": field_values}) | json_values
method_arns = (
    st.sampled_from(
        [
            METHOD_ARN,
            "arn:aws:execute-api:us-east-1:123456789012:abc123",
            "arn:aws:execute-api:us-east-1:123456789012:abc123/*/*",
            "not-an-arn",
        ]
    )
    | json_values
)
rest_events = st.fixed_dictionaries(
    {"type": st.just("REQUEST"), "methodArn": method_arns},
    optional={
        "headers": header_maps,
        "queryStringParameters": query_maps,
        "multiValueHeaders": json_values,
        "httpMethod": st.sampled_from(["POST", "GET"]),
        "requestContext": json_values,
    },
)
http_events = st.fixed_dictionaries(
    {"version": st.just("2.0"), "type": st.just("REQUEST"), "routeArn": method_arns},
    optional={
        "headers": header_maps,
        "queryStringParameters": query_maps,
        "identitySource": st.lists(field_values, max_size=2),
        "rawQueryString": st.text(max_size=30),
    },
)
authorizer_events = rest_events | http_events | json_values


# --------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def fuzz_stack() -> Iterator[LocalStack]:
    with mock_aws():
        reset_clients()
        stack = deploy_stack()
        store = DomainStore(boto3.client("dynamodb"), stack.table_name)
        save_state(store, STORED_DOMAIN, at=NOW)
        yield stack
    reset_clients()


@pytest.fixture(scope="module")
def fuzz_store(fuzz_stack: LocalStack) -> DomainStore:
    return DomainStore(boto3.client("dynamodb"), fuzz_stack.table_name)


@pytest.fixture(scope="module")
def check_settings(fuzz_stack: LocalStack) -> Settings:
    return stack_settings(fuzz_stack, "CheckFunction")


@pytest.fixture(scope="module")
def authorizer_settings(fuzz_stack: LocalStack) -> Settings:
    return stack_settings(fuzz_stack, "AuthorizerFunction")


# --------------------------------------------------------------- checks


def assert_time_field(value: object) -> None:
    assert value is None or (
        isinstance(value, str) and parse_rdap_date(value) is not None
    ), value


def assert_check_contract(response: object) -> None:
    """Assert the contract response or invalid_request, and nothing else."""
    assert isinstance(response, dict), response
    if "error" in response:
        assert set(response) == {"error", "message"}, response
        assert response["error"] == "invalid_request"
        assert isinstance(response["message"], str)
        assert response["message"], "empty message"
        return
    assert set(response) == CONTRACT_KEYS, response
    assert type(response["allow"]) is bool
    assert response["verdict"] in VERDICT_NAMES
    assert isinstance(response["domain"], str)
    assert response["domain"], "empty domain"
    assert isinstance(response["reasons"], list)
    assert all(isinstance(reason, str) for reason in response["reasons"])
    assert_time_field(response["expires_at"])
    assert_time_field(response["registered_at"])
    assert_time_field(response["checked_at"])
    assert type(response["stale"]) is bool


def assert_context(context: object) -> None:
    # Context values must be strings, numbers or booleans (API Gateway developer
    # guide, "Output from an API Gateway Lambda authorizer").
    assert isinstance(context, dict), context
    for key, value in context.items():
        assert isinstance(key, str)
        assert isinstance(value, str | int | float | bool), (key, value)


def assert_rest_policy(response: dict[str, Any], event: object, ttl: int) -> None:
    assert set(response) == {"principalId", "policyDocument", "context"}, response
    assert isinstance(response["principalId"], str)
    assert response["principalId"], "empty principalId"
    document = response["policyDocument"]
    assert document["Version"] == "2012-10-17"
    statements = document["Statement"]
    assert isinstance(statements, list)
    assert len(statements) == 1
    statement = statements[0]
    assert statement["Action"] == "execute-api:Invoke"
    assert statement["Effect"] in ("Allow", "Deny")
    assert isinstance(statement["Resource"], str)
    if statement["Effect"] == "Allow":
        method_arn = event.get("methodArn") if isinstance(event, Mapping) else None
        assert isinstance(method_arn, str), "allowed without a methodArn"
        assert method_arn.startswith("arn:")
        if ttl == 0:
            assert statement["Resource"] == method_arn
        else:
            assert statement["Resource"].split("/", 1)[0] == method_arn.split("/")[0]
    assert_context(response["context"])


def assert_simple_response(response: dict[str, Any]) -> None:
    assert set(response) == {"isAuthorized", "context"}, response
    assert type(response["isAuthorized"]) is bool
    assert_context(response["context"])


def address_is_valid(event: object) -> bool:
    try:
        parse_request({"email": address_from_event(event)})
    except InvalidRequestError:
        return False
    return True


def is_allowed(response: dict[str, Any]) -> bool:
    if "isAuthorized" in response:
        return bool(response["isAuthorized"])
    return bool(response["policyDocument"]["Statement"][0]["Effect"] == "Allow")


# --------------------------------------------------------------- tests


@settings(PROFILE, max_examples=250)
@given(
    event=check_events,
    factory=st.sampled_from(sorted(LOOKUP_FACTORIES)),
    fail_closed=st.booleans(),
    allow_unknown=st.booleans(),
)
def test_check_fuzz_contract(
    event: Any,
    factory: str,
    fail_closed: bool,
    allow_unknown: bool,
    fuzz_store: DomainStore,
    check_settings: Settings,
) -> None:
    configured = dataclasses.replace(
        check_settings, fail_closed=fail_closed, allow_unknown=allow_unknown
    )
    response = check(
        event,
        store=fuzz_store,
        settings=configured,
        now=NOW,
        lookup_factory=LOOKUP_FACTORIES[factory],
    )
    assert_check_contract(response)


@settings(PROFILE, max_examples=200)
@given(
    event=authorizer_events,
    factory=st.sampled_from(sorted(LOOKUP_FACTORIES)),
    ttl=st.sampled_from([0, 300]),
    fail_closed=st.booleans(),
)
def test_authorizer_fuzz_shape(
    event: Any,
    factory: str,
    ttl: int,
    fail_closed: bool,
    fuzz_store: DomainStore,
    authorizer_settings: Settings,
) -> None:
    configured = dataclasses.replace(
        authorizer_settings, authorizer_ttl_seconds=ttl, fail_closed=fail_closed
    )
    response = authorize(
        event,
        store=fuzz_store,
        settings=configured,
        now=NOW,
        lookup_factory=LOOKUP_FACTORIES[factory],
    )
    assert isinstance(response, dict), response
    if isinstance(event, Mapping) and event.get("version") == "2.0":
        assert_simple_response(response)
    else:
        assert_rest_policy(response, event, ttl)
    if not address_is_valid(event):
        assert not is_allowed(response), "an invalid address was allowed"


@pytest.mark.parametrize(
    "event",
    [
        {"email": "alice@example.com\u3002"},
        {"email": "alice@example.com\uff0e"},
        {"email": "alice@example.com.."},
        {"domain": "example.com\uff61"},
        {"domain": "example.com.."},
    ],
    ids=["ideographic-dot", "fullwidth-dot", "double-dot", "halfwidth-dot", "domain"],
)
def test_check_trailing_dots_domain(
    event: dict[str, str], fuzz_store: DomainStore, check_settings: Settings
) -> None:
    # UTS 46 maps these dots to ".", so the name ends in a dot once mapped.
    # The check must decide example.com or reject the request, never decide
    # a name with an empty label such as ".com".
    response = check(
        event,
        store=fuzz_store,
        settings=check_settings,
        now=NOW,
        lookup_factory=failed_lookup,
    )
    assert response.get("error") == "invalid_request" or (
        response.get("domain") == "example.com"
    ), response
