"""DREES active doctors (RPPS, all specialties) at 1 January by département, 2012–2021:
``n_doctors`` (count) and ``doctor_density_per_100k`` as published."""

from __future__ import annotations

import pandas as pd

from barometre.sources._csv import read_departement_panel
from barometre.sources._schema import departement_panel

FILE = "departements_2012_2021/doctor_density_drees.csv"

SCHEMA = departement_panel("medecins_departement", FILE,
                           {"doctor_density_per_100k": ("/100k", "medecins_pour_100k"), "n_doctors": "count"},
                           years=range(2012, 2022),
                           # real values: median 1 428–1 549 doctors a year; largest factor between
                           # consecutive years 1.136 (Haute-Loire 2017)
                           medians={"n_doctors": (710, 3_100)}, max_jump={"n_doctors": 2})


def parse(raw: bytes, file: str = FILE) -> pd.DataFrame:
    return read_departement_panel(raw, file, {"doctor_density_per_100k": "float", "n_doctors": "int"})
