"""check: tell the reset flow whether a reset link may go to an address now.

Invoked directly (RequestResponse) with ``{"email": ..., "verified_at": ...}``
or ``{"domain": ...}``. It reads the stored state and applies the verdict at the
current time. A domain never seen before gets one lookup within a short
deadline, stored so the sweep keeps it fresh. Internal errors return the
contract shape with ``unknown``, refused unless the fail-open policy is set.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from ..config import Settings
from ..dates import parse_rdap_date
from ..errors import (
    ConfigError,
    InvalidDomainError,
    InvalidRequestError,
    StaleWriteError,
    StoreError,
)
from ..models import DomainFacts, RdapOutcome, RdapResult, Verdict
from ..names import DomainName, domain_from_email, registrable_domain
from ..response import check_response, invalid_request
from ..schedule import due_shard, plan_checks
from ..store import DomainStore
from ..verdict import decide
from . import aws_client, build_lookup_for, current_settings, utc_now

if TYPE_CHECKING:
    from ..lookup import Lookup

logger = Logger(service="domain-guard")

# Share of the on-demand deadline given to RDAP; DNS gets the rest.
RDAP_SHARE = 0.6
MAX_FIELD_LENGTH = 512

LookupFactory = Callable[[Settings, DomainStore], "Lookup"]


@dataclass(frozen=True, slots=True)
class CheckRequest:
    name: DomainName
    verified_at: datetime | None


def handler(event: Any, context: Any) -> dict[str, Any]:
    try:
        settings = current_settings()
    except ConfigError as exc:
        logger.error("check misconfigured", extra={"error": str(exc)})
        return failure_response(_domain_hint(event), fail_closed=True)
    store = DomainStore(aws_client("dynamodb"), settings.table_name)
    return check(event, store=store, settings=settings, now=utc_now())


def check(
    event: Any,
    *,
    store: DomainStore,
    settings: Settings,
    now: datetime,
    lookup_factory: LookupFactory | None = None,
) -> dict[str, Any]:
    """Return the contract response for one check event."""
    try:
        request = parse_request(event)
    except InvalidRequestError as exc:
        # The message can quote the address, so only its kind is logged.
        logger.info(
            "check rejected", extra={"error": type(exc.__cause__ or exc).__name__}
        )
        return invalid_request(str(exc))
    domain = request.name.domain
    try:
        response = evaluate(
            request,
            store=store,
            settings=settings,
            now=now,
            lookup_factory=lookup_factory,
        )
    except Exception:  # the boundary: any failure becomes the failure policy
        logger.exception("check failed", extra={"domain": domain})
        return failure_response(domain, fail_closed=settings.fail_closed)
    logger.info(
        "check decided",
        extra={
            "domain": domain,
            "verdict": response["verdict"],
            "allow": response["allow"],
        },
    )
    return response


def parse_request(event: Any) -> CheckRequest:
    """Read a check request; raise InvalidRequestError naming the bad field."""
    if not isinstance(event, Mapping):
        raise InvalidRequestError("the request must be a JSON object")
    email = event.get("email")
    domain = event.get("domain")
    if email is None and domain is None:
        raise InvalidRequestError("the request needs an 'email' or a 'domain' field")
    try:
        if email is not None:
            name = domain_from_email(_text_field("email", email))
        else:
            name = registrable_domain(_text_field("domain", domain))
    except InvalidDomainError as exc:
        raise InvalidRequestError(str(exc)) from exc
    verified_at = None
    raw_verified = event.get("verified_at")
    if raw_verified is not None:
        verified_at = parse_rdap_date(_text_field("verified_at", raw_verified))
        if verified_at is None:
            raise InvalidRequestError(
                "'verified_at' is not an RFC 3339 time such as 2024-05-01T10:00:00Z"
            )
    return CheckRequest(name=name, verified_at=verified_at)


def evaluate(
    request: CheckRequest,
    *,
    store: DomainStore,
    settings: Settings,
    now: datetime,
    lookup_factory: LookupFactory | None = None,
) -> dict[str, Any]:
    """Decide a parsed request: the code check and authorizer share."""
    domain = request.name.domain
    stored = store.get_facts(domain)
    facts = stored.facts if stored is not None else None
    if facts is None:
        facts = look_up_unseen(
            domain,
            store=store,
            settings=settings,
            now=now,
            lookup_factory=lookup_factory,
        )
    decision = decide(
        facts, now, verified_at=request.verified_at, policy=settings.policy()
    )
    return check_response(domain, facts, decision, extra_reasons=request.name.reasons)


def look_up_unseen(
    domain: str,
    *,
    store: DomainStore,
    settings: Settings,
    now: datetime,
    lookup_factory: LookupFactory | None = None,
) -> DomainFacts:
    """Look a domain up once and store it, so later checks and sweeps know it."""
    from ..facts import merge_observation

    factory = lookup_factory or _default_lookup
    lookup = factory(settings, store)
    try:
        busy = _pacing_wait(lookup, domain, store, settings)
        if busy is None:
            observation = lookup.observe(domain, now)
        else:
            # Anyone who can call the check (or the authorizer) chooses the
            # domain, so on-demand lookups share the sweep's per-server pace.
            observation = dataclasses.replace(
                lookup.observe(domain, now, query_rdap=False),
                rdap=RdapResult(outcome=RdapOutcome.FAILED, error=busy),
            )
    finally:
        lookup.close()
    facts = merge_observation(None, observation)
    if facts.rdap_outcome is not RdapOutcome.FOUND:
        # Only registered domains are kept, so requests for made-up names
        # cannot fill the table and the sweep with unused domains.
        logger.info(
            "unseen domain looked up, not stored",
            extra={"domain": domain, "rdap": facts.rdap_outcome},
        )
        return facts
    verdict = decide(facts, now, policy=settings.policy()).verdict
    plan = plan_checks(facts, verdict, now, warning_days=settings.warning_days)
    try:
        store.put_facts(
            facts,
            previous=None,
            shard=due_shard(domain, settings.due_shards),
            next_check_at=plan.next_check_at,
            next_rdap_at=plan.next_rdap_at,
        )
    except StaleWriteError:
        logger.info("unseen domain stored meanwhile", extra={"domain": domain})
    except StoreError as exc:
        # The response is still valid without the write; the next check of
        # this domain looks it up again.
        logger.warning(
            "unseen domain not stored", extra={"domain": domain, "error": str(exc)}
        )
    logger.info("unseen domain looked up", extra={"domain": domain})
    return facts


def _pacing_wait(
    lookup: Lookup, domain: str, store: DomainStore, settings: Settings
) -> str | None:
    """Take a pacing token for the domain's RDAP server; return why not, or None."""
    from ..pacing import ServerPacer

    server = lookup.server_for(domain)
    if server is None:
        return None
    pacer = ServerPacer(
        store.client,
        settings.table_name,
        rate=settings.rdap_rate_per_second,
        burst=settings.rdap_burst,
    )
    try:
        wait = pacer.acquire(server)
    except StoreError as exc:
        # The lookup is still worth making: the pace protects the registry,
        # and one unpaced query is better than no response.
        logger.warning(
            "pacing unavailable", extra={"server": server, "error": str(exc)}
        )
        return None
    if wait <= 0:
        return None
    logger.info("RDAP server busy, on-demand lookup skipped", extra={"server": server})
    return f"RDAP server {server} is at its pacing limit for {wait:.1f} s more"


def failure_response(domain: str | None, *, fail_closed: bool) -> dict[str, Any]:
    """Return the contract shape for a check that could not complete."""
    policy = "fail-closed" if fail_closed else "fail-open"
    return {
        "allow": not fail_closed,
        "verdict": Verdict.UNKNOWN.value,
        "domain": domain,
        "reasons": [f"internal error: the check could not complete ({policy} policy)"],
        "expires_at": None,
        "registered_at": None,
        "checked_at": None,
        "stale": False,
    }


def _default_lookup(settings: Settings, store: DomainStore) -> Lookup:
    deadline = settings.check_lookup_deadline
    return build_lookup_for(
        settings,
        store,
        rdap_deadline=deadline * RDAP_SHARE,
        dns_deadline=deadline * (1 - RDAP_SHARE),
    )


def _text_field(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise InvalidRequestError(f"'{name}' must be a string")
    if len(value) > MAX_FIELD_LENGTH:
        raise InvalidRequestError(
            f"'{name}' is longer than {MAX_FIELD_LENGTH} characters"
        )
    return value


def _domain_hint(event: Any) -> str | None:
    """Return the domain an event names, for a failure response; None if unreadable."""
    try:
        return parse_request(event).name.domain
    except InvalidRequestError:
        return None
