"""INSEE localised unemployment rate by zone d'emploi 2020, and the commune → ZE2020 composition.

``zones_emploi_2020/chomage-zone-t1-2003-t3-2023.xlsx`` (INSEE, "Taux de chômage localisés"):
sheet ``txcho_ze``, header on row 6 (``ZE2020``, ``LIBZE2020``, ``REG``, ``LIBREG``, then one column
per quarter ``2003-T1`` … ``2023-T3``), 302 zones; ``REG`` is ``00`` for the 14 zones that straddle
a région border. Sheet ``txcho_parties reg``: the 28 régional parts of those 14 zones (``ZER2020``
coded ``RRXX``: région ``RR`` + the zone's ``XX``; zone ``00XX``). Rates in % of the active
population, quarterly, seasonally adjusted. The DROM zones (Guadeloupe ``01xx``, Martinique
``02xx``, La Réunion ``04xx``) start in 2014-T1; Guyane (``03xx``) and Mayotte (``0601``) are absent.

``zones_emploi_2020/ZE2020_au_01-01-2023.xlsx`` (INSEE, zonage en zones d'emploi 2020, COG 2023):
sheet ``ZE2020`` (306 zones with their number of communes) and ``Composition_communale``
(header on row 6: ``CODGEO``, ``LIBGEO``, ``ZE2020``, ``LIBZE2020``, ``ZE2020_PARTIE_REG`` written
``00XX-RR`` for a commune of a straddling zone, ``DEP``, ``REG``).

Codes are read as the text cells INSEE wrote; a code cell stored as a number (``51`` for ``0051``)
is an error.
"""

from __future__ import annotations

import io
import re

import numpy as np
import pandas as pd

from barometre.geography import DEPARTEMENTS, REGIONS, invalid_codes
from barometre.sources._csv import SourceFormatError
from barometre.sources._schema import Codes, CountRange, RawSchema, Values
from barometre.sources.registry import RawTable, SourceParse, single_table

SOURCE_ID = "insee_chomage_zone_emploi"
COMPOSITION_SOURCE_ID = "insee_zonage_zones_emploi_2020"
FILE_TAUX = "zones_emploi_2020/chomage-zone-t1-2003-t3-2023.xlsx"
FILE_COMPOSITION = "zones_emploi_2020/ZE2020_au_01-01-2023.xlsx"
GEOGRAPHY_VINTAGE = "ze_2020"
COMPOSITION_COG = 2023

SHEET_ZE, SHEET_PARTS = "txcho_ze", "txcho_parties reg"
SHEET_ZONES, SHEET_COMPOSITION = "ZE2020", "Composition_communale"
HEADER_ROW = {SHEET_ZE: 5, SHEET_PARTS: 7, SHEET_ZONES: 5, SHEET_COMPOSITION: 5}  # 0-based row of the code header
_QUARTER = re.compile(r"^(\d{4})-T([1-4])$")
# Zone prefixes (2-digit région 2016 of the zone, 00 when it straddles régions) of the DROM.
DROM_ZONE_PREFIX = {"01": "Guadeloupe", "02": "Martinique", "03": "Guyane", "04": "La Réunion", "06": "Mayotte"}
DROM_FIRST_YEAR = 2014

QUARTERLY_COLUMNS = ["code_zone_emploi", "libelle", "code_region", "period", "year", "quarter", "value"]
PARTS_COLUMNS = ["code_partie_regionale", "code_zone_emploi", "code_region", "libelle", "period", "year", "quarter",
                 "value"]
COMPOSITION_COLUMNS = ["cog_vintage", "code_commune", "libelle", "code_zone_emploi", "libelle_zone_emploi",
                       "code_partie_regionale", "code_departement", "code_region"]
ZONES_COLUMNS = ["code_zone_emploi", "libelle", "n_communes"]
ANNUAL_COLUMNS = ["code", "year", "unemployment_rate", "unemployment_rate_raw"]


def _sheet(raw: bytes, file: str, sheet: str) -> list[list]:
    from python_calamine import CalamineWorkbook  # imported here: only this source reads workbooks

    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(raw))
    except Exception as exc:  # noqa: BLE001 — calamine raises its own error types
        raise SourceFormatError(file, None, f"not a readable XLSX workbook: {exc}") from None
    if sheet not in book.sheet_names:
        raise SourceFormatError(file, None, f"sheet {sheet!r} missing (sheets: {book.sheet_names})")
    return book.get_sheet_by_name(sheet).to_python()


def _table(raw: bytes, file: str, sheet: str, head: list[str], *, prefix: bool = False) -> tuple[list[str], list[list]]:
    rows = _sheet(raw, file, sheet)
    at = HEADER_ROW[sheet]
    header = [str(c).strip() for c in rows[at]] if len(rows) > at else []
    got = header[: len(head)] if prefix else header
    if got != head:
        raise SourceFormatError(f"{file} [{sheet}]", None, f"row {at + 1} must be the header {head}"
                                f"{' …' if prefix else ''}", [header[: len(head) + 2]])
    body = [r for r in rows[at + 1:] if any(c not in ("", None) for c in r)]
    if not body:
        raise SourceFormatError(f"{file} [{sheet}]", None, "header but no data row")
    return header, body


def _codes(values: list, file: str, column: str, pattern: str, label: str) -> list[str]:
    match = re.compile(pattern).fullmatch  # compiled once (re.fullmatch looks it up per cell)
    bad = [v for v in values if not isinstance(v, str) or not match(v.strip())]
    if bad:
        raise SourceFormatError(file, column, f"{label} must be a text code matching {pattern} (a number lost its "
                                              "leading zeros?)", bad[:5])
    return [v.strip() for v in values]


def _quarters(header: list[str], first: int, file: str) -> list[tuple[str, int, int]]:
    out = []
    for col in header[first:]:
        m = _QUARTER.match(col)
        if not m:
            raise SourceFormatError(file, col, "quarter columns must be written YYYY-Tn")
        out.append((col, int(m.group(1)), int(m.group(2))))
    periods = [(y, q) for _, y, q in out]
    if periods != sorted(set(periods)):
        raise SourceFormatError(file, out[0][0], "quarter columns must be consecutive and not repeated")
    return out


def _values(body: list[list], first: int, quarters: list, file: str, codes: list[str]) -> np.ndarray:
    values = np.full((len(body), len(quarters)), np.nan)
    for i, row in enumerate(body):
        for j, cell in enumerate(row[first:first + len(quarters)]):
            if cell in ("", None):
                continue  # not published: stays missing
            if not isinstance(cell, (int, float)) or isinstance(cell, bool):
                raise SourceFormatError(file, quarters[j][0], "not a number", [[codes[i], cell]])
            if not 0 <= cell <= 100:
                raise SourceFormatError(file, quarters[j][0], "a rate in % lies within 0–100", [[codes[i], cell]])
            values[i, j] = float(cell)
    return values


def _long(ids: pd.DataFrame, values: np.ndarray, quarters: list) -> pd.DataFrame:
    n, k = values.shape
    out = ids.loc[ids.index.repeat(k)].reset_index(drop=True)
    out["period"] = [q[0] for q in quarters] * n
    out["year"] = np.array([q[1] for q in quarters] * n, dtype="int64")
    out["quarter"] = np.array([q[2] for q in quarters] * n, dtype="int64")
    out["value"] = values.reshape(-1)
    return out


def parse_quarterly(raw: bytes, file: str = FILE_TAUX) -> pd.DataFrame:
    """One row per zone d'emploi 2020 and quarter (``value`` missing where INSEE published none)."""
    where = f"{file} [{SHEET_ZE}]"
    header, body = _table(raw, file, SHEET_ZE, ["ZE2020", "LIBZE2020", "REG", "LIBREG"], prefix=True)
    quarters = _quarters(header, 4, where)
    codes = _codes([r[0] for r in body], where, "ZE2020", r"[0-9]{4}", "zone d'emploi code")
    regions = _codes([r[2] for r in body], where, "REG", r"[0-9]{2}", "région code")
    if len(set(codes)) != len(codes):
        raise SourceFormatError(where, "ZE2020", "duplicated zone", sorted({c for c in codes if codes.count(c) > 1})[:5])
    ids = pd.DataFrame({"code_zone_emploi": codes, "libelle": [str(r[1]).strip() for r in body],
                        "code_region": regions}, dtype="object")
    return _long(ids, _values(body, 4, quarters, where, codes), quarters)[QUARTERLY_COLUMNS]


def parse_quarterly_parts(raw: bytes, file: str = FILE_TAUX) -> pd.DataFrame:
    """The régional parts of the straddling zones (``ZER2020`` ``RRXX`` → zone ``00XX``, région ``RR``)."""
    where = f"{file} [{SHEET_PARTS}]"
    header, body = _table(raw, file, SHEET_PARTS, ["ZER2020", "LIBZER2020"], prefix=True)
    quarters = _quarters(header, 2, where)
    codes = _codes([r[0] for r in body], where, "ZER2020", r"[0-9]{4}", "régional part code")
    ids = pd.DataFrame({"code_partie_regionale": codes, "code_zone_emploi": ["00" + c[2:] for c in codes],
                        "code_region": [c[:2] for c in codes], "libelle": [str(r[1]).strip() for r in body]},
                       dtype="object")
    return _long(ids, _values(body, 2, quarters, where, codes), quarters)[PARTS_COLUMNS]


def parse_zones(raw: bytes, file: str = FILE_COMPOSITION) -> pd.DataFrame:
    """The 306 zones d'emploi 2020 with their number of communes (sheet ``ZE2020``)."""
    where = f"{file} [{SHEET_ZONES}]"
    _, body = _table(raw, file, SHEET_ZONES, ["ZE2020", "LIBZE2020", "NB_COM"])
    codes = _codes([r[0] for r in body], where, "ZE2020", r"[0-9]{4}", "zone d'emploi code")
    n = [r[2] for r in body]
    bad = [[c, v] for c, v in zip(codes, n) if not isinstance(v, (int, float)) or v != int(v) or v < 1]
    if bad:
        raise SourceFormatError(where, "NB_COM", "number of communes must be a positive integer", bad)
    return pd.DataFrame({"code_zone_emploi": codes, "libelle": [str(r[1]).strip() for r in body],
                         "n_communes": np.array(n, dtype="int64")})


def parse_composition(raw: bytes, file: str = FILE_COMPOSITION) -> pd.DataFrame:
    """Commune (COG 2023) → zone d'emploi 2020, with the régional part ``RRXX`` of the communes of
    a straddling zone (INSEE writes it ``00XX-RR``). Checked against the sheet ``ZE2020``: every zone
    has the number of communes it declares."""
    where = f"{file} [{SHEET_COMPOSITION}]"
    _, body = _table(raw, file, SHEET_COMPOSITION,
                     ["CODGEO", "LIBGEO", "ZE2020", "LIBZE2020", "ZE2020_PARTIE_REG", "DEP", "REG"])
    out = pd.DataFrame({
        "cog_vintage": COMPOSITION_COG,
        "code_commune": _codes([r[0] for r in body], where, "CODGEO", r"([0-9]{2}|2A|2B)[0-9]{3}|97[0-9]{3}",
                               "commune code"),
        "libelle": [str(r[1]).strip() for r in body],
        "code_zone_emploi": _codes([r[2] for r in body], where, "ZE2020", r"[0-9]{4}", "zone d'emploi code"),
        "libelle_zone_emploi": [str(r[3]).strip() for r in body],
        "code_partie_regionale": None,
        "code_departement": [str(r[5]).strip() for r in body],
        "code_region": [str(r[6]).strip() for r in body],
    })
    part = [str(r[4]).strip() for r in body]
    parsed = list(map(re.compile(r"(00[0-9]{2})-([0-9]{2})").fullmatch, part))
    bad = [[c, p] for c, p, m in zip(out["code_commune"], part, parsed) if p and not m]
    if bad:
        raise SourceFormatError(where, "ZE2020_PARTIE_REG", "must be empty or 00XX-RR", bad[:5])
    wrong = [[c, p, z] for c, p, m, z in zip(out["code_commune"], part, parsed, out["code_zone_emploi"])
             if m and m.group(1) != z or (not m and z.startswith("00"))]
    if wrong:
        raise SourceFormatError(where, "ZE2020_PARTIE_REG", "a commune of a straddling zone 00XX names its part "
                                                           "00XX-RR, and only those", wrong[:5])
    out["code_partie_regionale"] = [m.group(2) + m.group(1)[2:] if m else None for m in parsed]
    for col, level in (("code_departement", "departement"), ("code_region", "region")):
        bad = invalid_codes(out[col], level)
        if len(bad):
            raise SourceFormatError(where, col.removeprefix("code_").upper()[:3], f"invalid {level} code",
                                    out.loc[bad.index, ["code_commune", col]].head(5).values.tolist())
    dup = out["code_commune"].duplicated(keep=False)
    if dup.any():
        raise SourceFormatError(where, "CODGEO", "duplicated commune", out.loc[dup, "code_commune"].head(5).tolist())
    zones = parse_zones(raw, file)
    counted = out["code_zone_emploi"].value_counts()
    diff = zones[zones["n_communes"] != zones["code_zone_emploi"].map(counted).fillna(0).astype(int)]
    extra = sorted(set(counted.index) - set(zones["code_zone_emploi"]))
    if len(diff) or extra:
        raise SourceFormatError(where, "ZE2020", "composition disagrees with the sheet ZE2020 (NB_COM)",
                                diff.values.tolist()[:5] + extra[:5])
    return out[COMPOSITION_COLUMNS]


def annual_means(quarterly: pd.DataFrame, code: str = "code_zone_emploi",
                 years: range | None = None) -> pd.DataFrame:
    """One row per zone and *complete* year: ``unemployment_rate_raw`` the mean of the four
    published quarters, ``unemployment_rate`` that mean rounded to 0.1, halves up. A year with
    fewer than four published quarters gives no row (never a mean of fewer).

    The quarterly rates are published to 0.1, so the mean is computed in exact tenths (a float sum
    would make 8.3 + 8.1 + 7.8 + 8.0 = 32.199…, whose mean 8.05 would round down)."""
    q = quarterly.dropna(subset=["value"])
    if years is not None:
        q = q[q["year"].isin(list(years))]
    tenths = np.round(q["value"].to_numpy(dtype="float64") * 10)
    if not np.allclose(tenths, q["value"].to_numpy(dtype="float64") * 10, atol=1e-6):
        raise ValueError("quarterly rates must be published to 0.1")
    g = q.assign(_t=tenths.astype("int64")).groupby([code, "year"], sort=True)["_t"]
    stats = pd.DataFrame({"n": g.size(), "sum": g.sum()}).reset_index()
    stats = stats[stats["n"] == 4]
    total = stats["sum"].to_numpy(dtype="int64")
    return pd.DataFrame({"code": stats[code].astype("object").values, "year": stats["year"].astype("int64").values,
                         "unemployment_rate": np.floor_divide(total + 2, 4) / 10,
                         "unemployment_rate_raw": total / 40})[ANNUAL_COLUMNS]


def coverage_findings(quarterly: pd.DataFrame, zones: pd.DataFrame, indicator_id: str = "taux_chomage") -> pd.DataFrame:
    """Rows of ``mart.quality_report`` for what the quarterly file lacks: zones of the ZE2020 list
    with no series (Guyane, Mayotte), zones whose series start later (the DROM, 2014-T1), and
    years without their four quarters (the last, partial year), which give no annual value."""
    rows = []
    base = {"indicator_id": indicator_id, "source_id": SOURCE_ID, "level": "zone_emploi",
            "geography_vintage": GEOGRAPHY_VINTAGE}
    present = set(quarterly["code_zone_emploi"])
    for code, name in zip(zones["code_zone_emploi"], zones["libelle"]):
        if code not in present:
            where = DROM_ZONE_PREFIX.get(code[:2], "")
            rows.append({**base, "kind": "not_published", "code": code, "period": None,
                         "detail": f"zone d'emploi {code} {name}{f' ({where})' if where else ''}: absent from INSEE's "
                                   "localised unemployment file (France hors Mayotte et Guyane)"})
    published = quarterly.dropna(subset=["value"])
    first = published.groupby("code_zone_emploi")["year"].min()
    all_first = int(first.min())
    for code, year in first[first > all_first].items():
        rows.append({**base, "kind": "not_published", "code": code, "period": f"{all_first}-{int(year) - 1}",
                     "detail": f"zone d'emploi {code}: series start in {int(year)}-T1 (no rate before)"})
    n = published.groupby(["year"])["quarter"].nunique()
    for year in n[n < 4].index:
        rows.append({**base, "kind": "incomplete_year", "code": None, "period": str(int(year)),
                     "detail": f"{int(year)}: only quarters {sorted(published.loc[published['year'] == year, 'quarter'].unique().tolist())}"
                               " published: no annual mean"})
    cols = ["kind", "indicator_id", "source_id", "level", "code", "geography_vintage", "period", "detail"]
    return pd.DataFrame(rows, columns=cols)


_Q_BY = ("period",)
QUARTERLY_SCHEMA = RawSchema(
    table=SOURCE_ID, files=FILE_TAUX,
    columns={"code_zone_emploi": "text", "libelle": "text", "code_region": "text", "period": "text", "year": "int",
             "quarter": "int", "value": "float"},
    key=("code_zone_emploi", "period"), period="period", required=("libelle", "code_region", "year", "quarter"),
    codes=(Codes("code_zone_emploi", "zone_emploi"),
           Codes("code_region", "region", ("00", *REGIONS), "the 18 régions or 00 (straddling zone)")),
    # 302 zones every quarter (values of the 15 DROM zones missing before 2014).
    coverage=(CountRange("code_zone_emploi", 300, 310, "zones d'emploi 2020 per quarter", by=_Q_BY),),
    values=(Values("value", "%", "taux_chomage"),),
    examples=("code_zone_emploi", "period"),
)
PARTS_SCHEMA = RawSchema(
    table=f"{SOURCE_ID}_partie_regionale", files=FILE_TAUX,
    columns={c: QUARTERLY_SCHEMA.columns.get(c, "text") for c in PARTS_COLUMNS},
    key=("code_partie_regionale", "period"), period="period", required=("code_zone_emploi", "code_region"),
    codes=(Codes("code_region", "region", REGIONS, "the 18 régions"),
           Codes("code_zone_emploi", "zone_emploi")),
    coverage=(CountRange("code_partie_regionale", 28, 28, "régional parts of the 14 straddling zones", by=_Q_BY),),
    values=(Values("value", "%", "taux_chomage"),),
    examples=("code_partie_regionale", "period"),
)
COMPOSITION_SCHEMA = RawSchema(
    table=f"{COMPOSITION_SOURCE_ID}_communes", files=FILE_COMPOSITION,
    columns={"cog_vintage": "int", "code_commune": "text", "libelle": "text", "code_zone_emploi": "text",
             "libelle_zone_emploi": "text", "code_partie_regionale": "text", "code_departement": "text",
             "code_region": "text"},
    key=("code_commune",), required=("libelle", "code_zone_emploi", "libelle_zone_emploi", "code_departement",
                                     "code_region"),
    codes=(Codes("code_commune", "commune"), Codes("code_zone_emploi", "zone_emploi"),
           Codes("code_departement", "departement", DEPARTEMENTS, "the 101 départements"),
           Codes("code_region", "region", REGIONS, "the 18 régions")),
    coverage=(CountRange("code_zone_emploi", 306, 306, "zones d'emploi 2020", by=("cog_vintage",)),
              CountRange("code_commune", 34_900, 35_000, "communes of COG 2023", by=("cog_vintage",))),
    examples=("code_commune",),
)


def read_unemployment(store, catalogue) -> dict[str, pd.DataFrame]:
    """Both sheets of the unemployment workbook, read once: the 302 zones and the 28 régional parts."""
    raw = store.read(FILE_TAUX)
    return {QUARTERLY_SCHEMA.table: parse_quarterly(raw, FILE_TAUX), PARTS_SCHEMA.table: parse_quarterly_parts(raw, FILE_TAUX)}


# Two catalogue sources: INSEE publishes the rates (taux de chômage localisés, quarterly release) and
# the zonage (composition, revised with each COG) as two products with their own pages and cadences.
PARSES = (
    SourceParse(SOURCE_ID, (FILE_TAUX,), read_unemployment, (
        RawTable(QUARTERLY_SCHEMA.table, QUARTERLY_SCHEMA,
                 "Unemployment rate by zone d'emploi 2020, quarterly (CVS), one row per zone × quarter."),
        RawTable(PARTS_SCHEMA.table, PARTS_SCHEMA,
                 "Unemployment rate of the 28 régional parts of the 14 zones d'emploi 2020 that straddle a région "
                 "border, one row per part × quarter."))),
    single_table(COMPOSITION_SOURCE_ID, COMPOSITION_SCHEMA.table, FILE_COMPOSITION, parse_composition,
                 COMPOSITION_SCHEMA, "Commune (COG 2023) → zone d'emploi 2020 (and régional part of a straddling "
                 "zone), one row per commune."),
)
