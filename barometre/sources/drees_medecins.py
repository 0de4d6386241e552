"""DREES active doctors (RPPS, all specialties) at 1 January by département, 2012–2021:
``n_doctors`` (count) and ``doctor_density_per_100k`` as published."""

from __future__ import annotations

import pandas as pd

from barometre.sources._csv import read_departement_panel

FILE = "departements_2012_2021/doctor_density_drees.csv"


def parse(raw: bytes, file: str = FILE) -> pd.DataFrame:
    return read_departement_panel(raw, file, {"doctor_density_per_100k": "float", "n_doctors": "int"})
