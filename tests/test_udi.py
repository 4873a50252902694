"""Tests for toolkit.udi: known answers, error messages and properties."""

from __future__ import annotations

import datetime as dt
import doctest
import pickle
import re

import biip
import pandas as pd
import pytest
from biip.gs1_application_identifiers import GS1ApplicationIdentifier
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from stdnum import ean, gs1_128

import toolkit.udi
from toolkit.udi import (
    GS,
    GS1_CHARSET_82,
    Udi,
    UdiError,
    format_udi,
    gs1_year,
    gtin_check_digit_error,
    gtin_is_valid,
    parse_udi,
    parse_udi_series,
)

# A valid GTIN-14 (check digit 1) and the same with a wrong check digit.
GTIN = "00884521123451"
BAD_GTIN = "00884521123457"
REF = 2026  # reference year for two-digit years in the known answers

EXPECTED = Udi(
    gtin=GTIN,
    lot="LOT-42",
    serial="SN0001",
    expiry=dt.date(2027, 1, 31),
    production_date=dt.date(2024, 1, 15),
)
HRI = "(01)00884521123451(11)240115(17)270131(10)LOT-42(21)SN0001"
RAW = "0100884521123451112401151727013110LOT-42" + GS + "21SN0001"


def _error(text: str, reference_year: int = REF) -> UdiError:
    with pytest.raises(UdiError) as info:
        parse_udi(text, reference_year)
    return info.value


# --------------------------------------------------------------------- known answers


@pytest.mark.parametrize(
    "text",
    [
        HRI,
        RAW,
        "]C1" + RAW,
        "]d2" + RAW,
        "]Q3" + RAW,
        "]e0" + RAW,
        "]C1" + GS + RAW,  # leading FNC1 sent as GS
        RAW + GS,  # trailing GS tolerated
        "  " + HRI + "\r\n",  # surrounding blanks from a file or scanner
        # any order of AIs; GS after a predefined-length field is allowed
        "21SN0001" + GS + "10LOT-42" + GS + "0100884521123451" + GS + "17270131" + "11240115",
        "(10)LOT-42(21)SN0001(17)270131(11)240115(01)00884521123451",
    ],
)
def test_parse_all_forms(text: str) -> None:
    udi = parse_udi(text, REF)
    assert udi == EXPECTED
    assert (udi.gtin, udi.lot, udi.serial) == (GTIN, "LOT-42", "SN0001")
    assert (udi.expiry, udi.production_date) == (dt.date(2027, 1, 31), dt.date(2024, 1, 15))
    assert udi.raw == text
    assert dict(udi.other) == {}


def test_absent_fields_are_none() -> None:
    udi = parse_udi("(01)" + GTIN)
    assert udi == Udi(GTIN)
    assert (udi.lot, udi.serial, udi.expiry, udi.production_date) == (None,) * 4
    assert parse_udi("01" + GTIN + "21X").serial == "X"


def test_other_ais_are_kept() -> None:
    udi = parse_udi("(01)" + GTIN + "(240)REF-12(30)5(3103)000125(10)L1")
    assert udi.lot == "L1"
    assert dict(udi.other) == {"240": "REF-12", "30": "5", "3103": "000125"}
    raw = "01" + GTIN + "3103000125" + "240REF-12" + GS + "305" + GS + "10L1"
    assert parse_udi(raw) == udi


def test_raw_without_gs_variable_field_runs_to_the_end() -> None:
    # The raw form is ambiguous without GS: the lot takes everything after it.
    udi = parse_udi("01" + GTIN + "10ABC21XYZ")
    assert (udi.lot, udi.serial) == ("ABC21XYZ", None)


def test_hri_escaped_parenthesis() -> None:
    udi = parse_udi("(01)" + GTIN + r"(10)A\(B)(21)\(X)")
    assert (udi.lot, udi.serial) == ("A(B)", "(X)")


def test_same_ai_twice_with_same_value_is_accepted() -> None:
    assert parse_udi("(01)" + GTIN + "(10)A(10)A").lot == "A"


def test_udi_equality_ignores_raw_and_is_hashable() -> None:
    a, b = parse_udi(HRI, REF), parse_udi(RAW, REF)
    assert a == b and a.raw != b.raw
    assert hash(a) == hash(b)
    assert len({a, b}) == 1
    with_other = Udi(GTIN, other={"240": "X"})
    assert with_other == Udi(GTIN, other={"240": "X"})
    assert with_other != Udi(GTIN)
    assert pickle.loads(pickle.dumps(with_other)) == with_other
    with pytest.raises(TypeError):
        with_other.other["240"] = "Y"  # type: ignore[index]


@pytest.mark.parametrize(
    ("yymmdd", "expected"),
    [
        ("240200", dt.date(2024, 2, 29)),  # leap year
        ("250200", dt.date(2025, 2, 28)),
        ("280200", dt.date(2028, 2, 29)),
        ("250400", dt.date(2025, 4, 30)),
        ("251200", dt.date(2025, 12, 31)),
        ("250131", dt.date(2025, 1, 31)),
    ],
)
def test_day_00_is_last_day_of_month(yymmdd: str, expected: dt.date) -> None:
    assert parse_udi("(01)" + GTIN + "(17)" + yymmdd, REF).expiry == expected
    assert parse_udi("01" + GTIN + "11" + yymmdd, REF).production_date == expected


def test_day_00_in_a_century_year_that_is_not_leap() -> None:
    # 2100 is not a leap year; "00" reads as 2100 with reference year 2080.
    assert parse_udi("(01)" + GTIN + "(17)000200", 2080).expiry == dt.date(2100, 2, 28)
    assert parse_udi("(01)" + GTIN + "(17)000200", 2026).expiry == dt.date(2000, 2, 29)


@pytest.mark.parametrize(
    ("yy", "reference", "year"),
    [
        (26, 2026, 2026),
        (75, 2025, 2075),  # +50: current century
        (76, 2025, 1976),  # +51: previous century
        (0, 2000, 2000),
        (50, 2000, 2050),
        (51, 2000, 1951),
        (10, 2060, 2110),  # -50: next century
        (11, 2060, 2011),  # -49: current century
        (99, 2049, 2099),
        (0, 2051, 2100),
        (99, 2100, 2099),
    ],
)
def test_gs1_century_rule(yy: int, reference: int, year: int) -> None:
    assert gs1_year(yy, reference) == year
    udi = parse_udi(f"(01){GTIN}(17){yy:02d}0101", reference)
    assert udi.expiry == dt.date(year, 1, 1)


def test_default_reference_year_matches_biip() -> None:
    # biip applies the same GS1 rule against the clock: it is our oracle for "today".
    for yy in range(100):
        raw = f"01{GTIN}17{yy:02d}0101"
        expected = biip.parse(raw).gs1_message.element_strings.get(ai="17").date
        assert parse_udi(raw).expiry == expected


# ---------------------------------------------------------------------- error messages


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty input"),
        (" \r\n", "empty input"),
        ("]d2", "no element strings after the symbology identifier at position 3"),
        (GS + GS, "no element strings (only separators) at position 0"),
        ("9Z123", "unknown application identifier '9Z' at position 0"),
        ("(9Z)123", "unknown application identifier '9Z' at position 0"),
        ("(0100)123", "unknown application identifier '0100' at position 0"),
        ("01" + GTIN + "05123", "unknown application identifier '0512' at position 16"),
        ("(01" + GTIN, "'(' does not open an application identifier '(NN)' at position 0"),
        # GTIN: the position is that of the check digit, or of the bad character
        ("(01)" + BAD_GTIN, "AI (01) at position 17: GTIN check digit is 7, expected 1"),
        ("]d201" + BAD_GTIN, "AI (01) at position 18: GTIN check digit is 7, expected 1"),
        ("(01)0088452112345", "AI (01) at position 4: GTIN has 13 digits, expected 14"),
        ("01008845211" + GS + "10A", "AI (01) at position 2: GTIN has 9 digits, expected 14"),
        ("(01)0088452112345X", "AI (01) at position 17: character 'X' is not a digit"),
        # dates
        ("01" + GTIN + "17251301", "AI (17) at position 20: month 13 is not a month"),
        ("(01)" + GTIN + "(17)250001", "AI (17) at position 24: month 00 is not a month"),
        (
            "(01)" + GTIN + "(11)250229",
            "AI (11) at position 26: day 29 does not exist in 2025-02 (28 days)",
        ),
        ("01" + GTIN + "172501", "AI (17) at position 18: date has 4 digits, expected 6 (YYMMDD)"),
        ("(01)" + GTIN + "(17)25O101", "AI (17) at position 24: character 'O' is not a digit"),
        # lots and serials
        (
            "01" + GTIN + "17250101" + "10" + "A" * 23,
            "AI (10) at position 26: lot is 23 characters, at most 20"
            " (is a GS separator missing after it?)",
        ),
        (
            "(01)" + GTIN + "(17)250101(10)" + "A" * 23,
            "AI (10) at position 32: lot is 23 characters, at most 20",
        ),
        (
            "(01)" + GTIN + "(21)" + "S" * 21,
            "AI (21) at position 22: serial is 21 characters, at most 20",
        ),
        (
            "01" + GTIN + "10AB~C",
            "AI (10) at position 20: character '~' is not allowed in a lot (GS1 character set 82)",
        ),
        (
            "(01)" + GTIN + "(21)SN 1",
            "AI (21) at position 24: character ' ' is not allowed in a serial"
            " (GS1 character set 82)",
        ),
        (
            "(01)" + GTIN + "(21)SNé",
            "AI (21) at position 24: character 'é' is not allowed in a serial"
            " (GS1 character set 82)",
        ),
        ("01" + GTIN + "10" + GS + "21X", "AI (10) at position 18: lot is empty"),
        (
            "(01)" + GTIN + "(10)A(B(21)X",
            "unknown application identifier 'B(21' at position 23 (write a '(' inside data as '\\(')",
        ),
        # duplicates, symbology, GTIN missing, other AIs
        (
            "01" + GTIN + "10A" + GS + "10B",
            "AI (10) at position 20: appears twice with different values, 'A' (position 16) and 'B'",
        ),
        (
            "(01)" + GTIN + "(01)00884521123468",
            "AI (01) at position 18: appears twice with different values, "
            "'00884521123451' (position 0) and '00884521123468'",
        ),
        (
            "]d101" + GTIN,
            "symbology identifier ']d1' does not announce GS1 element strings "
            "(expected ]C1, ]d2, ]Q3, ]e0 or ]J1) at position 0",
        ),
        (
            "]E0" + GTIN,
            "symbology identifier ']E0' does not announce GS1 element strings "
            "(expected ]C1, ]d2, ]Q3, ]e0 or ]J1) at position 0",
        ),
        ("(10)ABC(21)1", "no GTIN: a UDI needs AI (01)"),
        (
            "01" + GTIN + "3103ABC",
            "AI (3103) at position 20: value 'ABC' does not fit the GS1 format N4+N6",
        ),
    ],
)
def test_error_messages(text: str, message: str) -> None:
    assert str(_error(text)) == message


def test_error_attributes_and_pickling() -> None:
    text = "01" + GTIN + "17251301"
    error = _error(text)
    assert isinstance(error, ValueError)
    assert (error.ai, error.position, error.reason) == ("17", 20, "month 13 is not a month")
    assert text[error.position : error.position + 2] == "13"  # it points at the month
    again = pickle.loads(pickle.dumps(error))
    assert (str(again), again.ai, again.position) == (str(error), "17", 20)


def test_non_string_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="must be a string, got int"):
        parse_udi(100884521123451)  # type: ignore[arg-type]


# ------------------------------------------------------------------------ format_udi


def test_format_known_answers() -> None:
    assert format_udi(EXPECTED) == HRI
    assert format_udi(EXPECTED, "raw") == RAW
    only_lot = Udi(GTIN, lot="L1")
    assert format_udi(only_lot, "raw") == "01" + GTIN + "10L1"  # no GS after the last field
    with_other = Udi(GTIN, serial="S", other={"240": "REF", "3103": "000125", "30": "5"})
    assert format_udi(with_other) == f"(01){GTIN}(3103)000125(21)S(240)REF(30)5"
    assert format_udi(with_other, "raw") == f"01{GTIN}3103000125" + f"21S{GS}240REF{GS}305"
    assert format_udi(Udi(GTIN, lot="A(B")) == f"(01){GTIN}(10)A\\(B"


@pytest.mark.parametrize(
    ("udi", "message"),
    [
        (Udi(BAD_GTIN), "AI (01): GTIN check digit is 7, expected 1"),
        (Udi(GTIN, lot="A" * 21), "AI (10): lot is 21 characters, at most 20"),
        (Udi(GTIN, serial=""), "AI (21): serial is empty"),
        (
            Udi(GTIN, expiry=dt.date(1970, 1, 1)),
            "AI (17): year 1970 cannot be written as YY: with reference year 2026 "
            "it would read back as 2070",
        ),
        (Udi(GTIN, other={"9Z": "1"}), "unknown application identifier '9Z' in other"),
        (Udi(GTIN, other={"10": "1"}), "AI (10): belongs in the field 'lot', not in other"),
        (Udi(GTIN, other={"30": "X"}), "AI (30): value 'X' does not fit the GS1 format N2+N..8"),
    ],
)
def test_format_refuses_what_parse_would_reject(udi: Udi, message: str) -> None:
    with pytest.raises(UdiError) as info:
        format_udi(udi, reference_year=REF)
    assert str(info.value) == message


def test_format_bad_form() -> None:
    with pytest.raises(ValueError, match="form must be"):
        format_udi(EXPECTED, "xml")  # type: ignore[arg-type]


# -------------------------------------------------------------------------- GTIN helpers


def test_gtin_helpers() -> None:
    assert gtin_is_valid(GTIN)
    assert not gtin_is_valid(BAD_GTIN)
    assert gtin_check_digit_error(GTIN) is None
    assert gtin_check_digit_error(BAD_GTIN) == "GTIN check digit is 7, expected 1"
    assert gtin_check_digit_error("0088452112345") == "GTIN has 13 digits, expected 14"
    assert gtin_check_digit_error("00884 21123451") == "character ' ' at position 5 is not a digit"
    assert gtin_check_digit_error("") == "GTIN has 0 digits, expected 14"
    assert gtin_check_digit_error(884521123451) == "GTIN must be text, got int"
    assert gtin_check_digit_error(None) == "GTIN must be text, got NoneType"
    assert gtin_is_valid("4006381333931", length=None)  # GTIN-13
    assert gtin_is_valid("96385074", length=None)  # GTIN-8
    assert not gtin_is_valid("4006381333931")
    assert gtin_check_digit_error("12345", length=None) == (
        "GTIN has 5 digits, expected 8, 12, 13 or 14"
    )


def test_charset_82_matches_biip_lot_pattern() -> None:
    pattern = re.compile(GS1ApplicationIdentifier.extract("10").pattern)
    allowed = {chr(code) for code in range(0x110) if pattern.fullmatch("10" + chr(code))}
    assert allowed == GS1_CHARSET_82
    assert len(GS1_CHARSET_82) == 82


def test_docstring_examples() -> None:
    result = doctest.testmod(toolkit.udi, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 10


# ---------------------------------------------------------------------- parse_udi_series


def test_series_known_answers() -> None:
    series = pd.Series([HRI, None, "(01)" + BAD_GTIN, RAW, 12, HRI], index=list("abcdef"))
    frame = parse_udi_series(series, REF)
    assert list(frame.columns) == ["gtin", "lot", "serial", "expiry", "production_date", "error"]
    assert list(frame.index) == list("abcdef")
    assert frame["expiry"].dtype == "datetime64[ns]"
    assert frame["gtin"].dtype == pd.Series(["x"], dtype="str").dtype  # the project's code dtype
    assert frame.loc["a", "gtin"] == GTIN and frame.loc["d", "serial"] == "SN0001"
    assert frame.loc["a", "expiry"] == pd.Timestamp("2027-01-31")
    assert pd.isna(frame.loc["a", "error"])
    assert frame.loc["b", "error"] == "empty input"
    assert frame.loc["c", "error"] == "AI (01) at position 17: GTIN check digit is 7, expected 1"
    assert pd.isna(frame.loc["c", "gtin"]) and pd.isna(frame.loc["c", "expiry"])
    assert frame.loc["e", "error"] == "not text (int); read UDIs as strings"


def test_series_empty() -> None:
    frame = parse_udi_series(pd.Series([], dtype="str"))
    assert frame.shape == (0, 6)


# ---------------------------------------------------------------------------- properties

SET82 = "".join(sorted(GS1_CHARSET_82))
DIGITS = "0123456789"


@st.composite
def gtin14(draw: st.DrawFn) -> str:
    body = draw(st.text(DIGITS, min_size=13, max_size=13))
    return body + ean.calc_check_digit(body)  # python-stdnum as an independent oracle


def _dates(reference: int) -> st.SearchStrategy[dt.date | None]:
    window = st.dates(dt.date(reference - 49, 1, 1), dt.date(reference + 50, 12, 31))
    return st.none() | window


@st.composite
def udis(draw: st.DrawFn, reference: int = REF, with_other: bool = True) -> Udi:
    text82 = st.text(SET82, min_size=1, max_size=20)
    other: dict[str, str] = {}
    if with_other:
        if draw(st.booleans()):
            other["240"] = draw(st.text(SET82, min_size=1, max_size=30))
        if draw(st.booleans()):
            other["30"] = draw(st.text(DIGITS, min_size=1, max_size=8))
        if draw(st.booleans()):
            other["3103"] = draw(st.text(DIGITS, min_size=6, max_size=6))
    return Udi(
        gtin=draw(gtin14()),
        lot=draw(st.none() | text82),
        serial=draw(st.none() | text82),
        expiry=draw(_dates(reference)),
        production_date=draw(_dates(reference)),
        other=other,
    )


@given(data=st.data(), reference=st.integers(1900, 2200), form=st.sampled_from(["hri", "raw"]))
def test_round_trip(data: st.DataObject, reference: int, form: str) -> None:
    udi = data.draw(udis(reference))
    text = format_udi(udi, form, reference)  # type: ignore[arg-type]
    assert parse_udi(text, reference) == udi
    prefixed = parse_udi("]d2" + format_udi(udi, "raw", reference), reference)
    assert prefixed == udi


@given(udi=udis(with_other=False))
def test_agrees_with_biip_and_stdnum_on_raw(udi: Udi) -> None:
    raw = format_udi(udi, "raw")
    parsed = parse_udi(raw)
    strings = biip.parse(raw).gs1_message.element_strings
    assert strings.get(ai="01").value == parsed.gtin
    for ai, value in (("10", parsed.lot), ("21", parsed.serial)):
        element = strings.get(ai=ai)
        assert (element.value if element else None) == value
    for ai, value in (("17", parsed.expiry), ("11", parsed.production_date)):
        element = strings.get(ai=ai)
        assert (element.date if element else None) == value
    # python-stdnum deletes "(" and ")" from the whole input, data included, even in
    # the raw form (gs1_128.compact), so it is an oracle only for data without them.
    if not any("(" in text or ")" in text for text in (parsed.lot or "", parsed.serial or "")):
        info = gs1_128.info(raw, separator=GS)
        assert (info["01"], info.get("10"), info.get("21")) == (
            parsed.gtin,
            parsed.lot,
            parsed.serial,
        )


@given(gtin=gtin14(), index=st.integers(0, 13), delta=st.integers(1, 9))
def test_every_single_digit_change_is_rejected(gtin: str, index: int, delta: int) -> None:
    changed = gtin[:index] + str((int(gtin[index]) + delta) % 10) + gtin[index + 1 :]
    assert not gtin_is_valid(changed)
    assert gtin_check_digit_error(changed).startswith("GTIN check digit is")  # type: ignore[union-attr]
    with pytest.raises(UdiError) as info:
        parse_udi("(01)" + changed)
    assert (info.value.ai, info.value.position) == ("01", 17)


@given(code=st.text(DIGITS, min_size=14, max_size=14))
def test_gtin_check_agrees_with_stdnum(code: str) -> None:
    assert gtin_is_valid(code) == ean.is_valid(code)


# Pieces that make inputs look almost like UDIs, so the fuzzing reaches deep paths.
_TOKENS = st.sampled_from(
    [
        "01",
        GTIN,
        BAD_GTIN,
        "(01)",
        "(10)",
        "(21)",
        "(17)",
        "(11)",
        "10",
        "11",
        "17",
        "21",
        "240",
        "3103",
        "(240)",
        "(",
        ")",
        "\\(",
        GS,
        "]",
        "]C1",
        "]d2",
        "]Y",
        "251300",
        "240200",
        "250229",
        "ABC",
        "~",
        " ",
        "\n",
        "é",
        "\x00",
        "0",
        "9",
    ]
)
_NEAR_UDIS = st.lists(_TOKENS, max_size=12).map("".join)
_BINARYISH = st.binary(max_size=60).map(lambda raw: raw.decode("latin-1"))
_ANY_TEXT = st.text() | _BINARYISH | _NEAR_UDIS | st.text(DIGITS + "()]" + GS, max_size=40)


@given(text=_ANY_TEXT)
@example(text="]Y")
@example(text="]Y9")
@example(text="(")
@example(text="()")
@example(text="0")
@example(text="\\(")
def test_arbitrary_text_raises_only_udi_error(text: str) -> None:
    try:
        udi = parse_udi(text, REF)
    except UdiError as error:
        assert error.position is None or 0 <= error.position <= len(text)
    else:
        assert gtin_is_valid(udi.gtin)
        # whatever parses must also format and read back the same
        assert parse_udi(format_udi(udi, "hri", REF), REF) == udi


@given(text=_ANY_TEXT | udis().map(lambda udi: format_udi(udi, "raw")))
def test_fast_path_agrees_with_full_parser(text: str) -> None:
    try:
        expected = toolkit.udi._parse_fields_full(text, REF)
    except UdiError as error:
        with pytest.raises(UdiError) as info:
            toolkit.udi._parse_fields(text, REF)
        assert str(info.value) == str(error)
    else:
        assert toolkit.udi._parse_fields(text, REF) == expected


_SERIES_VALUES = (
    st.none()
    | _NEAR_UDIS
    | st.text(max_size=10)
    | st.builds(format_udi, udis(), st.sampled_from(["hri", "raw"]))
)


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(values=st.lists(_SERIES_VALUES, max_size=30))
def test_series_agrees_with_parse_udi(values: list[str | None]) -> None:
    values = values + values[:5]  # repeats exercise the unique-then-map path
    frame = parse_udi_series(pd.Series(values, dtype=object), REF)
    assert len(frame) == len(values)
    for value, (_, row) in zip(values, frame.iterrows(), strict=True):
        if value is None:
            assert row["error"] == "empty input"
            continue
        try:
            udi = parse_udi(value, REF)
        except UdiError as error:
            assert row["error"] == str(error)
            assert row[["gtin", "lot", "serial", "expiry", "production_date"]].isna().all()
            continue
        assert pd.isna(row["error"])
        assert row["gtin"] == udi.gtin
        for name in ("lot", "serial"):
            assert (None if pd.isna(row[name]) else row[name]) == getattr(udi, name)
        for name in ("expiry", "production_date"):
            date = getattr(udi, name)
            assert pd.isna(row[name]) if date is None else row[name] == pd.Timestamp(date)
