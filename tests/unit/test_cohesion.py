"""Cohesion statistics against values computed by hand on small frames (barometre/cohesion.py)."""

import math

import numpy as np
import pandas as pd
import pytest

from barometre import cohesion
from barometre.geography import metropolitan


def _ref(indicator_id: str, values: dict[str, float], period: str = "2014", level: str = "departement",
         metro: dict[str, bool] | None = None, vintage: str = "cog_2026", source: str = "a_source") -> pd.DataFrame:
    """Reference rows of one (indicator, level, period) from one source: code → value."""
    start, end = (int(period[:4]), int(period[-4:]))
    return pd.DataFrame({
        "indicator_id": indicator_id, "level": level, "code": list(values), "geography_vintage": vintage,
        "period": period, "period_start": start, "period_end": end, "value": [float(v) for v in values.values()],
        "source_id": source,
        "is_metropolitan": pd.array([True if metro is None else metro[c] for c in values], dtype="boolean"),
    })


def _one(frame: pd.DataFrame, **where) -> pd.Series:
    for col, val in where.items():
        frame = frame[frame[col] == val]
    assert len(frame) == 1, frame
    return frame.iloc[0]


# ---------------------------------------------------------------------------------------------
# Disparities


def test_disparities_by_hand_with_ties_and_fewer_than_ten_territories(catalogue):
    # 1, 2, 2, 4, 6: a tie, n = 5 < 10.
    ref = _ref("taux_chomage", {"01": 1, "02": 2, "03": 2, "04": 4, "05": 6})
    row = _one(cohesion.disparities(ref, catalogue), scope="all")
    assert (row["n"], row["min"], row["max"], row["range"], row["max_min_ratio"]) == (5, 1, 6, 5, 6)
    # Linear interpolation at position (n − 1) p of the sorted values: 4 × 0.1 = 0.4 → 1 + 0.4 × (2 − 1).
    assert row["d1"] == pytest.approx(1.4)
    assert row["q1"] == pytest.approx(2.0)  # position 1.0
    assert row["median"] == pytest.approx(2.0)  # position 2.0
    assert row["q3"] == pytest.approx(4.0)  # position 3.0
    assert row["d9"] == pytest.approx(5.2)  # position 3.6 → 4 + 0.6 × (6 − 4)
    assert row["d9_d1"] == pytest.approx(5.2 / 1.4)
    assert row["mean"] == pytest.approx(3.0)
    # Population standard deviation: squared deviations 4 + 1 + 1 + 1 + 9 = 16, / 5.
    assert row["std"] == pytest.approx(math.sqrt(16 / 5))
    assert row["cv"] == pytest.approx(math.sqrt(16 / 5) / 3)
    # Gini = Σ_i Σ_j |x_i − x_j| / (2 n² mean): the unordered pairs sum to 24, so 48 / (2 × 25 × 3).
    assert row["gini"] == pytest.approx(0.32)
    shares = [1 / 3, 2 / 3, 2 / 3, 4 / 3, 2]
    assert row["theil"] == pytest.approx(sum(s * math.log(s) for s in shares) / 5)
    assert pd.isna(row["gini_theil_null_reason"])


def test_quantiles_are_numpys_default_linear_interpolation(catalogue):
    values = [3.1, 7.4, 7.4, 2.0, 9.9, 5.5, 4.2, 8.8, 6.1, 1.3, 12.0, 7.4, 0.9]
    ref = _ref("taux_chomage", {f"{n + 1:02d}": v for n, v in enumerate(values)})
    row = _one(cohesion.disparities(ref, catalogue), scope="all")
    expected = np.quantile(values, [0.1, 0.25, 0.5, 0.75, 0.9])
    assert [row[c] for c in ("d1", "q1", "median", "q3", "d9")] == pytest.approx(list(expected))


@pytest.mark.parametrize("values, reason", [
    ({"01": 0, "02": 2, "03": 4}, "1 of 3 values ≤ 0: defined for strictly positive quantities only"),
    ({"01": -1, "02": 2, "03": 4}, "1 of 3 values ≤ 0: defined for strictly positive quantities only"),
])
def test_gini_and_theil_are_null_with_a_reason_for_zero_or_negative_values(catalogue, values, reason):
    row = _one(cohesion.disparities(_ref("part_locaux_thd", values), catalogue), scope="all")
    assert pd.isna(row["gini"]) and pd.isna(row["theil"])
    assert row["gini_theil_null_reason"] == reason
    # min ≤ 0: no max/min ratio, and never inf.
    assert pd.isna(row["max_min_ratio"])


def test_rates_of_change_have_no_gini_and_ratios_are_null_not_inf(catalogue):
    ref = _ref("solde_migratoire_annuel", {"01": -0.5, "02": 0.1, "03": 0.2, "04": 0.1}, period="2012-2013")
    row = _one(cohesion.disparities(ref, catalogue), scope="all")
    assert row["gini_theil_null_reason"] == "rate of change (%/an): not a positive quantity"
    assert pd.isna(row["gini"])
    assert row["d1"] < 0 and pd.isna(row["d9_d1"])
    assert row["mean"] == pytest.approx(-0.025) and pd.isna(row["cv"])  # mean ≤ 0: no cv
    assert row["std"] == pytest.approx(np.std([-0.5, 0.1, 0.2, 0.1]))
    positive_rates = _ref("solde_migratoire_annuel", {"01": 0.5, "02": 0.1}, period="2012-2013")
    assert _one(cohesion.disparities(positive_rates, catalogue), scope="all")["gini_theil_null_reason"] == (
        "rate of change (%/an): not a positive quantity")


def test_rates_of_change_have_no_ratios_even_when_every_value_is_positive(catalogue):
    # 0.1, 0.2, 0.3, 0.4 % a year: a cv (0.447), d9/d1 (0.37 / 0.13) and max/min (4) could be
    # computed, but a rate of change has no natural zero: they would explode as the mean nears 0.
    ref = _ref("solde_migratoire_annuel", {"01": 0.1, "02": 0.2, "03": 0.3, "04": 0.4}, period="2012-2013")
    row = _one(cohesion.disparities(ref, catalogue), scope="all")
    assert pd.isna(row["cv"]) and pd.isna(row["d9_d1"]) and pd.isna(row["max_min_ratio"])
    assert row["ratio_null_reason"] == "rate of change (%/an): not a positive quantity: no cv, d9_d1 or max_min_ratio"
    # The absolute figures stay: squared deviations 0.0225 + 0.0025 + 0.0025 + 0.0225 = 0.05, / 4.
    assert row["std"] == pytest.approx(math.sqrt(0.0125))
    assert (row["d1"], row["d9"], row["range"]) == pytest.approx((0.13, 0.37, 0.3))


@pytest.mark.parametrize("values, reason", [
    ({"01": 1, "02": 2, "03": 4}, None),
    ({"01": 0, "02": 2, "03": 4}, "max_min_ratio: min ≤ 0"),  # d1 = 0.4, mean 2
    ({"01": -1, "02": 2, "03": 4}, "d9_d1: d1 ≤ 0; max_min_ratio: min ≤ 0"),  # d1 = −1 + 0.2 × 3 = −0.4
    ({"01": 0, "02": 0, "03": 0}, "cv: mean ≤ 0; d9_d1: d1 ≤ 0; max_min_ratio: min ≤ 0"),
    ({"01": 7}, "cv: fewer than 2 territories"),
])
def test_ratio_null_reason_names_each_null_ratio(catalogue, values, reason):
    row = _one(cohesion.disparities(_ref("part_locaux_thd", values), catalogue), scope="all")
    assert (None if pd.isna(row["ratio_null_reason"]) else row["ratio_null_reason"]) == reason
    for column, text in (("cv", "cv:"), ("d9_d1", "d9_d1:"), ("max_min_ratio", "max_min_ratio:")):
        assert pd.isna(row[column]) == (reason is not None and text in reason), column


def test_single_territory(catalogue):
    row = _one(cohesion.disparities(_ref("taux_chomage", {"01": 7.5}), catalogue), scope="all")
    assert (row["n"], row["min"], row["max"], row["median"], row["range"], row["mean"]) == (1, 7.5, 7.5, 7.5, 0, 7.5)
    assert pd.isna(row["std"]) and pd.isna(row["cv"]) and pd.isna(row["gini"]) and pd.isna(row["theil"])
    assert row["gini_theil_null_reason"] == "fewer than 2 territories"


def test_cv_gini_theil_and_d9_d1_are_unchanged_by_scaling(catalogue):
    values = {"01": 3.0, "02": 8.0, "03": 8.0, "04": 1.5, "05": 20.0, "06": 4.4, "07": 9.1}
    base = _one(cohesion.disparities(_ref("taux_chomage", values), catalogue), scope="all")
    scaled = _one(cohesion.disparities(_ref("taux_chomage", {c: 7 * v for c, v in values.items()}), catalogue),
                  scope="all")
    for col in ("cv", "gini", "theil", "d9_d1", "max_min_ratio"):
        assert scaled[col] == pytest.approx(base[col])
    assert scaled["mean"] == pytest.approx(7 * base["mean"])


def test_metro_scope_and_population_weighted_mean(catalogue):
    ref = _ref("taux_chomage", {"01": 10, "02": 20, "971": 40}, metro={"01": True, "02": True, "971": False})
    population = pd.DataFrame({"level": "departement", "code": ["01", "02"], "year": 2014,
                               "population": [300.0, 100.0], "source_id": "insee_estimations_population"})
    out = cohesion.disparities(ref, catalogue, population)
    everything, metro = _one(out, scope="all"), _one(out, scope="metro")
    assert (everything["n"], metro["n"]) == (3, 2)
    assert metro["mean"] == 15 and metro["weighted_mean"] == pytest.approx((300 * 10 + 100 * 20) / 400)
    assert metro["weight_source"] == "population at 1 January 2014: insee_estimations_population"
    # One territory without a population: no partial (biased) weighting.
    assert pd.isna(everything["weighted_mean"])
    assert everything["weighted_mean_null_reason"] == "1 of 3 territories without a population at 1 January 2014"


def test_metropolitan_rules_per_level():
    assert metropolitan("departement", pd.Series(["01", "2A", "95", "971", "976"])).tolist() == [
        True, True, True, False, False]
    assert metropolitan("region", pd.Series(["11", "94", "01", "06"])).tolist() == [True, True, False, False]
    # Zones d'emploi 2010: the 2010 région prefix (00 = a zone spanning régions).
    assert metropolitan("zone_emploi", pd.Series(["0050", "1101", "9401", "0101", "0404", "0601"])).tolist() == [
        True, True, True, False, False, False]
    flags = metropolitan("epci", pd.Series(["249740119", "240100578", "200012060", "200041630", "200027548"]),
                         drom_epci={"200041630"}, metro_epci={"200027548"})
    assert flags.fillna(False).tolist() == [False, True, False, False, True] and flags.isna().tolist() == [
        False, False, True, False, False]


def test_territory_scope_locates_epci_from_their_member_communes():
    territories = pd.DataFrame({"level": ["epci", "epci", "epci", "zone_emploi"],
                                "code": ["200041630", "200027548", "200012060", "0101"],
                                "geography_vintage": ["epci_2017", "epci_2017", "epci_2017", "ze_2010"]})
    members = pd.DataFrame({"cog_vintage": 2022, "code_epci": ["200041630", "200027548"],
                            "code_commune": ["97101", "01001"]})
    communes = pd.DataFrame({"cog_vintage": 2022, "code_commune": ["97101", "01001"],
                             "code_departement": ["971", "01"]})
    scope = cohesion.territory_scope(territories, members, communes).set_index("code")
    assert scope["is_metropolitan"].dropna().to_dict() == {"200027548": True, "200041630": False, "0101": False}
    assert pd.isna(scope.loc["200012060", "is_metropolitan"])
    assert scope.loc["200012060", "basis"] == "unknown: SIREN in no bundled COG release"


# ---------------------------------------------------------------------------------------------
# Periods


def _periods(*labels: str) -> pd.DataFrame:
    return pd.DataFrame({"period": labels, "period_start": [int(p[:4]) for p in labels],
                         "period_end": [int(p[-4:]) for p in labels]})


def test_period_pairs():
    assert cohesion.period_pairs(_periods("2012", "2014", "2013")) == [("2012", "2013"), ("2013", "2014")]
    # The CGET's spans, then yearly rates: 1999-2009 is followed by 2009-2014 only.
    mixed = _periods("1999-2009", "2009-2014", "2012-2013", "2013-2014", "2014-2015")
    assert cohesion.period_pairs(mixed) == [("1999-2009", "2009-2014"), ("2009-2014", "2014-2015"),
                                            ("2012-2013", "2013-2014"), ("2013-2014", "2014-2015")]
    # COG periods of different widths: two successors of 2019-2020, one predecessor kept per period.
    cog = _periods("2019-2020", "2020-2021", "2020-2022", "2022-2023")
    assert cohesion.period_pairs(cog) == [("2019-2020", "2020-2021"), ("2019-2020", "2020-2022"),
                                          ("2020-2021", "2022-2023"), ("2020-2022", "2022-2023")]
    assert cohesion.previous_periods(cog) == {"2020-2021": "2019-2020", "2020-2022": "2019-2020",
                                              "2022-2023": "2020-2022"}
    assert cohesion.period_pairs(_periods("2015")) == []
    assert cohesion.first_last(_periods("2013", "2012", "2021")) == ("2012", "2021")
    assert cohesion.first_last(_periods("2009", "2014")) is None


# ---------------------------------------------------------------------------------------------
# Convergence


def test_convergence_points_by_hand():
    # Shares 10, 20, 30 → 14, 22, 30 over two years: +2, +1, 0 points per year.
    out = cohesion.convergence_stats(np.array([10, 20, 30]), np.array([14, 22, 30]), 2.0, "%")
    assert out["change_kind"] == "points"
    assert out["beta"] == pytest.approx(-0.1) and out["beta_r2"] == pytest.approx(1.0)
    assert out["mean_annual_change"] == pytest.approx(1.0)
    assert out["cv_from"] == pytest.approx(np.std([10, 20, 30]) / 20)
    assert out["cv_to"] == pytest.approx(np.std([14, 22, 30]) / 22)
    assert out["sigma_measure"] == "cv" and out["sigma_convergence"] is True
    assert math.isnan(out["bottom_decile_growth"])  # only for amounts and densities


def test_sigma_convergence_of_rates_of_change_reads_the_standard_deviation(catalogue):
    # Rates 0.0, 0.4, 0.8 → −0.2, 0.1, 0.4 % a year: the gaps narrow (std sqrt(0.32 / 3) = 0.327 →
    # sqrt(0.18 / 3) = 0.245) while the mean falls from 0.4 to 0.1, so the cv would rise from 0.816
    # to 2.449 and call it divergence.
    out = cohesion.convergence_stats(np.array([0.0, 0.4, 0.8]), np.array([-0.2, 0.1, 0.4]), 1.0, "%/an")
    assert out["sigma_measure"] == "std"
    assert (out["std_from"], out["std_to"]) == pytest.approx((math.sqrt(0.32 / 3), math.sqrt(0.18 / 3)))
    assert math.isnan(out["cv_from"]) and math.isnan(out["cv_to"])
    assert out["sigma_convergence"] is True
    # Unchanged gaps (every rate down by 0.3): not a narrowing.
    same = cohesion.convergence_stats(np.array([0.0, 0.4, 0.8]), np.array([-0.3, 0.1, 0.5]), 1.0, "%/an")
    assert same["std_to"] == pytest.approx(same["std_from"]) and same["sigma_convergence"] is False
    ref = pd.concat([_ref("croissance_population_annuelle", {"01": 0.0, "02": 0.4, "03": 0.8}, period="2012-2013"),
                     _ref("croissance_population_annuelle", {"01": -0.2, "02": 0.1, "03": 0.4}, period="2013-2014")])
    row = _one(cohesion.convergence(ref, catalogue), scope="all")
    assert (row["sigma_measure"], bool(row["sigma_convergence"])) == ("std", True) and pd.isna(row["cv_to"])


def test_poorer_territories_growing_faster_give_a_negative_beta(catalogue):
    rng = np.random.default_rng(2018)
    x0 = rng.uniform(15_000, 30_000, size=60)
    growth = 0.04 - 0.01 * np.log(x0 / 15_000) + rng.normal(0, 0.002, size=60)  # poorer grow faster
    x1 = x0 * np.exp(5 * growth)
    codes = [f"{n:04d}" for n in range(60)]
    ref = pd.concat([_ref("revenu_median_uc", dict(zip(codes, x0)), period="2009", level="zone_emploi"),
                     _ref("revenu_median_uc", dict(zip(codes, x1)), period="2014", level="zone_emploi")])
    row = _one(cohesion.convergence(ref, catalogue), scope="all")
    assert (row["period_from"], row["period_to"], row["years"], row["n_common"]) == ("2009", "2014", 5.0, 60)
    assert row["change_kind"] == "log_growth"
    # log growth in % per year regressed on ln x0: slope −1 (= 100 × −0.01).
    assert row["beta"] == pytest.approx(-1.0, abs=0.1) and row["beta_pvalue"] < 1e-6
    assert row["beta_convergence"] and row["sigma_convergence"]
    assert row["bottom_decile_growth"] > row["top_decile_growth"]


def test_decile_growth_by_hand():
    x0 = np.arange(100.0, 1001.0, 100.0)  # d1 = 190: bottom = {100}; d9 = 910: top = {1000}
    x1 = x0 * 1.1
    x1[0], x1[-1] = 121.0, 1000.0
    out = cohesion.convergence_stats(x0, x1, 2.0, "€")
    assert out["bottom_decile_growth"] == pytest.approx(100 * math.log(1.21) / 2)
    assert out["top_decile_growth"] == pytest.approx(0.0)


def test_convergence_keeps_only_territories_observed_at_both_periods(catalogue):
    ref = pd.concat([_ref("taux_chomage", {"01": 10, "02": 12, "03": 8, "04": 9}, period="2012"),
                     _ref("taux_chomage", {"01": 9, "02": 10, "03": 8}, period="2013"),
                     _ref("taux_chomage", {"01": 8, "02": 9, "03": 8}, period="2014")])
    out = cohesion.convergence(ref, catalogue)
    out = out[out["scope"] == "all"]
    assert out[["period_from", "period_to", "comparison", "n_common"]].values.tolist() == [
        ["2012", "2013", "consecutive", 3], ["2013", "2014", "consecutive", 3], ["2012", "2014", "first_last", 3]]
    first = _one(out, period_from="2012", period_to="2013")
    assert first["cv_from"] == pytest.approx(np.std([10, 12, 8]) / 10)


def test_convergence_never_pairs_periods_of_different_sources(catalogue):
    # Migration by région: the CGET's census averages (1999-2009, 2009-2014), then INSEE's yearly
    # estimates. 2009-2014 → 2014-2015 and 1999-2009 → 2014-2015 would join the two sources.
    codes = {"11": 0.1, "24": 0.3, "93": 0.6}
    ref = pd.concat([_ref("solde_migratoire_annuel", codes, period=p, level="region", source="cget_barometre_2018")
                     for p in ("1999-2009", "2009-2014")]
                    + [_ref("solde_migratoire_annuel", codes, period=p, level="region",
                            source="insee_estimations_population") for p in ("2012-2013", "2013-2014", "2014-2015")])
    out = cohesion.convergence(ref, catalogue)
    out = out[out["scope"] == "all"]
    assert out[["source_id", "period_from", "period_to", "comparison"]].values.tolist() == [
        ["cget_barometre_2018", "1999-2009", "2009-2014", "consecutive"],
        ["insee_estimations_population", "2012-2013", "2013-2014", "consecutive"],
        ["insee_estimations_population", "2013-2014", "2014-2015", "consecutive"],
        ["insee_estimations_population", "2012-2013", "2014-2015", "first_last"]]
    # One period can take its reference values from two sources (metropolitan départements from
    # the estimates, DROM from the COG): each territory is paired within its own source.
    ref = pd.concat([
        _ref("croissance_population_annuelle", {"01": 0.2, "02": 0.4}, period="2019-2020",
             source="insee_estimations_population"),
        _ref("croissance_population_annuelle", {"971": -0.5, "972": -0.9, "974": 0.6}, period="2019-2020",
             source="etalab_decoupage_administratif", metro={"971": False, "972": False, "974": False}),
        _ref("croissance_population_annuelle", {"01": 0.3, "02": 0.6, "971": -0.4, "972": -0.8, "974": 0.5},
             period="2020-2022", source="etalab_decoupage_administratif",
             metro={"01": True, "02": True, "971": False, "972": False, "974": False})])
    row = _one(cohesion.convergence(ref, catalogue), scope="all")
    assert (row["source_id"], row["n_common"]) == ("etalab_decoupage_administratif", 3)
    assert row["std_from"] == pytest.approx(np.std([-0.5, -0.9, 0.6]))


def test_convergence_with_two_territories_has_no_beta(catalogue):
    ref = pd.concat([_ref("taux_chomage", {"01": 10, "02": 12}, period="2012"),
                     _ref("taux_chomage", {"01": 9, "02": 10}, period="2013")])
    row = _one(cohesion.convergence(ref, catalogue), scope="all")
    assert pd.isna(row["beta"]) and row["beta_null_reason"] == "fewer than 3 territories"


# ---------------------------------------------------------------------------------------------
# Rankings


FRANCE = pd.DataFrame({"indicator_id": ["taux_chomage", "taux_chomage", "part_diplomes_superieur"],
                       "code": ["FRM", "FRMD", "FRM"], "period": "2014", "value": [9.0, 10.0, 30.0]})


def test_rankings_follow_polarity_and_reverse_with_it(catalogue):
    values = {"01": 5.0, "02": 9.0, "03": 7.0, "04": 11.0}
    lower = cohesion.rankings(_ref("taux_chomage", values), catalogue, FRANCE).set_index("code")  # polarity −
    higher = cohesion.rankings(_ref("part_diplomes_superieur", values), catalogue, FRANCE).set_index("code")  # +
    assert lower["rank"].to_dict() == {"01": 1, "03": 2, "02": 3, "04": 4}
    assert (higher["rank"] + lower["rank"].reindex(higher.index) == 5).all()
    assert lower["rank_order"].iloc[0] == "lower is better"
    assert lower["percentile"].to_dict() == pytest.approx({"01": 100.0, "03": 200 / 3, "02": 100 / 3, "04": 0.0})
    # FRMD is the benchmark where it exists, else FRM.
    assert lower.loc["02", "france_code"] == "FRMD" and lower.loc["02", "gap_to_france"] == pytest.approx(-1.0)
    assert higher.loc["02", "france_code"] == "FRM" and higher.loc["02", "gap_to_france"] == pytest.approx(-21.0)


def test_rankings_ties_polarity_zero_metro_and_previous_period(catalogue):
    ref = pd.concat([
        _ref("part_65_ans_plus", {"01": 20.0, "02": 25.0, "971": 25.0, "03": 10.0}, period="2014",
             metro={"01": True, "02": True, "971": False, "03": True}),
        _ref("part_65_ans_plus", {"01": 18.0, "02": 26.0}, period="1999",
             metro={"01": True, "02": True}),
    ])
    out = cohesion.rankings(ref, catalogue, FRANCE)
    latest = out[out["period"] == "2014"].set_index("code")
    # Polarity 0: ranked by value descending; the two 25.0 share rank 1.
    assert latest["rank"].to_dict() == {"02": 1, "971": 1, "01": 3, "03": 4}
    assert latest.loc["02", "rank_order"] == "value descending (polarity 0: no better direction)"
    assert latest.loc["02", "percentile"] == pytest.approx(100 * 2 / 3)  # 2 of the 3 others strictly below
    assert pd.isna(latest.loc["971", "rank_metro"])
    assert latest[["rank_metro", "rank_of_metro"]].drop(index="971").astype(int).values.tolist() == [[1, 3], [2, 3], [3, 3]]
    assert latest.loc["01", "change_since_previous_period"] == pytest.approx(2.0)
    assert latest.loc["01", "previous_period"] == "1999"
    assert pd.isna(latest.loc["03", "previous_period"])  # no 1999 value for 03


# ---------------------------------------------------------------------------------------------
# Dimension scores


def test_dimension_scores_by_hand(catalogue):
    # Empowerment: unemployment (−) and graduates (+); productive functions (polarity 0) excluded.
    ref = pd.concat([
        _ref("taux_chomage", {"01": 6.0, "02": 8.0, "03": 10.0}, period="2016"),
        _ref("part_diplomes_superieur", {"01": 30.0, "02": 20.0, "03": 25.0}, period="2016"),
        _ref("part_diplomes_superieur", {"01": 31.0, "02": 21.0, "03": 26.0}, period="2022"),
        _ref("part_fonctions_productives", {"01": 40.0, "02": 20.0, "03": 30.0}, period="2016"),
    ])
    scores, coverage = cohesion.dimension_scores(ref, catalogue)
    assert set(scores["period_group"]) == {"2016"}  # 2022 lacks unemployment
    s = scores.set_index("code")
    z_unemployment = {"01": math.sqrt(1.5), "02": 0.0, "03": -math.sqrt(1.5)}  # −(x − 8) / sqrt(8/3)
    z_graduates = {"01": 5 / math.sqrt(50 / 3), "02": -5 / math.sqrt(50 / 3), "03": 0.0}
    for code in ("01", "02", "03"):
        assert s.loc[code, "score"] == pytest.approx((z_unemployment[code] + z_graduates[code]) / 2)
    assert (s["n_indicators"] == 2).all() and (s["indicator_ids"] == "taux_chomage,part_diplomes_superieur").all()
    assert s["dimension_id"].unique().tolist() == ["empowerment"]
    assert coverage.loc[0, "period_groups"] == "2016"


def test_dimension_scores_standardise_within_one_geography_vintage(catalogue):
    # Two EPCI meshes at the same period: each is standardised on its own territories.
    ref = pd.concat([_ref("taux_chomage", {"A": 6.0, "B": 8.0, "C": 10.0}, period="2016", level="epci",
                          vintage="epci_2017"),
                     _ref("taux_chomage", {"D": 20.0, "E": 30.0}, period="2016", level="epci", vintage="epci_2018")])
    scores, _ = cohesion.dimension_scores(ref, catalogue)
    s = scores.set_index("code")
    # epci_2017: mean 8, std sqrt(8/3); epci_2018: mean 25, std 5; polarity − flips the sign.
    assert s["score"].to_dict() == pytest.approx({"A": math.sqrt(1.5), "B": 0.0, "C": -math.sqrt(1.5),
                                                  "D": 1.0, "E": -1.0})
    assert s.loc["D", "geography_vintage"] == "epci_2018"


def test_dimension_without_common_period_is_not_scored(catalogue):
    ref = pd.concat([_ref("benevoles_pour_100_hab", {"01": 9.0, "02": 8.0}, period="2015"),
                     _ref("participation_presidentielle_t1", {"01": 80.0, "02": 75.0}, period="2017")])
    scores, coverage = cohesion.dimension_scores(ref, catalogue)
    assert scores.empty
    assert coverage.loc[0, "note"] == (
        "benevoles_pour_100_hab: 2015; participation_presidentielle_t1: 2017 (no common period)")


# ---------------------------------------------------------------------------------------------
# France summary and French sentences


def test_french_number_formatting():
    assert cohesion.format_fr(20369, 0) == "20\u00a0369"
    assert cohesion.format_fr(2.44, 1) == "2,4"
    assert cohesion.format_fr(-0.163, 2) == "−0,16"
    assert cohesion.format_fr(2.9, 1, signed=True) == "+2,9"
    assert cohesion.format_fr(-0.04, 1) == "0,0"  # rounds to zero: no minus sign


def test_france_summary_headlines(catalogue):
    france = pd.DataFrame({
        "indicator_id": ["part_neet_15_24", "part_neet_15_24", "revenu_median_uc", "revenu_median_uc",
                         "part_fonctions_productives", "part_fonctions_productives"],
        "code": ["FRMD", "FRMD", "FRM", "FRM", "FRMD", "FRMD"],
        "period": ["2009", "2014", "2012", "2014", "2009", "2014"],
        "period_start": [2009, 2014, 2012, 2014, 2009, 2014], "period_end": [2009, 2014, 2012, 2014, 2009, 2014],
        "value": [15.0, 17.4, 19786.0, 20369.0, 34.6, 34.1]})
    out = cohesion.france_summary(france, catalogue).set_index(["indicator_id", "period"])
    nbsp = "\u00a0"
    assert out.loc[("part_neet_15_24", "2014"), "headline"] == (
        "En France (métropole et DROM), la part des 15–24 ans ni en emploi ni en formation a augmenté de "
        f"2,4{nbsp}points entre 2009 et 2014, de 15,0{nbsp}% à 17,4{nbsp}%.")
    assert out.loc[("revenu_median_uc", "2014"), "headline"] == (
        "En France métropolitaine, le revenu disponible médian par unité de consommation a augmenté de "
        f"583{nbsp}€ (+2,9{nbsp}%) entre 2012 et 2014, de 19{nbsp}786{nbsp}€ à 20{nbsp}369{nbsp}€.")
    assert out.loc[("part_fonctions_productives", "2014"), "headline"].startswith(
        "En France (métropole et DROM), la part des fonctions productives dans l'emploi a diminué de "
        f"0,5{nbsp}point entre")
    assert out.loc[("revenu_median_uc", "2014"), "change_pct"] == pytest.approx(100 * (20369 / 19786 - 1))
    assert out.loc[("part_neet_15_24", "2014"), "change"] == pytest.approx(2.4)
    assert out.loc[("part_neet_15_24", "2014"), "is_latest"] and not out.loc[("part_neet_15_24", "2009"), "is_latest"]
    assert pd.isna(out.loc[("part_neet_15_24", "2009"), "headline"])


def test_headline_stable_and_spans():
    text = cohesion.headline("Taux de croissance annuel de la population", "%/an", "FRM",
                             "2015-2016", 0.261, "2016-2017", 0.264, spans=True)
    assert text == ("En France métropolitaine, le taux de croissance annuel de la population est resté stable "
                    "entre la période 2015-2016 et la période 2016-2017, à 0,26\u00a0% par an.")


def test_headline_keeps_the_percent_sign_when_the_name_contains_one():
    # "Taux de pauvreté monétaire (seuil 60 % du niveau de vie médian)": the "%" of the threshold
    # is not the unit of the value.
    text = cohesion.headline("Taux de pauvreté monétaire (seuil 60 % du niveau de vie médian)", "%", "FRM",
                             "2012", 14.3, "2021", 14.5, spans=False)
    assert text == ("En France métropolitaine, le taux de pauvreté monétaire (seuil 60 % du niveau de vie médian) "
                    "a augmenté de 0,2\u00a0point entre 2012 et 2021, de 14,3\u00a0% à 14,5\u00a0%.")
    # A "pour 100 000 habitants" that the name says is not repeated after each number.
    text = cohesion.headline("Médecins en activité pour 100 000 habitants", "/100k", "FRM",
                             "2020", 339.1, "2021", 338.8, spans=False)
    assert text.endswith("entre 2020 et 2021, de 339,1 à 338,8.")


def test_headline_change_is_the_difference_of_the_printed_values():
    # Metropolitan turnout, 1st round: 85.3338 % in 2007, 81.3728 % in 2012. The unrounded change
    # −3.961 prints "4,0", yet the sentence prints 85,3 % and 81,4 %: 81,4 − 85,3 = −3,9.
    text = cohesion.headline("Taux de participation au 1er tour de l'élection présidentielle (votants / inscrits)",
                             "%", "FRM", "2007", 85.33384380440484, "2012", 81.37278506105228, spans=False)
    assert text == ("En France métropolitaine, le taux de participation au 1er tour de l'élection présidentielle "
                    "(votants / inscrits) a diminué de 3,9\u00a0points entre 2007 et 2012, de 85,3\u00a0% à 81,4\u00a0%.")
    # "Stable" is decided on the printed values too: 0.2649 → 0.2651 prints 0,26 → 0,27 (a change
    # of 0,01 point), although the unrounded change (0.0002) rounds to 0,00.
    text = cohesion.headline("Taux de croissance annuel de la population", "%/an", "FRM",
                             "2015-2016", 0.2649, "2016-2017", 0.2651, spans=True)
    assert "a augmenté de 0,01\u00a0point entre la période 2015-2016 et la période 2016-2017, de 0,26" in text
    # And 0.256 → 0.264 prints 0,26 → 0,26: stable, although the unrounded change is 0,01.
    text = cohesion.headline("Taux de croissance annuel de la population", "%/an", "FRM",
                             "2015-2016", 0.256, "2016-2017", 0.264, spans=True)
    assert "est resté stable entre la période 2015-2016 et la période 2016-2017, à 0,26\u00a0% par an." in text


def test_change_unit_and_relative_change():
    assert [cohesion.change_unit(u) for u in ("%", "%/an", "€", "/100k", "/100")] == [
        "points", "points", "€", "/100k", "/100"]
    assert cohesion.relative_change(19786.0, 20369.0, "€") == pytest.approx(100 * 583 / 19786)
    assert cohesion.relative_change(200.0, 210.0, "/100k") == pytest.approx(5.0)
    assert math.isnan(cohesion.relative_change(15.0, 17.4, "%"))  # a share changes in points
    assert math.isnan(cohesion.relative_change(0.0, 3.0, "€"))
