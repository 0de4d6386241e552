"""A dashboard stand-in for tests/integration/test_publication.py, run as its own process:
reads the published DuckDB file read-only in a loop until a stop file appears, and writes one
JSON line per read.

    python concurrent_reader.py PUBLISHED_DB OUT.jsonl STOP_FILE hold|reconnect

``hold`` keeps one connection open for the whole loop (a dashboard that never reconnects);
``reconnect`` opens a new read-only connection for every read. One read is the
``mart.publication`` row and ``count(*)`` of every table it lists: the read is *complete* when
every count equals the publication's own row count.
"""

import json
import sys
import time
from pathlib import Path

import duckdb


def read(con: duckdb.DuckDBPyConnection) -> dict:
    run_id, row_counts = con.execute("SELECT run_id, row_counts FROM mart.publication").fetchall()[0]
    counts = {name: con.execute(f'SELECT count(*) FROM mart."{name}"').fetchall()[0][0] for name in sorted(row_counts)}
    return {"run_id": run_id, "counts": counts, "complete": counts == dict(row_counts)}


def main(path: str, out: str, stop: str, mode: str) -> None:
    held = duckdb.connect(path, read_only=True) if mode == "hold" else None
    with open(out, "w", encoding="utf-8") as f:
        while not Path(stop).exists():
            start = time.time()
            try:
                if held is not None:
                    record = read(held)
                else:
                    con = duckdb.connect(path, read_only=True)
                    try:
                        record = read(con)
                    finally:
                        con.close()
                record["ok"] = True
            except Exception as exc:  # a failed read is what the test counts
                record = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
            record.update(t=start, seconds=round(time.time() - start, 4))
            f.write(json.dumps(record) + "\n")
            f.flush()
            time.sleep(0.05)
    if held is not None:
        held.close()


if __name__ == "__main__":
    main(*sys.argv[1:5])
