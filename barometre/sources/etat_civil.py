"""INSEE civil registration by département, 2012–2021: live births (place of residence) and
deaths. Both files write ``dep_code`` unquoted; it is read as a string."""

from __future__ import annotations

import pandas as pd

from barometre.sources._csv import read_departement_panel
from barometre.sources._schema import departement_panel
from barometre.sources.registry import single_table

BIRTHS_SOURCE_ID, DEATHS_SOURCE_ID = "insee_naissances", "insee_deces"
BIRTHS_TABLE, DEATHS_TABLE = "insee_naissances_departement", "insee_deces_departement"
BIRTHS_FILE = "departements_2012_2021/births_insee.csv"
DEATHS_FILE = "departements_2012_2021/deaths_insee.csv"

# Scale and shape (real values of the snapshot): births, median 5 123.5–5 914 a year, largest
# factor between consecutive years 1.15 (Lozère 2021); deaths, median 5 037–6 038, 1.24
# (Seine-Saint-Denis 2020, the first Covid year).
BIRTHS_SCHEMA = departement_panel(BIRTHS_TABLE, BIRTHS_FILE, {"live_births": "count"},
                                  years=range(2012, 2022), medians={"live_births": (2_500, 12_000)},
                                  max_jump={"live_births": 2})
DEATHS_SCHEMA = departement_panel(DEATHS_TABLE, DEATHS_FILE, {"deaths": "count"},
                                  years=range(2012, 2022), medians={"deaths": (2_500, 13_000)},
                                  max_jump={"deaths": 2})


def parse_births(raw: bytes, file: str = BIRTHS_FILE) -> pd.DataFrame:
    return read_departement_panel(raw, file, {"live_births": "int"})


def parse_deaths(raw: bytes, file: str = DEATHS_FILE) -> pd.DataFrame:
    return read_departement_panel(raw, file, {"deaths": "int"})


PARSES = (
    single_table(BIRTHS_SOURCE_ID, BIRTHS_TABLE, BIRTHS_FILE, parse_births, BIRTHS_SCHEMA,
                 "Live births (place of residence), one row per département × year."),
    single_table(DEATHS_SOURCE_ID, DEATHS_TABLE, DEATHS_FILE, parse_deaths, DEATHS_SCHEMA,
                 "Deaths, one row per département × year."),
)
