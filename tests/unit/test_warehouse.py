import hashlib
import os
import re

import duckdb
import pandas as pd
import pytest

from barometre import warehouse
from barometre.duckdb_config import duckdb_config
from barometre.landing import PROJECT_ROOT
from tests.support.processes import age, dead_pid


def test_publish_replaces_the_file_and_a_failure_leaves_it_untouched(tmp_path):
    path = tmp_path / "barometre.duckdb"
    counts = warehouse.publish({"dimensions": pd.DataFrame({"dimension_id": ["qualite_de_vie", "solidarite"]})}, path)
    assert counts == {"dimensions": 2}
    before = hashlib.sha256(path.read_bytes()).hexdigest()

    broken = {"indicators": pd.DataFrame({"indicator_id": ["x"]}), 'bad"name': pd.DataFrame({"a": [1]})}
    with pytest.raises(duckdb.Error):
        warehouse.publish(broken, path)

    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["barometre.duckdb"]  # no staging file left
    con = duckdb.connect(str(path), read_only=True, config=duckdb_config())
    assert con.execute("SELECT dimension_id FROM mart.dimensions ORDER BY 1").fetchall() == [("qualite_de_vie",), ("solidarite",)]
    con.close()


def test_a_reader_open_during_publication_keeps_a_complete_version(tmp_path):
    path = tmp_path / "barometre.duckdb"
    warehouse.publish({"t": pd.DataFrame({"v": [1, 2]})}, path)
    reader = duckdb.connect(str(path), read_only=True, config=duckdb_config())
    warehouse.publish({"t": pd.DataFrame({"v": [1, 2, 3]})}, path)
    assert reader.execute("SELECT count(*) FROM mart.t").fetchall() == [(2,)]  # the version it opened
    reader.close()
    fresh = duckdb.connect(str(path), read_only=True, config=duckdb_config())
    assert fresh.execute("SELECT count(*) FROM mart.t").fetchall() == [(3,)]
    fresh.close()


def test_the_publication_row_describes_the_file(tmp_path):
    path = tmp_path / "barometre.duckdb"
    sources = pd.DataFrame({"source_id": ["a", "a"], "path": ["x/b.csv", "x/a.csv"], "sha256": ["22" * 32, "11" * 32]})
    counts = warehouse.publish({"sources": sources, "t": pd.DataFrame({"v": [1, 2, 3]})}, path, run_id="run-1")
    assert counts == {"sources": 2, "t": 3}
    con = duckdb.connect(str(path), read_only=True, config=duckdb_config())
    pub = warehouse.read_publication(con)
    assert pub["run_id"] == "run-1"
    assert pub["row_counts"] == {"sources": 2, "t": 3}
    assert pub["source_files"] == {"x/a.csv": "11" * 32, "x/b.csv": "22" * 32}
    # The digest of `sha256sum x/a.csv x/b.csv` lines, sorted by path.
    expected = hashlib.sha256(f"{'11' * 32}  x/a.csv\n{'22' * 32}  x/b.csv\n".encode()).hexdigest()
    assert pub["sources_sha256"] == expected
    assert pub["schema_version"] == warehouse.SCHEMA_VERSION
    assert pub["schema_fingerprint"] == warehouse.contract_fingerprint(con)
    assert pub["code_version_source"] in ("git describe", "package version")
    assert str(pub["published_at"].tzinfo) in ("UTC", "Etc/UTC")
    con.close()


def test_the_fingerprint_changes_with_a_column_not_with_the_data(tmp_path):
    def fingerprint(frame, name):
        warehouse.publish({"t": frame}, tmp_path / name)
        con = duckdb.connect(str(tmp_path / name), read_only=True, config=duckdb_config())
        try:
            return warehouse.read_publication(con)["schema_fingerprint"]
        finally:
            con.close()

    base = fingerprint(pd.DataFrame({"v": [1, 2], "note": ["a", None]}), "a.duckdb")
    assert fingerprint(pd.DataFrame({"v": [5], "note": [None]}, dtype=object).astype({"v": "int64"}), "b.duckdb") == base
    assert fingerprint(pd.DataFrame({"v": [1.5], "note": ["a"]}), "c.duckdb") != base  # v retyped
    assert fingerprint(pd.DataFrame({"v": [1], "note": ["a"], "w": [1]}), "d.duckdb") != base  # column added


def test_each_schema_version_has_its_own_fingerprint_listed_in_the_docs():
    """A new contract gets a new version: the versions are 1, 2 … with distinct fingerprints,
    the current one is the highest, and docs/warehouse.md lists each one with the first 12
    characters of its fingerprint (editing a published entry shows in the docs' history)."""
    versions = warehouse.SCHEMA_FINGERPRINTS
    assert list(versions) == list(range(1, len(versions) + 1))
    assert warehouse.SCHEMA_VERSION == max(versions)
    assert len(set(versions.values())) == len(versions)
    assert all(re.fullmatch("[0-9a-f]{64}", fp) for fp in versions.values())
    text = (PROJECT_ROOT / "docs" / "warehouse.md").read_text(encoding="utf-8")
    section = text[text.index("### Schema versions"):text.index("### Rules for readers")]
    rows = re.findall(r"^\| (\d+) \| `([0-9a-f]{12})` \|", section, re.M)
    assert rows == [(str(v), fp[:12]) for v, fp in versions.items()]


def test_publish_removes_the_staging_files_of_killed_runs_only(tmp_path):
    dead, live = dead_pid(), os.getppid()
    killed = [tmp_path / f".barometre.duckdb.staging-{dead}", tmp_path / f".barometre.duckdb.staging-{dead}.wal"]
    running = tmp_path / f".barometre.duckdb.staging-{live}"
    for path in [*killed, running]:
        path.write_bytes(b"x")
        age(path, 7200)
    warehouse.publish({"t": pd.DataFrame({"v": [1]})}, tmp_path / "barometre.duckdb")
    assert sorted(p.name for p in tmp_path.iterdir()) == [running.name, "barometre.duckdb"]


class _CloseFails:
    """A connection whose CHECKPOINT and close() fail (disk full): the write-ahead log stays."""

    def __init__(self, con):
        self.con = con

    def __getattr__(self, name):
        return getattr(self.con, name)

    def execute(self, sql, *args):
        if sql == "CHECKPOINT":
            raise duckdb.IOException("IO Error: No space left on device")
        return self.con.execute(sql, *args)

    def close(self):
        raise duckdb.IOException("IO Error: No space left on device")


def test_a_failed_close_leaves_no_staging_file(tmp_path, monkeypatch):
    opened = []
    connect = duckdb.connect

    def failing_connect(*args, **kwargs):
        opened.append(_CloseFails(connect(*args, **kwargs)))
        return opened[-1]

    monkeypatch.setattr(warehouse.duckdb, "connect", failing_connect)
    with pytest.raises(duckdb.IOException, match="No space left on device"):
        warehouse.publish({"t": pd.DataFrame({"v": [1, 2]})}, tmp_path / "barometre.duckdb")
    leftover = sorted(p.name for p in tmp_path.iterdir())
    opened[0].con.close()
    assert leftover == []


def test_the_publication_records_a_digest_per_indicator_that_changes_with_its_rows_only(tmp_path):
    """``mart.publication.indicator_digests``: one digest per indicator, independent of row order,
    changed by a value of that indicator only; ``shared_digest`` over the shared tables. The
    incremental report reads them (``barometre.report.data.digests``)."""
    from barometre.report.data import digests

    values = pd.DataFrame({"indicator_id": ["taux_chomage", "taux_chomage", "taux_pauvrete"],
                           "code": ["01", "2A", "971"], "value": [6.9, 9.4, 33.8]})

    def published(frame, name):
        path = tmp_path / name
        warehouse.publish({"indicator_values": frame, "dimensions": pd.DataFrame({"dimension_id": ["emploi"]})}, path)
        con = duckdb.connect(str(path), read_only=True, config=duckdb_config())
        try:
            pub = warehouse.read_publication(con)
        finally:
            con.close()
        assert digests(path) == {"indicators": pub["indicator_digests"], "shared": pub["shared_digest"]}
        return pub["indicator_digests"], pub["shared_digest"]

    first, shared = published(values, "a.duckdb")
    assert sorted(first) == ["taux_chomage", "taux_pauvrete"] and re.fullmatch("[0-9a-f]{20}", first["taux_chomage"])
    assert published(values.iloc[::-1], "b.duckdb") == (first, shared)  # order-free
    changed, shared_changed = published(values.assign(value=[6.9, 9.4, 33.9]), "c.duckdb")
    assert changed["taux_chomage"] == first["taux_chomage"] and changed["taux_pauvrete"] != first["taux_pauvrete"]
    assert shared_changed == shared
