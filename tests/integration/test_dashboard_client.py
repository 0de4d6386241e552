"""A real dashboard client on the published file: SQLAlchemy with the ``duckdb-engine`` dialect,
read-only, as Superset connects (``duckdb:///path`` with ``read_only``): it reflects the columns of
every ``mart`` table and runs a query, in a loop, while publications replace the file
(``barometre.warehouse.publish`` of the session run's real tables: no extra materialisation).

Versions (pinned in the ``dev`` extra, docs/warehouse.md): duckdb-engine 0.17 with SQLAlchemy
2.0.x on DuckDB 2.0; with SQLAlchemy 2.1 the column reflection fails
(``pg_catalog.pg_collation`` does not exist)."""

import shutil
import threading
from pathlib import Path

import pytest

from barometre import warehouse

pytestmark = pytest.mark.integration

sqlalchemy = pytest.importorskip("sqlalchemy", reason="the dev extra installs SQLAlchemy 2.0 and duckdb-engine")
pytest.importorskip("duckdb_engine")


def _path_of(con) -> Path:
    return Path(con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()")
                .fetchall()[0][0])


def test_superset_like_client_reflects_and_queries_while_publications_happen(published, tmp_path):
    from sqlalchemy.pool import NullPool

    con, _ = published
    db = tmp_path / "barometre.duckdb"
    shutil.copyfile(_path_of(con), db)
    names = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'mart' "
                                       "AND table_name <> 'publication' ORDER BY 1").fetchall()]
    tables = {name: con.execute(f'SELECT * FROM mart."{name}"').df() for name in names}
    expected = {t: [c for (c,) in con.execute("SELECT column_name FROM information_schema.columns WHERE table_schema "
                                              "= 'mart' AND table_name = ? ORDER BY ordinal_position", [t]).fetchall()]
                for t in [*names, "publication"]}

    # NullPool: a connection per read, as a dashboard that reconnects (a pooled one would keep the old file).
    engine = sqlalchemy.create_engine(f"duckdb:///{db}", connect_args={"read_only": True}, poolclass=NullPool)
    reads, errors, stop = [], [], threading.Event()

    def read_loop():
        while not stop.is_set() or not reads:
            try:
                inspector = sqlalchemy.inspect(engine)
                columns = {t: [c["name"] for c in inspector.get_columns(t, schema="mart")]
                           for t in inspector.get_table_names(schema="mart")}
                with engine.connect() as c:
                    run_id = c.execute(sqlalchemy.text("SELECT run_id FROM mart.publication")).scalar_one()
                    dims = c.execute(sqlalchemy.text("SELECT dimension_id FROM mart.dimensions ORDER BY 1")).scalars().all()
                reads.append((run_id, columns, dims))
            except Exception as exc:  # a failed read is what the test counts
                errors.append(f"{type(exc).__name__}: {exc}")
                if len(errors) > 20:
                    return

    reader = threading.Thread(target=read_loop, daemon=True)
    reader.start()
    runs = [f"dashboard-client-{n}" for n in range(3)]
    for run_id in runs:
        warehouse.publish(tables, db, run_id=run_id)
    stop.set()
    reader.join(timeout=120)
    engine.dispose()

    assert errors == []
    assert len(reads) >= 1
    assert {run_id for run_id, _, _ in reads} <= {warehouse.read_publication(con)["run_id"], *runs}
    for run_id, columns, dims in reads:
        assert columns == expected  # every mart table, every column, in order
        assert dims == sorted(tables["dimensions"]["dimension_id"]) and len(dims) == 6
    with engine.connect() as c:  # after the last publication, a new connection sees it
        assert c.execute(sqlalchemy.text("SELECT run_id FROM mart.publication")).scalar_one() == runs[-1]
        n = c.execute(sqlalchemy.text("SELECT count(*) FROM mart.indicators")).scalar_one()
    assert n == 16
    engine.dispose()
