"""INSEE Filosofi by département, 2012–2021 (Régions Inégales compilation).

``income_poverty_filosofi.csv``: ``;``-separated, ``dep_code`` unquoted (read as a string so
``01`` and ``2A`` survive). ``q2_disp`` is the median disposable income per consumption unit
(niveau de vie médian, € per year), ``poverty_rate_disp`` the poverty rate at 60 % of the
median (%). INSEE publishes medians as whole euros (rounded to 10 € from 2017); the 2012–2016
rows carry non-integer averages computed upstream, which :func:`median_rejections` sets aside.
"""

from __future__ import annotations

import pandas as pd

from barometre.geography import invalid_codes
from barometre.sources import _melodi
from barometre.sources._csv import SourceFormatError, read_departement_panel
from barometre.sources._schema import Identity, Ordered, Quarantine, departement_panel
from barometre.sources.registry import single_table

FILE = "departements_2012_2021/income_poverty_filosofi.csv"
SOURCE_ID = "insee_filosofi_departement"
# A median in whole euros, as its value reads as text: the quarantine rule's check and
# median_rejections both apply it (GX reads a column as text the same way).
WHOLE_EUROS = r"^\d+(?:\.0)?$"

_QUANTILES = ["q1", "q2", "q3", "d1", "d9", "gini", "s80s20", "d9_d1"]
VALUE_COLUMNS: dict[str, str] = {
    "n_households": "float", "n_persons": "float", "n_uc": "float",
    **{f"{q}_dec": "float" for q in _QUANTILES},
    **{f"{q}_disp": "float" for q in _QUANTILES},
    "poverty_rate_disp": "float", "poverty_rate_dec": "float",
    "pct_wages": "float", "pct_unemployment": "float", "pct_capital_gains": "float",
    "pct_pensions": "float", "pct_other": "float",
}


def _unit(column: str) -> str | tuple[str, str]:
    """Unit of a Filosofi column (and the indicator it carries, for its plausible bounds)."""
    if column == "q2_disp":
        return ("€", "revenu_median_uc")
    if column == "poverty_rate_disp":
        return ("%", "taux_pauvrete")
    if column.startswith("n_"):
        return "quantity"  # households, persons, consumption units (fractional)
    if column.startswith("gini"):
        return "index_0_1"
    if column.startswith(("s80s20", "d9_d1")):
        return "ratio_ge_1"
    if column.startswith(("pct_", "poverty_rate")):
        return "%"
    return "€"  # quartiles and deciles of income


# Scale and shape of the columns that carry no catalogue indicator: the typical range of a
# year's median (the real medians of the snapshot ÷ 2 and × 2, real range in the comment) and
# the largest factor between consecutive years (real largest factor 1.04–1.21, so 2; pct_other,
# a small share, jumps 3.15× in Moselle 2013: 5).
MEDIANS: dict[str, tuple[float, float]] = {
    "n_households": (110_000, 470_000),  # real 223 798–233 724
    "n_persons": (250_000, 1_100_000),  # real 510 676–526 110
    "n_uc": (170_000, 720_000),  # real 352 099–356 324
    "q1_dec": (6_400, 31_000),  # real 12 887–15 140
    "q2_dec": (9_400, 44_000),  # real 18 824–21 935
    "q3_dec": (12_000, 60_000),  # real 25 820–29 655
    "d1_dec": (3_700, 17_000),  # real 7 570–8 325
    "d9_dec": (17_000, 81_000),  # real 35 353–40 115
    "gini_dec": (0.16, 0.67),  # real 0.329–0.334
    "s80s20_dec": (3.2, 14),  # real 6.43–6.75
    "d9_d1_dec": (2.3, 11),  # real 4.76–5.1
    "q1_disp": (7_100, 34_000),  # real 14 386.5–16 690
    "q3_disp": (12_000, 58_000),  # real 25 175–28 610
    "d1_disp": (5_300, 25_000),  # real 10 670–12 220
    "d9_disp": (16_000, 74_000),  # real 33 620–36 995
    "gini_disp": (0.12, 0.55),  # real 0.256–0.271
    "s80s20_disp": (1.8, 8),  # real 3.7–3.95
    "d9_d1_disp": (1.5, 6.4),  # real 3–3.19
    "poverty_rate_dec": (10, 44),  # real 21.15–21.55
    "pct_wages": (27, 120),  # real 54.25–55.7
    "pct_unemployment": (1.3, 6.2),  # real 2.7–3.1
    "pct_capital_gains": (2.5, 13),  # real 5–6.2
    "pct_pensions": (14, 62),  # real 28.2–30.7
    "pct_other": (2.5, 12),  # real 5–5.95
}
MAX_JUMP: dict[str, float] = {c: 5 if c == "pct_other" else 2 for c in MEDIANS}
# The shares of disposable income by origin sum to 100 (each rounded to 0.1: the real sums lie
# within 99.9–100.1).
SHARES = ("pct_wages", "pct_unemployment", "pct_capital_gains", "pct_pensions", "pct_other")
SHARES_SUM = Identity("pct_wages", "the income shares pct_wages … pct_other sum to 100, absolute gap",
                      lambda frame, tables: (frame[list(SHARES)].astype("float64").sum(axis=1, min_count=len(SHARES))
                                             - 100).abs(), 0.3, SHARES)

SCHEMA = departement_panel(
    SOURCE_ID, FILE, {c: _unit(c) for c in VALUE_COLUMNS}, years=range(2012, 2022),
    medians=MEDIANS, max_jump=MAX_JUMP, identities=(SHARES_SUM,),
    extra_text_columns=("dep_name",),
    ordered=tuple(Ordered(a, b) for a, b in (("d9_disp", "q3_disp"), ("q3_disp", "q2_disp"), ("q2_disp", "q1_disp"),
                                             ("q1_disp", "d1_disp"))),
    # The 2012–2016 medians of the compilation break it: they are quarantined by
    # median_rejections (core.insee_filosofi_departement_rejets → mart.rejected_rows), and the check warns.
    quarantine=(Quarantine("median_eur_integer", "q2_disp", WHOLE_EUROS,
                           "a median in euros is a whole number as INSEE publishes it",
                           set_aside=lambda frame: median_rejections(frame, SOURCE_ID)),),
)


def parse(raw: bytes, file: str = FILE) -> pd.DataFrame:
    """One row per département × year, every published column typed."""
    return read_departement_panel(raw, file, VALUE_COLUMNS, extra_text_columns=("dep_name",))


# INSEE Melodi data set DS_FILOSOFI_CC: FILOSOFI_MEASURE → column of the tidy frame. Only measures
# of the same concept as the compilation's column: the "_SL" (standard of living = disposable
# income per consumption unit) quantiles are its ``*_disp`` columns, PR_MD60 its
# ``poverty_rate_disp``. The compilation's ``*_dec`` (declared income) and ``pct_*`` (shares of
# declared income) columns have no Melodi counterpart here (Melodi's S_*_DI shares are of
# disposable income, another concept): they stay missing, never filled.
MELODI_MEASURES = {
    "NUM_HH": "n_households", "NUM_PER": "n_persons", "NUM_CU": "n_uc",
    "Q1_SL": "q1_disp", "MED_SL": "q2_disp", "Q3_SL": "q3_disp", "D1_SL": "d1_disp", "D9_SL": "d9_disp",
    "GI_SL": "gini_disp", "S80S20_SL": "s80s20_disp", "IR_D9_D1_SL": "d9_d1_disp",
    "PR_MD60": "poverty_rate_disp",
}


def parse_melodi(raw: bytes, file: str = FILE) -> pd.DataFrame:
    """The same tidy frame as :func:`parse`, from a Melodi ``DS_FILOSOFI_CC`` response.

    Only département observations (``GEO`` ``…-DEP-<code>``) of the measures in
    :data:`MELODI_MEASURES` are kept; ``dep_name`` is missing (Melodi data carry codes only).
    """
    obs = _melodi.observations(raw, file, "FILOSOFI_MEASURE")
    obs = obs[(obs["level"] == "DEP") & obs["measure"].isin(MELODI_MEASURES)]
    if obs.empty:
        raise SourceFormatError(file, "GEO", f"no département observation of {sorted(MELODI_MEASURES)}")
    bad = invalid_codes(obs["code"], "departement")
    if len(bad):
        raise SourceFormatError(file, "GEO", "invalid département code", bad.head(5).tolist())
    years = pd.to_numeric(obs["time_period"], errors="coerce")
    if years.isna().any() or (years % 1 != 0).any():
        raise SourceFormatError(file, "TIME_PERIOD", "not a year", obs.loc[years.isna(), "time_period"].head(5).tolist())
    obs = obs.assign(year=years.astype("int64"), column=obs["measure"].map(MELODI_MEASURES))
    dup = obs.duplicated(["code", "year", "column"], keep=False)
    if dup.any():
        raise SourceFormatError(file, "FILOSOFI_MEASURE", "several values for one (département, year, measure) "
                                "(another unit or breakdown?)", obs.loc[dup, ["code", "year", "measure"]].head(5).values.tolist())
    wide = obs.pivot(index=["code", "year"], columns="column", values="value").reset_index()
    out = pd.DataFrame({"code_departement": wide["code"].astype("object"), "year": wide["year"].astype("int64"),
                        "dep_name": pd.Series([None] * len(wide), dtype="object")})
    for col in VALUE_COLUMNS:
        out[col] = (wide[col] if col in wide else pd.Series(float("nan"), index=wide.index)).astype("float64")
    return out.sort_values(["code_departement", "year"], kind="stable").reset_index(drop=True)


def median_rejections(filosofi: pd.DataFrame, source_id: str) -> pd.DataFrame:
    """Rows of ``q2_disp`` that cannot be published as INSEE medians.

    Rule ``median_eur_integer``: a median in euros is a whole number as INSEE publishes it.
    Rule ``median_vintage_averaged``: the other rows of a year in which some rows break that
    rule come from the same upstream averaging and are set aside with them (a whole number can
    be an average too), so a year is published entirely or not at all.
    """
    q2 = filosofi["q2_disp"]
    non_integer = q2.notna() & ~q2.astype(str).str.contains(WHOLE_EUROS)
    bad_years = set(filosofi.loc[non_integer, "year"])
    averaged = filosofi["year"].isin(bad_years) & ~non_integer
    out = []
    for mask, rule in ((non_integer, "median_eur_integer"), (averaged, "median_vintage_averaged")):
        rows = filosofi[mask]
        out.append(pd.DataFrame({
            "source_id": source_id, "rule": rule, "code": rows["code_departement"],
            "period": rows["year"].astype(str), "column": "q2_disp", "value": rows["q2_disp"].astype(str),
        }))
    return pd.concat(out, ignore_index=True)


PARSES = (single_table(SOURCE_ID, SOURCE_ID, FILE, parse, SCHEMA,
                       "Filosofi income and poverty, one row per département × year, every published column."),)
