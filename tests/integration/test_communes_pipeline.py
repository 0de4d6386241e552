"""End to end (issue 15), on the session's full run: turnout 2017 from the commune counts at every
mesh, unemployment by zone d'emploi 2020, the SQL sums in the working database, the blocking
check, the findings of the passage of commune codes."""

import duckdb
import pytest

from barometre.sources import insee_chomage_zone_emploi as ze
from tests.conftest import SNAPSHOT

pytestmark = pytest.mark.integration
TURNOUT = "participation_presidentielle_t1"


def _q(con, sql):
    return con.execute(sql).fetchall()


def test_turnout_2017_at_every_mesh(published):
    con, _ = published
    n = dict(_q(con, f"SELECT level, count(DISTINCT code) FROM mart.indicator_values WHERE indicator_id = '{TURNOUT}' "
                     "AND period = '2017' AND is_reference AND geography_vintage IN ('cog_2017', 'cog_2026', 'ze_2020') "
                     "GROUP BY 1"))
    assert n["commune"] >= 34_000 and n["epci"] >= 1_200 and n["zone_emploi"] >= 290
    assert n == {"commune": 35_410, "epci": 1_251, "zone_emploi": 305, "departement": 101, "region": 18, "france": 3}
    # Every row summed from communes is derived, with its counts; the commune rows are not.
    rows = _q(con, f"SELECT level, bool_and(derived), bool_and(numerator IS NOT NULL AND denominator IS NOT NULL) "
                   f"FROM mart.indicator_values WHERE source_id = 'interieur_presidentielle_2017_communes' GROUP BY 1 "
                   f"ORDER BY 1")
    assert rows == [("commune", False, True), ("departement", True, True), ("epci", True, True),
                    ("france", True, True), ("region", True, True), ("zone_emploi", True, True)]
    # France métropolitaine et DROM from the communes: the CGET's 79.0.
    assert _q(con, f"SELECT numerator, denominator, round(value, 2) FROM mart.indicator_values WHERE indicator_id = "
                   f"'{TURNOUT}' AND code = 'FRMD' AND period = '2017' AND source_id = "
                   f"'interieur_presidentielle_2017_communes'") == [(36_257_037.0, 45_885_832.0, 79.02)]
    # Paris: one commune, one département, counts from the département file.
    assert _q(con, f"SELECT source_id, numerator, denominator FROM mart.indicator_values WHERE indicator_id = "
                   f"'{TURNOUT}' AND level = 'commune' AND code = '75056'") == [
        ("interieur_presidentielle_t1", 1_091_437.0, 1_301_637.0)]
    # The zone d'emploi 2020 rows are named, with their région when they lie in one.
    assert _q(con, "SELECT name, parent_region FROM mart.territories WHERE level = 'zone_emploi' AND "
                   "geography_vintage = 'ze_2020' AND code IN ('2804', '0051') ORDER BY code") == [
        ("Alençon", None), ("Caen", "28")]  # Alençon straddles Normandie and Pays de la Loire


def test_sql_mesh_table_in_the_working_database(baseline):
    con = duckdb.connect(str(baseline.work_db), read_only=True)
    try:
        rows = dict((tuple(r[:2]), r[2:]) for r in con.execute(
            "SELECT level, geography_vintage, count(*) FILTER (WHERE n_missing = 0), count(*) FILTER (WHERE n_missing > 0) "
            "FROM core.interieur_presidentielle_2017_mailles GROUP BY 1, 2").fetchall())
        caen = con.execute("SELECT missing, numerator FROM core.interieur_presidentielle_2017_mailles "
                           "WHERE level = 'zone_emploi' AND code = '2804'").fetchall()
    finally:
        con.close()
    assert rows[("epci", "cog_2026")] == (1_251, 4) and rows[("zone_emploi", "ze_2020")] == (305, 1)
    assert rows[("departement", "cog_2026")] == (101, 0) and rows[("region", "cog_2026")] == (18, 0)
    assert caen == [("14666", None)]  # Sannerville, restored in 2020, has no 2017 count


def test_blocking_check_of_the_commune_derived_departements(published):
    _, result = published
    evals = [e for e in result.get_asset_check_evaluations()
             if e.check_name == "communes_sum_to_ministry_departements"]
    assert len(evals) == 1 and evals[0].passed
    assert evals[0].metadata["departements_compared"].value == 100  # Paris is not in the commune file
    assert evals[0].metadata["differences"].value == 0


def test_unemployment_by_zone_emploi(published):
    con, _ = published
    periods = _q(con, "SELECT count(DISTINCT period), min(period), max(period) FROM mart.indicator_values "
                      "WHERE indicator_id = 'taux_chomage' AND level = 'zone_emploi' AND geography_vintage = 'ze_2020'")
    assert periods == [(20, "2003", "2022")]
    per_year = dict(_q(con, "SELECT period, count(*) FROM mart.indicator_values WHERE indicator_id = 'taux_chomage' "
                            "AND level = 'zone_emploi' GROUP BY 1"))
    assert per_year["2013"] == 287 and per_year["2014"] == 302  # the 15 DROM zones start in 2014
    # The value is the mean of the four quarters of the workbook (recomputed from the raw file).
    q = ze.parse_quarterly((SNAPSHOT / ze.FILE_TAUX).read_bytes())
    four = q[(q["code_zone_emploi"] == "2804") & (q["year"] == 2019)]["value"].tolist()
    assert len(four) == 4
    published = _q(con, "SELECT value FROM mart.indicator_values WHERE indicator_id = 'taux_chomage' "
                        "AND level = 'zone_emploi' AND code = '2804' AND period = '2019'")[0][0]
    assert published == round(sum(round(v * 10) for v in four) / 40 + 1e-9, 1)
    kinds = dict(_q(con, "SELECT kind, count(*) FROM mart.quality_report WHERE source_id = 'insee_chomage_zone_emploi' "
                         "GROUP BY 1"))
    assert kinds == {"not_published": 4 + 15, "incomplete_year": 1}  # Guyane 3 + Mayotte 1; DROM before 2014; 2023
    assert _q(con, "SELECT code FROM mart.quality_report WHERE source_id = 'insee_chomage_zone_emploi' AND "
                   "kind = 'not_published' AND period IS NULL ORDER BY code") == [("0301",), ("0302",), ("0303",),
                                                                                  ("0601",)]


def test_commune_mapping_findings_are_reported(published):
    con, _ = published
    kinds = dict(_q(con, "SELECT kind, count(*) FROM mart.quality_report WHERE source_id = "
                         "'interieur_presidentielle_2017_communes' GROUP BY 1"))
    assert kinds["wrong_source_code"] == 18  # Saint-Lucien and the 17 communes of Mayotte
    assert kinds["split_commune"] >= 3 and kinds["commune_without_source"] >= 1
    assert _q(con, "SELECT code FROM mart.quality_report WHERE kind = 'wrong_source_code' AND detail LIKE "
                   "'%076601%'") == [("76601",)]
    # Essarts en Bocage (85084), split in 2024: its 2017 counts cannot be divided, reported.
    assert _q(con, "SELECT count(*) > 0 FROM mart.quality_report WHERE kind = 'split_commune' AND code = '85084'") == [
        (True,)]
