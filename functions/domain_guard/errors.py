"""The exceptions Domain Guard raises. Vendor errors are chained with ``from``."""

from __future__ import annotations


class DomainGuardError(Exception):
    """Base class of every error Domain Guard raises on purpose."""


class ConfigError(DomainGuardError):
    """An environment variable holds a value the deployment cannot use."""


class StoreError(DomainGuardError):
    """A DynamoDB call failed. The message names the operation and the key."""


class StaleWriteError(StoreError):
    """A conditional write lost a race: the item changed since it was read."""


class PublishError(DomainGuardError):
    """An SNS publish failed, so the warning or alert was not sent."""


class InvalidRequestError(DomainGuardError):
    """A handler event lacks a field or holds a value of the wrong form."""


# RDAP layer: names, bodies, bootstrap and fetches.


class InvalidDomainError(DomainGuardError, ValueError):
    """A name is not a registrable domain: malformed, a bare public suffix or an IP."""


class InvalidAddressError(InvalidDomainError):
    """An email address is malformed or its domain part is not a registrable domain."""


class RdapBodyError(DomainGuardError, ValueError):
    """A JSON body is not an RDAP domain object (null, a list, an error body, ...)."""


class RdapConfigError(DomainGuardError, ValueError):
    """An RDAP client setting is unusable, such as plain http off loopback."""


class BootstrapError(DomainGuardError):
    """The IANA RDAP bootstrap file could not be fetched or read."""


class RdapFetchError(DomainGuardError):
    """One RDAP request failed; ``retry_after`` is in seconds, when sent."""

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


# DNS layer.


class InvalidNameserverError(DomainGuardError, ValueError):
    """A configured nameserver is not an IP address or localhost with a valid port."""
