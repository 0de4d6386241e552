"""INSEE localised ILO unemployment rate by département, annual means 2012–2021.

``unemployment_insee.csv``: ``unemployment_rate`` (%, mean of the four seasonally adjusted
quarterly rates, rounded to 0.1) and ``unemployment_rate_raw`` (unrounded mean).
"""

from __future__ import annotations

import pandas as pd

from barometre.sources._csv import read_departement_panel
from barometre.sources._schema import departement_panel

FILE = "departements_2012_2021/unemployment_insee.csv"

SCHEMA = departement_panel("chomage_departement", "insee_chomage_localise", FILE,
                           {"unemployment_rate": ("%", "taux_chomage"), "unemployment_rate_raw": ("%", "taux_chomage")},
                           years=range(2012, 2022))


def parse(raw: bytes, file: str = FILE) -> pd.DataFrame:
    return read_departement_panel(raw, file, {"unemployment_rate": "float", "unemployment_rate_raw": "float"})
