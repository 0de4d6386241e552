"""The bad-input contract end to end: what a run does with broken copies of real snapshot files.

A file the parser cannot read as declared fails its ingest asset with the parser's
SourceFormatError (the exact messages of every parser case are unit tests:
tests/unit/test_bad_input.py); a file it can read but the source's Great Expectations suite
refuses fails the blocking ``gx_suite`` check, with the exact description, column, count and
example row. Nothing downstream of a refused source is materialised, the sources that pass keep
flowing, the published database is byte for byte what it was, and ``make run``'s entry point
exits with status 1 saying so.

Cost: one snapshot with five broken files (one the parser refuses, four only the suites refuse:
the cases a parser cannot see), materialised once from its raw tables down to
``published_barometre`` on copies of the session's databases (a partial run), and once by the
entry point (a full materialisation, in a subprocess).
"""

import os
import re
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from barometre.definitions import ALL_ASSETS, ALL_CHECKS
from barometre.duckdb_config import duckdb_config
from tests.support import faults, runs
from tests.support.faults import FaultRun

pytestmark = pytest.mark.integration

POP = "departements_2012_2021/population_insee.csv"
CHOMAGE = "departements_2012_2021/unemployment_insee.csv"
BIRTHS = "departements_2012_2021/births_insee.csv"
DEATHS = "departements_2012_2021/deaths_insee.csv"
CARTE_4_4 = "barometre_2018/carte_4_4.csv"


def replace(old: bytes, new: bytes) -> Callable[[bytes], bytes]:
    def _break(raw: bytes) -> bytes:
        assert raw.count(old) >= 1
        return raw.replace(old, new, 1)

    return _break


def drop_line(prefix: bytes) -> Callable[[bytes], bytes]:
    def _break(raw: bytes) -> bytes:
        lines = raw.split(b"\n")
        kept = [line for line in lines if not line.startswith(prefix)]
        assert len(kept) == len(lines) - 1
        return b"\n".join(kept)

    return _break


# The file the parser refuses: its raw asset, the exact SourceFormatError message.
PARSER_CASE = (BIRTHS, replace(b"\n01;2012;", b"\n1;2012;"), "insee_naissances_departement",
               f"{BIRTHS}: column 'dep_code': invalid département code (lost leading zero? '20' for Corsica?); "
               "e.g. [['1', '2012']]")

# (case, file, how it is broken, raw asset, the check's exact description, column, unexpected rows, example)
CHECK_CASES = [
    ("missing_departement", POP, drop_line(b'"2A";2016;'), "insee_estimations_population_departement",
     f"{POP}: column 'code_departement': every one of the 96 metropolitan départements is present for each year "
     "[expect_column_values_to_be_between]: 1 missing territory; e.g. {'code_departement': '2A', 'year': 2016, "
     "'rows': 0}",
     "code_departement", 1, {"code_departement": "2A", "year": 2016, "rows": 0}),
    ("percentage_of_140", CHOMAGE, replace(b'"01";2012;6.8;', b'"01";2012;140;'), "insee_chomage_localise_departement",
     f"{CHOMAGE}: column 'unemployment_rate': a percentage lies within 0–100 [expect_column_values_to_be_between]: "
     "1 row; e.g. {'code_departement': '01', 'year': 2012, 'unemployment_rate': 140.0} | "
     f"{CHOMAGE}: column 'unemployment_rate': plausible bounds of taux_chomage (catalogue): 2–40 % "
     "[expect_column_values_to_be_between]: 1 row; e.g. {'code_departement': '01', 'year': 2012, "
     "'unemployment_rate': 140.0} | "
     f"{CHOMAGE}: column 'unemployment_rate': a value changes by a factor ≤ 2 from the territory's previous year "
     "(max_jump of taux_chomage, catalogue) [expect_column_values_to_be_between]: 1 row; e.g. {'code_departement': "
     "'01', 'year': 2013, 'factor': 19.444444444444443, 'previous_period': 2012.0, 'previous': 140.0, "
     "'unemployment_rate': 7.2}",
     "unemployment_rate", 1, {"code_departement": "01", "year": 2012, "unemployment_rate": 140.0}),
    ("negative_count", DEATHS, replace(b"\n01;2012;4577", b"\n01;2012;-4577"), "insee_deces_departement",
     f"{DEATHS}: column 'deaths': a count is an integer ≥ 0 [expect_column_values_to_be_between]: 1 row; "
     "e.g. {'code_departement': '01', 'year': 2012, 'deaths': -4577}",
     "deaths", 1, {"code_departement": "01", "year": 2012, "deaths": -4577}),
    ("unknown_territory_code", CARTE_4_4, replace(b'"0059",', b'"0058",'), "cget_barometre_2018_valeurs",
     f"{CARTE_4_4}: column 'code': a zone d'emploi code has 4 digits (leading zeros kept): one of "
     "the zones d'emploi 2010 of the CGET's mesh (rows with level = zone_emploi) [expect_column_values_to_be_in_set]: "
     "2 rows; e.g. {'source_file': 'barometre_2018/carte_4_4.csv', 'cget_id': '4_4', 'code': '0058', "
     "'period': '2009'}",
     "code", 2, {"source_file": "barometre_2018/carte_4_4.csv", "cget_id": "4_4", "code": "0058", "period": "2009"}),
]
# A source left intact in the same run, and the indicator that reads it alone.
FLOWING, FLOWING_INDICATOR = "insee_diplomes_rp_departement", "part_diplomes_superieur"
REFUSED = [PARSER_CASE[2], *(c[3] for c in CHECK_CASES)]


@pytest.fixture(scope="module")
def broken_snapshot(tmp_path_factory) -> Path:
    """The snapshot with the five files broken (their folders copied, the others linked)."""
    breaks = {PARSER_CASE[0]: PARSER_CASE[1], **{c[1]: c[2] for c in CHECK_CASES}}
    snapshot = faults.snapshot_copy(tmp_path_factory.mktemp("broken") / "snapshot", {p.split("/")[0] for p in breaks})
    for path, break_file in breaks.items():
        target = snapshot / path
        target.write_bytes(break_file(target.read_bytes()))
    return snapshot


@pytest.fixture(scope="module")
def run(baseline, broken_snapshot, tmp_path_factory) -> FaultRun:
    """The refused sources, the intact one, their checks and everything downstream of them."""
    work, published = faults.baseline_copies(baseline, tmp_path_factory.mktemp("fault_run"))
    before = faults.digest(published)
    selection = dg.AssetSelection.assets(*[dg.AssetKey(["raw", a]) for a in [*REFUSED, FLOWING]]).downstream()
    result = runs.materialize_all(log_level="CRITICAL", selection=selection, snapshot_dir=broken_snapshot,
                                  work_db=work, published_db=published)
    assert not result.success
    return FaultRun(result, published, before, faults.planned(selection, ALL_ASSETS), work)


def test_a_file_the_parser_refuses_fails_its_ingest_asset(run):
    path, _, asset, message = PARSER_CASE
    assert run.parser_error(asset) == message
    assert f"raw/{asset}" not in run.materialised
    assert f"    FAILED raw__{asset}: SourceFormatError: {message}" in run.report().splitlines()
    assert [e.step_key for e in run.result.get_step_failure_events()
            if e.step_failure_data.error.cls_name != "DagsterAssetCheckFailedError"] == [f"raw__{asset}"]


@pytest.mark.parametrize("case, path, break_file, asset, description, column, count, example", CHECK_CASES,
                         ids=[c[0] for c in CHECK_CASES])
def test_a_file_its_suite_refuses_fails_its_blocking_check(run, case, path, break_file, asset, description,
                                                            column, count, example):
    check = run.check(f"raw/{asset}")
    assert (check.passed, check.severity) == (False, dg.AssetCheckSeverity.ERROR)
    assert check.description == description
    meta = {k: v.value for k, v in check.metadata.items()}
    assert (meta["column"], meta["unexpected"], meta["file"]) == (column, count, path)
    assert meta["failures"][0]["examples"][0] == example
    assert meta["failed_expectation"] == re.search(r"\[(expect_\w+)\]", description).group(1)
    assert f"    FAILED raw/{asset} · gx_suite: {description}" in run.report().splitlines()


def test_nothing_downstream_of_a_refused_source_is_built_and_the_others_flow(run):
    """The checked tables were written (blocking checks run after them), the file the parser
    refused was not; the intact source and its indicator were, and nothing that reads a refused
    source, down to the publication."""
    assert run.materialised == {*(f"raw/{c[3]}" for c in CHECK_CASES), f"raw/{FLOWING}",
                                f"indicators/{FLOWING_INDICATOR}", f"findings/{FLOWING_INDICATOR}"}
    passed = {(e.asset_key.to_user_string(), e.check_name): e.passed for e in run.result.get_asset_check_evaluations()}
    assert passed == {**{(f"raw/{c[3]}", "gx_suite"): False for c in CHECK_CASES}, (f"raw/{FLOWING}", "gx_suite"): True}
    skipped = [k.to_user_string() for k in run.planned if k.to_user_string() not in run.materialised]
    assert {"mart/indicator_values", "published_barometre", "barometre_report"} <= set(skipped)
    planned_checks = sum(1 for c in ALL_CHECKS for key in c.check_keys if key.asset_key in set(run.planned))
    lines = run.report().splitlines()
    assert lines[0] == (f"  Asset checks (Great Expectations suites): 5 of {planned_checks} evaluated "
                        f"({planned_checks - 5} not run: their table was not materialised), 1 passed, 4 failed, "
                        "0 warnings")
    assert lines[-1] == (f"  Not materialised ({len(skipped)} of {len(run.planned)} assets: failed, or downstream "
                         f"of a failure): {', '.join(skipped)}")


def test_the_published_database_is_left_byte_for_byte(run):
    assert run.published_untouched()
    con = duckdb.connect(str(run.published), read_only=True, config=duckdb_config())
    try:  # dashboards still read the last good publication: Ain, 2012, 6.8 % (INSEE, snapshot)
        assert con.execute("SELECT value FROM mart.indicator_values WHERE indicator_id = 'taux_chomage' "
                           "AND code = '01' AND period = '2012'").fetchall() == [(6.8,)]
    finally:
        con.close()


def test_make_run_exits_1_naming_the_refusals_and_leaves_the_published_file(baseline, broken_snapshot, tmp_path):
    """``python -m barometre.definitions`` (``make run``) on the broken snapshot."""
    work, published = faults.baseline_copies(baseline, tmp_path)
    before = faults.digest(published)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BAROMETRE_", "DAGSTER_HOME"))}
    env.update(BAROMETRE_SNAPSHOT_DIR=str(broken_snapshot), BAROMETRE_WORK_DB=str(work), BAROMETRE_DB=str(published),
               BAROMETRE_LANDING_DIR=str(tmp_path / "landing"), BAROMETRE_EVENTS_DB=str(tmp_path / "events.duckdb"))
    done = runs.entry_point(env)
    assert done.returncode == 1, done.stderr[-3000:]
    assert done.stdout == ""
    stamp = re.search(r"\(last published (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\)", done.stderr).group(1)
    assert f"\nMaterialisation failed: the published database {published} was left as it was (last published " \
           f"{stamp}).\n" in done.stderr
    lines = done.stderr.splitlines()
    path, _, asset, message = PARSER_CASE
    assert f"    FAILED raw__{asset}: SourceFormatError: {message}" in lines
    for case in CHECK_CASES:
        assert f"    FAILED raw/{case[3]} · gx_suite: {case[4]}" in lines
    assert faults.published_untouched(published, before)
