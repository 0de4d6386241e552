"""DREES active doctors (RPPS, all specialties) at 1 January by département, 2012–2021:
``n_doctors`` (count) and ``doctor_density_per_100k`` as published."""

from __future__ import annotations

import pandas as pd

from barometre.sources._csv import read_departement_panel
from barometre.sources._schema import Identity, departement_panel
from barometre.sources.registry import single_table

SOURCE_ID = "drees_medecins"
TABLE = "drees_medecins_departement"
FILE = "departements_2012_2021/doctor_density_drees.csv"


def density_gap(frame: pd.DataFrame, tables) -> pd.Series:
    """Relative gap between the published density and n_doctors / pop_jan1 × 100 000 (INSEE
    population of the same département and year, raw.insee_estimations_population_departement)."""
    pop = tables["insee_estimations_population_departement"][["code_departement", "year", "pop_jan1"]]
    merged = frame[["code_departement", "year", "n_doctors", "doctor_density_per_100k"]].merge(
        pop, on=["code_departement", "year"], how="left")
    expected = merged["n_doctors"].astype("float64") / merged["pop_jan1"].astype("float64") * 100_000
    return ((expected / merged["doctor_density_per_100k"].astype("float64")) - 1).abs()


SCHEMA = departement_panel(TABLE, FILE,
                           {"doctor_density_per_100k": ("/100k", "medecins_pour_100k"), "n_doctors": "count"},
                           years=range(2012, 2022),
                           # real values: median 1 428–1 549 doctors a year; largest factor between
                           # consecutive years 1.136 (Haute-Loire 2017)
                           medians={"n_doctors": (710, 3_100)}, max_jump={"n_doctors": 2},
                           # the density is n_doctors per 100 000 inhabitants of the INSEE estimates
                           # (real gap at most 2.5e-5: the density is rounded to 2 decimals)
                           identities=(Identity("doctor_density_per_100k", "the density equals n_doctors / pop_jan1 "
                                                "× 100 000 (raw.insee_estimations_population_departement), relative gap",
                                                density_gap, 1e-4, ("n_doctors", "doctor_density_per_100k"),
                                                ("insee_estimations_population_departement",)),))


def parse(raw: bytes, file: str = FILE) -> pd.DataFrame:
    return read_departement_panel(raw, file, {"doctor_density_per_100k": "float", "n_doctors": "int"})


PARSES = (single_table(SOURCE_ID, TABLE, FILE, parse, SCHEMA,
                       "Active doctors and density per 100 000, one row per département × year."),)
