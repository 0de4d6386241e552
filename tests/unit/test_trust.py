"""Issue 16, parts 1–5, at unit level: the rules that catch a scale error, a truncated file, an
undeclared file in a source folder, any line ending, and the two messages that misled. Every case
starts from a real snapshot file (docs/validation.md, "Trust")."""

import re

import pandas as pd
import pytest

from barometre import validation
from barometre.sources import (
    cget_2018,
    chomage,
    cog,
    diplomes,
    drees_medecins,
    elections,
    etat_civil,
    filosofi,
    population,
)
from barometre.sources._csv import SourceFormatError, text_lines
from barometre.validation import folders

DOCTORS = drees_medecins.FILE
C21 = "barometre_2018/carte_2_1.csv"


def _error(parse, raw, *args) -> str:
    with pytest.raises(SourceFormatError) as exc:
        parse(raw, *args)
    return str(exc.value)


# ---------------------------------------------------------------------------------------------
# 4. One reader for every text source: LF, CRLF, CR, BOM give the same parse, for each real file.

def _cget_parsers(catalogue):
    carte = catalogue.source("cget_barometre_2018").extra["carte"]
    france = {i.cget_id: i.cget_france_code for i in catalogue.indicators if i.cget_id}
    out = {"barometre_2018/baro.csv": lambda raw, p: cget_2018.parse_baro(raw, p, france)}
    for cget_id, spec in carte.items():
        out[f"barometre_2018/carte_{cget_id}.csv"] = (
            lambda raw, p, c=cget_id, s=spec: cget_2018.parse_carte(raw, p, c, s["level"], s["geography_vintage"]))
        out[f"barometre_2018/histo_{cget_id}.csv"] = lambda raw, p, c=cget_id: cget_2018.parse_histo(raw, p, c)
    return out


TEXT_SOURCES = {
    population.FILE: population.parse, chomage.FILE: chomage.parse, filosofi.FILE: filosofi.parse,
    etat_civil.BIRTHS_FILE: etat_civil.parse_births, etat_civil.DEATHS_FILE: etat_civil.parse_deaths,
    DOCTORS: drees_medecins.parse, diplomes.FILE: diplomes.parse,
    **{path: (lambda raw, p, y=year: elections.parse(raw, y, p)) for year, path in elections.FILES.items()},
    cget_2018.ZE_FILE: lambda raw, p: cget_2018.parse_topojson_names(raw, p, "zone_emploi", "ze_2010"),
    cget_2018.EPCI_FILE: lambda raw, p: cget_2018.parse_topojson_names(raw, p, "epci", "epci_2018"),
}
ENDINGS = {
    "CRLF": lambda raw: raw.replace(b"\n", b"\r\n"),
    "CR": lambda raw: raw.replace(b"\n", b"\r"),
    "BOM": lambda raw: b"\xef\xbb\xbf" + raw,
    "BOM+CRLF": lambda raw: b"\xef\xbb\xbf" + raw.replace(b"\n", b"\r\n"),
}


def test_every_real_text_file_parses_the_same_with_any_line_ending_and_a_bom(store, catalogue):
    parsers = {**TEXT_SOURCES, **_cget_parsers(catalogue)}
    assert len(parsers) == 36  # 7 panels, 4 elections, 2 meshes, baro + 11 carte + 11 histo
    for path, parse in parsers.items():
        raw = store.read(path)
        assert b"\r" not in raw and raw.endswith(b"\n")
        expected = parse(raw, path)
        for name, convert in ENDINGS.items():
            got = parse(convert(raw), path)
            pd.testing.assert_frame_equal(got, expected, obj=f"{path} with {name}")


def test_the_ministry_latin1_file_with_cr_endings(store):
    """The Ministry's own 2022 file is Latin-1 (parse_ministry_txt): CR endings too."""
    path = elections.FILES[2022]
    raw = store.read(path).decode("utf-8").encode("latin-1")
    expected = elections.parse_ministry_txt(raw, path)
    pd.testing.assert_frame_equal(elections.parse_ministry_txt(raw.replace(b"\n", b"\r"), path), expected)


def test_cr_only_cget_map_used_to_crash_naming_no_file(store, catalogue):
    raw = store.read("barometre_2018/carte_1_1.csv").replace(b"\n", b"\r")
    frame = cget_2018.parse_carte(raw, "barometre_2018/carte_1_1.csv", "1_1", "zone_emploi", "ze_2010")
    assert frame.loc[(frame["code"] == "0050") & (frame["period"] == "2014"), "value"].tolist() == [19699.0]


def test_text_lines_splits_any_ending():
    assert text_lines(b"a\r\nb\rc\n", "f") == ["a", "b", "c"]
    assert text_lines(b"\xef\xbb\xbfa\n", "f") == ["a"]


# ---------------------------------------------------------------------------------------------
# 2. Truncation: a file whose publisher ends it with a newline must end with one.

def test_doctors_file_with_its_last_line_cut_short(store):
    raw = store.read(DOCTORS)
    assert raw.endswith(b'"95";2021;231.42;2908\n')
    cut = raw[: -len(b"08\n")]  # 2908 → 29, as a download cut short leaves it
    assert _error(drees_medecins.parse, cut) == (
        f"{DOCTORS}: column 'n_doctors': the file does not end with a newline, as its publisher's files do "
        "(truncated file?): last line 961; e.g. ['\"95\";2021;231.42;29']")


def test_every_snapshot_text_file_ends_with_a_newline(store):
    """The rule's premise, on the real files (the publishers end their files with a newline)."""
    for path in [*TEXT_SOURCES, *store.glob("barometre_2018/*.csv")]:
        assert store.read(path).endswith(b"\n"), path


# ---------------------------------------------------------------------------------------------
# 5. Messages: the two that misled.

def test_header_repeated_mid_file_is_named_as_such(store):
    raw = store.read(population.FILE)
    lines = raw.split(b"\n")
    broken = b"\n".join([*lines[:100], lines[0], *lines[100:]])  # two files concatenated
    assert _error(population.parse, broken) == (
        f"{population.FILE}: the header line is repeated at line 101 (1 times: files concatenated?); "
        "e.g. ['line 101: \"dep_code\";year;pop_jan1']")


def test_trailing_separator_on_every_line_is_named_as_such(store):
    raw = store.read(population.FILE)
    broken = b"\n".join(line + b";" if line else line for line in raw.split(b"\n"))
    assert _error(population.parse, broken) == (
        f"{population.FILE}: the header ends with a separator ';' (an empty column name after 'pop_jan1'); "
        "960 of 960 data lines end with one too; e.g. ['line 1: \"dep_code\";year;pop_jan1;']")


def test_short_row_names_its_line(store):
    raw = store.read(population.FILE)
    lines = raw.split(b"\n")
    lines[5] = lines[5].rsplit(b";", 1)[0]
    message = _error(population.parse, b"\n".join(lines))
    assert message == (f"{population.FILE}: column 'year': row has 2 fields, expected 3 (truncated file?); "
                       "e.g. ['line 6: 05;2012']")


# ---------------------------------------------------------------------------------------------
# 3. Source folders.

DECLARED = {"cget_barometre_2018": ("barometre_2018/baro.csv", "barometre_2018/carte_*.csv"),
            "insee_estimations_population": ("departements_2012_2021/population_insee.csv",),
            "drees_medecins": ("departements_2012_2021/doctor_density_drees.csv",)}


def test_folder_rule_sorts_declared_copies_unknown_and_documentation():
    listing = ["barometre_2018/baro.csv", "barometre_2018/carte_1_1.csv", "barometre_2018/carte_1_1 (1).csv",
               "barometre_2018/baro - Copie.csv", "barometre_2018/notes.csv",
               "departements_2012_2021/population_insee.csv", "departements_2012_2021/population_insee.csv~",
               "departements_2012_2021/pop_2024.csv", "departements_2012_2021/DATA_SOURCES.md",
               "departements_2012_2021/LICENSE_upstream_MIT.txt", "departements_2012_2021/doctor_density_drees.csv"]
    same = {"departements_2012_2021/pop_2024.csv": "x", "departements_2012_2021/population_insee.csv": "x"}
    report = folders.classify_folder(DECLARED, listing, lambda p: same.get(p, p))
    assert report.declared == ["barometre_2018/baro.csv", "barometre_2018/carte_1_1.csv",
                               "departements_2012_2021/doctor_density_drees.csv",
                               "departements_2012_2021/population_insee.csv"]
    assert report.documentation == ["departements_2012_2021/DATA_SOURCES.md",
                                    "departements_2012_2021/LICENSE_upstream_MIT.txt"]
    assert [(f.path, f.kind, f.original, f.how) for f in report.findings] == [
        ("barometre_2018/baro - Copie.csv", "copy", "barometre_2018/baro.csv", "copy suffix"),
        ("barometre_2018/carte_1_1 (1).csv", "copy", "barometre_2018/carte_1_1.csv", "copy suffix"),
        ("barometre_2018/notes.csv", "unknown", None, None),
        ("departements_2012_2021/pop_2024.csv", "copy", "departements_2012_2021/population_insee.csv", "same bytes"),
        ("departements_2012_2021/population_insee.csv~", "copy", "departements_2012_2021/population_insee.csv",
         "copy suffix"),
    ]
    assert report.findings[2].message() == (
        "barometre_2018/notes.csv: a file the catalogue does not declare, in the folder of source "
        "cget_barometre_2018: remove it, or declare it in the catalogue's files [source_folder_unknown_file]")
    assert report.findings[1].message() == (
        "barometre_2018/carte_1_1 (1).csv: a copy of the declared file barometre_2018/carte_1_1.csv (copy suffix) "
        "of source cget_barometre_2018: not read [source_folder_copy]")
    unknown = folders.classify_folder(DECLARED, ["departements_2012_2021/x.csv"]).findings[0]
    assert unknown.sources == ("insee_estimations_population", "drees_medecins")


def test_folder_outcome_is_an_error_with_an_unknown_file_a_warning_with_copies_only():
    copies = folders.classify_folder(DECLARED, ["barometre_2018/carte_1_1.csv", "barometre_2018/carte_1_1 (1).csv"])
    out = folders.outcome(copies)
    assert (out.passed, out.severity) == (False, "WARN")
    assert out.description == (
        "barometre_2018/carte_1_1 (1).csv: a copy of the declared file barometre_2018/carte_1_1.csv (copy suffix) of "
        "source cget_barometre_2018: not read [source_folder_copy]")
    unknown = folders.outcome(folders.classify_folder(DECLARED, ["barometre_2018/notes.csv"]))
    assert (unknown.passed, unknown.severity) == (False, "ERROR")
    assert folders.outcome(folders.classify_folder(DECLARED, ["barometre_2018/baro.csv"])).passed


def test_the_real_snapshot_folders_are_all_declared(catalogue):
    from assets.checks import folder_report
    from barometre.landing import DEFAULT_SNAPSHOT_DIR

    report = folder_report(DEFAULT_SNAPSHOT_DIR)
    assert report.findings == []
    assert len(report.declared) == 77  # the 77 files of mart.sources
    # The COG releases repeat files byte for byte (cog/2023/regions.json.gz = cog/2022's): a
    # declared file is never taken for a copy of another one.
    assert "cog/2023/regions.json.gz" in report.declared


def test_a_cget_file_whose_indicator_the_catalogue_lacks(catalogue):
    carte = catalogue.source("cget_barometre_2018").extra["carte"]
    assert cget_2018.file_indicator("barometre_2018/carte_2_1.csv", "carte", carte) == "2_1"
    assert cget_2018.file_indicator("barometre_2018/carte_2_1 (1).csv", "carte", carte) is None
    with pytest.raises(SourceFormatError) as exc:
        cget_2018.file_indicator("barometre_2018/carte_7_2.csv", "carte", carte)
    assert str(exc.value) == (
        "barometre_2018/carte_7_2.csv: indicator id '7_2' is not in the catalogue (source cget_barometre_2018, its "
        f"'carte' table: {sorted(carte)}): a file the publisher added? Declare the indicator or remove the file")


# ---------------------------------------------------------------------------------------------
# 1. Scale and shape: a file's median in its typical range; no jump between periods.

def _cget_frame(store, catalogue, path=None, convert=None):
    parsers = _cget_parsers(catalogue)
    parts = []
    for p, parse in parsers.items():
        raw = store.read(p)
        parts.append(parse(convert(raw) if p == path else raw, p))
    return pd.concat(parts, ignore_index=True)


def _mesh(store):
    return cget_2018.mesh_codes(pd.concat([
        cget_2018.parse_topojson_names(store.read(cget_2018.ZE_FILE), cget_2018.ZE_FILE, "zone_emploi", "ze_2010"),
        cget_2018.parse_topojson_names(store.read(cget_2018.EPCI_FILE), cget_2018.EPCI_FILE, "epci", "epci_2018")]))


def _scaled(factor: float):
    """Every value of a CGET map file multiplied by ``factor`` (a scale or unit error)."""
    def convert(raw: bytes) -> bytes:
        out = []
        for n, line in enumerate(raw.decode().split("\n")):
            f = line.split(",")
            if n and len(f) == 5:
                f[2], f[4] = (f"{float(v) * factor:.6g}" if v else v for v in (f[2], f[4]))
            out.append(",".join(f))
        return "\n".join(out).encode()
    return convert


@pytest.mark.parametrize("factor, side, median", [(0.01, "low", 0.181), (100, "high", 1810.0), (0.001, "low", 0.0181)],
                         ids=["fractions", "x100", "per_mille"])
def test_a_cget_file_written_at_another_scale_is_refused(store, catalogue, factor, side, median):
    frame = _cget_frame(store, catalogue, C21, _scaled(factor))
    [outcome] = validation.validate_raw(cget_2018.SCHEMA, frame, catalogue, _mesh(store))
    assert not outcome.passed
    [failure] = [f for f in outcome.failures if f.group == "scale_and_jumps"]
    if factor == 100:  # ×100 also crosses the plausible maximum of 60 %: the bounds alone catch that one
        assert [f.rule for f in outcome.failures if f.group == "value_domains"] == [
            "a value is ≤ its indicator's plausible maximum (catalogue)"]
    else:  # fractions and per mille lie within the plausible 0–60 %: only the median sees them
        assert [f.group for f in outcome.failures] == ["scale_and_jumps"]
    end = "low end" if side == "low" else "high end"
    sign = "≥" if side == "low" else "≤"
    assert (failure.file, failure.column, failure.count) == (C21, "value", 2)
    assert failure.rule == (f"the file's median of |value| per period is {sign} the {end} of its indicator's typical "
                            "range at its level (catalogue typical_median): a scale or unit error?")
    assert failure.examples[0] == {"source_file": C21, "cget_id": "2_1", "period": "1999", "median": median,
                                   "level": "epci", "typical_low": 9.0, "typical_high": 41.0}


def test_the_real_cget_files_pass_and_every_indicator_level_has_a_typical_median(store, catalogue):
    [outcome] = validation.validate_raw(cget_2018.SCHEMA, _cget_frame(store, catalogue), catalogue, _mesh(store))
    assert outcome.passed, outcome.description


def test_a_panel_year_at_another_scale_is_refused(store, catalogue):
    """Population of 2016 written in thousands: the year's median falls out of its range, and
    every département jumps from 2015."""
    raw = store.read(population.FILE)
    broken = re.sub(rb'(\n"?[0-9AB]{2}"?;2016;)(\d+)', lambda m: m[1] + str(round(int(m[2]) / 1000)).encode(), raw)
    [outcome] = validation.validate_raw(population.SCHEMA, population.parse(broken), catalogue)
    assert [f.rule for f in outcome.failures] == [
        "the file's median of |pop_jan1| per year lies within its typical range 260000–1.1e+06 (declared in "
        "raw.insee_estimations_population_departement): a scale or unit error?",
        "a value changes by a factor ≤ 2 from the territory's previous year (declared in raw.insee_estimations_population_departement)"]
    assert outcome.failures[0].examples == [{"year": 2016, "median": 537.5, "rows": 96}]
    assert outcome.failures[1].count == 96 * 2  # 2015 → 2016 and 2016 → 2017


def test_one_value_jumping_between_two_years_is_refused(store, catalogue):
    raw = store.read(chomage.FILE)
    assert b'\n"01";2014;7.1;7.075\n"01";2015;7.3;7.35\n"01";2016;7.3;7.35\n' in raw
    broken = raw.replace(b'\n"01";2015;7.3;7.35', b'\n"01";2015;21.9;7.35')  # ×3, within the plausible 2–40 %
    [outcome] = validation.validate_raw(chomage.SCHEMA, chomage.parse(broken), catalogue)
    [failure] = outcome.failures
    assert failure.message().startswith(
        f"{chomage.FILE}: column 'unemployment_rate': a value changes by a factor ≤ 2 from the territory's previous "
        "year (max_jump of taux_chomage, catalogue) [expect_column_values_to_be_between]: 2 rows; e.g. ")
    assert [{k: e[k] for k in ("code_departement", "year", "previous_period", "previous", "unemployment_rate")}
            for e in failure.examples] == [
        {"code_departement": "01", "year": 2015, "previous_period": 2014.0, "previous": 7.1, "unemployment_rate": 21.9},
        {"code_departement": "01", "year": 2016, "previous_period": 2015.0, "previous": 21.9, "unemployment_rate": 7.3}]
    assert failure.examples[0]["factor"] == pytest.approx(21.9 / 7.1)


def test_median_and_jump_frames():
    frame = pd.DataFrame({"code": ["a", "a", "a", "b", "b"], "year": [1, 2, 3, 1, 2],
                          "v": [10.0, 30.0, -1.0, 4.0, 5.0]})
    med = validation.raw.median_frame(frame, "v", ["year"])
    assert med.to_dict("list") == {"year": [1, 2, 3], "median": [7.0, 17.5, 1.0], "rows": [2, 2, 1]}
    jumps = validation.raw.jump_frame(frame, "v", ["code"], "year")
    # a → 2 (×3) compared; a → 3 changes sign (not compared); b → 2 (×1.25)
    assert jumps[["code", "year", "factor"]].values.tolist() == [["a", 2, 3.0], ["b", 2, 1.25]]


# ---------------------------------------------------------------------------------------------
# 2. Identities between columns.

def test_income_shares_that_do_not_sum_to_100(store, catalogue):
    raw = store.read(filosofi.FILE)
    frame = filosofi.parse(raw)
    frame.loc[(frame["code_departement"] == "01") & (frame["year"] == 2019), "pct_wages"] += 1.0
    suite, _ = validation.validate_raw(filosofi.SCHEMA, frame, catalogue)
    [failure] = suite.failures
    assert failure.rule == ("the income shares pct_wages … pct_other sum to 100, absolute gap (tolerance 0.3)")
    assert failure.examples[0]["code_departement"] == "01" and failure.examples[0]["year"] == 2019


def test_a_doctors_count_that_disagrees_with_its_density(store, catalogue):
    raw = store.read(DOCTORS)
    assert b'"95";2020;233.82;2927\n' in raw
    broken = raw.replace(b'"95";2020;233.82;2927\n', b'"95";2020;233.82;2027\n')  # within the jump factor
    pop = population.parse(store.read(population.FILE))
    [outcome] = validation.validate_raw(drees_medecins.SCHEMA, drees_medecins.parse(broken), catalogue,
                                        tables={"insee_estimations_population_departement": pop})
    [failure] = outcome.failures
    assert failure.message().startswith(
        f"{DOCTORS}: column 'doctor_density_per_100k': the density equals n_doctors / pop_jan1 × 100 000 "
        "(raw.insee_estimations_population_departement), relative gap (tolerance 0.0001) [expect_column_values_to_be_between]: 1 row; "
        "e.g. {'code_departement': '95', 'year': 2020, 'gap': 0.307")


def test_an_identity_without_its_table_is_an_error_not_a_pass(store, catalogue):
    frame = drees_medecins.parse(store.read(DOCTORS))
    with pytest.raises(ValueError, match=r"identity on 'doctor_density_per_100k' needs the tables"):
        validation.validate_raw(drees_medecins.SCHEMA, frame, catalogue)


def test_cog_is_not_a_text_source():
    """The COG files are gzipped JSON (cog.py reads them with json): not concerned by part 4."""
    assert cog.COMMUNES_SCHEMA.files.endswith(".json.gz") or "json" in cog.COMMUNES_SCHEMA.files
