"""DynamoDB adapter: domain state, the due index, owner contacts and ledgers.

One table contains every item, keyed by ``pk`` and ``sk``:

- ``DOMAIN#<domain>`` / ``STATE``: the DomainFacts, a ``version`` for
  conditional writes, and ``due_shard``, ``next_check_at``, ``next_rdap_at`` and
  ``rdap_server`` for the sparse ``due`` index. It holds no email address.
- ``DOMAIN#<domain>`` / ``CONTACT#<sha256 of the address>``: one owner contact
  that asked for warnings. The address is stored here and nowhere else, and
  deleting the item removes it.
- ``DOMAIN#<domain>`` / ``WARNING#<cycle>#<kind>``: the warning ledger that makes
  each owner warning go out once per expiry cycle.
- ``BOOTSTRAP`` / ``IANA``: the cached IANA RDAP bootstrap with its fetch time.
- ``SWEEP#<id>`` / ``SWEEP``: the counters of one sweep for the mass-change valve.
- ``ALERT#<name>`` / ``LEVEL``: what an operator alert last reported.

Items written by older versions, or damaged by hand, are read field by field: an
attribute that cannot be read is dropped with a warning log line, never raised.
Every call goes through a botocore client whose timeouts and retries the caller
configures; a failed call raises StoreError, a lost race StaleWriteError.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import hashlib
import json
import logging
import types
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from .errors import StaleWriteError, StoreError
from .models import DnsOutcome, DomainFacts, RdapOutcome

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.service_resource import Table

logger = logging.getLogger(__name__)

DUE_INDEX = "due"
STATE_SK = "STATE"
# Ledger and sweep items expire through the table's TTL attribute.
LEDGER_RETENTION = timedelta(days=400)
SWEEP_RETENTION = timedelta(days=14)

AttributeValue = dict[str, Any]
Item = dict[str, AttributeValue]


def format_key_time(value: datetime) -> str:
    """Format a time for a sort key: fixed width, whole seconds, so strings sort."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def domain_pk(domain: str) -> str:
    return f"DOMAIN#{domain}"


def contact_id(email: str) -> str:
    """Return the contact's key: a SHA-256 of the lowercased address."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def mask_email(email: str) -> str:
    """Mask an address for logs: first character of the local part and the domain."""
    local, _, domain = email.rpartition("@")
    if not local:
        return "***"
    return f"{local[0]}***@{domain}"


class Claim(enum.Enum):
    """The result of claiming a warning in the ledger."""

    CLAIMED = "claimed"  # the caller sends it now
    SENT = "sent"  # it went out before
    IN_FLIGHT = "in_flight"  # another worker holds a claim younger than the lease


@dataclass(frozen=True, slots=True)
class StoredFacts:
    """A domain's facts as read, with what a conditional write must compare."""

    facts: DomainFacts
    version: int  # 0 when the item had no readable version
    next_check_at: datetime | None = None
    next_rdap_at: datetime | None = None
    # The version attribute exactly as read, or None when it was absent.
    version_value: AttributeValue | None = None


@dataclass(frozen=True, slots=True)
class DueItem:
    """One entry of the due index, as dispatch reads it."""

    domain: str
    shard: str
    next_check_at: str  # the key string, compared as is in the lease condition
    next_rdap_at: datetime | None = None
    rdap_server: str | None = None


@dataclass(frozen=True, slots=True)
class OwnerContact:
    domain: str
    email: str
    subscription_arn: str | None
    created_at: datetime | None


@dataclass(frozen=True, slots=True)
class CachedBootstrap:
    data: dict[str, Any]
    fetched_at: datetime


@dataclass(frozen=True, slots=True)
class SweepCount:
    """The mass-change counters of a sweep after one more move to deny."""

    deny_moves: int
    deny_limit: int | None  # None until dispatch has written it


class DomainStore:
    """Reads and writes Domain Guard items through a DynamoDB client."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    @classmethod
    def from_table(cls, table: Table) -> DomainStore:
        """Build a store for the table behind a boto3 Table resource.

        The resource's own client converts Python values to attribute values on
        every call, which would wrap the attribute values this store builds, so
        a plain client for the same region and endpoint is created instead.
        """
        meta = table.meta.client.meta
        client = boto3.client(
            "dynamodb",
            region_name=meta.region_name,
            endpoint_url=meta.endpoint_url,
            config=meta.config,
        )
        return cls(client, table.name)

    @property
    def client(self) -> DynamoDBClient:
        return self._client

    @property
    def table_name(self) -> str:
        return self._table

    # Domain state

    def get_facts(self, domain: str, *, consistent: bool = False) -> StoredFacts | None:
        """Read a domain's state, or None when the domain has no state item."""
        key = {"pk": {"S": domain_pk(domain)}, "sk": {"S": STATE_SK}}
        try:
            response = self._client.get_item(
                TableName=self._table, Key=key, ConsistentRead=consistent
            )
        except (ClientError, BotoCoreError) as exc:
            raise StoreError(f"GetItem failed for {domain}: {exc}") from exc
        item = response.get("Item")
        if item is None:
            return None
        return facts_from_item(domain, item)

    def put_facts(
        self,
        facts: DomainFacts,
        *,
        previous: StoredFacts | None,
        shard: str,
        next_check_at: datetime,
        next_rdap_at: datetime | None,
    ) -> StoredFacts:
        """Write a domain's state if it is unchanged since ``previous`` was read.

        ``previous`` None means the item must not exist yet. Raises
        StaleWriteError when another writer got there first.
        """
        version = (previous.version if previous else 0) + 1
        item = facts_to_item(facts)
        item["version"] = {"N": str(version)}
        item["due_shard"] = {"S": shard}
        item["next_check_at"] = {"S": format_key_time(next_check_at)}
        if next_rdap_at is not None:
            item["next_rdap_at"] = {"S": format_key_time(next_rdap_at)}
        condition, values = _version_condition(previous)
        arguments: dict[str, Any] = {
            "TableName": self._table,
            "Item": item,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": {"#version": "version"},
        }
        if values:
            arguments["ExpressionAttributeValues"] = values
        if "#version" not in condition:
            del arguments["ExpressionAttributeNames"]
        try:
            self._client.put_item(**arguments)
        except ClientError as exc:
            if _is_condition_failure(exc):
                raise StaleWriteError(
                    f"state of {facts.domain} changed since it was read"
                ) from exc
            raise StoreError(f"PutItem failed for {facts.domain}: {exc}") from exc
        except BotoCoreError as exc:
            raise StoreError(f"PutItem failed for {facts.domain}: {exc}") from exc
        return StoredFacts(
            facts=facts,
            version=version,
            next_check_at=next_check_at,
            next_rdap_at=next_rdap_at,
            version_value={"N": str(version)},
        )

    # Due index

    def due_pages(
        self, shard: str, now: datetime, *, page_size: int = 500
    ) -> Iterator[list[DueItem]]:
        """Yield the due index entries of one shard due by ``now``, a page at a time."""
        arguments: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": DUE_INDEX,
            "KeyConditionExpression": "due_shard = :shard AND next_check_at <= :now",
            "ExpressionAttributeValues": {
                ":shard": {"S": shard},
                ":now": {"S": format_key_time(now)},
            },
            "Limit": page_size,
        }
        while True:
            try:
                response = self._client.query(**arguments)
            except (ClientError, BotoCoreError) as exc:
                raise StoreError(f"Query of shard {shard} failed: {exc}") from exc
            page = [
                entry
                for entry in (_due_item(raw) for raw in response.get("Items", []))
                if entry is not None
            ]
            if page:
                yield page
            last_key = response.get("LastEvaluatedKey")
            if not last_key:
                return
            arguments["ExclusiveStartKey"] = last_key

    def lease_due(self, entry: DueItem, until: datetime) -> bool:
        """Move a due entry's next check to ``until`` unless someone moved it first.

        Dispatch calls this before queueing, so a second sweep that starts before
        the worker is done does not send the domain again. A lease that is never
        followed by a write expires by itself at ``until``.
        """
        try:
            self._client.update_item(
                TableName=self._table,
                Key={"pk": {"S": domain_pk(entry.domain)}, "sk": {"S": STATE_SK}},
                UpdateExpression="SET next_check_at = :until",
                ConditionExpression="next_check_at = :seen",
                ExpressionAttributeValues={
                    ":until": {"S": format_key_time(until)},
                    ":seen": {"S": entry.next_check_at},
                },
            )
        except ClientError as exc:
            if _is_condition_failure(exc):
                return False
            raise StoreError(f"lease of {entry.domain} failed: {exc}") from exc
        except BotoCoreError as exc:
            raise StoreError(f"lease of {entry.domain} failed: {exc}") from exc
        return True

    # Owner contacts

    def put_contact(
        self,
        domain: str,
        email: str,
        *,
        now: datetime,
        subscription_arn: str | None = None,
    ) -> OwnerContact:
        item: Item = {
            "pk": {"S": domain_pk(domain)},
            "sk": {"S": f"CONTACT#{contact_id(email)}"},
            "email": {"S": email.strip()},
            "created_at": {"S": now.astimezone(UTC).isoformat()},
        }
        if subscription_arn:
            item["subscription_arn"] = {"S": subscription_arn}
        self._call(
            "PutItem",
            domain,
            lambda: self._client.put_item(TableName=self._table, Item=item),
        )
        return OwnerContact(domain, email.strip(), subscription_arn, now)

    def list_contacts(self, domain: str) -> list[OwnerContact]:
        contacts: list[OwnerContact] = []
        arguments: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {
                ":pk": {"S": domain_pk(domain)},
                ":prefix": {"S": "CONTACT#"},
            },
        }
        while True:
            response = self._call(
                "Query", domain, lambda: self._client.query(**arguments)
            )
            for raw in response.get("Items", []):
                contact = _contact_from_item(domain, raw)
                if contact is not None:
                    contacts.append(contact)
            last_key = response.get("LastEvaluatedKey")
            if not last_key:
                return contacts
            arguments["ExclusiveStartKey"] = last_key

    def delete_contact(self, domain: str, email: str) -> OwnerContact | None:
        """Delete an owner contact; return what was stored, or None if nothing was."""
        response = self._call(
            "DeleteItem",
            domain,
            lambda: self._client.delete_item(
                TableName=self._table,
                Key={
                    "pk": {"S": domain_pk(domain)},
                    "sk": {"S": f"CONTACT#{contact_id(email)}"},
                },
                ReturnValues="ALL_OLD",
            ),
        )
        old = response.get("Attributes")
        return _contact_from_item(domain, old) if old else None

    # Bootstrap cache

    def get_bootstrap(self) -> CachedBootstrap | None:
        response = self._call(
            "GetItem",
            "BOOTSTRAP",
            lambda: self._client.get_item(
                TableName=self._table,
                Key={"pk": {"S": "BOOTSTRAP"}, "sk": {"S": "IANA"}},
            ),
        )
        item = response.get("Item")
        if item is None:
            return None
        fetched_at = _read_time(item.get("fetched_at"))
        try:
            data = json.loads(item["data"]["S"])
        except (KeyError, TypeError, ValueError):
            data = None
        if fetched_at is None or not isinstance(data, dict):
            logger.warning("bootstrap cache item is damaged; ignoring it")
            return None
        return CachedBootstrap(data=data, fetched_at=fetched_at)

    def put_bootstrap(self, data: Mapping[str, Any], fetched_at: datetime) -> None:
        item: Item = {
            "pk": {"S": "BOOTSTRAP"},
            "sk": {"S": "IANA"},
            "data": {"S": json.dumps(data, separators=(",", ":"))},
            "fetched_at": {"S": fetched_at.astimezone(UTC).isoformat()},
        }
        self._call(
            "PutItem",
            "BOOTSTRAP",
            lambda: self._client.put_item(TableName=self._table, Item=item),
        )

    # Warning ledger

    def claim_warning(
        self, domain: str, cycle: str, kind: str, *, now: datetime, lease: timedelta
    ) -> Claim:
        """Claim the right to send one warning.

        A claim left pending by a worker that died can be taken over once it is
        older than ``lease``, so a crash between claim and publish loses nothing.
        """
        try:
            self._client.put_item(
                TableName=self._table,
                Item={
                    **_ledger_key(domain, cycle, kind),
                    "status": {"S": "pending"},
                    "claimed_at": {"S": format_key_time(now)},
                    "expires_ttl": {
                        "N": str(int((now + LEDGER_RETENTION).timestamp()))
                    },
                },
                ConditionExpression=(
                    "attribute_not_exists(pk) OR "
                    "(#status = :pending AND claimed_at < :stale)"
                ),
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":pending": {"S": "pending"},
                    ":stale": {"S": format_key_time(now - lease)},
                },
            )
        except ClientError as exc:
            if not _is_condition_failure(exc):
                raise StoreError(f"warning claim for {domain} failed: {exc}") from exc
        except BotoCoreError as exc:
            raise StoreError(f"warning claim for {domain} failed: {exc}") from exc
        else:
            return Claim.CLAIMED
        if self.warning_status(domain, cycle, kind) == "sent":
            return Claim.SENT
        return Claim.IN_FLIGHT

    def mark_warning_sent(
        self, domain: str, cycle: str, kind: str, *, now: datetime, message_id: str
    ) -> None:
        self._call(
            "UpdateItem",
            domain,
            lambda: self._client.update_item(
                TableName=self._table,
                Key=_ledger_key(domain, cycle, kind),
                UpdateExpression=(
                    "SET #status = :sent, sent_at = :now, message_id = :id"
                ),
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":sent": {"S": "sent"},
                    ":now": {"S": format_key_time(now)},
                    ":id": {"S": message_id},
                },
            ),
        )

    def release_warning(self, domain: str, cycle: str, kind: str) -> None:
        """Drop a pending claim after a failed publish, so a retry can send it."""
        try:
            self._client.delete_item(
                TableName=self._table,
                Key=_ledger_key(domain, cycle, kind),
                ConditionExpression="#status = :pending",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":pending": {"S": "pending"}},
            )
        except ClientError as exc:
            if not _is_condition_failure(exc):
                raise StoreError(f"warning release for {domain} failed: {exc}") from exc
        except BotoCoreError as exc:
            raise StoreError(f"warning release for {domain} failed: {exc}") from exc

    def warning_status(self, domain: str, cycle: str, kind: str) -> str | None:
        response = self._call(
            "GetItem",
            domain,
            lambda: self._client.get_item(
                TableName=self._table, Key=_ledger_key(domain, cycle, kind)
            ),
        )
        status = response.get("Item", {}).get("status", {})
        value = status.get("S") if isinstance(status, dict) else None
        return value if isinstance(value, str) else None

    # Sweep counters for the mass-change valve

    def put_sweep(
        self, sweep_id: str, *, dispatched: int, deny_limit: int, now: datetime
    ) -> None:
        self._call(
            "UpdateItem",
            sweep_id,
            lambda: self._client.update_item(
                TableName=self._table,
                Key={"pk": {"S": f"SWEEP#{sweep_id}"}, "sk": {"S": "SWEEP"}},
                UpdateExpression=(
                    "SET dispatched = :dispatched, deny_limit = :limit, "
                    "started_at = if_not_exists(started_at, :now), expires_ttl = :ttl"
                ),
                ExpressionAttributeValues={
                    ":dispatched": {"N": str(dispatched)},
                    ":limit": {"N": str(deny_limit)},
                    ":now": {"S": format_key_time(now)},
                    ":ttl": {"N": str(int((now + SWEEP_RETENTION).timestamp()))},
                },
            ),
        )

    def record_deny_move(self, sweep_id: str) -> SweepCount:
        """Count one more domain the sweep moved from allow to deny."""
        response = self._call(
            "UpdateItem",
            sweep_id,
            lambda: self._client.update_item(
                TableName=self._table,
                Key={"pk": {"S": f"SWEEP#{sweep_id}"}, "sk": {"S": "SWEEP"}},
                UpdateExpression="ADD deny_moves :one",
                ExpressionAttributeValues={":one": {"N": "1"}},
                ReturnValues="ALL_NEW",
            ),
        )
        attributes = response.get("Attributes", {})
        moves = _read_int(attributes.get("deny_moves")) or 0
        return SweepCount(
            deny_moves=moves, deny_limit=_read_int(attributes.get("deny_limit"))
        )

    def claim_sweep_alert(self, sweep_id: str) -> bool:
        """Return True once per sweep, for the one worker that sends the alert."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key={"pk": {"S": f"SWEEP#{sweep_id}"}, "sk": {"S": "SWEEP"}},
                UpdateExpression="SET valve_alerted = :yes",
                ConditionExpression="attribute_not_exists(valve_alerted)",
                ExpressionAttributeValues={":yes": {"BOOL": True}},
            )
        except ClientError as exc:
            if _is_condition_failure(exc):
                return False
            raise StoreError(f"valve alert claim for {sweep_id} failed: {exc}") from exc
        except BotoCoreError as exc:
            raise StoreError(f"valve alert claim for {sweep_id} failed: {exc}") from exc
        return True

    # Alert memory

    def swap_alert_level(self, name: str, level: int) -> int | None:
        """Store the level an alert last saw and return the one stored before."""
        response = self._call(
            "UpdateItem",
            name,
            lambda: self._client.update_item(
                TableName=self._table,
                Key={"pk": {"S": f"ALERT#{name}"}, "sk": {"S": "LEVEL"}},
                UpdateExpression="SET #level = :level",
                ExpressionAttributeNames={"#level": "level"},
                ExpressionAttributeValues={":level": {"N": str(level)}},
                ReturnValues="ALL_OLD",
            ),
        )
        return _read_int(response.get("Attributes", {}).get("level"))

    def _call(
        self, operation: str, subject: str, call: typing.Callable[[], Any]
    ) -> Any:
        try:
            return call()
        except (ClientError, BotoCoreError) as exc:
            raise StoreError(f"{operation} failed for {subject}: {exc}") from exc


# Item conversion


def facts_to_item(facts: DomainFacts) -> Item:
    """Convert facts to a DynamoDB item; empty and None fields are left out."""
    item: Item = {"pk": {"S": domain_pk(facts.domain)}, "sk": {"S": STATE_SK}}
    for name, kind in _fact_kinds().items():
        value = getattr(facts, name)
        encoded = _encode(kind, value)
        if encoded is not None:
            item[name] = encoded
    return item


def facts_from_item(domain: str, item: Mapping[str, Any]) -> StoredFacts:
    """Read facts from an item, dropping each attribute that cannot be read."""
    values: dict[str, Any] = {}
    for name, kind in _fact_kinds().items():
        raw = item.get(name)
        if raw is None:
            continue
        try:
            values[name] = _decode(kind, raw)
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            logger.warning(
                "state attribute dropped: unreadable value",
                extra={"domain": domain, "attribute": name, "error": str(exc)},
            )
    raw_version = item.get("version")
    version = _read_int(raw_version)
    if raw_version is not None and version is None:
        logger.warning(
            "state attribute dropped: unreadable value",
            extra={"domain": domain, "attribute": "version"},
        )
    facts = DomainFacts(domain=domain, **values)
    return StoredFacts(
        facts=facts,
        version=version or 0,
        next_check_at=_read_time(item.get("next_check_at")),
        next_rdap_at=_read_time(item.get("next_rdap_at")),
        version_value=raw_version if isinstance(raw_version, dict) else None,
    )


class _Kind(enum.Enum):
    TEXT = "text"
    TIME = "time"
    TEXTS = "texts"
    RDAP_OUTCOME = "rdap_outcome"
    DNS_OUTCOME = "dns_outcome"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"


@functools.cache
def _fact_kinds() -> dict[str, _Kind]:
    """Map each DomainFacts field but ``domain`` to how it is stored.

    Read from the dataclass, so fields added to the model later are stored too.
    A field of a type this module does not know is left out with a log line.
    Computed on first use, because resolving the type hints slows a cold start.
    """
    hints = typing.get_type_hints(DomainFacts)
    kinds: dict[str, _Kind] = {}
    for field in dataclasses.fields(DomainFacts):
        if field.name == "domain":
            continue
        kind = _kind_of(hints[field.name])
        if kind is None:
            logger.warning("DomainFacts field not stored", extra={"field": field.name})
            continue
        kinds[field.name] = kind
    return kinds


def _kind_of(hint: Any) -> _Kind | None:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        members = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return _kind_of(members[0]) if len(members) == 1 else None
    if origin is tuple:
        return _Kind.TEXTS if typing.get_args(hint)[0] is str else None
    simple = {
        str: _Kind.TEXT,
        datetime: _Kind.TIME,
        RdapOutcome: _Kind.RDAP_OUTCOME,
        DnsOutcome: _Kind.DNS_OUTCOME,
        bool: _Kind.BOOLEAN,
        int: _Kind.INTEGER,
        float: _Kind.NUMBER,
    }
    return simple.get(hint)


def _encode(kind: _Kind, value: Any) -> AttributeValue | None:
    if value is None:
        return None
    if kind is _Kind.TIME:
        return {"S": value.astimezone(UTC).isoformat()}
    if kind is _Kind.TEXTS:
        return {"L": [{"S": str(part)} for part in value]} if value else None
    if kind is _Kind.BOOLEAN:
        return {"BOOL": bool(value)}
    if kind in (_Kind.INTEGER, _Kind.NUMBER):
        return {"N": str(value)}
    text = str(value.value if isinstance(value, enum.Enum) else value)
    return {"S": text} if text else None


def _decode(kind: _Kind, raw: Any) -> Any:
    if kind is _Kind.TEXTS:
        parts = raw["L"]
        if not all(isinstance(part.get("S"), str) for part in parts):
            raise TypeError("list contains a value that is not a string")
        return tuple(part["S"] for part in parts)
    if kind is _Kind.BOOLEAN:
        value = raw["BOOL"]
        if not isinstance(value, bool):
            raise TypeError("not a boolean")
        return value
    if kind is _Kind.INTEGER:
        return int(raw["N"])
    if kind is _Kind.NUMBER:
        return float(raw["N"])
    text = raw["S"]
    if not isinstance(text, str):
        raise TypeError("not a string")
    if kind is _Kind.TIME:
        return _parse_time(text)
    if kind is _Kind.RDAP_OUTCOME:
        return RdapOutcome(text)
    if kind is _Kind.DNS_OUTCOME:
        return DnsOutcome(text)
    return text


def _parse_time(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _read_time(raw: Any) -> datetime | None:
    try:
        return _parse_time(raw["S"])
    except (TypeError, ValueError, KeyError):
        return None


def _read_int(raw: Any) -> int | None:
    try:
        return int(raw["N"])
    except (TypeError, ValueError, KeyError):
        return None


def _version_condition(previous: StoredFacts | None) -> tuple[str, dict[str, Any]]:
    if previous is None:
        return "attribute_not_exists(pk)", {}
    if previous.version_value is None:
        return "attribute_exists(pk) AND attribute_not_exists(#version)", {}
    return "#version = :version", {":version": previous.version_value}


def _is_condition_failure(exc: ClientError) -> bool:
    code = exc.response.get("Error", {}).get("Code")
    return code == "ConditionalCheckFailedException"


def _ledger_key(domain: str, cycle: str, kind: str) -> Item:
    return {"pk": {"S": domain_pk(domain)}, "sk": {"S": f"WARNING#{cycle}#{kind}"}}


def _due_item(raw: Mapping[str, Any]) -> DueItem | None:
    try:
        pk = raw["pk"]["S"]
        shard = raw["due_shard"]["S"]
        next_check_at = raw["next_check_at"]["S"]
    except (KeyError, TypeError):
        logger.warning("due index entry without its keys skipped")
        return None
    if not isinstance(pk, str) or not pk.startswith("DOMAIN#"):
        logger.warning("due index entry with a foreign key skipped")
        return None
    server = (
        raw.get("rdap_server", {}).get("S")
        if isinstance(raw.get("rdap_server"), dict)
        else None
    )
    return DueItem(
        domain=pk.removeprefix("DOMAIN#"),
        shard=shard,
        next_check_at=next_check_at,
        next_rdap_at=_read_time(raw.get("next_rdap_at")),
        rdap_server=server if isinstance(server, str) else None,
    )


def _contact_from_item(domain: str, raw: Mapping[str, Any]) -> OwnerContact | None:
    email = (
        raw.get("email", {}).get("S") if isinstance(raw.get("email"), dict) else None
    )
    if not isinstance(email, str) or "@" not in email:
        logger.warning("owner contact without a readable address skipped")
        return None
    arn = raw.get("subscription_arn", {})
    return OwnerContact(
        domain=domain,
        email=email,
        subscription_arn=arn.get("S") if isinstance(arn, dict) else None,
        created_at=_read_time(raw.get("created_at")),
    )
