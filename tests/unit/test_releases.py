"""Release checks (barometre/releases.py) over real HTTP against the local server, through the
mirror: HEAD / ETag, Melodi's catalogue ``modified``, the BDM's last observations, the npm
registry's latest version, and the errors that make a sensor skip."""

import hashlib
import json
from pathlib import Path

import pytest

from barometre.http import HttpClient
from barometre.landing import LiveConfigError
from barometre.releases import (
    ReleaseCheck,
    ReleaseCheckError,
    check_release,
    check_settings,
    release_checks,
    release_version,
)
from tests.support.http_server import HtmlPage, Status, free_port

FIXTURES = Path(__file__).parents[1] / "fixtures" / "live"
ELECTION_URL = ("https://static.data.gouv.fr/resources/election-presidentielle-des-10-avril-et-24-avril-2022-resultats-"
                "du-1er-tour/20220411-110508/resultats-par-niveau-dpt-t1-france-entiere.txt")
NPM_LATEST = "https://registry.npmjs.org/@etalab/decoupage-administratif/latest"


def etag(body: bytes) -> str:
    """The fixture server's strong ETag of a body."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def mirror_path(url: str) -> str:
    return "/" + url.removeprefix("https://").split("?", 1)[0]


@pytest.fixture
def client(http_server):
    c = HttpClient(check_settings(http_server.url))
    yield c
    c.close()


@pytest.fixture
def election_2022(store) -> bytes:
    """The Ministry's published 2022 file: the snapshot's UTF-8 copy back in Latin-1 with CRLF."""
    return store.read("elections/2022-t1-provisoires-departements.csv").decode("utf-8").replace("\n", "\r\n").encode(
        "latin-1")


def test_every_live_source_declares_its_release_check(catalogue):
    checks = release_checks(catalogue)
    assert {s: (c.method, len(c.urls)) for s, c in checks.items()} == {
        "cget_barometre_2018": ("head", 28),
        "etalab_decoupage_administratif": ("head", 24),
        "insee_chomage_localise": ("sdmx_last_observations", 1),
        "insee_filosofi_departement": ("melodi_catalog", 1),
        "interieur_presidentielle_t1": ("head", 1),
        "insee_filosofi_cc": ("melodi_catalog", 1),
        "insee_estimations_population_age": ("head", 1),
    }
    assert checks["interieur_presidentielle_t1"].urls == (ELECTION_URL,)
    assert checks["insee_filosofi_departement"].urls == ("https://api.insee.fr/melodi/catalog/DS_FILOSOFI_CC",)
    assert checks["etalab_decoupage_administratif"].known_versions == ("1.1.1", "2.3.1", "3.1.1", "4.1.0", "5.3.0",
                                                                       "6.0.0")


def test_a_live_source_without_release_check_is_refused(catalogue):
    from dataclasses import replace

    source = catalogue.source("insee_chomage_localise")
    live = {k: v for k, v in source.extra["live"].items() if k != "release_check"}
    broken = replace(catalogue, sources=tuple(replace(s, extra={**s.extra, "live": live}) if s is source else s
                                              for s in catalogue.sources))
    with pytest.raises(LiveConfigError, match="catalogue source insee_chomage_localise: live.release_check: missing"):
        release_checks(broken)


def test_head_gives_the_etag_and_a_version_that_changes_with_the_file(http_server, client, election_2022,
                                                                        catalogue):
    check = release_checks(catalogue)["interieur_presidentielle_t1"]
    assert hashlib.sha1(election_2022).hexdigest() == "3f689976afe9149961941f59334649b935c44ef0"  # the published file
    http_server.put(mirror_path(ELECTION_URL), election_2022)
    first = check_release(check, client)
    assert first.evidence == {ELECTION_URL: f"ETag {etag(election_2022)}"}
    assert first.label == f"ETag {etag(election_2022)}"
    assert first.version == release_version({ELECTION_URL: f"ETag {etag(election_2022)}"})
    assert first.run_key == f"interieur_presidentielle_t1@{first.version}"
    assert check_release(check, client).version == first.version                 # same file, same release
    assert [r.method for r in http_server.requests_for(mirror_path(ELECTION_URL))] == ["HEAD", "HEAD"]  # no body
    http_server.put(mirror_path(ELECTION_URL), election_2022 + b"\r\n")
    assert check_release(check, client).version != first.version


def test_head_falls_back_to_last_modified(http_server, client):
    url = "https://example.org/data/file.csv"
    http_server.script(mirror_path(url), Status(200, {"Last-Modified": "Wed, 11 May 2022 09:05:08 GMT"}))
    release = check_release(ReleaseCheck("src", "head", (url,)), client)
    assert release.evidence == {url: "Last-Modified Wed, 11 May 2022 09:05:08 GMT"}


def test_head_without_validators_falls_back_to_a_content_digest(http_server, client, catalogue, election_2022):
    """A server that sends neither ETag nor Last-Modified: the file is downloaded (once per sensor
    tick, at the source's cadence) and its SHA-256 is the release, so a new file is still seen."""
    check = release_checks(catalogue)["interieur_presidentielle_t1"]
    http_server.validators = False
    http_server.put(mirror_path(ELECTION_URL), election_2022)
    first = check_release(check, client)
    digest = hashlib.sha256(election_2022).hexdigest()
    assert first.evidence == {ELECTION_URL: f"SHA-256 {digest}"} and first.label == f"SHA-256 {digest}"
    assert [r.method for r in http_server.requests_for(mirror_path(ELECTION_URL))] == ["HEAD", "GET"]
    assert check_release(check, client).version == first.version                 # same bytes, same release
    corrected = election_2022 + b"\r\n"
    http_server.put(mirror_path(ELECTION_URL), corrected)                          # a new file, same headers
    assert check_release(check, client).version != first.version
    http_server.validators = True                                                  # with validators: HEAD only
    assert check_release(check, client).evidence == {ELECTION_URL: f"ETag {etag(corrected)}"}
    assert http_server.requests_for(mirror_path(ELECTION_URL))[-1].method == "HEAD"


@pytest.mark.parametrize("fault,message", [
    pytest.param([Status(404, body=b"Not Found")], f"{ELECTION_URL}: HEAD answered HTTP 404 Not Found", id="404"),
    pytest.param([Status(503)] * 2, f"{ELECTION_URL}: HEAD answered HTTP 503 Service Unavailable", id="503-twice"),
    pytest.param([Status(200, {"Content-Type": "text/plain"}), Status(404)],
                 f"{ELECTION_URL}: HTTP 404 Not Found", id="no-validator-then-get-fails"),
])
def test_head_errors_name_the_url(http_server, client, catalogue, election_2022, fault, message):
    http_server.put(mirror_path(ELECTION_URL), election_2022)
    http_server.script(mirror_path(ELECTION_URL), *fault)
    with pytest.raises(ReleaseCheckError) as err:
        check_release(release_checks(catalogue)["interieur_presidentielle_t1"], client)
    assert str(err.value) == message


def test_server_down_is_an_error_naming_url_and_mirror(catalogue):
    port = free_port()
    client = HttpClient(check_settings(f"http://127.0.0.1:{port}"))
    with pytest.raises(ReleaseCheckError) as err:
        check_release(release_checks(catalogue)["interieur_presidentielle_t1"], client)
    assert str(err.value) == (f"{ELECTION_URL} (fetched from http://127.0.0.1:{port}/{ELECTION_URL[8:]}): "
                              f"cannot connect (connection refused) after 2 attempts")


def test_melodi_catalogue_modified(http_server, client):
    url = "https://api.insee.fr/melodi/catalog/DS_POPULATIONS_REFERENCE"
    http_server.put(mirror_path(url), (FIXTURES / "melodi_catalog_DS_POPULATIONS_REFERENCE.json").read_bytes())
    release = check_release(ReleaseCheck("insee_populations", "melodi_catalog", (url,)), client)
    assert release.evidence == {url: "modified 2025-12-18T12:00:16"}
    assert release.label == "modified 2025-12-18T12:00:16"


def test_melodi_catalogue_without_modified_is_an_error(http_server, client):
    url = "https://api.insee.fr/melodi/catalog/DS_FILOSOFI_CC"
    http_server.put(mirror_path(url), json.dumps({"identifier": "DS_FILOSOFI_CC", "issued": "x"}).encode())
    with pytest.raises(ReleaseCheckError, match=r"DS_FILOSOFI_CC: the Melodi catalogue entry has no 'modified' date "
                                                r"\(keys: \['identifier', 'issued'\]\)"):
        check_release(ReleaseCheck("insee_filosofi_departement", "melodi_catalog", (url,)), client)


def test_melodi_catalogue_html_page_is_an_error(http_server, client):
    url = "https://api.insee.fr/melodi/catalog/DS_FILOSOFI_CC"
    http_server.script(mirror_path(url), HtmlPage())
    with pytest.raises(ReleaseCheckError, match=r"DS_FILOSOFI_CC: not a JSON document \(JSONDecodeError"):
        check_release(ReleaseCheck("insee_filosofi_departement", "melodi_catalog", (url,)), client)


def test_sdmx_last_observation_of_each_series(http_server, client, catalogue):
    check = release_checks(catalogue)["insee_chomage_localise"]
    assert check.urls == ("https://bdm.insee.fr/series/sdmx/data/TAUX-CHOMAGE?lastNObservations=1",)
    body = (FIXTURES / "bdm_TAUX-CHOMAGE.xml").read_bytes()
    http_server.put(mirror_path(check.urls[0]), body)
    release = check_release(check, client)
    assert release.label == "last period 2012-Q4 over 4 series"
    key = f"{check.urls[0]}#T.TAUX_CHOMAGE_LOCALISE.PROPORTION.D01.POURCENT.CVS.0.1"
    assert release.evidence[key] == "2012-Q4 7.5 P"  # Ain, Q4 2012, provisional (INSEE, March 2013)
    assert http_server.requests_for(mirror_path(check.urls[0]))[0].path.endswith("TAUX-CHOMAGE?lastNObservations=1")
    # The provisional Q4 2012 of Ain becoming final is a new release.
    http_server.put(mirror_path(check.urls[0]), body.replace(b'OBS_VALUE="7.5" OBS_STATUS="P"',
                                                             b'OBS_VALUE="7.5" OBS_STATUS="A"', 1))
    assert check_release(check, client).version != release.version


# The header and DataSet element of the BDM's real answer (tests/fixtures/live/real/bdm/), then made-up series.
SDMX_HEAD = (FIXTURES / "real" / "bdm" / "pulse_fixture_excerpt.xml").read_bytes().split(b"<Series ", 1)[0]
SDMX_TAIL = b"</message:DataSet></message:StructureSpecificData>\n"


@pytest.mark.parametrize("series,message", [
    pytest.param(b'<Series><Obs TIME_PERIOD="2012-Q4" OBS_VALUE="7.5" OBS_STATUS="P"/></Series>',
                 "the SDMX series have no attributes (no series key), so their last observations cannot be told "
                 "apart", id="series-without-attributes"),
    pytest.param(b'<Series IDBANK="001515842" REF_AREA="D01"><Obs OBS_VALUE="7.5"/></Series>'
                 b'<Series IDBANK="001515843" REF_AREA="D02"><Obs OBS_VALUE="9.9"/></Series>',
                 "https://bdm.insee.fr/series/sdmx/data/TAUX-CHOMAGE?lastNObservations=1: not a readable SDMX-ML "
                 "data message (XMLParseError: KeyError: 'TIME_PERIOD')", id="no-time-period"),  # refused by sdmx1
])
def test_sdmx_answers_that_cannot_be_read_are_errors_naming_the_url(http_server, client, catalogue, series, message):
    """The sensor skips on a ReleaseCheckError; any other exception would make its tick fail."""
    check = release_checks(catalogue)["insee_chomage_localise"]
    http_server.put(mirror_path(check.urls[0]), SDMX_HEAD + series + SDMX_TAIL, content_type="application/xml")
    with pytest.raises(ReleaseCheckError) as err:
        check_release(check, client)
    assert str(err.value) == f"{check.urls[0]}: {message}"


def test_npm_latest_version_outside_the_catalogue_is_noted(http_server, client):
    check = ReleaseCheck("etalab_decoupage_administratif", "head", ("https://unpkg.com/x@6.0.0/data/regions.json",),
                         NPM_LATEST, ("5.3.0", "6.0.0"))
    http_server.put("/unpkg.com/x@6.0.0/data/regions.json", b"[]")
    http_server.put(mirror_path(NPM_LATEST), json.dumps({"name": "@etalab/decoupage-administratif",
                                                         "version": "6.0.0"}).encode())
    assert check_release(check, client).notes == ()
    http_server.put(mirror_path(NPM_LATEST), json.dumps({"version": "7.0.0"}).encode())
    (note,) = check_release(check, client).notes
    assert note.startswith(f"etalab_decoupage_administratif: version 7.0.0 is published ({NPM_LATEST}) but the "
                           f"catalogue reads only 5.3.0, 6.0.0; add it to the source's vintages")
