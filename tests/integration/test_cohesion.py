"""The cohesion marts of a full run, checked against figures computed here from the raw snapshot
files and against the CGET's own 2018 commentary."""

import csv
import math
import statistics
from pathlib import Path

import pytest
from scipy import stats

from barometre.landing import DEFAULT_SNAPSHOT_DIR

pytestmark = pytest.mark.integration

SNAPSHOT = Path(DEFAULT_SNAPSHOT_DIR)
DROM_ZE_PREFIXES = ("01", "02", "03", "04", "06")  # ZE 2010 codes RRNN, RR = 2010 région


def _q(con, sql, params=None):
    return con.execute(sql, params or []).fetchall()


def _csv(path: Path, delimiter: str = ",") -> list[dict]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter=delimiter))


def _deciles(values: list[float]) -> tuple[float, float]:
    """D1 and D9 with linear interpolation between order statistics (Python's statistics module,
    method 'inclusive', the same definition as numpy's default), computed independently."""
    cuts = statistics.quantiles(values, n=10, method="inclusive")
    return cuts[0], cuts[8]


def _disparity(con, indicator, level, period, scope="all", cols="n, d1, d9, d9_d1"):
    rows = _q(con, f"SELECT {cols} FROM mart.disparities WHERE indicator_id = ? AND level = ? AND period = ? "
                   "AND scope = ?", [indicator, level, period, scope])
    assert len(rows) == 1, rows
    return rows[0]


def test_one_disparity_row_per_indicator_level_period_and_scope(published):
    con, _ = published
    missing = _q(con, """
        SELECT indicator_id, level, geography_vintage, period, count(*) AS n
        FROM mart.indicator_values WHERE is_reference AND level NOT IN ('france', 'commune')  -- communes: not analysed
        GROUP BY ALL
        EXCEPT
        SELECT indicator_id, level, geography_vintage, period, n FROM mart.disparities WHERE scope = 'all'""")
    assert missing == []
    assert _q(con, "SELECT DISTINCT scope FROM mart.disparities ORDER BY 1") == [("all",), ("metro",)]
    assert _q(con, "SELECT count(*) FROM mart.disparities WHERE level = 'france'") == [(0,)]
    assert _q(con, "SELECT count(*) FROM mart.disparities WHERE isinf(max_min_ratio) OR isinf(d9_d1) OR isinf(cv)") == [(0,)]
    # Every published mart is there.
    tables = {r[0] for r in _q(con, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'mart'")}
    assert {"disparities", "convergence", "rankings", "dimension_scores", "france_summary"} <= tables


def test_d9_d1_of_productive_functions_by_zone_emploi_from_the_raw_file(published):
    con, _ = published
    rows = _csv(SNAPSHOT / "barometre_2018" / "carte_4_4.csv")
    values = {r["codgeo"]: float(r["value0"]) for r in rows if r["year0"] == "2009" and r["value0"] != ""}
    assert len(values) == 321  # Mayotte (0601) has no 2009 value
    d1, d9 = _deciles(list(values.values()))
    assert _disparity(con, "part_fonctions_productives", "zone_emploi", "2009") == pytest.approx((321, d1, d9, d9 / d1))
    metro = [v for code, v in values.items() if not code.startswith(DROM_ZE_PREFIXES)]
    d1, d9 = _deciles(metro)
    assert _disparity(con, "part_fonctions_productives", "zone_emploi", "2009", "metro") == pytest.approx(
        (304, d1, d9, d9 / d1))


def test_the_cget_2018_commentary_is_reproduced(published):
    """Figures printed in the CGET's 2018 texts (anct-carto/ba-coh-terr, data/txt/texte_1_1.txt,
    texte_1_5.txt, texte_4_4.txt), recomputed from the raw files and read from the marts."""
    con, _ = published
    # "Le revenu médian disponible par uc variait dans un rapport de 1 à 1,22 en 2012 ; et dans un
    # rapport de 1 à 1,20 en 2014" (régions; the DROM have no value). 2012 is 22 180 / 18 106 =
    # 1.2250, which the CGET printed 1,22: compared to the printed precision.
    income = [r for r in _csv(SNAPSHOT / "barometre_2018" / "histo_1_1.csv") if r["value0"]]
    for year, col, expected in (("2012", "value0", 1.22), ("2014", "value1", 1.20)):
        raw = [float(r[col]) for r in income]
        # scope metro: the CGET's régions are the 13 metropolitan ones (INSEE's base cc 2014 adds
        # Martinique and La Réunion to scope all; its 13 metropolitan values equal the CGET's)
        (ratio,) = _disparity(con, "revenu_median_uc", "region", year, "metro", cols="max_min_ratio")
        assert ratio == pytest.approx(max(raw) / min(raw)) and abs(ratio - expected) <= 0.0051
    # NEET: "22,9 points de pourcentage d'écart entre les deux régions extrêmes en 2009 ; et 23 points en 2014".
    neet = _csv(SNAPSHOT / "barometre_2018" / "histo_1_5.csv")
    for year, col, expected in (("2009", "value0", 22.9), ("2014", "value1", 23.0)):
        raw = [float(r[col]) for r in neet if r[col]]
        (spread,) = _disparity(con, "part_neet_15_24", "region", year, cols="range")
        assert spread == pytest.approx(max(raw) - min(raw)) and round(spread, 1) == expected
    # Productive functions by zone d'emploi: "Le rapport interdécile est passé de 1,8 à 1,9".
    assert [round(_disparity(con, "part_fonctions_productives", "zone_emploi", p, cols="d9_d1")[0], 1)
            for p in ("2009", "2014")] == [1.8, 1.9]
    # Income by zone d'emploi: "Le rapport interdécile est passé de 1,19 à 1,18" — 1.18 is the
    # 2014 ratio of the 304 zones observed in both years (metropolitan), not of all 314.
    assert round(_disparity(con, "revenu_median_uc", "zone_emploi", "2012", cols="d9_d1")[0], 2) == 1.19
    assert round(_disparity(con, "revenu_median_uc", "zone_emploi", "2014", "metro", cols="d9_d1")[0], 2) == 1.18
    assert round(_disparity(con, "revenu_median_uc", "zone_emploi", "2014", cols="d9_d1")[0], 2) == 1.19


def _unemployment() -> dict[tuple[str, str], float]:
    rows = _csv(SNAPSHOT / "departements_2012_2021" / "unemployment_insee.csv", delimiter=";")
    return {(r["dep_code"], r["year"]): float(r["unemployment_rate"]) for r in rows}


def test_unemployment_convergence_of_departements_from_the_raw_file(published):
    con, _ = published
    rate = _unemployment()
    codes = sorted({c for c, y in rate if y == "2012"} & {c for c, y in rate if y == "2021"})
    x0 = [rate[(c, "2012")] for c in codes]
    x1 = [rate[(c, "2021")] for c in codes]
    change = [(b - a) / 9 for a, b in zip(x0, x1)]  # points per year
    m0, mc = sum(x0) / len(x0), sum(change) / len(change)
    slope = sum((a - m0) * (c - mc) for a, c in zip(x0, change)) / sum((a - m0) ** 2 for a in x0)
    # The p-value of the slope: two-sided t test, n − 2 degrees of freedom, on the residuals.
    n, sxx = len(x0), sum((a - m0) ** 2 for a in x0)
    residuals = [c - (mc + slope * (a - m0)) for a, c in zip(x0, change)]
    t = slope / math.sqrt(sum(r ** 2 for r in residuals) / (n - 2) / sxx)
    pvalue = 2 * stats.t.sf(abs(t), n - 2)
    r2 = 1 - sum(r ** 2 for r in residuals) / sum((c - mc) ** 2 for c in change)
    cv = [statistics.pstdev(x) / statistics.fmean(x) for x in (x0, x1)]
    row = _q(con, """SELECT n_common, years, change_kind, cv_from, cv_to, sigma_convergence, beta, beta_pvalue,
                            beta_r2, beta_convergence
                     FROM mart.convergence WHERE indicator_id = 'taux_chomage' AND level = 'departement'
                       AND scope = 'all' AND period_from = '2012' AND period_to = '2021'""")
    assert row == [(96, 9.0, "points", pytest.approx(cv[0]), pytest.approx(cv[1]), False, pytest.approx(slope),
                    pytest.approx(pvalue, rel=1e-6), pytest.approx(r2), True)]
    # Absolute gaps narrowed (β < 0, significant) while the relative dispersion rose (cv up).
    assert slope < 0 and pvalue < 0.001 and cv[1] > cv[0]
    # One row per consecutive year, and the long-run comparison.
    assert _q(con, "SELECT comparison, count(*) FROM mart.convergence WHERE indicator_id = 'taux_chomage' "
                   "AND level = 'departement' AND scope = 'all' GROUP BY 1 ORDER BY 1") == [("consecutive", 9),
                                                                                            ("first_last", 1)]


def test_population_weighted_mean_from_the_raw_files(published):
    con, _ = published
    rate = _unemployment()
    pop = {r["dep_code"]: float(r["pop_jan1"])
           for r in _csv(SNAPSHOT / "departements_2012_2021" / "population_insee.csv", delimiter=";")
           if r["year"] == "2014"}
    expected = sum(pop[c] * rate[(c, "2014")] for c in pop) / sum(pop.values())
    assert _disparity(con, "taux_chomage", "departement", "2014", cols="weighted_mean, weight_source") == (
        pytest.approx(expected), "population at 1 January 2014: insee_estimations_population")
    # No population for 2009 in the pipeline: no weighted mean, and the reason.
    assert _disparity(con, "part_neet_15_24", "region", "2009", cols="weighted_mean, weighted_mean_null_reason") == (
        None, "17 of 17 territories without a population at 1 January 2009")


def test_rankings_from_the_raw_file(published):
    con, _ = published
    rate = {c: v for (c, y), v in _unemployment().items() if y == "2021"}
    best, worst = min(rate, key=rate.get), max(rate, key=rate.get)
    rows = _q(con, "SELECT code, value, rank, rank_of, percentile, previous_period FROM mart.rankings "
                   "WHERE indicator_id = 'taux_chomage' AND level = 'departement' AND period = '2021' "
                   "AND rank IN (1, 96) ORDER BY rank")
    assert rows == [(best, rate[best], 1, 96, 100.0, "2020"), (worst, rate[worst], 96, 96, 0.0, "2020")]
    assert (best, worst) == ("15", "66")
    # Gap to the France value of the same period (FRMD for the CGET's turnout).
    assert _q(con, "SELECT france_code, round(gap_to_france, 2), round(change_since_previous_period, 2) "
                   "FROM mart.rankings WHERE indicator_id = 'participation_presidentielle_t1' AND level = 'region' "
                   "AND code = '11' AND period = '2017'") == [("FRMD", 0.9, 1.7)]


# Polarity of the indicators of qualité de vie (catalogue.yaml): + higher is better, − lower is better.
QUALITE_DE_VIE = {"revenu_median_uc": 1.0, "part_neet_15_24": -1.0, "medecins_pour_100k": 1.0}


def test_dimension_scores_of_regions_recomputed_from_the_published_values(published):
    """Qualité de vie by région, 2014: for each indicator, the z-score of each région among the
    régions that have all three (population standard deviation), signed by its polarity; the
    score is their mean."""
    con, _ = published
    rows = _q(con, "SELECT indicator_id, code, value FROM mart.indicator_values WHERE is_reference AND level = 'region' "
                   "AND period = '2014' AND indicator_id IN ('revenu_median_uc', 'part_neet_15_24', 'medecins_pour_100k')")
    values: dict[str, dict[str, float]] = {}
    for indicator, code, value in rows:
        values.setdefault(indicator, {})[code] = value
    complete = sorted(set.intersection(*(set(v) for v in values.values())))
    assert len(complete) == 13  # the DROM have no income or doctors value by région
    z = {}
    for indicator, sign in QUALITE_DE_VIE.items():
        x = [values[indicator][c] for c in complete]
        mean, std = statistics.fmean(x), statistics.pstdev(x)
        z[indicator] = {c: sign * (values[indicator][c] - mean) / std for c in complete}
    expected = {c: statistics.fmean(z[i][c] for i in QUALITE_DE_VIE) for c in complete}
    scores = dict(_q(con, "SELECT code, score FROM mart.dimension_scores WHERE level = 'region' "
                          "AND dimension_id = 'qualite_de_vie' AND period_group = '2014'"))
    assert scores == pytest.approx(expected)
    # Île-de-France first (highest income and doctors, a low NEET share), Hauts-de-France last.
    ranked = sorted(scores, key=scores.get)
    assert (ranked[0], ranked[-1]) == ("32", "11")
    assert round(scores["11"], 4) == 1.8914 and round(scores["32"], 4) == -1.3911


def test_dimension_scores_only_on_common_periods(published):
    con, _ = published
    # Qualité de vie by région: income, NEET and doctors share 2012, 2014, 2017 and 2018 (the NEET
    # census years 2012, 2017, 2018 of the producer series), for the 13 metropolitan régions.
    assert _q(con, "SELECT period_group, indicator_ids, n_indicators, count(*) FROM mart.dimension_scores "
                   "WHERE level = 'region' AND dimension_id = 'qualite_de_vie' GROUP BY ALL ORDER BY 1") == [
        (p, "revenu_median_uc,part_neet_15_24,medecins_pour_100k", 3, 13) for p in ("2012", "2014", "2017", "2018")]
    # Volunteers (2015) and turnout (2007–2022) never share a period: capital social is not scored.
    assert _q(con, "SELECT count(*) FROM mart.dimension_scores WHERE level IN ('departement', 'region') "
                   "AND dimension_id = 'capital_social'") == [(0,)]


def test_france_summary_headline(published):
    con, _ = published
    baro = {r["id"]: r for r in _csv(SNAPSHOT / "barometre_2018" / "baro.csv")}
    v0, v1 = float(baro["15"]["value0"]), float(baro["15"]["value1"])
    nbsp = "\u00a0"
    assert _q(con, "SELECT previous_value, value, headline FROM mart.france_summary "
                   "WHERE indicator_id = 'part_neet_15_24' AND is_latest") == [(v0, v1, (
        "En France (métropole et DROM), la part des 15–24 ans ni en emploi ni en formation a augmenté de "
        f"2,4{nbsp}points entre 2009 et 2014, de 15,0{nbsp}% à 17,4{nbsp}%."))]
    assert _q(con, "SELECT count(*) FROM mart.france_summary WHERE is_latest AND headline IS NULL") == [(1,)]  # volunteers: one year


def _md_table(markdown: str) -> list[dict[str, str]]:
    """The rows of a markdown table (as the Dagster UI shows the asset metadata), cells stripped."""
    header, _, *rows = markdown.splitlines()
    cells = [[c.strip() for c in line.strip().strip("|").split("|")] for line in [header, *rows]]
    return [dict(zip(cells[0], row)) for row in cells[1:]]


def _asset_metadata(result, name: str) -> dict:
    (event,) = result.asset_materializations_for_node(f"mart__{name}")
    return {k: v.value for k, v in event.metadata.items()}


def _cell(x, decimals: int | None = None) -> str:
    """A value as the headline tables print it: '–' when missing, rounded to ``decimals``."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return repr(round(x, decimals)) if decimals is not None else str(x)


def test_disparity_headline_table_is_the_latest_period_of_the_mart(published):
    """Every row of the UI table: the latest period of its indicator and level in
    mart.disparities, all territories and metropolitan ones (d9/d1 to 2 decimals, cv and Gini to 3)."""
    con, result = published
    table = {(r["indicator_id"], r["level"]): r for r in _md_table(_asset_metadata(result, "disparities")["headline"])}
    latest = _q(con, """SELECT indicator_id, level, scope, period, n, d9_d1, cv, gini FROM mart.disparities
                        QUALIFY row_number() OVER (PARTITION BY indicator_id, level, scope
                                                   ORDER BY period_end DESC, period_start DESC,
                                                            geography_vintage DESC) = 1""")
    expected: dict[tuple[str, str], dict[str, str]] = {}
    for indicator, level, scope, period, n, d9_d1, cv, gini in latest:
        row = expected.setdefault((indicator, level), {"indicator_id": indicator, "level": level})
        if scope == "all":
            row.update({"period": period, "n": str(n), "d9_d1": _cell(d9_d1, 2), "cv": _cell(cv, 3),
                        "gini": _cell(gini, 3)})
        else:
            row.update({"n metro": str(n), "cv metro": _cell(cv, 3)})
    assert table == expected
    assert len(table) == 43  # 33, the new levels of the producer series (issue 14), turnout by EPCI and unemployment by ZE2020 (issue 15)
    assert table[("part_fonctions_productives", "zone_emploi")] == {
        "indicator_id": "part_fonctions_productives", "level": "zone_emploi", "period": "2014", "n": "322",
        "d9_d1": "1.87", "cv": expected[("part_fonctions_productives", "zone_emploi")]["cv"],
        "gini": expected[("part_fonctions_productives", "zone_emploi")]["gini"],
        "n metro": "304", "cv metro": expected[("part_fonctions_productives", "zone_emploi")]["cv metro"]}


def _verdict(sigma: bool | None, beta: bool | None, measure: str) -> str:
    """docs/methodology.md: σ convergence (the dispersion went down) and β convergence (the
    initially lower territories grew faster, significantly)."""
    if sigma is None and beta is None:
        return "n/a"
    if sigma and beta:
        return "yes (σ and β)"
    if sigma:
        return f"yes (σ: {measure} down)"
    if beta:
        return f"β only (catch-up, {measure} up)"
    return f"no ({measure} up)" if sigma is False else "no"


def test_convergence_headline_table_is_the_long_run_comparison_of_the_mart(published):
    """Every row of the UI table: the headline comparison of mart.convergence (``is_headline``,
    one per indicator × level × scope), σ and β as published."""
    con, result = published
    table = {(r["indicator_id"], r["level"], r["source_id"]): r
             for r in _md_table(_asset_metadata(result, "convergence")["headline"])}
    rows = _q(con, """SELECT indicator_id, level, source_id, scope, period_from, period_to, n_common, sigma_measure,
                             CASE sigma_measure WHEN 'std' THEN std_from ELSE cv_from END,
                             CASE sigma_measure WHEN 'std' THEN std_to ELSE cv_to END,
                             beta, beta_pvalue, sigma_convergence, beta_convergence
                      FROM mart.convergence WHERE is_headline ORDER BY scope""")  # 'all' before 'metro'
    expected: dict[tuple[str, str, str], dict[str, str]] = {}
    series: dict[tuple[str, str], tuple[str, str, str]] = {}  # (indicator, level) → the 'all' headline's series
    for ind, level, source, scope, p0, p1, n, measure, s0, s1, beta, p, sigma_c, beta_c in rows:
        if scope == "all":
            series[(ind, level)] = (source, p0, p1)
            expected[(ind, level, source)] = {
                "indicator_id": ind, "level": level, "source_id": source, "periods": f"{p0} → {p1}", "n": str(n),
                "σ": f"{measure} {round(s0, 3)} → {round(s1, 3)}",
                "beta (p)": "–" if beta is None or math.isnan(beta) else
                f"{beta:.4g} ({'<0.001' if p < 0.001 else f'{p:.3f}'})",
                "converging": _verdict(sigma_c, beta_c, measure)}
        else:  # the metropolitan headline, with its periods when it is another comparison than all's
            all_source, a0, a1 = series[(ind, level)]
            text = _verdict(sigma_c, beta_c, measure)
            if (source, p0, p1) != (all_source, a0, a1):
                text += f" ({p0} → {p1})"
            expected[(ind, level, all_source)]["converging metro"] = text
    assert len(table) == 35  # one row per indicator × level with a headline comparison
    assert table[("taux_chomage", "departement", "insee_chomage_localise")] == {
        "indicator_id": "taux_chomage", "level": "departement", "source_id": "insee_chomage_localise",
        "periods": "2012 → 2021", "n": "96", "σ": "cv 0.183 → 0.192", "beta (p)": "-0.02493 (<0.001)",
        "converging": "β only (catch-up, cv up)", "converging metro": "β only (catch-up, cv up)"}


def test_dimension_coverage_and_france_headline_tables(published):
    """The coverage table names, per level and dimension, the periods scored in
    mart.dimension_scores, or why none is; the France table holds the latest headline sentences."""
    con, result = published
    coverage = _md_table(_asset_metadata(result, "dimension_scores")["coverage"])
    scored = {(level, dim): set(groups.split(",")) for level, dim, groups in _q(
        con, "SELECT level, dimension_id, string_agg(DISTINCT period_group, ',') FROM mart.dimension_scores GROUP BY ALL")}
    assert {(r["level"], r["dimension_id"]): set(r["period_groups"].split(",")) for r in coverage
            if r["period_groups"]} == scored
    unscored = {(r["level"], r["dimension_id"]): r["note"] for r in coverage if not r["period_groups"]}
    note = ("benevoles_pour_100_hab: 2015; participation_presidentielle_t1: 2007, 2012, 2017, 2022 "
            "(no common period)")
    assert unscored == {("departement", "capital_social"): note, ("region", "capital_social"): note}
    france = _md_table(_asset_metadata(result, "france_summary")["headline"])
    assert sorted((r["indicator_id"], r["code"], r["headline"]) for r in france) == _q(
        con, "SELECT indicator_id, code, headline FROM mart.france_summary WHERE is_latest AND headline IS NOT NULL "
             "ORDER BY ALL")
    assert len(france) == 19  # one per indicator × France perimeter with a latest headline


def test_cohesion_assets_are_grouped_and_published():
    import dagster as dg

    from assets.marts import MART_NAMES
    from barometre.definitions import defs

    graph = defs.resolve_asset_graph()
    names = ["disparities", "convergence", "rankings", "dimension_scores", "france_summary"]
    assert {graph.get(dg.AssetKey(["mart", n])).group_name for n in names} == {"cohesion"}
    assert set(names) <= set(MART_NAMES)
    publication = graph.get(dg.AssetKey("published_barometre"))
    assert {dg.AssetKey(["mart", n]) for n in names} <= set(publication.parent_keys)


def test_one_headline_comparison_per_indicator_level_and_scope(published):
    con, _ = published
    assert _q(con, """SELECT count(*) FROM (SELECT indicator_id, level, scope, count(*) FILTER (WHERE is_headline) AS k
                      FROM mart.convergence GROUP BY ALL) WHERE k <> 1""") == [(0,)]
    assert _q(con, "SELECT count(*) FILTER (WHERE is_headline), count(*) FROM mart.convergence") == [(70, 550)]
    # Population growth by département: the long run of INSEE's estimates (96 départements), not
    # the COG's 1.5-year pair 2020-2022 → 2022-2023 over 100, nor its 2019-2020 → 2022-2023 over the 4 DROM.
    assert _q(con, """SELECT source_id, period_from, period_to, n_common, std_from < std_to, verdict
                      FROM mart.convergence WHERE indicator_id = 'croissance_population_annuelle'
                        AND level = 'departement' AND scope = 'all' AND is_headline""") == [
        ("insee_estimations_population", "2012-2013", "2020-2021", 96, False, "converging")]
    # Doctors by département diverge (cv 0.268 → 0.307), income 2014 → 2019 (INSEE's base cc, the
    # series over the most départements) converges (β −1.67).
    assert _q(con, """SELECT indicator_id, period_from, period_to, round(cv_from, 3), round(cv_to, 3), round(beta, 2), verdict
                      FROM mart.convergence WHERE indicator_id IN ('medecins_pour_100k', 'revenu_median_uc')
                        AND level = 'departement' AND scope = 'all' AND is_headline ORDER BY 1""") == [
        ("medecins_pour_100k", "2012", "2021", 0.268, 0.307, 1.16, "diverging"),
        ("revenu_median_uc", "2014", "2019", 0.086, 0.081, -1.67, "converging")]


def test_the_ui_convergence_table_renders_the_headline_rows(published):
    con, result = published
    (event,) = result.asset_materializations_for_node("mart__convergence")
    lines = event.metadata["headline"].value.splitlines()
    cells = [[c.strip() for c in line.strip().strip("|").split("|")] for line in lines]
    rows = {(c[0], c[1]): c[2:] for c in cells[2:]}
    assert len(rows) == _q(con, "SELECT count(DISTINCT (indicator_id, level)) FROM mart.convergence")[0][0] == 35
    assert rows[("croissance_population_annuelle", "departement")] == [
        "insee_estimations_population", "2012-2013 → 2020-2021", "96", "std 0.572 → 0.469", "-0.04483 (<0.001)",
        "yes (σ and β)", "yes (σ and β)"]
    # the metropolitan headline is another series: its periods are said
    assert rows[("solde_migratoire_annuel", "region")][-2:] == [
        "yes (σ: std down)", "yes (σ: std down) (2012-2013 → 2020-2021)"]
