"""enroll: the account service records a verified address's domain and baseline.

Invoked directly with ``{"email": ..., "subscribe": true}`` when an address is
verified. A fresh lookup runs at that moment. The first enrollment of a domain
stores its baseline (registration date, registrar), and a later
re-registration or change of owner is detected against it. Later enrollments keep that
first baseline, because resetting it would hide a change from older accounts.

With ``subscribe`` the address becomes an owner contact: stored apart from the
domain state and subscribed to OwnerWarnings by email with a filter policy on
its domain. ``{"email": ..., "action": "unsubscribe"}`` removes both.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from ..config import Settings
from ..errors import InvalidDomainError, InvalidRequestError, StaleWriteError
from ..facts import enroll_baseline, merge_observation
from ..models import DomainFacts, Observation
from ..names import DomainName, domain_from_email, registrable_domain
from ..response import format_time, invalid_request
from ..schedule import due_shard, plan_checks
from ..store import DomainStore, StoredFacts, mask_email
from ..verdict import decide
from . import aws_client, build_lookup_for, current_settings, utc_now

if TYPE_CHECKING:
    from mypy_boto3_sns.client import SNSClient

    from ..lookup import Lookup

logger = Logger(service="domain-guard")

WRITE_ATTEMPTS = 3
MAX_FIELD_LENGTH = 512


def handler(event: Any, context: Any) -> dict[str, Any]:
    settings = current_settings()
    store = DomainStore(aws_client("dynamodb"), settings.table_name)
    lookup = build_lookup_for(settings, store)
    try:
        return enroll(
            event,
            store=store,
            lookup=lookup,
            sns=aws_client("sns"),
            settings=settings,
            now=utc_now(),
        )
    finally:
        lookup.close()


def enroll(
    event: Any,
    *,
    store: DomainStore,
    lookup: Lookup,
    sns: SNSClient | None,
    settings: Settings,
    now: datetime,
) -> dict[str, Any]:
    """Handle one enroll or unsubscribe request; return what was recorded."""
    try:
        email, name, action, subscribe = _parse(event)
    except InvalidRequestError as exc:
        logger.info("enroll rejected", extra={"error": type(exc).__name__})
        return invalid_request(str(exc))
    domain = name.domain
    if action == "unsubscribe":
        return _unsubscribe(domain, email, store=store, sns=sns)

    observation = lookup.observe(domain, now)
    stored = _write_with_retry(
        domain,
        lambda previous: _baseline(previous, observation, now),
        store,
        settings,
        now,
    )
    facts = stored.facts
    decision = decide(facts, now, verified_at=now, policy=settings.policy())
    subscribed = False
    if subscribe and email is not None:
        subscribed = _subscribe(
            domain, email, store=store, sns=sns, settings=settings, now=now
        )
    logger.info(
        "domain enrolled",
        extra={"domain": domain, "verdict": decision.verdict, "subscribed": subscribed},
    )
    return {
        "domain": domain,
        "enrolled_at": format_time(facts.enrolled_at),
        "baseline_registered_at": format_time(facts.baseline_registered_at),
        "baseline_registrar": facts.baseline_registrar,
        "verdict": decision.verdict.value,
        "allow": decision.allow,
        "reasons": [*name.reasons, *decision.reasons],
        "subscribed": subscribed,
    }


def _parse(event: Any) -> tuple[str | None, DomainName, str, bool]:
    if not isinstance(event, Mapping):
        raise InvalidRequestError("the request must be a JSON object")
    email = event.get("email")
    domain = event.get("domain")
    action = event.get("action", "enroll")
    subscribe = event.get("subscribe", False)
    if action not in ("enroll", "unsubscribe"):
        raise InvalidRequestError("'action' must be 'enroll' or 'unsubscribe'")
    if not isinstance(subscribe, bool):
        raise InvalidRequestError("'subscribe' must be true or false")
    for field_name, value in (("email", email), ("domain", domain)):
        if value is not None and (
            not isinstance(value, str) or len(value) > MAX_FIELD_LENGTH
        ):
            raise InvalidRequestError(
                f"'{field_name}' must be a string of at most {MAX_FIELD_LENGTH} "
                "characters"
            )
    try:
        if isinstance(email, str):
            name = domain_from_email(email)
        elif isinstance(domain, str):
            name = registrable_domain(domain)
        else:
            raise InvalidRequestError(
                "the request needs an 'email' or a 'domain' field"
            )
    except InvalidDomainError as exc:
        raise InvalidRequestError(str(exc)) from exc
    if (subscribe or action == "unsubscribe") and not isinstance(email, str):
        raise InvalidRequestError("subscribing or unsubscribing needs an 'email' field")
    return (email if isinstance(email, str) else None), name, action, subscribe


def _baseline(
    previous: StoredFacts | None, observation: Observation, now: datetime
) -> DomainFacts:
    merged = merge_observation(previous.facts if previous else None, observation)
    if merged.enrolled_at is None:
        merged = enroll_baseline(merged, at=now)
    return merged


def _write_with_retry(
    domain: str,
    build: Callable[[StoredFacts | None], DomainFacts],
    store: DomainStore,
    settings: Settings,
    now: datetime,
) -> StoredFacts:
    for attempt in range(1, WRITE_ATTEMPTS + 1):
        previous = store.get_facts(domain, consistent=True)
        facts = build(previous)
        verdict = decide(facts, now, policy=settings.policy()).verdict
        plan = plan_checks(facts, verdict, now, warning_days=settings.warning_days)
        try:
            return store.put_facts(
                facts,
                previous=previous,
                shard=due_shard(domain, settings.due_shards),
                next_check_at=plan.next_check_at,
                next_rdap_at=plan.next_rdap_at,
            )
        except StaleWriteError:
            if attempt == WRITE_ATTEMPTS:
                raise
            logger.info(
                "state changed meanwhile, merging again", extra={"domain": domain}
            )
    raise AssertionError("unreachable")


def _subscribe(
    domain: str,
    email: str,
    *,
    store: DomainStore,
    sns: SNSClient | None,
    settings: Settings,
    now: datetime,
) -> bool:
    """Store the contact and subscribe it; True when SNS accepted the subscription."""
    subscription_arn = None
    topic = settings.owner_topic_arn
    if sns is not None and topic is not None:
        try:
            response = sns.subscribe(
                TopicArn=topic,
                Protocol="email",
                Endpoint=email,
                Attributes={
                    "FilterPolicy": json.dumps({"domain": [domain]}),
                    "FilterPolicyScope": "MessageAttributes",
                },
                ReturnSubscriptionArn=True,
            )
            subscription_arn = response.get("SubscriptionArn")
        except (ClientError, BotoCoreError) as exc:
            # The contact is still stored, so the SES mailer path can reach it.
            logger.warning(
                "owner subscription failed",
                extra={
                    "domain": domain,
                    "contact": mask_email(email),
                    "error": str(exc),
                },
            )
    store.put_contact(domain, email, now=now, subscription_arn=subscription_arn)
    logger.info(
        "owner contact stored", extra={"domain": domain, "contact": mask_email(email)}
    )
    return subscription_arn is not None


def _unsubscribe(
    domain: str, email: str | None, *, store: DomainStore, sns: SNSClient | None
) -> dict[str, Any]:
    removed = store.delete_contact(domain, email or "")
    arn = removed.subscription_arn if removed else None
    # An email subscription not yet confirmed has no ARN to unsubscribe.
    if sns is not None and arn and arn.startswith("arn:"):
        try:
            sns.unsubscribe(SubscriptionArn=arn)
        except (ClientError, BotoCoreError) as exc:
            logger.warning(
                "unsubscribe failed", extra={"domain": domain, "error": str(exc)}
            )
    logger.info(
        "owner contact removed", extra={"domain": domain, "found": removed is not None}
    )
    return {"domain": domain, "contact_removed": removed is not None}
