"""Deployment settings read from the Lambda environment.

The template sets every ``DOMAIN_GUARD_*`` variable a function needs. The three
local-only variables (``DOMAIN_GUARD_RDAP_BASE_URL``, ``DOMAIN_GUARD_NAMESERVER``
and ``DOMAIN_GUARD_NO_DNS``) are set by the local demo and tests, never by the
template.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass

from .errors import ConfigError
from .models import Policy

DEFAULT_WARNING_DAYS = (30, 14, 7, 1)


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a handler reads from its environment."""

    table_name: str
    queue_url: str | None = None
    dead_letter_queue_url: str | None = None
    owner_topic_arn: str | None = None
    operator_topic_arn: str | None = None
    warning_days: tuple[int, ...] = DEFAULT_WARNING_DAYS  # descending
    allow_unknown: bool = True
    fail_closed: bool = True  # check and authorizer deny on an internal error
    # An allowing verdict becomes `unknown` when no lookup confirmed the state
    # for `max_age_hours` (two daily DNS probes missed) or the registry data is
    # older than `rdap_max_age_hours` (a weekly RDAP query missed, schedule.py).
    max_age_hours: float = 48.0
    rdap_max_age_hours: float = 240.0
    due_shards: int = 16
    rdap_rate_per_second: float = 1.0  # per RDAP server, across all workers
    rdap_burst: float = 3.0
    # The mass-change valve trips when a sweep moves more than this share of
    # its domains from allow to deny, and at least `mass_change_min` of them.
    mass_change_share: float = 0.2
    mass_change_min: int = 25
    check_lookup_deadline: float = 4.0  # seconds, RDAP plus DNS for an unseen domain
    authorizer_ttl_seconds: int = 0
    rdap_base_url: str | None = None  # local only
    nameservers: tuple[str, ...] = ()  # local only
    dns_enabled: bool = True  # local only: DOMAIN_GUARD_NO_DNS turns it off

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the settings, raising ConfigError that names a bad variable."""
        env = os.environ if environ is None else environ
        reader = _Reader(env)
        return cls(
            table_name=reader.required("DOMAIN_GUARD_TABLE"),
            queue_url=reader.optional("DOMAIN_GUARD_QUEUE_URL"),
            dead_letter_queue_url=reader.optional("DOMAIN_GUARD_DLQ_URL"),
            owner_topic_arn=reader.optional("DOMAIN_GUARD_OWNER_TOPIC_ARN"),
            operator_topic_arn=reader.optional("DOMAIN_GUARD_OPERATOR_TOPIC_ARN"),
            warning_days=reader.days("DOMAIN_GUARD_WARNING_DAYS"),
            allow_unknown=reader.choice(
                "DOMAIN_GUARD_UNKNOWN_POLICY", {"allow": True, "deny": False}, True
            ),
            fail_closed=reader.choice(
                "DOMAIN_GUARD_CHECK_FAILURE_POLICY",
                {"fail-closed": True, "fail-open": False},
                True,
            ),
            max_age_hours=reader.number("DOMAIN_GUARD_MAX_AGE_HOURS", 48.0),
            rdap_max_age_hours=reader.number("DOMAIN_GUARD_RDAP_MAX_AGE_HOURS", 240.0),
            due_shards=reader.integer("DOMAIN_GUARD_DUE_SHARDS", 16, maximum=1000),
            rdap_rate_per_second=reader.number("DOMAIN_GUARD_RDAP_RATE", 1.0),
            rdap_burst=reader.number("DOMAIN_GUARD_RDAP_BURST", 3.0),
            mass_change_share=reader.number(
                "DOMAIN_GUARD_MASS_CHANGE_SHARE", 0.2, maximum=1.0
            ),
            mass_change_min=reader.integer("DOMAIN_GUARD_MASS_CHANGE_MIN", 25),
            check_lookup_deadline=reader.number(
                "DOMAIN_GUARD_CHECK_LOOKUP_DEADLINE", 4.0, maximum=60.0
            ),
            authorizer_ttl_seconds=reader.integer(
                "DOMAIN_GUARD_AUTHORIZER_TTL", 0, minimum=0, maximum=3600
            ),
            rdap_base_url=reader.optional("DOMAIN_GUARD_RDAP_BASE_URL"),
            nameservers=reader.nameservers("DOMAIN_GUARD_NAMESERVER"),
            dns_enabled=not reader.flag("DOMAIN_GUARD_NO_DNS"),
        )

    def policy(self) -> Policy:
        """Return the verdict policy: the warning window is the largest warning day."""
        return Policy(
            warning_days=self.warning_days[0],
            allow_unknown=self.allow_unknown,
            max_age_hours=self.max_age_hours,
            rdap_max_age_hours=self.rdap_max_age_hours,
        )


class _Reader:
    """Parses single variables, raising ConfigError with the name and value."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env

    def optional(self, name: str) -> str | None:
        value = self._env.get(name, "").strip()
        return value or None

    def required(self, name: str) -> str:
        value = self.optional(name)
        if value is None:
            raise ConfigError(f"{name} is missing: set it to the DynamoDB table name")
        return value

    def number(self, name: str, default: float, *, maximum: float = math.inf) -> float:
        text = self.optional(name)
        if text is None:
            return default
        try:
            value = float(text)
        except ValueError:
            raise ConfigError(f"{name}={text!r} is not a number") from None
        if not math.isfinite(value) or value <= 0 or value > maximum:
            raise ConfigError(
                f"{name}={text!r} is out of range: expected above 0 and at most "
                f"{maximum}"
            )
        return value

    def integer(
        self,
        name: str,
        default: int,
        *,
        minimum: int = 1,
        maximum: int = 1_000_000,
    ) -> int:
        text = self.optional(name)
        if text is None:
            return default
        try:
            value = int(text)
        except ValueError:
            raise ConfigError(f"{name}={text!r} is not a whole number") from None
        if not minimum <= value <= maximum:
            raise ConfigError(
                f"{name}={text!r} is out of range: expected {minimum} to {maximum}"
            )
        return value

    def choice(self, name: str, choices: Mapping[str, bool], default: bool) -> bool:
        text = self.optional(name)
        if text is None:
            return default
        key = text.lower()
        if key not in choices:
            expected = " or ".join(sorted(choices))
            raise ConfigError(f"{name}={text!r} is invalid: expected {expected}")
        return choices[key]

    def flag(self, name: str) -> bool:
        text = self.optional(name)
        if text is None:
            return False
        key = text.lower()
        if key in {"1", "true", "yes"}:
            return True
        if key in {"0", "false", "no"}:
            return False
        raise ConfigError(f"{name}={text!r} is invalid: expected true or false")

    def days(self, name: str) -> tuple[int, ...]:
        text = self.optional(name)
        if text is None:
            return DEFAULT_WARNING_DAYS
        days: set[int] = set()
        for part in text.split(","):
            try:
                day = int(part.strip())
            except ValueError:
                raise ConfigError(
                    f"{name}={text!r} is invalid: {part.strip()!r} is not a whole "
                    "number of days"
                ) from None
            if not 1 <= day <= 365:
                raise ConfigError(
                    f"{name}={text!r} is invalid: {day} is outside 1 to 365 days"
                )
            days.add(day)
        return tuple(sorted(days, reverse=True))

    def nameservers(self, name: str) -> tuple[str, ...]:
        text = self.optional(name)
        if text is None:
            return ()
        servers = tuple(part.strip() for part in text.split(",") if part.strip())
        for server in servers:
            host, _, port = (
                server.rpartition(":") if ":" in server else (server, "", "")
            )
            if port and not (port.isdigit() and 0 < int(port) < 65536):
                raise ConfigError(
                    f"{name}={text!r} is invalid: {server!r} has a bad port"
                )
            if not host:
                raise ConfigError(f"{name}={text!r} is invalid: {server!r} has no host")
        return servers
