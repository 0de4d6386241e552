"""Issue 16, parts 1–5, end to end: a broken copy of a real snapshot file, run through the
pipeline (the affected source's assets, their checks and what depends on them, never every
asset), is refused with its exact message, and the published file stays byte for byte what it
was. Every case shares the session's baseline publication (tests/integration/conftest.py); the
unit tests of each rule are in tests/unit/test_trust.py."""

import os
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from barometre.definitions import ALL_ASSETS, materialize_all
from barometre.duckdb_config import duckdb_config
from tests.support import faults
from tests.support.faults import SNAPSHOT, FaultRun

pytestmark = pytest.mark.integration

DOCTORS = "departements_2012_2021/doctor_density_drees.csv"
POP = "departements_2012_2021/population_insee.csv"
BIRTHS = "departements_2012_2021/births_insee.csv"
DEATHS = "departements_2012_2021/deaths_insee.csv"
C21 = "barometre_2018/carte_2_1.csv"


def run(baseline, tmp_path: Path, change: tuple[str, Callable[[Path], None]], *assets: str,
        downstream: bool = True, also: tuple[str, ...] = ()) -> FaultRun:
    """Copy the snapshot (the folder ``change`` touches; the others are linked) and the
    baseline's databases, apply ``change`` and materialise the raw ``assets``, their checks and
    (``downstream``) what depends on them."""
    folder, apply = change
    snapshot = faults.snapshot_copy(tmp_path / "snapshot", [folder])
    apply(snapshot)
    work, published = faults.baseline_copies(baseline, tmp_path)
    before = faults.digest(published)
    selection = dg.AssetSelection.assets(*[dg.AssetKey(["raw", a]) for a in assets])
    if downstream:
        selection = selection.downstream()
    if also:  # other assets, by key (e.g. mart/quality_report)
        selection = selection | dg.AssetSelection.assets(*[dg.AssetKey(k.split("/")) for k in also])
    result = materialize_all(log_level="CRITICAL", selection=selection, snapshot_dir=snapshot, work_db=work,
                             published_db=published)
    return FaultRun(result, published, before, faults.planned(selection, ALL_ASSETS), work)


def edit(path: str, convert: Callable[[bytes], bytes]) -> tuple[str, Callable[[Path], None]]:
    def _change(snapshot: Path) -> None:
        target = snapshot / path
        target.write_bytes(convert(target.read_bytes()))
    return path.split("/")[0], _change


def add_file(path: str, content: bytes | None = None,
             copy_of: str | None = None) -> tuple[str, Callable[[Path], None]]:
    def _change(snapshot: Path) -> None:
        (snapshot / path).write_bytes(content if copy_of is None else (snapshot / copy_of).read_bytes())
    return path.split("/")[0], _change


def fractions(raw: bytes) -> bytes:
    """Every percentage of the map file written as a fraction (10.6 → 0.106)."""
    out = []
    for n, line in enumerate(raw.decode().split("\n")):
        fields = line.split(",")
        if n and len(fields) == 5:
            fields[2], fields[4] = (f"{float(v) / 100:.6g}" if v else v for v in (fields[2], fields[4]))
        out.append(",".join(fields))
    return "\n".join(out).encode()


def _refused(r: FaultRun, asset: str) -> None:
    assert f"raw/{asset}" not in r.materialised
    assert "published_barometre" not in r.materialised
    assert r.published_untouched()


# 1. Scale and shape -------------------------------------------------------------------------

def test_scale_error_within_the_plausible_bounds(baseline, tmp_path):
    """The CGET's 65+ share by EPCI written as fractions (10.6 → 0.106) was published: 5,036 rows
    changed and every check passed. Now the file's median is out of its typical range."""
    r = run(baseline, tmp_path, edit(C21, fractions), "cget_barometre_2018_valeurs")
    check = r.check("raw/cget_barometre_2018_valeurs", "gx_suite")
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    assert check.description == (
        f"{C21}: column 'value': the file's median of |value| per period is ≥ the low end of its indicator's "
        "typical range at its level (catalogue typical_median): a scale or unit error? "
        "[expect_column_pair_values_a_to_be_greater_than_b]: 2 files × periods; e.g. {'source_file': "
        f"'{C21}', 'cget_id': '2_1', 'period': '1999', 'median': 0.181, 'level': 'epci', 'typical_low': 9.0, "
        "'typical_high': 41.0}")
    meta = {k: v.value for k, v in check.metadata.items()}
    assert (meta["rule_group"], meta["file"], meta["column"], meta["unexpected"]) == ("scale_and_jumps", C21, "value", 2)
    assert r.materialised == {"raw/cget_barometre_2018_valeurs"}
    assert r.published_untouched()


def test_a_jump_between_two_years(baseline, tmp_path):
    """The population of the Ain in 2016 tripled (a misplaced digit block): the file's median and
    the unit's domain see nothing, the jump from 2015 and back to 2017 does."""
    old, new = b'"01";2016;638425', b'"01";2016;1915275'
    r = run(baseline, tmp_path, edit(POP, lambda raw: raw.replace(old, new) if old in raw else pytest.fail()),
            "insee_estimations_population_departement")
    check = r.check("raw/insee_estimations_population_departement", "gx_suite")
    assert not check.passed
    assert check.description == (
        f"{POP}: column 'pop_jan1': a value changes by a factor ≤ 2 from the territory's previous year (declared in "
        "raw.insee_estimations_population_departement) [expect_column_values_to_be_between]: 2 rows; e.g. {'code_departement': '01', "
        "'year': 2016, 'factor': 3.0310883288994535, 'previous_period': 2015.0, 'previous': 631877.0, "
        "'pop_jan1': 1915275}")
    assert r.materialised == {"raw/insee_estimations_population_departement"}
    assert r.published_untouched()


# 2. Truncation and consistency --------------------------------------------------------------

def test_doctors_file_cut_short_in_its_last_value(baseline, tmp_path):
    """2908 → 29 in the last line changed the 2021 Île-de-France and France values (388.47 →
    365.10), and every check passed."""
    r = run(baseline, tmp_path, edit(DOCTORS, lambda raw: raw[: -len(b"08\n")]), "drees_medecins_departement")
    assert r.parser_error("drees_medecins_departement") == (
        f"{DOCTORS}: column 'n_doctors': the file does not end with a newline, as its publisher's files do "
        "(truncated file?): last line 961; e.g. ['\"95\";2021;231.42;29']")
    _refused(r, "drees_medecins_departement")
    assert (f"FAILED raw__drees_medecins_departement: SourceFormatError: {DOCTORS}: column 'n_doctors': the file does not "
            "end with a newline") in r.report()


def test_a_doctors_count_against_its_density_and_the_population(baseline, tmp_path):
    old, new = b'"95";2020;233.82;2927\n', b'"95";2020;233.82;2027\n'
    r = run(baseline, tmp_path, edit(DOCTORS, lambda raw: raw.replace(old, new)), "drees_medecins_departement")
    check = r.check("raw/drees_medecins_departement", "gx_suite")
    assert not check.passed
    assert check.description.startswith(
        f"{DOCTORS}: column 'doctor_density_per_100k': the density equals n_doctors / pop_jan1 × 100 000 "
        "(raw.insee_estimations_population_departement), relative gap (tolerance 0.0001) [expect_column_values_to_be_between]: 1 row; "
        "e.g. {'code_departement': '95', 'year': 2020, 'gap': 0.307")
    assert r.materialised == {"raw/drees_medecins_departement"}
    assert r.published_untouched()


# 3. Source folders --------------------------------------------------------------------------

def test_an_unknown_file_in_a_source_folder_stops_the_publication(baseline, tmp_path):
    r = run(baseline, tmp_path, add_file("departements_2012_2021/population_2022.csv", b"dep_code;year;pop\n"),
            "fichiers_sources")
    check = r.check("raw/fichiers_sources", "source_folders")
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    sources = ("insee_filosofi_departement, insee_chomage_localise, insee_estimations_population, insee_naissances, "
               "insee_deces, drees_medecins, insee_diplomes_rp")
    assert check.description == (
        "departements_2012_2021/population_2022.csv: a file the catalogue does not declare, in the folder of source "
        f"{sources}: remove it, or declare it in the catalogue's files [source_folder_unknown]")
    assert "mart/sources" not in r.materialised and "published_barometre" not in r.materialised
    assert r.published_untouched()
    assert "FAILED raw/fichiers_sources · source_folders: departements_2012_2021/population_2022.csv" in r.report()


def test_a_copy_left_by_a_file_manager_is_a_warning_not_a_traceback(baseline, tmp_path):
    """``carte_1_1 (1).csv`` crashed the ingest with AttributeError ('NoneType' object has no
    attribute 'group'), blocking the eleven CGET indicators. Now it is not read, and reported."""
    copy = "barometre_2018/carte_1_1 (1).csv"
    r = run(baseline, tmp_path, add_file(copy, copy_of="barometre_2018/carte_1_1.csv"),
            "fichiers_sources", "cget_barometre_2018_valeurs", downstream=False, also=("mart/quality_report",))
    assert r.result.success
    check = r.check("raw/fichiers_sources", "source_folders")
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert check.description == (
        f"{copy}: a copy of the declared file barometre_2018/carte_1_1.csv (copy suffix) of source "
        "cget_barometre_2018: not read [source_folder_copy]")
    assert f"WARN   raw/fichiers_sources · source_folders: {copy}: a copy" in r.report()
    con = duckdb.connect(str(r.work), read_only=True, config=duckdb_config())
    try:  # the copy was not read: the raw table has its baseline rows, none from the copy
        assert con.execute("SELECT count(*) FROM raw.cget_barometre_2018_valeurs WHERE source_file = ?", [copy]).fetchall() \
            == [(0,)]
        rows = con.execute("SELECT count(*) FROM raw.cget_barometre_2018_valeurs").fetchall()
        assert con.execute("SELECT source_id, detail FROM mart.quality_report WHERE kind = 'source_file_copy'").fetchall() \
            == [("cget_barometre_2018", "a copy of the declared file barometre_2018/carte_1_1.csv (copy suffix) of source "
                                        f"cget_barometre_2018: not read ({copy})")]
    finally:
        con.close()
    base = duckdb.connect(str(baseline.work_db), read_only=True, config=duckdb_config())
    try:
        assert rows == base.execute("SELECT count(*) FROM raw.cget_barometre_2018_valeurs").fetchall()
    finally:
        base.close()


def test_a_cget_file_with_an_indicator_the_catalogue_lacks(baseline, tmp_path):
    path = "barometre_2018/carte_7_2.csv"
    r = run(baseline, tmp_path, add_file(path, copy_of="barometre_2018/carte_1_1.csv"), "cget_barometre_2018_valeurs")
    message = r.parser_error("cget_barometre_2018_valeurs")
    assert message.startswith(
        f"{path}: indicator id '7_2' is not in the catalogue (source cget_barometre_2018, its 'carte' table: ")
    assert message.endswith("): a file the publisher added? Declare the indicator or remove the file")
    _refused(r, "cget_barometre_2018_valeurs")


# 4. One reader: CR-only line endings --------------------------------------------------------

def test_cr_only_line_endings_read_like_the_original(baseline, tmp_path):
    """Old-Mac endings crashed the CGET map parser with a csv error naming no file."""
    r = run(baseline, tmp_path, edit("barometre_2018/carte_1_1.csv", lambda raw: raw.replace(b"\n", b"\r")),
            "cget_barometre_2018_valeurs", downstream=False)
    assert r.result.success
    assert r.check("raw/cget_barometre_2018_valeurs", "gx_suite").passed
    query = "SELECT * FROM raw.cget_barometre_2018_valeurs ORDER BY source_file, cget_id, code, period"
    got, base = (duckdb.connect(str(p), read_only=True, config=duckdb_config()) for p in (r.work, baseline.work_db))
    try:
        assert got.execute(query).fetchall() == base.execute(query).fetchall()
    finally:
        got.close()
        base.close()


# 5. Messages --------------------------------------------------------------------------------

def test_a_header_repeated_mid_file(baseline, tmp_path):
    def concat(raw: bytes) -> bytes:
        lines = raw.split(b"\n")
        return b"\n".join([*lines[:481], lines[0], *lines[481:]])

    r = run(baseline, tmp_path, edit(BIRTHS, concat), "insee_naissances_departement")
    assert r.parser_error("insee_naissances_departement") == (
        f"{BIRTHS}: the header line is repeated at line 482 (1 times: files concatenated?); "
        "e.g. ['line 482: dep_code;year;live_births']")
    _refused(r, "insee_naissances_departement")


def test_a_trailing_separator_on_every_line(baseline, tmp_path):
    r = run(baseline, tmp_path, edit(DEATHS, lambda raw: raw.replace(b"\n", b";\n")), "insee_deces_departement")
    assert r.parser_error("insee_deces_departement") == (
        f"{DEATHS}: the header ends with a separator ';' (an empty column name after 'deaths'); 960 of 960 data "
        "lines end with one too; e.g. ['line 1: dep_code;year;deaths;']")
    _refused(r, "insee_deces_departement")


def test_every_copied_snapshot_is_left_as_it_was():
    """The cases above break copies: the bundled snapshot is untouched (no copy, no stray file)."""
    assert not list(SNAPSHOT.glob("barometre_2018/* (1).csv"))
    assert not (SNAPSHOT / "barometre_2018/carte_7_2.csv").exists()
    assert os.path.getsize(SNAPSHOT / DOCTORS) > 0
