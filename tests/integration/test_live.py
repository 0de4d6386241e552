"""Live mode end to end, over real HTTP: ``BAROMETRE_SOURCES=live:…`` with ``BAROMETRE_MIRROR``
pointing at a local server that serves a mirror tree (``HOST/PATH``) rebuilt from the snapshot for
the sources whose live bytes the snapshot holds: the CGET files (as is), the COG releases
(gunzipped) and the Ministry's 2022 file (Latin-1, CRLF: byte for byte the published file, its
SHA-1 is checked). The raw tables are those of snapshot mode; a live run that meets a broken file
fails and leaves the published database and the landed files as they were."""

import gzip
import hashlib
import json
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

from assets import ingest
from barometre import warehouse
from barometre.definitions import ALL_ASSETS, build_resources
from barometre.duckdb_config import duckdb_config
from barometre.landing import SNAPSHOT, SnapshotStore, live_registry
from barometre.sources import registry
from tests.support.http_server import FixtureServer, HtmlPage, Status

pytestmark = pytest.mark.integration

SAME_FORMAT = ("cget_barometre_2018", "etalab_decoupage_administratif", "interieur_presidentielle_t1")
SOURCES = "live:" + ",".join(SAME_FORMAT)
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


@pytest.fixture(scope="module")
def mirror(tmp_path_factory, catalogue):
    """A mirror of the publishers' files for the same-format sources, built from the snapshot."""
    root = tmp_path_factory.mktemp("mirror")
    store = SnapshotStore()
    for source in SAME_FORMAT:
        for live in live_registry(catalogue)[source].files:
            raw = store.read(live.path)
            target = root / live.url.removeprefix("https://")
            target.parent.mkdir(parents=True, exist_ok=True)
            if live.path.endswith(".gz"):
                raw = gzip.decompress(raw)
            elif live.encoding == "latin-1":
                raw = raw.decode("utf-8").replace("\n", "\r\n").encode("latin-1")
            target.write_bytes(raw)
    with FixtureServer(root) as server:
        yield server


@pytest.fixture(scope="module")
def live_run(tmp_path_factory, mirror):
    tmp = tmp_path_factory.mktemp("live")
    paths = dict(work_db=tmp / "work.duckdb", published_db=tmp / "barometre.duckdb", landing_dir=tmp / "landing",
                 sources=SOURCES, mirror=mirror.url)
    assets = [*{id(a): a for t, a in ingest.BY_TABLE.items()
                if registry.source_of(t) in SAME_FORMAT}.values(), ingest.fichiers_sources]
    result = dg.materialize(assets, resources=build_resources(**paths), run_config=QUIET)
    assert result.success
    return paths


def _table(work_db, name) -> pd.DataFrame:
    con = duckdb.connect(str(work_db), read_only=True, config=duckdb_config())
    try:
        return con.execute(f"SELECT * FROM raw.{name}").df()
    finally:
        con.close()


@pytest.mark.parametrize("asset", ["cget_barometre_2018_valeurs", "cget_barometre_2018_territoires",
                                   "etalab_decoupage_administratif_communes",
                                   "etalab_decoupage_administratif_membres_epci",
                                   "etalab_decoupage_administratif_departements", "etalab_decoupage_administratif_regions",
                                   "interieur_presidentielle_t1_departement"])
def test_live_raw_tables_equal_snapshot_mode(live_run, snapshot_build, asset):
    snapshot_paths, _ = snapshot_build
    pd.testing.assert_frame_equal(_table(live_run["work_db"], asset), _table(snapshot_paths["work_db"], asset))


def test_live_manifest_says_where_each_file_came_from(live_run, mirror):
    manifest = _table(live_run["work_db"], "fichiers_sources").set_index("path")
    live = manifest[manifest["source_id"].isin(SAME_FORMAT)]
    assert len(live) == 28 + 24 + 4 and (live["http_status"] == 200).sum() == 28 + 24 + 1
    assert list(live.loc[live["origin"] == "snapshot"].index) == [  # the Ministry's XLS workbooks are not read
        "elections/2007-t1-definitifs-departements.csv", "elections/2012-t1-definitifs-departements.csv",
        "elections/2017-t1-definitifs-departements.csv"]
    assert manifest.loc["elections/2022-t1-provisoires-departements.csv", "url"].startswith(
        "https://static.data.gouv.fr/resources/election-presidentielle-des-10-avril-et-24-avril-2022-resultats-du-1er-tour/")
    row = manifest.loc["cog/2021/epci.json.gz"]
    assert row["url"] == "https://unpkg.com/@etalab/decoupage-administratif@1.1.1/data/epci.json"
    assert row["fetched_url"] == f"{mirror.url}/unpkg.com/@etalab/decoupage-administratif@1.1.1/data/epci.json"
    unpacked = gzip.decompress(SnapshotStore().read("cog/2021/epci.json.gz"))
    assert (row["bytes"], row["sha256"]) == (len(unpacked), hashlib.sha256(unpacked).hexdigest())
    assert row["etag"] and row["last_modified"].endswith("GMT")
    others = manifest[~manifest["source_id"].isin(SAME_FORMAT[:2]) & (manifest["origin"] != "live")]
    assert (others["origin"] == SNAPSHOT).all() and others["http_status"].isna().all()
    assert (live_run["landing_dir"] / "etalab_decoupage_administratif" / "1.1.1" / "epci.json").read_bytes() == unpacked


def test_failed_live_run_keeps_the_published_database_and_the_landed_files(live_run, mirror):
    published = live_run["published_db"]
    warehouse.publish({"dimensions": pd.DataFrame({"dimension_id": ["qualite_de_vie"]})}, published)
    before = hashlib.sha256(published.read_bytes()).hexdigest()
    landed = live_run["landing_dir"] / "cget_barometre_2018" / "latest" / "carte_1_1.csv"
    landed_before = landed.read_bytes()
    mirror.script("/anct-carto.github.io/ba-coh-terr/data/csv/carte_1_1.csv", HtmlPage())

    # The CGET files and everything downstream of them, down to the publication.
    selection = dg.AssetSelection.assets(ingest.BY_TABLE["cget_barometre_2018_valeurs"]).downstream()
    result = dg.materialize(ALL_ASSETS, selection=selection, resources=build_resources(**live_run), run_config=QUIET,
                            raise_on_error=False)

    assert not result.success
    failures = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert any("https://anct-carto.github.io/ba-coh-terr/data/csv/carte_1_1.csv (fetched from "
               f"{mirror.url}/anct-carto.github.io/ba-coh-terr/data/csv/carte_1_1.csv): expected csv, got an HTML page"
               in (e.step_failure_data.error.cause or e.step_failure_data.error).message for e in failures)
    assert dg.AssetKey("published_barometre") in selection.resolve(ALL_ASSETS)  # was in the run…
    assert not result.get_asset_materialization_events()  # …and nothing was written
    assert hashlib.sha256(published.read_bytes()).hexdigest() == before
    assert landed.read_bytes() == landed_before


# ---- The INSEE sources live: Melodi (count, then pages) and the BDM (a real answer) ---------------

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "live"
INSEE = "live:insee_filosofi_departement,insee_chomage_localise"
MELODI = "/api.insee.fr/melodi/data/DS_FILOSOFI_CC"


def _insee_mirror(server: FixtureServer) -> None:
    page = json.loads((FIXTURES / "melodi_DS_FILOSOFI_CC.json").read_bytes())
    # As Melodi answers in 2026 (the shape of tests/fixtures/live/real/melodi/inseefrlab/): the count
    # answer has no observation, the page has only paging.first.
    count = {k: v for k, v in page.items() if k != "observations"}
    count.update(observations=[], paging={"first": f"https://api.insee.fr{MELODI}?GEO=DEP&totalCount=TRUE&maxResult=0"
                                                   "&page=1", "count": len(page["observations"])})
    page["paging"] = {"first": f"https://api.insee.fr{MELODI}?GEO=DEP&maxResult=100000&page=1"}
    server.put(f"{MELODI}?GEO=DEP&totalCount=TRUE&maxResult=0", json.dumps(count).encode())
    server.put(f"{MELODI}?GEO=DEP&maxResult=100000&page=1", json.dumps(page).encode())
    server.put("/bdm.insee.fr/series/sdmx/data/TAUX-CHOMAGE",
               (FIXTURES / "real" / "bdm" / "pulse_fixture_excerpt.xml").read_bytes())


def test_insee_sources_live_through_the_mirror(tmp_path):
    with FixtureServer(tmp_path / "www") as server:
        _insee_mirror(server)
        paths = dict(work_db=tmp_path / "work.duckdb", published_db=tmp_path / "barometre.duckdb",
                     landing_dir=tmp_path / "landing", sources=INSEE, mirror=server.url)
        result = dg.materialize([ingest.BY_TABLE["insee_filosofi_departement"], ingest.BY_TABLE["insee_chomage_localise_departement"]], resources=build_resources(**paths), run_config=QUIET)
        assert result.success
        assert [r.path for r in server.requests if r.path.startswith(MELODI)] == [
            f"{MELODI}?GEO=DEP&totalCount=TRUE&maxResult=0", f"{MELODI}?GEO=DEP&maxResult=100000&page=1"]
    filo = _table(paths["work_db"], "insee_filosofi_departement").set_index("code_departement")
    assert list(filo.index) == ["01", "2A", "2B"] and filo.loc["01", "q2_disp"] == 24810
    unemployment = _table(paths["work_db"], "insee_chomage_localise_departement").set_index("code_departement")
    assert unemployment.loc["01"].to_dict() == {"year": 2025, "unemployment_rate": 5.6,
                                                "unemployment_rate_raw": pytest.approx(5.625)}  # the real BDM answer


def test_unknown_melodi_data_set_fails_the_run_naming_it(tmp_path):
    body = (FIXTURES / "real" / "melodi" / "inseefrlab" / "get_data_not_exist__0.body").read_bytes()
    with FixtureServer(tmp_path / "www") as server:
        _insee_mirror(server)
        server.script(MELODI, *[Status(500, {"Content-Type": "text/plain"}, body)] * 5)
        paths = dict(work_db=tmp_path / "work.duckdb", published_db=tmp_path / "barometre.duckdb",
                     landing_dir=tmp_path / "landing", sources="live:insee_filosofi_departement", mirror=server.url)
        result = dg.materialize([ingest.BY_TABLE["insee_filosofi_departement"]], resources=build_resources(**paths), run_config=QUIET,
                                raise_on_error=False)
        assert len(server.requests_for(MELODI)) == 2  # one retry of the 500, not four
    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    message = (failure.step_failure_data.error.cause or failure.step_failure_data.error).message
    assert ("Melodi data set DS_FILOSOFI_CC: HTTP 500 Internal Server Error after 2 attempts ('Le serveur a "
            "rencontré une erreur inattendue.')") in message
