"""Period labels: a year (``2014``) or a span between two 1 January (``1999-2009``).

Every published value keeps its label as the producer wrote it, plus its start and end years.
Only an ASCII hyphen separates a span; an en dash (``2009–2014``) or anything else is refused
rather than guessed.
"""

from __future__ import annotations

import re

_YEAR = re.compile(r"^(\d{4})$")
_SPAN = re.compile(r"^(\d{4})-(\d{4})$")


class PeriodError(ValueError):
    """A period label that is neither ``YYYY`` nor ``YYYY-YYYY``."""


def parse_period(label: object) -> tuple[str, int, int]:
    """Return ``(label, start_year, end_year)`` for a period label.

    >>> parse_period("1999-2009")
    ('1999-2009', 1999, 2009)
    >>> parse_period(2014)
    ('2014', 2014, 2014)
    """
    text = str(label).strip()
    if text.endswith(".0"):  # a year read by a CSV reader as a float
        text = text[:-2]
    if m := _YEAR.match(text):
        year = int(m.group(1))
        return text, year, year
    if m := _SPAN.match(text):
        start, end = int(m.group(1)), int(m.group(2))
        if end <= start:
            raise PeriodError(f"period {text!r}: end year must be after start year")
        return text, start, end
    raise PeriodError(f"period {text!r} is neither a year 'YYYY' nor a span 'YYYY-YYYY' (ASCII hyphen)")


def span_label(start: int, end: int) -> str:
    return f"{start}-{end}"


def expand_period_spec(spec: list[str]) -> tuple[str, ...]:
    """Expand catalogue shorthands: ``2012..2021`` (every year) and ``2012-2013..2020-2021``
    (every one-year span). Plain labels are validated and kept."""
    out: list[str] = []
    for item in spec:
        item = str(item)
        if ".." in item:
            first, last = item.split("..")
            _, a0, a1 = parse_period(first)
            _, b0, b1 = parse_period(last)
            width = a1 - a0
            if b1 - b0 != width:
                raise PeriodError(f"range {item!r} mixes spans of different widths")
            out.extend(
                str(s) if width == 0 else span_label(s, s + width) for s in range(a0, b0 + 1)
            )
        else:
            out.append(parse_period(item)[0])
    return tuple(dict.fromkeys(out))
