"""DREES active doctors (RPPS, all specialties) at 1 January by département, 2012–2021:
``n_doctors`` (count) and ``doctor_density_per_100k`` as published."""

from __future__ import annotations

import pandas as pd

from barometre.sources._csv import read_departement_panel
from barometre.sources._schema import departement_panel
from barometre.sources.registry import single_table

SOURCE_ID = "drees_medecins"
TABLE = "drees_medecins_departement"
FILE = "departements_2012_2021/doctor_density_drees.csv"

SCHEMA = departement_panel(TABLE, FILE,
                           {"doctor_density_per_100k": ("/100k", "medecins_pour_100k"), "n_doctors": "count"},
                           years=range(2012, 2022))


def parse(raw: bytes, file: str = FILE) -> pd.DataFrame:
    return read_departement_panel(raw, file, {"doctor_density_per_100k": "float", "n_doctors": "int"})


PARSES = (single_table(SOURCE_ID, TABLE, FILE, parse, SCHEMA,
                       "Active doctors and density per 100 000, one row per département × year."),)
