"""The column contract (barometre/contract.py) and the publication from the working database
(barometre.warehouse.publish_from)."""

import hashlib

import duckdb
import pytest

from barometre import contract, warehouse


def test_the_contract_is_the_current_schema_version():
    assert contract.fingerprint() == warehouse.SCHEMA_FINGERPRINTS[warehouse.SCHEMA_VERSION]
    assert list(contract.TYPES)[-1] == warehouse.PUBLICATION_TABLE and len(contract.TYPES) == 13
    assert contract.columns("rejected_rows") == ["source_id", "rule", "code", "period", "column", "value"]
    assert contract.select_list("dimensions", "t.").startswith('CAST(t."dimension_id" AS VARCHAR) AS "dimension_id"')


def _work(tmp_path):
    con = duckdb.connect(str(tmp_path / "work.duckdb"))
    con.execute("CREATE SCHEMA mart").fetchall()
    # An all-NULL column (etag, as in snapshot mode) and an integer stored as DOUBLE: the contract types win.
    con.execute("""CREATE TABLE mart.sources AS SELECT 'a' AS source_id, NULL AS producer, NULL AS title, NULL AS url,
                   NULL AS licence, NULL AS retrieved_at, '11' AS sha256, 'x/a.csv' AS path, NULL AS notes,
                   'snapshot' AS origin, 200.0 AS http_status, NULL AS etag, NULL AS last_modified, 12.0 AS bytes,
                   NULL AS fetched_url""").fetchall()
    con.execute("CREATE TABLE mart.dimensions AS SELECT 'solidarite' AS dimension_id, 'Solidarité' AS name, "
                "'…' AS description, 1 AS position").fetchall()
    return con


def test_publish_from_copies_the_working_tables_with_the_contract_types(tmp_path):
    con = _work(tmp_path)
    path = tmp_path / "barometre.duckdb"
    assert warehouse.publish_from(con, ["dimensions", "sources"], path, run_id="run-7") == {"dimensions": 1, "sources": 1}
    # The working database is still usable, the staging file detached and gone.
    assert con.execute("SELECT current_database(), count(*) FROM mart.dimensions").fetchall() == [("work", 1)]
    assert [d for (d,) in con.execute("SELECT database_name FROM duckdb_databases() WHERE NOT internal").fetchall()] == ["work"]
    assert [p.name for p in tmp_path.iterdir() if "staging" in p.name] == []
    con.close()
    pub = duckdb.connect(str(path), read_only=True)
    types = pub.execute("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'sources' "
                        "ORDER BY ordinal_position").fetchall()
    assert types == list(contract.TYPES["sources"].items())  # etag VARCHAR, bytes BIGINT
    row = warehouse.read_publication(pub)
    assert row["run_id"] == "run-7" and row["row_counts"] == {"dimensions": 1, "sources": 1}
    assert row["source_files"] == {"x/a.csv": "11"}
    assert row["sources_sha256"] == hashlib.sha256(b"11  x/a.csv\n").hexdigest()
    assert row["schema_fingerprint"] == warehouse.contract_fingerprint(pub)
    assert pub.execute("SELECT bytes, etag FROM mart.sources").fetchall() == [(12, None)]
    pub.close()


def test_publish_from_a_failure_leaves_the_published_file_untouched(tmp_path):
    con = _work(tmp_path)
    path = tmp_path / "barometre.duckdb"
    warehouse.publish_from(con, ["dimensions"], path)
    before = path.read_bytes()
    with pytest.raises(duckdb.CatalogException, match="quality_report"):
        warehouse.publish_from(con, ["dimensions", "quality_report"], path)  # not in the working database
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if "staging" in p.name] == []
    assert con.execute("SELECT current_database()").fetchall() == [("work",)]
    con.close()
