"""Per source with a live endpoint: its live format, carrying real values, gives the same tidy
rows as the snapshot parser (fixtures in tests/fixtures/live/, see its README)."""

import gzip
import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

from barometre.sources import _melodi, _sdmx, chomage, cog, elections, filosofi
from barometre.sources._csv import SourceFormatError

LIVE = Path(__file__).resolve().parents[1] / "fixtures" / "live"


def test_cget_files_are_served_as_in_the_snapshot(catalogue):
    # The tool's files are the snapshot's bytes (same parser); the mirror test reads them over HTTP.
    from barometre.landing import live_registry

    files = live_registry(catalogue)["cget_barometre_2018"].files
    assert all(f.snapshot_copy and f.parser is None for f in files) and len(files) == 28


@pytest.mark.parametrize("name,parse", [("departements", cog.parse_departements), ("regions", cog.parse_regions),
                                        ("epci", cog.parse_epci_members)])
def test_cog_plain_json_as_unpkg_serves_it(store, name, parse):
    packed = store.read(cog.path(2026, name))
    pd.testing.assert_frame_equal(parse(gzip.decompress(packed), 2026), parse(packed, 2026))


def test_filosofi_from_melodi_equals_the_snapshot_rows(store):
    live = filosofi.parse_melodi((LIVE / "melodi_DS_FILOSOFI_CC.json").read_bytes())
    snap = filosofi.parse(store.read(filosofi.FILE))
    snap = snap[(snap["year"] == 2021) & snap["code_departement"].isin(["01", "2A", "2B"])].reset_index(drop=True)
    assert list(live.columns) == list(snap.columns) and (live.dtypes == snap.dtypes).all()
    mapped = ["code_departement", "year", *filosofi.MELODI_MEASURES.values()]
    pd.testing.assert_frame_equal(live[mapped], snap[mapped])  # the région observation was left out
    assert live.loc[0, "q2_disp"] == 24810 and live.loc[0, "poverty_rate_disp"] == 10.8  # Ain, 2021
    # Declared-income columns have no Melodi counterpart: missing, never filled; no names in Melodi data.
    unmapped = [c for c in filosofi.VALUE_COLUMNS if c not in filosofi.MELODI_MEASURES.values()]
    assert live[unmapped].isna().all().all() and live["dep_name"].isna().all()


def test_melodi_observation_without_value_stays_missing():
    doc = json.loads((LIVE / "melodi_DS_FILOSOFI_CC.json").read_text(encoding="utf-8"))
    del doc["observations"][0]["measures"]  # Ain 2021 NUM_HH, as Melodi sends a secret cell
    live = filosofi.parse_melodi(json.dumps(doc).encode())
    assert pd.isna(live.loc[0, "n_households"]) and live.loc[0, "n_persons"] == 635140


def test_melodi_paginated_response_is_refused():
    doc = json.loads((LIVE / "melodi_DS_FILOSOFI_CC.json").read_text(encoding="utf-8"))
    doc["paging"] = {"next": "https://api.insee.fr/melodi/data/DS_FILOSOFI_CC?GEO=DEP&page=2", "isLast": False,
                     "count": 12000}
    with pytest.raises(SourceFormatError, match=r"column 'paging': incomplete Melodi answer for data set "
                                                 r"DS_FILOSOFI_CC: more than one page \(count 12000\) and only one"):
        filosofi.parse_melodi(json.dumps(doc).encode())


# ---- Real answers of Melodi and the BDM (tests/fixtures/live/real/, see its README) ----------------

REAL = LIVE / "real"
RHONE_COUNT = REAL / "melodi" / "inseefrlab" / "get_local_data_popref__0.body"   # totalCount=TRUE&maxResult=0
RHONE_PAGE = REAL / "melodi" / "inseefrlab" / "get_local_data_popref__1.body"    # maxResult=100000, page 1


def _assembled(count: Path, *pages: dict) -> bytes:
    return json.dumps(_melodi.assemble(json.loads(count.read_bytes()), pages, 100_000)).encode()


def test_real_melodi_answer_counted_and_read():
    """The 2026 count answer (count 3) and page (3 observations, no count, no isLast) of the Rhône."""
    obs = _melodi.observations(_assembled(RHONE_COUNT, json.loads(RHONE_PAGE.read_bytes())), "DS_POPREF",
                               "POPREF_MEASURE")
    assert obs.to_dict("records")[0] == {"level": "DEP", "code": "69", "geo_vintage": "2025", "time_period": "2023",
                                         "measure": "PMUN", "value": 1914667.0}
    assert obs.set_index("measure")["value"].to_dict() == {"PMUN": 1914667.0, "PCAP": 25348.0, "PTOT": 1940015.0}


def test_real_melodi_page_cut_short_is_refused():
    page = json.loads(RHONE_PAGE.read_bytes())
    page["observations"] = page["observations"][:2]  # the last observation lost
    with pytest.raises(SourceFormatError) as err:
        _melodi.observations(_assembled(RHONE_COUNT, page), "DS_POPREF", "POPREF_MEASURE")
    assert str(err.value).startswith("DS_POPREF: column 'paging.count': incomplete Melodi answer for data set "
                                     "DS_POPULATIONS_REFERENCE: 2 observations received, Melodi announced 3")
    raw = RHONE_PAGE.read_bytes()
    with pytest.raises(SourceFormatError, match=r"^DS_POPREF: not a Melodi JSON document \(Unterminated string"):
        _melodi.observations(raw[: len(raw) // 2], "DS_POPREF", "POPREF_MEASURE")  # the bytes cut short


def test_real_melodi_page_without_count_is_refused():
    # As Melodi serves a page since 2026: nothing in it says whether it is complete.
    with pytest.raises(SourceFormatError, match=r"column 'paging.count': Melodi answer for data set "
                                                 r"DS_POPULATIONS_REFERENCE without a total count \(request it with "
                                                 r"totalCount=TRUE\)"):
        _melodi.observations(RHONE_PAGE.read_bytes(), "DS_POPREF", "POPREF_MEASURE")


def test_real_2025_melodi_answer_with_is_last_false_is_refused():
    with pytest.raises(SourceFormatError, match=r"more than one page \(count 9\) and only one received"):
        _melodi.observations((REAL / "melodi" / "cbobinec" / "get_local_data_popref__0.body").read_bytes(), "f",
                             "POPREF_MEASURE")


def test_real_price_index_page_with_its_other_measure_name():
    ipc = REAL / "melodi" / "inseefrlab"
    page = json.loads((ipc / "get_data_obs_value_indice_prix__1.body").read_bytes())
    obs = _melodi.observations(_assembled(ipc / "get_data_obs_value_indice_prix__0.body", page), "DS_IPC_PRINC", None)
    assert obs.to_dict("records") == [{"level": "DEP", "code": "974", "geo_vintage": "2025", "time_period": "2026-01",
                                       "measure": None, "value": 99.14}]  # La Réunion, CPI January 2026
    page["observations"][0]["measures"] = {"OBS_VALUE_TAUX": page["observations"][0]["measures"].pop(
        "OBS_VALUE_INDICE_DE_PRIX")}  # a name never met: refused, not read as missing
    with pytest.raises(SourceFormatError, match=r"column 'measures': unknown Melodi measure name \['OBS_VALUE_TAUX'\] "
                                                 r"in data set DS_IPC_PRINC \(known: OBS_VALUE_NIVEAU, "
                                                 r"OBS_VALUE_INDICE_DE_PRIX; one per observation\)"):
        _melodi.observations(_assembled(ipc / "get_data_obs_value_indice_prix__0.body", page), "DS_IPC_PRINC", None)


def test_real_melodi_value_sent_empty_stays_missing():
    # The shape Melodi gives an unpublished cell ("OBS_VALUE_NIVEAU": {}), on the real Rhône page.
    page = json.loads(RHONE_PAGE.read_bytes())
    page["observations"][1]["measures"] = {"OBS_VALUE_NIVEAU": {}}  # PCAP
    obs = _melodi.observations(_assembled(RHONE_COUNT, page), "DS_POPREF", "POPREF_MEASURE")
    assert obs.set_index("measure")["value"].isna().to_dict() == {"PMUN": False, "PCAP": True, "PTOT": False}


@pytest.mark.parametrize("body", ["inseefrlab/get_data_not_exist__0.body", "cbobinec/get_data_not_exist__0.body"])
def test_real_unknown_data_set_bodies_are_not_melodi_documents(body):
    # 2026: HTTP 500 "Le serveur a rencontré une erreur inattendue."; 2025: HTTP 400 "DS_NEXISTEPAS n'existe pas."
    with pytest.raises(SourceFormatError, match=r"^DS_NEXISTEPAS: not a Melodi JSON document"):
        _melodi.observations((REAL / "melodi" / body).read_bytes(), "DS_NEXISTEPAS", None)


def test_real_bdm_answer_gives_the_2025_means():
    """The BDM's real answer (September 2026, 8 quarters 2024-Q2 … 2026-Q1): 2025 is the only
    complete year; régions (R11), France (FM) and France hors Mayotte (FR-D976) are left out."""
    raw = (REAL / "bdm" / "pulse_fixture_excerpt.xml").read_bytes()
    obs = _sdmx.observations(raw, "TAUX-CHOMAGE")
    assert len(obs) == 72 and obs.loc[obs["REF_AREA"] == "D01", "OBS_VALUE"].tolist()[:2] == [6.0, 5.8]
    assert obs.loc[(obs["REF_AREA"] == "D01") & (obs["TIME_PERIOD"] == "2026-Q1"), "OBS_STATUS"].item() == "SD"
    out = chomage.parse_bdm_sdmx(raw, chomage.FILE)
    assert out.to_dict("records")[0] == {"code_departement": "01", "year": 2025, "unemployment_rate": 5.6,
                                         "unemployment_rate_raw": pytest.approx(5.625)}  # (5.5+5.6+5.6+5.8)/4
    assert out["code_departement"].tolist() == ["01", "12", "2A", "2B", "971", "974"] and set(out["year"]) == {2025}


def test_real_bdm_answer_cut_short_is_refused():
    raw = (REAL / "bdm" / "pulse_fixture_excerpt.xml").read_bytes()
    with pytest.raises(SourceFormatError, match=r"^TAUX-CHOMAGE: not an XML document \(no element found"):
        chomage.parse_bdm_sdmx(raw[:-60], "TAUX-CHOMAGE")


def test_bdm_sdmx_reads_departement_series():
    obs = _sdmx.observations((LIVE / "bdm_TAUX-CHOMAGE.xml").read_bytes(), "TAUX-CHOMAGE")
    ain = obs[obs["REF_AREA"] == "D01"].set_index("TIME_PERIOD")["OBS_VALUE"].to_dict()
    assert ain == {"2012-Q4": 7.5, "2012-Q3": 7.2, "2011-Q4": 6.8}
    assert sorted(set(obs["REF_AREA"])) == ["D01", "D2A", "D2B", "FM"]


def test_bdm_sdmx_without_a_complete_year_gives_no_annual_mean():
    # Real quarters published in March 2013, none of them a complete year: nothing is averaged.
    with pytest.raises(SourceFormatError, match="no département has the four quarters of any year"):
        chomage.parse_bdm_sdmx((LIVE / "bdm_TAUX-CHOMAGE.xml").read_bytes(), chomage.FILE)


def test_annual_mean_of_the_four_quarters():
    # Languedoc-Roussillon 2012 as INSEE published it (Q1 13.5 and Q2 13.7 in September 2012,
    # Q3 13.8 and Q4 14.3 in March 2013): the arithmetic of the compilation's rule.
    quarters = pd.DataFrame({"code": "91", "year": 2012, "quarter": [1, 2, 3, 4], "value": [13.5, 13.7, 13.8, 14.3]})
    out = chomage.annual_means(pd.concat([quarters, quarters.assign(year=2013).head(3)]))
    assert out.to_dict("records") == [{"code_departement": "91", "year": 2012, "unemployment_rate": 13.8,
                                       "unemployment_rate_raw": pytest.approx(13.825)}]


def test_snapshot_rates_are_the_rounded_means(store):
    # What the live parser reproduces: each mean is a mean of four one-decimal quarterly rates
    # (a multiple of 0.025) and the rate is that mean rounded to 0.1; the CSV writes the mean
    # with three decimals, so a tie (x.x5) went either way with the float sum, as in the BDM path.
    snap = chomage.parse(store.read(chomage.FILE))
    assert (snap["unemployment_rate_raw"] * 40).sub((snap["unemployment_rate_raw"] * 40).round()).abs().max() < 1e-9
    assert (snap["unemployment_rate"] - snap["unemployment_rate_raw"]).abs().max() <= 0.05 + 1e-9


def ministry_txt(utf8: bytes) -> bytes:
    """The Ministry's 2022 file from its snapshot copy: Latin-1, CRLF line ends."""
    return utf8.decode("utf-8").replace("\n", "\r\n").encode("latin-1")


def test_ministry_latin1_text_equals_the_snapshot_copy(store, catalogue):
    from barometre.landing import live_registry

    utf8 = store.read(elections.FILES[2022])
    txt = ministry_txt(utf8)
    # Byte for byte the file data.gouv.fr serves: its SHA-1 is the one published in elections/SOURCES.md.
    (declared,) = live_registry(catalogue)["interieur_presidentielle_t1"].files
    assert hashlib.sha1(txt).hexdigest() == declared.sha1 == "3f689976afe9149961941f59334649b935c44ef0"
    assert b"\xc9ric" in txt  # "Éric" in Latin-1
    pd.testing.assert_frame_equal(elections.parse_ministry_txt(txt, elections.FILES[2022]), elections.parse(utf8, 2022))


def test_ministry_file_in_utf8_is_refused(store):
    with pytest.raises(SourceFormatError, match=r"declared Latin-1 but the bytes are UTF-8"):
        elections.parse_ministry_txt(store.read(elections.FILES[2022]), elections.FILES[2022])
