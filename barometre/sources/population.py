"""INSEE population estimates at 1 January by département, 2012–2021 (``pop_jan1``)."""

from __future__ import annotations

import pandas as pd

from barometre.sources._csv import read_departement_panel
from barometre.sources._schema import departement_panel
from barometre.sources.registry import single_table

SOURCE_ID = "insee_estimations_population"
TABLE = "insee_estimations_population_departement"
FILE = "departements_2012_2021/population_insee.csv"

# Scale and shape (real values of the snapshot: median 535 975–541 300 a year; largest factor
# between two consecutive years 1.026, Corse-du-Sud 2013).
SCHEMA = departement_panel(TABLE, FILE, {"pop_jan1": "count"},
                           years=range(2012, 2022), medians={"pop_jan1": (260_000, 1_100_000)},
                           max_jump={"pop_jan1": 2})


def parse(raw: bytes, file: str = FILE) -> pd.DataFrame:
    return read_departement_panel(raw, file, {"pop_jan1": "int"})


PARSES = (single_table(SOURCE_ID, TABLE, FILE, parse, SCHEMA, "Population at 1 January, one row per département × year."),)
