"""Issue 14's sources live through a mirror (the local server): Filosofi base cc's Melodi levels and
range (tests/fixtures/live/filosofi_cc_from_snapshot_values.json: real 2019 values of the archive in
Melodi's layout) and INSEE's workbook of estimates by age (the snapshot's bytes), materialised with
the file manifest."""

import json
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

from assets import ingest
from barometre.definitions import build_resources
from barometre.landing import SnapshotStore
from barometre.sources import insee_filosofi_cc as cc
from barometre.sources import insee_population_age as age
from tests.support.http_server import FixtureServer

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "live"
MELODI = "/api.insee.fr/melodi/data/DS_FILOSOFI_CC"
AGE = "/www.insee.fr/fr/statistiques/fichier/1893198/estim-pop-dep-sexe-aq-1975-2021.xlsx"
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


def _q(db, sql):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


def test_filosofi_cc_and_age_estimates_live_through_the_mirror(tmp_path):
    pages = json.loads((FIXTURES / "filosofi_cc_from_snapshot_values.json").read_text(encoding="utf-8"))
    snapshot = SnapshotStore()
    with FixtureServer(tmp_path / "www") as server:
        for geo, page in pages.items():
            count = {**page, "observations": [], "paging": {**page["paging"], "count": len(page["observations"])}}
            server.put(f"{MELODI}?GEO={geo}&totalCount=TRUE&maxResult=0", json.dumps(count).encode())
            server.put(f"{MELODI}?GEO={geo}&maxResult=100000&page=1", json.dumps(page).encode())
        server.put("/api.insee.fr/melodi/range/DS_FILOSOFI_CC",
                   (FIXTURES / "filosofi_cc_range_from_snapshot_names.json").read_bytes())
        server.put(AGE, snapshot.read(age.FILE))
        paths = dict(work_db=tmp_path / "work.duckdb", published_db=tmp_path / "barometre.duckdb",
                     landing_dir=tmp_path / "landing", sources="live:insee_filosofi_cc,insee_estimations_population_age",
                     mirror=server.url)
        assets = [ingest.BY_TABLE[cc.TABLES["departement"]], ingest.BY_TABLE[age.TABLE], ingest.fichiers_sources]
        result = dg.materialize(assets, resources=build_resources(**paths), run_config=QUIET)
        assert result.success
        melodi_requests = sorted(r.path for r in server.requests if r.path.startswith(MELODI))
    assert len(melodi_requests) == 10  # the count and page 1 of each of the 5 levels
    # Melodi's rows are of 2019, a year the archives hold: the archive's rows are kept, unchanged.
    dep = _q(paths["work_db"], f"SELECT * FROM raw.{cc.TABLES['departement']} ORDER BY year, code")
    assert dep.groupby("year").size().to_dict() == {2014: 98, 2015: 98, 2016: 98, 2017: 98, 2018: 98, 2019: 101}
    assert dep.loc[(dep["year"] == 2019) & (dep["code"] == "01"), "med"].tolist() == [23490.0]
    sources = _q(paths["work_db"], "SELECT source_id, path, origin, url, sha256 FROM raw.fichiers_sources "
                                   "WHERE source_id IN ('insee_filosofi_cc', 'insee_estimations_population_age') "
                                   "ORDER BY source_id, path")
    assert sources[["path", "origin"]].values.tolist() == [
        [age.FILE, "live"],
        *[[p, "snapshot"] for p in sorted(cc.FILES.values())],  # filosofi_2014_2019/… < filosofi_melodi/…
        *[[p, "live"] for p in sorted([*cc.MELODI_FILES.values(), cc.MELODI_RANGE])]]
    assert sources.loc[sources["path"] == age.FILE, "sha256"].tolist() == [
        "2177d0dc54e98266be624d843928d8463148f25e3277f167a86eb0af7d886420"]
    assert pd.Series(sources["url"]).str.startswith("https://").all()
