"""The ``pii`` guardrail's detectors (pure): what personal data and credentials look like.

Each detector is a regular expression that finds candidates and, where the data carries its own
check, a validator that keeps only the real ones, so an order number is not taken for a card:

- ``email``: ``local@domain.tld`` (a local part of at most 64 characters, a whole address of
  at most 254, RFC 5321's limits);
- ``phone``: an international number (``+`` and 8 to 15 digits, ITU-T E.164) or a national one
  written with a separator (``(555) 123-4567``, ``030 1234 5678``): a bare run of digits is too
  often something else to count as a phone number;
- ``credit_card``: 13 to 19 digits, optionally grouped by spaces or dashes, that pass the Luhn
  check;
- ``iban``: a country code, two check digits and up to 30 letters and digits (optionally in
  groups of four), whose mod-97 check (ISO 13616) comes out at 1;
- ``api_key``: the prefixes providers give their keys (``sk-``, ``sk-ant-``, ``AKIA``,
  ``ghp_``/``gho_``/``ghs_``/``github_pat_``, ``xox[bpas]-``, ``AIza``, ``hf_``), and long
  tokens that look random: 32+ characters mixing upper case, lower case and digits, with at
  least 4 bits of entropy per character, that switch between those classes at least every
  third character, and less than a third of them in runs of four or more lower-case letters
  (words). A commit hash or a UUID (no upper case) and a ``CamelCaseIdentifier2``
  (words: few switches) stay; base64 of random bytes is caught, and so is base64 of text.

``max_length`` is the longest match a detector can report: a stream holds back that many
characters (see :mod:`switchyard.guardrails.scan`).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from typing import Literal

PiiKind = Literal["email", "phone", "credit_card", "iban", "api_key"]
PII_KINDS: tuple[PiiKind, ...] = ("email", "phone", "credit_card", "iban", "api_key")


@dataclass(frozen=True, slots=True)
class Detector:
    kind: PiiKind
    pattern: re.Pattern[str]
    max_length: int
    valid: Callable[[str], bool] | None = None


def luhn_valid(text: str) -> bool:
    """The Luhn check of the digits in ``text`` (separators ignored): card numbers pass it."""
    digits = [int(c) for c in text if c.isdigit()]
    if not 13 <= len(digits) <= 19:
        return False
    total = 0
    for i, digit in enumerate(reversed(digits)):
        if i % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


# ISO 13616 lengths of the countries that issue IBANs (a wrong length is no IBAN)
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20,
    "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18,
    "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24,
    "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24,
    "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip


def iban_valid(text: str) -> bool:
    """The ISO 13616 check of an IBAN (spaces ignored): its country's length, and the number
    made of its last characters then its first four, letters as 10-35, is 1 modulo 97."""
    iban = text.replace(" ", "").upper()
    if IBAN_LENGTHS.get(iban[:2]) != len(iban) or not iban[2:4].isdigit():
        return False
    rearranged = iban[4:] + iban[:4]
    number = "".join(str(int(c, 36)) for c in rearranged)
    return int(number) % 97 == 1


def entropy_bits(text: str) -> float:
    """Shannon entropy per character of ``text``."""
    counts = Counter(text)
    size = len(text)
    return -sum(n / size * math.log2(n / size) for n in counts.values())


_WORDS = re.compile(r"[a-z]{4,}")


def _class(c: str) -> int:
    return 0 if c.isupper() else 1 if c.islower() else 2 if c.isdigit() else 3


def random_looking(token: str) -> bool:
    """A prefixed key is always a key; an unprefixed long token only when it looks random (see
    the module's docstring): random base62 switches class on ~60% of its characters, words
    written in camel case on ~15%."""
    if KEY_PREFIXES.match(token):
        return True
    classes = [_class(c) for c in token]
    if not {0, 1, 2} <= set(classes):
        return False
    switches = sum(a != b for a, b in pairwise(classes))
    wordy = sum(len(run) for run in _WORDS.findall(token))  # in runs of 4+ lower-case letters
    return switches * 3 >= len(token) and wordy * 3 < len(token) and entropy_bits(token) >= 4.0


def email_valid(text: str) -> bool:
    local = text.partition("@")[0]
    return len(text) <= 254 and len(local) <= 64 and ".." not in text


def phone_valid(text: str) -> bool:
    digits = sum(c.isdigit() for c in text)
    return 8 <= digits <= 15 if text.startswith("+") else 10 <= digits <= 12


KEY_PREFIXES = re.compile(
    r"sk-(?:ant-|proj-|sy-)?|AKIA|ASIA|gh[pousr]_|github_pat_|xox[bpas]-|AIza|hf_"
)

DETECTORS: dict[PiiKind, Detector] = {
    "email": Detector(
        "email",
        re.compile(
            r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@"
            r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,8}[A-Za-z]{2,24}(?![\w-])"
        ),
        254,
        email_valid,
    ),
    "phone": Detector(
        "phone",
        re.compile(
            # not inside a longer run of grouped digits (a card number, an amount)
            r"(?<![\w+])(?<!\d[ .-])"
            r"(?:\+[1-9](?:[ .-]?\(?\d\)?){7,14}"  # +49 30 1234 5678, +1 (555) ...
            r"|\(?\d{2,5}\)?[ .-]\d{3,4}[ .-]?\d{3,5})"  # (555) 123-4567, 030 1234 5678
            r"(?!\w|[ .-]\d)"
        ),
        32,
        phone_valid,
    ),
    "credit_card": Detector(
        "credit_card",
        re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w])"),
        37,
        luhn_valid,
    ),
    "iban": Detector(
        "iban",
        re.compile(r"(?<![\w])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}(?![\w])"),
        64,
        iban_valid,
    ),
    "api_key": Detector(
        "api_key",
        re.compile(
            r"(?<![\w-])(?:"
            r"sk-(?:ant-|proj-|sy-)?[A-Za-z0-9_-]{20,200}"
            r"|(?:AKIA|ASIA)[A-Z0-9]{16}"
            r"|gh[pousr]_[A-Za-z0-9]{36,251}"
            r"|github_pat_[A-Za-z0-9_]{22,240}"
            r"|xox[bpas]-[A-Za-z0-9-]{10,200}"
            r"|AIza[A-Za-z0-9_-]{35}"
            r"|hf_[A-Za-z0-9]{30,60}"
            r"|[A-Za-z0-9+/_-]{32,254}={0,2}"  # unprefixed (base64's padding): if random-looking
            r")(?![\w-])"
        ),
        256,
        random_looking,
    ),
}


__all__ = [
    "DETECTORS",
    "IBAN_LENGTHS",
    "PII_KINDS",
    "Detector",
    "PiiKind",
    "entropy_bits",
    "iban_valid",
    "luhn_valid",
    "random_looking",
]
