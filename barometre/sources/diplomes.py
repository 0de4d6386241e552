"""INSEE census, share of higher-education graduates among non-schooled people aged 15+, by
département, for the observed census years 2011, 2016 and 2022 only.

The upstream ``education_panel_insee.csv`` is linearly interpolated between these years and is
deliberately not used.
"""

from __future__ import annotations

import pandas as pd

from barometre.sources._csv import read_departement_panel
from barometre.sources._schema import departement_panel
from barometre.sources.registry import single_table

SOURCE_ID = "insee_diplomes_rp"
TABLE = "insee_diplomes_rp_departement"
FILE = "departements_2012_2021/education_snapshots_insee.csv"

# Only the observed census years (the interpolated upstream panel is not used).
SCHEMA = departement_panel(TABLE, FILE,
                           {"edu_share_sup": ("%", "part_diplomes_superieur")}, years=(2011, 2016, 2022))


def parse(raw: bytes, file: str = FILE) -> pd.DataFrame:
    return read_departement_panel(raw, file, {"edu_share_sup": "float"})


PARSES = (single_table(SOURCE_ID, TABLE, FILE, parse, SCHEMA,
                       "Higher-education graduates share, one row per département × census year (2011, 2016, 2022)."),)
