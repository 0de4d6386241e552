"""Declarations of the raw tables: what each parser's output must look like.

Each source module declares the schema of the raw table(s) it produces (``SCHEMA`` and the like)
next to its parser. A declaration is plain data — columns and their kinds, the key, the period
column, territory codes, expected coverage, value columns with their unit — from which
:mod:`barometre.validation` generates the Great Expectations suites run as the blocking asset
checks of the raw layer (``assets/checks.py``). Nothing here imports Great Expectations.

Rules of a declaration, each becoming one or more expectations:

- ``columns``: exactly these columns, in this order, with these kinds (schema drift is an error);
- ``key``: one row per key (no duplicate); ``required`` and key columns have no empty cell;
- ``period`` / ``periods``: the period column holds only the expected periods, and all of them
  (its format is checked only where a ``Pattern`` declares it, as for the CGET's ``YYYY-YYYY``);
- ``codes``: territory codes have the format of their level (``geography.CODE_PATTERNS``) and,
  where known, belong to the territories of that level and geography vintage;
- ``coverage``: every expected territory is present in each period (missing ones are reported by
  code), or the number of territories per period lies in a range;
- ``values``: values lie in their unit's domain (:data:`UNITS`) and, for a column that carries an
  indicator, within the indicator's ``plausible`` bounds of the catalogue (for
  ``IndicatorValues``, only these bounds are checked: they lie within the unit's domain);
- ``allowed`` / ``ordered``: categorical values, and row-wise orders between columns;
- ``identities``: identities between columns where a file has them (shares that sum to 100, a
  density against its count and the population);
- ``medians`` / ``max_jump`` (and the catalogue's ``typical_median`` / ``max_jump`` of an
  indicator): a file's median per period in its typical range, no jump between periods;
- ``quarantine``: a rule whose failing rows are set aside (``mart.rejected_rows``) rather than
  stopping the run; its check has WARN severity.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import pandas as pd

from barometre.geography import DEPARTEMENTS, METRO_DEPARTEMENTS

# Column kinds → the column types accepted, as the table is read back from the working database:
# pandas dtype names, and ``str`` for an object column that holds only strings (or nothing).
KINDS: dict[str, tuple[str, ...]] = {
    "text": ("str",),
    "int": ("int64", "Int64"),
    "float": ("float64",),
    "number": ("int64", "Int64", "float64"),
    "bool": ("bool", "boolean"),
}


@dataclass(frozen=True)
class Unit:
    """A unit's domain: the values it can take whatever the territory."""

    label: str
    min: float | None = None
    max: float | None = None
    strict_min: bool = False
    kind: str = "float"  # the column kind a value in this unit has


UNITS: dict[str, Unit] = {
    "count": Unit("a count is an integer ≥ 0", 0, None, kind="int"),
    "quantity": Unit("a quantity is ≥ 0", 0, None),
    "€": Unit("an amount in euros is > 0", 0, None, strict_min=True),
    "%": Unit("a percentage lies within 0–100", 0, 100),
    "/100k": Unit("a rate per 100 000 lies within 0–100 000", 0, 100_000),
    "/100": Unit("a rate per 100 lies within 0–100", 0, 100),
    "%/an": Unit("a yearly rate in % is > −100", -100, None, strict_min=True),
    "index_0_1": Unit("an index lies within 0–1", 0, 1),
    "ratio_ge_1": Unit("a ratio of an upper to a lower quantile is ≥ 1", 1, None),
    "bytes": Unit("a source file is not empty", 1, None, kind="int"),
}


@dataclass(frozen=True)
class Codes:
    """Territory codes of ``column``: when ``known`` is set, one of those codes (a tuple, or the
    name of a reference set supplied when the check runs, such as the zones d'emploi 2010 of the
    CGET's mesh); otherwise the format of ``level`` (``geography.CODE_PATTERNS``), or ``pattern``
    for a level without one (the Ministry's own codes). ``where`` restricts the rule to some rows."""

    column: str
    level: str
    known: tuple[str, ...] | str | None = None
    known_label: str = ""
    where: Mapping[str, object] = field(default_factory=dict)
    pattern: str | None = None  # only when ``known`` is not set


@dataclass(frozen=True)
class Coverage:
    """Every code of ``expected`` is present for each combination of ``by`` (e.g. each year)."""

    column: str
    expected: tuple[str, ...]
    label: str
    by: tuple[str, ...]
    where: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class CountRange:
    """The number of distinct codes for each combination of ``by`` lies within [low, high]."""

    column: str
    low: int
    high: int
    label: str
    by: tuple[str, ...]
    where: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Values:
    """A value column in ``unit`` (a key of :data:`UNITS`); ``indicator`` adds the catalogue's
    plausible bounds of that indicator."""

    column: str
    unit: str
    indicator: str | None = None


@dataclass(frozen=True)
class IndicatorValues:
    """A value column whose rows carry different indicators, named by ``key_column`` through the
    catalogue (e.g. ``cget_id``): each row's value lies within its indicator's plausible bounds.
    Its unit's domain is not checked apart: the plausible bounds lie within it (a test checks
    every indicator of the catalogue)."""

    column: str
    key_column: str


@dataclass(frozen=True)
class Pattern:
    """A text column (not a territory code) matches ``regex``."""

    column: str
    regex: str
    label: str


@dataclass(frozen=True)
class Allowed:
    """A categorical column takes only these values."""

    column: str
    values: tuple


@dataclass(frozen=True)
class Ordered:
    """On every row, ``greater`` ≥ ``lesser`` (e.g. registered voters ≥ voters)."""

    greater: str
    lesser: str


@dataclass(frozen=True)
class Quarantine:
    """A rule whose failing rows are set aside, not published: ``column`` must match ``regex``
    (read as text). ``set_aside`` returns the rows the pipeline quarantines for it (one row per
    cell with its ``rule``), so the check reports the exact count."""

    name: str
    column: str
    regex: str
    rule: str
    set_aside: Callable[[pd.DataFrame], pd.DataFrame] | None = None


@dataclass(frozen=True)
class Identity:
    """An identity between columns, on every row where its columns are filled: ``gap(frame,
    tables)`` returns each row's gap (absolute or relative, as ``rule`` says), which must be ≤
    ``tolerance``. ``tables`` names the other raw tables it reads (e.g. the population of the
    same département and year), supplied when the check runs. ``columns`` are shown in the
    example rows."""

    column: str
    rule: str
    gap: Callable[[pd.DataFrame, Mapping[str, pd.DataFrame]], pd.Series]
    tolerance: float
    columns: tuple[str, ...] = ()
    tables: tuple[str, ...] = ()


@dataclass(frozen=True)
class RawSchema:
    """The declaration of one raw table (asset ``raw/<table>``)."""

    table: str
    files: str  # the file(s) read, a path or a glob pattern of the snapshot
    columns: Mapping[str, str]  # name → kind (:data:`KINDS`), in order
    key: tuple[str, ...]
    period: str | None = None
    # The expected periods: a tuple, a function of the catalogue, or None (not checked; the
    # periods' format only where a Pattern of the period column declares it).
    periods: tuple | Callable[[object], tuple] | None = None
    # Periods a live endpoint may add to the expected ones (allowed, not required), e.g. the
    # newer years Melodi serves: a tuple or a function of the catalogue.
    live_periods: tuple | Callable[[object], tuple] = ()
    required: tuple[str, ...] = ()
    codes: tuple[Codes, ...] = ()
    coverage: tuple[Coverage | CountRange, ...] = ()
    values: tuple[Values | IndicatorValues, ...] = ()
    patterns: tuple[Pattern, ...] = ()
    allowed: tuple[Allowed, ...] = ()
    ordered: tuple[Ordered, ...] = ()
    quarantine: tuple[Quarantine, ...] = ()
    examples: tuple[str, ...] = ()  # columns shown first in every example row (code, period…)
    file_of: Callable[[Mapping], str] | None = None  # the file an example row was read from
    # Scale and shape (rule group scale_and_jumps). ``level``: the territories' level, for the
    # catalogue's per-level typical medians of an indicator column. ``medians``: column → the
    # typical range of its median of |value| per period (the real values of the snapshot ÷ 2
    # and × 2: a ×100, ÷100, ÷1000 or a unit change lands outside); ``max_jump``: column → the
    # largest factor between two consecutive periods of a territory. An indicator column takes
    # both from the catalogue (``typical_median``, ``max_jump``) unless declared here.
    level: str | None = None
    medians: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    max_jump: Mapping[str, float] = field(default_factory=dict)
    identities: tuple[Identity, ...] = ()  # rule group value_domains

    def file_for(self, row: Mapping | None) -> str:
        if row and self.file_of is not None:
            try:
                return self.file_of(row)
            except (KeyError, TypeError, ValueError):
                pass
        return self.files


def departement_panel(table: str, file: str, values: Mapping[str, str | tuple[str, str]],
                      years: range | tuple[int, ...], extra_text_columns: tuple[str, ...] = (), **rules) -> RawSchema:
    """Schema of a département × year panel (Régions Inégales compilation, read by
    :func:`barometre.sources._csv.read_departement_panel`): ``code_departement``, ``year``, text
    columns, then ``values`` (column → unit, or (unit, indicator id)). Every one of the 96
    metropolitan départements is expected each year. ``rules`` adds other fields of
    :class:`RawSchema` (``ordered``, ``quarantine``, ``medians``, ``max_jump``)."""
    specs = [Values(col, *((spec,) if isinstance(spec, str) else spec)) for col, spec in values.items()]
    return RawSchema(
        table=table, files=file,
        columns={"code_departement": "text", "year": "int", **{c: "text" for c in extra_text_columns},
                 **{v.column: UNITS[v.unit].kind for v in specs}},
        key=("code_departement", "year"), period="year", periods=tuple(years),
        codes=(Codes("code_departement", "departement", DEPARTEMENTS, "the 101 départements"),),
        coverage=(Coverage("code_departement", METRO_DEPARTEMENTS, "the 96 metropolitan départements", by=("year",)),),
        values=tuple(specs),
        examples=("code_departement", "year"),
        level="departement",
        **rules,
    )
