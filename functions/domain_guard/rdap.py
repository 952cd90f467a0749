"""Read an RDAP domain object (RFC 9083 section 5.3) into an RdapRecord.

The parser is pure and lenient. It raises RdapBodyError only for a body that
is not a domain object at all. Inside a domain object, a member of the wrong
type, an unreadable date or an unknown status becomes a note on the record and
the field stays unpublished, so one broken member never hides the others.
Registry and registrar bodies are parsed the same way, into separate records.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .dates import parse_rdap_date
from .errors import InvalidDomainError, RdapBodyError
from .models import RdapRecord
from .names import to_a_label

# Caps on how much of one array is read, so a body with a million statuses
# costs no more than one with a sane count. Real responses stay far below.
MAX_STATUSES = 64
MAX_EVENTS = 256
MAX_ENTITIES = 64
MAX_LINKS = 64
MAX_NAMESERVERS = 64
MAX_VCARD_PROPERTIES = 128
MAX_REDACTED_NAMES = 16
# Maximum length of a text copied into a note or kept as an unknown status.
MAX_TEXT = 80

EXPIRATION = "expiration"
REGISTRATION = "registration"
REREGISTRATION = "reregistration"
LAST_CHANGED = "last changed"
TRANSFER = "transfer"
REGISTRAR_EXPIRATION = "registrar expiration"

# RFC 8056 section 2 maps each EPP status to an RDAP status value. EPP "ok"
# becomes RDAP "active" and "linked" becomes "associated"; every other EPP
# value is its camelCase words, lowercase and spaced.
_EPP_STATUSES = (
    "clientDeleteProhibited",
    "clientHold",
    "clientRenewProhibited",
    "clientTransferProhibited",
    "clientUpdateProhibited",
    "serverDeleteProhibited",
    "serverHold",
    "serverRenewProhibited",
    "serverTransferProhibited",
    "serverUpdateProhibited",
    "pendingCreate",
    "pendingDelete",
    "pendingRenew",
    "pendingRestore",
    "pendingTransfer",
    "pendingUpdate",
    "addPeriod",
    "autoRenewPeriod",
    "renewPeriod",
    "transferPeriod",
    "redemptionPeriod",
    "inactive",
)
_STATUS_ALIASES = {"ok": "active", "linked": "associated"}

# eventAction values, after lowercasing and spacing, and the event each one
# means. RFC 9083 section 10.2.3 registers the first name of each group; the
# rest are forms registries and registrars send in practice.
_EVENT_NAMES = {
    EXPIRATION: (
        "expiration",
        "expiration date",
        "expiry",
        "expiry date",
        "expires",
        "expire",
        "record expires",
        "soft expiration",
        "registry expiration",
        "registry expiry",
        "registry expiry date",
        "registration expiration",
        "domain expiration",
        "paid till",
    ),
    REGISTRATION: (
        "registration",
        "registration date",
        "registered",
        "creation",
        "creation date",
        "created",
        "create",
        "record created",
        "domain registered",
        "domain created",
    ),
    REREGISTRATION: ("reregistration", "re registration", "reregistered"),
    LAST_CHANGED: (
        "last changed",
        "last change",
        "last update",
        "last updated",
        "last modified",
        "modified",
        "changed",
        "updated",
    ),
    TRANSFER: ("transfer", "transferred", "last transfer", "domain transfer"),
    REGISTRAR_EXPIRATION: (
        "registrar expiration",
        "registrar expiry",
        "registrar expiration date",
        "registrar registration expiration",
        "registrar registration expiration date",
    ),
}

_RDAP_MEDIA_TYPE = "application/rdap+json"


def _words(text: str) -> str:
    """Lowercase ``text`` and space its words: camelCase, '_' and '-' split."""
    pieces: list[str] = []
    previous_lower = False
    for char in text:
        if char == "_" or char == "-":
            char = " "
        elif char.isupper() and previous_lower:
            pieces.append(" ")
        pieces.append(char)
        previous_lower = char.islower() or char.isdigit()
    return " ".join("".join(pieces).lower().split())


def _build_status_forms() -> dict[str, str]:
    forms: dict[str, str] = {}
    for epp in _EPP_STATUSES:
        spaced = _words(epp)
        forms[epp] = spaced
        forms[spaced] = spaced
    for alias, value in _STATUS_ALIASES.items():
        forms[alias] = value
    for value in ("active", "associated", "locked", "validated", "removed"):
        forms[value] = value
    return forms


def _build_event_kinds() -> dict[str, str]:
    return {name: kind for kind, names in _EVENT_NAMES.items() for name in names}


# Raw strings seen before, mapped to their normal form and seeded with the
# known statuses. New forms are added only while the table is small, so
# hostile bodies cannot grow it without bound in a warm process.
_STATUS_FORMS = _build_status_forms()
_EVENT_KINDS = _build_event_kinds()
_RAW_EVENT_KINDS: dict[str, str | None] = {}
_MAX_LEARNED_FORMS = 1024


def normalise_status(raw: str) -> str:
    """Return the RFC 8056 spaced lowercase form of a status value.

    EPP camelCase (``clientHold``), underscores, hyphens, any case and a
    trailing ``https://icann.org/epp#...`` link are accepted. Unknown values
    come back lowercased and spaced, never rejected.
    """
    known = _STATUS_FORMS.get(raw)
    if known is not None:
        return known
    text = raw.strip()
    if "http" in text:
        words = [word for word in text.split() if not word.startswith("http")]
        text = " ".join(words) if words else text.rpartition("#")[2]
    spaced = _words(text[:MAX_TEXT])
    value = _STATUS_FORMS.get(spaced) or _STATUS_ALIASES.get(spaced, spaced)
    # Only short strings are learned, so a hostile body cannot park its
    # text in this process-wide table.
    if len(raw) <= MAX_TEXT and len(_STATUS_FORMS) < _MAX_LEARNED_FORMS:
        _STATUS_FORMS[raw] = value
    return value


def event_kind(action: str) -> str | None:
    """Return the event an ``eventAction`` names, or None for other events."""
    if action in _RAW_EVENT_KINDS:
        return _RAW_EVENT_KINDS[action]
    kind = _EVENT_KINDS.get(_words(action[:MAX_TEXT]))
    if len(action) <= MAX_TEXT and len(_RAW_EVENT_KINDS) < _MAX_LEARNED_FORMS:
        _RAW_EVENT_KINDS[action] = kind
    return kind


def parse_domain(body: object) -> RdapRecord:
    """Read an RDAP domain object into an RdapRecord.

    Raises RdapBodyError when ``body`` is not a domain object: not a JSON
    object, an RDAP error object, an ``objectClassName`` other than
    "domain", or neither ``ldhName`` nor ``unicodeName``.
    """
    if not isinstance(body, dict):
        raise RdapBodyError(f"RDAP body is {_type_name(body)}, not a domain object")
    notes: list[str] = []
    _check_object_class(body, notes)
    domain = _domain_name(body, notes)

    events = _read_events(body.get("events"), notes)
    registered = events.get(REGISTRATION)
    reregistered = events.get(REREGISTRATION)
    if registered is None or (reregistered is not None and reregistered > registered):
        registered = reregistered

    registrar, registrar_id = _read_registrar(body.get("entities"), notes)
    redacted = body.get("redacted")
    if redacted is not None:
        _note_redactions(redacted, notes)
    return RdapRecord(
        domain=domain,
        statuses=_read_statuses(body.get("status"), notes),
        expires_at=events.get(EXPIRATION),
        registered_at=registered,
        last_changed_at=events.get(LAST_CHANGED),
        transferred_at=events.get(TRANSFER),
        registrar_expires_at=events.get(REGISTRAR_EXPIRATION),
        registrar=registrar,
        registrar_id=registrar_id,
        registrar_rdap_url=_registrar_link(body.get("links"), domain, notes),
        nameservers=_read_nameservers(body.get("nameservers"), notes),
        notes=tuple(notes),
    )


def _check_object_class(body: dict[str, Any], notes: list[str]) -> None:
    object_class = body.get("objectClassName")
    if object_class == "domain":
        return
    if "errorCode" in body and "ldhName" not in body:
        title = body.get("title")
        detail = f": {_short(title)}" if isinstance(title, str) else ""
        raise RdapBodyError(
            f"RDAP body is an error object (errorCode {_short(body['errorCode'])})"
            f"{detail}, not a domain object"
        )
    if object_class is None:
        notes.append("objectClassName missing; read as a domain object")
        return
    if not isinstance(object_class, str) or object_class.strip().lower() != "domain":
        raise RdapBodyError(
            f"RDAP body has objectClassName {_short(object_class)}, not 'domain'"
        )


def _domain_name(body: dict[str, Any], notes: list[str]) -> str:
    ldh_name = body.get("ldhName")
    if isinstance(ldh_name, str):
        name = ldh_name.strip().lower()
        if name.endswith("."):
            name = name[:-1]
        if name and name.isascii():
            return name
        if name:
            notes.append(f"ldhName {_short(ldh_name)} is not ASCII; mapped to A-labels")
            return _a_label_or_raise(name, "ldhName")
    elif ldh_name is not None:
        notes.append(f"ldhName is {_type_name(ldh_name)}, not a string")

    unicode_name = body.get("unicodeName")
    if isinstance(unicode_name, str) and unicode_name.strip():
        notes.append("ldhName missing; domain taken from unicodeName")
        return _a_label_or_raise(unicode_name, "unicodeName")
    raise RdapBodyError("RDAP domain object has neither ldhName nor unicodeName")


def _a_label_or_raise(name: str, member: str) -> str:
    try:
        return to_a_label(name)
    except InvalidDomainError as exc:
        raise RdapBodyError(
            f"RDAP {member} {_short(name)} is not a valid domain name"
        ) from exc


def _read_statuses(raw: object, notes: list[str]) -> tuple[str, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str):
        notes.append("status is a string, not an array; read as one status")
        raw = [raw]
    elif not isinstance(raw, list):
        notes.append(f"status is {_type_name(raw)}, not an array; ignored")
        return ()
    if len(raw) > MAX_STATUSES:
        notes.append(f"status has {len(raw)} entries; read the first {MAX_STATUSES}")
        raw = raw[:MAX_STATUSES]
    statuses: list[str] = []
    for item in raw:
        if isinstance(item, str):
            value = normalise_status(item)
            if value and value not in statuses:
                statuses.append(value)
        else:
            notes.append(f"status entry {_short(item)} is not a string; ignored")
    return tuple(statuses)


def _read_events(raw: object, notes: list[str]) -> dict[str, datetime]:
    """Return the latest date of each known event kind."""
    found: dict[str, datetime] = {}
    if raw is None:
        return found
    if not isinstance(raw, list):
        notes.append(f"events is {_type_name(raw)}, not an array; ignored")
        return found
    if len(raw) > MAX_EVENTS:
        notes.append(f"events has {len(raw)} entries; read the first {MAX_EVENTS}")
        raw = raw[:MAX_EVENTS]
    for event in raw:
        if not isinstance(event, dict):
            notes.append(f"event {_short(event)} is not an object; ignored")
            continue
        action = event.get("eventAction")
        if not isinstance(action, str):
            notes.append(f"eventAction {_short(action)} is not a string; ignored")
            continue
        kind = event_kind(action)
        if kind is None:
            continue
        text = event.get("eventDate")
        when = parse_rdap_date(text)
        if when is None:
            notes.append(
                f"{kind} event date {_short(text)} is not a readable date;"
                " read as not published"
            )
            continue
        previous = found.get(kind)
        if previous is None or when > previous:
            found[kind] = when
    return found


def _read_registrar(raw: object, notes: list[str]) -> tuple[str | None, str | None]:
    """Return the registrar's name and IANA id from the entity with that role."""
    if raw is None:
        return None, None
    if not isinstance(raw, list):
        notes.append(f"entities is {_type_name(raw)}, not an array; ignored")
        return None, None
    for entity in raw[:MAX_ENTITIES]:
        if isinstance(entity, dict) and _has_registrar_role(entity.get("roles")):
            return _registrar_fields(entity, notes)
    return None, None


def _has_registrar_role(roles: object) -> bool:
    if not isinstance(roles, list):
        return False
    if "registrar" in roles:
        return True
    return any(isinstance(role, str) and role.lower() == "registrar" for role in roles)


def _registrar_fields(
    entity: dict[str, Any], notes: list[str]
) -> tuple[str | None, str | None]:
    handle = entity.get("handle")
    handle_text = str(handle).strip() if isinstance(handle, str | int) else ""
    iana_id = _iana_registrar_id(entity.get("publicIds"))
    # gTLD registries use the IANA registrar id as the registrar entity's
    # handle (ICANN gTLD RDAP Response Profile, section 2.4.1).
    if iana_id is None and handle_text.isdigit():
        iana_id = handle_text

    name = _vcard_name(entity.get("vcardArray"))
    if name is None:
        name = handle_text or (f"IANA registrar {iana_id}" if iana_id else None)
        if name is not None:
            notes.append(f"registrar name not published; using {_short(name)}")
    return name, iana_id


def _iana_registrar_id(raw: object) -> str | None:
    if not isinstance(raw, list):
        return None
    for item in raw[:MAX_LINKS]:
        if not isinstance(item, dict):
            continue
        kind = item.get("type")
        if not isinstance(kind, str) or "iana" not in kind.lower():
            continue
        # Some registries spell the member "Identifier".
        value = item.get("identifier", item.get("Identifier"))
        if isinstance(value, str | int) and str(value).strip():
            return str(value).strip()
    return None


def _vcard_name(raw: object) -> str | None:
    """Return the jCard (RFC 7095) ``fn``, else the ``org``, when not empty."""
    if not isinstance(raw, list) or len(raw) < 2 or not isinstance(raw[1], list):
        return None
    organisation: str | None = None
    for prop in raw[1][:MAX_VCARD_PROPERTIES]:
        if not isinstance(prop, list) or len(prop) < 4:
            continue
        kind = prop[0]
        if kind == "fn":
            value = prop[3]
            if isinstance(value, str) and value.strip():
                return value.strip()
        elif kind == "org" and organisation is None:
            value = prop[3]
            if isinstance(value, list) and value:
                value = value[0]
            if isinstance(value, str) and value.strip():
                organisation = value.strip()
    return organisation


def _registrar_link(raw: object, domain: str, notes: list[str]) -> str | None:
    """Return the ``related`` link to the registrar's RDAP record of ``domain``."""
    if not isinstance(raw, list):
        if raw is not None:
            notes.append(f"links is {_type_name(raw)}, not an array; ignored")
        return None
    expected_suffix = f"/domain/{domain}"
    fallback: str | None = None
    for link in raw[:MAX_LINKS]:
        if not isinstance(link, dict):
            continue
        rel = link.get("rel")
        if rel != "related" and not (isinstance(rel, str) and rel.lower() == "related"):
            continue
        href = link.get("href")
        if not isinstance(href, str) or len(href) > 2048:
            continue
        if not href.startswith(("https://", "http://")):
            continue
        media_type = link.get("type")
        rdap_typed = (
            isinstance(media_type, str) and media_type.lower() == _RDAP_MEDIA_TYPE
        )
        path = href.split("?", 1)[0].rstrip("/").lower()
        if path.endswith(expected_suffix) and (rdap_typed or media_type is None):
            return href
        if rdap_typed and "/domain/" in path and fallback is None:
            fallback = href
    return fallback


def _read_nameservers(raw: object, notes: list[str]) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        notes.append(f"nameservers is {_type_name(raw)}, not an array; ignored")
        return ()
    names: list[str] = []
    for item in raw[:MAX_NAMESERVERS]:
        name = item.get("ldhName") if isinstance(item, dict) else None
        if isinstance(name, str) and name:
            name = name.lower()
            if name.endswith("."):
                name = name[:-1]
            if name not in names:
                names.append(name)
    return tuple(names)


def _note_redactions(raw: object, notes: list[str]) -> None:
    """Record which fields the server redacted (RFC 9537 section 4.2)."""
    if not isinstance(raw, list):
        notes.append(f"redacted is {_type_name(raw)}, not an array; ignored")
        return
    names: list[str] = []
    for item in raw[:MAX_REDACTED_NAMES]:
        label = item.get("name") if isinstance(item, dict) else None
        if isinstance(label, dict):
            text = label.get("type", label.get("description"))
            if isinstance(text, str) and text:
                names.append(_short(text, quote=False))
    if names:
        notes.append("redacted (RFC 9537), read as not published: " + ", ".join(names))


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _short(value: object, *, quote: bool = True) -> str:
    """Return a bounded text form of ``value`` for a note or message."""
    if isinstance(value, str):
        text = value if len(value) <= MAX_TEXT else value[:MAX_TEXT] + "..."
        return repr(text) if quote else text
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**20:
        return "a large number"
    if value is None or isinstance(value, bool | int | float):
        return repr(value)[:MAX_TEXT]
    return _type_name(value)
