"""Property tests: hostile RDAP bodies through the parser, the merge and the verdict.

Bodies are generated from scratch or mutated from real responses (the shared
samples folder, when present) and the project's fixtures: members of the wrong
type, dropped and duplicated keys, deep nesting, huge arrays and odd dates. The
properties: only RdapBodyError leaves ``parse_domain``, nothing leaves
parse -> merge_observation -> decide, and a body without a readable expiry is
never ``active`` or ``expiring``.

Every test runs under one registered profile: derandomized and without an
example database, so CI runs the same examples every time.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import samples_dir
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain_guard.dates import parse_rdap_date
from domain_guard.errors import RdapBodyError
from domain_guard.facts import merge_observation
from domain_guard.models import (
    Decision,
    DnsOutcome,
    DnsResult,
    DomainFacts,
    Observation,
    Policy,
    RdapOutcome,
    RdapRecord,
    RdapResult,
    Verdict,
)
from domain_guard.rdap import event_kind, parse_domain
from domain_guard.rdap_client import json_depth_exceeds
from domain_guard.verdict import decide
from domain_guard_local.rdap_server import domain_body

settings.register_profile(
    "domain-guard-properties",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=False,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
PROFILE = settings.get_profile("domain-guard-properties")

FIXTURES = Path(__file__).parent / "fixtures" / "rdap"
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
ALLOWING_DATE_VERDICTS = frozenset({Verdict.ACTIVE, Verdict.EXPIRING})

# Members of RDAP domain, entity and event objects (RFC 9083 sections 4 and 5),
# the ones the parser reads and a few it does not.
RDAP_MEMBERS = (
    "objectClassName",
    "ldhName",
    "unicodeName",
    "handle",
    "status",
    "events",
    "entities",
    "nameservers",
    "links",
    "redacted",
    "errorCode",
    "title",
    "roles",
    "vcardArray",
    "publicIds",
    "eventAction",
    "eventDate",
    "rel",
    "href",
    "type",
    "remarks",
    "notices",
    "port43",
)
ARRAY_MEMBERS = (
    "status",
    "events",
    "entities",
    "nameservers",
    "links",
    "redacted",
    "remarks",
    "notices",
    "publicIds",
)
EVENT_ACTIONS = (
    "expiration",
    "Record expires",
    "soft expiration",
    "registrar expiration",
    "registration",
    "reregistration",
    "last changed",
    "transfer",
    "deletion",
    "last update of RDAP database",
)
# Dates that no lenient reader should accept.
UNREADABLE_DATES = (
    "",
    " ",
    "next Tuesday",
    "2024-02-30T00:00:00Z",
    "2024-13-01T00:00:00Z",
    "0000-01-01T00:00:00Z",
    "2024-01-01T24:00:00Z",
    "2024-01-01T00:00:00+25:00",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "2024-001",
    "\u0662\u0660\u0662\u0664-01-01",
    "2024-01-01T00:00:00Z\x00",
    "REDACTED FOR PRIVACY",
    "9" * 10_000,
)


def _load_seeds() -> list[Any]:
    """Read every JSON document of the fixtures and, when present, the samples."""
    paths = sorted(FIXTURES.glob("*.json"))
    samples = samples_dir()
    if samples.is_dir():
        paths += sorted(
            path for path in samples.rglob("*.json") if path.parent.name != "bootstrap"
        )
    seeds = []
    for path in paths:
        try:
            seeds.append(json.loads(path.read_text(encoding="utf-8")))
        except ValueError:
            continue
    return seeds


SEEDS = _load_seeds()


# --------------------------------------------------------------- strategies

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=6)
        | st.dictionaries(st.text(max_size=12), children, max_size=6)
    ),
    max_leaves=30,
)
# Dictionaries that look like RDAP objects, so the parser goes past its
# first checks more often than with random keys.
rdap_like = st.fixed_dictionaries(
    {},
    optional={member: json_values for member in RDAP_MEMBERS}
    | {
        "objectClassName": st.sampled_from(["domain", "Domain", "entity", ""])
        | json_values,
        "ldhName": st.sampled_from(["example.com", "EXAMPLE.COM.", "ex\u00e4mple.de"])
        | json_values,
    },
)


@st.composite
def date_texts(draw: st.DrawFn) -> str:
    """Build RFC 3339 look-alikes from parts, many of them out of range."""
    year = draw(st.integers(0, 10_000))
    month = draw(st.integers(0, 13))
    day = draw(st.integers(0, 32))
    text = f"{year:04d}-{month:02d}-{day:02d}"
    if draw(st.booleans()):
        hour = draw(st.integers(0, 25))
        minute = draw(st.integers(0, 61))
        separator = draw(st.sampled_from(["T", "t", " ", "_"]))
        text += f"{separator}{hour:02d}:{minute:02d}:00"
        digits = draw(st.integers(0, 12))
        if digits:
            text += "." + "7" * digits
        text += draw(
            st.sampled_from(
                ["Z", "z", "", "+00:00", "-0530", "+14:00", "+24:00", " UTC"]
            )
        )
    return text


odd_dates = (
    st.sampled_from(UNREADABLE_DATES) | date_texts() | json_scalars | json_values
)
unreadable_dates = (
    st.sampled_from(UNREADABLE_DATES)
    | json_values.filter(lambda value: not isinstance(value, str))
    | date_texts().filter(lambda text: parse_rdap_date(text) is None)
)


def _pick_slot(draw: st.DrawFn, body: Any) -> tuple[Any, Any] | None:
    """Walk a few levels down ``body`` and return a (container, key) to change."""
    container = body
    for _ in range(8):
        if isinstance(container, dict) and container:
            key = draw(st.sampled_from(sorted(container)))
        elif isinstance(container, list) and container:
            key = draw(st.integers(0, len(container) - 1))
        else:
            return None
        child = container[key]
        if not isinstance(child, dict | list) or not child or draw(st.booleans()):
            return container, key
        container = child
    return None


def _replace_value(draw: st.DrawFn, body: Any) -> Any:
    slot = _pick_slot(draw, body)
    if slot is None:
        return draw(json_values)
    container, key = slot
    container[key] = draw(json_values)
    return body


def _drop_key(draw: st.DrawFn, body: Any) -> Any:
    slot = _pick_slot(draw, body)
    if slot is not None and isinstance(slot[0], dict):
        del slot[0][slot[1]]
    return body


def _duplicate_key(draw: st.DrawFn, body: Any) -> Any:
    """Repeat a member at the end of the JSON text, as json.loads then keeps it."""
    if not isinstance(body, dict):
        return body
    member = draw(st.sampled_from(RDAP_MEMBERS))
    text = json.dumps(body)
    extra = f"{json.dumps(member)}: {json.dumps(draw(json_values))}"
    joined = f"{text[:-1]}, {extra}}}" if body else f"{{{extra}}}"
    return json.loads(joined)


def _swap_member_type(draw: st.DrawFn, body: Any) -> Any:
    if isinstance(body, dict):
        body[draw(st.sampled_from(RDAP_MEMBERS))] = draw(json_values)
    return body


def _odd_event(draw: st.DrawFn, body: Any) -> Any:
    if not isinstance(body, dict):
        return body
    events = body.get("events")
    if not isinstance(events, list):
        events = body["events"] = []
    event = {
        "eventAction": draw(st.sampled_from(EVENT_ACTIONS) | json_scalars),
        "eventDate": draw(odd_dates),
    }
    events.insert(draw(st.integers(0, len(events))), event)
    return body


MUTATIONS = (_replace_value, _drop_key, _duplicate_key, _swap_member_type, _odd_event)


def _huge_array(draw: st.DrawFn, body: Any) -> Any:
    if not isinstance(body, dict):
        return body
    member = draw(st.sampled_from(ARRAY_MEMBERS))
    item = draw(json_values)
    body[member] = [item] * draw(st.integers(1_000, 200_000))
    return body


def _deep_nesting(draw: st.DrawFn, body: Any) -> Any:
    """Put arrays and objects nested up to 50,000 levels deep into one member."""
    depth = draw(st.integers(1, 50_000))
    nested: Any = draw(json_scalars)
    for level in range(depth):
        nested = [nested] if level % 2 else {"a": nested}
    if isinstance(body, dict):
        body[draw(st.sampled_from(RDAP_MEMBERS))] = nested
        return body
    return nested


@st.composite
def mutated_bodies(draw: st.DrawFn) -> Any:
    """A real or fixture body with one to four mutations, maybe huge or deep."""
    body = copy.deepcopy(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        body = draw(st.sampled_from(MUTATIONS))(draw, body)
    if draw(st.integers(0, 9)) == 0:
        body = _huge_array(draw, body)
    # Last, because nothing after it may walk the body recursively.
    if draw(st.integers(0, 9)) == 0:
        body = _deep_nesting(draw, body)
    return body


def scrub_expiry(draw: st.DrawFn, body: Any) -> Any:
    """Make every expiration event's date unreadable, whatever else the body has."""
    if isinstance(body, dict) and isinstance(body.get("events"), list):
        for event in body["events"]:
            if not isinstance(event, dict):
                continue
            action = event.get("eventAction")
            if isinstance(action, str) and event_kind(action) == "expiration":
                event["eventDate"] = draw(unreadable_dates)
    return body


dns_results = st.builds(
    DnsResult,
    outcome=st.sampled_from(list(DnsOutcome)),
    nameservers=st.lists(
        st.sampled_from(["ns1.example.net", "ns.example.co.uk", "", "com", "a..b"])
        | st.text(max_size=20),
        max_size=3,
    ).map(tuple),
    mx=st.lists(st.text(max_size=20), max_size=2).map(tuple),
)
policies = st.builds(
    Policy,
    warning_days=st.integers(1, 365),
    allow_unknown=st.booleans(),
    max_age_hours=st.floats(0.1, 1000.0),
)
verified_times = st.none() | st.datetimes(
    min_value=datetime(1990, 1, 1),
    max_value=datetime(2040, 1, 1),
    timezones=st.just(UTC),
)


# --------------------------------------------------------------- helpers


def parse_or_failure(body: Any) -> RdapResult:
    """Return what the RDAP client would: FOUND with the record, or FAILED."""
    try:
        record = parse_domain(body)
    except RdapBodyError as exc:
        return RdapResult(
            outcome=RdapOutcome.FAILED, error=str(exc), server="rdap.test"
        )
    return RdapResult(outcome=RdapOutcome.FOUND, record=record, server="rdap.test")


def observe(domain: str, rdap: RdapResult, dns: DnsResult, at: datetime) -> Observation:
    return Observation(domain=domain, observed_at=at, rdap=rdap, dns=dns)


def assert_well_formed(decision: Decision) -> None:
    assert isinstance(decision.verdict, Verdict)
    assert isinstance(decision.allow, bool)
    assert decision.reasons, "a decision without a reason"
    assert all(isinstance(reason, str) for reason in decision.reasons)


def assert_record_types(record: RdapRecord) -> None:
    assert isinstance(record.domain, str)
    assert all(isinstance(status, str) for status in record.statuses)
    assert all(isinstance(name, str) for name in record.nameservers)
    for when in (
        record.expires_at,
        record.registered_at,
        record.last_changed_at,
        record.transferred_at,
        record.registrar_expires_at,
    ):
        assert when is None or when.utcoffset() == timedelta(0)


def nesting_depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((nesting_depth(item) for item in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((nesting_depth(item) for item in value), default=0)
    return 0


# --------------------------------------------------------------- the parser


def test_seeds_loaded() -> None:
    assert len(SEEDS) >= len(list(FIXTURES.glob("*.json")))


def test_seeds_include_real_samples(rdap_samples: Path) -> None:
    fixture_count = len(list(FIXTURES.glob("*.json")))
    assert len(SEEDS) > fixture_count, f"no sample read from {rdap_samples}"


@settings(PROFILE, max_examples=300)
@given(json_values | rdap_like)
def test_parse_domain_generated_bodies(body: Any) -> None:
    try:
        record = parse_domain(body)
    except RdapBodyError:
        return
    assert_record_types(record)


@settings(PROFILE, max_examples=250)
@given(mutated_bodies())
def test_parse_domain_mutated_bodies(body: Any) -> None:
    try:
        record = parse_domain(body)
    except RdapBodyError:
        return
    assert_record_types(record)


@pytest.mark.parametrize("depth", [1_000, 100_000, 1_000_000])
def test_parse_domain_deep_member(depth: int) -> None:
    nested: Any = []
    for _ in range(depth):
        nested = [nested]
    body = domain_body("deep.example", now=NOW)
    body["status"] = nested
    body["events"] = [{"eventAction": "expiration", "eventDate": nested}]
    record = parse_domain(body)
    assert record.domain == "deep.example"
    assert record.expires_at is None


# Run in a fresh interpreter: the parser's tables of learned status and event
# forms stop growing once full, so tables filled by earlier tests would hide
# what this measures.
RETENTION_SCRIPT = """
import gc, json, sys, tracemalloc
from domain_guard.rdap import parse_domain
from domain_guard_local.rdap_server import domain_body

parse_domain(domain_body("warm-up.example"))
gc.collect()
tracemalloc.start()
before = tracemalloc.get_traced_memory()[0]
for index in range(8):
    body = domain_body(f"long-text-{index}.example")
    body["status"] = [f"{index}" + "x" * 512 * 1024]
    body["events"] = [
        {"eventAction": f"{index}" + "y" * 512 * 1024, "eventDate": "2030-01-01"}
    ]
    parse_domain(body)
    del body
gc.collect()
print(tracemalloc.get_traced_memory()[0] - before)
"""


def test_parse_domain_keeps_no_body_text() -> None:
    # A warm worker parses bodies from many servers. Text from one body must
    # not stay in memory after it, or hostile servers can fill the container.
    completed = subprocess.run(  # noqa: S603 (this interpreter, a fixed script)
        [sys.executable, "-c", RETENTION_SCRIPT],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    retained = int(completed.stdout.strip())
    # 8 MiB of status and eventAction text went through the parser.
    assert retained < 1024 * 1024, f"{retained} bytes kept after the bodies were freed"


# --------------------------------------------------------------- the path


@settings(PROFILE, max_examples=200)
@given(
    body=mutated_bodies(),
    registrar_body=st.none() | mutated_bodies(),
    previous_body=st.none() | mutated_bodies(),
    dns=dns_results,
    verified_at=verified_times,
    policy=policies,
)
def test_path_mutated_bodies(
    body: Any,
    registrar_body: Any,
    previous_body: Any,
    dns: DnsResult,
    verified_at: datetime | None,
    policy: Policy,
) -> None:
    result = parse_or_failure(body)
    domain = result.record.domain if result.record else "example.com"
    if registrar_body is not None and result.record is not None:
        hop = parse_or_failure(registrar_body)
        result = RdapResult(
            outcome=result.outcome,
            record=result.record,
            registrar_record=hop.record,
            server=result.server,
            error=hop.error,
        )
    previous: DomainFacts | None = None
    if previous_body is not None:
        earlier = observe(
            domain, parse_or_failure(previous_body), dns, NOW - timedelta(days=3)
        )
        previous = merge_observation(None, earlier)
    facts = merge_observation(previous, observe(domain, result, dns, NOW))
    assert_well_formed(decide(facts, NOW, verified_at=verified_at, policy=policy))


@settings(PROFILE, max_examples=200)
@given(body=json_values | rdap_like, dns=dns_results, policy=policies)
def test_path_generated_bodies(body: Any, dns: DnsResult, policy: Policy) -> None:
    result = parse_or_failure(body)
    domain = result.record.domain if result.record else "example.com"
    facts = merge_observation(None, observe(domain, result, dns, NOW))
    assert_well_formed(decide(facts, NOW, policy=policy))


@st.composite
def bodies_without_expiry(draw: st.DrawFn) -> Any:
    return scrub_expiry(draw, draw(mutated_bodies()))


@settings(PROFILE, max_examples=200)
@given(
    body=bodies_without_expiry(),
    registrar_body=st.none() | bodies_without_expiry(),
    dns=dns_results,
    verified_at=verified_times,
    policy=policies,
)
def test_no_expiry_never_allowed_by_date(
    body: Any,
    registrar_body: Any,
    dns: DnsResult,
    verified_at: datetime | None,
    policy: Policy,
) -> None:
    result = parse_or_failure(body)
    if result.record is not None:
        assert result.record.expires_at is None
    if registrar_body is not None and result.record is not None:
        hop = parse_or_failure(registrar_body)
        if hop.record is not None:
            assert hop.record.expires_at is None
        result = RdapResult(
            outcome=result.outcome,
            record=result.record,
            registrar_record=hop.record,
            server=result.server,
        )
    domain = result.record.domain if result.record else "example.com"
    facts = merge_observation(None, observe(domain, result, dns, NOW))
    decision = decide(facts, NOW, verified_at=verified_at, policy=policy)
    assert decision.verdict not in ALLOWING_DATE_VERDICTS


@settings(PROFILE, max_examples=150)
@given(body=bodies_without_expiry(), dns=dns_results, policy=policies)
def test_no_expiry_replaces_earlier_expiry(
    body: Any, dns: DnsResult, policy: Policy
) -> None:
    # An earlier lookup saw an expiry. A later body for the same domain without
    # one must not keep the old date alive.
    result = parse_or_failure(body)
    if result.record is None:
        return
    domain = result.record.domain
    earlier = parse_or_failure(domain_body(domain, now=NOW, expires_in_days=200))
    if earlier.record is None or earlier.record.domain != domain:
        return  # a name domain_body cannot carry, such as one with spaces
    previous = merge_observation(
        None, observe(domain, earlier, dns, NOW - timedelta(days=1))
    )
    facts = merge_observation(previous, observe(domain, result, dns, NOW))
    decision = decide(facts, NOW, policy=policy)
    assert decision.verdict not in ALLOWING_DATE_VERDICTS


# --------------------------------------------------------------- nesting scan

bracket_text = st.text(
    alphabet=st.sampled_from(list('[]{}"\\abc \n\u00e9\U0001f600')), max_size=12
)
bracket_values = st.recursive(
    st.none() | st.integers() | bracket_text,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(bracket_text, children, max_size=4)
    ),
    max_leaves=25,
)


@settings(PROFILE, max_examples=300)
@given(value=bracket_values, ascii_only=st.booleans(), indent=st.none() | st.just(1))
def test_json_depth_exceeds_matches_parsed_depth(
    value: Any, ascii_only: bool, indent: int | None
) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only, indent=indent).encode()
    depth = nesting_depth(value)
    for limit in range(depth + 2):
        assert json_depth_exceeds(text, limit) is (depth > limit)
