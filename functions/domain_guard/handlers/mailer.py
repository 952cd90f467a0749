"""mailer: the optional owner-warning path for user bases beyond SNS email limits.

Deployed only when the template's OwnerMailerSender parameter is set. The
OwnerWarnings topic feeds a queue with raw message delivery, so each SQS record
carries the warning text as its body and the SNS message attributes as SQS
message attributes. For each record the mailer reads the domain's stored owner
contacts and sends the warning to each one through SES.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from ..errors import ConfigError
from ..store import DomainStore, mask_email
from . import aws_client, current_settings

logger = Logger(service="domain-guard")


def handler(event: Any, context: Any) -> dict[str, Any]:
    settings = current_settings()
    sender = os.environ.get("DOMAIN_GUARD_MAILER_SENDER", "").strip()
    if not sender:
        raise ConfigError("DOMAIN_GUARD_MAILER_SENDER is missing: set the SES sender")
    store = DomainStore(aws_client("dynamodb"), settings.table_name)
    return send_batch(event, store=store, ses=aws_client("ses"), sender=sender)


def send_batch(
    event: Any, *, store: DomainStore, ses: Any, sender: str
) -> dict[str, Any]:
    """Mail each warning of an SQS event to its domain's owners; report failures.

    NOTE: a record retried after a partial send mails again the contacts that
    already got it. A per-contact ledger keyed by ``warning_id`` would stop that.
    """
    failures = []
    records = event.get("Records", []) if isinstance(event, Mapping) else []
    for record in records:
        message_id = str(record.get("messageId", ""))
        attributes = record.get("messageAttributes", {})
        domain = _attribute(attributes, "domain")
        kind = _attribute(attributes, "kind") or "warning"
        if domain is None:
            logger.error(
                "warning without a domain attribute", extra={"message_id": message_id}
            )
            failures.append({"itemIdentifier": message_id})
            continue
        try:
            for contact in store.list_contacts(domain):
                ses.send_email(
                    Source=sender,
                    Destination={"ToAddresses": [contact.email]},
                    Message={
                        "Subject": {"Data": f"Domain Guard: {domain} ({kind})"},
                        "Body": {"Text": {"Data": str(record.get("body", ""))}},
                    },
                )
                logger.info(
                    "owner warning mailed",
                    extra={"domain": domain, "contact": mask_email(contact.email)},
                )
        except (ClientError, BotoCoreError, Exception):  # the boundary
            logger.exception("owner warning not mailed", extra={"domain": domain})
            failures.append({"itemIdentifier": message_id})
    return {"batchItemFailures": failures}


def _attribute(attributes: object, name: str) -> str | None:
    if not isinstance(attributes, Mapping):
        return None
    value = attributes.get(name)
    if isinstance(value, Mapping):
        text = value.get("stringValue") or value.get("StringValue")
        return text if isinstance(text, str) else None
    return None
