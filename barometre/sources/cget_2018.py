"""CGET baromètre de la cohésion des territoires, July 2018 (``anct-carto/ba-coh-terr``).

Three kinds of comma-separated UTF-8 files, one value per (territory, period):

- ``carte_<id>.csv``: ``codgeo, year0, value0, year1, value1`` at the map's level (ZE 2010,
  EPCI, département); ``carte_5_1`` and ``carte_6_1`` only have ``year1, value1``;
- ``histo_<id>.csv``: ``codreg, libreg, year0, value0, year1, value1`` by région;
- ``baro.csv``: ``id, year0, value0, year1, value1``, one national row per indicator (``id`` is
  the file id without its underscore: ``11`` for ``1_1``).

Years may be integers, quoted strings, or periods (``"1999-2009"`` for 3_1). Empty cells mean
no value and stay missing. The parse functions return tidy frames with columns
:data:`TIDY_COLUMNS`; they do no I/O.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Mapping

import pandas as pd

from barometre.geography import DEPARTEMENTS, FRANCE_TERRITORIES, REGIONS, invalid_codes
from barometre.periods import PeriodError, parse_period
from barometre.sources._csv import SourceFormatError, decode, read_delimited, text_lines, to_number
from barometre.sources._schema import (
    Allowed,
    Codes,
    CountRange,
    Coverage,
    IndicatorValues,
    Ordered,
    Pattern,
    RawSchema,
)
from barometre.sources.registry import RawTable, SourceParse

SOURCE_ID = "cget_barometre_2018"
TIDY_COLUMNS = ["source_file", "cget_id", "level", "geography_vintage", "code", "name", "period",
                "period_start", "period_end", "value"]
ZE_FILE = "barometre_2018/ze_wgs84_utf8.topojson"
EPCI_FILE = "barometre_2018/epci2018_wgs84_utf8.topojson"
CARTE_FILES = "barometre_2018/carte_*.csv"
HISTO_FILES = "barometre_2018/histo_*.csv"
BARO_FILE = "barometre_2018/baro.csv"
# Files of the publication that no parse reads: the indicators' texts and the département mesh
# (read by the report); recorded in the manifest with the others.
RECORDED_FILES = ("barometre_2018/facteur.txt", "barometre_2018/indicateur.txt", "barometre_2018/dep_wgs84_utf8.topojson")
VALUES_TABLE = "cget_barometre_2018_valeurs"
TERRITOIRES_TABLE = "cget_barometre_2018_territoires"

_BY_FILE = ("source_file", "period")
SCHEMA = RawSchema(
    table=VALUES_TABLE,
    files=f"{CARTE_FILES}, {HISTO_FILES}, {BARO_FILE}",
    columns={"source_file": "text", "cget_id": "text", "level": "text", "geography_vintage": "text", "code": "text",
             "name": "text", "period": "text", "period_start": "number", "period_end": "number", "value": "float"},
    key=("source_file", "cget_id", "code", "period"), period="period",
    required=("level", "geography_vintage", "period_start", "period_end"),
    codes=(
        Codes("code", "france", tuple(FRANCE_TERRITORIES), "the France perimeters", where={"level": "france"}),
        Codes("code", "region", REGIONS, "the 18 régions of the COG", where={"level": "region"}),
        Codes("code", "departement", DEPARTEMENTS, "the 101 départements", where={"level": "departement"}),
        Codes("code", "zone_emploi", "ze_2010", "the zones d'emploi 2010 of the CGET's mesh",
              where={"level": "zone_emploi"}),
        Codes("code", "epci", "epci_2018", "the EPCI 2018 of the CGET's mesh",
              where={"level": "epci", "geography_vintage": "epci_2018"}),
        Codes("code", "epci", where={"level": "epci", "geography_vintage": "epci_2017"}),  # no mesh bundled
    ),
    # Counts of the July 2018 publication, per file and period: histo_6_5 has no row for Guyane,
    # and the map files of 6_5, 4_6 and 6_1 cover fewer or more territories than the others.
    coverage=(
        Coverage("code", DEPARTEMENTS, "the 101 départements", by=_BY_FILE, where={"level": "departement"}),
        CountRange("code", 17, 18, "régions per file and period", by=_BY_FILE, where={"level": "region"}),
        CountRange("code", 314, 322, "zones d'emploi 2010 per file and period", by=_BY_FILE,
                   where={"level": "zone_emploi"}),
        CountRange("code", 1259, 1272, "EPCI per file and period", by=_BY_FILE, where={"level": "epci"}),
        CountRange("code", 1, 1, "France value per indicator and period", by=("cget_id", "period"),
                   where={"level": "france"}),
    ),
    values=(IndicatorValues("value", "cget_id"),),
    patterns=(Pattern("period", r"^[0-9]{4}(-[0-9]{4})?$", "a period is 'YYYY' or 'YYYY-YYYY' (ASCII hyphen)"),),
    allowed=(Allowed("level", ("france", "region", "departement", "epci", "zone_emploi")),
             Allowed("geography_vintage", ("cog_2026", "ze_2010", "epci_2017", "epci_2018"))),
    ordered=(Ordered("period_end", "period_start"),),
    examples=("source_file", "cget_id", "code", "period"),
    file_of=lambda row: row["source_file"],
)

TERRITOIRES_SCHEMA = RawSchema(
    table=TERRITOIRES_TABLE, files=f"{ZE_FILE}, {EPCI_FILE}",
    columns={"level": "text", "geography_vintage": "text", "code": "text", "name": "text"},
    key=("level", "geography_vintage", "code"), required=("name",),
    codes=(Codes("code", "zone_emploi", where={"level": "zone_emploi"}), Codes("code", "epci", where={"level": "epci"})),
    coverage=(CountRange("code", 322, 322, "zones d'emploi 2010 in the mesh", by=(), where={"level": "zone_emploi"}),
              CountRange("code", 1264, 1264, "EPCI 2018 in the mesh", by=(), where={"level": "epci"})),
    allowed=(Allowed("level", ("zone_emploi", "epci")), Allowed("geography_vintage", ("ze_2010", "epci_2018"))),
    examples=("level", "code"),
    file_of=lambda row: ZE_FILE if row["level"] == "zone_emploi" else EPCI_FILE,
)


def mesh_codes(territoires: pd.DataFrame) -> dict[str, tuple[str, ...]]:
    """Reference sets of the CGET's meshes for :data:`SCHEMA`: ``{geography_vintage: codes}``."""
    return {vintage: tuple(sorted(group["code"])) for vintage, group in territoires.groupby("geography_vintage")}


def file_indicator(path: str, kind: str, known: Mapping[str, object]) -> str | None:
    """The indicator id of a ``carte_<id>.csv`` or ``histo_<id>.csv`` file (``kind``), or None
    for another name (a copy such as ``carte_1_1 (1).csv``, which the check ``source_folders``
    reports). An id the catalogue does not know (``known``: its ``carte`` table) is an error
    naming the file."""
    match = re.fullmatch(rf"(?:.*/)?{kind}_(\d+_\d+)\.csv", path)
    if match is None:
        return None
    if match.group(1) not in known:
        raise SourceFormatError(path, None, f"indicator id {match.group(1)!r} is not in the catalogue (source "
                                            f"cget_barometre_2018, its 'carte' table: {sorted(known)}): a file the "
                                            "publisher added? Declare the indicator or remove the file")
    return match.group(1)


def _tidy(frame: pd.DataFrame, file: str, code_col: str, pairs: list[tuple[str, str]], *,
          cget_id: str, level: str, vintage: str, name_col: str | None = None) -> pd.DataFrame:
    parts = []
    for year_col, value_col in pairs:
        values = to_number(frame, value_col, file, key=[code_col])
        years = frame[year_col].fillna("").str.strip()
        keep = (years != "") | values.notna()
        for idx in frame.index[keep & (years == "")]:
            raise SourceFormatError(file, year_col, "value without a period", [frame.loc[idx].tolist()])
        periods, bad, error = [], [], None
        for idx, label in years[keep].items():
            try:
                periods.append(parse_period(label))
            except PeriodError as exc:
                bad.append(idx)
                error = error or exc
        if bad:  # the rows whose period cannot be read, not the first rows of the file
            examples = frame.loc[bad, [code_col, year_col]].head(3).values.tolist()
            raise SourceFormatError(file, year_col, str(error), examples)
        parts.append(pd.DataFrame({
            "code": frame.loc[keep, code_col].values,
            "name": frame.loc[keep, name_col].values if name_col else None,
            "period": [p[0] for p in periods],
            "period_start": [p[1] for p in periods],
            "period_end": [p[2] for p in periods],
            "value": values[keep].values,
        }))
    out = pd.concat(parts, ignore_index=True)
    if level != "france":
        bad = invalid_codes(out["code"], level)
        if len(bad):
            raise SourceFormatError(file, code_col, f"invalid {level} code", bad.head(5).tolist())
    dup = out.duplicated(["code", "period"], keep=False)
    if dup.any():
        raise SourceFormatError(file, code_col, "duplicated (code, period)", out.loc[dup, ["code", "period"]].head(5).values.tolist())
    out.insert(0, "source_file", file)
    out.insert(1, "cget_id", cget_id)
    out.insert(2, "level", level)
    out.insert(3, "geography_vintage", vintage)
    return out[TIDY_COLUMNS]


def _pairs(columns: list[str]) -> list[tuple[str, str]]:
    return [(f"year{i}", f"value{i}") for i in (0, 1) if f"year{i}" in columns]


def parse_carte(raw: bytes, file: str, cget_id: str, level: str, vintage: str) -> pd.DataFrame:
    """Map file of indicator ``cget_id`` at ``level`` (see the catalogue's ``carte`` table)."""
    header = next(csv.reader(text_lines(raw, file, final_newline=False)[:1]))
    # carte_5_1 and carte_6_1 have a single year: their header has no year0/value0.
    columns = ["codgeo", "year0", "value0", "year1", "value1"] if "year0" in header else ["codgeo", "year1", "value1"]
    frame = read_delimited(raw, file, sep=",", columns=columns)
    return _tidy(frame, file, "codgeo", _pairs(columns), cget_id=cget_id, level=level, vintage=vintage)


def parse_histo(raw: bytes, file: str, cget_id: str) -> pd.DataFrame:
    """Région file of indicator ``cget_id``. The doubled apostrophe of some files
    (``Côte d''Azur``) is an escaping artefact and is undone."""
    columns = ["codreg", "libreg", "year0", "value0", "year1", "value1"]
    frame = read_delimited(raw, file, sep=",", columns=columns)
    frame["libreg"] = frame["libreg"].str.replace("''", "'", regex=False)
    return _tidy(frame, file, "codreg", _pairs(columns), cget_id=cget_id, level="region",
                 vintage="cog_2026", name_col="libreg")


def parse_baro(raw: bytes, file: str, france_code_of: dict[str, str]) -> pd.DataFrame:
    """National values. ``france_code_of`` maps a cget id (``1_1``) to the France perimeter the
    CGET's figure covers (catalogue ``cget_france_code``)."""
    columns = ["id", "year0", "value0", "year1", "value1"]
    frame = read_delimited(raw, file, sep=",", columns=columns)
    frame["cget_id"] = frame["id"].str.strip().map(lambda s: f"{s[0]}_{s[1:]}" if len(s) >= 2 else s)
    unknown = frame.loc[~frame["cget_id"].isin(france_code_of), "id"]
    if len(unknown):
        raise SourceFormatError(file, "id", "unknown indicator id", unknown.tolist())
    parts = []
    for cget_id, rows in frame.groupby("cget_id", sort=False):
        rows = rows.assign(code=france_code_of[cget_id])
        parts.append(_tidy(rows, file, "code", _pairs(columns), cget_id=cget_id, level="france",
                           vintage="cog_2026"))
    return pd.concat(parts, ignore_index=True)


def parse_topojson_names(raw: bytes, file: str, level: str, vintage: str) -> pd.DataFrame:
    """Territory names of a TopoJSON mesh (properties ``codgeo``, ``libgeo``)."""
    try:
        doc = json.loads(decode(raw, file))
        geoms = doc["objects"]["fr_wgs84_utf8"]["geometries"]
        rows = [(g["properties"]["codgeo"], g["properties"]["libgeo"]) for g in geoms]
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise SourceFormatError(file, None, f"not a TopoJSON mesh with object 'fr_wgs84_utf8' ({exc})") from None
    out = pd.DataFrame(rows, columns=["code", "name"], dtype="object")
    bad = invalid_codes(out["code"], level)
    if len(bad):
        raise SourceFormatError(file, "codgeo", f"invalid {level} code", bad.head(5).tolist())
    out.insert(0, "level", level)
    out.insert(1, "geography_vintage", vintage)
    return out


# ---------------------------------------------------------------------------------------------
# Registry (barometre/sources/registry.py): the two raw tables of the publication.


def read_values(store, catalogue) -> dict[str, pd.DataFrame]:
    """Every map, région and national file, in one table (levels and meshes from the catalogue's
    ``carte`` table, national perimeters from the indicators' ``cget_france_code``)."""
    carte = catalogue.source(SOURCE_ID).extra["carte"]
    france_code_of = {i.cget_id: i.cget_france_code for i in catalogue.indicators if i.cget_id}
    parts = []
    for path in store.glob(CARTE_FILES):
        cget_id = file_indicator(path, "carte", carte)
        if cget_id is None:  # not a file name of the publisher: a copy, reported by check source_folders
            continue
        spec = carte[cget_id]
        parts.append(parse_carte(store.read(path), path, cget_id, spec["level"], spec["geography_vintage"]))
    for path in store.glob(HISTO_FILES):
        cget_id = file_indicator(path, "histo", carte)
        if cget_id is not None:
            parts.append(parse_histo(store.read(path), path, cget_id))
    parts.append(parse_baro(store.read(BARO_FILE), BARO_FILE, france_code_of))
    return {VALUES_TABLE: pd.concat(parts, ignore_index=True)}


def read_territoires(store, catalogue) -> dict[str, pd.DataFrame]:
    return {TERRITOIRES_TABLE: pd.concat([
        parse_topojson_names(store.read(ZE_FILE), ZE_FILE, "zone_emploi", "ze_2010"),
        parse_topojson_names(store.read(EPCI_FILE), EPCI_FILE, "epci", "epci_2018"),
    ], ignore_index=True)}


PARSES = (
    SourceParse(SOURCE_ID, (CARTE_FILES, HISTO_FILES, BARO_FILE), read_values,
                (RawTable(VALUES_TABLE, SCHEMA, "CGET 2018 barometer values, one row per file × territory × period "
                                                "(map level, régions, France)."),),
                recorded_files=RECORDED_FILES),
    SourceParse(SOURCE_ID, (ZE_FILE, EPCI_FILE), read_territoires,
                (RawTable(TERRITOIRES_TABLE, TERRITOIRES_SCHEMA, "Names of the CGET 2018 meshes: zones d'emploi 2010 "
                                                             "and EPCI 2018 (TopoJSON properties), one row per "
                                                             "territory."),)),
)
