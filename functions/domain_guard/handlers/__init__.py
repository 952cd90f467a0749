"""Lambda entry points, one module per function, and the clients they share.

Clients are created on the first call that needs them and kept for the life of
the container, never at import time, so a cold import stays small and tests can
swap the AWS endpoint (moto) before anything connects.
"""

from __future__ import annotations

import functools
import os
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from ..config import Settings
from ..store import DomainStore

if TYPE_CHECKING:
    from ..lookup import Lookup

# Every AWS call has explicit timeouts; standard mode retries throttling with
# backoff, three attempts in all, before the adapter raises.
_CLIENT_CONFIG = Config(
    connect_timeout=2,
    read_timeout=5,
    retries={"max_attempts": 3, "mode": "standard"},
)


@functools.cache
def aws_client(service: str) -> Any:
    """Return this container's client for ``service``, creating it on first use."""
    return boto3.client(service, config=_CLIENT_CONFIG)  # type: ignore[call-overload]


def current_settings() -> Settings:
    """Return the Settings for this environment, parsed once per distinct value.

    Lambda never changes a function's environment while the container lives,
    so a warm invocation skips the parsing. ConfigError is raised every time.
    """
    relevant = tuple(
        sorted((k, v) for k, v in os.environ.items() if k.startswith("DOMAIN_GUARD_"))
    )
    return _settings_for(relevant)


@functools.lru_cache(maxsize=8)
def _settings_for(variables: tuple[tuple[str, str], ...]) -> Settings:
    return Settings.from_env(dict(variables))


def reset_clients() -> None:
    """Forget the cached clients, for tests that start a new moto account."""
    aws_client.cache_clear()


def utc_now() -> datetime:
    return datetime.now(UTC)


def build_lookup_for(
    settings: Settings,
    store: DomainStore,
    *,
    rdap_deadline: float = 10.0,
    dns_deadline: float = 3.0,
) -> Lookup:
    """Build the Lookup a handler uses, with the bootstrap dispatch stored.

    Imported here and not at the top, because httpx and dnspython are too
    heavy for the check's cold start, which needs them only for unseen domains.
    With no stored bootstrap the RDAP client fetches the IANA file itself.
    """
    from ..bootstrap import Bootstrap, packaged_overrides
    from ..lookup import build_lookup

    bootstrap = None
    if settings.rdap_base_url is None:
        cached = store.get_bootstrap()
        if cached is not None:
            bootstrap = Bootstrap.from_json(cached.data, overrides=packaged_overrides())
    return build_lookup(
        rdap_base_url=settings.rdap_base_url,
        bootstrap=bootstrap,
        nameservers=list(settings.nameservers) or None,
        dns_enabled=settings.dns_enabled,
        rdap_deadline=rdap_deadline,
        dns_deadline=dns_deadline,
    )
