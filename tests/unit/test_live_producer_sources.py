"""Live mode of issue 14's sources: Filosofi base cc through INSEE Melodi (DS_FILOSOFI_CC), the
population estimates by age by INSEE's file URL, NEET snapshot-only.

No real /melodi/data/DS_FILOSOFI_CC answer exists offline: tests/fixtures/live/
filosofi_cc_from_snapshot_values.json puts the REAL 2019 values of a few territories of the
snapshot's INSEE archive into the layout of Melodi's real answers (how: its generator,
tests/fixtures/live/make_filosofi_cc_from_snapshot_values.py, and tests/fixtures/live/README.md).
"""

import json
from pathlib import Path

import pandas as pd
import pytest

from barometre.http import HttpClient, HttpSettings
from barometre.landing import Landing, live_registry, open_store
from barometre.releases import check_release, check_settings, release_checks
from barometre.sources import insee_filosofi_cc as cc
from barometre.sources import insee_population_age as age

LIVE = Path(__file__).resolve().parents[1] / "fixtures" / "live"
PAGES = json.loads((LIVE / "filosofi_cc_from_snapshot_values.json").read_text(encoding="utf-8"))
RANGE = (LIVE / "filosofi_cc_range_from_snapshot_names.json").read_bytes()
MELODI = "/api.insee.fr/melodi/data/DS_FILOSOFI_CC"
PICKED = {"commune": ["01001", "01006"], "epci": ["200000172"], "departement": ["01", "974"], "region": ["84"],
          "zone_emploi": ["0051"]}


@pytest.fixture(scope="module")
def snapshot_2019(store):
    tables, findings = cc.parse_year(store.read(cc.FILES[2019]), cc.FILES[2019], 2019)
    return tables, findings


def _docs() -> dict[str, bytes]:
    """The landed documents (one per level), as the landing assembles the count and the pages."""
    from barometre.sources import _melodi

    out = {}
    for geo, page in PAGES.items():
        count = {**page, "observations": [], "paging": {**page["paging"], "count": len(page["observations"])}}
        out[cc.MELODI_FILES[geo]] = json.dumps(_melodi.assemble(count, [page], 100_000)).encode()
    return out


def test_catalogue_entry_maps_what_the_module_reads(catalogue):
    block = catalogue.source("insee_filosofi_cc").extra["live"]
    assert block["status"] == "live" and block["years"] == [2021]
    assert block["levels"] == cc.MELODI_LEVELS and block["measures"] == cc.MELODI_MEASURES
    files = live_registry(catalogue)["insee_filosofi_cc"].files
    assert {f.path: f.url for f in files} == {
        **{path: f"https://api.insee.fr/melodi/data/DS_FILOSOFI_CC?GEO={geo}" for geo, path in cc.MELODI_FILES.items()},
        cc.MELODI_RANGE: "https://api.insee.fr/melodi/range/DS_FILOSOFI_CC"}
    # Every mapped measure is a code of the real catalogue entry's raccourcis; its FRANCE level is not read.
    entry = json.loads((LIVE / "real" / "melodi" / "catalog_all_entry_DS_FILOSOFI_CC.json").read_text(encoding="utf-8"))
    codes = {c for r in entry["raccourcis"] for x in r["raccourcis"] for c in x["choix"]}
    assert set(cc.MELODI_MEASURES) <= codes and len(codes) == 19
    assert set(cc.MELODI_LEVELS) <= {s["id"] for s in entry["spatialResolution"]} and "FRANCE" not in cc.MELODI_LEVELS
    assert (entry["temporal"]["startPeriod"], entry["temporal"]["endPeriod"]) == ("2021-01-01T00:00:00",) * 2
    assert release_checks(catalogue)["insee_filosofi_cc"].urls == ("https://api.insee.fr/melodi/catalog/DS_FILOSOFI_CC",)


def test_melodi_rows_equal_the_snapshot_rows(snapshot_2019):
    tables, findings = cc.parse_melodi(_docs(), cc.melodi_names(RANGE))
    snap, _ = snapshot_2019
    assert sorted(tables) == sorted(cc.TABLES[level] for level in PICKED)
    mapped = ["code", "name", "year", "geography_vintage", "origin", *cc.MELODI_MEASURES.values()]
    for level, codes in PICKED.items():
        live = tables[cc.TABLES[level]]
        expected = snap[cc.TABLES[level]]
        expected = expected[expected["code"].isin(codes)].sort_values("code").reset_index(drop=True)
        assert list(live.columns) == cc.COLUMNS and (live.dtypes == expected.dtypes).all()
        pd.testing.assert_frame_equal(live[mapped], expected[mapped])
        # Columns without a Melodi measure stay missing, never filled.
        unmapped = [c for c in cc.VALUE_COLUMNS if c not in cc.MELODI_MEASURES.values()]
        assert live[unmapped].isna().all().all()
    dep = tables[cc.TABLES["departement"]].set_index("code")
    assert (dep.loc["01", "med"], dep.loc["01", "tp60"], dep.loc["01", "ppen"], dep.loc["01", "ppsoc"]) == (
        23490.0, 10.7, 24.9, 4.2)  # Ain 2019, as in the archive's DEP sheet
    assert dep.loc["974", "name"] == "La Réunion" and dep.loc["974", "geography_vintage"] == "cog_2022"
    assert tables[cc.TABLES["zone_emploi"]]["geography_vintage"].tolist() == ["ze_2020"]
    # Secrecy: L'Abergement-Clémenciat's poverty rate and Ambléon's every value were sent empty.
    com = tables[cc.TABLES["commune"]].set_index("code")
    assert com.loc["01001", "med"] == 23970.0 and pd.isna(com.loc["01001", "tp60"])
    assert com.loc["01006", cc.MELODI_MEASURES.values()].isna().all()
    tp60 = findings[(findings["table"] == cc.TABLES["commune"]) & (findings["column"] == "tp60")]
    assert tp60[["file", "sheet", "year", "marker", "cells", "codes"]].values.tolist() == [
        ["filosofi_melodi/DS_FILOSOFI_CC_COM.json", "COM", 2019, "(empty)", 2, "01001 01006"]]


def test_melodi_years_are_added_to_the_archives_years(store, snapshot_2019):
    # The 2018 archive stands for the archives; Melodi's 2019 rows (real values) are a year it lacks.
    archives, archive_findings = cc.parse_year(store.read(cc.FILES[2018]), cc.FILES[2018], 2018,
                                               levels=("departement", "region"))
    tables, findings = cc.with_melodi(archives, archive_findings, *cc.parse_melodi(_docs(), cc.melodi_names(RANGE)))
    dep = tables[cc.TABLES["departement"]]
    assert dep.groupby("year").size().to_dict() == {2018: 98, 2019: 2}  # 98 départements in the 2018 archive
    assert dep.loc[(dep["year"] == 2019) & (dep["code"] == "01"), "med"].tolist() == [23490.0]
    # A year the archives hold keeps the archive: Melodi's 2019 rows are not added to 2019's tables.
    snap, snap_findings = snapshot_2019
    same, same_findings = cc.with_melodi(snap, snap_findings, *cc.parse_melodi(_docs(), cc.melodi_names(RANGE)))
    assert all(same[t] is snap[t] for t in snap) and same_findings is snap_findings


def test_unmapped_levels_and_measures_are_not_read():
    page = json.loads(json.dumps(PAGES["DEP"]))
    page["observations"] = [
        {"dimensions": {"GEO": "2022-FRANCE-F", "TIME_PERIOD": "2019", "FILOSOFI_MEASURE": "MED_SL"},
         "measures": {"OBS_VALUE_NIVEAU": {"value": 21930.0}}},
        {"dimensions": {"GEO": "2022-DEP-01", "TIME_PERIOD": "2019", "FILOSOFI_MEASURE": "NUM_CU"},
         "measures": {"OBS_VALUE_NIVEAU": {"value": 1.0}}},
        *page["observations"][:1]]
    from barometre.sources import _melodi
    doc = _melodi.assemble({"paging": {"count": 3}}, [page], 100_000)
    tables, _ = cc.parse_melodi({cc.MELODI_FILES["DEP"]: json.dumps(doc).encode()}, cc.melodi_names(RANGE))
    (dep,) = tables.values()
    assert dep[["code", "households"]].values.tolist() == [["01", 264074.0]] and pd.isna(dep.loc[0, "med"])


def test_a_territory_without_label_and_a_code_that_lost_its_zero_are_refused():
    from barometre.sources._csv import SourceFormatError

    docs = _docs()
    names = cc.melodi_names(RANGE)
    del names["2022-DEP-01"]
    with pytest.raises(SourceFormatError, match=r"1 departement territories without a label in Melodi's range of "
                                                r"DS_FILOSOFI_CC.*2022-DEP-01"):
        cc.parse_melodi({cc.MELODI_FILES["DEP"]: docs[cc.MELODI_FILES["DEP"]]}, names)
    bad = docs[cc.MELODI_FILES["DEP"]].replace(b'"2022-DEP-01"', b'"2022-DEP-1"')
    with pytest.raises(SourceFormatError, match=r"invalid departement code \(lost leading zero\?\).*'1'"):
        cc.parse_melodi({cc.MELODI_FILES["DEP"]: bad}, cc.melodi_names(RANGE))


def test_melodi_levels_landed_over_http_give_the_snapshot_values(http_server, tmp_path, catalogue, snapshot_2019):
    for geo, page in PAGES.items():
        count = {**page, "observations": [], "paging": {**page["paging"], "count": len(page["observations"])}}
        http_server.put(f"{MELODI}?GEO={geo}&totalCount=TRUE&maxResult=0", json.dumps(count).encode())
        http_server.put(f"{MELODI}?GEO={geo}&maxResult=100000&page=1", json.dumps(page).encode())
    http_server.put("/api.insee.fr/melodi/range/DS_FILOSOFI_CC", RANGE)
    client = HttpClient(HttpSettings(mirror=http_server.url, retries=0, rate_limits={}))
    try:
        store = open_store(sources="live:insee_filosofi_cc", landing_dir=tmp_path / "landing", client=client,
                           catalogue=catalogue)
        live = [p for p in cc.MELODI_FILES.values() if store.is_live(p)]
        assert live == list(cc.MELODI_FILES.values()) and store.is_live(cc.MELODI_RANGE)
        assert not store.is_live(cc.FILES[2019])  # the archives stay the snapshot's
        tables, _ = cc.parse_melodi({p: store.read(p) for p in live}, cc.melodi_names(store.read(cc.MELODI_RANGE)))
        described = store.describe(cc.MELODI_FILES["EPCI"])
    finally:
        client.close()
    snap, _ = snapshot_2019
    epci = snap[cc.TABLES["epci"]]
    expected = epci[epci["code"] == "200000172"].reset_index(drop=True)
    pd.testing.assert_frame_equal(tables[cc.TABLES["epci"]], expected[cc.COLUMNS].assign(
        **{c: float("nan") for c in cc.VALUE_COLUMNS if c not in cc.MELODI_MEASURES.values()}))
    assert (described["origin"], described["url"]) == ("live", "https://api.insee.fr/melodi/data/DS_FILOSOFI_CC?GEO=EPCI")


# ------------------------------------------------------------------------------------------------
# Population estimates by age: INSEE's workbook by its file URL.

AGE_URL = "https://www.insee.fr/fr/statistiques/fichier/1893198/estim-pop-dep-sexe-aq-1975-2021.xlsx"
AGE_PATH = "/www.insee.fr/fr/statistiques/fichier/1893198/estim-pop-dep-sexe-aq-1975-2021.xlsx"


def test_age_estimates_entry_is_the_snapshot_workbook_url(catalogue):
    (live,) = live_registry(catalogue)["insee_estimations_population_age"].files
    assert (live.path, live.url, live.format, live.snapshot_copy, live.parser) == (age.FILE, AGE_URL, "xlsx", True, None)
    check = release_checks(catalogue)["insee_estimations_population_age"]
    assert (check.method, check.urls) == ("head", (AGE_URL,))


def test_age_workbook_landed_byte_for_byte_and_parsed_by_the_snapshot_parser(http_server, tmp_path, store, catalogue):
    raw = store.read(age.FILE)
    http_server.put(AGE_PATH, raw)
    client = HttpClient(HttpSettings(mirror=http_server.url, retries=0, rate_limits={}))
    try:
        live = open_store(sources="live:insee_estimations_population_age", landing_dir=tmp_path / "landing",
                          client=client, catalogue=catalogue)
        landed = live.read(age.FILE)
        described = live.describe(age.FILE)
    finally:
        client.close()
    assert landed == raw and described["sha256"] == "2177d0dc54e98266be624d843928d8463148f25e3277f167a86eb0af7d886420"
    assert described["origin"] == "live" and described["etag"] and described["last_modified"]
    # The same bytes, so the snapshot parser reads the same tables (parsed once here: 47 sheets).
    tables = age.parse(landed, age.FILE)
    ain = tables[age.TABLE].iloc[0]
    assert (ain["code_departement"], ain["year"], ain["sex"], ain["age_group"], ain["population"]) == (
        "01", 1975, "ensemble", "00-04", 30696)  # Ain 1975, 0–4 ans, as in the workbook's 1975 sheet


def test_age_release_check_by_etag_then_sha256_without_validators(http_server, store, catalogue):
    check = release_checks(catalogue)["insee_estimations_population_age"]
    http_server.put(AGE_PATH, store.read(age.FILE))
    client = HttpClient(check_settings(http_server.url))
    try:
        with_etag = check_release(check, client)
        http_server.validators = False
        without = check_release(check, client)
    finally:
        client.close()
    assert with_etag.evidence[AGE_URL].startswith('ETag "')
    assert without.evidence[AGE_URL] == "SHA-256 2177d0dc54e98266be624d843928d8463148f25e3277f167a86eb0af7d886420"


def test_neet_stays_snapshot_only_with_its_reason(catalogue):
    neet = live_registry(catalogue)["neet_observatoire_territoires"]
    assert neet.status == "snapshot-only" and not neet.files
    assert "No stable export URL" in neet.why and "inferred" in neet.why
    assert "neet_observatoire_territoires" not in release_checks(catalogue)


def test_raw_checks_allow_melodi_years_besides_the_archives_and_nothing_else(store, catalogue):
    from barometre import validation

    archives, findings = cc.parse({p: store.read(p) for p in cc.FILES.values()}, levels=("departement",))
    table = archives[cc.TABLES["departement"]]
    schema = cc.SCHEMAS[cc.TABLES["departement"]]
    assert cc.melodi_years(catalogue) == (2021,)
    melodi, _ = cc.parse_melodi({cc.MELODI_FILES["DEP"]: _docs()[cc.MELODI_FILES["DEP"]]}, cc.melodi_names(RANGE))
    # The fixture's rows (2019 values) relabelled as Melodi serves them, 2021 in COG 2025, only to
    # exercise the period rule: 2021 is allowed, 2022 (not in live.years) is not.
    for year, allowed in ((2021, True), (2022, False)):
        rows = melodi[cc.TABLES["departement"]].assign(year=year, geography_vintage="cog_2025")
        [outcome] = validation.validate_raw(schema, pd.concat([table, rows], ignore_index=True), catalogue)
        periods = [f.message() for f in outcome.failures if f.group == "keys_and_periods"]
        assert periods == ([] if allowed else [
            "filosofi_melodi: column 'year': a period is one of "
            "[2014, 2015, 2016, 2017, 2018, 2019, 2021] [expect_column_values_to_be_in_set]: 2 rows; "
            "e.g. {'code': '01', 'year': 2022}"]), periods
