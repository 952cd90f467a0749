"""Fold each lookup of a domain into its stored facts.

Pure: no I/O. A lookup that failed never erases what an earlier one found.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
import operator
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from domain_guard.models import (
    LAPSED_VERDICTS,
    DnsOutcome,
    DnsResult,
    DomainFacts,
    Observation,
    RdapOutcome,
    RdapRecord,
    RdapResult,
)
from domain_guard.verdict import decide, owner_change_reason

logger = logging.getLogger(__name__)

# DNS outcomes that are answers about the name. SERVFAIL and timeouts are no
# evidence at all, so they keep the nameservers and MX seen before.
_ANSWERED = frozenset({DnsOutcome.EXISTS, DnsOutcome.NXDOMAIN})

# dataclasses.replace() inspects every field's metadata on each call. Copying
# through a precomputed field list avoids that, and merge_observation runs once
# per parsed response.
_FACT_FIELDS = tuple(field.name for field in dataclasses.fields(DomainFacts))
_read_fact_fields = operator.attrgetter(*_FACT_FIELDS)


def merge_observation(
    previous: DomainFacts | None, observation: Observation
) -> DomainFacts:
    """Return the facts after ``observation``, built on ``previous``.

    Raises ValueError when ``previous`` describes another domain.
    """
    if previous is None:
        previous = DomainFacts(domain=observation.domain)
    elif previous.domain != observation.domain:
        raise ValueError(
            f"facts for {previous.domain} cannot take an observation of "
            f"{observation.domain}"
        )

    notes: list[str] = []
    changes: dict[str, Any] = {"checked_at": observation.observed_at}
    if observation.rdap is None:
        notes.extend(previous.notes)
    else:
        changes.update(_merge_rdap(previous, observation, observation.rdap, notes))
    changes.update(
        _merge_dns(previous, observation.dns, observation.observed_at, notes)
    )
    changes["notes"] = tuple(dict.fromkeys(notes))

    merged = _replace(previous, changes)
    return _track_lapse(merged, observation.observed_at)


def _replace(facts: DomainFacts, changes: dict[str, Any]) -> DomainFacts:
    values = dict(zip(_FACT_FIELDS, _read_fact_fields(facts), strict=True))
    values.update(changes)
    return DomainFacts(**values)


def enroll_baseline(facts: DomainFacts, *, at: datetime) -> DomainFacts:
    """Take the current registration date and registrar as the baseline.

    Enrollment happens when an address is verified, so a lapse seen before
    ``at`` no longer counts as evidence of an owner change. A lapse seen at
    ``at`` itself, by the lookup this enrollment made, is kept: a domain that
    is lapsed while its address is verified can still be caught at auction.
    """
    lapsed_now = facts.lapsed_seen_at is not None and facts.lapsed_seen_at >= at
    return dataclasses.replace(
        facts,
        enrolled_at=at,
        baseline_registered_at=facts.registered_at,
        baseline_registrar=facts.registrar,
        lapsed_seen_at=facts.lapsed_seen_at if lapsed_now else None,
        lapsed_registrar=facts.lapsed_registrar if lapsed_now else None,
    )


def _merge_rdap(
    previous: DomainFacts,
    observation: Observation,
    result: RdapResult,
    notes: list[str],
) -> dict[str, Any]:
    notes.extend(result.notes)
    changes: dict[str, Any] = {
        "rdap_outcome": result.outcome,
        "rdap_error": result.error,
        "rdap_server": result.server or previous.rdap_server,
    }
    if result.outcome is not RdapOutcome.FOUND:
        # NOT_FOUND, FAILED and NO_SERVICE keep the registry data for history.
        # The verdict reads `rdap_outcome`, so a 404 is still seen as one.
        return changes

    record = result.record
    problem = _record_problem(record, observation.domain)
    if record is None or problem is not None:
        changes["rdap_outcome"] = RdapOutcome.FAILED
        changes["rdap_error"] = problem
        return changes

    notes.extend(record.notes)
    if result.registrar_record is not None:
        notes.extend(result.registrar_record.notes)
    changes.update(
        rdap_ok_at=observation.observed_at,
        statuses=record.statuses,
        expires_at=record.expires_at,
        registered_at=record.registered_at,
        last_changed_at=record.last_changed_at,
        transferred_at=record.transferred_at,
        registrar=record.registrar,
        registrar_id=record.registrar_id,
        registrar_expires_at=_registrar_expiry(previous, result, record),
    )
    return changes


def _record_problem(record: RdapRecord | None, domain: str) -> str | None:
    if record is None:
        return "RDAP lookup reported found but returned no domain record"
    published = record.domain.rstrip(".").lower()
    if published and published != domain:
        return f"RDAP record is for {published}, not {domain}"
    return None


def _registrar_expiry(
    previous: DomainFacts, result: RdapResult, record: RdapRecord
) -> datetime | None:
    hop = result.registrar_record
    if hop is not None:
        from_hop = hop.registrar_expires_at or hop.expires_at
        if from_hop is not None:
            return from_hop
    if record.registrar_expires_at is not None:
        return record.registrar_expires_at
    # A failed registrar hop never erases the expiry it reported before, as
    # long as the domain is still with that registrar.
    if previous.registrar is not None and previous.registrar == record.registrar:
        return previous.registrar_expires_at
    return None


def _merge_dns(
    previous: DomainFacts, probe: DnsResult, observed_at: datetime, notes: list[str]
) -> dict[str, Any]:
    if probe.outcome is DnsOutcome.NOT_PROBED:
        return {}
    changes: dict[str, Any] = {
        "dns_outcome": probe.outcome,
        "dns_checked_at": observed_at,
    }
    if probe.outcome not in _ANSWERED:
        return changes

    nameservers = tuple(sorted(set(probe.nameservers)))
    mx = tuple(sorted(set(probe.mx)))
    changes.update(nameservers=nameservers, mx=mx)
    if _has_dns_answer(previous):
        changes["dns_changes"] = _dns_changes(previous, nameservers, mx, notes)
    else:
        changes["dns_changes"] = ()
    return changes


def _has_dns_answer(facts: DomainFacts) -> bool:
    # A SERVFAIL or timeout after an answer keeps that answer's records, so
    # stored records also show that an answer was seen.
    return facts.dns_outcome in _ANSWERED or bool(facts.nameservers or facts.mx)


def _dns_changes(
    previous: DomainFacts,
    nameservers: tuple[str, ...],
    mx: tuple[str, ...],
    notes: list[str],
) -> tuple[str, ...]:
    changes: list[str] = []
    if previous.nameservers and nameservers:
        moved = _operator_change(previous.nameservers, nameservers, notes)
        if moved is not None:
            changes.append(moved)
    elif nameservers and previous.dns_outcome is DnsOutcome.NXDOMAIN:
        changes.append(
            f"nameservers {', '.join(nameservers)} appeared after DNS returned NXDOMAIN"
        )
    if mx and not previous.mx:
        changes.append(f"MX {', '.join(mx)} appeared where there was none")
    return tuple(changes)


def _operator_change(
    old: Iterable[str], new: Iterable[str], notes: list[str]
) -> str | None:
    """Compare the operators of two nameserver sets by registrable domain.

    ``ns1.cloudflare.com`` and ``ns2.cloudflare.com`` are one operator,
    ``cloudflare.com``. The last two labels would be wrong for hosts such as
    ``ns1.example.co.uk``, so without the Public Suffix List no comparison is
    made and a note records that.
    """
    try:
        registrable = _registrable_domain_function()
        old_operators = sorted({registrable(host) for host in old})
        new_operators = sorted({registrable(host) for host in new})
    except (ImportError, AttributeError, ValueError) as exc:
        logger.debug("nameserver operator comparison skipped", exc_info=True)
        notes.append(f"nameserver operator comparison skipped: {exc}")
        return None

    if old_operators == new_operators:
        return None
    return (
        f"nameservers moved from {', '.join(old_operators)} to "
        f"{', '.join(new_operators)}"
    )


def _registrable_domain_function() -> Callable[[str], str]:
    # Imported on use: the name module loads the Public Suffix List, which
    # the check path should not pay for when it never merges DNS answers.
    names = importlib.import_module("domain_guard.names")
    find_domain = names.registrable_domain

    def registrable(host: str) -> str:
        return str(find_domain(host).domain)

    return registrable


def _track_lapse(facts: DomainFacts, observed_at: datetime) -> DomainFacts:
    """Record when the domain was last seen lapsed, and with which registrar.

    Evidence of an owner change since the last lapse is kept as it is:
    overwriting it with the new registrar would hide the change.
    """
    decision = decide(facts, observed_at)
    if decision.verdict not in LAPSED_VERDICTS:
        return facts
    if owner_change_reason(facts) is not None:
        return facts
    lapse = {"lapsed_seen_at": observed_at, "lapsed_registrar": facts.registrar}
    return _replace(facts, lapse)
