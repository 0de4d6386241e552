"""INSEE localised ILO unemployment rate by département, annual means 2012–2021.

``unemployment_insee.csv``: ``unemployment_rate`` (%, mean of the four seasonally adjusted
quarterly rates, rounded to 0.1) and ``unemployment_rate_raw`` (unrounded mean).

Live, the same rates come from INSEE's BDM as quarterly series (SDMX dataflow ``TAUX-CHOMAGE``):
:func:`parse_bdm_sdmx` computes the annual mean the way the compilation did, and only for years
whose four quarters are all published.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from barometre.geography import invalid_codes
from barometre.sources import _sdmx
from barometre.sources._csv import SourceFormatError, read_departement_panel
from barometre.sources._schema import departement_panel
from barometre.sources.registry import single_table

SOURCE_ID = "insee_chomage_localise"
TABLE = "insee_chomage_localise_departement"
FILE = "departements_2012_2021/unemployment_insee.csv"
COLUMNS = ["code_departement", "year", "unemployment_rate", "unemployment_rate_raw"]

SCHEMA = departement_panel(TABLE, FILE,
                           {"unemployment_rate": ("%", "taux_chomage"), "unemployment_rate_raw": ("%", "taux_chomage")},
                           years=range(2012, 2022))


def parse(raw: bytes, file: str = FILE) -> pd.DataFrame:
    return read_departement_panel(raw, file, {"unemployment_rate": "float", "unemployment_rate_raw": "float"})


def annual_means(quarterly: pd.DataFrame) -> pd.DataFrame:
    """``code``, ``year``, ``quarter`` (1–4), ``value`` → one row per code and *complete* year:
    ``unemployment_rate_raw`` the mean of the four quarters, ``unemployment_rate`` that mean
    rounded to 0.1 (NumPy rounding, as the compilation's pandas code). A year with a missing or
    unpublished quarter gives no row: nothing is filled."""
    q = quarterly.dropna(subset=["value"]).sort_values(["code", "year", "quarter"])
    counts = q.groupby(["code", "year"])["quarter"].nunique()
    complete = counts[counts == 4].index
    q = q.set_index(["code", "year"]).loc[complete].reset_index()
    raw = q.groupby(["code", "year"], sort=True)["value"].mean()
    return pd.DataFrame({
        "code_departement": raw.index.get_level_values("code").astype("object"),
        "year": raw.index.get_level_values("year").astype("int64"),
        "unemployment_rate": np.round(raw.to_numpy(dtype="float64"), 1),
        "unemployment_rate_raw": raw.to_numpy(dtype="float64"),
    })


def parse_bdm_sdmx(raw: bytes, file: str = FILE) -> pd.DataFrame:
    """The same tidy frame as :func:`parse`, from the BDM's SDMX-ML ``TAUX-CHOMAGE`` dataflow.

    Keeps the département series (``REF_AREA`` ``D01`` … ``D95``, ``D2A``, ``D2B``, ``D971`` …), which
    must be quarterly (``FREQ`` ``T``, periods ``YYYY-Qn``); régions and France are left out.
    """
    obs = _sdmx.observations(raw, file)
    if "REF_AREA" not in obs:
        raise SourceFormatError(file, "REF_AREA", "series without REF_AREA")
    deps = obs[obs["REF_AREA"].fillna("").str.match(r"^D[0-9AB]")].copy()
    if deps.empty:
        raise SourceFormatError(file, "REF_AREA", "no département series (REF_AREA 'D<code>')",
                                sorted(set(obs["REF_AREA"].dropna()))[:5])
    deps["code"] = deps["REF_AREA"].str[1:]
    bad = invalid_codes(deps["code"], "departement")
    if len(bad):
        raise SourceFormatError(file, "REF_AREA", "invalid département code", sorted(set(bad))[:5])
    freq = deps.get("FREQ", pd.Series("T", index=deps.index)).fillna("T")
    period = deps["TIME_PERIOD"].fillna("").str.extract(r"^(\d{4})-Q([1-4])$")
    wrong = (freq != "T") | period[0].isna()
    if wrong.any():
        raise SourceFormatError(file, "TIME_PERIOD", "expected quarterly series (FREQ 'T', periods 'YYYY-Qn')",
                                deps.loc[wrong, ["REF_AREA", "TIME_PERIOD"]].head(5).values.tolist())
    deps["year"] = period[0].astype("int64")
    deps["quarter"] = period[1].astype("int64")
    dup = deps.duplicated(["code", "year", "quarter"], keep=False)
    if dup.any():
        raise SourceFormatError(file, "TIME_PERIOD", "duplicated (département, quarter)",
                                deps.loc[dup, ["REF_AREA", "TIME_PERIOD"]].head(5).values.tolist())
    out = annual_means(deps.rename(columns={"OBS_VALUE": "value"})[["code", "year", "quarter", "value"]])
    if out.empty:
        raise SourceFormatError(file, "TIME_PERIOD", "no département has the four quarters of any year")
    return out[COLUMNS]


PARSES = (single_table(SOURCE_ID, TABLE, FILE, parse, SCHEMA, "Localised unemployment rate, one row per département × year."),)
