"""The raw-table declarations and their Great Expectations suites, on the real snapshot files."""

import subprocess
import sys

import pandas as pd
import pytest

from barometre import validation
from barometre.sources import cget_2018, chomage, cog, diplomes, drees_medecins, elections, etat_civil, filosofi, population
from barometre.sources._schema import KINDS, UNITS

PANELS = [(filosofi.SCHEMA, filosofi.parse, filosofi.FILE), (chomage.SCHEMA, chomage.parse, chomage.FILE),
          (population.SCHEMA, population.parse, population.FILE),
          (etat_civil.BIRTHS_SCHEMA, etat_civil.parse_births, etat_civil.BIRTHS_FILE),
          (etat_civil.DEATHS_SCHEMA, etat_civil.parse_deaths, etat_civil.DEATHS_FILE),
          (drees_medecins.SCHEMA, drees_medecins.parse, drees_medecins.FILE),
          (diplomes.SCHEMA, diplomes.parse, diplomes.FILE)]


def _kinds_match(schema, frame: pd.DataFrame) -> None:
    types = validation.column_types(frame)
    assert list(types["column"]) == list(schema.columns)
    for column, kind in schema.columns.items():
        assert types.set_index("column").loc[column, "type"] in KINDS[kind], (schema.table, column)


@pytest.mark.parametrize("schema, parse, file", PANELS, ids=[p[0].table for p in PANELS])
def test_panel_declarations_match_their_parsers(store, schema, parse, file):
    _kinds_match(schema, parse(store.read(file), file))
    assert schema.files == file


def test_other_declarations_match_their_parsers(store):
    frame = pd.concat([elections.parse(store.read(f), y, f) for y, f in elections.FILES.items()], ignore_index=True)
    _kinds_match(elections.SCHEMA, frame)
    _kinds_match(cget_2018.SCHEMA, cget_2018.parse_histo(store.read("barometre_2018/histo_1_1.csv"),
                                                         "barometre_2018/histo_1_1.csv", "1_1"))
    _kinds_match(cog.REGIONS_SCHEMA, cog.parse_regions(store.read(cog.path(2026, "regions")), 2026))
    _kinds_match(cog.DEPARTEMENTS_SCHEMA, cog.parse_departements(store.read(cog.path(2026, "departements")), 2026))


def test_plausible_bounds_lie_within_their_unit_domain(catalogue):
    for ind in catalogue.indicators:
        unit, (low, high) = UNITS[ind.unit], ind.plausible
        assert unit.min is None or low > unit.min or (low == unit.min and not unit.strict_min), ind.id
        assert unit.max is None or high <= unit.max, ind.id


def test_a_real_table_passes_its_suite(store, catalogue):
    frame = population.parse(store.read(population.FILE))
    [outcome] = validation.validate_raw(population.SCHEMA, frame, catalogue)
    assert (outcome.name, outcome.passed, outcome.severity, outcome.failures) == ("gx_suite", True, "ERROR", [])
    assert outcome.expectations == 10  # 8, plus the median range and the jump factor of pop_jan1


@pytest.mark.parametrize("old, new", [("1", "0"), ("1", "00"), ("95", "96"), ("9", "99")])
def test_a_ministry_code_is_1_to_95(store, catalogue, old, new):
    frame = pd.concat([elections.parse(store.read(f), y, f) for y, f in elections.FILES.items()], ignore_index=True)
    assert validation.validate_raw(elections.SCHEMA, frame, catalogue)[0].passed  # the real files
    frame.loc[(frame["year"] == 2017) & (frame["code_ministere"] == old), "code_ministere"] = new
    [outcome] = validation.validate_raw(elections.SCHEMA, frame, catalogue)
    assert [f.message() for f in outcome.failures] == [
        "elections/2017-t1-definitifs-departements.csv: column 'code_ministere': a Ministry code is 1…95 (with or "
        "without its leading zero), 2A, 2B or ZA…ZZ [expect_column_values_to_match_regex]: 1 row; "
        f"e.g. {{'year': 2017, 'code_ministere': '{new}'}}"]


def test_the_filosofi_medians_are_the_one_warning(store, catalogue):
    frame = filosofi.parse(store.read(filosofi.FILE))
    suite, median = validation.validate_raw(filosofi.SCHEMA, frame, catalogue)
    assert suite.passed and suite.name == "gx_suite"
    assert (median.name, median.passed, median.severity) == ("median_eur_integer", False, "WARN")
    [failure] = median.failures
    assert (failure.column, failure.count, failure.expectation) == ("q2_disp", 335, "expect_column_values_to_match_regex")
    assert failure.examples[0] == {"code_departement": "02", "year": 2012, "q2_disp": 17765.5555555556}
    assert len(failure.examples) == 10 and {e["year"] for e in failure.examples} <= {2012, 2013, 2014, 2015, 2016}
    assert median.notes == {"quarantined": {"median_eur_integer": 335, "median_vintage_averaged": 145}}
    assert median.description.endswith(
        "set aside in mart.rejected_rows, not published: 335 rows (median_eur_integer), 145 rows (median_vintage_averaged)")


def test_schema_drift_fails_the_quarantine_check_as_not_evaluated(store, catalogue):
    frame = filosofi.parse(store.read(filosofi.FILE)).rename(columns={"poverty_rate_disp": "poverty_rate"})
    suite, median = validation.validate_raw(filosofi.SCHEMA, frame, catalogue)
    assert not suite.passed
    assert (median.name, median.passed, median.severity, median.expectations, median.notes) == (
        "median_eur_integer", False, "WARN", 0, {})
    assert median.description == (
        f"{filosofi.FILE}: column 'q2_disp': a median in euros is a whole number as INSEE publishes it "
        "[expect_column_values_to_match_regex]: not evaluated: schema drift (missing columns ['poverty_rate_disp'])")


def test_missing_territories_are_counted_in_the_plural(store, catalogue):
    frame = population.parse(store.read(population.FILE))
    frame = frame[~(frame["code_departement"].isin(["2A", "2B"]) & (frame["year"] == 2016))]
    [outcome] = validation.validate_raw(population.SCHEMA, frame, catalogue)
    [failure] = outcome.failures
    assert failure.message() == (
        f"{population.FILE}: column 'code_departement': every one of the 96 metropolitan départements is present for "
        "each year [expect_column_values_to_be_between]: 2 missing territories; e.g. {'code_departement': '2A', "
        "'year': 2016, 'rows': 0}")


def test_schema_drift_and_a_wrong_kind_are_reported(store, catalogue):
    frame = chomage.parse(store.read(chomage.FILE))
    frame = frame.rename(columns={"unemployment_rate_raw": "rate_raw"}).assign(year=frame["year"].astype(str))
    [outcome] = validation.validate_raw(chomage.SCHEMA, frame, catalogue)
    messages = [f.message() for f in outcome.failures if f.group == "columns_and_types"]
    assert messages[0] == (
        f"{chomage.FILE}: exactly the declared columns, in this order (schema drift is an error) "
        "[expect_table_columns_to_match_ordered_list]: missing ['unemployment_rate_raw']; unexpected ['rate_raw']")
    assert messages[1] == (  # no column named: the example row names it ('type' is the helper frame's)
        f"{chomage.FILE}: each column has its declared kind: code_departement text, year int, unemployment_rate float, "
        "unemployment_rate_raw float [expect_column_pair_values_to_be_in_set]: 2 columns; "
        "e.g. {'column': 'year', 'type': 'str'}")


def test_gx_is_imported_once_with_progress_bars_off():
    runtime = validation.gx_runtime()
    assert validation.gx_runtime() is runtime
    assert runtime.context.variables.progress_bars.globally is False
    assert runtime.gx.__version__.startswith("1.24.")


def test_the_domain_imports_great_expectations_only_when_a_check_runs():
    code = "import sys, barometre.validation; print('great_expectations' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
