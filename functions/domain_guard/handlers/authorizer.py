"""authorizer: an API Gateway REQUEST authorizer with the check's decision.

API Gateway passes no request body to a REQUEST authorizer, so the address comes
from the ``X-Reset-Email`` header or the ``email`` query parameter. A REST API
event gets an IAM policy document; an HTTP API event with payload format 2.0
gets the simple response ``{"isAuthorized": ...}``. The decision is the check's
own code (``check.evaluate``), so the two can never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger

from ..config import Settings
from ..errors import ConfigError, InvalidRequestError
from ..store import DomainStore
from . import aws_client, current_settings, utc_now
from .check import LookupFactory, evaluate, failure_response, parse_request

logger = Logger(service="domain-guard")

ADDRESS_HEADER = "x-reset-email"
ADDRESS_QUERY = "email"


def handler(event: Any, context: Any) -> dict[str, Any]:
    try:
        settings = current_settings()
    except ConfigError as exc:
        logger.error("authorizer misconfigured", extra={"error": str(exc)})
        return _respond(event, failure_response(None, fail_closed=True), ttl=0)
    store = DomainStore(aws_client("dynamodb"), settings.table_name)
    return authorize(event, store=store, settings=settings, now=utc_now())


def authorize(
    event: Any,
    *,
    store: DomainStore,
    settings: Settings,
    now: datetime,
    lookup_factory: LookupFactory | None = None,
) -> dict[str, Any]:
    """Return the response for one authorizer event, shaped for its API type."""
    try:
        request = parse_request({"email": address_from_event(event)})
    except InvalidRequestError as exc:
        logger.info("authorizer rejected", extra={"error": type(exc).__name__})
        decision: dict[str, Any] = {
            "allow": False,
            "verdict": "invalid_request",
            "domain": None,
            "reasons": [str(exc)],
        }
        return _respond(event, decision, ttl=settings.authorizer_ttl_seconds)
    try:
        decision = evaluate(
            request,
            store=store,
            settings=settings,
            now=now,
            lookup_factory=lookup_factory,
        )
    except Exception:  # the boundary: any failure becomes the failure policy
        logger.exception("authorizer failed", extra={"domain": request.name.domain})
        decision = failure_response(
            request.name.domain, fail_closed=settings.fail_closed
        )
    logger.info(
        "authorizer decided",
        extra={
            "domain": decision["domain"],
            "verdict": decision["verdict"],
            "allow": decision["allow"],
        },
    )
    return _respond(event, decision, ttl=settings.authorizer_ttl_seconds)


class AmbiguousAddressError(InvalidRequestError):
    """The request names two different addresses."""


def address_from_event(event: Any) -> object:
    """Return the address in the header or query string, or None when absent.

    Raises AmbiguousAddressError when the header and the query parameter
    name different addresses: the backend might reset the one that was not
    checked, so such a request is denied.
    """
    if not isinstance(event, Mapping):
        return None
    from_header = None
    headers = event.get("headers")
    if isinstance(headers, Mapping):
        for name, value in headers.items():
            if isinstance(name, str) and name.lower() == ADDRESS_HEADER:
                from_header = value
    from_query = None
    query = event.get("queryStringParameters")
    if isinstance(query, Mapping):
        from_query = query.get(ADDRESS_QUERY)
    both = from_header is not None and from_query is not None
    if both and str(from_header).strip().lower() != str(from_query).strip().lower():
        raise AmbiguousAddressError(
            f"the {ADDRESS_HEADER} header and the {ADDRESS_QUERY} query"
            " parameter name different addresses; send one of them"
        )
    return from_header if from_header is not None else from_query


def _respond(event: Any, decision: Mapping[str, Any], *, ttl: int) -> dict[str, Any]:
    # Authorizer context values must be strings, numbers or booleans.
    context = {
        "verdict": str(decision["verdict"]),
        "domain": str(decision.get("domain") or ""),
        "reasons": "; ".join(str(reason) for reason in decision.get("reasons", [])),
    }
    allow = bool(decision["allow"])
    if isinstance(event, Mapping) and event.get("version") == "2.0":
        return {"isAuthorized": allow, "context": context}
    method_arn = event.get("methodArn") if isinstance(event, Mapping) else None
    resource = _policy_resource(method_arn, ttl)
    if resource is None:
        # Not a REST API event: nothing to allow.
        allow, resource = False, "*"
    return {
        "principalId": context["domain"] or "unknown",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow" if allow else "Deny",
                    "Resource": resource,
                }
            ],
        },
        "context": context,
    }


def _policy_resource(method_arn: object, ttl: int) -> str | None:
    """Return the resource the policy covers.

    With result caching on, API Gateway reuses the policy for every method of
    the stage, so the policy names the whole stage. Without caching it names
    the one method.
    """
    if not isinstance(method_arn, str) or not method_arn.startswith("arn:"):
        return None
    if ttl <= 0:
        return method_arn
    prefix, _, path = method_arn.partition("/")
    stage = path.split("/", 1)[0]
    return f"{prefix}/{stage}/*" if stage else method_arn
