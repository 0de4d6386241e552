"""Share of 15–24 year-olds neither in employment nor in education or training (NEET), census.

Four files ``neet_2008_2018/neet_<level>_2018.csv`` (``codgeo;libgeo;an;part_non_inseres``,
UTF-8 with BOM, CRLF, decimal comma): communes and EPCI for the censuses 2008, 2013, 2018;
départements and régions for 2007, 2008, 2012, 2013, 2017, 2018. Rates in %, without numerator
or denominator: no aggregation to another mesh is possible.

**Producer inferred, not stated**: the files come from ``aubryprieur/streamlit_data_territoire``,
which does not name their source; their layout is the Observatoire des territoires (ANCT) export
of INSEE's census indicator ``part_non_inseres`` (INSEE RP). Say so wherever the source is shown.

Geography: not stated in the files. The 1,254 EPCI codes are exactly the EPCI of the COG 2021
(``cog/2021/epci.json``: same set, none more, none less) and the 34,965 communes the count of
the COG 2021, so communes and EPCI are ``cog_2021``; départements and régions have today's codes
(``cog_2026``, as the project's other département and région rows). Empty rates (Mayotte, a few
small units) stay missing.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from barometre.geography import DEPARTEMENTS, GEOGRAPHY_VINTAGE_CURRENT, REGIONS, invalid_codes
from barometre.sources._csv import SourceFormatError, read_delimited, to_number
from barometre.sources._schema import Allowed, Codes, Coverage, CountRange, RawSchema, Values
from barometre.sources.registry import RawTable, SourceParse

SOURCE_ID = "neet_observatoire_territoires"
FOLDER = "neet_2008_2018"
FILES: dict[str, str] = {
    "commune": f"{FOLDER}/neet_communes_2018.csv",
    "epci": f"{FOLDER}/neet_epci_2018.csv",
    "departement": f"{FOLDER}/neet_dpt_2018.csv",
    "region": f"{FOLDER}/neet_region_2018.csv",
}
TABLES = {level: f"{SOURCE_ID}_{level}" for level in FILES}
HEADER = ["codgeo", "libgeo", "an", "part_non_inseres"]
COLUMNS = ["code", "name", "year", "geography_vintage", "part_neet"]
YEARS: dict[str, tuple[int, ...]] = {"commune": (2008, 2013, 2018), "epci": (2008, 2013, 2018),
                                     "departement": (2007, 2008, 2012, 2013, 2017, 2018),
                                     "region": (2007, 2008, 2012, 2013, 2017, 2018)}
VINTAGES = {"commune": "cog_2021", "epci": "cog_2021", "departement": GEOGRAPHY_VINTAGE_CURRENT,
            "region": GEOGRAPHY_VINTAGE_CURRENT}
PUBLISHED_LEVELS = ("epci", "departement", "region")


def parse(raw: bytes, file: str, level: str) -> pd.DataFrame:
    """One file → ``code``, ``name``, ``year``, ``geography_vintage``, ``part_neet`` (%)."""
    if level not in FILES:
        raise ValueError(f"unknown NEET level {level!r}")
    # The publisher's files end without a final newline: truncation cannot be told from the last
    # byte (docs/validation.md); the coverage of each year is checked by the declaration instead.
    frame = read_delimited(raw, file, sep=";", columns=HEADER, final_newline=False)
    frame["codgeo"] = frame["codgeo"].str.strip()
    bad = invalid_codes(frame["codgeo"], level)
    if len(bad):
        raise SourceFormatError(file, "codgeo", f"invalid {level} code (lost leading zero?)",
                                frame.loc[bad.index, ["codgeo", "libgeo", "an"]].head(5).values.tolist())
    years = to_number(frame, "an", file, integer=True, key=["codgeo"])
    if years.isna().any():
        raise SourceFormatError(file, "an", "missing year", frame.loc[years.isna(), ["codgeo"]].head(5).values.tolist())
    out = pd.DataFrame({"code": frame["codgeo"].astype("object"), "name": frame["libgeo"].str.strip(),
                        "year": years.astype("int64"), "geography_vintage": VINTAGES[level],
                        "part_neet": to_number(frame, "part_non_inseres", file, decimal=",", key=["codgeo", "an"])})
    unexpected = out[~out["year"].isin(YEARS[level])]
    if len(unexpected):
        raise SourceFormatError(file, "an", f"a year of this file is one of {list(YEARS[level])}",
                                unexpected[["code", "year"]].head(5).values.tolist())
    dup = out.duplicated(["code", "year"], keep=False)
    if dup.any():
        raise SourceFormatError(file, "codgeo", "duplicated (code, year)",
                                out.loc[dup, ["code", "year"]].head(5).values.tolist())
    return out


def parse_all(raws: Mapping[str, bytes]) -> dict[str, pd.DataFrame]:
    """``{snapshot path: bytes}`` of :data:`FILES` → ``{table: frame}`` (:data:`TABLES`)."""
    level_of = {path: level for level, path in FILES.items()}
    unknown = sorted(set(raws) - set(level_of))
    if unknown:
        raise SourceFormatError(unknown[0], None, f"not one of the NEET files {sorted(level_of)}")
    return {TABLES[level_of[path]]: parse(raw, path, level_of[path]) for path, raw in raws.items()}


def _schema(level: str, codes: Codes, coverage, indicator: str | None) -> RawSchema:
    return RawSchema(
        table=TABLES[level], files=FILES[level],
        columns={"code": "text", "name": "text", "year": "int", "geography_vintage": "text", "part_neet": "float"},
        key=("code", "year"), period="year", periods=YEARS[level], required=("name",),
        codes=(codes,), coverage=coverage,
        values=(Values("part_neet", "%", indicator),),
        allowed=(Allowed("geography_vintage", (VINTAGES[level],)),),
        examples=("code", "year"),
    )


# Bounds checked on the snapshot (min–max of 2007–2018): communes 0–100 (a commune has few
# 15–24 year-olds: 0 in 01006 and 100 in 89377, 2008; not published, unit domain only), EPCI
# 4.4 (247400682, 2008) – 69.4 (249730052, 2008, Guyane), départements 8.2 (75, 2007) – 38.5
# (973, 2018), régions 10.4 (53, 2007) – 38.5 (03, 2018): within part_neet_15_24's 0–80.
SCHEMAS: dict[str, RawSchema] = {
    TABLES["commune"]: _schema("commune", Codes("code", "commune"),
                               (CountRange("code", 34_965, 34_965, "communes per census", by=("year",)),), None),
    TABLES["epci"]: _schema("epci", Codes("code", "epci"),
                            (CountRange("code", 1_254, 1_254, "EPCI of the COG 2021 per census", by=("year",)),),
                            "part_neet_15_24"),
    TABLES["departement"]: _schema("departement", Codes("code", "departement", DEPARTEMENTS, "the 101 départements"),
                                   (Coverage("code", DEPARTEMENTS, "the 101 départements", by=("year",)),),
                                   "part_neet_15_24"),
    TABLES["region"]: _schema("region", Codes("code", "region", REGIONS, "the 18 régions of the COG"),
                              (Coverage("code", REGIONS, "the 18 régions", by=("year",)),), "part_neet_15_24"),
}


def values(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """``part_neet_15_24`` at EPCI, département and région as published (``derived`` False); the
    commune file stays in the raw layer. Empty rates stay missing (the marts report them)."""
    from barometre.indicators import VALUE_COLUMNS as OUT  # lazy: barometre.indicators may import this module

    parts = []
    for level in PUBLISHED_LEVELS:
        t = tables[TABLES[level]]
        parts.append(pd.DataFrame({
            "indicator_id": "part_neet_15_24", "level": level, "code": t["code"],
            "geography_vintage": t["geography_vintage"], "period": t["year"].astype(str),
            "period_start": t["year"], "period_end": t["year"], "value": t["part_neet"].astype("float64"),
            "numerator": np.nan, "denominator": np.nan, "source_id": SOURCE_ID, "derived": False}))
    return pd.concat(parts, ignore_index=True)[OUT].sort_values(["level", "code", "period_start"], ignore_index=True)


# ---------------------------------------------------------------------------------------------
# Registry (barometre/sources/registry.py)


def read_files(store, catalogue) -> dict[str, pd.DataFrame]:
    """The four files → one raw table per level (:data:`TABLES`)."""
    return parse_all({path: store.read(path) for path in FILES.values()})


PARSES = (
    SourceParse(SOURCE_ID, tuple(FILES.values()), read_files, tuple(
        RawTable(TABLES[level], SCHEMAS[TABLES[level]],
                 f"Share of 15–24 year-olds NEET (census {', '.join(map(str, YEARS[level]))}), {level} "
                 "(producer inferred: Observatoire des territoires export of INSEE RP).")
        for level in FILES)),
)
