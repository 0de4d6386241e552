"""The bad-input contract, on broken copies of real snapshot files.

A broken file stops its source with an exact error naming the file, the column, the rule and an
example row: from the parser when the file cannot be read as declared (the ingest asset fails
with a SourceFormatError, never a bare pandas traceback), from the source's Great Expectations
suite when it can (the blocking ``gx_suite`` check fails). Nothing downstream of the source is
materialised, and the published database is byte for byte what it was before the run.

Cost: the full pipeline runs once (the session's baseline, tests/integration/conftest.py). Each
case copies the broken file's snapshot folder (the other folders are linked), the working and
the published databases, breaks one file, and materialises only the broken source's raw asset,
its checks and everything downstream of it up to ``published_barometre``.
"""

import hashlib
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from assets import checks
from barometre.definitions import ALL_ASSETS, materialize_all
from barometre.landing import DEFAULT_SNAPSHOT_DIR

pytestmark = pytest.mark.integration

SNAPSHOT = Path(DEFAULT_SNAPSHOT_DIR)


def _digest(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


@dataclass
class FaultRun:
    result: dg.ExecuteInProcessResult
    published: Path
    before: tuple[str, int]
    planned: list[dg.AssetKey]  # the assets the run was to materialise

    @property
    def materialised(self) -> set[str]:
        return {e.asset_key.to_user_string() for e in self.result.get_asset_materialization_events()}

    def published_untouched(self) -> bool:
        staging = [p for p in self.published.parent.iterdir() if ".staging-" in p.name]
        return _digest(self.published) == self.before and not staging

    def parser_error(self, asset: str) -> str:
        """The innermost error of the failed ingest step of ``raw/<asset>``."""
        [event] = [e for e in self.result.get_step_failure_events() if e.step_key == f"raw__{asset}"]
        error = event.step_failure_data.error
        while error.cause is not None:
            error = error.cause
        assert error.cls_name == "SourceFormatError"  # not a pandas or Python error
        return error.message.strip().removeprefix("barometre.sources._csv.SourceFormatError: ")

    def failed_check(self, asset: str, check: str = "gx_suite") -> dg.AssetCheckEvaluation:
        [ev] = [e for e in self.result.get_asset_check_evaluations()
                if e.asset_key.to_user_string() == f"raw/{asset}" and e.check_name == check]
        assert not ev.passed and ev.severity == dg.AssetCheckSeverity.ERROR
        return ev


def run_broken(baseline, tmp_path: Path, path: str, break_file: Callable[[bytes], bytes], *assets: str) -> FaultRun:
    """Copy the snapshot and the baseline's databases, break ``path``, and materialise the raw
    ``assets``, their checks and everything downstream of them."""
    snapshot = tmp_path / "snapshot"
    snapshot.mkdir()
    group = path.split("/")[0]
    for entry in SNAPSHOT.iterdir():
        if entry.name == group:
            shutil.copytree(entry, snapshot / entry.name)
        else:
            os.symlink(entry, snapshot / entry.name)
    target = snapshot / path
    target.write_bytes(break_file(target.read_bytes()))
    work, published = tmp_path / "work.duckdb", tmp_path / "published" / "barometre.duckdb"
    published.parent.mkdir()
    shutil.copy(baseline.work_db, work)
    shutil.copy2(baseline.published_db, published)
    before = _digest(published)
    selection = dg.AssetSelection.assets(*[dg.AssetKey(["raw", a]) for a in assets]).downstream()
    result = materialize_all(log_level="CRITICAL", selection=selection, snapshot_dir=snapshot, work_db=work,
                             published_db=published)
    assert not result.success
    planned = sorted(selection.resolve(ALL_ASSETS), key=lambda k: k.to_user_string())
    return FaultRun(result, published, before, planned)


def replace(old: bytes | str, new: bytes | str, count: int = 1) -> Callable[[bytes], bytes]:
    old, new = (s.encode() if isinstance(s, str) else s for s in (old, new))

    def _break(raw: bytes) -> bytes:
        assert old in raw
        return raw.replace(old, new, count)

    return _break


def drop_line(prefix: bytes) -> Callable[[bytes], bytes]:
    def _break(raw: bytes) -> bytes:
        lines = raw.split(b"\n")
        kept = [line for line in lines if not line.startswith(prefix)]
        assert len(kept) == len(lines) - 1
        return b"\n".join(kept)

    return _break


def add_column(raw: bytes) -> bytes:
    lines = raw.rstrip(b"\n").split(b"\n")
    return b"\n".join([lines[0] + b";source"] + [line + b";DREES" for line in lines[1:]]) + b"\n"


def truncate_mid_row(raw: bytes) -> bytes:
    return raw[: raw.index(b"\n", 2000) + 40]


POP = "departements_2012_2021/population_insee.csv"
CHOMAGE = "departements_2012_2021/unemployment_insee.csv"
BIRTHS = "departements_2012_2021/births_insee.csv"
DEATHS = "departements_2012_2021/deaths_insee.csv"
DOCTORS = "departements_2012_2021/doctor_density_drees.csv"
DIPLOMAS = "departements_2012_2021/education_snapshots_insee.csv"
FILOSOFI = "departements_2012_2021/income_poverty_filosofi.csv"
E2007 = "elections/2007-t1-definitifs-departements.csv"
E2022 = "elections/2022-t1-provisoires-departements.csv"

# (case, file, how it is broken, raw asset, the exact SourceFormatError message)
PARSER_CASES = [
    ("leading_zero_lost", BIRTHS, replace(b"\n01;2012;", b"\n1;2012;"), "insee_naissances_departement",
     f"{BIRTHS}: column 'dep_code': invalid département code (lost leading zero? '20' for Corsica?); "
     "e.g. [['1', '2012']]"),
    ("corsica_written_20", CHOMAGE, replace(b'"2A";2012;', b'"20";2012;'), "insee_chomage_localise_departement",
     f"{CHOMAGE}: column 'dep_code': invalid département code (lost leading zero? '20' for Corsica?); "
     "e.g. [['20', '2012']]"),
    ("decimal_comma", DOCTORS, replace(b'"01";2012;194.38;', b'"01";2012;194,38;'), "drees_medecins_departement",
     f"{DOCTORS}: column 'doctor_density_per_100k': decimal separator must be '.'; e.g. [['01', '2012', '194,38']]"),
    ("latin1_read_as_utf8", "barometre_2018/histo_1_1.csv", lambda raw: raw.decode("utf-8").encode("latin-1"),
     "cget_barometre_2018_valeurs", None),  # message checked below: the offset depends on the file
    ("comma_instead_of_semicolon", DEATHS, replace(b";", b",", -1), "insee_deces_departement",
     f"{DEATHS}: expected ';'-separated columns ['dep_code', 'year', 'deaths'] (the header contains ',': wrong "
     "separator?); e.g. ['dep_code,year,deaths']"),
    ("duplicated_code_period", DIPLOMAS, lambda raw: raw + b'"01";2016;27.82\n', "insee_diplomes_rp_departement",
     f"{DIPLOMAS}: column 'dep_code': duplicated (code, year); e.g. [['01', 2016], ['01', 2016]]"),
    ("renamed_column", FILOSOFI, replace(b";poverty_rate_disp;", b";poverty_rate;"), "insee_filosofi_departement",
     f"{FILOSOFI}: column 'poverty_rate_disp': header does not match: missing ['poverty_rate_disp']; "
     "unexpected ['poverty_rate']"),
    ("extra_column", DOCTORS, add_column, "drees_medecins_departement",
     f"{DOCTORS}: column 'source': header does not match: unexpected ['source']"),
    ("empty_file", E2007, lambda raw: b"", "interieur_presidentielle_t1_departement", f"{E2007}: file is empty"),
    ("file_truncated_mid_row", E2022, truncate_mid_row, "interieur_presidentielle_t1_departement",
     f"{E2022}: column '% Abs/Ins': row has 6 fields, expected 17 (truncated file?); "
     "e.g. ['line 6: 05;Hautes-Alpes;Complet;113519;25357;22']"),
    ("period_with_en_dash", "barometre_2018/carte_3_1.csv",
     replace('"0303","1999-2009"', '"0303","1999–2009"'), "cget_barometre_2018_valeurs",
     "barometre_2018/carte_3_1.csv: column 'year0': period '1999–2009' is neither a year 'YYYY' nor a span "
     "'YYYY-YYYY' (ASCII hyphen); e.g. [['0303', '1999–2009']]"),
]


@pytest.mark.parametrize("case, path, break_file, asset, message", PARSER_CASES, ids=[c[0] for c in PARSER_CASES])
def test_a_file_the_parser_refuses_fails_its_ingest_asset(baseline, tmp_path, case, path, break_file, asset, message):
    run = run_broken(baseline, tmp_path, path, break_file, asset)
    error = run.parser_error(asset)
    if case == "latin1_read_as_utf8":
        offset = break_file(SNAPSHOT.joinpath(path).read_bytes()).index("ô".encode("latin-1"))
        message = (f"{path}: not valid utf-8 (byte 0xf4 at offset {offset}); "
                   """e.g. ['"93","Provence-Alpes-C\ufffdte d\\'\\'Azur",2012,19406,2014,19893']""")
    assert error == message
    assert f"raw/{asset}" not in run.materialised
    assert "published_barometre" not in run.materialised
    assert run.published_untouched()
    assert f"FAILED raw__{asset}: SourceFormatError: {message}" in checks.run_report(run.result, run.planned)


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
    ("unknown_territory_code", "barometre_2018/carte_4_4.csv", replace(b'"0059",', b'"0058",'), "cget_barometre_2018_valeurs",
     "barometre_2018/carte_4_4.csv: column 'code': a zone d'emploi code has 4 digits (leading zeros kept): one of "
     "the zones d'emploi 2010 of the CGET's mesh (rows with level = zone_emploi) [expect_column_values_to_be_in_set]: "
     "2 rows; e.g. {'source_file': 'barometre_2018/carte_4_4.csv', 'cget_id': '4_4', 'code': '0058', "
     "'period': '2009'}",
     "code", 2, {"source_file": "barometre_2018/carte_4_4.csv", "cget_id": "4_4", "code": "0058", "period": "2009"}),
]


@pytest.mark.parametrize("case, path, break_file, asset, description, column, count, example", CHECK_CASES,
                         ids=[c[0] for c in CHECK_CASES])
def test_a_file_its_suite_refuses_fails_its_blocking_check(baseline, tmp_path, case, path, break_file, asset,
                                                            description, column, count, example):
    run = run_broken(baseline, tmp_path, path, break_file, asset)
    check = run.failed_check(asset)
    assert check.description == description
    meta = {k: v.value for k, v in check.metadata.items()}
    assert (meta["column"], meta["unexpected"], meta["file"]) == (column, count, path)
    assert meta["failures"][0]["examples"][0] == example
    assert meta["failed_expectation"].startswith("expect_")
    # The checked table was written (blocking checks run after it), nothing downstream of it was.
    assert run.materialised == {f"raw/{asset}"}
    assert run.published_untouched()
    report = checks.run_report(run.result, run.planned)
    assert f"FAILED raw/{asset} · gx_suite: {description}" in report
    assert re.search(r"Not materialised \(\d+ of \d+ assets: failed, or downstream of a failure\): "
                     r".*published_barometre", report)
    assert re.search(r"Asset checks \(Great Expectations suites\): 1 of \d+ evaluated \(\d+ not run: their table was "
                     r"not materialised\), 0 passed, 1 failed, 0 warnings", report)


def test_sources_that_pass_keep_flowing(baseline, tmp_path):
    """A percentage of 140 in the unemployment file stops taux_chomage and the publication; the
    doctors' file, materialised in the same run, still yields its indicator."""
    run = run_broken(baseline, tmp_path, CHOMAGE, replace(b'"01";2012;6.8;', b'"01";2012;140;'),
                     "insee_chomage_localise_departement", "drees_medecins_departement")
    assert {"raw/drees_medecins_departement", "indicators/medecins_pour_100k"} <= run.materialised
    assert not {"indicators/taux_chomage", "mart/indicator_values", "published_barometre"} & run.materialised
    assert run.published_untouched()
    passed = {(e.asset_key.to_user_string(), e.check_name): e.passed for e in run.result.get_asset_check_evaluations()}
    assert passed == {("raw/insee_chomage_localise_departement", "gx_suite"): False, ("raw/drees_medecins_departement", "gx_suite"): True}
    con = duckdb.connect(str(run.published), read_only=True)
    try:  # dashboards still read the last good publication
        assert con.execute("SELECT value FROM mart.indicator_values WHERE indicator_id = 'taux_chomage' "
                           "AND code = '01' AND period = '2012'").fetchall() == [(6.8,)]
    finally:
        con.close()
