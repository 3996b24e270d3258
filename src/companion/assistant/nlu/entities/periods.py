"""Periods and dates, resolved against the business ``today`` and the fiscal-year start month.

A period is an inclusive ``{start, end}`` range ("last month", "Q3 2025", "from 1 Jan to 15
Feb", "last 30 days", "ytd"); a date is one day named on its own ("on 5 March", "as of
2026-03-31", "end of last month"). Calendar words mean whole calendar periods ("this month"
is the 1st to the last day); rolling words end today ("last 30 days", "year to date").

Years and quarters follow one rule: words for them ("this year", "last year", "this year so
far", "ytd", "Q3", "last quarter", "end of last year", "ei bochor") mean the company's fiscal
year and its quarters; a year written as a number ("in 2025", "for 2026") or called a
calendar year ("this calendar year") is the calendar year. With a January fiscal start the
two are the same. Answers name which one they used (``assistant.answers.period_name``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from companion.assistant.nlu.entities import calendar as cal
from companion.assistant.nlu.entities.numbers import WORD_NUMBERS
from companion.assistant.nlu.entities.script import END, START

MONTHS = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
    "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_MONTH = r"(?:" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?:[0-2]?\d|3[01])(?:st|nd|rd|th)?"
_YEAR = r"(?:19|20)\d{2}"
_NUMWORD = r"\d{1,3}|" + "|".join(WORD_NUMBERS)
# A day and month in either order, with an optional year; or an ISO or d/m/y date.
DATE = (
    rf"(?:{_YEAR}-\d{{1,2}}-\d{{1,2}}"
    rf"|\d{{1,2}}[/.]\d{{1,2}}(?:[/.](?:{_YEAR}|\d{{2}}))?"
    rf"|{_DAY}\s+(?:of\s+)?{_MONTH}(?:,?\s+{_YEAR})?"
    rf"|{_MONTH}\s+{_DAY}(?:,?\s+{_YEAR})?)"
)
_DATE_RE = re.compile(rf"\b{DATE}\b", re.IGNORECASE)
_MONTH_NAME = re.compile(rf"\b({_MONTH})(?:\s+(?:of\s+)?({_YEAR}))?\b", re.IGNORECASE)
# Month names that are also ordinary words need a cue before them.
_AMBIGUOUS_MONTHS = {
    "may",
    "march",
    "mar",
    "jan",
    "jun",
    "jul",
    "aug",
    "sep",
    "oct",
    "nov",
    "dec",
    "apr",
}
_SCALE_AFTER = re.compile(
    rf"\s?(?:lakhs?|lacs?|crores?|cr|thousand|million|billion|mn|bn|k|m|hajar|hazar|হাজার|লাখ|লক্ষ|কোটি){END}",
    re.IGNORECASE,
)
_MONTH_CUE = re.compile(r"\b(?:in|for|during|of|since|from|until|till|to|by|last|this)\s+$")


@dataclass(frozen=True)
class Period:
    """An inclusive date range and the words it came from.

    Years and quarters also say which calendar they follow: ``basis`` is "fiscal" or
    "calendar", and ``name`` what to call them ("fiscal year 2026–27 to date", "calendar
    year", "Q3 of fiscal year 2025–26", "calendar Q3").
    """

    start: dt.date
    end: dt.date
    text: str = ""
    basis: str | None = None
    name: str | None = None

    def to_dict(self) -> dict[str, str]:
        """The public ``{start, end}`` shape, ISO dates (+ ``basis`` and ``name``, if any)."""
        out = {"start": self.start.isoformat(), "end": self.end.isoformat()}
        if self.basis and self.name:
            out |= {"basis": self.basis, "name": self.name}
        return out


@dataclass(frozen=True)
class Dates:
    """The period and the single date of a message, with the spans they used."""

    period: Period | None = None
    date: dt.date | None = None
    spans: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class _Ctx:
    today: dt.date
    fy_start: int


_Resolver = Callable[[re.Match[str], _Ctx], tuple[dt.date, dt.date] | None]


def extract_dates(text: str, *, today: dt.date, fiscal_year_start_month: int = 1) -> Dates:
    """The first period and the first single date named in ``text``."""
    if not 1 <= fiscal_year_start_month <= 12:
        raise ValueError("fiscal_year_start_month must be 1-12")
    ctx = _Ctx(today, fiscal_year_start_month)
    spans: list[tuple[int, int]] = []
    period: Period | None = None
    day: dt.date | None = None
    for pattern, resolver, is_date in _RULES:
        for match in pattern.finditer(text):
            if any(match.start() < e and s < match.end() for s, e in spans):
                continue
            if (is_date and day is not None) or (not is_date and period is not None):
                continue
            bounds = resolver(match, ctx)
            if bounds is None:
                continue
            spans.append((match.start(), match.end()))
            if is_date:
                day = bounds[0]
            else:
                basis, name = _naming(resolver, match, bounds, ctx)
                period = Period(bounds[0], bounds[1], match.group(0).strip(), basis, name)
    return Dates(period=period, date=day, spans=tuple(sorted(spans)))


def _naming(
    resolver: _Resolver, m: re.Match[str], bounds: tuple[dt.date, dt.date], c: _Ctx
) -> tuple[str | None, str | None]:
    """(basis, name) of a year or quarter period; (None, None) for any other."""
    groups, word = m.groupdict(), m[0].lower()
    kind: str | None = None
    if resolver is _calendar_year or groups.get("calendar"):
        return "calendar", "calendar year"
    if resolver is _fiscal_year or groups.get("fiscal"):
        kind = "year"
    elif resolver is _quarter:
        kind = "quarter"
    elif resolver is _to_date and "month" not in word and word != "mtd":
        kind = "quarter to date" if "quarter" in word or word == "qtd" else "year to date"
    elif resolver in (_calendar_unit, _spoken_unit):
        unit = (groups.get("unit") or "year").lower()
        unit = _SPOKEN_UNITS.get(_stem(unit), unit) if resolver is _spoken_unit else unit
        kind = (
            "year" if unit == "year" else "quarter" if unit.startswith(("quarter", "qtr")) else None
        )
    if kind is None:
        return None, None
    label, q = cal.fiscal_quarter_of(bounds[0], c.fy_start)
    if c.fy_start == 1:  # the fiscal year is the calendar year
        names = {"year": "calendar year", "year to date": "calendar year to date"}
        return "calendar", names.get(kind) or f"calendar Q{q}" + kind.removeprefix("quarter")
    year = f"fiscal year {label - 1}–{label % 100:02d}"
    names = {"year": year, "year to date": f"{year} to date"}
    return "fiscal", names.get(kind) or f"Q{q} of {year}" + kind.removeprefix("quarter")


def parse_date(raw: str, ctx_today: dt.date) -> dt.date | None:
    """One written date; a missing year is the latest one not after today's year."""
    text = raw.strip().lower().replace(",", " ")
    iso = re.fullmatch(rf"({_YEAR})-(\d{{1,2}})-(\d{{1,2}})", text)
    if iso:
        return _safe_date(int(iso[1]), int(iso[2]), int(iso[3]))
    slashed = re.fullmatch(r"(\d{1,2})[/.](\d{1,2})(?:[/.](\d{2,4}))?", text)
    if slashed:  # day first, as in Bangladesh and most of the world
        given = int(slashed[3]) if slashed[3] else ctx_today.year
        return _safe_date(given + 2000 if given < 100 else given, int(slashed[2]), int(slashed[1]))
    words = text.replace(" of ", " ").split()
    day: int | None = None
    month: int | None = None
    year: int | None = None
    for word in words:
        bare = re.sub(r"(st|nd|rd|th|\.)$", "", word)
        if bare in MONTHS:
            month = MONTHS[bare]
        elif re.fullmatch(_YEAR, bare):
            year = int(bare)
        elif bare.isdigit():
            day = int(bare)
    if day is None or month is None:
        return None
    return _safe_date(year or ctx_today.year, month, day)


def _safe_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _num(word: str) -> int:
    return int(word) if word.isdigit() else WORD_NUMBERS[word.lower()]


# --- resolvers: each returns (start, end) or None -------------------------------------------


def _range(m: re.Match[str], c: _Ctx) -> tuple[dt.date, dt.date] | None:
    start, end = parse_date(m["a"], c.today), parse_date(m["b"], c.today)
    if start is None or end is None:
        return None
    if end < start and not re.search(_YEAR, m["a"]):
        start = start.replace(year=start.year - 1)
    return (start, end) if start <= end else None


def _month_range(m: re.Match[str], c: _Ctx) -> tuple[dt.date, dt.date] | None:
    first, last = MONTHS[m["a"].lower().rstrip(".")], MONTHS[m["b"].lower().rstrip(".")]
    year = int(m["y"]) if m["y"] else c.today.year
    start_year = year if first <= last else year - 1
    return dt.date(start_year, first, 1), cal.month_end(year, last)


def _relative_day(m: re.Match[str], c: _Ctx) -> tuple[dt.date, dt.date]:
    word = m[0].lower()
    offset = (
        -2 if "before" in word else -1 if "yesterday" in word else 1 if "tomorrow" in word else 0
    )
    day = c.today + dt.timedelta(days=offset)
    return day, day


def _shift(m: re.Match[str]) -> int:
    groups = m.groupdict()
    which = (groups.get("which") or groups.get("w2") or groups.get("w3") or "this").lower()
    return -1 if which in ("last", "previous", "prev", "past") else 1 if which == "next" else 0


def _calendar_unit(m: re.Match[str], c: _Ctx) -> tuple[dt.date, dt.date] | None:
    unit, by = (m["unit"] or "year").lower(), _shift(m)
    if unit.startswith("week"):
        return cal.week_bounds(c.today + dt.timedelta(weeks=by))
    if unit.startswith("month"):
        day = cal.add_months(c.today.replace(day=1), by)
        return cal.month_bounds(day.year, day.month)
    if unit.startswith(("quarter", "qtr")):
        label, q = cal.shift_quarter(*cal.fiscal_quarter_of(c.today, c.fy_start), by)
        return cal.fiscal_quarter_bounds(label, q, c.fy_start)
    if m.groupdict().get("calendar"):
        year = c.today.year + by
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    label = cal.fiscal_year_label(c.today, c.fy_start) + by
    return cal.fiscal_year_bounds(label, c.fy_start)


def _spoken_day(m: re.Match[str], c: _Ctx) -> tuple[dt.date, dt.date]:
    word = m[0].lower()
    day = c.today - dt.timedelta(days=1 if "kal" in word or "কাল" in word else 0)
    return day, day


def _spoken_unit(m: re.Match[str], c: _Ctx) -> tuple[dt.date, dt.date] | None:
    """ "ei mash", "gto bochor", "এই মাসের", "গত সপ্তাহে": the English unit, shifted."""
    unit = _SPOKEN_UNITS[_stem(m["unit"].lower())]
    by = _SPOKEN_SHIFT.get(m["which"].lower(), 0)
    if unit == "week":
        return cal.week_bounds(c.today + dt.timedelta(weeks=by))
    if unit == "month":
        day = cal.add_months(c.today.replace(day=1), by)
        return cal.month_bounds(day.year, day.month)
    if unit == "quarter":
        label, q = cal.shift_quarter(*cal.fiscal_quarter_of(c.today, c.fy_start), by)
        return cal.fiscal_quarter_bounds(label, q, c.fy_start)
    return cal.fiscal_year_bounds(cal.fiscal_year_label(c.today, c.fy_start) + by, c.fy_start)


def _stem(word: str) -> str:
    return next(u for u in sorted(_SPOKEN_UNITS, key=len, reverse=True) if word.startswith(u))


def _rolling(m: re.Match[str], c: _Ctx) -> tuple[dt.date, dt.date]:
    n, unit = _num(m["n"]) if m.groupdict().get("n") else 1, m["unit"].lower()
    if unit.startswith("day"):
        return c.today - dt.timedelta(days=n - 1), c.today
    if unit.startswith("week"):
        return c.today - dt.timedelta(weeks=n) + dt.timedelta(days=1), c.today
    months = n * 12 if unit.startswith("year") else n * 3 if unit.startswith("quarter") else n
    return cal.add_months(c.today, -months) + dt.timedelta(days=1), c.today


def _to_date(m: re.Match[str], c: _Ctx) -> tuple[dt.date, dt.date]:
    word = m[0].lower()
    if "month" in word or word == "mtd":
        return c.today.replace(day=1), c.today
    if "quarter" in word or word == "qtd":
        label, q = cal.fiscal_quarter_of(c.today, c.fy_start)
        return cal.fiscal_quarter_bounds(label, q, c.fy_start)[0], c.today
    label = cal.fiscal_year_label(c.today, c.fy_start)
    return cal.fiscal_year_bounds(label, c.fy_start)[0], c.today


def _fiscal_year(m: re.Match[str], c: _Ctx) -> tuple[dt.date, dt.date] | None:
    digits = m["fy"]
    if "-" in digits or "/" in digits:  # FY2025-26 ends in the second year
        tail = re.split(r"[-/]", digits)[1]
        label = int(tail) + (2000 if len(tail) == 2 else 0)
    else:
        label = int(digits) + (2000 if len(digits) == 2 else 0)
    return cal.fiscal_year_bounds(label, c.fy_start)


def _quarter(m: re.Match[str], c: _Ctx) -> tuple[dt.date, dt.date] | None:
    q = int(m["q"])
    if not 1 <= q <= 4:
        return None
    if m["y"]:
        year = int(m["y"])
        year = year + 2000 if year < 100 else year
        return cal.fiscal_quarter_bounds(year, q, c.fy_start)
    label = cal.fiscal_year_label(c.today, c.fy_start)
    bounds = cal.fiscal_quarter_bounds(label, q, c.fy_start)
    if bounds[0] > c.today:  # the most recent Q3, not next one
        bounds = cal.fiscal_quarter_bounds(label - 1, q, c.fy_start)
    return bounds


def _month(m: re.Match[str], c: _Ctx) -> tuple[dt.date, dt.date] | None:
    name = m[1].lower().rstrip(".")
    before = m.string[: m.start()].lower()
    if name in _AMBIGUOUS_MONTHS and not m[2] and not _MONTH_CUE.search(before):
        return None
    month = MONTHS[name]
    if m[2]:
        return cal.month_bounds(int(m[2]), month)
    after = m.string[m.end() :].lower().lstrip()
    if after.startswith(("last year", "of last year")):
        year = c.today.year - 1
    elif before.rstrip().endswith("last"):  # "last March": the latest one already over
        year = c.today.year if month < c.today.month else c.today.year - 1
    else:
        year = c.today.year if month <= c.today.month else c.today.year - 1
    return cal.month_bounds(year, month)


def _month_last_year(m: re.Match[str], c: _Ctx) -> tuple[dt.date, dt.date]:
    return cal.month_bounds(c.today.year - 1, MONTHS[m["m"].lower().rstrip(".")])


def _since(m: re.Match[str], c: _Ctx) -> tuple[dt.date, dt.date] | None:
    raw = m["d"]
    start = parse_date(raw, c.today)
    if start is None and raw.lower().rstrip(".") in MONTHS:
        month = MONTHS[raw.lower().rstrip(".")]
        year = c.today.year if month <= c.today.month else c.today.year - 1
        start = dt.date(year, month, 1)
    if start is None or start > c.today:
        return None
    return start, c.today


def _calendar_year(m: re.Match[str], c: _Ctx) -> tuple[dt.date, dt.date]:
    year = int(m["y"])
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def _single_date(m: re.Match[str], c: _Ctx) -> tuple[dt.date, dt.date] | None:
    if _SCALE_AFTER.match(m.string, m.end()):
        return None  # "1.5 crore", "2.5 lakh": an amount, not the 1st of May
    day = parse_date(m[0], c.today)
    return (day, day) if day else None


def _period_end(m: re.Match[str], c: _Ctx) -> tuple[dt.date, dt.date] | None:
    unit = (m["unit"] or m["unit2"]).lower()
    which = (m["which"] or m["w2"] or "").lower()
    if unit.startswith("month"):
        if which in ("last", "previous", "prev"):
            day = c.today.replace(day=1) - dt.timedelta(days=1)
        elif which in ("this", "current"):
            day = cal.month_end(c.today.year, c.today.month)
        else:  # "month end": the latest one not after today
            end = cal.month_end(c.today.year, c.today.month)
            day = end if end == c.today else c.today.replace(day=1) - dt.timedelta(days=1)
    elif unit.startswith(("quarter", "qtr")):
        label, q = cal.fiscal_quarter_of(c.today, c.fy_start)
        if which != "this" and which != "current":
            label, q = cal.shift_quarter(label, q, -1)
        day = cal.fiscal_quarter_bounds(label, q, c.fy_start)[1]
    else:  # the end of this or the last fiscal year
        label = cal.fiscal_year_label(c.today, c.fy_start)
        label -= 0 if which in ("this", "current") else 1
        day = cal.fiscal_year_bounds(label, c.fy_start)[1]
    return day, day


_WHICH = r"(?P<which>this|current|last|previous|prev|past|next)"
# Banglish (Bangla in Latin letters) and Bangla period words, with their common spellings.
_SPOKEN_SHIFT = {
    **dict.fromkeys("ei eii ai this current chaloti choloti এই চলতি".split(), 0),
    **dict.fromkeys("last gto goto gta gata gotto ager agher previous prev গত আগের".split(), -1),
    **dict.fromkeys("next samner agami porer আগামী পরের".split(), 1),
}
_SPOKEN_UNITS = {
    **dict.fromkeys("mash mas maash month মাস".split(), "month"),
    **dict.fromkeys("bochor bochhor bosor bachor botsor year বছর".split(), "year"),
    **dict.fromkeys("soptaho shoptaho soptah week সপ্তাহ".split(), "week"),
    **dict.fromkeys("quarter কোয়ার্টার ত্রৈমাসিক".split(), "quarter"),
}
_SPOKEN = (
    rf"{START}(?P<which>{'|'.join(sorted(_SPOKEN_SHIFT, key=len, reverse=True))})\s+"
    rf"(?P<unit>{'|'.join(sorted(_SPOKEN_UNITS, key=len, reverse=True))})"
    r"(?:e|er|ey|he|her|ta|ে|ের|টা|টি|কে)?"
    rf"{END}"
)
_SPOKEN_DAY = (
    r"\b(?:aa?j(?:ke|ker|kei)?|aa?jk|goto\s?kaa?l(?:er|ke)?|gto\s+kal|gatkal|gatokal|gotkal)\b"
    rf"|{START}(?:আজ(?:কে|কের|কেই|ের|ে)?|গতকাল(?:কে|কের|ের|ে)?){END}"
)
_FLAGS = re.IGNORECASE
_RULES: list[tuple[re.Pattern[str], _Resolver, bool]] = [
    (
        re.compile(
            rf"\b(?:from|between)\s+(?P<a>{DATE})\s*(?:to|till|until|and|-|–)\s*(?P<b>{DATE})\b",
            _FLAGS,
        ),
        _range,
        False,
    ),
    (
        re.compile(rf"\b(?P<a>{DATE})\s*(?:to|till|until|-|–)\s*(?P<b>{DATE})\b", _FLAGS),
        _range,
        False,
    ),
    (
        re.compile(
            rf"\b(?:from|between)\s+(?P<a>{_MONTH})\s*(?:to|till|until|and|-|–)\s*"
            rf"(?P<b>{_MONTH})(?:\s+(?P<y>{_YEAR}))?\b",
            _FLAGS,
        ),
        _month_range,
        False,
    ),
    (
        re.compile(
            rf"\b(?:(?:at\s+)?(?:the\s+)?end\s+of\s+(?:the\s+)?{_WHICH}?\s*(?P<unit>month|quarter|qtr|year)"
            rf"|{_WHICH.replace('which', 'w2')}?\s*(?P<unit2>month)[-\s]end)\b",
            _FLAGS,
        ),
        _period_end,
        True,
    ),
    (
        re.compile(
            r"\b(?:year|month|quarter)\s*to\s*date\b|\b(?:ytd|mtd|qtd|fytd)\b"
            r"|\bso\s+far\s+this\s+(?:year|month|quarter)\b|\bthis\s+(?:year|month|quarter)\s+so\s+far\b",
            _FLAGS,
        ),
        _to_date,
        False,
    ),
    (
        re.compile(
            rf"\b(?:the\s+)?(?:last|past|previous|prev|trailing)\s+(?P<n>{_NUMWORD})\s+"
            r"(?P<unit>days?|weeks?|months?|quarters?|years?)\b",
            _FLAGS,
        ),
        _rolling,
        False,
    ),
    (
        re.compile(r"\b(?:the\s+)?past\s+(?P<unit>week|month|year)\b", _FLAGS),
        _rolling,
        False,
    ),
    (
        re.compile(r"\b(?:day\s+before\s+yesterday|yesterday|today|tomorrow|tonight)\b", _FLAGS),
        _relative_day,
        False,
    ),
    (re.compile(_SPOKEN_DAY, _FLAGS), _spoken_day, False),
    (
        re.compile(rf"\b(?P<m>{_MONTH})\s+(?:of\s+)?last\s+year\b", _FLAGS),
        _month_last_year,
        False,
    ),
    (
        re.compile(
            rf"\b{_WHICH}\s+(?P<fiscal>fiscal\s+year|financial\s+year|fy)\b"
            rf"|\b{_WHICH.replace('which', 'w3')}\s+(?P<calendar>calendar\s+year)\b"
            rf"|\b{_WHICH.replace('which', 'w2')}\s+(?P<unit>week|month|quarter|qtr|year)\b",
            _FLAGS,
        ),
        _calendar_unit,
        False,
    ),
    (re.compile(_SPOKEN, _FLAGS), _spoken_unit, False),
    (
        re.compile(
            r"\b(?:fy|fiscal\s+year|financial\s+year)\s*'?(?P<fy>\d{4}(?:[-/]\d{2,4})?|\d{2})\b",
            _FLAGS,
        ),
        _fiscal_year,
        False,
    ),
    (
        re.compile(r"\bq(?P<q>[1-4])(?:\s*(?:fy)?\s*'?(?P<y>(?:19|20)\d{2}|\d{2}))?\b", _FLAGS),
        _quarter,
        False,
    ),
    (
        re.compile(
            rf"\b(?:since|after|from)\s+(?P<d>{DATE}|{_MONTH})(?![\w.])(?!\s*(?:to|till|until|-|–)\s*\w)",
            _FLAGS,
        ),
        _since,
        False,
    ),
    (_DATE_RE, _single_date, True),
    (_MONTH_NAME, _month, False),
    (
        re.compile(rf"\b(?:in|for|during|of|year)\s+(?P<y>{_YEAR})\b(?![-/]\d)", _FLAGS),
        _calendar_year,
        False,
    ),
]
