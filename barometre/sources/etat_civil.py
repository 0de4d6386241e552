"""INSEE civil registration by département, 2012–2021: live births (place of residence) and
deaths. Both files write ``dep_code`` unquoted; it is read as a string."""

from __future__ import annotations

import pandas as pd

from barometre.sources._csv import read_departement_panel
from barometre.sources._schema import departement_panel

BIRTHS_FILE = "departements_2012_2021/births_insee.csv"
DEATHS_FILE = "departements_2012_2021/deaths_insee.csv"

BIRTHS_SCHEMA = departement_panel("naissances_departement", BIRTHS_FILE, {"live_births": "count"},
                                  years=range(2012, 2022))
DEATHS_SCHEMA = departement_panel("deces_departement", DEATHS_FILE, {"deaths": "count"},
                                  years=range(2012, 2022))


def parse_births(raw: bytes, file: str = BIRTHS_FILE) -> pd.DataFrame:
    return read_departement_panel(raw, file, {"live_births": "int"})


def parse_deaths(raw: bytes, file: str = DEATHS_FILE) -> pd.DataFrame:
    return read_departement_panel(raw, file, {"deaths": "int"})
