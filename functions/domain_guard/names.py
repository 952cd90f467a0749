"""Email addresses and host names to the registrable domain that RDAP is asked about.

The registrable domain comes from the ICANN section of the Public Suffix List:
``mail.example.co.uk`` is registered as ``example.co.uk``. Private-section
suffixes such as ``github.io`` are companies handing out subdomains, not
registries. An address under one is checked at the domain registered under
the ICANN suffix (``github.io`` under ``io``), and the reasons state this.
Internationalised names are mapped with UTS 46 and carried as A-labels.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from functools import cache

from publicsuffixlist import PublicSuffixList

from .errors import InvalidAddressError, InvalidDomainError

logger = logging.getLogger(__name__)

# RFC 1035 section 2.3.4: 253 characters in presentation form without the
# trailing dot, 63 per label.
MAX_NAME_LENGTH = 253
MAX_LABEL_LENGTH = 63
# RFC 5321 section 4.5.3.1.3 caps a forward path at 256 octets; anything longer
# is not an address a mail server would accept.
MAX_ADDRESS_LENGTH = 320


@dataclass(frozen=True)
class DomainName:
    """A registrable domain and the host it was derived from, both as A-labels."""

    domain: str
    host: str
    unicode: str
    private_suffix: str | None = None
    reasons: tuple[str, ...] = ()


@cache
def _icann_list() -> PublicSuffixList:
    # accept_unknown off: an unlisted TLD returns None, so it can be reported.
    return PublicSuffixList(only_icann=True, accept_unknown=False)


@cache
def _full_list() -> PublicSuffixList:
    return PublicSuffixList(only_icann=False)


def domain_from_email(email: str) -> DomainName:
    """Return the registrable domain of an email address's domain part.

    Raises InvalidAddressError for a malformed address, an address without a
    domain part, an IP literal, or a domain part that is a bare public suffix.
    """
    if not isinstance(email, str):
        raise InvalidAddressError(
            f"email address must be a string, not {type(email).__name__}"
        )
    text = email.strip()
    masked = mask_address(text)
    if len(text) > MAX_ADDRESS_LENGTH:
        raise InvalidAddressError(
            f"email address {masked} is {len(text)} characters, over the"
            f" {MAX_ADDRESS_LENGTH}-character limit; send the address as entered"
        )
    local, at, host = text.rpartition("@")
    if not at:
        raise InvalidAddressError(
            f"email address {masked} has no '@'; send a full address such as"
            " user@example.com"
        )
    if not local:
        raise InvalidAddressError(
            f"email address {masked} has no local part before '@'"
        )
    if not host:
        raise InvalidAddressError(
            f"email address {masked} has no domain after '@'; send a full address"
            " such as user@example.com"
        )
    if host.startswith("[") or host.endswith("]"):
        raise InvalidAddressError(
            f"email address {masked} uses an IP address literal as its domain;"
            " only addresses at a registered domain can be checked"
        )
    try:
        return registrable_domain(host)
    except InvalidAddressError:
        raise
    except InvalidDomainError as exc:
        raise InvalidAddressError(f"email address {masked}: {exc}") from exc


def registrable_domain(name: str) -> DomainName:
    """Return the registrable domain (ICANN section of the PSL) of a host name.

    Raises InvalidDomainError for a malformed name, an IP address, a single
    label, or a name that is itself a public suffix.
    """
    if not isinstance(name, str):
        raise InvalidDomainError(f"domain must be a string, not {type(name).__name__}")
    if ":" in name:
        # An IPv6 literal, bare or in brackets, would otherwise be reported
        # as a host name with an invalid character.
        _reject_ip(name, name.strip().strip("[]"))
    host = to_a_label(name)
    _reject_ip(name, host)
    if "." not in host:
        raise InvalidDomainError(
            f"domain {name!r} is a single label; send a registered domain such as"
            " example.com"
        )

    reasons: list[str] = []
    icann_suffix = _icann_list().publicsuffix(host)
    if icann_suffix is None:
        # Not listed at all: read the last label as the suffix, as the PSL's
        # default rule "*" does.
        icann_suffix = host.rsplit(".", 1)[-1]
        reasons.append(
            f"top-level domain {icann_suffix} is not in the Public Suffix List"
        )
    if icann_suffix == host:
        raise InvalidDomainError(
            f"domain {name!r} is a public suffix (ICANN section of the Public"
            " Suffix List), not a registrable domain; send a name registered"
            f" under it, such as example.{host}"
        )
    registered_label = host[: -len(icann_suffix) - 1].rsplit(".", 1)[-1]
    domain = f"{registered_label}.{icann_suffix}"

    private_suffix = _private_suffix(host, icann_suffix)
    if private_suffix is not None:
        place = "is" if private_suffix == host else f"is under {private_suffix},"
        reasons.append(
            f"{host} {place} a private-section suffix of the Public Suffix List;"
            f" checked at {domain}, the domain registered under {icann_suffix}"
        )
    return DomainName(
        domain=domain,
        host=host,
        unicode=_to_unicode(domain),
        private_suffix=private_suffix,
        reasons=tuple(reasons),
    )


_FULL_STOPS = ("\u3002", "\uff0e", "\uff61")


def to_a_label(name: str) -> str:
    """Map a host name with UTS 46 and return its lowercase A-label form.

    A trailing dot is dropped. Raises InvalidDomainError naming the value when
    the name is empty, too long or not a valid host name.
    """
    text = name.strip()
    # UTS 46 maps these full stops to "." (ideographic, fullwidth, halfwidth);
    # they must be dots before the trailing root dot is dropped.
    for stop in _FULL_STOPS:
        text = text.replace(stop, ".")
    if text.endswith("."):
        text = text[:-1]
    if not text:
        raise InvalidDomainError(
            f"domain {name!r} is empty; send a registered domain such as example.com"
        )
    if text.startswith(".") or text.endswith(".") or ".." in text:
        raise InvalidDomainError(
            f"domain {name!r} has an empty label; remove the extra dot"
        )
    if text.isascii():
        candidate = text.lower()
        if _is_plain_ldh(candidate):
            return candidate
    import idna  # only names that are not plain LDH need it; keeps cold starts small

    try:
        encoded = idna.encode(text, uts46=True, std3_rules=True, transitional=False)
    except (idna.IDNAError, UnicodeError, ValueError) as exc:
        raise InvalidDomainError(
            f"domain {name!r} is not a valid host name ({exc}); use letters,"
            " digits and hyphens between dots"
        ) from exc
    result = encoded.decode("ascii").lower()
    if len(result) > MAX_NAME_LENGTH:
        raise InvalidDomainError(
            f"domain {name!r} is {len(result)} characters as an A-label, over the"
            f" {MAX_NAME_LENGTH}-character limit"
        )
    return result


def mask_address(email: str) -> str:
    """Return an address with its local part masked, safe for logs and errors."""
    local, at, host = email.rpartition("@")
    if not at:
        return f"{email[:1]}***" if email else "''"
    return f"{local[:1]}***@{host}"


def _is_plain_ldh(name: str) -> bool:
    """Tell whether a lowercase ASCII name is already a valid A-label host name.

    The common case: no IDNA work is needed, only length and LDH checks
    (RFC 5891 section 4.2.3.1 forbids "--" in positions 3-4 unless "xn--").
    """
    if len(name) > MAX_NAME_LENGTH:
        return False
    for label in name.split("."):
        if not label or len(label) > MAX_LABEL_LENGTH:
            return False
        if label[0] == "-" or label[-1] == "-":
            return False
        if not label.replace("-", "").isalnum():
            return False
        if label[2:4] == "--":
            # A-labels must decode, so leave "xn--" labels to the idna package.
            return False
    return True


def _reject_ip(original: str, host: str) -> None:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if host.replace(".", "").isdigit():
            raise InvalidDomainError(
                f"domain {original!r} looks like an IPv4 address; only registered"
                " domains can be checked"
            ) from None
        return
    raise InvalidDomainError(
        f"domain {original!r} is an IP address; only registered domains can be checked"
    )


def _private_suffix(host: str, icann_suffix: str) -> str | None:
    suffix = _full_list().publicsuffix(host)
    if suffix is None or suffix == icann_suffix:
        return None
    return str(suffix)


def _to_unicode(domain: str) -> str:
    if "xn--" not in domain:
        return domain
    import idna

    try:
        return str(idna.decode(domain))
    except (idna.IDNAError, UnicodeError, ValueError):
        logger.debug("A-label does not decode: domain=%s", domain)
        return domain
