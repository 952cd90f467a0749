"""Lenient RDAP date parsing: every form registries send, and junk that is no date."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain_guard.dates import format_rdap_date, parse_rdap_date

READABLE = [
    ("zulu", "2024-11-12T19:15:55Z", datetime(2024, 11, 12, 19, 15, 55, tzinfo=UTC)),
    (
        "lowercase_t_z",
        "2024-11-12t19:15:55z",
        datetime(2024, 11, 12, 19, 15, 55, tzinfo=UTC),
    ),
    (
        "offset_colon",
        "2024-06-18T22:01:39+03:00",
        datetime(2024, 6, 18, 19, 1, 39, tzinfo=UTC),
    ),
    (
        "offset_no_colon",
        "2025-10-31T00:00:00.000+0000",
        datetime(2025, 10, 31, tzinfo=UTC),
    ),
    (
        "negative_offset",
        "2024-01-01T20:00:00-0500",
        datetime(2024, 1, 2, 1, 0, tzinfo=UTC),
    ),
    (
        "one_fraction_digit",
        "2021-11-17T16:00:29.0Z",
        datetime(2021, 11, 17, 16, 0, 29, tzinfo=UTC),
    ),
    (
        "three_fraction_digits",
        "2024-11-12T19:15:55.283Z",
        datetime(2024, 11, 12, 19, 15, 55, 283000, tzinfo=UTC),
    ),
    (
        "six_fraction_digits",
        "2022-10-12T18:54:01.785057Z",
        datetime(2022, 10, 12, 18, 54, 1, 785057, tzinfo=UTC),
    ),
    (
        "nine_fraction_digits",
        "2022-10-12T18:54:01.123456789Z",
        datetime(2022, 10, 12, 18, 54, 1, 123456, tzinfo=UTC),
    ),
    ("date_only", "2024-07-05", datetime(2024, 7, 5, tzinfo=UTC)),
    (
        "no_zone_read_as_utc",
        "2024-07-05T00:00:00",
        datetime(2024, 7, 5, tzinfo=UTC),
    ),
    (
        "space_separator",
        "2017-09-24 19:25:32",
        datetime(2017, 9, 24, 19, 25, 32, tzinfo=UTC),
    ),
    (
        "utc_word",
        "2017-09-24 19:25:32 UTC",
        datetime(2017, 9, 24, 19, 25, 32, tzinfo=UTC),
    ),
    (
        "surrounding_space",
        " 2024-01-01T00:00:00z ",
        datetime(2024, 1, 1, tzinfo=UTC),
    ),
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [case[1:] for case in READABLE],
    ids=[case[0] for case in READABLE],
)
def test_parse_rdap_date_readable(text: str, expected: datetime) -> None:
    assert parse_rdap_date(text) == expected


@pytest.mark.parametrize(("text", "expected"), [case[1:] for case in READABLE])
def test_parse_rdap_date_is_utc(text: str, expected: datetime) -> None:
    parsed = parse_rdap_date(text)
    assert parsed is not None
    assert parsed.utcoffset() is not None
    assert parsed.utcoffset() == expected.utcoffset()


UNREADABLE = [
    ("none", None),
    ("empty", ""),
    ("number", 20240101),
    ("float", 1.5e9),
    ("list", ["2024-01-01"]),
    ("dict", {"date": "2024-01-01"}),
    ("words", "next Tuesday"),
    ("redacted_marker", "REDACTED FOR PRIVACY"),
    ("month_thirteen", "2024-13-01T00:00:00Z"),
    ("hour_twenty_four", "2024-01-01T24:00:00Z"),
    ("huge_string", "2024-01-01" + "0" * 10_000),
    ("boolean", True),
]


@pytest.mark.parametrize(
    "value", [case[1] for case in UNREADABLE], ids=[case[0] for case in UNREADABLE]
)
def test_parse_rdap_date_unreadable_is_none(value: object) -> None:
    assert parse_rdap_date(value) is None


def test_parse_rdap_date_year_one_offset_is_none() -> None:
    # Converting to UTC would fall before year 1.
    assert parse_rdap_date("0001-01-01T00:00:00+01:00") is None


def test_parse_rdap_date_orders_across_offsets() -> None:
    earlier = parse_rdap_date("2024-01-01T10:00:00+02:00")
    later = parse_rdap_date("2024-01-01T09:00:00Z")
    assert earlier is not None and later is not None
    assert earlier < later


def test_format_rdap_date_uses_z() -> None:
    value = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert format_rdap_date(value) == "2024-01-02T03:04:05Z"


def test_format_rdap_date_round_trips() -> None:
    value = datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    assert parse_rdap_date(format_rdap_date(value)) == value


@pytest.mark.parametrize(
    "text",
    ["2024-01-01T00:00:00Z\x00", "2024-01-01\x00junk", "2024-01-01T00:00:00\x07Z"],
    ids=["trailing_nul", "nul_then_junk", "bell_inside"],
)
def test_parse_rdap_date_control_characters(text: str) -> None:
    assert parse_rdap_date(text) is None
