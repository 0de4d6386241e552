"""``mart.convergence.verdict`` and ``is_headline``, computed once by barometre/cohesion.py, on the
values the pipeline publishes, read here from the raw snapshot files with the sources' parsers."""

import pandas as pd
import pytest

from barometre import cohesion
from barometre.sources import drees_medecins, filosofi
from tests.conftest import SNAPSHOT


def _departements(indicator_id: str, frame: pd.DataFrame, column: str, source_id: str) -> pd.DataFrame:
    """Reference rows of level département, one period per year, from a département panel."""
    rows = frame.dropna(subset=[column])
    return pd.DataFrame({
        "indicator_id": indicator_id, "level": "departement", "code": rows["code_departement"],
        "geography_vintage": "cog_2026", "period": rows["year"].astype(str), "period_start": rows["year"],
        "period_end": rows["year"], "value": rows[column].astype(float), "source_id": source_id,
        "is_metropolitan": pd.array(~rows["code_departement"].str.startswith("97"), dtype="boolean"),
    }).reset_index(drop=True)


def _headlines(conv: pd.DataFrame) -> pd.DataFrame:
    return conv[conv["is_headline"]].set_index("scope")


def test_doctors_by_departement_diverge_2012_2021(catalogue):
    raw = drees_medecins.parse((SNAPSHOT / drees_medecins.FILE).read_bytes())
    ref = _departements("medecins_pour_100k", raw, "doctor_density_per_100k", "drees_medecins")
    conv = cohesion.convergence(ref, catalogue)
    head = _headlines(conv)
    # one headline per scope: the long run of the only series, first → last
    assert sorted(head.index) == ["all", "metro"]
    row = head.loc["all"]
    assert (row["period_from"], row["period_to"], row["comparison"], row["n_common"]) == ("2012", "2021", "first_last", 96)
    assert (round(row["cv_from"], 3), round(row["cv_to"], 3)) == (0.268, 0.307)
    assert row["beta"] > 0 and not row["sigma_convergence"] and not row["beta_convergence"]
    assert row["verdict"] == "diverging"
    # every comparison has a verdict, and exactly one per scope is the headline
    assert conv["verdict"].notna().all() and conv.groupby("scope")["is_headline"].sum().tolist() == [1, 1]


def test_income_by_departement_converges_2017_2021(catalogue):
    raw = filosofi.parse((SNAPSHOT / filosofi.FILE).read_bytes())
    # 2012–2016 medians are set aside by the parser's rule (not whole euros), as in the pipeline
    rejected = filosofi.median_rejections(raw, filosofi.SOURCE_ID)
    kept = raw[~raw["year"].astype(str).isin(set(rejected["period"]))]
    ref = _departements("revenu_median_uc", kept, "q2_disp", filosofi.SOURCE_ID)
    row = _headlines(cohesion.convergence(ref, catalogue)).loc["all"]
    assert (row["period_from"], row["period_to"], row["comparison"], row["change_kind"]) == (
        "2017", "2021", "first_last", "log_growth")
    assert (round(row["cv_from"], 3), round(row["cv_to"], 3)) == (0.077, 0.075)
    assert row["beta"] == pytest.approx(-0.77, abs=0.005) and row["beta_pvalue"] == pytest.approx(0.0055, abs=5e-5)
    assert row["verdict"] == "converging"


@pytest.mark.parametrize("sigma, beta, verdict", [
    (True, True, "converging"), (True, False, "sigma_converging"), (True, None, "sigma_converging"),
    (False, True, "catching_up"), (None, True, "catching_up"), (False, False, "diverging"),
    (False, None, "diverging"), (None, False, "no_convergence"), (None, None, "not_measurable"),
])
def test_verdict_of_every_sigma_and_beta(sigma, beta, verdict):
    assert cohesion.verdict(pd.NA if sigma is None else sigma, pd.NA if beta is None else beta) == verdict
    assert verdict in cohesion.VERDICTS


def _pair(source, p0, p1, comparison, n, years, vintage="cog_2026", scope="all"):
    start = lambda p: int(p[:4])  # noqa: E731
    return {"indicator_id": "croissance_population_annuelle", "level": "departement", "scope": scope,
            "geography_vintage": vintage, "source_id": source, "period_from": p0, "period_to": p1,
            "comparison": comparison, "n_common": n, "years": years, "_from_start": start(p0),
            "_to_start": start(p1), "_to_end": int(p1[-4:])}


def test_headline_is_the_long_run_of_the_series_over_the_most_territories(catalogue):
    # croissance_population_annuelle by département on the snapshot (scope all): INSEE's estimates
    # (96 metropolitan départements, 2012-2013 … 2020-2021) and the COG populations légales, whose
    # pair 2020-2022 → 2022-2023 has 100 départements but whose long run, 2019-2020 → 2022-2023,
    # only the 4 DROM.
    conv = pd.DataFrame([
        _pair("insee_estimations_population", "2012-2013", "2013-2014", "consecutive", 96, 1.0),
        _pair("insee_estimations_population", "2019-2020", "2020-2021", "consecutive", 96, 1.0),
        _pair("insee_estimations_population", "2012-2013", "2020-2021", "first_last", 96, 8.0),
        _pair("etalab_decoupage_administratif", "2019-2020", "2020-2022", "consecutive", 4, 1.5),
        _pair("etalab_decoupage_administratif", "2020-2022", "2022-2023", "consecutive", 100, 1.5),
        _pair("etalab_decoupage_administratif", "2019-2020", "2022-2023", "first_last", 4, 3.0),
        # scope metro: 96 départements in both series; the longer comparison wins the tie
        _pair("insee_estimations_population", "2012-2013", "2020-2021", "first_last", 96, 8.0, scope="metro"),
        _pair("etalab_decoupage_administratif", "2020-2022", "2022-2023", "consecutive", 96, 1.5, scope="metro"),
    ])
    flag = cohesion.headline_comparisons(conv, catalogue)
    assert flag[flag].index.tolist() == [2, 6]
    # a series of two periods: its only (latest) pair is its long run
    two = conv[conv["source_id"] == "etalab_decoupage_administratif"].iloc[[1]]
    assert cohesion.headline_comparisons(two, catalogue).tolist() == [True]
