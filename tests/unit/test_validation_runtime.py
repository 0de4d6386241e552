"""The Great Expectations runtime the suites share in a process (barometre/validation/runtime.py):
one context, data source, asset and batch definition for every suite; the expectations'
configurations computed once per object during a validation; no stale result between suites."""

import pandas as pd

from barometre import validation
from barometre.sources import etat_civil, population
from barometre.validation import raw, runtime


def _batches(schema, frame, catalogue) -> int:
    """The number of frames (GX batches) of a table's suite."""
    rules, _ = raw._raw_rules(schema, runtime._for_gx(frame), raw.column_types(frame), catalogue, {})
    return len({r.batch for r in rules})


def test_one_context_data_source_asset_and_batch_definition_for_every_suite(store, catalogue):
    gx_runtime = validation.gx_runtime()
    before = gx_runtime.validations
    people = population.parse(store.read(population.FILE))
    births = etat_civil.parse_births(store.read(etat_civil.BIRTHS_FILE))
    outcomes = (validation.validate_raw(population.SCHEMA, people, catalogue)
                + validation.validate_raw(etat_civil.BIRTHS_SCHEMA, births, catalogue))
    assert [(o.table, o.passed) for o in outcomes] == [
        ("raw.insee_estimations_population_departement", True), ("raw.insee_naissances_departement", True)]
    assert validation.gx_runtime() is gx_runtime
    # built once in the process, whatever the number of suites and frames validated since: the
    # context holds one data source, with one asset and one batch definition
    assert [ds.name for ds in gx_runtime.context.data_sources.all().values()] == ["barometre"]
    assert [a.name for a in gx_runtime.source.assets] == ["frame"]
    assert [d.name for d in gx_runtime.source.assets[0].batch_definitions] == ["frame"]
    # both suites passed: one validation (BOOLEAN_ONLY) per frame, 5 frames each (the table, its
    # column types, the coverage grid, the medians, the jump factors)
    assert _batches(population.SCHEMA, people, catalogue) == _batches(etat_civil.BIRTHS_SCHEMA, births, catalogue) == 5
    assert gx_runtime.validations - before == 10


def test_a_failing_suite_after_a_passing_one_reports_its_example_rows(store, catalogue):
    frame = population.parse(store.read(population.FILE))
    [real] = validation.validate_raw(population.SCHEMA, frame, catalogue)
    assert real.passed and real.expectations == 10
    bad = frame.copy()
    bad.loc[(bad["code_departement"] == "2A") & (bad["year"] == 2016), "pop_jan1"] *= 100  # 152 730 → 15 273 000
    [outcome] = validation.validate_raw(population.SCHEMA, bad, catalogue)
    assert (outcome.passed, outcome.severity) == (False, "ERROR")
    [failure] = outcome.failures
    assert (failure.group, failure.column, failure.count) == ("scale_and_jumps", "pop_jan1", 2)  # 2015 → 2016 → 2017
    assert failure.message() == (
        "departements_2012_2021/population_insee.csv: column 'pop_jan1': a value changes by a factor ≤ 2 from the "
        "territory's previous year (declared in raw.insee_estimations_population_departement) "
        "[expect_column_values_to_be_between]: 2 rows; e.g. {'code_departement': '2A', 'year': 2016, "
        "'factor': 101.02992208472467, 'previous_period': 2015.0, 'previous': 152730.0, 'pop_jan1': 15430300.0}")
    assert [(e["code_departement"], e["year"]) for e in failure.examples] == [("2A", 2016), ("2A", 2017)]
    # and the real table, validated again through the same batch definition, passes again
    [again] = validation.validate_raw(population.SCHEMA, frame, catalogue)
    assert again.passed and again.failures == []


def _results(validated) -> list[dict]:
    out = []
    for result in validated.results:
        d = result.to_json_dict()
        d.pop("meta", None)
        out.append(d)
    return out


def test_the_configuration_memo_gives_gx_own_results():
    from great_expectations.expectations.expectation import Expectation

    gx_runtime = validation.gx_runtime()
    assert Expectation.__dict__["configuration"].fget.barometre_memo  # installed once, by gx_runtime
    E = gx_runtime.gx.expectations
    frame = pd.DataFrame({"code": ["01", "02", "2A", "20", "976"], "year": [2016, 2016, 2017, 2017, 2017],
                          "value": [1.5, None, 250.0, 3.0, -1.0]})

    def expectations():
        return [E.ExpectColumnValuesToMatchRegex(column="code", regex=r"^(?:\d{2}|2[AB]|97\d)$"),
                E.ExpectColumnValuesToBeBetween(column="value", min_value=0, max_value=100),
                E.ExpectColumnValuesToNotBeNull(column="value"),
                E.ExpectCompoundColumnsToBeUnique(column_list=["code", "year"]),
                E.ExpectColumnValuesToBeInSet(column="year", value_set=[2016])]

    fmt = {"result_format": "SUMMARY", "partial_unexpected_count": 10, "unexpected_index_column_names": ["code"]}
    memoised = gx_runtime.validate("memo", frame, expectations(), fmt)
    assert runtime._MEMO.configurations is None  # dropped when the validation ends
    # GX's own property: the same validator, called outside _Runtime.validate (no memo)
    plain = gx_runtime.validator(batch_definition=gx_runtime.definition, batch_parameters={"dataframe": frame},
                                 result_format=fmt).validate_expectation_suite(
        gx_runtime.gx.ExpectationSuite(name="memo", expectations=expectations()))
    assert _results(memoised) == _results(plain)
    assert [r.success for r in memoised.results] == [True, False, False, True, False]
    between = memoised.results[1].result
    assert (between["unexpected_count"], between["partial_unexpected_index_list"]) == (
        2, [{"code": "2A", "value": 250.0}, {"code": "976", "value": -1.0}])
    # no fingerprint of the frame is computed (HASH_THRESHOLD 0): nothing reads it
    assert "pandas_data_fingerprint" not in memoised.meta["batch_markers"]


def test_a_large_frame_is_validated_column_set_by_column_set_with_the_same_outcome(store, catalogue, monkeypatch):
    from barometre.sources import registry

    [parse] = [p for p in registry.parses() if any(t.name == "insee_chomage_zone_emploi" for t in p.tables)]
    frame = parse.run(store, catalogue)["insee_chomage_zone_emploi"]
    schema = registry.raw_tables()["insee_chomage_zone_emploi"].schema
    assert len(frame) == 25066 >= runtime.NARROW_ROWS
    bad = frame.copy()
    bad.loc[5, "code_zone_emploi"] = "051"  # Alençon, 2004-T2, lost its leading zero
    bad.loc[[7, 9000], "value"] = 150.0
    gx_runtime = validation.gx_runtime()
    before = gx_runtime.validations
    narrowed = validation.validate_raw(schema, bad, catalogue)
    narrowed_validations = gx_runtime.validations - before
    monkeypatch.setattr(runtime, "NARROW_ROWS", 10**12)  # every frame whole, as before
    before = gx_runtime.validations
    whole = validation.validate_raw(schema, bad, catalogue)
    # 4 frames (the table, its column types, the coverage grid, the jump factors), then the two with
    # a failure again, whole, with their example rows; the table's 10 expectations in 7 validations
    # when narrowed (the column order on the whole frame, then one per set of columns read)
    assert (narrowed_validations, gx_runtime.validations - before) == (12, 6)
    assert [(o.passed, o.description, [f.as_dict() for f in o.failures]) for o in narrowed] == [
        (o.passed, o.description, [f.as_dict() for f in o.failures]) for o in whole]
    [outcome] = narrowed
    assert [f.message() for f in outcome.failures][:2] == [
        "zones_emploi_2020/chomage-zone-t1-2003-t3-2023.xlsx: column 'code_zone_emploi': a zone d'emploi code has 4 "
        "digits (leading zeros kept) [expect_column_values_to_match_regex]: 1 row; e.g. {'code_zone_emploi': '051', "
        "'period': '2004-T2'}",
        "zones_emploi_2020/chomage-zone-t1-2003-t3-2023.xlsx: column 'value': a percentage lies within 0–100 "
        "[expect_column_values_to_be_between]: 2 rows; e.g. {'code_zone_emploi': '0051', 'period': '2004-T4', "
        "'value': 150.0}"]
    assert len(outcome.failures) == 4
