from __future__ import annotations

import pytest

from domain_guard.config import Settings
from domain_guard.errors import ConfigError

BASE = {"DOMAIN_GUARD_TABLE": "state"}


def test_settings_defaults() -> None:
    settings = Settings.from_env(BASE)
    assert settings.table_name == "state"
    assert settings.warning_days == (30, 14, 7, 1)
    assert settings.allow_unknown is True
    assert settings.fail_closed is True
    assert settings.dns_enabled is True
    assert settings.rdap_base_url is None


def test_settings_policy_window_is_largest_day() -> None:
    settings = Settings.from_env({**BASE, "DOMAIN_GUARD_WARNING_DAYS": "7, 45,1"})
    assert settings.warning_days == (45, 7, 1)
    assert settings.policy().warning_days == 45


@pytest.mark.parametrize(
    ("name", "value", "attribute", "expected"),
    [
        ("DOMAIN_GUARD_UNKNOWN_POLICY", "deny", "allow_unknown", False),
        ("DOMAIN_GUARD_UNKNOWN_POLICY", "ALLOW", "allow_unknown", True),
        ("DOMAIN_GUARD_CHECK_FAILURE_POLICY", "fail-open", "fail_closed", False),
        ("DOMAIN_GUARD_NO_DNS", "true", "dns_enabled", False),
        ("DOMAIN_GUARD_NO_DNS", "0", "dns_enabled", True),
        ("DOMAIN_GUARD_DUE_SHARDS", "4", "due_shards", 4),
        ("DOMAIN_GUARD_RDAP_RATE", "0.5", "rdap_rate_per_second", 0.5),
        (
            "DOMAIN_GUARD_NAMESERVER",
            "127.0.0.1:5353",
            "nameservers",
            ("127.0.0.1:5353",),
        ),
        (
            "DOMAIN_GUARD_RDAP_BASE_URL",
            "http://127.0.0.1:8053",
            "rdap_base_url",
            "http://127.0.0.1:8053",
        ),
    ],
)
def test_settings_reads_variable(
    name: str, value: str, attribute: str, expected: object
) -> None:
    settings = Settings.from_env({**BASE, name: value})
    assert getattr(settings, attribute) == expected


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DOMAIN_GUARD_UNKNOWN_POLICY", "maybe"),
        ("DOMAIN_GUARD_CHECK_FAILURE_POLICY", "closed"),
        ("DOMAIN_GUARD_WARNING_DAYS", "30,x"),
        ("DOMAIN_GUARD_WARNING_DAYS", "0"),
        ("DOMAIN_GUARD_DUE_SHARDS", "0"),
        ("DOMAIN_GUARD_DUE_SHARDS", "two"),
        ("DOMAIN_GUARD_RDAP_RATE", "-1"),
        ("DOMAIN_GUARD_RDAP_RATE", "nan"),
        ("DOMAIN_GUARD_NO_DNS", "perhaps"),
        ("DOMAIN_GUARD_NAMESERVER", "127.0.0.1:99999"),
        ("DOMAIN_GUARD_MASS_CHANGE_SHARE", "1.5"),
    ],
)
def test_settings_bad_value_names_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as error:
        Settings.from_env({**BASE, name: value})
    assert name in str(error.value)
    assert repr(value) in str(error.value)


def test_settings_missing_table() -> None:
    with pytest.raises(ConfigError, match="DOMAIN_GUARD_TABLE"):
        Settings.from_env({})
