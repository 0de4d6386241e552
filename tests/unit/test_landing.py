"""Landing live files over real HTTP (a local server on 127.0.0.1, no mocks): the eight network
faults of issue 5, each asserting its outcome and that the last good landed file and the
published database are untouched; conditional GET, checksum, mirror, rate limit, source modes."""

import hashlib
import socket
import time

import pandas as pd
import pytest

from barometre import warehouse
from barometre.http import FetchError, HttpClient, HttpSettings, build_retry, mirror_url
from barometre.landing import Landing, LiveConfigError, LiveFile, live_registry, live_source_ids, open_store
from tests.support.http_server import Delay, HtmlPage, Status, Truncate, free_port
from tests.support.webhook import WebhookReceiver

BARO = b"id,year0,value0,year1,value1\n11,2012,19786,2014,20150\n"  # first line of the real baro.csv
FAST = HttpSettings(retries=2, backoff_factor=0.01, backoff_jitter=0.01, backoff_max=0.05, connect_timeout=1.0,
                    read_timeout=0.3, retry_after_max=2.0, rate_limits={})


@pytest.fixture
def baro(store):
    return store.read("barometre_2018/baro.csv")


@pytest.fixture
def env(tmp_path, http_server, baro):
    """A landing area holding a good copy of baro.csv, and a published database."""
    http_server.put("/ba-coh-terr/data/csv/baro.csv", baro)
    live = LiveFile("cget_barometre_2018", "barometre_2018/baro.csv", f"{http_server.url}/ba-coh-terr/data/csv/baro.csv",
                    "csv")
    landing = Landing(tmp_path / "landing", HttpClient(FAST))
    first = landing.land(live, session="run-1")
    published = tmp_path / "barometre.duckdb"
    warehouse.publish({"dimensions": pd.DataFrame({"dimension_id": ["qualite_de_vie"]})}, published)
    return landing, live, first, published


def _state(landing, live, published):
    """Bytes of the landed file, its metadata and the published database, and the folder listing."""
    target = landing.target(live)
    meta = target.with_name(target.name + ".meta.json")
    return (hashlib.sha256(target.read_bytes()).hexdigest(), meta.read_text(), hashlib.sha256(published.read_bytes()).hexdigest(),
            sorted(p.name for p in target.parent.iterdir()))


def test_first_download_lands_the_file_with_its_metadata(env, baro, http_server):
    landing, live, first, _ = env
    assert landing.target(live).read_bytes() == baro
    assert (first.http_status, first.bytes, first.sha256) == (200, len(baro), hashlib.sha256(baro).hexdigest())
    assert first.etag.startswith('"') and first.last_modified.endswith("GMT")
    assert http_server.requests[-1].headers["User-Agent"].startswith("barometre-cohesion/")
    assert sorted(p.name for p in landing.target(live).parent.iterdir()) == ["baro.csv", "baro.csv.meta.json"]


def test_fault_500_then_200_is_retried_and_lands_the_new_file(env, http_server, baro):
    landing, live, first, published = env
    http_server.put("/ba-coh-terr/data/csv/baro.csv", baro + b"12,2012,1,2014,2\n")
    http_server.script("/ba-coh-terr/data/csv/baro.csv", Status(500))
    landed = landing.land(live, session="run-2")
    assert [r.method for r in http_server.requests_for(live.url)] == ["GET", "GET", "GET"]  # first run, 500, 200
    assert landed.http_status == 200 and landed.bytes == len(baro) + 17
    assert landing.target(live).read_bytes().endswith(b"12,2012,1,2014,2\n")


def test_fault_503_with_retry_after_waits_as_told(env, http_server):
    landing, live, first, published = env
    http_server.put("/ba-coh-terr/data/csv/baro.csv", BARO)
    http_server.script("/ba-coh-terr/data/csv/baro.csv", Status(503, {"Retry-After": "1"}))
    start = time.monotonic()
    landed = landing.land(live, session="run-2")
    assert time.monotonic() - start >= 1.0  # the backoff alone is ~0.01 s: the server's 1 s was honoured
    assert landed.http_status == 200 and landing.target(live).read_bytes() == BARO


def test_fault_429_without_retry_after_waits_the_quota_minute(env, http_server):
    """Retries are made below the rate limiter: after a 429 that does not say how long to wait,
    the retry waits min(60 s, retry_after_max) — 2 s here — instead of the ~0.01 s backoff."""
    landing, live, first, published = env
    http_server.put("/ba-coh-terr/data/csv/baro.csv", BARO)
    http_server.script("/ba-coh-terr/data/csv/baro.csv", Status(429))
    start = time.monotonic()
    landed = landing.land(live, session="run-2")
    assert time.monotonic() - start >= 2.0
    assert [r.method for r in http_server.requests_for(live.url)] == ["GET", "GET", "GET"]  # first run, 429, 200
    assert landed.http_status == 200 and landing.target(live).read_bytes() == BARO


def test_retry_after_is_capped_by_the_settings():
    """HttpSettings.retry_after_max caps a server's Retry-After (urllib3 >= 2.6.3 has its own
    retry_after_max, 6 h by default, which must not win) and sets the wait after a bare 429."""
    from urllib3 import HTTPResponse

    retry = build_retry(HttpSettings())  # retry_after_max 120 s
    assert retry.get_retry_after(HTTPResponse(status=503, headers={"Retry-After": "3600"})) == 120.0
    assert retry.get_retry_after(HTTPResponse(status=429, headers={"Retry-After": "5"})) == 5
    assert retry.get_retry_after(HTTPResponse(status=429)) == 60.0     # a quota minute
    assert retry.get_retry_after(HTTPResponse(status=503)) is None     # the exponential backoff
    assert retry.new(total=1).get_retry_after(HTTPResponse(status=429)) == 60.0  # kept by each increment
    short = build_retry(HttpSettings(retry_after_max=10.0))
    assert short.get_retry_after(HTTPResponse(status=429)) == 10.0
    assert short.get_retry_after(HTTPResponse(status=503, headers={"Retry-After": "30"})) == 10.0


@pytest.mark.parametrize("fault,message", [
    pytest.param([Delay(0.6)] * 3, "read timeout (0.3 s without data) after 3 attempts", id="read-timeout"),
    pytest.param([Truncate(100)], "incomplete body: connection broken after 100 bytes of Content-Length 108",
                 id="short-body"),
    pytest.param([Status(404, body=b"Not Found")], "HTTP 404 Not Found", id="404"),
    pytest.param([HtmlPage()], "expected csv, got an HTML page (Content-Type 'text/html; charset=utf-8'; starts "
                               "'<!DOCTYPE html> <html lang=\"fr\"><head><title>Maintenance</title></head><body><h1')",
                 id="html-page"),
    pytest.param([HtmlPage(content_type="text/csv")], "expected csv, got an HTML page (starts '<!DOCTYPE html> <html "
                                                       "lang=\"fr\"><head><title>Maintenance</title></head><body><h1')",
                 id="html-page-sent-as-csv"),
    pytest.param([Status(500)] * 3, "HTTP 500 Internal Server Error after 3 attempts", id="500-persists"),
])
def test_faults_leave_the_last_good_file_and_the_database(env, http_server, fault, message):
    landing, live, first, published = env
    before = _state(landing, live, published)
    http_server.put("/ba-coh-terr/data/csv/baro.csv", BARO * 2)  # a newer version is there, but broken in transit
    http_server.script("/ba-coh-terr/data/csv/baro.csv", *fault)
    with pytest.raises(FetchError) as err:
        landing.land(live, session="run-2")
    assert str(err.value) == f"{live.url}: {message}"
    assert _state(landing, live, published) == before  # same bytes, same metadata, no .part left, same database
    assert landing.last_good(live) == first


def test_fault_connection_refused(env):
    landing, live, first, published = env
    before = _state(landing, live, published)
    gone = LiveFile(live.source_id, live.path, f"http://127.0.0.1:{free_port()}/ba-coh-terr/data/csv/baro.csv", "csv")
    landing_gone = Landing(landing.root, landing.client)
    with pytest.raises(FetchError, match=r"/ba-coh-terr/data/csv/baro.csv: cannot connect \(connection refused\) "
                                         r"after 3 attempts$"):
        landing_gone.land(gone, session="run-2")
    assert _state(landing, live, published) == before


def test_an_invalid_url_is_named_as_such_without_quoting_it():
    """requests' own message quotes the URL (its path may be a secret: the webhook's token), and
    nothing was sent: no attempt count."""
    with pytest.raises(FetchError) as err:
        HttpClient(FAST).get("hooks.example.org/services/T0/B0/SECRETTOKEN")
    assert err.value.reason == "invalid URL (MissingSchema), no request sent"
    with pytest.raises(FetchError) as err:
        HttpClient(FAST).post_json("ftp://hooks.example.org/services/T0/B0/SECRETTOKEN", {})
    assert err.value.reason == "invalid URL (InvalidSchema), no request sent"


def test_an_unexpected_error_is_named_by_its_class_only(http_server):
    """TLS spoken to a plain-HTTP server: an SSLError, not retried (only connection errors, read
    timeouts and the listed statuses are); its text, which may quote the URL, is left out."""
    url = f"https://127.0.0.1:{http_server.url.rsplit(':', 1)[1]}/hooks/T0/B0/SECRETTOKEN?token=SECRETTOKEN"
    with pytest.raises(FetchError) as err:
        HttpClient(FAST).get(url)
    assert err.value.reason == "request failed after 1 attempt (SSLError)"


def test_an_unknown_host_is_named_as_such(monkeypatch):
    def no_such_host(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)  # what the resolver answers for an unknown name
    with pytest.raises(FetchError) as err:
        HttpClient(FAST).get("http://publisher.invalid/data/baro.csv")
    assert str(err.value) == "http://publisher.invalid/data/baro.csv: cannot resolve the host name after 3 attempts"


def test_a_post_is_not_retried_once_sent_and_says_so():
    with WebhookReceiver(delay=0.6) as hook:
        with pytest.raises(FetchError) as err:
            HttpClient(FAST).post_json(hook.url, {"text": "run failed"})
        assert err.value.reason == "read timeout (0.3 s without data) after 1 attempt"
        assert len(hook.posts) == 1


def test_fault_304_reuses_the_landed_file_and_records_it(env, http_server, baro):
    landing, live, first, published = env
    before = _state(landing, live, published)
    landed = landing.land(live, session="run-2")
    request = http_server.requests_for(live.url)[-1]
    assert request.headers["If-None-Match"] == first.etag and request.headers["If-Modified-Since"] == first.last_modified
    assert landed.http_status == 304 and (landed.sha256, landed.bytes, landed.etag) == (first.sha256, first.bytes, first.etag)
    assert landed.retrieved_at >= first.retrieved_at and landed.session == "run-2"
    after = _state(landing, live, published)
    assert after[0] == before[0] and after[2:] == before[2:] and '"http_status": 304' in after[1]  # meta records it


def test_head_tells_whether_the_source_changed(env, http_server):
    # What a sensor needs: the server's validators against the landed copy's, without the body.
    landing, live, first, _ = env
    client = HttpClient(FAST)
    assert client.head(live.url, {"If-None-Match": first.etag}).status_code == 304
    http_server.put("/ba-coh-terr/data/csv/baro.csv", BARO)
    response = client.head(live.url, {"If-None-Match": first.etag})
    assert response.status_code == 200 and response.headers["ETag"] != first.etag and response.content == b""


def test_one_download_per_session(env, http_server):
    landing, live, first, _ = env
    n = len(http_server.requests)
    assert landing.land(live, session="run-1") == first
    assert len(http_server.requests) == n


def test_published_checksum_is_verified(tmp_path, http_server, baro):
    http_server.put("/f.csv", baro)
    good = LiveFile("s", "p.csv", f"{http_server.url}/f.csv", "csv", sha1=hashlib.sha1(baro).hexdigest())
    bad = LiveFile("s", "p.csv", f"{http_server.url}/f.csv", "csv", sha1="3f689976afe9149961941f59334649b935c44ef0")
    landing = Landing(tmp_path, HttpClient(FAST))
    assert landing.land(good, "run-1").sha256 == hashlib.sha256(baro).hexdigest()
    with pytest.raises(FetchError, match=f"sha1 {hashlib.sha1(baro).hexdigest()} does not match the published sha1 "
                                         "3f689976afe9149961941f59334649b935c44ef0"):
        Landing(tmp_path / "other", HttpClient(FAST)).land(bad, "run-1")


def test_a_body_that_is_not_its_declared_format_is_rejected(tmp_path, http_server):
    http_server.put("/DS_FILOSOFI_CC", b'{"identifier": "DS_FILOSOFI_CC", "observations": [', "application/json")
    live = LiveFile("s", "p.csv", f"{http_server.url}/DS_FILOSOFI_CC", "json")
    with pytest.raises(FetchError, match=r"body is not valid json: ValueError: does not start and end like a JSON document"):
        Landing(tmp_path, HttpClient(FAST)).land(live, "run-1")
    assert not list((tmp_path / "s" / "latest").iterdir())


def test_mirror_rewrites_host_and_path(tmp_path, http_server, baro):
    http_server.put("/anct-carto.github.io/ba-coh-terr/data/csv/baro.csv", baro)
    live = LiveFile("cget_barometre_2018", "barometre_2018/baro.csv",
                    "https://anct-carto.github.io/ba-coh-terr/data/csv/baro.csv", "csv")
    client = HttpClient(HttpSettings(mirror=http_server.url, rate_limits={}))
    landed = Landing(tmp_path, client).land(live, "run-1")
    assert landed.url == live.url and landed.fetched_url == f"{http_server.url}/anct-carto.github.io/ba-coh-terr/data/csv/baro.csv"
    assert mirror_url("https://api.insee.fr/melodi/data/DS_X?GEO=DEP", "http://m:8/") == "http://m:8/api.insee.fr/melodi/data/DS_X?GEO=DEP"


def test_per_host_rate_limit(http_server, baro):
    """requests-ratelimiter's sliding window: at most 3 requests in any 1 s (30 in 60 s for INSEE);
    the 4th waits for the window, another host is not limited."""
    http_server.put("/f.csv", baro)
    client = HttpClient(HttpSettings(rate_limits={"127.0.0.1": 3}, rate_window=1.0))
    start = time.monotonic()
    for _ in range(3):
        client.get(f"{http_server.url}/f.csv").close()
    assert time.monotonic() - start < 0.9  # a burst within the quota does not wait
    client.get(f"{http_server.url}/f.csv").close()
    assert time.monotonic() - start >= 1.0
    assert type(client.session.get_adapter("https://api.example.org/x")).__name__ == "HTTPAdapter"


def test_sources_mode(catalogue):
    registry = live_registry(catalogue)
    assert live_source_ids("snapshot", registry) == frozenset()
    assert live_source_ids("live", registry) == {"cget_barometre_2018", "etalab_decoupage_administratif",
                                                 "insee_chomage_localise", "insee_filosofi_departement",
                                                 "interieur_presidentielle_t1", "insee_filosofi_cc",
                                                 "insee_estimations_population_age"}
    assert live_source_ids("live:insee_chomage_localise", registry) == {"insee_chomage_localise"}
    with pytest.raises(LiveConfigError, match=r"\['insee_deces'\] have no live endpoint \(snapshot-only"):
        live_source_ids("live:insee_deces", registry)
    with pytest.raises(LiveConfigError, match=r"unknown source\(s\) \['nope'\]"):
        live_source_ids("live:nope", registry)
    with pytest.raises(LiveConfigError, match="expected 'snapshot', 'live' or 'live:source_a,source_b'"):
        live_source_ids("online", registry)


def test_every_source_declares_its_live_status(catalogue):
    registry = live_registry(catalogue)
    assert set(registry) == {s.id for s in catalogue.sources}
    for source in registry.values():
        assert source.endpoint, source.source_id
        assert (source.status == "live") == bool(source.files) and (source.status == "live" or source.why)
    cog = {f.path: f for f in registry["etalab_decoupage_administratif"].files}
    assert cog["cog/2021/epci.json.gz"].url == "https://unpkg.com/@etalab/decoupage-administratif@1.1.1/data/epci.json"
    assert cog["cog/2021/epci.json.gz"].version == "1.1.1" and len(cog) == 24


def test_store_reads_live_files_and_snapshot_files(tmp_path, http_server, store):
    # A mirror holding one source (the CGET files, byte for byte the snapshot's).
    for path in store.glob("barometre_2018/*"):
        folder = {"csv": "csv", "txt": "txt", "topojson": "json"}[path.rsplit(".", 1)[1]]
        http_server.put(f"/anct-carto.github.io/ba-coh-terr/data/{folder}/{path.split('/')[1]}", store.read(path))
    live = open_store(sources="live:cget_barometre_2018", landing_dir=tmp_path, mirror=http_server.url)
    assert live.read("barometre_2018/carte_1_1.csv") == store.read("barometre_2018/carte_1_1.csv")
    assert live.glob("barometre_2018/histo_*.csv") == store.glob("barometre_2018/histo_*.csv")
    assert live.describe("barometre_2018/carte_1_1.csv")["origin"] == "live"
    row = live.describe("departements_2012_2021/population_insee.csv", "https://github.com/…")
    assert (row["origin"], row["url"], row["http_status"], row["retrieved_at"]) == ("snapshot", "https://github.com/…", None,
                                                                                    "2026-11-22")
    assert len(http_server.requests) == 1  # carte_1_1.csv downloaded once for the session


def test_docs_list_every_source_with_its_status(catalogue):
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "sources.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip(" `"): line for line in doc.splitlines() if line.startswith("| `")}
    for source in live_registry(catalogue).values():
        assert ("**live" in rows[source.source_id]) == (source.status == "live"), source.source_id
        assert ("**snapshot-only**" in rows[source.source_id]) == (source.status == "snapshot-only")


def test_a_workbook_is_landed_as_bytes_and_a_page_in_its_place_refused(tmp_path, http_server):
    """Binary formats (xls, xlsx, zip) are handed over byte for byte, checked by their signature."""
    from pathlib import Path

    from barometre.sources._spreadsheet import sheet_names

    book = (Path(__file__).parents[1] / "fixtures" / "spreadsheets" / "chomage-zone-t1-2003-t3-2023.xlsx").read_bytes()
    http_server.put("/insee/chomage-zone.xlsx", book)
    live = LiveFile("insee_chomage_localise", "zones_emploi/chomage-zone.xlsx", f"{http_server.url}/insee/chomage-zone.xlsx",
                    "xlsx")
    landing = Landing(tmp_path / "landing", HttpClient(FAST))
    landed = landing.land(live, session="run-1")
    assert landing.target(live).read_bytes() == book and landed.bytes == 132_949
    assert sheet_names(landing.target(live).read_bytes(), live.path)[1] == "txcho_ze"
    http_server.put("/insee/chomage-zone.xlsx", b"ZE2020;LIBZE2020\n0051;Alencon\n")
    with pytest.raises(FetchError, match=r"body is not a xlsx file \(starts b'ZE2020;L'\)"):
        landing.land(live, session="run-2")
    assert landing.target(live).read_bytes() == book  # the last good copy stays
