"""INSEE Filosofi "base cc" 2014–2019: revenus, pauvreté et niveau de vie at every published level.

Six INSEE download archives, one per income year (``filosofi_2014_2019/*.zip``): one workbook each,
XLS for 2014–2016, XLSX for 2017–2019, read with python-calamine (the engine of
``pandas.read_excel(engine="calamine")``). Every sheet has the
same layout: row 1 ``Fichier Localisé Social et Fiscal (FiLoSoFi) - Année 20YY``, row 2 the level,
row 3 ``Mise en ligne le … Géographie au 01/01/20GG``, row 5 long labels, row 6 the variable
names suffixed by the two-digit year (``MED14``, ``TP6019``), data from row 7.

The sheets read, one tidy table each (:data:`TABLES`): ``COM`` (commune), ``EPCI``, ``DEP``
(département), ``REG`` (région), ``METRO`` (France métropolitaine, code ``FRM``) and ``ZE2010``
(2014–2017) / ``ZE2020`` (2018–2019) (zone d'emploi).

Traps handled here:

- each year is in its own geography, stated on row 3 of every sheet: 2014 → COG 2015, 2015 →
  COG 2016, 2016 → COG 2019, 2017 → COG 2020, 2018 → COG 2021, 2019 → COG 2022
  (``geography_vintage`` ``cog_YYYY``); the zones d'emploi are ``ze_2010`` or ``ze_2020``;
- 2014 names some variables differently: ``PRA14`` (part des revenus d'activité, read as
  ``pact``), ``PTSAC14`` (salaires, traitements *ou chômage*, its own column ``ptsac``), no
  ``PCHO14`` (``pcho`` and ``ptsa`` are missing in 2014);
- cells under statistical secrecy are ``s`` (2019) or ``ns``, or left empty (2014–2018): all are
  missing values, never 0, counted per table, year, column and marker by :func:`secrecy_findings`;
- the 2019 ``DEP`` and ``REG`` sheets hold a second block for Guadeloupe, Guyane and Mayotte whose
  source is INSEE's *enquête Budget de famille 2017*, not Filosofi: its rows are kept with
  ``origin`` = ``bdf_2017`` and are not indicator values of Filosofi 2019 (:func:`values`);
- a DROM code may be stored as a number (``971.0``): an integral number is read back as text and
  must then have the level's code format (a code that lost its zero is an error);
- medians of the 2014–2016 files are not rounded (``20808.666…`` for France métropolitaine in
  2016, published as 20 809 €); they are kept as INSEE stores them.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Mapping

import numpy as np
import pandas as pd
import python_calamine
from pandas.api.types import infer_dtype

from barometre.geography import DEPARTEMENTS, GEOGRAPHY_VINTAGE_CURRENT, REGIONS, invalid_codes
from barometre.sources._csv import SourceFormatError
from barometre.sources._schema import Allowed, Codes, CountRange, RawSchema, Values
from barometre.sources.registry import RawTable, SourceParse

SOURCE_ID = "insee_filosofi_cc"
FOLDER = "filosofi_2014_2019"
FILES: dict[int, str] = {
    2014: f"{FOLDER}/filo-revenu-pauvrete-menage-2014.zip",
    2015: f"{FOLDER}/filo-revenu-pauvrete-menage-2015.zip",
    2016: f"{FOLDER}/filosofi-revenu-pauvrete-menage-2016.zip",
    2017: f"{FOLDER}/base-filosofi-2017_XLSX.zip",
    2018: f"{FOLDER}/base-cc-filosofi-2018_XLSX-geo2021.zip",
    2019: f"{FOLDER}/base-cc-filosofi-2019_XLSX.zip",
}
YEARS = tuple(FILES)

# Sheet → level of the tidy table it goes to.
SHEETS: dict[str, str] = {"COM": "commune", "EPCI": "epci", "DEP": "departement", "REG": "region",
                          "METRO": "france", "ZE2010": "zone_emploi", "ZE2020": "zone_emploi"}
LEVELS = ("commune", "epci", "departement", "region", "france", "zone_emploi")
TABLES: dict[str, str] = {level: f"{SOURCE_ID}_{level}" for level in LEVELS}
ZE_SHEET = {year: ("ZE2010" if year <= 2017 else "ZE2020") for year in YEARS}

# Variables of row 6 (without the year suffix) → tidy column; the 2014 file has PRA and PTSAC
# where later files have PACT, PTSA and PCHO.
_COMMON_HEAD = ["NBMENFISC", "NBPERSMENFISC", "MED", "PIMP", "TP60", *[f"TP60AGE{i}" for i in range(1, 7)],
                "TP60TOL1", "TP60TOL2"]
_COMMON_TAIL = ["PPEN", "PPAT", "PPSOC", "PPFAM", "PPMINI", "PPLOGT", "PIMPOT", "D1", "D9", "RD"]
VARIABLES: dict[int, list[str]] = {
    2014: [*_COMMON_HEAD, "PRA", "PTSAC", "PBEN", *_COMMON_TAIL],
    **{y: [*_COMMON_HEAD, "PACT", "PTSA", "PCHO", "PBEN", *_COMMON_TAIL] for y in YEARS if y != 2014},
}
RENAME = {"NBMENFISC": "households", "NBPERSMENFISC": "persons", "PRA": "pact"}
VALUE_COLUMNS = ["households", "persons", "med", "pimp", "tp60", *[f"tp60age{i}" for i in range(1, 7)],
                 "tp60tol1", "tp60tol2", "pact", "ptsa", "ptsac", "pcho", "pben", "ppen", "ppat", "ppsoc",
                 "ppfam", "ppmini", "pplogt", "pimpot", "d1", "d9", "rd"]
# Units of the value columns (barometre.sources._schema.UNITS); pimpot (taxes, a negative share)
# has no unit domain there and is only typed.
# pact (activity income) can exceed 100 % of disposable income, taxes being negative: 103.9 in a
# commune, 100.6 in an EPCI (2014–2019); it is only typed too. d1 can be 0 (Mayotte, 2019 block).
UNIT_OF = {"households": "quantity", "persons": "quantity", "med": "€", "d1": "quantity", "d9": "€",
           "rd": "ratio_ge_1", **{c: "%" for c in VALUE_COLUMNS if c.startswith(("p", "tp60")) and c not in
                                  ("persons", "pimpot", "pact")}}
COLUMNS = ["code", "name", "year", "geography_vintage", "origin", *VALUE_COLUMNS]
MARKERS = {"s": "s", "ns": "ns", "": "(empty)"}  # text of a cell → marker reported
ORIGINS = {"filosofi": "Filosofi", "bdf_2017": "Insee, enquête Budget de famille 2017"}

_YEAR = re.compile(r"Ann[ée]e\s+(\d{4})")
_GEO = re.compile(r"G[ée]ographie au 01/01/(\d{4})")


def _where(file: str, sheet: str) -> str:
    return f"{file} [sheet {sheet}]"


def workbook(raw: bytes, file: str) -> tuple[str, bytes]:
    """The single XLS/XLSX workbook of an INSEE archive: (inner name, bytes)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except zipfile.BadZipFile:
        raise SourceFormatError(file, None, "not a zip archive") from None
    books = [i for i in archive.infolist() if i.filename.lower().endswith((".xls", ".xlsx"))]
    if len(books) != 1:
        raise SourceFormatError(file, None, f"expected one .xls/.xlsx workbook in the archive, found {len(books)}",
                                [i.filename for i in archive.infolist()])
    return books[0].filename, archive.read(books[0])


def _code_text(v) -> str:
    if type(v) is str:
        return v.strip()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, int):
        return str(v)
    return str(v).strip()


def _stripped(values) -> list[str]:
    """``str(v).strip()`` of each cell (a text cell directly)."""
    try:
        return list(map(str.strip, values))  # every cell a text (most columns)
    except TypeError:
        return [v.strip() if type(v) is str else str(v).strip() for v in values]


def _codes(values: pd.Series, level: str, where: str, names: pd.Series) -> pd.Series:
    """Codes as text: a number stored for a code (``971.0``) is read back without decimals, and
    every code must have its level's format."""
    cells = values.tolist()
    try:
        texts = list(map(str.strip, cells))  # every code a text
    except TypeError:
        texts = [_code_text(v) for v in cells]
    codes = pd.Series(texts, index=values.index, dtype="object", name=values.name)
    if level == "france":
        bad = codes[codes != "1"]
        if len(bad):
            raise SourceFormatError(where, "CODGEO", "France métropolitaine is code 1",
                                    list(zip(bad, names[bad.index])))
        return pd.Series("FRM", index=codes.index, dtype="object")
    bad = invalid_codes(codes, level)
    if len(bad):
        raise SourceFormatError(where, "CODGEO", f"invalid {level} code (lost leading zero?)",
                                list(zip(values[bad.index].tolist(), names[bad.index].tolist())))
    return codes.astype("object")


_NUMBER_KINDS = ("floating", "integer", "mixed-integer-float")


def _numbers(raw: np.ndarray, column: str, where: str, codes: np.ndarray) -> tuple[np.ndarray, dict[str, list[str]]]:
    """Numbers of one column (its cells, an object array); ``s``/``ns``/empty are missing and
    returned by marker (sorted) with their codes in row order. A number is an ``int`` or ``float``
    cell (not a bool); any other cell is read as its stripped text, which must be a marker.

    Vectorised (6 million cells): a column of numbers only is told by pandas' type inference; in
    the others the cells ``""``, ``"s"`` and ``"ns"`` are found by comparisons and the type of
    the rest read once; only a cell of another text or type (``" s "``, a bool) is stripped in Python.
    The cells are python-calamine's (Python ``int``, ``float``, ``str``, ``bool``, dates)."""
    n = len(raw)
    if infer_dtype(raw, skipna=False) in _NUMBER_KINDS:
        return raw.astype("float64"), {}
    exact = {"": raw == ""}  # text of a cell → where the cell is exactly that text
    rest = np.flatnonzero(~exact[""])
    for marker in ("s", "ns"):
        hit = raw[rest] == marker
        exact[marker] = np.zeros(n, dtype=bool)
        exact[marker][rest[hit]] = True
        rest = rest[~hit]
    cells = raw[rest]
    is_number = np.zeros(n, dtype=bool)
    if infer_dtype(cells, skipna=False) in _NUMBER_KINDS:
        is_number[rest] = True
        odd, odd_text = rest[:0], np.array([], dtype=object)
    else:
        types = np.fromiter(map(type, cells), dtype=object, count=len(cells))
        numeric = (types == float) | (types == int)
        is_number[rest[numeric]] = True
        odd = rest[~numeric]  # another text (" s ", "n.d.") or type (bool, date): its stripped text
        odd_text = np.array(_stripped(raw[odd]), dtype=object)
        unknown = ~np.isin(odd_text, list(MARKERS))
        if unknown.any():
            raise SourceFormatError(where, column, "not a number nor a secrecy marker ('s', 'ns', empty)",
                                    list(zip(codes[odd[unknown]].tolist(), odd_text[unknown].tolist())))
    values = np.full(n, np.nan)
    values[is_number] = raw[is_number].astype("float64")
    marked = {}
    for marker in sorted(MARKERS):
        hit = exact[marker]
        if len(odd):
            hit = hit.copy()
            hit[odd[odd_text == marker]] = True
        if hit.any():
            marked[MARKERS[marker]] = codes[hit].tolist()
    return values, marked


def _block(frame: pd.DataFrame, start: int, stop: int, header: list[str], year: int, sheet: str, file: str,
           vintage: str, origin: str) -> tuple[pd.DataFrame, list[dict]]:
    where = _where(file, sheet)
    level = SHEETS[sheet]
    body = frame.iloc[start:stop].reset_index(drop=True)
    names = pd.Series(_stripped(body.iloc[:, 1].tolist()), index=body.index, dtype="object")
    codes = _codes(body.iloc[:, 0], level, where, names)
    cells = body.to_numpy(dtype=object)
    code_array = codes.to_numpy(dtype=object)
    out = {"code": codes, "name": names.astype("object"), "year": np.full(len(body), year, dtype="int64"),
           "geography_vintage": vintage, "origin": origin}
    findings = []
    for i, var in enumerate(header[2:], start=2):
        column = RENAME.get(var, var.lower())
        values, marked = _numbers(cells[:, i], f"{var}{year % 100:02d}", where, code_array)
        out[column] = pd.Series(values, index=body.index)
        for marker, marked_codes in marked.items():
            findings.append({"source_id": SOURCE_ID, "table": TABLES[level], "file": file, "sheet": sheet,
                             "year": year, "column": column, "marker": marker, "cells": len(marked_codes),
                             "codes": marked_codes})
    tidy = pd.DataFrame(out)
    for col in VALUE_COLUMNS:
        if col not in tidy:
            tidy[col] = np.nan
    return tidy[COLUMNS], findings


def _sheet(frame: pd.DataFrame, year: int, sheet: str, file: str) -> tuple[pd.DataFrame, list[dict]]:
    where = _where(file, sheet)
    if len(frame) < 7:
        raise SourceFormatError(where, None, "sheet has no data row (header expected on row 6)")
    title = str(frame.iat[0, 0])
    found = _YEAR.search(title)
    if not found or int(found.group(1)) != year:
        raise SourceFormatError(where, None, f"row 1 must name the income year {year}", [title])
    geo = _GEO.search(str(frame.iat[2, 0]))
    if not geo:
        raise SourceFormatError(where, None, "row 3 must state the geography ('Géographie au 01/01/YYYY')",
                                [str(frame.iat[2, 0])])
    vintage = {"ZE2010": "ze_2010", "ZE2020": "ze_2020"}.get(sheet, f"cog_{geo.group(1)}")
    suffix = f"{year % 100:02d}"
    got = [str(c).strip() for c in frame.iloc[5] if str(c).strip() != ""]
    expected = ["CODGEO", "LIBGEO", *[f"{v}{suffix}" for v in VARIABLES[year]]]
    if got != expected:
        missing = [c for c in expected if c not in got]
        extra = [c for c in got if c not in expected]
        detail = "; ".join(x for x in (f"missing {missing}" if missing else "", f"unexpected {extra}" if extra else "")
                           if x) or f"order differs: {got}"
        raise SourceFormatError(where, (missing or extra or [None])[0], "row 6 (variable names) does not match: " + detail)
    header = ["CODGEO", "LIBGEO", *VARIABLES[year]]
    frame = frame.iloc[:, : len(header)]
    first = pd.Series(_stripped(frame.iloc[:, 0].tolist()), index=frame.index, dtype="object")
    empty = first.index[(first == "") & (first.index >= 6)]
    stop = int(empty[0]) if len(empty) else len(frame)
    parts, findings = [], []
    tidy, found_ = _block(frame, 6, stop, header, year, sheet, file, vintage, "filosofi")
    parts.append(tidy)
    findings += found_
    rest = [i for i in range(stop, len(frame)) if first.iat[i] != ""]
    if rest:
        # Only the 2019 DEP/REG sheets have a second block: title, source line, long labels, rows.
        lines = [first.iat[i] for i in rest]
        source = next((t for t in lines[:3] if "Source" in t), "")
        labels = [str(c).strip().replace(" fiscaux", "") for c in frame.iloc[4]]
        long_row = next((i for i in rest if first.iat[i] == "Code géographique"), None)
        if "Budget de famille 2017" not in source or long_row is None:
            raise SourceFormatError(where, "CODGEO", "rows after the table that are not the known second block "
                                    "(Budget de famille 2017)", lines[:5])
        got_labels = [str(c).strip().replace(" fiscaux", "") for c in frame.iloc[long_row]]
        if got_labels != labels:
            diff = [(a, b) for a, b in zip(labels, got_labels) if a != b]
            raise SourceFormatError(where, None, "the second block's labels differ from the first block's", diff)
        tidy, found_ = _block(frame, long_row + 1, len(frame), header, year, sheet, file, vintage, "bdf_2017")
        parts.append(tidy)
        findings += found_
    return pd.concat(parts, ignore_index=True), findings


def read_sheets(book: bytes, sheets: list[str], file: str) -> dict[str, pd.DataFrame]:
    """Cells of some sheets of an XLS/XLSX workbook, as python-calamine reads them (the engine of
    ``pandas.read_excel(engine="calamine")``, without its per-cell conversion: text stays text,
    numbers are floats or ints, an empty cell is ``""``)."""
    wb = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(book))
    missing = [s for s in sheets if s not in wb.sheet_names]
    if missing:
        raise SourceFormatError(file, None, f"missing sheet(s) {missing}", wb.sheet_names)
    return {s: _cells(wb.get_sheet_by_name(s).to_python()) for s in sheets}


def _cells(rows: list[list]) -> pd.DataFrame:
    """A sheet's rows as a frame of objects (built from one 2-D array when the rows have one width)."""
    if rows and len(set(map(len, rows))) == 1:
        return pd.DataFrame(np.array(rows, dtype=object))
    return pd.DataFrame(rows, dtype=object)


def parse_year(raw: bytes, file: str, year: int, levels: tuple[str, ...] = LEVELS) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """One archive: ``({table: tidy frame}, secrecy findings)`` for ``levels`` (all six by
    default; the commune sheet is about 90 % of the reading time)."""
    inner, book = workbook(raw, file)
    sheets = [s for s in ("COM", "EPCI", "DEP", "REG", "METRO", ZE_SHEET[year]) if SHEETS[s] in levels]
    try:
        frames = read_sheets(book, sheets, f"{file}:{inner}")
    except SourceFormatError:
        raise
    except Exception as exc:  # calamine's own errors (corrupt or truncated workbook)
        raise SourceFormatError(f"{file}:{inner}", None, f"cannot read the workbook ({exc})") from None
    tables, findings = {}, []
    for sheet in sheets:
        tidy, found = _sheet(frames[sheet], year, sheet, file)
        dup = tidy.duplicated(["code"], keep=False)
        if dup.any():
            raise SourceFormatError(_where(file, sheet), "CODGEO", "duplicated code",
                                    tidy.loc[dup, ["code", "name"]].head(5).values.tolist())
        tables[TABLES[SHEETS[sheet]]] = tidy
        findings += found
    return tables, _findings_frame(findings)


def parse(raws: Mapping[str, bytes], levels: tuple[str, ...] = LEVELS) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """The six archives (``{snapshot path: bytes}``, paths of :data:`FILES`) → one tidy table per
    level of ``levels`` over 2014–2019 (:data:`TABLES`) and the secrecy findings of all of them."""
    by_file = {path: year for year, path in FILES.items()}
    unknown = sorted(set(raws) - set(by_file))
    if unknown:
        raise SourceFormatError(unknown[0], None, f"not one of the Filosofi archives {sorted(by_file)}")
    parts: dict[str, list[pd.DataFrame]] = {TABLES[level]: [] for level in levels}
    findings = []
    for path in sorted(raws, key=by_file.get):
        tables, found = parse_year(raws[path], path, by_file[path], levels)
        for name, frame in tables.items():
            parts[name].append(frame)
        findings.append(found)
    out = {name: pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)
           for name, frames in parts.items()}
    return out, pd.concat(findings, ignore_index=True) if findings else _findings_frame([])


FINDING_COLUMNS = ["source_id", "table", "file", "sheet", "year", "column", "marker", "cells", "codes"]


def _findings_frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=FINDING_COLUMNS)
    frame["codes"] = frame["codes"].map(lambda c: " ".join(c) if isinstance(c, list) else c)
    return frame.astype({"year": "int64", "cells": "int64"})


def secrecy_findings(findings: pd.DataFrame, columns: tuple[str, ...] = ("med", "tp60", "ppen", "ppsoc")) -> pd.DataFrame:
    """The secrecy findings of the columns behind the indicators (all levels), one row per table,
    year, column and marker with the number of cells and their codes."""
    return findings[findings["column"].isin(columns)].reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# Live mode: INSEE Melodi, data set DS_FILOSOFI_CC (catalogue ``live`` block, docs/sources.md).
#
# What Melodi's catalogue entry of the data set establishes (its real 2026 entry:
# tests/fixtures/live/real/melodi/catalog_all_entry_DS_FILOSOFI_CC.json): one income year, 2021
# (``temporal`` 2021..2021), in the geography of 1 January 2025 (``spatialTemporal``), the levels
# of ``spatialResolution`` (FRANCE, REG, DEP, EPCI, COM, ZE2020, ARR, ARM, UU2020, AAV2020, BV2022,
# OTHER), the measure dimension FILOSOFI_MEASURE with the codes of its ``raccourcis`` (counts,
# standard of living and poverty rate, breakdown of disposable income). The archives of
# 2014–2019 stay the snapshot's (INSEE's final files, never revised): Melodi adds its newer
# year(s) to the same tables.

MELODI_DATASET = "DS_FILOSOFI_CC"
# Melodi level (GEO "<year>-<level>-<code>") → our level. FRANCE is not read: the entry does not
# say which territory its FRANCE code is (the data set covers France métropolitaine, Martinique and
# La Réunion; the only FRANCE code met in Melodi's answers, "FRANCE-F" of DS_EC_DECES, is France
# entière), so France métropolitaine (METRO, code FRM) stays snapshot-only. ZE2010 is not served.
MELODI_LEVELS = {"COM": "commune", "EPCI": "epci", "DEP": "departement", "REG": "region", "ZE2020": "zone_emploi"}
# Logical paths of the live files (the catalogue's live block lands them there): one Melodi
# document per level, and the data set's range (its territories' labels: the ``name`` column).
MELODI_FOLDER = "filosofi_melodi"
MELODI_FILES = {geo: f"{MELODI_FOLDER}/{MELODI_DATASET}_{geo}.json" for geo in MELODI_LEVELS}
MELODI_RANGE = f"{MELODI_FOLDER}/range_{MELODI_DATASET}.json"
# FILOSOFI_MEASURE → column. Only measures whose concept the entry names: the counts (households,
# persons), the five codes of "Niveau de vie et taux de pauvreté" for its five concepts (median,
# 1st and 9th deciles, interdecile ratio, poverty rate at 60 %), and the five shares of disposable
# income its description lists (activity income, pensions, property income, social benefits,
# direct taxes). Not mapped, so missing in the Melodi rows: NUM_CU (no column); the six sub-shares
# S_EI_DI_SAL / _UNE / _N_SAL and S_SOC_BEN_DI_FAM_BEN / _MIN_SOC / _HOU_BEN (codes listed without
# labels: ptsa, pcho, pben, ppfam, ppmini, pplogt not mapped on their names); the share of
# taxed households (pimp: named by the description, no code given) and the poverty rates by age
# and tenure (tp60age1–6, tp60tol1–2: not in the data set).
MELODI_MEASURES = {
    "NUM_HH": "households", "NUM_PER": "persons",
    "MED_SL": "med", "D1_SL": "d1", "D9_SL": "d9", "IR_D9_D1_SL": "rd", "PR_MD60": "tp60",
    "S_EI_DI": "pact", "S_RET_PEN_DI": "ppen", "S_INC_ASS_DI": "ppat", "S_SOC_BEN_DI": "ppsoc",
    "S_DIR_TAX_DI": "pimpot",
}


def melodi_names(raw: bytes, file: str = MELODI_RANGE) -> dict[str, str]:
    """Melodi's range of a data set (``/melodi/range/<DATASET>``: ``range[]`` of concepts, the GEO
    concept's ``values[]`` with ``id`` ``"2025-DEP-01"`` and ``label.fr``) → {GEO id: name}."""
    import json

    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SourceFormatError(file, None, f"not a Melodi range JSON document ({exc})") from None
    concepts = doc.get("range") if isinstance(doc, dict) else None
    geo = [c for c in concepts or [] if isinstance(c, dict) and (c.get("concept") or {}).get("code") == "GEO"]
    if len(geo) != 1:
        raise SourceFormatError(file, "range", "not a Melodi range: expected one GEO concept", [str(doc)[:120]])
    out = {}
    for value in geo[0].get("values") or []:
        label = (value.get("label") or {}).get("fr")
        if value.get("id") and label:
            out[str(value["id"])] = str(label).strip()
    return out


def parse_melodi(raws: Mapping[str, bytes], names: Mapping[str, str]) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Melodi ``DS_FILOSOFI_CC`` documents (``{logical path: bytes}``, one or several levels) →
    the same tidy tables as :func:`parse` (:data:`COLUMNS`, codes as text, ``origin`` filosofi)
    and the secrecy findings: an observation sent without value (``"OBS_VALUE_NIVEAU": {}``)
    is missing, never 0, and listed with marker ``(empty)``. Observations of levels not in
    :data:`MELODI_LEVELS` or of measures not in :data:`MELODI_MEASURES` are not read; the
    columns without a Melodi measure stay missing. ``names``: :func:`melodi_names`."""
    from barometre.sources import _melodi

    frames, findings = {}, []
    for path, raw in raws.items():
        obs = _melodi.observations(raw, path, "FILOSOFI_MEASURE")
        obs = obs[obs["level"].isin(MELODI_LEVELS) & obs["measure"].isin(MELODI_MEASURES)]
        for geo_level, part in obs.groupby("level", sort=True):
            level = MELODI_LEVELS[geo_level]
            where = f"{path} [GEO {geo_level}]"
            if part["geo_vintage"].isna().any():
                raise SourceFormatError(where, "GEO", "GEO without its geography year ('<year>-<level>-<code>')",
                                        part.loc[part["geo_vintage"].isna(), "code"].head(5).tolist())
            bad = invalid_codes(part["code"], level)
            if len(bad):
                raise SourceFormatError(where, "GEO", f"invalid {level} code (lost leading zero?)", bad.head(5).tolist())
            years = pd.to_numeric(part["time_period"], errors="coerce")
            if years.isna().any() or (years % 1 != 0).any():
                raise SourceFormatError(where, "TIME_PERIOD", "not a year",
                                        part.loc[years.isna(), "time_period"].head(5).tolist())
            part = part.assign(year=years.astype("int64"), column=part["measure"].map(MELODI_MEASURES),
                               geography_vintage=("ze_2020" if geo_level == "ZE2020"
                                                  else "cog_" + part["geo_vintage"].astype(str)),
                               geo_id=part["geo_vintage"].astype(str) + f"-{geo_level}-" + part["code"])
            dup = part.duplicated(["code", "year", "column"], keep=False)
            if dup.any():
                raise SourceFormatError(where, "FILOSOFI_MEASURE", "several values for one (territory, year, measure)",
                                        part.loc[dup, ["code", "year", "measure"]].head(5).values.tolist())
            frames.setdefault(level, []).append(part)
    tables = {}
    for level in LEVELS:
        if level not in frames:
            continue
        part = pd.concat(frames[level], ignore_index=True)
        if part.duplicated(["code", "year", "column"]).any():
            dup = part[part.duplicated(["code", "year", "column"], keep=False)]
            raise SourceFormatError(", ".join(raws), "GEO", f"a {level} (territory, year, measure) in two documents",
                                    dup[["code", "year", "measure"]].head(5).values.tolist())
        keys = part.drop_duplicates(["code", "year"])[["code", "year", "geography_vintage", "geo_id"]]
        unnamed = keys[~keys["geo_id"].isin(names)]
        if len(unnamed):
            raise SourceFormatError(MELODI_RANGE, "GEO", f"{len(unnamed)} {level} territories without a label in "
                                    f"Melodi's range of {MELODI_DATASET}", unnamed["geo_id"].head(5).tolist())
        wide = part.pivot(index=["code", "year"], columns="column", values="value")
        tidy = keys.set_index(["code", "year"]).join(wide).reset_index()
        tidy = tidy.sort_values(["year", "code"], kind="stable").reset_index(drop=True)
        out = pd.DataFrame({"code": tidy["code"].astype("object"), "name": tidy["geo_id"].map(names).astype("object"),
                            "year": tidy["year"].astype("int64"),
                            "geography_vintage": tidy["geography_vintage"].astype("object"), "origin": "filosofi"})
        for col in VALUE_COLUMNS:
            out[col] = (tidy[col] if col in tidy else pd.Series(np.nan, index=tidy.index)).astype("float64")
        tables[TABLES[level]] = out[COLUMNS]
        empty = part[part["value"].isna()]
        sheet = next(g for g, lv in MELODI_LEVELS.items() if lv == level)
        for (year, column), cells in empty.groupby(["year", "column"], sort=True):
            findings.append({"source_id": SOURCE_ID, "table": TABLES[level], "file": MELODI_FILES[sheet],
                             "sheet": sheet, "year": int(year), "column": column, "marker": MARKERS[""],
                             "cells": len(cells), "codes": sorted(cells["code"])})
    if not tables:
        raise SourceFormatError(", ".join(raws), "GEO", f"no observation of {sorted(MELODI_LEVELS)} × "
                                f"{sorted(MELODI_MEASURES)} in the Melodi answer(s)")
    return tables, _findings_frame(findings)


# ---------------------------------------------------------------------------------------------
# Declarations (barometre.sources._schema): one per table.

# cog_2025: the geography of Melodi's DS_FILOSOFI_CC (live mode, 2021 incomes).
_VINTAGES = tuple(f"cog_{y}" for y in (2015, 2016, 2019, 2020, 2021, 2022, 2025))
# Bounds, checked on the snapshot (min–max over 2014–2019 of the Filosofi rows):
# - med: EPCI 12 522 (249740093 CIREST, 2014) – 38 140 (247400690, 2019); zones 12 522 (0401 L'Est,
#   2014) – 31 210 (8416, 2019); départements 13 828 (974, 2014) – 28 570 (75, 2019): within
#   revenu_median_uc's 8 000–40 000. Communes 9 958 – 53 500 (not published: unit domain only).
# - tp60: EPCI 5.0 (shown for 0–5 %) – 48.3 (249740093, 2014), zones 5.0 – 48.3 (0401, 2014),
#   départements 8.9 (74, 2018) – 41.8 (974, 2014): above taux_pauvrete's first bound of 40 (real
#   values of La Réunion: the catalogue's bound must be ≥ 48.3).
# - ppen + ppsoc: EPCI 14.2 – 62.8, zones 19.0 – 54.7, départements 21.6 – 48.1: within 5–80.
# The 2019 DEP/REG sheets' Budget de famille block (Mayotte: median 3 140 €, poverty rate 77.3 %)
# is not Filosofi: those two tables get only their units' domains (their indicator rows are
# checked by the marts' plausible bounds, after the block is left out).
_INDICATOR_OF = {"med": "revenu_median_uc", "tp60": "taux_pauvrete"}


def melodi_years(catalogue) -> tuple[int, ...]:
    """The years Melodi serves (the catalogue's ``live.years``), allowed besides the archives'."""
    return tuple(int(y) for y in catalogue.source(SOURCE_ID).extra["live"].get("years") or ())


def _schema(level: str, codes: tuple[Codes, ...], count: tuple[int, int], *, indicator_bounds: bool,
            checked: tuple[str, ...] = tuple(UNIT_OF)) -> RawSchema:
    values = tuple(Values(c, UNIT_OF[c], _INDICATOR_OF.get(c) if indicator_bounds else None)
                   for c in VALUE_COLUMNS if c in checked)
    return RawSchema(
        table=TABLES[level], files=", ".join(FILES.values()),
        columns={"code": "text", "name": "text", "year": "int", "geography_vintage": "text", "origin": "text",
                 **{c: "float" for c in VALUE_COLUMNS}},
        # EPCI and zones d'emploi: the key holds the geography vintage, so that the jump check
        # compares a code with itself in the same mesh only (an EPCI code's perimeter changes with
        # each file's COG: no jump check at EPCI; ZE2010 2014–2017 and ZE2020 2018–2019 separately).
        key=("code", "geography_vintage", "year") if level in ("epci", "zone_emploi") else ("code", "year"),
        period="year", periods=YEARS, live_periods=melodi_years, required=("name", "geography_vintage", "origin"),
        level=level,
        codes=codes,
        coverage=(CountRange("code", count[0], count[1], f"{level} rows per year", by=("year",)),),
        values=values,
        allowed=(Allowed("origin", tuple(ORIGINS)),
                 Allowed("geography_vintage", ("ze_2010", "ze_2020") if level == "zone_emploi" else _VINTAGES)),
        examples=("code", "year"),
        # a year after the archives' can only come from Melodi (live mode)
        file_of=lambda row: FILES.get(int(row["year"])) or (MELODI_FOLDER if int(row["year"]) > max(YEARS) else FOLDER),
    )


SCHEMAS: dict[str, RawSchema] = {
    # communes (212,180 rows): the domains of the columns behind the indicators only (cost)
    TABLES["commune"]: _schema("commune", (Codes("code", "commune"),), (34_900, 36_700), indicator_bounds=False,
                               checked=("households", "persons", "med", "tp60", "ppen", "ppsoc")),
    TABLES["epci"]: _schema("epci", (Codes("code", "epci"),), (1_239, 2_123), indicator_bounds=True),
    TABLES["departement"]: _schema("departement", (Codes("code", "departement", DEPARTEMENTS, "the 101 départements"),),
                                   (98, 101), indicator_bounds=False),
    TABLES["region"]: _schema("region", (Codes("code", "region", REGIONS, "the 18 régions of the COG"),), (15, 18),
                              indicator_bounds=False),
    TABLES["france"]: _schema("france", (Codes("code", "france", ("FRM",), "France métropolitaine"),), (1, 1),
                              indicator_bounds=True),
    TABLES["zone_emploi"]: _schema("zone_emploi", (
        Codes("code", "zone_emploi", "ze_2010", "the zones d'emploi 2010 of the CGET's mesh",
              where={"geography_vintage": "ze_2010"}),
        Codes("code", "zone_emploi", where={"geography_vintage": "ze_2020"})), (297, 314), indicator_bounds=True),
}


# ---------------------------------------------------------------------------------------------
# Indicator rows (frames of barometre.indicators.VALUE_COLUMNS).

INDICATORS = {"revenu_median_uc": ("med",), "taux_pauvrete": ("tp60",), "part_revenus_sociaux": ("ppen", "ppsoc")}
PUBLISHED_LEVELS = ("france", "region", "departement", "epci", "zone_emploi")


def indicator_vintage(level: str, vintage: str) -> str:
    """The geography vintage of an indicator row: départements, régions and France métropolitaine
    keep today's codes and perimeters in every file (the 101 départements, the 18 régions of
    2016), so they are ``cog_2026`` as the project's other département and région rows; EPCI keep
    the file's COG (their perimeters change), zones d'emploi their zoning."""
    return GEOGRAPHY_VINTAGE_CURRENT if level in ("france", "region", "departement") else vintage


def values(tables: Mapping[str, pd.DataFrame], indicators: tuple[str, ...] = tuple(INDICATORS)) -> pd.DataFrame:
    """Rows of ``revenu_median_uc`` (MED), ``taux_pauvrete`` (TP60) and ``part_revenus_sociaux``
    (PPEN + PPSOC; a missing part gives a missing sum) at each published level, as INSEE published
    each level (never re-aggregated), ``derived`` False. Rows of another origin than Filosofi (the
    2019 Budget de famille block) are left out; missing values stay (the marts report them), and
    so do poverty rates shown as 5 or 95 (:func:`censored_rates`)."""
    from barometre.indicators import VALUE_COLUMNS as OUT  # lazy: barometre.indicators may import this module

    parts = []
    for level in PUBLISHED_LEVELS:
        frame = tables[TABLES[level]]
        frame = frame[frame["origin"] == "filosofi"]
        vintage = frame["geography_vintage"].map(lambda v, lv=level: indicator_vintage(lv, v))
        for indicator in indicators:
            cols = INDICATORS[indicator]
            # NaN + x = NaN; the sum rounded at 1e-10 so that 24.9 + 9.4 is 34.3, not 34.300000000000004
            value = frame[cols[0]] if len(cols) == 1 else (frame[cols[0]] + frame[cols[1]]).round(10)
            if cols == ("tp60",):
                value = value.mask(value.isin(CENSORED))  # "5" means 0–5 %: not an exact value
            parts.append(pd.DataFrame({
                "indicator_id": indicator, "level": level, "code": frame["code"], "geography_vintage": vintage,
                "period": frame["year"].astype(str), "period_start": frame["year"].astype("int64"),
                "period_end": frame["year"].astype("int64"), "value": value.astype("float64"),
                "numerator": np.nan, "denominator": np.nan, "source_id": SOURCE_ID, "derived": False}))
    out = pd.concat(parts, ignore_index=True)[OUT]
    return out.sort_values(["indicator_id", "level", "code", "period_start"], ignore_index=True)


# INSEE's rule (stated in the 2018 file's Documentation sheet): a poverty rate within [0; 5] or
# [95; 100] is shown as 5 or 95. No EPCI or zone d'emploi rate of any year lies below 5, and
# 167 EPCI rates and 5 zone rates are exactly 5.0: the same rule applies to every year.
CENSORED = (5.0, 95.0)


def censored_rates(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Poverty rates shown as 5 or 95 (the true rate lies within 0–5 or 95–100 %) at the published
    levels: :func:`values` leaves them missing; this lists them for the quality report."""
    rows = []
    for level in PUBLISHED_LEVELS:
        frame = tables[TABLES[level]]
        hit = frame[frame["tp60"].isin(CENSORED) & (frame["origin"] == "filosofi")]
        rows.append(pd.DataFrame({"level": level, "code": hit["code"], "name": hit["name"], "year": hit["year"],
                                  "column": "tp60", "shown": hit["tp60"],
                                  "meaning": hit["tp60"].map({5.0: "0–5 %", 95.0: "95–100 %"})}))
    return pd.concat(rows, ignore_index=True)


def left_out(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Rows of the tables that are not Filosofi values (the 2019 DEP/REG block of the Budget de
    famille 2017 survey for Guadeloupe, Guyane, Mayotte), for the quality report."""
    rows = [t[t["origin"] != "filosofi"].assign(table=name) for name, t in tables.items()]
    rows = [r for r in rows if len(r)]
    cols = ["table", "code", "name", "year", "origin", "med", "tp60", "ppen", "ppsoc"]
    return pd.concat(rows, ignore_index=True)[cols] if rows else pd.DataFrame(columns=cols)


# ---------------------------------------------------------------------------------------------
# Registry (barometre/sources/registry.py): one parse of the six archives, one raw table per
# level and the table of the secrecy markers met while reading them.

SECRECY_TABLE = f"{SOURCE_ID}_secret_statistique"
SECRECY_SCHEMA = RawSchema(
    table=SECRECY_TABLE, files=", ".join(FILES.values()),
    columns={"source_id": "text", "table": "text", "file": "text", "sheet": "text", "year": "int", "column": "text",
             "marker": "text", "cells": "int", "codes": "text"},
    key=("table", "year", "column", "marker"), period="year", periods=YEARS, live_periods=melodi_years,
    required=("table", "file", "sheet", "column", "marker", "codes"),
    allowed=(Allowed("marker", tuple(MARKERS.values())), Allowed("table", tuple(TABLES.values()))),
    examples=("table", "year", "column", "marker"),
)


def read_archives(store, catalogue) -> dict[str, pd.DataFrame]:
    """The six archives → the six level tables (:data:`TABLES`) and the secrecy markers
    (:data:`SECRECY_TABLE`: one row per table, year, column and marker, with the cells' codes).

    With the source live (``BAROMETRE_SOURCES=live``), Melodi's documents (:data:`MELODI_FILES`,
    :data:`MELODI_RANGE`) add their years to the same tables (:func:`with_melodi`)."""
    tables, findings = parse({path: store.read(path) for path in FILES.values()})
    is_live = getattr(store, "is_live", lambda path: False)
    live = [path for path in MELODI_FILES.values() if is_live(path)]
    if live:
        names = melodi_names(store.read(MELODI_RANGE))
        tables, findings = with_melodi(tables, findings, *parse_melodi({p: store.read(p) for p in live}, names))
    return {**tables, SECRECY_TABLE: findings}


def with_melodi(tables: Mapping[str, pd.DataFrame], findings: pd.DataFrame, melodi: Mapping[str, pd.DataFrame],
                melodi_findings: pd.DataFrame) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """The archives' tables and Melodi's: Melodi's rows of a year the archives' table does not hold
    are added (a year of the archives keeps INSEE's archive, its final file), and so are their
    findings."""
    out = dict(tables)
    added = []
    for name, frame in melodi.items():
        if name not in out:  # a level not read (parse_year's levels)
            continue
        new = frame[~frame["year"].isin(set(out[name]["year"]))]
        out[name] = pd.concat([out[name], new], ignore_index=True) if len(new) else out[name]
        added += [(name, int(y)) for y in new["year"].unique()]
    keep = pd.Series([(t, int(y)) in added for t, y in zip(melodi_findings["table"], melodi_findings["year"])],
                     index=melodi_findings.index, dtype=bool)
    new_findings = melodi_findings[keep]
    return out, pd.concat([findings, new_findings], ignore_index=True) if len(new_findings) else findings


_DESCRIPTIONS = {
    "commune": "communes (COG of each file; raw layer only: the indicators are published from EPCI upwards)",
    "epci": "EPCI (the perimeters of each file's COG: ~2,100 in 2014–2015, ~1,240 from 2016)",
    "departement": "départements (98 rows a year; 2019 adds the Budget de famille 2017 block of 971, 973, 976)",
    "region": "régions (15 rows a year; 2019 adds the Budget de famille 2017 block of 01, 03, 06)",
    "france": "France métropolitaine (METRO sheet, code FRM)",
    "zone_emploi": "zones d'emploi (ZE2010 sheet 2014–2017, ZE2020 sheet 2018–2019)",
}

PARSES = (
    SourceParse(SOURCE_ID, tuple(FILES.values()), read_archives, (
        *(RawTable(TABLES[level], SCHEMAS[TABLES[level]],
                   f"INSEE Filosofi base cc 2014–2019, {_DESCRIPTIONS[level]}: one row per territory × year, "
                   "median disposable income per UC, poverty rates, shares of income (secrecy markers missing).")
          for level in LEVELS),
        RawTable(SECRECY_TABLE, SECRECY_SCHEMA, "Secrecy markers (s, ns, empty cell) of the Filosofi base cc archives: "
                                                "one row per table × year × column × marker, with the cells' codes."),
    )),
)
