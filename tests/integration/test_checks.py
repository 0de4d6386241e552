"""The asset checks on the real snapshot, and the checks of the derived values on tampered
copies of the baseline's mart.indicator_values."""

import dagster as dg
import duckdb
import pandas as pd
import pytest

from barometre import geography, validation
from barometre.duckdb_config import duckdb_config

pytestmark = pytest.mark.integration


def test_every_check_passes_on_the_real_snapshot_but_the_filosofi_medians(baseline):
    evaluations = {(e.asset_key.to_user_string(), e.check_name): e for e in baseline.result.get_asset_check_evaluations()}
    # 32 raw suites (13 of the producer series, issue 14; 4 of issue 15), the Filosofi median rule, the source
    # folders, 3 derived-value checks, the commune-derived départements (assets/communes.py)
    assert len(evaluations) == 38
    failed = {key: e.severity for key, e in evaluations.items() if not e.passed}
    assert failed == {("raw/insee_filosofi_departement", "median_eur_integer"): dg.AssetCheckSeverity.WARN}
    assert {k for k in evaluations if k[0] == "mart/indicator_values"} == {
        ("mart/indicator_values", name) for name in validation.DERIVED_CHECKS}
    derived = evaluations[("mart/indicator_values", "derived_region_values")].metadata
    assert derived["rows_checked"].value == 1252  # 487, 747 part_65_ans_plus régions 1975–2021, the 18 régions of turnout 2017 from communes


def test_every_raw_asset_has_a_blocking_suite():
    from barometre.definitions import defs

    graph = defs.resolve_asset_graph()
    raw = {k for k in graph.get_all_asset_keys() if k.path[0] == "raw"}
    specs = {(s.asset_key, s.name): s for c in defs.asset_checks for s in c.check_specs}
    assert {k for k, name in specs if name == "gx_suite"} == raw
    assert all(s.blocking for (k, name), s in specs.items() if name != "median_eur_integer")
    assert not specs[(dg.AssetKey(["raw", "insee_filosofi_departement"]), "median_eur_integer")].blocking


@pytest.fixture(scope="module")
def mart(baseline):
    con = duckdb.connect(str(baseline.work_db), read_only=True, config=duckdb_config())
    try:
        values = con.execute("SELECT * FROM mart.indicator_values").df()
        hierarchy = con.execute("SELECT * FROM core.hierarchie_territoires WHERE child_level <> 'commune'").df()
    finally:
        con.close()
    return values, hierarchy


def _outcome(values, hierarchy, catalogue, name):
    [outcome] = [o for o in validation.validate_indicator_values(values, hierarchy, catalogue) if o.name == name]
    return outcome


def _row(values, **key):
    """The index of the one row of ``values`` with these column values."""
    [index] = values.index[(values[list(key)] == pd.Series(key)).all(axis=1)]
    return index


def test_a_region_value_that_is_not_the_ratio_of_its_departements_sums(mart, catalogue):
    values, hierarchy = mart
    values = values.copy()
    i = _row(values, indicator_id="participation_presidentielle_t1", level="region", code="11", period="2017",
             source_id="interieur_presidentielle_t1")
    values.loc[i, "value"] += 0.5
    outcome = _outcome(values, hierarchy, catalogue, "derived_region_values")
    [failure] = outcome.failures
    assert failure.message().startswith(
        "mart.indicator_values: column 'value_gap': région value = formula(Σ numerators, Σ denominators) of its "
        "départements [expect_column_values_to_be_between]: 1 row; e.g. {'indicator_id': "
        "'participation_presidentielle_t1', 'source_id': 'interieur_presidentielle_t1', 'code': '11', 'period': '2017'")


def test_a_region_that_lost_a_departement(mart, catalogue):
    values, hierarchy = mart
    i = _row(values, indicator_id="medecins_pour_100k", level="departement", code="2A", period="2015")
    outcome = _outcome(values.drop(index=i), hierarchy, catalogue, "derived_region_values")
    rules = [(f.rule, f.examples[0]["code"], f.examples[0].get("missing_departements")) for f in outcome.failures]
    assert rules[0] == ("a derived région has the counts of all its départements", "94", "2A")
    assert "région numerator = Σ numerators of its départements" in [f.rule for f in outcome.failures]


CORSICA_2017 = dict(indicator_id="participation_presidentielle_t1", period="2017", source_id="interieur_presidentielle_t1")
CORSICA_EXAMPLE = {"indicator_id": "participation_presidentielle_t1", "source_id": "interieur_presidentielle_t1",
                   "code": "94", "period": "2017"}


def test_a_region_summed_from_part_of_its_departements(mart, catalogue):
    """2A has a row but no counts, and Corse (94) is 2B alone: the sums, gaps and value agree
    with each other, but 2A's counts are missing from them."""
    values, hierarchy = mart
    values = values.copy()
    a, b = (_row(values, level="departement", code=code, **CORSICA_2017) for code in ("2A", "2B"))
    values.loc[a, ["numerator", "denominator"]] = float("nan")
    values.loc[_row(values, level="region", code="94", **CORSICA_2017), ["value", "numerator", "denominator"]] = \
        values.loc[b, ["value", "numerator", "denominator"]].to_numpy()
    outcome = _outcome(values, hierarchy, catalogue, "derived_region_values")
    [failure] = outcome.failures
    assert failure.message() == (
        "mart.indicator_values: column 'missing_departements': a derived région has the counts of all its "
        "départements [expect_column_values_to_be_null]: 1 row; e.g. "
        f"{ {**CORSICA_EXAMPLE, 'missing_departements': '2A'} }")


def test_a_departement_without_its_denominator(mart, catalogue):
    values, hierarchy = mart
    values = values.copy()
    values.loc[_row(values, level="departement", code="2A", **CORSICA_2017), "denominator"] = float("nan")
    outcome = _outcome(values, hierarchy, catalogue, "derived_region_values")
    [failure] = outcome.failures
    assert (failure.rule, failure.count, failure.examples) == (
        "a derived région has the counts of all its départements", 1,
        [{**CORSICA_EXAMPLE, "missing_departements": "2A"}])


def test_a_region_with_no_departement_in_the_mapping(mart, catalogue):
    values, hierarchy = mart
    no_corsica = hierarchy[~((hierarchy["parent_level"] == "region") & (hierarchy["parent_code"] == "94"))]
    outcome = _outcome(values, no_corsica, catalogue, "derived_region_values")
    [failure] = outcome.failures
    assert (failure.rule, failure.count, failure.examples[0]["code"], failure.examples[0]["missing_departements"]) == (
        "a derived région has the counts of all its départements", 83, "94",  # with turnout 2017 from communes
        "(no département of this région in core.hierarchie_territoires)")


def test_no_derived_region_and_no_france_value_to_check(mart, catalogue):
    values, hierarchy = mart
    values = values[~((values["level"] == "region") & values["derived"]) & ~values["code"].isin(["FRM", "FRMD"])]
    outcomes = validation.validate_indicator_values(values, hierarchy, catalogue)
    assert [(o.name, o.passed, o.notes["rows_checked"]) for o in outcomes] == [
        ("derived_region_values", True, 0), ("france_within_regions", True, 0), ("plausible_bounds", True, 115234)]  # with the 2017 communes, EPCI and ZE2020 rows


def test_a_france_value_outside_its_regions(mart, catalogue):
    values, hierarchy = mart
    values = values.copy()
    i = _row(values, indicator_id="medecins_pour_100k", level="france", code="FRM", period="2015")
    values.loc[i, "value"] = 250.0  # régions range from 267.4 to 400.8
    outcome = _outcome(values, hierarchy, catalogue, "france_within_regions")
    [failure] = outcome.failures
    assert failure.rule == "a France value is ≥ the smallest value of its régions"
    assert failure.examples == [{"indicator_id": "medecins_pour_100k", "source_id": "drees_medecins", "code": "FRM",
                                 "period": "2015", "value": 250.0, "region_min": pytest.approx(267.394, abs=1e-3)}]


def test_a_value_outside_its_plausible_bounds(mart, catalogue):
    values, hierarchy = mart
    values = values.copy()
    i = _row(values, indicator_id="taux_chomage", level="departement", code="2B", period="2020")
    values.loc[i, "value"] = 85.0
    outcome = _outcome(values, hierarchy, catalogue, "plausible_bounds")
    [failure] = outcome.failures
    assert failure.rule == "a value is ≤ its indicator's plausible maximum (catalogue)"
    assert failure.examples[0]["code"] == "2B" and failure.examples[0]["plausible_max"] == 40.0


def _france_reference(values, hierarchy):
    """france_frame restated row by row: each France value and its régions' values of the same
    indicator, source and period (the executable specification of its merge and groupby)."""
    regions_of_france = geography.children_of(hierarchy, "region", "france")
    france = values[(values["level"] == "france") & values["code"].isin(list(regions_of_france))]
    regions = values[values["level"] == "region"]
    rows = []
    for (ind, src, period, code), group in france.groupby(["indicator_id", "source_id", "period", "code"]):
        members = regions[(regions["indicator_id"] == ind) & (regions["source_id"] == src)
                          & (regions["period"] == period) & regions["code"].isin(regions_of_france[code])]
        for value in group["value"]:
            rows.append({"indicator_id": ind, "source_id": src, "code": code, "period": period, "value": value,
                         "regions_with_value": len(members),
                         "region_min": members["value"].min() if len(members) else float("nan"),
                         "region_max": members["value"].max() if len(members) else float("nan")})
    return pd.DataFrame(rows)


def test_the_france_frame_is_its_row_by_row_specification(mart):
    values, hierarchy = mart
    tampered = values.copy()
    regions = tampered.index[tampered["level"] == "region"]
    tampered.loc[regions[::10], "value"] = float("nan")  # missing région values
    tampered = tampered.drop(regions[1::3])  # absent régions
    tampered.loc[tampered.index[(tampered["level"] == "region") & (tampered["source_id"] == "drees_medecins")],
                 "source_id"] = "another_source"  # France values with no région of their source
    for frame in (values, tampered):
        checked, unchecked = validation.france_frame(frame, hierarchy)
        expected = _france_reference(frame, hierarchy)
        got = pd.concat([checked, unchecked]).sort_values(["indicator_id", "source_id", "period", "code"],
                                                          kind="stable").reset_index(drop=True)
        pd.testing.assert_frame_equal(got, expected)
    checked, unchecked = validation.france_frame(values, hierarchy)
    assert (len(checked), len(unchecked)) == (138, 0)  # FRM and FRMD values, each with régions of its source
    row = checked[(checked["indicator_id"] == "medecins_pour_100k") & (checked["code"] == "FRM")
                  & (checked["period"] == "2015")].iloc[0]
    assert (row["regions_with_value"], round(row["region_min"], 3), round(row["region_max"], 3)) == (13, 267.394, 400.821)
