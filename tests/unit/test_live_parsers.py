"""Per source with a live endpoint: its live format, carrying real values, gives the same tidy
rows as the snapshot parser (fixtures in tests/fixtures/live/, see its README)."""

import gzip
import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

from barometre.sources import _sdmx, chomage, cog, elections, filosofi
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
    with pytest.raises(SourceFormatError, match=r"incomplete Melodi response: more than one page \(count 12000\); "
                                                 r"raise maxResult or narrow the query"):
        filosofi.parse_melodi(json.dumps(doc).encode())


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
