"""UK tax identifiers: normalising, validating, generating and displaying them (rules from domain.md §3)."""

from __future__ import annotations

import re
import string
from enum import StrEnum

from portal.domain.numbers import is_whole_number
from portal.domain.services import Labels
from portal.i18n import N_, gettext


class IdentifierKind(StrEnum):
    UTR = "utr"
    NINO = "nino"
    VRN = "vrn"
    URN = "urn"
    CGT = "cgt"
    PPT = "ppt"
    CBC = "cbc"
    PLR = "plr"
    ARN = "arn"
    CRN = "crn"


LABELS = Labels({
    IdentifierKind.UTR: N_("Unique Taxpayer Reference (UTR)"),
    IdentifierKind.NINO: N_("National Insurance number"),
    IdentifierKind.VRN: N_("VAT registration number"),
    IdentifierKind.URN: N_("Unique Reference Number (URN)"),
    IdentifierKind.CGT: N_("Capital Gains Tax on UK property account reference"),
    IdentifierKind.PPT: N_("Plastic Packaging Tax reference"),
    IdentifierKind.CBC: N_("Country-by-country reporting ID"),
    IdentifierKind.PLR: N_("Pillar 2 ID"),
    IdentifierKind.ARN: N_("Agent Reference Number"),
    IdentifierKind.CRN: N_("Company registration number"),
})  # read through Labels, a label is in the language of the moment

# Whole sentences, one per kind, translated when a form is checked.
_EMPTY_MESSAGES: dict[IdentifierKind, str] = {
    IdentifierKind.UTR: N_("Enter your client's Unique Taxpayer Reference"),
    IdentifierKind.NINO: N_("Enter your client's National Insurance number"),
    IdentifierKind.VRN: N_("Enter your client's VAT registration number"),
    IdentifierKind.URN: N_("Enter your client's Unique Reference Number"),
    IdentifierKind.CGT: N_("Enter your client's Capital Gains Tax on UK property account reference"),
    IdentifierKind.PPT: N_("Enter your client's Plastic Packaging Tax reference"),
    IdentifierKind.CBC: N_("Enter your client's country-by-country reporting ID"),
    IdentifierKind.PLR: N_("Enter your client's Pillar 2 ID"),
    IdentifierKind.ARN: N_("Enter the Agent Reference Number"),
    IdentifierKind.CRN: N_("Enter your client's company registration number"),
}

NINO_FORMAT_MESSAGE = N_(
    "National Insurance number must be 2 letters, 6 numbers, then A, B, C or D, like QQ 12 34 56 C")

_FORMAT_MESSAGES: dict[IdentifierKind, str] = {
    IdentifierKind.UTR: N_("Enter a Unique Taxpayer Reference in the correct format"),
    IdentifierKind.NINO: NINO_FORMAT_MESSAGE,
    IdentifierKind.VRN: N_("Enter a VAT registration number in the correct format"),
    IdentifierKind.URN: N_("Enter a Unique Reference Number in the correct format"),
    IdentifierKind.CGT: N_("Enter a Capital Gains Tax on UK property account reference in the correct format"),
    IdentifierKind.PPT: N_("Enter a Plastic Packaging Tax reference in the correct format"),
    IdentifierKind.CBC: N_("Enter a country-by-country reporting ID in the correct format"),
    IdentifierKind.PLR: N_("Enter a Pillar 2 ID in the correct format"),
    IdentifierKind.ARN: N_("Enter an Agent Reference Number in the correct format"),
    IdentifierKind.CRN: N_("Enter a company registration number in the correct format"),
}


class InvalidIdentifier(ValueError):
    def __init__(self, kind: IdentifierKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def empty_message(kind: IdentifierKind) -> str:
    return gettext(_EMPTY_MESSAGES[kind])


def format_message(kind: IdentifierKind) -> str:
    return gettext(_FORMAT_MESSAGES[kind])


# --- normalising -------------------------------------------------------------------------------------------------


def _compact(raw: str) -> str:
    # Upper-case ASCII only: str.upper() would turn "ı" into "I" or "ß" into "SS" and make junk look valid.
    return "".join(c.upper() if c.isascii() else c for c in "".join(raw.split()))


def _drop_utr_k(value: str) -> str:
    # domain.md §3.3: SA UTRs may be written with a K prefix or suffix. Only drop it when digits remain,
    # so normalising twice never eats a second K.
    for candidate in (value[1:] if value.startswith("K") else None, value[:-1] if value.endswith("K") else None):
        if candidate is not None and is_whole_number(candidate):
            return candidate
    return value


def normalise(kind: IdentifierKind, raw: str) -> str:
    """Remove whitespace, upper-case and drop a UTR's K. Does not validate."""
    if kind is IdentifierKind.ARN:
        # domain.md §3.2: ARNs are upper case only ("Tarn0000001" is invalid), so their case is kept.
        return "".join(raw.split())
    value = _compact(raw)
    return _drop_utr_k(value) if kind is IdentifierKind.UTR else value


# --- check characters --------------------------------------------------------------------------------------------

# domain.md §3.2: Modulus23Check.
_ARN_WEIGHTS = (9, 10, 11, 12, 13, 8, 7, 6, 5, 4)
_ARN_LETTERS = "ABCDEFGHXJKLMNYPQRSTZVW"

# domain.md §3.3: Modulus11Check; the check digit is the first digit.
_UTR_WEIGHTS = (6, 7, 8, 9, 10, 5, 4, 3, 2)
_UTR_CHECK_DIGITS = "21987654321"

# domain.md §3.5: the VAT checksum HMRC removed from agent code in 2019; used only for a warning.
_VRN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2)


def _arn_char_value(char: str) -> int:
    # domain.md §3.2 step 4: a letter counts as its base-36 value + 23 (A = 33 ... Z = 58).
    return int(char) if char.isdigit() else int(char, 36) + 23


def arn_check_letter(ten_chars_after_first: str) -> str:
    chars = ten_chars_after_first
    if len(chars) != 10 or not re.fullmatch(r"[A-Z0-9]{10}", chars):
        raise ValueError("an ARN check letter needs exactly 10 upper-case letters or digits")
    total = sum(weight * _arn_char_value(char) for weight, char in zip(_ARN_WEIGHTS, chars, strict=True))
    return _ARN_LETTERS[total % 23]


def utr_check_digit(nine_digits: str) -> str:
    if len(nine_digits) != 9 or not is_whole_number(nine_digits):
        raise ValueError("a UTR check digit needs exactly 9 digits")
    total = sum(weight * int(digit) for weight, digit in zip(_UTR_WEIGHTS, nine_digits, strict=True))
    return _UTR_CHECK_DIGITS[total % 11]


def _vrn_expected_checks(first_seven: str) -> set[int]:
    total = sum(weight * int(digit) for weight, digit in zip(_VRN_WEIGHTS, first_seven, strict=True))
    checks = set()
    for base in (total, total + 55):  # mod 97, then the "97-55" variant for newer numbers
        remainder = base % 97
        checks.add(97 - remainder)
        if remainder == 0 and base > 0:
            # The old agent code expected 97 here and the domain checker 00; accept both, it is only a warning.
            # Only for a POSITIVE multiple of 97: HMRC's checker subtracts 97 while the sum is above 97, so a sum
            # of 0 (first seven digits all 0) expects 97, never 00, and "000000000" fails both variants.
            checks.add(0)
    return checks


def vrn_checksum_ok(raw: str) -> bool:
    value = normalise(IdentifierKind.VRN, raw)
    if not is_valid(IdentifierKind.VRN, value):
        return False
    return int(value[7:]) in _vrn_expected_checks(value[:7])


# --- validating --------------------------------------------------------------------------------------------------

# domain.md §3.4: letters a NINO prefix may not use, and prefixes never issued.
_NINO_FIRST = "".join(sorted(set(string.ascii_uppercase) - set("DFIQUV")))
_NINO_SECOND = "".join(sorted(set(string.ascii_uppercase) - set("DFIOQUV")))
_NINO_BAD_PREFIXES = frozenset({"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"})
_NINO_RE = re.compile(f"[{_NINO_FIRST}][{_NINO_SECOND}][0-9]{{6}}[A-D]")
NINO_PREFIXES: tuple[str, ...] = tuple(
    first + second for first in _NINO_FIRST for second in _NINO_SECOND if first + second not in _NINO_BAD_PREFIXES
)

# domain.md §3.1 table. Matched against the normalised value, so whitespace and case are already dealt with.
_PATTERNS: dict[IdentifierKind, re.Pattern[str]] = {
    IdentifierKind.UTR: re.compile(r"[0-9]{10}"),
    IdentifierKind.NINO: _NINO_RE,
    IdentifierKind.VRN: re.compile(r"[0-9]{9}"),
    IdentifierKind.URN: re.compile(r"[A-Z]{2}TRUST[0-9]{8}"),
    IdentifierKind.CGT: re.compile(r"X[A-Z]CGTP[0-9]{9}"),
    IdentifierKind.PPT: re.compile(r"X[A-Z]PPT000[0-9]{7}"),
    IdentifierKind.CBC: re.compile(r"X[A-Z]CBC[0-9]{10}"),
    IdentifierKind.PLR: re.compile(r"X[A-Z]PLR[0-9]{10}"),
    IdentifierKind.ARN: re.compile(r"[A-Z]ARN[0-9]{7}"),
    IdentifierKind.CRN: re.compile(r"[A-Z]{2}[0-9]{6}|[0-9]{8}"),
}

_NO_VRN = "0" * 9

_AMLS_HMRC_RE = re.compile(r"X[A-Z]ML00000[0-9]{6}")


def _is_valid_normalised(kind: IdentifierKind, value: str) -> bool:
    if not _PATTERNS[kind].fullmatch(value):
        return False
    if kind is IdentifierKind.UTR:
        return utr_check_digit(value[1:]) == value[0]
    if kind is IdentifierKind.ARN:
        return arn_check_letter(value[1:]) == value[0]
    if kind is IdentifierKind.NINO:
        return value[:2] not in _NINO_BAD_PREFIXES
    if kind is IdentifierKind.VRN:
        # Nine zeros matches the 9-digit format but is no VAT number: HMRC's VatReferenceChecker rejects it
        # (see _vrn_expected_checks), so no agent should be able to ask for or find a client by it.
        return value != _NO_VRN
    return True


def is_valid(kind: IdentifierKind, raw: str) -> bool:
    return _is_valid_normalised(kind, normalise(kind, raw))


def parse(kind: IdentifierKind, raw: str) -> str:
    """The normalised identifier, or InvalidIdentifier carrying the message to show beside the field."""
    value = normalise(kind, raw)
    if not value:
        raise InvalidIdentifier(kind, empty_message(kind))
    if not _is_valid_normalised(kind, value):
        raise InvalidIdentifier(kind, format_message(kind))
    return value


def nino_without_suffix(raw: str) -> str:
    """The 8-character form HMRC stores and compares NINOs by, from a NINO given with or without its suffix."""
    # domain.md §3.4: an 8-character NINO is valid if appending "A" makes it a valid NINO.
    value = normalise(IdentifierKind.NINO, raw)
    if not value:
        raise InvalidIdentifier(IdentifierKind.NINO, empty_message(IdentifierKind.NINO))
    candidate = value + "A" if len(value) == 8 else value
    if not _is_valid_normalised(IdentifierKind.NINO, candidate):
        raise InvalidIdentifier(IdentifierKind.NINO, format_message(IdentifierKind.NINO))
    return candidate[:8]


def is_valid_amls_hmrc_number(raw: str) -> bool:
    return bool(_AMLS_HMRC_RE.fullmatch(_compact(raw)))


def detect_kind(raw: str) -> IdentifierKind | None:
    """Which kind of identifier a search term is, if it is a valid one of exactly one kind."""
    # The patterns do not overlap: 9 digits can only be a VRN, 10 only a UTR, 8 characters only a CRN.
    for kind in IdentifierKind:
        if is_valid(kind, raw):
            return kind
    return None


# --- generating (demo and test data) -----------------------------------------------------------------------------


def make_arn(serial: int) -> str:
    if not 0 <= serial < 10**7:
        raise ValueError("an ARN serial is 0 to 9999999")
    rest = f"ARN{serial:07d}"
    return arn_check_letter(rest) + rest


def make_utr(nine_digits_or_int: str | int) -> str:
    if isinstance(nine_digits_or_int, int):
        if not 0 <= nine_digits_or_int < 10**9:
            raise ValueError("a UTR body is 0 to 999999999")
        digits = f"{nine_digits_or_int:09d}"
    else:
        digits = nine_digits_or_int
    return utr_check_digit(digits) + digits


def make_nino(n: int) -> str:
    """A valid NINO for each integer; consecutive integers get different prefixes so demo data looks varied."""
    count = len(NINO_PREFIXES)
    prefix = NINO_PREFIXES[n % count]
    number = (n // count) % 10**6
    suffix = "ABCD"[(n // (count * 10**6)) % 4]
    return f"{prefix}{number:06d}{suffix}"


def make_vrn(n: int) -> str:
    """A 9-digit VRN that also passes the old mod-97 checksum, so demo data never triggers the warning."""
    if not 0 <= n < 10**7:
        raise ValueError("a VRN body is 0 to 9999999")
    first_seven = f"{n:07d}"
    total = sum(weight * int(digit) for weight, digit in zip(_VRN_WEIGHTS, first_seven, strict=True))
    return f"{first_seven}{97 - total % 97:02d}"


# --- postcodes (domain.md §3.1) ----------------------------------------------------------------------------------

_POSTCODE_RE = re.compile(r"[A-Z]{1,2}[0-9][0-9A-Z]? [0-9][A-Z]{2}|BFPO [0-9]{1,5}")
_POSTCODE_MAX_CHARS = 8


def normalise_postcode(raw: str) -> str:
    """Upper case with one space before the inward code ("SW1A 1AA"), or "BFPO 123". Does not validate."""
    compact = _compact(raw)
    if compact.startswith("BFPO") and len(compact) > 4:
        return f"BFPO {compact[4:]}"
    if len(compact) > 3 and not compact.startswith("BFPO"):
        return f"{compact[:-3]} {compact[-3:]}"
    return compact


def is_valid_postcode(raw: str) -> bool:
    if not all((c.isascii() and c.isalnum()) or c.isspace() for c in raw):
        return False
    value = normalise_postcode(raw)
    # The 8-character limit is applied without the space, so "BFPO 1234" (9 with it) stays valid once normalised.
    return len(value.replace(" ", "")) <= _POSTCODE_MAX_CHARS and bool(_POSTCODE_RE.fullmatch(value))


# --- display -----------------------------------------------------------------------------------------------------


def format_for_display(kind: IdentifierKind, value: str) -> str:
    """NINO as "QQ 12 34 56 C" and UTR as "12345 67890" (the hint's format); anything else, or invalid, unchanged."""
    normalised = normalise(kind, value)
    if kind is IdentifierKind.NINO and re.fullmatch(r"[A-Z]{2}[0-9]{6}[A-D]?", normalised):
        pairs = [normalised[i : i + 2] for i in range(0, 8, 2)]
        return " ".join(pairs + ([normalised[8]] if len(normalised) == 9 else []))
    if kind is IdentifierKind.UTR and re.fullmatch(r"[0-9]{10}", normalised):
        return f"{normalised[:5]} {normalised[5:]}"
    return value
