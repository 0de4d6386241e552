"""INSEE population estimates at 1 January by département, sex and five-year age group, 1975–2021.

``population_age_departements/estim-pop-dep-sexe-aq-1975-2021.xlsx`` ("Données actualisées au
29 mars 2021"): a sheet "À savoir" and one sheet per year. Each year sheet: row 2 ``Année YYYY``,
two header rows (row 4: the sex blocks ``Ensemble`` / ``Hommes`` / ``Femmes`` at columns C, X, AS;
row 5: 20 age groups ``0 à 4 ans`` … ``95 ans et plus`` and ``Total`` per block), then one row per
département (code, name) and total rows ``France métropolitaine``, ``DOM``, ``France
métropolitaine et DOM``.

Traps handled here:

- the DROM are in the sheets from 1990 (Mayotte from 2014); for 1990–1998 they form a second
  block with its own two header rows, whose top age group is ``90 ans et plus`` (age group
  ``90+``; its 95+ column is empty);
- the 2021 sheet writes a ditto mark ``"`` instead of ``5 à 9 ans`` in the Ensemble block: a
  ditto mark is accepted only where the expected label is known from its neighbours, and is
  reported (:data:`FINDING_COLUMNS`);
- DROM codes are stored as numbers (``971.0``); codes are read back as text and must be codes of
  the 101 départements;
- the totals rows are not départements: they go to the check table (``population_age_totals``),
  with each row's ``Total`` column, never into the tidy table;
- 2019–2021 are provisional: each of those sheets says so in its source line ("résultats
  provisoires"), read into the ``provisional`` column.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping

import numpy as np
import pandas as pd
import python_calamine
from pandas.api.types import infer_dtype

from barometre.geography import CODE_PATTERNS, DEPARTEMENTS, METRO_DEPARTEMENTS
from barometre.sources._csv import SourceFormatError
from barometre.sources._schema import Allowed, Codes, Coverage, CountRange, RawSchema, Values
from barometre.sources.registry import RawTable, SourceParse

SOURCE_ID = "insee_estimations_population_age"
FILE = "population_age_departements/estim-pop-dep-sexe-aq-1975-2021.xlsx"
YEARS = tuple(range(1975, 2022))
TABLE = f"{SOURCE_ID}_departement"
TOTALS_TABLE = f"{SOURCE_ID}_totaux"

AGE_LABELS = [f"{a} à {a + 4} ans" for a in range(0, 95, 5)] + ["95 ans et plus"]
AGE_GROUPS = [f"{a:02d}-{a + 4:02d}" for a in range(0, 95, 5)] + ["95+"]
AGE_OF_LABEL = {**dict(zip(AGE_LABELS, AGE_GROUPS)), "90 ans et plus": "90+"}
SEXES = {"Ensemble": "ensemble", "Hommes": "hommes", "Femmes": "femmes"}
# Age groups counted in "65 ans ou plus" (the 90+ of the DROM 1990–1998 included).
AGE_65_PLUS = tuple(g for g in AGE_GROUPS if g[:2].isdigit() and int(g[:2]) >= 65) + ("90+",)
TOTAL_ROWS = {"France métropolitaine": "FRM", "DOM": "DOM", "France métropolitaine et DOM": "FRMD"}

COLUMNS = ["code_departement", "year", "sex", "age_group", "population", "provisional"]
TOTALS_COLUMNS = ["code", "year", "sex", "age_group", "population", "provisional"]
FINDING_COLUMNS = ["source_id", "file", "sheet", "row", "column", "rule", "detail"]

_YEAR = re.compile(r"^Ann[ée]e\s+(\d{4})$")


def _where(file: str, sheet: str) -> str:
    return f"{file} [sheet {sheet}]"


def _code(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _blocks(header_sex: list, header_age: list, file: str, sheet: str, row: int, findings: list[dict]) -> list[tuple[int, str, str]]:
    """(column, sex, age group or 'total') of a pair of header rows."""
    where = _where(file, sheet)
    starts = [(j, SEXES[str(c).strip()]) for j, c in enumerate(header_sex) if str(c).strip() in SEXES]
    if [s for _, s in starts] != list(SEXES.values()):
        raise SourceFormatError(where, None, f"row {row}: expected the sex blocks {list(SEXES)}",
                                [str(c) for c in header_sex if str(c).strip()])
    columns = []
    for n, (start, sex) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(header_age)
        labels = [str(c).strip() for c in header_age[start:end]]
        if "Total" not in labels:
            raise SourceFormatError(where, sex, f"row {row + 1}: no 'Total' column in the {sex} block", labels)
        labels = labels[: labels.index("Total") + 1]
        for k, label in enumerate(labels):
            if label == '"':  # ditto mark: the label its position must have between its neighbours
                before = labels[k - 1] if k else None
                expected = AGE_LABELS[AGE_LABELS.index(before) + 1] if before in AGE_LABELS[:-1] else None
                after = labels[k + 1] if k + 1 < len(labels) else None
                if expected is None or (after in AGE_LABELS and AGE_LABELS.index(after) != AGE_LABELS.index(expected) + 1):
                    raise SourceFormatError(where, sex, f"row {row + 1}: a ditto mark whose age group cannot be told",
                                            labels[max(k - 1, 0): k + 2])
                findings.append({"source_id": SOURCE_ID, "file": file, "sheet": sheet,
                                 "row": row + 2, "column": start + k + 1, "rule": "ditto_mark_header",
                                 "detail": f"'\"' read as '{expected}' ({sex} block, between '{before}' and '{after}')"})
                label = expected
            if label == "":
                continue  # the empty 95+ column of the DROM 1990–1998 block
            if label == "Total":
                columns.append((start + k, sex, "total"))
            elif label in AGE_OF_LABEL:
                columns.append((start + k, sex, AGE_OF_LABEL[label]))
            else:
                raise SourceFormatError(where, sex, f"row {row + 1}: unknown age group {label!r}", labels)
    return columns


_DEPARTEMENT_CODE = re.compile(CODE_PATTERNS["departement"])
_NUMBER_KINDS = ("floating", "integer", "mixed-integer-float")


def _is_header(row: list) -> bool:
    """A row of sex blocks (``Ensemble`` … after its two first cells); only a text cell can be one."""
    return any(type(c) is str and c.strip() in SEXES for c in row[2:])


def _rows_frame(rows: list[tuple], columns: list[str]) -> pd.DataFrame:
    """``(code, year, sex, age group, population, provisional)`` tuples → a frame of ``columns``."""
    cols = list(zip(*rows)) if rows else [()] * 6
    dtypes = (object, "int64", object, object, "int64", bool)
    return pd.DataFrame({c: np.array(v, dtype=d) for c, v, d in zip(columns, cols, dtypes)})


def _preamble(rows: list[list], year: int, file: str, sheet: str) -> tuple[str, list[str], bool]:
    """The sheet's place for messages, the first cell of every row, and whether its source line says
    the year is provisional; the title row must name ``year``."""
    where = _where(file, sheet)
    title = str(rows[1][0]).strip() if len(rows) > 1 else ""
    found = _YEAR.match(title)
    if not found or int(found.group(1)) != year:
        raise SourceFormatError(where, None, f"row 2 must be 'Année {year}'", [title])
    first = [_code(r[0]) if r else "" for r in rows]
    source = next((t for t in first if t.startswith("Source")), "")
    return where, first, "provisoire" in source


def _data_rows(rows: list[list], first: list[str], where: str, file: str, sheet: str, findings: list[dict]):
    """The sheet's rows from row 4 in reading order: ``(columns, None, None, None)`` at each header
    (its sex × age columns, :func:`_blocks`), then ``(columns, i, is_total, key)`` for each data row
    under it (:func:`_row_key`); the other rows are skipped."""
    columns = None
    i = 3
    while i < len(rows):
        row = rows[i]
        if _is_header(row) and i + 1 < len(rows):
            columns = _blocks(row, rows[i + 1], file, sheet, i + 1, findings)
            yield columns, None, None, None
            i += 2
            continue
        kind = _row_key(row, i, first[i], columns, where)
        if kind is not None:
            yield columns, i, *kind
        i += 1


def _row_key(row: list, i: int, code: str, columns: list | None, where: str) -> tuple[bool, str] | None:
    """What data row ``i`` (0-based, ``code`` its first cell) is: ``(True, key)`` for a total row
    (:data:`TOTAL_ROWS`), ``(False, code)`` for a département; None for a row to skip (empty, the
    source, the notes). A row before the header rows, or whose code is neither, is refused."""
    name = str(row[1]).strip() if len(row) > 1 else ""
    if code == "" or code.startswith(("Source", "NB", "(*)")):
        return None
    if columns is None:
        raise SourceFormatError(where, None, f"row {i + 1}: data before the header rows", [code, name])
    label = code.rstrip(" (*)").strip()
    if label in TOTAL_ROWS:
        return True, TOTAL_ROWS[label]
    if not _DEPARTEMENT_CODE.match(code) or code not in DEPARTEMENTS:
        raise SourceFormatError(where, "code", f"row {i + 1}: not a département code nor a total row "
                                "(lost leading zero?)", [row[0], name])
    return False, code


def _sheet(rows: list[list], year: int, file: str, sheet: str) -> tuple[pd.DataFrame, pd.DataFrame, bool, list[dict]]:
    """One year sheet → ``(département rows, total rows, provisional, header findings)``: frames of
    :data:`COLUMNS` and :data:`TOTALS_COLUMNS` (a row's ``Total`` columns included, age group
    ``total``), one row per cell in reading order.

    The rows are told apart one by one (header rows, département codes, total rows), the cells
    checked and read at once per block of rows under one header; when a cell is not a whole
    number ≥ 0 (or a row is refused), the sheet is read again by :func:`_sheet_cell_by_cell`,
    whose error names the first fault in reading order."""
    try:
        read = _sheet_blocks(rows, year, file, sheet)
    except SourceFormatError:
        read = None
    if read is None:
        deps, totals, provisional, findings = _sheet_cell_by_cell(rows, year, file, sheet)
        return _rows_frame(deps, COLUMNS), _rows_frame(totals, TOTALS_COLUMNS), provisional, findings
    return read


def _sheet_blocks(rows: list[list], year: int, file: str, sheet: str):
    """:func:`_sheet` read per block of rows; ``None`` when a cell is not a whole number ≥ 0."""
    where, first, provisional = _preamble(rows, year, file, sheet)
    findings: list[dict] = []
    blocks = []  # (header columns, [is a total row], [key], [cells])
    for columns, i, is_total, key in _data_rows(rows, first, where, file, sheet, findings):
        if i is None:  # a header: a new block
            blocks.append((columns, [], [], []))
            continue
        row = rows[i]
        width = len(row)
        _, totals_, keys, cells = blocks[-1]
        totals_.append(is_total)
        keys.append(key)
        cells.append([row[j] if j < width else "" for j, _, _ in columns])
    parts: dict[bool, list[tuple]] = {False: [], True: []}
    for columns, is_total, keys, cells in blocks:
        if not cells:
            continue
        flat = np.array(cells, dtype=object).ravel()
        if infer_dtype(flat, skipna=False) not in _NUMBER_KINDS:
            return None
        as_float = flat.astype("float64")
        if not (np.isfinite(as_float) & (as_float == np.trunc(as_float)) & (as_float >= 0)).all():
            return None
        population = np.fromiter(map(int, flat), dtype="int64", count=len(flat)).reshape(len(cells), len(columns))
        is_total, keys = np.array(is_total, dtype=bool), np.array(keys, dtype=object)
        sexes = np.array([sex for _, sex, _ in columns], dtype=object)
        ages = np.array([age for _, _, age in columns], dtype=object)
        for total in (False, True):
            rows_ = np.flatnonzero(is_total == total)
            parts[total].append((np.repeat(keys[rows_], len(columns)), np.tile(sexes, len(rows_)),
                                 np.tile(ages, len(rows_)), population[rows_].ravel()))
    frames = []
    for total, names in ((False, COLUMNS), (True, TOTALS_COLUMNS)):
        got = parts[total]
        keys = np.concatenate([p[0] for p in got]) if got else np.array([], dtype=object)
        n = len(keys)
        frames.append(pd.DataFrame({
            names[0]: keys.astype(object), "year": np.full(n, year, dtype="int64"),
            "sex": np.concatenate([p[1] for p in got]) if got else np.array([], dtype=object),
            "age_group": np.concatenate([p[2] for p in got]) if got else np.array([], dtype=object),
            "population": np.concatenate([p[3] for p in got]) if got else np.array([], dtype="int64"),
            "provisional": np.full(n, provisional, dtype=bool)}))
    return frames[0], frames[1], provisional, findings


def _sheet_cell_by_cell(rows: list[list], year: int, file: str, sheet: str) -> tuple[list, list, bool, list[dict]]:
    """The sheet read cell by cell, in reading order (row by row, then the columns of its header): the
    reference of :func:`_sheet`, which reads it so when a cell is not a whole number ≥ 0 or a row is
    refused, so that the error names the first fault as this loop meets it."""
    where, first, provisional = _preamble(rows, year, file, sheet)
    findings: list[dict] = []
    deps, totals = [], []
    for columns, i, is_total, key in _data_rows(rows, first, where, file, sheet, findings):
        if i is None:
            continue
        row, target = rows[i], (totals if is_total else deps)
        for j, sex, age in columns:
            value = row[j] if j < len(row) else ""
            if isinstance(value, str):
                raise SourceFormatError(where, f"{sex} {age}", f"row {i + 1}: a count must be a number", [first[i], value])
            if not float(value).is_integer() or value < 0:
                raise SourceFormatError(where, f"{sex} {age}", f"row {i + 1}: a count is a whole number ≥ 0", [first[i], value])
            target.append((key, year, sex, age, int(value), provisional))
    return deps, totals, provisional, findings


def parse(raw: bytes, file: str = FILE) -> dict[str, pd.DataFrame]:
    """The workbook → ``{TABLE: tidy département counts, TOTALS_TABLE: the workbook's totals (its
    Total columns and total rows), "findings": header repairs}``. Counts are persons at 1 January."""
    try:
        wb = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(raw))
    except Exception as exc:
        raise SourceFormatError(file, None, f"cannot read the workbook ({exc})") from None
    sheets = [s for s in wb.sheet_names if s.strip().isdigit()]
    if sorted(int(s) for s in sheets) != list(YEARS):
        raise SourceFormatError(file, None, f"expected one sheet per year {YEARS[0]}–{YEARS[-1]}", wb.sheet_names)
    deps, totals, findings = [], [], []
    for sheet in sheets:
        d, t, _, f = _sheet(wb.get_sheet_by_name(sheet).to_python(), int(sheet), file, sheet)
        deps.append(d)
        totals.append(t)
        findings += f
    all_rows = pd.concat(deps, ignore_index=True)
    tidy = all_rows[all_rows["age_group"] != "total"].reset_index(drop=True)
    dep_totals = all_rows[all_rows["age_group"] == "total"].rename(columns={"code_departement": "code"})
    totals = pd.concat([dep_totals, pd.concat(totals, ignore_index=True)], ignore_index=True)
    for frame in (tidy, totals):
        frame["year"] = frame["year"].astype("int64")
        frame["population"] = frame["population"].astype("int64")
        frame["provisional"] = frame["provisional"].astype("bool")
    dup = tidy.duplicated(["code_departement", "year", "sex", "age_group"], keep=False)
    if dup.any():
        raise SourceFormatError(file, "code", "duplicated (département, year, sex, age group)",
                                tidy.loc[dup, ["code_departement", "year", "sex", "age_group"]].head(5).values.tolist())
    return {TABLE: tidy.sort_values(["year", "code_departement", "sex"], kind="stable", ignore_index=True),
            TOTALS_TABLE: totals.sort_values(["year", "code", "sex"], kind="stable", ignore_index=True),
            "findings": pd.DataFrame(findings, columns=FINDING_COLUMNS)}


SCHEMA = RawSchema(
    table=TABLE, files=FILE,
    columns={"code_departement": "text", "year": "int", "sex": "text", "age_group": "text", "population": "int",
             "provisional": "bool"},
    key=("code_departement", "year", "sex", "age_group"), period="year", periods=YEARS,
    codes=(Codes("code_departement", "departement", DEPARTEMENTS, "the 101 départements"),),
    # every metropolitan département each year; the DROM from 1990 (4), Mayotte from 2014
    coverage=(Coverage("code_departement", METRO_DEPARTEMENTS, "the 96 metropolitan départements", by=("year",)),
              CountRange("code_departement", 96, 101, "départements per year", by=("year",))),
    values=(Values("population", "count"),),
    allowed=(Allowed("sex", tuple(SEXES.values())), Allowed("age_group", (*AGE_GROUPS, "90+"))),
    examples=("code_departement", "year", "sex", "age_group"),
)

TOTALS_SCHEMA = RawSchema(
    table=TOTALS_TABLE, files=FILE,
    columns={"code": "text", "year": "int", "sex": "text", "age_group": "text", "population": "int",
             "provisional": "bool"},
    key=("code", "year", "sex", "age_group"), period="year", periods=YEARS,
    codes=(Codes("code", "departement", (*DEPARTEMENTS, *TOTAL_ROWS.values()), "the 101 départements, FRM, DOM, FRMD"),),
    values=(Values("population", "count"),),
    allowed=(Allowed("sex", tuple(SEXES.values())), Allowed("age_group", (*AGE_GROUPS, "90+", "total"))),
    examples=("code", "year", "sex", "age_group"),
)


# ---------------------------------------------------------------------------------------------
# part_65_ans_plus


def sex_inconsistencies(tidy: pd.DataFrame) -> pd.DataFrame:
    """Cells where the Ensemble block differs from Hommes + Femmes. The snapshot has one: Corrèze
    (19) 2021, 65–69 ans, Ensemble 1 whereas Hommes 8 535 + Femmes 9 366 = 17 901 (the sheet's own
    Total column and its France métropolitaine row agree with 17 901)."""
    wide = tidy.pivot_table(index=["code_departement", "year", "age_group"], columns="sex", values="population",
                            aggfunc="sum").reset_index()
    bad = wide[wide["ensemble"] != wide["hommes"] + wide["femmes"]]
    return bad.assign(hommes_plus_femmes=bad["hommes"] + bad["femmes"])[
        ["code_departement", "year", "age_group", "ensemble", "hommes", "femmes", "hommes_plus_femmes"]].reset_index(drop=True)


def counts_65(tidy: pd.DataFrame) -> pd.DataFrame:
    """Per département and year: ``numerator`` Σ 65+ and ``denominator`` Σ all age groups, both
    sexes as Hommes + Femmes (not the Ensemble block, which has one wrong cell, see
    :func:`sex_inconsistencies`), with ``provisional``."""
    both = tidy[tidy["sex"].isin(["hommes", "femmes"])]
    old = both["age_group"].isin(AGE_65_PLUS)
    keys = ["code_departement", "year"]
    num = both[old].groupby(keys)["population"].sum()
    den = both.groupby(keys)["population"].sum()
    prov = both.groupby(keys)["provisional"].any()
    out = pd.DataFrame({"numerator": num, "denominator": den, "provisional": prov}).reset_index()
    out["numerator"] = out["numerator"].fillna(0).astype("float64")  # every département has its 65+ groups
    out["denominator"] = out["denominator"].astype("float64")
    return out


def values(tidy: pd.DataFrame, hierarchy: pd.DataFrame) -> pd.DataFrame:
    """``part_65_ans_plus`` (Σ 65+ ÷ Σ all ages × 100, men + women) every year at département
    (published counts, ``derived`` False), région (Σ of its départements' counts, only when all its
    départements have a count that year: no région of a DROM before 1990, Mayotte before 2014),
    FRM (96 départements) and FRMD (101, from 2014), ``derived`` True. Provisional years (2019–2021)
    are rows like the others; :func:`provisional_years` lists them for the quality report. The
    parents are read from ``hierarchy`` (``core.hierarchie_territoires``)."""
    from barometre.indicators import aggregate_counts, _frame  # lazy: indicators may import this module

    counts = counts_65(tidy)
    rows = pd.DataFrame({"code": counts["code_departement"], "period": counts["year"].astype(str),
                         "period_start": counts["year"], "period_end": counts["year"],
                         "numerator": counts["numerator"], "denominator": counts["denominator"]})
    dep = _frame("part_65_ans_plus", rows.assign(value=rows["numerator"] / rows["denominator"] * 100),
                 level="departement", source_id=SOURCE_ID, derived=False)
    agg = aggregate_counts(rows, hierarchy, lambda n, d: n / d * 100, "part_65_ans_plus", SOURCE_ID,
                           france=("FRM", "FRMD"))
    out = pd.concat([dep, agg], ignore_index=True)
    return out.sort_values(["level", "code", "period_start"], ignore_index=True)


def provisional_years(tidy: pd.DataFrame) -> tuple[int, ...]:
    """The years the workbook calls provisional ("résultats provisoires")."""
    return tuple(sorted(int(y) for y in tidy.loc[tidy["provisional"], "year"].unique()))


def totals_check(tidy: pd.DataFrame, totals: pd.DataFrame) -> pd.DataFrame:
    """The workbook's own totals against the sums of the tidy counts, per code, year, sex and age
    group: each département's Total column against Σ of its age groups; FRM, DOM and FRMD against
    Σ of their départements (``DOM``: the DROM of the year). Columns ``code``, ``year``, ``sex``,
    ``age_group``, ``published``, ``summed``, ``difference``."""
    dep_sum = tidy.groupby(["code_departement", "year", "sex"])["population"].sum().reset_index()
    dep_sum = dep_sum.rename(columns={"code_departement": "code"}).assign(age_group="total")
    drom = tidy[~tidy["code_departement"].isin(METRO_DEPARTEMENTS)]
    metro = tidy[tidy["code_departement"].isin(METRO_DEPARTEMENTS)]
    parts = [dep_sum]
    for code, sub in (("FRM", metro), ("DOM", drom), ("FRMD", tidy)):
        g = sub.groupby(["year", "sex", "age_group"])["population"].sum().reset_index().assign(code=code)
        # where the workbook's total row has a 90+ column (DOM and FRMD 1990–1998), it counts
        # every person of 90 or more: metropolitan 90–94 and 95+, and the DROM's 90+
        old = sub[sub["age_group"].isin(["90-94", "95+", "90+"])]
        g90 = old.groupby(["year", "sex"])["population"].sum().reset_index().assign(code=code, age_group="90+")
        t = sub.groupby(["year", "sex"])["population"].sum().reset_index().assign(code=code, age_group="total")
        parts += [g[g["age_group"] != "90+"], g90, t]
    summed = pd.concat(parts, ignore_index=True).rename(columns={"population": "summed"})
    out = totals.rename(columns={"population": "published"}).merge(
        summed, on=["code", "year", "sex", "age_group"], how="left")
    out["difference"] = out["published"] - out["summed"]
    return out[["code", "year", "sex", "age_group", "published", "summed", "difference"]]


# ---------------------------------------------------------------------------------------------
# Registry (barometre/sources/registry.py)


def read_workbook(store, catalogue) -> dict[str, pd.DataFrame]:
    """The workbook → the département counts (:data:`TABLE`) and the workbook's totals
    (:data:`TOTALS_TABLE`). The header repair of the 2021 sheet (a ditto mark) is in the
    parse's ``findings`` and in docs/sources.md."""
    tables = parse(store.read(FILE), FILE)
    return {TABLE: tables[TABLE], TOTALS_TABLE: tables[TOTALS_TABLE]}


PARSES = (
    SourceParse(SOURCE_ID, (FILE,), read_workbook, (
        RawTable(TABLE, SCHEMA, "INSEE population estimates at 1 January 1975–2021 by département × sex × five-year "
                                "age group (2019–2021 provisional)."),
        RawTable(TOTALS_TABLE, TOTALS_SCHEMA, "The workbook's own totals (Total columns, France métropolitaine, DOM, "
                                              "France métropolitaine et DOM rows): a check of the sums, not a source."),
    )),
)
