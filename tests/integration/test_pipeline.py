"""End to end: materialise every asset on the bundled snapshot into a temporary directory and
check the published mart against values read from the raw files."""

import csv

import pytest

from barometre.sources import elections
from tests.conftest import SNAPSHOT

pytestmark = pytest.mark.integration

# The `published` fixture (one run for the whole session) is in tests/integration/conftest.py.


def _q(con, sql):
    return con.execute(sql).fetchall()


def test_every_indicator_dimension_and_level(published):
    con, _ = published
    assert _q(con, "SELECT count(*) FROM mart.dimensions") == [(6,)]
    assert _q(con, "SELECT count(DISTINCT indicator_id) FROM mart.indicator_values WHERE value IS NOT NULL") == [(16,)]
    levels = {r[0] for r in _q(con, "SELECT DISTINCT level FROM mart.indicator_values")}
    assert levels == {"france", "region", "departement", "epci", "zone_emploi", "commune"}
    periods = dict(_q(con, "SELECT indicator_id, count(DISTINCT period) FROM mart.indicator_values "
                           "WHERE is_reference GROUP BY 1"))
    assert periods == {
        "benevoles_pour_100_hab": 1, "coefficient_integration_fiscale": 2, "croissance_population_annuelle": 11,
        "medecins_pour_100k": 10, "part_65_ans_plus": 47, "part_chomage_longue_duree": 2, "part_diplomes_superieur": 3,
        "part_fonctions_productives": 2, "part_locaux_thd": 2, "part_neet_15_24": 8, "part_revenus_sociaux": 7,
        "participation_presidentielle_t1": 4, "revenu_median_uc": 9, "solde_migratoire_annuel": 11,
        "taux_chomage": 20, "taux_pauvrete": 10}
    # As many as the raw files hold: the years of the INSEE, DREES and Filosofi panels, the census
    # years of the diplomas, the elections, the CGET's two dates.
    # taux_chomage: 2003–2022 by zone d'emploi 2020 (tests/integration/test_communes_pipeline.py).
    for indicator, file, column in [("medecins_pour_100k", "doctor_density_drees.csv", "year"),
                                    ("taux_pauvrete", "income_poverty_filosofi.csv", "year"),
                                    ("part_diplomes_superieur", "education_snapshots_insee.csv", "year")]:
        with open(SNAPSHOT / "departements_2012_2021" / file, encoding="utf-8", newline="") as f:
            years = {row[column] for row in csv.DictReader(f, delimiter=";")}
        assert periods[indicator] == len(years), indicator
    assert periods["participation_presidentielle_t1"] == len(elections.FILES)
    with open(SNAPSHOT / "barometre_2018" / "carte_4_4.csv", encoding="utf-8", newline="") as f:
        assert periods["part_fonctions_productives"] == len({row[k] for row in csv.DictReader(f)
                                                             for k in ("year0", "year1")})


def test_exact_values(published):
    con, _ = published
    def value(indicator, level, code, period):
        return _q(con, f"SELECT value FROM mart.indicator_values WHERE is_reference AND indicator_id = '{indicator}' "
                       f"AND level = '{level}' AND code = '{code}' AND period = '{period}'")
    assert value("revenu_median_uc", "region", "11", "2012") == [(22180.0,)]
    assert value("revenu_median_uc", "france", "FRM", "2012") == [(19786.0,)]
    assert value("revenu_median_uc", "departement", "01", "2017") == [(22640.0,)]
    assert value("part_fonctions_productives", "zone_emploi", "0050", "2009") == [(35.0,)]
    assert value("taux_chomage", "departement", "2A", "2012") == [(8.7,)]
    assert value("participation_presidentielle_t1", "france", "FRMD", "2017") == [(79.0,)]


def test_no_filosofi_median_before_2017_and_rejections_recorded(published):
    """The compilation's averaged 2012–2016 medians stay rejected; 2014–2016 come from INSEE's base cc."""
    con, _ = published
    assert _q(con, "SELECT min(period) FROM mart.indicator_values WHERE indicator_id = 'revenu_median_uc' "
                   "AND level = 'departement' AND source_id = 'insee_filosofi_departement'") == [("2017",)]
    assert _q(con, "SELECT rule, count(*) FROM mart.rejected_rows GROUP BY 1 ORDER BY 1") == [
        ("median_eur_integer", 335), ("median_vintage_averaged", 145)]


def test_one_reference_row_per_key_and_both_turnouts_kept(published):
    con, _ = published
    assert _q(con, """SELECT count(*) FROM (SELECT indicator_id, level, code, geography_vintage, period
                      FROM mart.indicator_values GROUP BY ALL HAVING count(*) FILTER (WHERE is_reference) <> 1)""") == [(0,)]
    rows = _q(con, "SELECT source_id, derived, is_reference, round(value, 2) FROM mart.indicator_values "
                   "WHERE indicator_id = 'participation_presidentielle_t1' AND level = 'region' AND code = '11' "
                   "AND period = '2017' ORDER BY is_reference DESC, source_id")
    # The same région summed from its communes (docs/communes.md): the same counts, never the reference.
    assert rows == [("cget_barometre_2018", False, True, 79.9),
                    ("interieur_presidentielle_2017_communes", True, False, 79.89),
                    ("interieur_presidentielle_t1", True, False, 79.89)]


def test_codes_are_strings_with_leading_zeros(published):
    con, _ = published
    assert _q(con, "SELECT typeof(code) FROM mart.indicator_values LIMIT 1") == [("VARCHAR",)]
    deps = {r[0] for r in _q(con, "SELECT code FROM mart.territories WHERE level = 'departement'")}
    assert {"01", "2A", "2B", "971", "976"} <= deps and "1" not in deps and "20" not in deps
    assert _q(con, "SELECT count(*) FROM mart.territories WHERE level = 'epci' AND NOT regexp_full_match(code, '[0-9]{9}')") == [(0,)]


def test_growth_leaves_out_repeated_cog_releases(published):
    con, _ = published
    periods = [r[0] for r in _q(con, "SELECT DISTINCT period FROM mart.indicator_values WHERE "
                                      "indicator_id = 'croissance_population_annuelle' AND level = 'epci' ORDER BY 1")]
    assert periods == ["2019-2020", "2020-2022", "2022-2023"]
    assert _q(con, "SELECT geography_vintage FROM mart.quality_report WHERE kind = 'repeated_vintage' ORDER BY 1") == [
        ("cog_2023",), ("cog_2026",)]
    # Mayotte's populations légales repeat its 2017 census: no false 0 % growth from the COG.
    assert _q(con, "SELECT count(*) FROM mart.indicator_values WHERE indicator_id = 'croissance_population_annuelle' "
                   "AND source_id = 'etalab_decoupage_administratif' "
                   "AND ((level = 'departement' AND code = '976') OR (level = 'region' AND code = '06'))") == [(0,)]
    assert _q(con, "SELECT code FROM mart.quality_report WHERE kind = 'static_population'") == [("976",)]


def test_france_turnout_2022_reported_not_computed(published):
    con, _ = published
    assert _q(con, "SELECT count(*) FROM mart.indicator_values WHERE indicator_id = 'participation_presidentielle_t1' "
                   "AND code = 'FR' AND period = '2022'") == [(0,)]
    assert _q(con, "SELECT kind FROM mart.quality_report WHERE code = 'FR' AND period = '2022'") == [("not_computable",)]


def test_sources_have_checksums(published):
    con, _ = published
    rows = _q(con, "SELECT source_id, count(*), count(sha256) FROM mart.sources GROUP BY 1 ORDER BY 1")
    assert {r[0] for r in rows} == {
        "cget_barometre_2018", "drees_medecins", "etalab_decoupage_administratif", "insee_chomage_localise",
        "insee_deces", "insee_diplomes_rp", "insee_estimations_population", "insee_filosofi_departement",
        "insee_naissances", "interieur_presidentielle_t1", "insee_filosofi_cc", "insee_estimations_population_age",
        "neet_observatoire_territoires", "interieur_presidentielle_2017_communes",
        "insee_chomage_zone_emploi", "insee_zonage_zones_emploi_2020"}
    assert all(n == n_sha for _, n, n_sha in rows)


def test_definitions_load():
    import dagster as dg

    from barometre.definitions import defs

    dg.Definitions.validate_loadable(defs)
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert "indicators/revenu_median_uc" in keys and "mart/indicator_values" in keys and "published_barometre" in keys
    graph = defs.resolve_asset_graph()
    groups = {i: graph.get(dg.AssetKey(["indicators", i])).group_name for i in ("revenu_median_uc", "taux_chomage")}
    assert groups == {"revenu_median_uc": "qualite_de_vie", "taux_chomage": "empowerment"}


def test_levels_and_periods_are_exactly_those_of_the_catalogue(published, catalogue):
    con, _ = published
    got: dict[tuple[str, str], set[str]] = {}
    for ind, level, period in _q(con, "SELECT DISTINCT indicator_id, level, period FROM mart.indicator_values"):
        got.setdefault((ind, level), set()).add(period)
    expected = {(i.id, level): set(periods) for i in catalogue.indicators for level, periods in i.periods.items()}
    assert got == expected


def test_every_value_has_its_territory(published):
    con, _ = published
    assert _q(con, """SELECT count(*) FROM (SELECT DISTINCT level, code, geography_vintage FROM mart.indicator_values)
                      ANTI JOIN mart.territories USING (level, code, geography_vintage)""") == [(0,)]
    assert _q(con, "SELECT name, parent_region FROM mart.territories WHERE level = 'departement' AND code = '2A'") == [
        ("Corse-du-Sud", "94")]


# --- Producer series (issue 14) ------------------------------------------------------------------


def _periods(con, indicator, level):
    return {r[0] for r in _q(con, f"SELECT DISTINCT period FROM mart.indicator_values WHERE is_reference AND "
                                  f"indicator_id = '{indicator}' AND level = '{level}'")}


def test_producer_series_periods(published):
    con, _ = published
    assert len(_periods(con, "revenu_median_uc", "departement")) >= 8
    assert len(_periods(con, "revenu_median_uc", "region")) >= 6
    assert len(_periods(con, "revenu_median_uc", "zone_emploi")) >= 6
    assert {str(y) for y in range(2014, 2020)} <= {
        r[0] for r in _q(con, "SELECT period FROM mart.indicator_values WHERE indicator_id = 'taux_pauvrete' "
                              "AND level = 'france' AND code = 'FRM' AND is_reference")}
    assert len(_periods(con, "part_65_ans_plus", "departement")) >= 40


def test_producer_series_exact_values(published):
    """One value per level, equal to the raw files (tests/unit/test_producer_series.py reads them)."""
    con, _ = published
    def ref(indicator, level, code, period):
        return _q(con, f"SELECT source_id, round(value, 6) FROM mart.indicator_values WHERE is_reference AND "
                       f"indicator_id = '{indicator}' AND level = '{level}' AND code = '{code}' AND period = '{period}'")
    # Filosofi base cc: METRO sheet 2019 (MED 21 930, TP60 14.5, PPEN 28.3 + PPSOC 5.8), DEP Ain 2018,
    # EPCI CC Faucigny-Glières 2019, ZE2020 Alençon 2019, REG Martinique 2018
    assert ref("revenu_median_uc", "france", "FRM", "2019") == [("insee_filosofi_cc", 21930.0)]
    assert ref("taux_pauvrete", "france", "FRM", "2019") == [("insee_filosofi_cc", 14.5)]
    assert ref("part_revenus_sociaux", "france", "FRM", "2019") == [("insee_filosofi_cc", round(28.3 + 5.8, 6))]
    assert ref("revenu_median_uc", "departement", "01", "2018") == [("insee_filosofi_cc", 23420.0)]
    assert ref("taux_pauvrete", "epci", "200000172", "2019") == [("insee_filosofi_cc", 9.2)]
    assert ref("revenu_median_uc", "zone_emploi", "0051", "2019") == [("insee_filosofi_cc", 20580.0)]
    assert _q(con, "SELECT geography_vintage FROM mart.indicator_values WHERE indicator_id = 'revenu_median_uc' "
                   "AND level = 'zone_emploi' AND code = '0051' AND period = '2019'") == [("ze_2020",)]
    assert ref("taux_pauvrete", "region", "02", "2018") == [("insee_filosofi_cc", 29.8)]
    # population by age: FRM 2021 = 13 660 525 / 65 235 843 (Hommes + Femmes of the 2021 sheet)
    assert ref("part_65_ans_plus", "france", "FRM", "2021") == [
        ("insee_estimations_population_age", round(100 * 13660525 / 65235843, 6))]
    # NEET: Ain 2007 11.4, EPCI 200000172 2013 14.0, région 01 2012 26.2
    assert ref("part_neet_15_24", "departement", "01", "2007") == [("neet_observatoire_territoires", 11.4)]
    assert ref("part_neet_15_24", "epci", "200000172", "2013") == [("neet_observatoire_territoires", 14.0)]
    assert ref("part_neet_15_24", "region", "01", "2012") == [("neet_observatoire_territoires", 26.2)]


def test_producer_series_findings(published):
    con, _ = published
    kinds = dict(_q(con, "SELECT kind, count(*) FROM mart.quality_report WHERE source_id IN ('insee_filosofi_cc', "
                         "'insee_estimations_population_age') GROUP BY 1"))
    # 167 EPCI and 5 zone rates shown as 5 (0–5 %); 6 Budget de famille rows × 3 indicators
    assert kinds["censored_value"] == 172 and kinds["left_out"] == 18 and kinds["provisional"] == 3
    assert _q(con, "SELECT code, period FROM mart.quality_report WHERE kind = 'source_error'") == [("19", "2021")]
    assert _q(con, "SELECT count(*) FROM mart.quality_report WHERE kind = 'secrecy' AND detail LIKE '0 cell%'") == [(0,)]
    # the 4 ZE medians of 2014 that the CGET rounded 0.52–0.54 € away from INSEE's are listed
    assert sorted(r[0] for r in _q(con, "SELECT code FROM mart.quality_report WHERE kind = 'source_disagreement' "
                                         "AND indicator_id = 'revenu_median_uc' AND level = 'zone_emploi'")) == [
        "2408", "2513", "9108", "9403"]
    producer = _q(con, "SELECT DISTINCT producer FROM mart.sources WHERE source_id = 'neet_observatoire_territoires'")
    assert len(producer) == 1 and "attribution inferred" in producer[0][0]
    assert _q(con, "SELECT name FROM mart.territories WHERE level = 'zone_emploi' AND geography_vintage = 'ze_2020' "
                   "AND code = '0051'") == [("Alençon",)]
