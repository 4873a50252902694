r"""Parse, check and format GS1 UDIs (unique device identifiers).

A UDI here is a GS1 element string: application identifiers (AIs) followed by
their data, either in the human-readable form ``(01)...(17)...(10)...(21)...``
or in the raw form a scanner sends, where variable-length fields end at a GS
character (``\x1d``, the FNC1 separator) or at the end of the string. A raw
string may start with a symbology identifier such as ``]C1`` (GS1-128),
``]d2`` (GS1 DataMatrix), ``]Q3`` (GS1 QR Code) or ``]e0`` (GS1 DataBar).

The AIs a medical-device UDI uses are decoded into fields:

======  ================================================  =====================
AI      meaning                                           field
======  ================================================  =====================
(01)    GTIN-14, check digit verified                     ``gtin``
(11)    production date YYMMDD                            ``production_date``
(17)    expiry date YYMMDD (day 00 = last day of month)   ``expiry``
(10)    lot, 1 to 20 characters of GS1 character set 82   ``lot``
(21)    serial, 1 to 20 characters of character set 82    ``serial``
======  ================================================  =====================

Any other AI known to the GS1 AI table (taken from ``biip``) is kept as text in
``other`` after checking it against that table's format. A UDI must carry (01).

Conventions
-----------
- Two-digit years follow the GS1 sliding window (General Specifications 7.12):
  from 49 years before to 50 years after a reference year, by default the
  current one (:func:`gs1_year`).
- In the HRI form a value ends at the next ``(``; a literal ``(`` inside a lot
  or serial is written ``\(`` (the bracketed-syntax convention; ``\`` is outside
  character set 82, so this is unambiguous). :func:`format_udi` writes it so.
- In the raw form a variable-length value runs to the next GS or the end: a lot
  followed by a serial without GS swallows the serial (and is usually too long).
- A problem raises :class:`UdiError` naming the AI and the 0-based position in
  the input (symbology prefix and surrounding blanks included) of the offending
  character: the check digit, the month, the bad character, or the start of the
  value or element when the whole of it is at fault.

Which library does what
-----------------------
``biip`` supplies the GS1 AI table (codes, predefined lengths, value patterns),
the symbology identifiers and the GS1 check-digit algorithm. The tokenizer and
the date rules are ours: ``biip.parse`` reports problems as strings without
positions, its HRI parser silently drops data after a ``(`` inside a lot, and its
two-digit-year rule is tied to the clock. ``python-stdnum``'s ``gs1_128.info``
is not used: it merges lot and serial in the bracketed form and reads
two-digit years with the POSIX pivot (``69`` -> 1969) instead of the GS1 rule.

Examples
--------
>>> udi = parse_udi("(01)00884521123451(17)240200(10)LOT42(21)SN0001")
>>> udi.gtin, udi.expiry, udi.lot, udi.serial
('00884521123451', datetime.date(2024, 2, 29), 'LOT42', 'SN0001')
>>> format_udi(udi, form="raw")
'01008845211234511724022910LOT42\x1d21SN0001'
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

import numpy as np
import pandas as pd
from biip import ParseError
from biip.checksums import gs1_standard_check_digit
from biip.gs1_application_identifiers import GS1ApplicationIdentifier
from biip.symbology import GS1Symbology, SymbologyIdentifier

__all__ = [
    "GS",
    "GS1_CHARSET_82",
    "Udi",
    "UdiError",
    "format_udi",
    "gs1_year",
    "gtin_check_digit_error",
    "gtin_is_valid",
    "parse_udi",
    "parse_udi_series",
]

#: The ASCII group separator that scanners send in place of FNC1.
GS = "\x1d"

#: GS1 AI encodable character set 82, the characters allowed in lots and serials.
GS1_CHARSET_82 = frozenset(
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
)

_MAX_TEXT_LENGTH = 20  # lots (10) and serials (21) are X..20
_GTIN_LENGTHS = (8, 12, 13, 14)
# Whitespace a file or a scanner may add around a UDI. Not str.strip(): Python counts
# GS (0x1D) as whitespace, and it is data here.
_BLANKS = " \t\r\n"
_ASCII_DIGITS = re.compile(r"[0-9]*")
_DECODED_AIS = {"01": "gtin", "10": "lot", "11": "production_date", "17": "expiry", "21": "serial"}
_SET82_RUN = re.compile("[" + re.escape("".join(sorted(GS1_CHARSET_82))) + "]*")
_SHOWN_AI_CHARS = 12  # how much of a bad bracketed AI an error message quotes

# The canonical shapes, decoded without the tokenizer (see _parse_fields). They
# accept a strict subset of what the full parser accepts: lots and serials are
# already checked here (set 82, 1 to 20 characters), a bracketed lot must have no
# "(" in it, and a GS is needed exactly where the raw form requires one.
_SET82_CLASS = "[" + re.escape("".join(sorted(GS1_CHARSET_82))) + "]"
_SET82_NO_PAREN = "[" + re.escape("".join(sorted(GS1_CHARSET_82 - {"("}))) + "]"
_FAST_RAW = re.compile(
    r"(?:\](?:C1|d2|Q3|e0|J1))?01([0-9]{14})(?:11([0-9]{6}))?(?:17([0-9]{6}))?"
    rf"(?:10({_SET82_CLASS}{{1,20}})(?:\x1d(?=21)|\Z))?(?:21({_SET82_CLASS}{{1,20}}))?\Z"
)
_FAST_HRI = re.compile(
    r"\(01\)([0-9]{14})(?:\(11\)([0-9]{6}))?(?:\(17\)([0-9]{6}))?"
    rf"(?:\(10\)({_SET82_NO_PAREN}{{1,20}}))?(?:\(21\)({_SET82_NO_PAREN}{{1,20}}))?\Z"
)


class UdiError(ValueError):
    """A UDI (or a GTIN inside one) is malformed.

    Parameters
    ----------
    reason : str
        What is wrong, e.g. ``"GTIN check digit is 3, expected 7"``.
    ai : str, optional
        The application identifier the problem belongs to.
    position : int, optional
        0-based index in the input of the offending character (the first
        character of the element or value where the whole of it is at fault).
    hint : str, optional
        A likely cause, appended to the message in parentheses.

    Examples
    --------
    >>> str(UdiError("month 13 is not a month", ai="17", position=20))
    'AI (17) at position 20: month 13 is not a month'
    >>> str(UdiError("unknown application identifier '9Z'", position=0))
    "unknown application identifier '9Z' at position 0"
    """

    def __init__(
        self,
        reason: str,
        ai: str | None = None,
        position: int | None = None,
        hint: str | None = None,
    ) -> None:
        self.reason = reason
        self.ai = ai
        self.position = position
        self.hint = hint
        if ai is not None and position is not None:
            message = f"AI ({ai}) at position {position}: {reason}"
        elif ai is not None:
            message = f"AI ({ai}): {reason}"
        elif position is not None:
            message = f"{reason} at position {position}"
        else:
            message = reason
        if hint:
            message += f" ({hint})"
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        # The default pickling passes only the message back to __init__ and would
        # lose ai and position (multiprocessing pickles exceptions).
        return (type(self), (self.reason, self.ai, self.position, self.hint))


class _FrozenAis(Mapping[str, str]):
    """An immutable, hashable AI -> value mapping (sorted by AI) for :attr:`Udi.other`."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, str] | None = None) -> None:
        self._data = dict(sorted((data or {}).items()))

    def __getitem__(self, key: str) -> str:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        return hash(tuple(self._data.items()))

    def __repr__(self) -> str:
        return repr(self._data)


@dataclass(frozen=True)
class Udi:
    """The decoded content of a GS1 UDI.

    Equality compares the decoded fields, not ``raw``: the same identification
    written in HRI and raw form compares equal.

    Attributes
    ----------
    gtin : str
        GTIN-14 from AI (01), check digit verified.
    lot : str or None
        Lot (batch) from AI (10).
    serial : str or None
        Serial number from AI (21).
    expiry : datetime.date or None
        Expiry date from AI (17); day 00 is the last day of the month.
    production_date : datetime.date or None
        Production date from AI (11); day 00 is the last day of the month.
    raw : str
        The text as it was given to :func:`parse_udi` (empty when built by hand).
    other : Mapping[str, str]
        Every other AI found, e.g. ``{"240": "REF-12"}``, values as text.

    Examples
    --------
    >>> Udi("00884521123451", lot="A1") == parse_udi("0100884521123451" "10A1")
    True
    """

    gtin: str
    lot: str | None = None
    serial: str | None = None
    expiry: dt.date | None = None
    production_date: dt.date | None = None
    raw: str = field(default="", compare=False)
    other: Mapping[str, str] = field(default_factory=_FrozenAis)

    def __post_init__(self) -> None:
        # A frozen dataclass must stay hashable and immutable all the way down.
        if not isinstance(self.other, _FrozenAis):
            object.__setattr__(self, "other", _FrozenAis(self.other))


# --------------------------------------------------------------------------- helpers


def gs1_year(two_digit_year: int, reference_year: int | None = None) -> int:
    """Return the full year of a GS1 ``YY`` (GS1 General Specifications 7.12).

    The year falls in the window from 49 years before to 50 years after the
    reference year.

    Parameters
    ----------
    two_digit_year : int
        ``YY`` (0 to 99).
    reference_year : int, optional
        The year the window is placed around; default the current year.

    Returns
    -------
    int
        The four-digit year.

    Examples
    --------
    >>> gs1_year(75, 2025), gs1_year(76, 2025), gs1_year(10, 2060)
    (2075, 1976, 2110)
    """
    if not 0 <= two_digit_year <= 99:
        raise ValueError(f"two_digit_year must be 0 to 99, got {two_digit_year}")
    reference = dt.date.today().year if reference_year is None else reference_year
    century, reference_yy = divmod(reference, 100)
    difference = two_digit_year - reference_yy
    if 51 <= difference <= 99:
        century -= 1
    elif -99 <= difference <= -50:
        century += 1
    return century * 100 + two_digit_year


def _non_digit(value: str) -> tuple[int, str] | None:
    """(offset, reason) of the first character of ``value`` that is not an ASCII digit."""
    offset = _ASCII_DIGITS.match(value).end()  # type: ignore[union-attr]
    if offset < len(value):
        return offset, f"character {value[offset]!r} is not a digit"
    return None


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _gtin_problem(code: str, lengths: tuple[int, ...]) -> tuple[int, str] | None:
    """Return (offset in ``code``, reason) of the first problem, or None when valid."""
    problem = _non_digit(code)
    if problem is not None:
        return problem
    if len(code) not in lengths:
        expected = " or ".join(filter(None, [", ".join(map(str, lengths[:-1])), str(lengths[-1])]))
        return 0, f"GTIN has {_count(len(code), 'digit')}, expected {expected}"
    expected_digit = gs1_standard_check_digit(code[:-1])
    if int(code[-1]) != expected_digit:
        return len(code) - 1, f"GTIN check digit is {code[-1]}, expected {expected_digit}"
    return None


@lru_cache(maxsize=1 << 16)
def _gtin14_problem(code: str) -> tuple[int, str] | None:
    # A movement extract repeats a few thousand GTINs a million times: cache them.
    return _gtin_problem(code, (14,))


def gtin_check_digit_error(code: object, length: int | None = 14) -> str | None:
    """Say why ``code`` is not a valid GTIN, or return None when it is.

    Parameters
    ----------
    code : str
        The GTIN as text (a number would have lost its leading zeros).
    length : int or None, default 14
        The required number of digits; None accepts GTIN-8, -12, -13 and -14.

    Returns
    -------
    str or None
        The reason, e.g. ``"GTIN check digit is 2, expected 1"``, or None.

    Examples
    --------
    >>> gtin_check_digit_error("00884521123452")
    'GTIN check digit is 2, expected 1'
    >>> gtin_check_digit_error("0088452112345A")
    "character 'A' at position 13 is not a digit"
    >>> gtin_check_digit_error("4006381333931", length=None) is None
    True
    """
    if not isinstance(code, str):
        return f"GTIN must be text, got {type(code).__name__}"
    lengths = _GTIN_LENGTHS if length is None else (length,)
    problem = _gtin14_problem(code) if lengths == (14,) else _gtin_problem(code, lengths)
    if problem is None:
        return None
    offset, reason = problem
    if reason.startswith("character"):
        return reason.replace(" is not", f" at position {offset} is not")
    return reason


def gtin_is_valid(code: object, length: int | None = 14) -> bool:
    """Return whether ``code`` is a GTIN with a correct check digit.

    Parameters
    ----------
    code : str
        The GTIN as text.
    length : int or None, default 14
        The required number of digits; None accepts GTIN-8, -12, -13 and -14.

    Returns
    -------
    bool

    Examples
    --------
    >>> gtin_is_valid("00884521123451"), gtin_is_valid("00884521123452")
    (True, False)
    """
    return gtin_check_digit_error(code, length) is None


@lru_cache(maxsize=1 << 16)
def _date_or_problem(value: str, reference_year: int) -> dt.date | tuple[int, str]:
    """Decode YYMMDD (day 00 = last day of the month) or return (offset, reason)."""
    problem = _non_digit(value)
    if problem is not None:
        return problem
    if len(value) != 6:
        return 0, f"date has {_count(len(value), 'digit')}, expected 6 (YYMMDD)"
    month = int(value[2:4])
    if not 1 <= month <= 12:
        return 2, f"month {value[2:4]} is not a month"
    year = gs1_year(int(value[:2]), reference_year)
    last_day = calendar.monthrange(year, month)[1]
    day = int(value[4:6])
    if day == 0:
        # GS1 General Specifications 3.4: day 00 means the last day of the month.
        day = last_day
    elif day > last_day:
        return 4, f"day {value[4:6]} does not exist in {year:04d}-{month:02d} ({last_day} days)"
    return dt.date(year, month, day)


def _text_problem(value: str, name: str) -> tuple[int, str] | None:
    """Check a lot or serial: 1 to 20 characters of GS1 character set 82."""
    if not value:
        return 0, f"{name} is empty"
    if len(value) > _MAX_TEXT_LENGTH:
        return 0, f"{name} is {len(value)} characters, at most {_MAX_TEXT_LENGTH}"
    offset = _SET82_RUN.match(value).end()  # type: ignore[union-attr]
    if offset < len(value):
        return (
            offset,
            f"character {value[offset]!r} is not allowed in a {name} (GS1 character set 82)",
        )
    return None


@lru_cache(maxsize=1 << 14)
def _ai_for_digits(digits: str) -> GS1ApplicationIdentifier | None:
    """The AI that ``digits`` (2 to 4 ASCII digits) starts with, from biip's AI table.

    biip scans its ~540 AIs linearly; the cache makes the lookup a dict hit, and
    its size is bounded because keys are at most 4 digits.
    """
    try:
        return GS1ApplicationIdentifier.extract(digits)
    except ParseError:
        return None


def _ai_exact(code: str) -> GS1ApplicationIdentifier | None:
    """The AI whose code is exactly ``code``, or None."""
    if not (2 <= len(code) <= 4 and code.isascii() and code.isdigit()):
        return None
    ai = _ai_for_digits(code)
    return ai if ai is not None and ai.ai == code else None


@lru_cache(maxsize=1024)
def _fixed_length(code: str) -> int | None:
    """Data length of an AI with a predefined length (no GS needed), else None.

    biip's formats for those AIs all read ``N<ai digits>+N<data digits>``.
    """
    ai = _ai_exact(code)
    if ai is None or ai.separator_required:
        return None
    return int(ai.format.split("+", 1)[1][1:])


@lru_cache(maxsize=1024)
def _pattern(code: str) -> re.Pattern[str]:
    return re.compile(_ai_exact(code).pattern)  # type: ignore[union-attr]


# ------------------------------------------------------------------------ tokenizer

# One element string found in the input: the AI, its data (HRI escapes removed),
# where the element starts, where its data starts, the input position of each data
# character when escapes moved them (else None), and whether it came from raw form.
_Element = tuple[GS1ApplicationIdentifier, str, int, int, tuple[int, ...] | None, bool]


def _skip_symbology(text: str, pos: int, end: int) -> int:
    """Check the symbology identifier at ``pos`` and return where the data starts."""
    try:
        symbology = SymbologyIdentifier.extract(text[pos:end])
    except (ParseError, ValueError, IndexError):
        # biip raises ParseError for an unknown code, and IndexError/ValueError on
        # truncated ones such as "]" or "]Yx".
        symbology = None
    if symbology is None or symbology.gs1_symbology not in GS1Symbology.with_gs1_messages():
        shown = text[pos : min(pos + 3, end)]
        raise UdiError(
            f"symbology identifier {shown!r} does not announce GS1 element strings "
            "(expected ]C1, ]d2, ]Q3, ]e0 or ]J1)",
            position=pos,
        )
    return pos + len(symbology)


def _unknown_ai_raw(text: str, pos: int, end: int) -> UdiError:
    head = text[pos : min(pos + 4, end)]
    digits = _ASCII_DIGITS.match(head).end()  # type: ignore[union-attr]
    shown = head[:digits] if digits >= 2 else text[pos : min(pos + 2, end)]
    return UdiError(f"unknown application identifier {shown!r}", position=pos)


def _split_raw(text: str, pos: int, end: int) -> list[_Element]:
    """Cut a raw element string into elements (positions index into ``text``)."""
    elements: list[_Element] = []
    # Some scanners send the leading FNC1 as GS, and GS is allowed between any two
    # elements (GS1 General Specifications 7.8.6); a trailing one is tolerated too.
    while pos < end and text[pos] == GS:
        pos += 1
    while pos < end:
        head = text[pos : min(pos + 4, end)]
        digits = _ASCII_DIGITS.match(head).end()  # type: ignore[union-attr]
        ai = _ai_for_digits(head[:digits]) if digits >= 2 else None
        if ai is None:
            raise _unknown_ai_raw(text, pos, end)
        value_pos = pos + len(ai.ai)
        length = _fixed_length(ai.ai)
        separator = text.find(GS, value_pos, end)
        value_end = end if separator < 0 else separator
        if length is not None:
            # A predefined-length field ends after its length; a GS or the end of
            # the input before that leaves it short, which the checks report.
            value_end = min(value_end, value_pos + length)
        elements.append((ai, text[value_pos:value_end], pos, value_pos, None, True))
        pos = value_end
        while pos < end and text[pos] == GS:
            pos += 1
    return elements


def _split_hri(text: str, pos: int, end: int) -> list[_Element]:
    r"""Cut a bracketed element string ``(AI)data(AI)data`` into elements.

    Data ends at the next ``(``; a literal ``(`` inside data is written ``\(`` (the
    bracketed-syntax convention; ``\`` is outside character set 82, so this is
    unambiguous).
    """
    elements: list[_Element] = []
    while pos < end:
        close = text.find(")", pos + 1, end)
        code = text[pos + 1 : close] if close >= 0 else ""
        ai = _ai_exact(code) if close >= 0 else None
        if ai is None:
            if close < 0:
                raise UdiError("'(' does not open an application identifier '(NN)'", position=pos)
            shown = code if len(code) <= _SHOWN_AI_CHARS else code[:_SHOWN_AI_CHARS] + "..."
            # After the first element the likeliest cause is an unescaped "(" in data.
            hint = "write a '(' inside data as '\\('" if elements else None
            raise UdiError(f"unknown application identifier {shown!r}", position=pos, hint=hint)
        value_pos = close + 1
        value_end = value_pos
        escaped = False
        while True:
            paren = text.find("(", value_end, end)
            if paren < 0:
                value_end = end
                break
            if paren > value_pos and text[paren - 1] == "\\":
                escaped = True
                value_end = paren + 1
                continue
            value_end = paren
            break
        if escaped:
            chars: list[str] = []
            offsets: list[int] = []
            i = value_pos
            while i < value_end:
                if text[i] == "\\" and i + 1 < value_end and text[i + 1] == "(":
                    i += 1
                chars.append(text[i])
                offsets.append(i)
                i += 1
            elements.append((ai, "".join(chars), pos, value_pos, tuple(offsets), False))
        else:
            elements.append((ai, text[value_pos:value_end], pos, value_pos, None, False))
        pos = value_end
    return elements


def _at(value_pos: int, offsets: tuple[int, ...] | None, offset: int) -> int:
    """Input position of character ``offset`` of an element's data."""
    if offsets is None:
        return value_pos + offset
    return offsets[offset] if offset < len(offsets) else value_pos + offset


def _parse_fields(text: str, reference_year: int) -> tuple[Any, ...]:
    """Parse ``text`` into (gtin, lot, serial, expiry, production_date, other).

    The shared core of :func:`parse_udi` and :func:`parse_udi_series`. Most UDIs
    in an extract have the canonical shape (AIs 01, 11, 17, 10, 21 in that order);
    one regular expression and two cached checks decode those. Anything else, and
    anything with a problem, goes through the full parser, which has the
    positions for the error message.
    """
    match = (_FAST_HRI if text[:1] == "(" else _FAST_RAW).match(text)
    if match is not None:
        gtin, production, expiry, lot, serial = match.groups()
        if _gtin14_problem(gtin) is None:
            production_date = None
            if production is not None:
                production_date = _date_or_problem(production, reference_year)
            expiry_date = None
            if expiry is not None:
                expiry_date = _date_or_problem(expiry, reference_year)
            if not isinstance(production_date, tuple) and not isinstance(expiry_date, tuple):
                return gtin, lot, serial, expiry_date, production_date, {}
    return _parse_fields_full(text, reference_year)


def _parse_fields_full(text: str, reference_year: int) -> tuple[Any, ...]:
    """The full parser behind :func:`_parse_fields`: every form, positions in errors."""
    start = 0
    end = len(text)
    while start < end and text[start] in _BLANKS:
        start += 1
    while end > start and text[end - 1] in _BLANKS:
        end -= 1
    if start == end:
        raise UdiError("empty input")
    pos = _skip_symbology(text, start, end) if text[start] == "]" else start
    if text.count(GS, pos, end) == end - pos:  # nothing, or only separators, is left
        what = "after the symbology identifier" if pos > start else "(only separators)"
        raise UdiError(f"no element strings {what}", position=pos)
    if text[pos] == "(":
        elements = _split_hri(text, pos, end)
    else:
        elements = _split_raw(text, pos, end)

    found: dict[str, Any] = {}
    seen: dict[str, tuple[str, int]] = {}
    other: dict[str, str] = {}
    for ai, value, element_pos, value_pos, offsets, from_raw in elements:
        code = ai.ai
        previous = seen.get(code)
        if previous is not None:
            if previous[0] != value:
                raise UdiError(
                    f"appears twice with different values, {previous[0]!r} "
                    f"(position {previous[1]}) and {value!r}",
                    ai=code,
                    position=element_pos,
                )
            continue
        seen[code] = (value, element_pos)
        name = _DECODED_AIS.get(code)
        if name == "gtin":
            problem = _gtin14_problem(value)
            if problem is not None:
                raise UdiError(problem[1], ai=code, position=_at(value_pos, offsets, problem[0]))
            found[name] = value
        elif name in ("expiry", "production_date"):
            date = _date_or_problem(value, reference_year)
            if isinstance(date, tuple):
                raise UdiError(date[1], ai=code, position=_at(value_pos, offsets, date[0]))
            found[name] = date
        elif name in ("lot", "serial"):
            problem = _text_problem(value, name)
            if problem is not None:
                hint = None
                if from_raw and len(value) > _MAX_TEXT_LENGTH:
                    hint = "is a GS separator missing after it?"
                raise UdiError(
                    problem[1], ai=code, position=_at(value_pos, offsets, problem[0]), hint=hint
                )
            found[name] = value
        else:
            if _pattern(code).fullmatch(code + value) is None:
                raise UdiError(
                    f"value {value!r} does not fit the GS1 format {ai.format}",
                    ai=code,
                    position=value_pos,
                )
            other[code] = value
    if "gtin" not in found:
        raise UdiError("no GTIN: a UDI needs AI (01)")
    return (
        found["gtin"],
        found.get("lot"),
        found.get("serial"),
        found.get("expiry"),
        found.get("production_date"),
        other,
    )


def _reference_year(reference_year: int | None) -> int:
    year = dt.date.today().year if reference_year is None else int(reference_year)
    # The 100-year window around it must stay inside what datetime.date can hold.
    if not 100 <= year <= 9900:
        raise ValueError(f"reference_year must be between 100 and 9900, got {year}")
    return year


# ------------------------------------------------------------------------ public API


def parse_udi(text: str, reference_year: int | None = None) -> Udi:
    r"""Parse a GS1 UDI in HRI or raw form, with or without a symbology identifier.

    Parameters
    ----------
    text : str
        ``(01)...(17)...(10)...`` or the raw form with GS (``\x1d``) after
        variable-length fields, optionally prefixed by ``]C1``, ``]d2``, ``]Q3``,
        ``]e0`` or ``]J1``. Surrounding spaces and line breaks are ignored. In
        the HRI form a ``(`` inside a lot or serial is written ``\(``.
    reference_year : int, optional
        Year that two-digit years are read relative to (GS1 rule: from 49 years
        before to 50 after it); default the current year.

    Returns
    -------
    Udi

    Raises
    ------
    UdiError
        When anything is wrong; the message names the AI and the 0-based
        position in ``text``.
    TypeError
        When ``text`` is not a string.

    Examples
    --------
    >>> parse_udi("]d2010088452112345117251100" "\x1d" "21SN-7", reference_year=2025)
    Udi(gtin='00884521123451', lot=None, serial='SN-7', expiry=datetime.date(2025, 11, 30), production_date=None, raw=']d2010088452112345117251100\x1d21SN-7', other={})
    >>> parse_udi("(01)00884521123451(17)251301")
    Traceback (most recent call last):
    ...
    toolkit.udi.UdiError: AI (17) at position 24: month 13 is not a month
    """
    if not isinstance(text, str):
        raise TypeError(f"a UDI must be a string, got {type(text).__name__}")
    gtin, lot, serial, expiry, production_date, other = _parse_fields(
        text, _reference_year(reference_year)
    )
    return Udi(gtin, lot, serial, expiry, production_date, text, _FrozenAis(other))


def _two_digit_year(date: dt.date, ai: str, reference_year: int) -> str:
    """YYMMDD of ``date``, refusing years the GS1 window would read back differently."""
    text = f"{date.year % 100:02d}{date.month:02d}{date.day:02d}"
    if gs1_year(date.year % 100, reference_year) != date.year:
        raise UdiError(
            f"year {date.year} cannot be written as YY: with reference year "
            f"{reference_year} it would read back as {gs1_year(date.year % 100, reference_year)}",
            ai=ai,
        )
    return text


def format_udi(
    udi: Udi, form: Literal["hri", "raw"] = "hri", reference_year: int | None = None
) -> str:
    r"""Write a :class:`Udi` as a GS1 element string.

    Predefined-length AIs come first ((01), (11), (17), then other ones by AI),
    variable-length ones last ((10), (21), then others), so the raw form needs GS
    only between variable-length fields.

    Parameters
    ----------
    udi : Udi
        What to write.
    form : {"hri", "raw"}, default "hri"
        ``"hri"``: ``(01)...(11)...(17)...(10)...(21)...`` with ``(`` in data
        written ``\(``; ``"raw"``: AI digits and data, GS after each
        variable-length field that is not last.
    reference_year : int, optional
        The year :func:`parse_udi` will read two-digit years against; dates
        outside its window are refused rather than written ambiguously.

    Returns
    -------
    str
        A string that :func:`parse_udi` turns back into an equal ``Udi``.

    Raises
    ------
    UdiError
        When a field would not make a valid UDI (bad GTIN, lot too long, ...).

    Examples
    --------
    >>> udi = Udi("00884521123451", lot="L1", serial="S1", expiry=dt.date(2027, 1, 31))
    >>> format_udi(udi)
    '(01)00884521123451(17)270131(10)L1(21)S1'
    >>> format_udi(udi, form="raw")
    '01008845211234511727013110L1\x1d21S1'
    """
    if form not in ("hri", "raw"):
        raise ValueError(f"form must be 'hri' or 'raw', got {form!r}")
    reference = _reference_year(reference_year)
    problem = _gtin14_problem(udi.gtin) if isinstance(udi.gtin, str) else (0, "GTIN is not text")
    if problem is not None:
        raise UdiError(problem[1], ai="01")
    fixed: list[tuple[str, str]] = [("01", udi.gtin)]
    variable: list[tuple[str, str]] = []
    if udi.production_date is not None:
        fixed.append(("11", _two_digit_year(udi.production_date, "11", reference)))
    if udi.expiry is not None:
        fixed.append(("17", _two_digit_year(udi.expiry, "17", reference)))
    for code, name, value in (("10", "lot", udi.lot), ("21", "serial", udi.serial)):
        if value is None:
            continue
        text_problem = _text_problem(value, name)
        if text_problem is not None:
            raise UdiError(text_problem[1], ai=code)
        variable.append((code, value))
    extra_fixed: list[tuple[str, str]] = []
    extra_variable: list[tuple[str, str]] = []
    for code, value in sorted(udi.other.items()):
        ai = _ai_exact(code)
        if ai is None:
            raise UdiError(f"unknown application identifier {code!r} in other")
        if code in _DECODED_AIS:
            raise UdiError(f"belongs in the field {_DECODED_AIS[code]!r}, not in other", ai=code)
        if _pattern(code).fullmatch(code + value) is None:
            raise UdiError(f"value {value!r} does not fit the GS1 format {ai.format}", ai=code)
        (extra_variable if ai.separator_required else extra_fixed).append((code, value))
    elements = fixed + extra_fixed + variable + extra_variable
    if form == "hri":
        return "".join(f"({code})" + value.replace("(", "\\(") for code, value in elements)
    parts = []
    last = len(elements) - 1
    for index, (code, value) in enumerate(elements):
        needs_gs = index != last and _fixed_length(code) is None
        parts.append(code + value + (GS if needs_gs else ""))
    return "".join(parts)


_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
_NAT_DAYS = np.iinfo(np.int64).min


def parse_udi_series(series: pd.Series, reference_year: int | None = None) -> pd.DataFrame:
    """Parse a column of UDIs; never raises on bad values.

    Each distinct value is parsed once and the results are mapped back, so a
    movement extract with many repeats costs about as much as its distinct UDIs.

    Parameters
    ----------
    series : pandas.Series
        UDIs as text; missing values give the error ``"empty input"``.
    reference_year : int, optional
        As in :func:`parse_udi`.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``series``, with columns ``gtin``, ``lot``, ``serial``
        (``str``), ``expiry``, ``production_date`` (``datetime64[ns]``) and
        ``error`` (the :class:`UdiError` message, missing when the UDI is valid).
        Rows with an error have missing fields.

    Examples
    --------
    >>> frame = parse_udi_series(pd.Series(["(01)00884521123451(10)A", "(01)123"]))
    >>> frame[["gtin", "lot"]].iloc[0].tolist()
    ['00884521123451', 'A']
    >>> frame["error"].iloc[1]
    'AI (01) at position 4: GTIN has 3 digits, expected 14'
    """
    reference = _reference_year(reference_year)
    codes, uniques = _distinct(series.tolist())
    count = len(uniques)
    gtin = np.full(count, None, dtype=object)
    lot = np.full(count, None, dtype=object)
    serial = np.full(count, None, dtype=object)
    expiry = np.full(count, None, dtype=object)
    production = np.full(count, None, dtype=object)
    error = np.full(count, None, dtype=object)
    parse = _parse_fields
    for index, text in enumerate(uniques):
        if not isinstance(text, str):
            error[index] = _not_text(text)
            continue
        try:
            fields = parse(text, reference)
        except UdiError as exc:
            error[index] = str(exc)
            continue
        gtin[index], lot[index], serial[index], expiry[index], production[index], _ = fields
    take = codes
    columns = {
        "gtin": _text_column(gtin, take),
        "lot": _text_column(lot, take),
        "serial": _text_column(serial, take),
        "expiry": _date_column(expiry, take),
        "production_date": _date_column(production, take),
        "error": _text_column(error, take),
    }
    return pd.DataFrame(columns, index=series.index)


def _distinct(values: list[Any]) -> tuple[np.ndarray, list[Any]]:
    """Codes into the distinct values (in order of first appearance), and those values.

    Not ``pandas.factorize``: pandas 2 hashes strings up to a NUL character, so
    ``"a"`` and ``"a\\x00b"`` would share a result; a dict is exact on every version.
    """
    first_seen: dict[Any, int] = {}
    try:
        codes = np.fromiter(
            (first_seen.setdefault(value, len(first_seen)) for value in values),
            dtype=np.intp,
            count=len(values),
        )
    except TypeError:  # an unhashable cell (a list, say): key it by its type instead
        first_seen.clear()
        keys = [value if _hashable(value) else _Unhashable(type(value)) for value in values]
        codes = np.fromiter(
            (first_seen.setdefault(key, len(first_seen)) for key in keys),
            dtype=np.intp,
            count=len(keys),
        )
    return codes, list(first_seen)


@dataclass(frozen=True)
class _Unhashable:
    kind: type


def _hashable(value: object) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _not_text(value: object) -> str:
    """The series error for a cell that is not a string."""
    if isinstance(value, _Unhashable):
        return f"not text ({value.kind.__name__}); read UDIs as strings"
    if value is None or value is pd.NaT or value is pd.NA:
        return "empty input"
    if isinstance(value, float) and value != value:  # NaN
        return "empty input"
    return f"not text ({type(value).__name__}); read UDIs as strings"


def _text_column(values: np.ndarray, take: np.ndarray) -> Any:
    """Per-distinct values (None = missing) spread to rows, as the project's ``str`` dtype.

    Converting the few distinct values and then taking is much cheaper than
    converting a million-row object array.
    """
    return pd.Series(values, dtype="str").array.take(take)


def _date_column(values: np.ndarray, take: np.ndarray) -> np.ndarray:
    """Per-distinct dates (None = missing) spread to rows as datetime64[ns] (NaT)."""
    # Day numbers via toordinal are several times faster than letting numpy convert
    # date objects one by one; int64 min is NaT.
    days = np.fromiter(
        (_NAT_DAYS if date is None else date.toordinal() - _EPOCH_ORDINAL for date in values),
        dtype=np.int64,
        count=len(values),
    )
    return days.view("datetime64[D]")[take].astype("datetime64[ns]")
