"""INSEE Filosofi by département, 2012–2021 (Régions Inégales compilation).

``income_poverty_filosofi.csv``: ``;``-separated, ``dep_code`` unquoted (read as a string so
``01`` and ``2A`` survive). ``q2_disp`` is the median disposable income per consumption unit
(niveau de vie médian, € per year), ``poverty_rate_disp`` the poverty rate at 60 % of the
median (%). INSEE publishes medians as whole euros (rounded to 10 € from 2017); the 2012–2016
rows carry non-integer averages computed upstream, which :func:`median_rejections` sets aside.
"""

from __future__ import annotations

import pandas as pd

from barometre.sources._csv import read_departement_panel
from barometre.sources._schema import Ordered, Quarantine, departement_panel

FILE = "departements_2012_2021/income_poverty_filosofi.csv"
SOURCE_ID = "insee_filosofi_departement"

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


SCHEMA = departement_panel(
    "filosofi_departement", SOURCE_ID, FILE, {c: _unit(c) for c in VALUE_COLUMNS}, years=range(2012, 2022),
    extra_text_columns=("dep_name",),
    ordered=tuple(Ordered(a, b) for a, b in (("d9_disp", "q3_disp"), ("q3_disp", "q2_disp"), ("q2_disp", "q1_disp"),
                                             ("q1_disp", "d1_disp"))),
    # The 2012–2016 medians of the compilation break it: they are quarantined by
    # median_rejections (core.filosofi_rejections → mart.rejected_rows), and the check warns.
    quarantine=(Quarantine("median_eur_integer", "q2_disp", r"^\d+(\.0)?$",
                           "a median in euros is a whole number as INSEE publishes it",
                           set_aside=lambda frame: median_rejections(frame, SOURCE_ID)),),
)


def parse(raw: bytes, file: str = FILE) -> pd.DataFrame:
    """One row per département × year, every published column typed."""
    return read_departement_panel(raw, file, VALUE_COLUMNS, extra_text_columns=("dep_name",))


def median_rejections(filosofi: pd.DataFrame, source_id: str) -> pd.DataFrame:
    """Rows of ``q2_disp`` that cannot be published as INSEE medians.

    Rule ``median_eur_integer``: a median in euros is a whole number as INSEE publishes it.
    Rule ``median_vintage_averaged``: the other rows of a year in which some rows break that
    rule come from the same upstream averaging and are set aside with them (a whole number can
    be an average too), so a year is published entirely or not at all.
    """
    q2 = filosofi["q2_disp"]
    non_integer = q2.notna() & (q2 % 1 != 0)
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
