import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.domain.identifiers import (
    LABELS,
    NINO_FORMAT_MESSAGE,
    NINO_PREFIXES,
    IdentifierKind,
    InvalidIdentifier,
    arn_check_letter,
    detect_kind,
    format_for_display,
    format_message,
    is_valid,
    is_valid_amls_hmrc_number,
    is_valid_postcode,
    make_arn,
    make_nino,
    make_utr,
    make_vrn,
    nino_without_suffix,
    normalise,
    normalise_postcode,
    parse,
    utr_check_digit,
    vrn_checksum_ok,
)

K = IdentifierKind


# --- worked examples from domain.md §3 ---------------------------------------------------------------------------


@pytest.mark.parametrize("arn", ["TARN0000001", "TARN0975056", "CARN0609726"])
def test_valid_arns(arn: str) -> None:
    assert is_valid(K.ARN, arn)
    assert parse(K.ARN, arn) == arn


@pytest.mark.parametrize(
    "arn", ["AARN9999999", "Tarn0000001", "tarn0000001", "TARN000001", "TARN00000012", "TXRN0000001", "IARN0000004"]
)
def test_invalid_arns(arn: str) -> None:
    assert not is_valid(K.ARN, arn)


def test_arn_check_letter_worked_examples() -> None:
    assert arn_check_letter("ARN0000001") == "T"  # sum 1307, mod 23 = 19
    assert arn_check_letter("ARN9999999") == "E"  # sum 1798, mod 23 = 4
    # Worked by hand to reach the letters that replace I and O in the table.
    assert arn_check_letter("ARN0000004") == "X"  # sum 1303 + 4 x 4 = 1319, mod 23 = 8
    assert arn_check_letter("ARN0000090") == "Y"  # sum 1303 + 5 x 9 = 1348, mod 23 = 14


def test_arn_with_wrong_check_letter_is_rejected() -> None:
    assert not is_valid(K.ARN, "SARN0000001")
    with pytest.raises(InvalidIdentifier):
        parse(K.ARN, "SARN0000001")


@pytest.mark.parametrize("utr", ["2000000000", "9000000001", "7000000002", "5000000003"])
def test_valid_utrs(utr: str) -> None:
    assert is_valid(K.UTR, utr)


@pytest.mark.parametrize("utr", ["0123456789", "3000000000", "200000000", "20000000000", "200000000A", ""])
def test_invalid_utrs(utr: str) -> None:
    assert not is_valid(K.UTR, utr)


def test_utr_check_digit_worked_example() -> None:
    assert utr_check_digit("000000001") == "9"  # sum 2, index 2


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("K9000000001", "9000000001"), ("9000000001K", "9000000001"), ("k 90000 00001", "9000000001"),
     (" 90000 00001 ", "9000000001")],
)
def test_utr_k_and_spaces_are_stripped(raw: str, expected: str) -> None:
    assert parse(K.UTR, raw) == expected


def test_utr_with_k_at_both_ends_is_invalid() -> None:
    assert not is_valid(K.UTR, "K9000000001K")


@pytest.mark.parametrize("nino", ["AB123456C", "ab 12 34 56 c", "JZ 999999 D", "ce000000a"])
def test_valid_ninos(nino: str) -> None:
    assert is_valid(K.NINO, nino)


@pytest.mark.parametrize(
    "nino",
    ["QQ123456C", "DA123456A", "AO123456A", "AD123456A", "VA123456A", "BG123456A", "GB123456A", "NK123456A",
     "KN123456A", "TN123456A", "NT123456A", "ZZ123456A", "AB123456E", "AB12345C", "AB123456", "A1123456C"],
)
def test_invalid_ninos(nino: str) -> None:
    assert not is_valid(K.NINO, nino)


def test_nino_normalised_to_upper_case_without_spaces() -> None:
    assert parse(K.NINO, " ab 12 34 56 c ") == "AB123456C"


def test_nino_without_suffix() -> None:
    assert nino_without_suffix("AB 12 34 56 C") == "AB123456"
    assert nino_without_suffix("ab123456") == "AB123456"
    assert nino_without_suffix("AB123456D") == nino_without_suffix("AB123456A")
    with pytest.raises(InvalidIdentifier) as error:
        nino_without_suffix("ZZ123456")
    assert error.value.message == NINO_FORMAT_MESSAGE


def test_vrn_accepts_any_nine_digits() -> None:
    assert is_valid(K.VRN, "123456789")
    assert is_valid(K.VRN, "123 4567 89")
    assert not is_valid(K.VRN, "12345678")
    assert not is_valid(K.VRN, "GB123456789")


def test_vrn_checksum_variants() -> None:
    assert vrn_checksum_ok("101747696")  # mod 97
    assert vrn_checksum_ok("101747641")  # 97-55 only
    assert not vrn_checksum_ok("101747697")
    assert not vrn_checksum_ok("123456789")
    assert not vrn_checksum_ok("10174769")


def test_a_vrn_of_nine_zeros_is_refused() -> None:
    # The first seven digits weigh 0; HMRC's checker expects 97 − 0 = 97 or 97 − 55 = 42 as the last two, never 00.
    assert not vrn_checksum_ok("000000000")
    assert not is_valid(K.VRN, "000000000")
    assert not is_valid(K.VRN, "000 0000 00")
    with pytest.raises(InvalidIdentifier) as refused:
        parse(K.VRN, "000000000")
    assert refused.value.message == format_message(K.VRN)
    assert vrn_checksum_ok("000000097") and is_valid(K.VRN, "000000097")  # the same zeros with HMRC's 97


def test_a_positive_multiple_of_97_takes_either_check_00_or_97() -> None:
    # 9300002 weighs 9 × 8 + 3 × 7 + 2 × 2 = 72 + 21 + 4 = 97: the old agent code expected 97, HMRC's checker 00.
    assert vrn_checksum_ok("930000200") and vrn_checksum_ok("930000297")
    assert not vrn_checksum_ok("930000201")


@pytest.mark.parametrize(
    ("kind", "good", "bad"),
    [
        (K.URN, "XATRUST12345678", "XATRUST1234567"),
        (K.CGT, "XYCGTP123456789", "XYCGT1234567890"),
        (K.PPT, "XMPPT0000000001", "XMPPT1000000001"),
        (K.CBC, "XACBC0000999999", "YACBC0000999999"),
        (K.PLR, "XAPLR0000999999", "XAPLR000099999"),
        (K.CRN, "SC123456", "SC1234567"),
        (K.CRN, "01234567", "0123456A"),
    ],
)
def test_other_references(kind: IdentifierKind, good: str, bad: str) -> None:
    assert is_valid(kind, good)
    assert is_valid(kind, good.lower())  # input is upper-cased first (domain.md §3)
    assert not is_valid(kind, bad)


def test_trust_urn_is_case_insensitive() -> None:
    assert parse(K.URN, "xatrust12345678") == "XATRUST12345678"


def test_amls_hmrc_number() -> None:
    assert is_valid_amls_hmrc_number("XAML00000123456")
    assert not is_valid_amls_hmrc_number("XAML00001123456")


# --- error messages ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "raw", "message"),
    [
        (K.UTR, "", "Enter your client's Unique Taxpayer Reference"),
        (K.UTR, "12345", "Enter a Unique Taxpayer Reference in the correct format"),
        (K.UTR, "0123456789", "Enter a Unique Taxpayer Reference in the correct format"),
        (K.NINO, "   ", "Enter your client's National Insurance number"),
        (K.NINO, "QQ123456C", NINO_FORMAT_MESSAGE),
        (K.VRN, "", "Enter your client's VAT registration number"),
        (K.VRN, "12345678", "Enter a VAT registration number in the correct format"),
        (K.ARN, "", "Enter the Agent Reference Number"),
        (K.ARN, "AARN9999999", "Enter an Agent Reference Number in the correct format"),
        (K.CRN, "X", "Enter a company registration number in the correct format"),
    ],
)
def test_error_messages(kind: IdentifierKind, raw: str, message: str) -> None:
    with pytest.raises(InvalidIdentifier) as error:
        parse(kind, raw)
    assert error.value.kind is kind
    assert error.value.message == message
    assert str(error.value) == message


def test_nino_message_text() -> None:
    assert NINO_FORMAT_MESSAGE == (
        "National Insurance number must be 2 letters, 6 numbers, then A, B, C or D, like QQ 12 34 56 C"
    )


@pytest.mark.parametrize("kind", list(K))
def test_empty_and_malformed_messages_differ(kind: IdentifierKind) -> None:
    messages = []
    for raw in ("", "?"):
        with pytest.raises(InvalidIdentifier) as error:
            parse(kind, raw)
        messages.append(error.value.message)
    assert messages[0].startswith("Enter ")
    assert messages[0] != messages[1]


def test_every_kind_has_a_label() -> None:
    assert set(LABELS) == set(K)
    assert LABELS[K.UTR] == "Unique Taxpayer Reference (UTR)"
    assert LABELS[K.CRN] == "Company registration number"


# --- display and detection ---------------------------------------------------------------------------------------


def test_format_for_display() -> None:
    assert format_for_display(K.NINO, "QQ123456C") == "QQ 12 34 56 C"
    assert format_for_display(K.NINO, "AB123456") == "AB 12 34 56"
    assert format_for_display(K.UTR, "1234567890") == "12345 67890"
    assert format_for_display(K.VRN, "123456789") == "123456789"
    assert format_for_display(K.ARN, "TARN0000001") == "TARN0000001"


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ("101747696", K.VRN),
        ("2000000000", K.UTR),
        ("K2000000000", K.UTR),
        ("ab 12 34 56 c", K.NINO),
        ("TARN0000001", K.ARN),
        ("xatrust12345678", K.URN),
        ("XYCGTP123456789", K.CGT),
        ("XMPPT0000000001", K.PPT),
        ("XACBC0000999999", K.CBC),
        ("XAPLR0000999999", K.PLR),
        ("SC123456", K.CRN),
        ("01234567", K.CRN),
        ("0123456789", None),  # 10 digits but fails mod 11
        ("AARN9999999", None),
        ("smith", None),
        ("", None),
    ],
)
def test_detect_kind(raw: str, kind: IdentifierKind | None) -> None:
    assert detect_kind(raw) == kind


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("sw1a1aa", "SW1A 1AA"), (" SW1A  1AA ", "SW1A 1AA"), ("m11ae", "M1 1AE"), ("bfpo123", "BFPO 123"),
     ("BFPO 1", "BFPO 1")],
)
def test_postcode_normalisation(raw: str, expected: str) -> None:
    assert normalise_postcode(raw) == expected
    assert is_valid_postcode(raw)


@pytest.mark.parametrize("raw", ["", "SW1A 1A", "1W1A 1AA", "SW1A-1AA", "SW1A 1AAA", "BFPO", "BFPO 12345", "ÄB1 1AA"])
def test_invalid_postcodes(raw: str) -> None:
    assert not is_valid_postcode(raw)


def test_generators_reject_out_of_range_input() -> None:
    for make in (make_arn, make_vrn):
        with pytest.raises(ValueError):
            make(10**7)
        with pytest.raises(ValueError):
            make(-1)
    with pytest.raises(ValueError):
        make_utr(10**9)
    with pytest.raises(ValueError):
        arn_check_letter("arn0000001")


# --- properties --------------------------------------------------------------------------------------------------

serials = st.integers(min_value=0, max_value=10**7 - 1)
utr_bodies = st.integers(min_value=0, max_value=10**9 - 1)
digit = st.integers(min_value=0, max_value=9)


@given(serials)
def test_make_arn_is_valid(serial: int) -> None:
    arn = make_arn(serial)
    assert is_valid(K.ARN, arn)
    assert arn[4:] == f"{serial:07d}"


@given(utr_bodies)
def test_make_utr_is_valid(body: int) -> None:
    utr = make_utr(body)
    assert is_valid(K.UTR, utr)
    assert make_utr(f"{body:09d}") == utr


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_make_nino_is_valid(n: int) -> None:
    assert is_valid(K.NINO, make_nino(n))


def test_make_nino_spreads_over_prefixes() -> None:
    assert {make_nino(n)[:2] for n in range(len(NINO_PREFIXES))} == set(NINO_PREFIXES)


@given(serials)
def test_make_vrn_is_valid_and_passes_checksum(n: int) -> None:
    vrn = make_vrn(n)
    assert is_valid(K.VRN, vrn)
    assert vrn_checksum_ok(vrn)


UTR_WEIGHTS = (6, 7, 8, 9, 10, 5, 4, 3, 2)


def _utr_residue(utr: str) -> int:
    return sum(w * int(d) for w, d in zip(UTR_WEIGHTS, utr[1:], strict=True)) % 11


@given(utr_bodies, st.integers(min_value=1, max_value=9), st.integers(min_value=1, max_value=9))
def test_changing_one_utr_digit_invalidates_it_unless_check_digits_collide(
    body: int, position: int, delta: int
) -> None:
    # Weights 2..10 and deltas 1..9 are non-zero mod 11, so the sum mod 11 always changes. But "21987654321"
    # has 11 slots for 10 digits: residues 0 and 9 both give 2, and 1 and 10 both give 1, so those moves go unseen.
    utr = make_utr(body)
    changed_digit = str((int(utr[position]) + delta) % 10)
    changed = utr[:position] + changed_digit + utr[position + 1 :]
    residues = {_utr_residue(utr), _utr_residue(changed)}
    assert len(residues) == 2
    assert is_valid(K.UTR, changed) == (residues in ({0, 9}, {1, 10}))


def test_utr_check_misses_a_change_between_colliding_residues() -> None:
    assert is_valid(K.UTR, "1000000005")  # residue 10
    assert is_valid(K.UTR, "1000090005")  # residue 1: same check digit, one digit different


@given(serials, st.integers(min_value=4, max_value=10), st.integers(min_value=1, max_value=9))
def test_changing_one_arn_digit_invalidates_it(serial: int, position: int, delta: int) -> None:
    # Weights mod 23 are non-zero and deltas are below 23, so the check letter always changes.
    arn = make_arn(serial)
    changed = str((int(arn[position]) + delta) % 10)
    assert not is_valid(K.ARN, arn[:position] + changed + arn[position + 1 :])


@given(serials, st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
def test_wrong_arn_check_letter_is_invalid(serial: int, letter: str) -> None:
    arn = make_arn(serial)
    assert is_valid(K.ARN, letter + arn[1:]) == (letter == arn[0])


@given(st.sampled_from(list(K)), st.text())
def test_normalise_is_idempotent(kind: IdentifierKind, raw: str) -> None:
    once = normalise(kind, raw)
    assert normalise(kind, once) == once


@given(st.sampled_from(list(K)), st.text(alphabet="Kk 0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcxyz\t"))
def test_normalise_is_idempotent_on_likely_input(kind: IdentifierKind, raw: str) -> None:
    once = normalise(kind, raw)
    assert normalise(kind, once) == once
    assert is_valid(kind, once) == is_valid(kind, raw)


def _with_noise(value: str, data: st.DataObject) -> str:
    """The value as someone might type it: spaces here and there, maybe lower case."""
    chars = [c + data.draw(st.sampled_from(["", "", " "])) for c in value]
    typed = " " + "".join(chars) + " "
    return typed.lower() if data.draw(st.booleans()) else typed


@given(serials, utr_bodies, st.integers(min_value=0, max_value=10**9), st.data())
def test_parse_of_normalised_equals_parse(serial: int, body: int, n: int, data: st.DataObject) -> None:
    for kind, value in [(K.UTR, make_utr(body)), (K.NINO, make_nino(n)), (K.VRN, make_vrn(serial)),
                        (K.URN, "XATRUST12345678"), (K.CRN, "SC123456")]:
        typed = _with_noise(value, data)
        assert parse(kind, normalise(kind, typed)) == parse(kind, typed) == value
    arn = make_arn(serial)
    assert parse(K.ARN, normalise(K.ARN, f" {arn[:4]} {arn[4:]} ")) == arn


postcodes = st.from_regex(r"\A[A-Z]{1,2}[0-9][0-9A-Z]? ?[0-9][A-Z]{2}\Z|\ABFPO ?[0-9]{1,4}\Z")


@given(postcodes, st.booleans())
def test_postcode_normalisation_round_trips(raw: str, lower: bool) -> None:
    typed = raw.lower() if lower else raw
    once = normalise_postcode(typed)
    assert is_valid_postcode(typed)
    assert is_valid_postcode(once)
    assert normalise_postcode(once) == once
    assert once.replace(" ", "") == raw.replace(" ", "")
    assert once.count(" ") == 1


@given(st.text())
def test_postcode_normalisation_is_idempotent(raw: str) -> None:
    once = normalise_postcode(raw)
    assert normalise_postcode(once) == once
