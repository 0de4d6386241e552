import hashlib

import duckdb
import pandas as pd
import pytest

from barometre import warehouse


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
    con = duckdb.connect(str(path), read_only=True)
    assert con.execute("SELECT dimension_id FROM mart.dimensions ORDER BY 1").fetchall() == [("qualite_de_vie",), ("solidarite",)]
    con.close()


def test_a_reader_open_during_publication_keeps_a_complete_version(tmp_path):
    path = tmp_path / "barometre.duckdb"
    warehouse.publish({"t": pd.DataFrame({"v": [1, 2]})}, path)
    reader = duckdb.connect(str(path), read_only=True)
    warehouse.publish({"t": pd.DataFrame({"v": [1, 2, 3]})}, path)
    assert reader.execute("SELECT count(*) FROM mart.t").fetchall() == [(2,)]  # the version it opened
    reader.close()
    fresh = duckdb.connect(str(path), read_only=True)
    assert fresh.execute("SELECT count(*) FROM mart.t").fetchall() == [(3,)]
    fresh.close()
