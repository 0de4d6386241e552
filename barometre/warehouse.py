"""The DuckDB warehouse: publish the mart tables atomically and summarise what was published.

Dashboards read the *published* file (``data/barometre.duckdb``, override with
``BAROMETRE_DB``). It is never written in place: :func:`publish` writes a staging file next to
it, checkpoints and closes it, then ``os.replace``s it over the published one, so a reader sees
either the previous publication or the new one, never a half-written file. If anything fails
before the replace, the published file is untouched.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import duckdb
import pandas as pd

from barometre.landing import PROJECT_ROOT

SCHEMA = "mart"
DEFAULT_PUBLISHED_DB = PROJECT_ROOT / "data" / "barometre.duckdb"
DEFAULT_WORK_DB = PROJECT_ROOT / "data" / "work" / "barometre_work.duckdb"


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


def untouched_note(path: str | os.PathLike) -> str:
    """What a failed run left published: the previous file, as it was."""
    path = Path(path)
    if not path.exists():
        return f"nothing was published ({path} does not exist)."
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(path.stat().st_mtime))
    return f"the published database {path} was left as it was (last published {stamp})."


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
    return "\n".join(lines)
