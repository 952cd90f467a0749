"""Addresses and host names to registrable domains: PSL, UTS 46 and clear errors."""

from __future__ import annotations

import pytest

from domain_guard.errors import InvalidAddressError, InvalidDomainError
from domain_guard.names import (
    domain_from_email,
    mask_address,
    registrable_domain,
    to_a_label,
)

REGISTRABLE = [
    ("plain", "alice@example.com", "example.com"),
    ("subdomain", "alice@mail.example.co.uk", "example.co.uk"),
    ("two_label_suffix", "bob@shop.example.com.br", "example.com.br"),
    ("upper_case", "Carol@MAIL.Example.COM", "example.com"),
    ("trailing_dot", "dave@example.org.", "example.org"),
    ("ideographic_trailing_dot", "erin@example.org\u3002", "example.org"),
    ("fullwidth_trailing_dot", "erin@example.org\uff0e", "example.org"),
    ("wildcard_rule", "erin@a.b.foo.kawasaki.jp", "b.foo.kawasaki.jp"),
    ("exception_rule", "frank@www.city.kawasaki.jp", "city.kawasaki.jp"),
    ("idn_unicode", "gina@bücher.de", "xn--bcher-kva.de"),
    ("idn_uts46_mapping", "hal@BÜCHER.de", "xn--bcher-kva.de"),
    ("idn_fullwidth_dot", "ivy@example\uff0ecom", "example.com"),
    ("idn_a_label", "jo@xn--bcher-kva.de", "xn--bcher-kva.de"),
    ("idn_tld", "kim@пример.рф", "xn--e1afmkfd.xn--p1ai"),
    ("quoted_local_with_at", '"a@b"@example.net', "example.net"),
    ("surrounding_space", "  lee@example.com  ", "example.com"),
]


@pytest.mark.parametrize(
    ("email", "expected"),
    [case[1:] for case in REGISTRABLE],
    ids=[case[0] for case in REGISTRABLE],
)
def test_domain_from_email_registrable(email: str, expected: str) -> None:
    assert domain_from_email(email).domain == expected


def test_domain_from_email_keeps_host() -> None:
    name = domain_from_email("alice@mail.example.co.uk")
    assert name.host == "mail.example.co.uk"


def test_domain_from_email_unicode_form() -> None:
    name = domain_from_email("gina@xn--bcher-kva.de")
    assert name.unicode == "bücher.de"


def test_domain_from_email_icann_domain_has_no_reasons() -> None:
    name = domain_from_email("alice@mail.example.co.uk")
    assert name.private_suffix is None
    assert name.reasons == ()


PRIVATE = [
    ("github_pages", "alice@alice.github.io", "github.io", "github.io"),
    ("bare_private_suffix", "bob@github.io", "github.io", "github.io"),
    ("blogspot", "carol@someone.blogspot.com", "blogspot.com", "blogspot.com"),
]


@pytest.mark.parametrize(
    ("email", "domain", "suffix"),
    [case[1:] for case in PRIVATE],
    ids=[case[0] for case in PRIVATE],
)
def test_domain_from_email_private_suffix(email: str, domain: str, suffix: str) -> None:
    name = domain_from_email(email)
    assert name.domain == domain
    assert name.private_suffix == suffix


def test_domain_from_email_private_suffix_reason() -> None:
    name = domain_from_email("alice@alice.github.io")
    assert len(name.reasons) == 1
    assert "private-section suffix" in name.reasons[0]
    assert "checked at github.io" in name.reasons[0]


def test_registrable_domain_unlisted_tld_reason() -> None:
    name = registrable_domain("www.example.invalid")
    assert name.domain == "example.invalid"
    assert name.reasons == (
        "top-level domain invalid is not in the Public Suffix List",
    )


INVALID_ADDRESSES = [
    ("no_at", "alice.example.com", "has no '@'"),
    ("no_local_part", "@example.com", "no local part"),
    ("no_domain", "alice@", "no domain after '@'"),
    ("ipv4_literal", "alice@[192.0.2.1]", "IP address literal"),
    ("ipv6_literal", "alice@[IPv6:2001:db8::1]", "IP address literal"),
    ("bare_ip", "alice@192.0.2.1", "is an IP address"),
    ("bare_public_suffix", "alice@co.uk", "is a public suffix"),
    ("bare_tld", "alice@com", "single label"),
    ("empty_label", "alice@example..com", "has an empty label"),
    ("double_trailing_dot", "alice@example.com..", "has an empty label"),
    ("ideographic_double_dot", "alice@example.com\u3002\u3002", "has an empty label"),
    ("space_in_domain", "alice@exa mple.com", "not a valid host name"),
    ("underscore", "alice@ex_ample.com", "not a valid host name"),
    ("leading_hyphen", "alice@-example.com", "not a valid host name"),
    ("label_too_long", "alice@" + "a" * 64 + ".com", "not a valid host name"),
    ("bad_a_label", "alice@xn--zz.com", "not a valid host name"),
    ("too_long", "a" * 400 + "@example.com", "over the 320-character limit"),
]


@pytest.mark.parametrize(
    ("email", "message"),
    [case[1:] for case in INVALID_ADDRESSES],
    ids=[case[0] for case in INVALID_ADDRESSES],
)
def test_domain_from_email_invalid(email: str, message: str) -> None:
    with pytest.raises(InvalidAddressError, match=message):
        domain_from_email(email)


def test_domain_from_email_error_masks_local_part() -> None:
    with pytest.raises(InvalidAddressError) as caught:
        domain_from_email("secret.person@co.uk")
    assert "secret.person" not in str(caught.value)
    assert "s***@co.uk" in str(caught.value)


def test_domain_from_email_error_is_domain_error() -> None:
    with pytest.raises(InvalidDomainError):
        domain_from_email("alice@co.uk")


def test_domain_from_email_rejects_non_string() -> None:
    with pytest.raises(InvalidAddressError, match="must be a string"):
        domain_from_email(42)  # type: ignore[arg-type]


INVALID_DOMAINS = [
    ("empty", "", "is empty"),
    ("dot", ".", "is empty"),
    ("public_suffix", "com.br", "is a public suffix"),
    ("wildcard_suffix", "foo.kawasaki.jp", "is a public suffix"),
    ("ipv6", "2001:db8::1", "is an IP address"),
    ("ipv4", "10.0.0.1", "is an IP address"),
    ("numeric_labels", "1.2.3", "looks like an IPv4 address"),
]


@pytest.mark.parametrize(
    ("name", "message"),
    [case[1:] for case in INVALID_DOMAINS],
    ids=[case[0] for case in INVALID_DOMAINS],
)
def test_registrable_domain_invalid(name: str, message: str) -> None:
    with pytest.raises(InvalidDomainError, match=message):
        registrable_domain(name)


def test_registrable_domain_suffix_error_says_what_to_do() -> None:
    with pytest.raises(InvalidDomainError, match=r"such as example\.co\.uk"):
        registrable_domain("co.uk")


A_LABELS = [
    ("ascii", "Example.COM", "example.com"),
    ("trailing_dot", "example.com.", "example.com"),
    ("u_label", "fóo.example", "xn--fo-5ja.example"),
    ("a_label", "XN--FO-5JA.example", "xn--fo-5ja.example"),
    ("sharp_s_nontransitional", "straße.de", "xn--strae-oqa.de"),
]


@pytest.mark.parametrize(
    ("name", "expected"),
    [case[1:] for case in A_LABELS],
    ids=[case[0] for case in A_LABELS],
)
def test_to_a_label(name: str, expected: str) -> None:
    assert to_a_label(name) == expected


MASKS = [
    ("address", "alice@example.com", "a***@example.com"),
    ("no_at", "alice", "a***"),
    ("empty", "", "''"),
]


@pytest.mark.parametrize(
    ("email", "expected"),
    [case[1:] for case in MASKS],
    ids=[case[0] for case in MASKS],
)
def test_mask_address(email: str, expected: str) -> None:
    assert mask_address(email) == expected


@pytest.mark.parametrize("name", ["::1", "[::1]", "2001:db8::1"])
def test_registrable_domain_ipv6_literal(name: str) -> None:
    with pytest.raises(InvalidDomainError, match="is an IP address"):
        registrable_domain(name)
