"""The DuckDB warehouse: publish the mart tables atomically and summarise what was published.

Dashboards read the *published* file (``data/barometre.duckdb``, override with
``BAROMETRE_DB``). It is never written in place: :func:`publish` writes a staging file next to
it, checkpoints and closes it, then ``os.replace``s it over the published one, so a reader sees
either the previous publication or the new one, never a half-written file. If anything fails
before the replace, the published file is untouched.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pandas as pd

from barometre.landing import PROJECT_ROOT

SCHEMA = "mart"
DEFAULT_PUBLISHED_DB = PROJECT_ROOT / "data" / "barometre.duckdb"
DEFAULT_WORK_DB = PROJECT_ROOT / "data" / "work" / "barometre_work.duckdb"
COHESION_TABLES = ("disparities", "convergence", "rankings", "dimension_scores", "france_summary")


def publish(tables: dict[str, pd.DataFrame], path: str | os.PathLike) -> dict[str, int]:
    """Write ``tables`` as ``mart.<name>`` into a new DuckDB file and atomically replace ``path``.

    Returns the row count of each table.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.staging-{os.getpid()}")
    staging.unlink(missing_ok=True)
    counts = {}
    try:
        con = duckdb.connect(str(staging))
        try:
            # DuckDB 2.0 wants every result consumed before the next statement.
            con.execute(f"CREATE SCHEMA {SCHEMA}").fetchall()
            for name, frame in tables.items():
                # A column of nothing but NULL (e.g. mart.sources.etag in snapshot mode) would get
                # DuckDB's NULL type: publish it as VARCHAR.
                frame = frame.astype({c: "string" for c in frame.columns
                                      if frame[c].dtype == object and frame[c].isna().all()})
                con.register("_frame", frame)
                con.execute(f'CREATE TABLE {SCHEMA}."{name}" AS SELECT * FROM _frame').fetchall()
                con.unregister("_frame")
                counts[name] = con.execute(f'SELECT count(*) FROM {SCHEMA}."{name}"').fetchall()[0][0]
            con.execute("CHECKPOINT").fetchall()
        finally:
            con.close()
        os.replace(staging, path)
    finally:
        staging.unlink(missing_ok=True)
    return counts


def summary(path: str | os.PathLike) -> str:
    """A plain-text summary of a published database: indicators × levels × periods, rows, and
    what the quality report holds."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        per_indicator = con.execute("""
            SELECT i.position, v.indicator_id, string_agg(DISTINCT v.level, ',' ORDER BY v.level) AS levels,
                   count(DISTINCT v.period) AS n_periods, min(v.period_start) AS first, max(v.period_end) AS last,
                   count(*) AS n_rows
            FROM mart.indicator_values v JOIN mart.indicators i USING (indicator_id)
            WHERE v.is_reference GROUP BY ALL ORDER BY i.position""").fetchall()
        totals = con.execute("""
            SELECT count(DISTINCT indicator_id), count(DISTINCT level), count(DISTINCT period), count(*),
                   count(*) FILTER (WHERE is_reference) FROM mart.indicator_values""").fetchall()[0]
        quality = con.execute("SELECT kind, count(*) FROM mart.quality_report GROUP BY kind ORDER BY kind").fetchall()
        rejected = con.execute("SELECT source_id, rule, count(*) FROM mart.rejected_rows GROUP BY ALL ORDER BY ALL").fetchall()
        repeated = con.execute("SELECT detail FROM mart.quality_report WHERE kind = 'repeated_vintage' ORDER BY detail").fetchall()
        n_dims = con.execute("SELECT count(*) FROM mart.dimensions").fetchall()[0][0]
        present = {r[0] for r in con.execute(
            f"SELECT table_name FROM duckdb_tables() WHERE schema_name = '{SCHEMA}'").fetchall()}
        cohesion = [(name, con.execute(f'SELECT count(*) FROM {SCHEMA}."{name}"').fetchall()[0][0])
                    for name in COHESION_TABLES if name in present]
        origins = con.execute("""
            SELECT origin, count(*), count(*) FILTER (WHERE http_status = 304), string_agg(DISTINCT source_id, ', ' ORDER BY source_id)
            FROM mart.sources GROUP BY origin ORDER BY origin""").fetchall()
    finally:
        con.close()
    lines = [f"Published {path}",
             f"  {totals[0]} indicators in {n_dims} dimensions, {totals[1]} levels, {totals[2]} distinct periods, "
             f"{totals[3]} rows ({totals[4]} reference rows)",
             "",
             f"  {'indicator':<34}{'levels':<45}{'periods':>8}  {'span':<11}{'rows':>6}"]
    for _, ind, levels, n_periods, first, last, n_rows in per_indicator:
        lines.append(f"  {ind:<34}{levels:<45}{n_periods:>8}  {first}–{last:<6}{n_rows:>6}")
    lines += ["", "  Quality report (mart.quality_report):"]
    lines += [f"    {kind:<22}{n:>6}" for kind, n in quality]
    lines += ["  Rejected rows (mart.rejected_rows):"]
    lines += [f"    {src} / {rule}: {n}" for src, rule, n in rejected]
    lines += ["  Left out of the growth series:"] + [f"    {d}" for (d,) in repeated]
    if cohesion:
        lines += ["  Cohesion marts (docs/methodology.md): "
                  + ", ".join(f"{name} {n} rows" for name, n in cohesion)]
    lines += ["  Source files (mart.sources):"]
    for origin, n, not_modified, sources in origins:
        detail = f" ({not_modified} not modified since the last download)" if not_modified else ""
        lines.append(f"    {origin:<9}{n:>4} files{detail}" + (f": {sources}" if origin == "live" else ""))
    return "\n".join(lines)
