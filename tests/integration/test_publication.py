"""The published file for dashboards: mart.publication, the schema version, and readers that
hold the file open while real pipeline runs publish."""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from barometre import warehouse
from tests.support import runs

pytestmark = pytest.mark.integration

READER = Path(__file__).with_name("concurrent_reader.py")


def _q(con, sql):
    return con.execute(sql).fetchall()


def _path_of(con) -> Path:
    return Path(_q(con, "SELECT path FROM duckdb_databases() WHERE database_name = current_database()")[0][0])


def test_publication_row_of_a_full_run(published):
    con, result = published
    pub = warehouse.read_publication(con)
    assert pub["run_id"] == result.run_id
    tables = {r[0] for r in _q(con, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'mart'")}
    assert set(pub["row_counts"]) == tables - {"publication"}
    assert pub["row_counts"]["dimensions"] == 6 and pub["row_counts"]["indicators"] == 16
    for name, n in pub["row_counts"].items():
        assert _q(con, f'SELECT count(*) FROM mart."{name}"') == [(n,)], name
    assert pub["source_files"] == dict(_q(con, "SELECT path, sha256 FROM mart.sources"))
    assert len(pub["source_files"]) == 77  # 63, the 11 files of the producer series (issue 14), the 3 files of issue 15
    assert pub["sources_sha256"] == warehouse.sources_digest(pub["source_files"])


def test_schema_version_is_bumped_when_the_contract_changes(published):
    """The published columns are those of SCHEMA_VERSION: a change of table, column or type must
    come with a new version (docs/warehouse.md#schema-versions)."""
    con, _ = published
    pub = warehouse.read_publication(con)
    assert pub["schema_version"] == warehouse.SCHEMA_VERSION
    assert pub["schema_fingerprint"] == warehouse.contract_fingerprint(con)
    assert pub["schema_fingerprint"] == warehouse.SCHEMA_FINGERPRINTS[warehouse.SCHEMA_VERSION], (
        "the published tables, columns or types changed: in barometre/warehouse.py add "
        f"{warehouse.SCHEMA_VERSION + 1}: \"{pub['schema_fingerprint']}\" to SCHEMA_FINGERPRINTS, and describe the "
        "change in docs/warehouse.md (Schema versions)")


def test_summary_counts_the_cohesion_marts(published):
    con, _ = published
    counts = {name: _q(con, f'SELECT count(*) FROM mart."{name}"')[0][0] for name in warehouse.COHESION_TABLES}
    assert counts["disparities"] == 662 and counts["france_summary"] == 134
    line = "  Cohesion marts (docs/methodology.md): " + ", ".join(f"{n} {c} rows" for n, c in counts.items())
    assert line in warehouse.summary(_path_of(con)).splitlines()


def _reads(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.endswith("}")]


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)


def _publication(path: Path) -> dict:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return warehouse.read_publication(con)
    finally:
        con.close()


def test_readers_never_fail_while_two_runs_publish(published, tmp_path):
    """Two dashboard processes read the published file in a loop — one holds its connection for
    the whole test, the other reconnects for every read — while two real pipeline runs publish
    over it: a full run by ``make run``'s entry point (``python -m barometre.definitions``, a
    process of its own), then a run of the publication asset alone on what the first left in the
    working database. No read fails, no run fails, every read sees a complete publication, and a
    new connection sees the new one."""
    con, _ = published
    db = tmp_path / "barometre.duckdb"
    work = tmp_path / "work" / "barometre_work.duckdb"
    shutil.copyfile(_path_of(con), db)  # publication 0: the session's run
    pub0 = _publication(db)
    known = {pub0["run_id"]: pub0["row_counts"]}

    stop = tmp_path / "stop"
    out = {mode: tmp_path / f"reads-{mode}.jsonl" for mode in ("hold", "reconnect")}
    readers = {mode: subprocess.Popen([sys.executable, str(READER), str(db), str(out[mode]), str(stop), mode])
               for mode in out}
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}  # an ephemeral Dagster instance
    env.update(BAROMETRE_DB=str(db), BAROMETRE_WORK_DB=str(work))

    def full_run() -> None:
        run = runs.entry_point(env)
        assert run.returncode == 0, run.stderr[-2000:]
        # 17 pages (home and indicators) and one per territory of today's geography (test_report_territories.py)
        assert f"  Report: {db.parent / 'report' / 'index.html'} (" in run.stdout
        assert int(run.stdout.split(f"{db.parent / 'report' / 'index.html'} (")[1].split(" pages")[0]) > 17 + 18 + 101

    def publication_only() -> None:
        assert runs.materialize_all(log_level="CRITICAL", selection=dg.AssetSelection.assets("published_barometre"),
                                    work_db=work, published_db=db).success

    try:
        for mode in out:
            _wait_for(lambda: len(_reads(out[mode])) > 0, 30, f"the first read of the {mode} reader")
        for publish in (full_run, publication_only):
            publish()
            pub = _publication(db)
            known[pub["run_id"]] = pub["row_counts"]
            # A reader that reconnects sees the new publication.
            _wait_for(lambda: any(r.get("run_id") == pub["run_id"] for r in _reads(out["reconnect"])), 30,
                      f"a new connection to see run {pub['run_id']}")
    finally:
        stop.touch()
        for reader in readers.values():
            reader.wait(timeout=60)

    reads = {mode: _reads(path) for mode, path in out.items()}
    failed = [r for rs in reads.values() for r in rs if not r["ok"]]
    print(f"\nconcurrent readers: {sum(map(len, reads.values()))} reads "
          f"({len(reads['hold'])} on a held connection, {len(reads['reconnect'])} reconnecting), "
          f"{len(failed)} failed")
    assert all(reader.returncode == 0 for reader in readers.values())
    assert failed == []
    assert len(known) == 3  # publication 0 and the two runs
    assert known[pub["run_id"]] == pub0["row_counts"]  # the same tables, published again
    for r in reads["hold"] + reads["reconnect"]:
        assert r["complete"], r
        assert r["run_id"] in known and r["counts"] == known[r["run_id"]], r
    # Linux: a held connection keeps the inode it opened, hence publication 0, whole.
    assert {r["run_id"] for r in reads["hold"]} == {pub0["run_id"]}
    # The reconnecting reader saw publication 0, then the full run, then the publication run, in order.
    seen = [r["run_id"] for r in reads["reconnect"]]
    order = list(dict.fromkeys(seen))
    assert order == list(known), order
    assert not list(tmp_path.glob(".barometre.duckdb.staging-*"))
