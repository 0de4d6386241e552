"""Landing a Melodi data set over real HTTP (the local server, through the mirror), on INSEE's real
answers (tests/fixtures/live/real/melodi/): the count first, the pages by number, a short answer
refused naming the data set, an unknown data set failing fast (one retry of its 500)."""

import json
from pathlib import Path

import pytest

from barometre.http import FetchError, HttpClient, HttpSettings
from barometre.landing import Landing, LiveConfigError, LiveFile, live_registry
from barometre.sources import _melodi
from tests.support.http_server import Status

REAL = Path(__file__).resolve().parents[1] / "fixtures" / "live" / "real" / "melodi"
URL = "https://api.insee.fr/melodi/data/DS_POPULATIONS_REFERENCE?GEO=DEP-69"
PATH = "/api.insee.fr/melodi/data/DS_POPULATIONS_REFERENCE"
COUNT = (REAL / "inseefrlab" / "get_local_data_popref__0.body").read_bytes()  # count 3
PAGE = (REAL / "inseefrlab" / "get_local_data_popref__1.body").read_bytes()   # 3 observations
PCT_PAGE = json.loads(PAGE)


def _live(page_size=None) -> LiveFile:
    return LiveFile("insee_populations", "x/popref.csv", URL, "json", paging="melodi", page_size=page_size)


@pytest.fixture
def landing(tmp_path, http_server):
    client = HttpClient(HttpSettings(mirror=http_server.url, retries=4, backoff_factor=0.01, backoff_jitter=0,
                                     rate_limits={}))
    yield Landing(tmp_path / "landing", client)
    client.close()


def _page(observations) -> bytes:
    return json.dumps({**PCT_PAGE, "observations": observations}).encode()


def test_count_then_pages_by_number(http_server, landing):
    http_server.put(f"{PATH}?GEO=DEP-69&totalCount=TRUE&maxResult=0", COUNT)
    obs = PCT_PAGE["observations"]
    http_server.put(f"{PATH}?GEO=DEP-69&maxResult=2&page=1", _page(obs[:2]))
    http_server.put(f"{PATH}?GEO=DEP-69&maxResult=2&page=2", _page(obs[2:]))
    landed = landing.land(_live(page_size=2), "run-1")
    assert [r.path for r in http_server.requests] == [
        f"{PATH}?GEO=DEP-69&totalCount=TRUE&maxResult=0", f"{PATH}?GEO=DEP-69&maxResult=2&page=1",
        f"{PATH}?GEO=DEP-69&maxResult=2&page=2"]
    doc = json.loads(Path(landed.local_path).read_bytes())
    assert doc["paging"] == {"count": 3, "pages": 2, "maxResult": 2} and doc["observations"] == obs
    values = _melodi.observations(Path(landed.local_path).read_bytes(), landed.path, "POPREF_MEASURE")
    assert values["value"].tolist() == [1914667.0, 25348.0, 1940015.0]  # Rhône 2023: PMUN, PCAP, PTOT
    assert (landed.url, landed.http_status, landed.etag) == (URL, 200, None)


def test_one_page_of_100000_by_default(http_server, landing, catalogue):
    http_server.put(f"{PATH}?GEO=DEP-69&totalCount=TRUE&maxResult=0", COUNT)
    http_server.put(f"{PATH}?GEO=DEP-69&maxResult=100000&page=1", PAGE)  # the real page, byte for byte
    landing.land(_live(), "run-1")
    assert http_server.requests[-1].path == f"{PATH}?GEO=DEP-69&maxResult=100000&page=1"
    (filosofi,) = live_registry(catalogue)["insee_filosofi_departement"].files
    assert (filosofi.url, filosofi.paging, filosofi.page_size) == (
        "https://api.insee.fr/melodi/data/DS_FILOSOFI_CC?GEO=DEP", "melodi", 100_000)


def test_short_answer_is_refused_and_the_last_good_copy_kept(http_server, landing):
    http_server.put(f"{PATH}?GEO=DEP-69&totalCount=TRUE&maxResult=0", COUNT)
    http_server.put(f"{PATH}?GEO=DEP-69&maxResult=100000&page=1", PAGE)
    good = landing.land(_live(), "run-1")
    before = Path(good.local_path).read_bytes()
    http_server.put(f"{PATH}?GEO=DEP-69&maxResult=100000&page=1", _page(PCT_PAGE["observations"][:2]))
    with pytest.raises(FetchError) as err:
        landing.land(_live(), "run-2")
    assert str(err.value) == (f"{URL}: Melodi data set DS_POPULATIONS_REFERENCE: incomplete answer, 2 observations "
                              f"received in 1 page(s) of 100000, Melodi announced 3")
    assert Path(good.local_path).read_bytes() == before and landing.last_good(_live()) == good


@pytest.mark.parametrize("status,body,attempts", [
    pytest.param(500, "inseefrlab/get_data_not_exist__0.body", 2, id="2026-500-one-retry"),
    pytest.param(400, "cbobinec/get_data_not_exist__0.body", 1, id="2025-400-no-retry"),
])
def test_unknown_data_set_fails_fast_naming_it(http_server, landing, status, body, attempts):
    url = "https://api.insee.fr/melodi/data/DS_NEXISTEPAS"
    raw = (REAL / body).read_bytes()  # the real bodies
    http_server.script("/api.insee.fr/melodi/data/DS_NEXISTEPAS", *[Status(status, {"Content-Type": "text/plain"}, raw)] * 5)
    live = LiveFile("s", "x/y.csv", url, "json", paging="melodi", page_size=100_000)
    with pytest.raises(FetchError) as err:
        landing.land(live, "run-1")
    assert len(http_server.requests) == attempts
    reason = {500: "Internal Server Error after 2 attempts", 400: "Bad Request"}[status]
    assert str(err.value) == (
        f"{url}?totalCount=TRUE&maxResult=0 (fetched from {http_server.url}/api.insee.fr/melodi/data/DS_NEXISTEPAS"
        f"?totalCount=TRUE&maxResult=0): Melodi data set DS_NEXISTEPAS: HTTP {status} {reason} "
        f"({raw.decode('utf-8').strip()!r}) — an unknown or renamed data set answers so (HTTP 500 since 2026, 400 "
        f"before): check https://api.insee.fr/melodi/catalog/DS_NEXISTEPAS")


def test_a_500_elsewhere_is_still_retried(http_server, landing):
    # Only Melodi's data route fails fast: the CGET files get their four retries.
    http_server.put("/anct-carto.github.io/f.csv", b"a,b\n1,2\n")
    http_server.script("/anct-carto.github.io/f.csv", *[Status(500)] * 4)
    landing.land(LiveFile("s", "x/f.csv", "https://anct-carto.github.io/f.csv", "csv"), "run-1")
    assert len(http_server.requests) == 5


def test_page_size_beyond_melodi_limit_is_refused(catalogue):
    from dataclasses import replace

    source = catalogue.source("insee_filosofi_departement")
    live = dict(source.extra["live"])
    live["files"] = [{**live["files"][0], "page_size": 200_000}]
    broken = replace(catalogue, sources=tuple(replace(s, extra={**s.extra, "live": live}) if s is source else s
                                              for s in catalogue.sources))
    with pytest.raises(LiveConfigError, match=r"page_size needs paging: melodi and is 1 … 100000 \(Melodi's largest "
                                              r"maxResult\), got 200000"):
        live_registry(broken)
