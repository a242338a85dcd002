"""The PII detectors on real-looking data: what they catch, what they must leave alone."""

from __future__ import annotations

import base64
import random
import string

import pytest

from switchyard.guardrails.detectors import (
    DETECTORS,
    PiiKind,
    iban_valid,
    luhn_valid,
    random_looking,
)
from switchyard.guardrails.rules import Finder


def found(kind: PiiKind, text: str) -> list[str]:
    detector = DETECTORS[kind]
    finder = Finder(detector.pattern, "x", detector.valid)
    return [text[start:end] for start, end in finder.spans(text, 0, len(text))]


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("4111111111111111", True),  # Visa's test number
        ("4111 1111 1111 1111", True),
        ("5555-5555-5555-4444", True),  # Mastercard's
        ("378282246310005", True),  # American Express's (15 digits)
        ("6011111111111117", True),  # Discover's
        ("4111111111111112", False),  # one digit off
        ("1234567812345678", False),
        ("411111111111", False),  # 12 digits: too short for a card
    ],
)
def test_luhn(number: str, valid: bool) -> None:
    assert luhn_valid(number) is valid


@pytest.mark.parametrize(
    ("iban", "valid"),
    [
        ("DE89 3704 0044 0532 0130 00", True),
        ("GB82 WEST 1234 5698 7654 32", True),
        ("FR14 2004 1010 0505 0001 3M02 606", True),
        ("NL91ABNA0417164300", True),
        ("CH9300762011623852957", True),
        ("GB82WEST12345698765433", False),  # check digits do not match
        ("DE89 3704 0044 0532 0130 0", False),  # a German IBAN is 22 characters
        ("ZZ89370400440532013000", False),  # no such country
    ],
)
def test_iban_mod_97(iban: str, valid: bool) -> None:
    assert iban_valid(iban) is valid


def test_cards_are_found_in_text_only_when_luhn_valid() -> None:
    text = (
        "Charge 4111 1111 1111 1111 or 5555-5555-5555-4444, not 4111 1111 1111 1112; "
        "order #1234567812345678 shipped, Amex 378282246310005."
    )
    assert found("credit_card", text) == [
        "4111 1111 1111 1111",
        "5555-5555-5555-4444",
        "378282246310005",
    ]


def test_a_card_inside_a_longer_invalid_run_is_still_found() -> None:
    # the run of 17 digits fails the check; the valid 16 inside it must not hide behind it
    assert not luhn_valid("7 4111 1111 1111 1111")
    assert found("credit_card", "ref 7 4111 1111 1111 1111") == ["4111 1111 1111 1111"]


def test_ibans_are_found_only_when_their_check_digits_hold() -> None:
    text = "Pay to DE89 3704 0044 0532 0130 00 (not GB82WEST12345698765433) or NL91ABNA0417164300."
    assert found("iban", text) == ["DE89 3704 0044 0532 0130 00", "NL91ABNA0417164300"]


def test_emails() -> None:
    text = "Write to jane.doe+news@example.co.uk or ops@mail.acme-corp.io; not @handle, a@b, x@y."
    assert found("email", text) == ["jane.doe+news@example.co.uk", "ops@mail.acme-corp.io"]


def test_phone_numbers_but_not_dates_versions_or_amounts() -> None:
    text = (
        "Call +44 20 7946 0958 or +1 (415) 555-0132, the desk on (415) 555-0199 or "
        "030 1234 5678. Released 2026-12-03 as version 10.2.3, price 1,299.00, id 12345678."
    )
    assert found("phone", text) == [
        "+44 20 7946 0958",
        "+1 (415) 555-0132",
        "(415) 555-0199",
        "030 1234 5678",
    ]


def test_api_keys_by_prefix() -> None:
    openai_key = "sk-proj-" + "Ab3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF"
    aws = "AKIAIOSFODNN7EXAMPLE"  # AWS's documentation example
    github = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
    anthropic_key = "sk-ant-api03-" + "x" * 40
    text = f"keys: {openai_key}, {aws}; token={github} and {anthropic_key}."
    assert found("api_key", text) == [openai_key, aws, github, anthropic_key]


def test_unprefixed_random_tokens_are_keys_but_hashes_ids_and_identifiers_are_not() -> None:
    rng = random.Random(7)
    alphabet = string.ascii_letters + string.digits
    secret = "".join(rng.choice(alphabet) for _ in range(40))
    assert random_looking(secret)
    assert found("api_key", f"secret: {secret}") == [secret]
    harmless = [
        "3f786850e387550fdab836ed7e6dc881de23001b",  # a commit hash (no upper case)
        "123e4567-e89b-12d3-a456-426614174000",  # a UUID
        "AbstractSingletonProxyFactoryBean2",  # an identifier: words in camel case
        "getUserByEmailAddressAndPassword2FA",
        "internationalization_and_localization_2024",
    ]
    for token in harmless:
        assert found("api_key", f"see {token} here") == [], token


def test_random_tokens_are_caught_almost_always() -> None:
    """The unprefixed heuristic's miss rate on random secrets (base62 and base64) is small."""
    rng = random.Random(11)
    alphabet = string.ascii_letters + string.digits
    tokens = ["".join(rng.choice(alphabet) for _ in range(40)) for _ in range(500)]
    tokens += [base64.b64encode(rng.randbytes(30)).decode() for _ in range(500)]
    missed = sum(not random_looking(token) for token in tokens)
    assert missed < 30  # under 3%


def test_every_detector_bounds_its_match() -> None:
    """A stream holds back ``max_length`` characters: nothing longer may ever match."""
    samples: dict[PiiKind, str] = {
        "email": "a" * 64 + "@" + "b" * 60 + "." + "c" * 60 + ".com",
        "phone": "+1 (4) 1 5 5 5 5 0 1 3 2 9 9 9 9",
        "credit_card": "4-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1",
        "iban": "GB82 " + "W E S T " * 8,
        "api_key": "ghp_" + "a1B2" * 100,
    }
    for kind, text in samples.items():
        pattern = DETECTORS[kind].pattern
        for match in pattern.finditer(text):
            assert len(match.group()) <= DETECTORS[kind].max_length, kind
