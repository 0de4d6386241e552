"""The DuckDB warehouse: publish the mart tables atomically and summarise what was published.

Dashboards read the *published* file (``data/barometre.duckdb``, override with
``BAROMETRE_DB``). It is never written in place: :func:`publish` writes a staging file next to
it, checkpoints and closes it, then ``os.replace``s it over the published one, so a reader sees
either the previous publication or the new one, never a half-written file. If anything fails
before the replace, the published file is untouched. The staging files of a run that was
killed are removed by the next publication (:func:`barometre.staging.stale`).

Every published file carries ``mart.publication`` (one row): when and by which run and code it
was published, the SHA-256 of the source files behind it, the row count of every table, a digest
of each indicator's rows (:func:`row_digests`), and the version of the column contract (:data:`SCHEMA_VERSION`, :data:`SCHEMA_FINGERPRINTS`,
:func:`contract_fingerprint`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import os
import subprocess
import time
from importlib import metadata
from pathlib import Path

import duckdb
import pandas as pd

from barometre.duckdb_config import connect
from barometre import contract
from barometre.landing import PROJECT_ROOT
from barometre.staging import stale

SCHEMA = "mart"
DEFAULT_PUBLISHED_DB = PROJECT_ROOT / "data" / "barometre.duckdb"
DEFAULT_WORK_DB = PROJECT_ROOT / "data" / "work" / "barometre_work.duckdb"
# The cohesion marts (barometre/cohesion.py), in their publication order; assets/cohesion.py
# builds one asset per name.
COHESION_TABLES = ("disparities", "convergence", "rankings", "dimension_scores", "france_summary")
PUBLICATION_TABLE = "publication"

# Versions of the published contract: the tables of schema `mart`, their columns (in order) and
# DuckDB types, each with its contract_fingerprint(). When a table or column is added, removed,
# renamed, reordered or retyped, add the next version with the new fingerprint (a test compares
# the current one with a full build and says what to write); never edit a published entry (a
# test requires distinct fingerprints and pins each one in docs/warehouse.md#schema-versions).
SCHEMA_FINGERPRINTS = {
    1: "9fce3c981e4c394ec22f39f1b487bdcc0e5d529f6e0444e05ebae181cc4eee7a",
    2: "6021cc07158cc6cfe0b1ea0ba865457f5bea970bf8cfa85d212539f5733a0871",
    3: "364f70a30c7e7c94da173e943f7f66cec90244d019fdb2a823c7942212368a38",
    4: "5d00b6555ba1892904c698d0002fd440c01efd79bcd0678fd4d8f8025000d9fc",
}
SCHEMA_VERSION = max(SCHEMA_FINGERPRINTS)

PUBLICATION_DDL = (f"CREATE TABLE {SCHEMA}.{PUBLICATION_TABLE} ("
                   + ", ".join(f"{c} {t}" for c, t in contract.TYPES[PUBLICATION_TABLE].items()) + ")")
_PUBLICATION_INSERT = (f"INSERT INTO {SCHEMA}.{PUBLICATION_TABLE} VALUES "
                       f"({', '.join('?' for _ in contract.TYPES[PUBLICATION_TABLE])})")

# The published tables whose rows an indicator's report page shows, keyed by indicator_id, and
# those every page shows (names of territories, dimensions, the indicators' list, sources): the
# digests of mart.publication (:func:`row_digests`) are computed from them.
INDICATOR_TABLES = ("indicator_values", "france_summary", "disparities", "convergence", "rankings", "quality_report")
SHARED_TABLES = ("territories", "dimensions", "indicators", "sources")


def row_digests(con: duckdb.DuckDBPyConnection, schema: str = SCHEMA) -> tuple[dict[str, str], str | None]:
    """The digests of the published rows, computed in the current database of ``con``: one per
    indicator over its rows of :data:`INDICATOR_TABLES` (``indicator_digests``) and one over
    :data:`SHARED_TABLES` (``shared_digest``, None when none is there). Per table, DuckDB's
    ``hash`` of every row combined with ``bit_xor`` (order-free) and the row count, in one query
    (no row leaves DuckDB), then SHA-256 of these, 20 hex characters. Equal digests = the same
    rows; a reader (the incremental report) compares them with those it saw last."""
    present = {t for (t,) in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = ?",
        [schema]).fetchall()}
    per = [t for t in INDICATOR_TABLES if t in present]
    shared = [t for t in SHARED_TABLES if t in present]
    rows = con.execute(" UNION ALL ".join(
        f"SELECT '{t}' AS t, indicator_id, bit_xor(hash(x)) AS h, count(*) AS n FROM {schema}.{t} x "
        f"GROUP BY indicator_id" for t in per) + " ORDER BY indicator_id, t").fetchall() if per else []
    shared_rows = con.execute(" UNION ALL ".join(
        f"SELECT '{t}' AS t, bit_xor(hash(x)) AS h, count(*) AS n FROM {schema}.{t} x" for t in shared)
        + " ORDER BY t").fetchall() if shared else []
    out: dict[str, list] = {}
    for table, indicator_id, h, n in rows:
        out.setdefault(str(indicator_id), []).append(f"{table}:{h}:{n}")
    indicators = {k: hashlib.sha256("|".join(v).encode()).hexdigest()[:20] for k, v in out.items()}
    common = (hashlib.sha256("|".join(f"{t}:{h}:{n}" for t, h, n in shared_rows).encode()).hexdigest()[:20]
              if shared_rows else None)
    return indicators, common


@functools.cache
def code_version() -> tuple[str, str]:
    """(version, how it was found) of the code that publishes: ``git describe --tags --always
    --dirty`` of the project when it is a git checkout, else the installed package's version."""
    try:
        out = subprocess.run(["git", "describe", "--tags", "--always", "--dirty"], cwd=PROJECT_ROOT,
                             capture_output=True, text=True, timeout=10, check=True)
        if out.stdout.strip():
            return out.stdout.strip(), "git describe"
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        return metadata.version("barometre-cohesion"), "package version"
    except metadata.PackageNotFoundError:
        return "unknown", "none"


def sources_digest(files: dict[str, str]) -> str:
    """One SHA-256 for a set of source files: the hash of their ``sha256sum`` lines
    (``<sha256>  <path>``) sorted by path. Equal digests mean the same bytes were read."""
    lines = "".join(f"{sha}  {path}\n" for path, sha in sorted(files.items()))
    return hashlib.sha256(lines.encode()).hexdigest()


def contract_fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    """SHA-256 of the published contract as a connection sees it: every table of schema
    ``mart`` with its columns in order and their DuckDB types."""
    rows = con.execute(f"""
        SELECT table_name, column_name, data_type FROM information_schema.columns
        WHERE table_catalog = current_database() AND table_schema = '{SCHEMA}'
        ORDER BY table_name, ordinal_position""").fetchall()
    return hashlib.sha256("".join(f"{t}.{c} {ty}\n" for t, c, ty in rows).encode()).hexdigest()


def _source_files(tables: dict[str, pd.DataFrame]) -> dict[str, str]:
    sources = tables.get("sources")
    if sources is None or not {"path", "sha256"} <= set(sources.columns):
        return {}
    return {str(p): str(h) for p, h in zip(sources["path"], sources["sha256"]) if pd.notna(p)}


def _staging(path: str | os.PathLike) -> tuple[Path, Path, Path]:
    """The published file, this process's staging file beside it and its WAL, after removing the
    leftovers of killed runs (their staging files)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.staging-{os.getpid()}")
    wal = staging.with_name(f"{staging.name}.wal")
    for leftover in [staging, wal, *stale(path, "staging")]:
        leftover.unlink(missing_ok=True)
    return path, staging, wal


def publish(tables: dict[str, pd.DataFrame], path: str | os.PathLike, *, run_id: str | None = None) -> dict[str, int]:
    """Write ``tables`` as ``mart.<name>`` into a new DuckDB file, with ``mart.publication``
    describing it, and atomically replace ``path``. ``run_id``: the Dagster run that publishes.

    Returns the row count of each table of ``tables``.
    """
    path, staging, wal = _staging(path)
    counts = {}
    files = _source_files(tables)
    version, version_source = code_version()
    try:
        con = connect(staging)
        try:
            # DuckDB 2.0 wants every result consumed before the next statement.
            con.execute(f"CREATE SCHEMA {SCHEMA}").fetchall()
            for name, frame in tables.items():
                if name in contract.TYPES and list(frame.columns) == contract.columns(name):
                    select = contract.select_list(name)  # a mart of the contract: its declared types
                else:
                    # Another table (tests): a column of nothing but NULL would get DuckDB's NULL
                    # type and its type would depend on the data: publish it as VARCHAR.
                    frame = frame.astype({c: "string" for c in frame.columns
                                          if frame[c].dtype == object and frame[c].isna().all()})
                    select = "*"
                con.register("_frame", frame)
                con.execute(f'CREATE TABLE {SCHEMA}."{name}" AS SELECT {select} FROM _frame').fetchall()
                con.unregister("_frame")
                counts[name] = con.execute(f'SELECT count(*) FROM {SCHEMA}."{name}"').fetchall()[0][0]
            con.execute(PUBLICATION_DDL).fetchall()
            con.execute(_PUBLICATION_INSERT,
                        [dt.datetime.now(dt.timezone.utc), run_id, version, version_source, SCHEMA_VERSION,
                         contract_fingerprint(con), sources_digest(files), files, counts, *row_digests(con)]).fetchall()
            con.execute("CHECKPOINT").fetchall()
        finally:
            con.close()
        os.replace(staging, path)
    finally:
        staging.unlink(missing_ok=True)
        wal.unlink(missing_ok=True)  # left when close() failed
    return counts


def publish_from(con: duckdb.DuckDBPyConnection, names: list[str], path: str | os.PathLike, *,
                 run_id: str | None = None, schema: str = SCHEMA) -> dict[str, int]:
    """Publish the tables ``<schema>.<name>`` of the database ``con`` is connected to (the working
    database) as ``mart.<name>``, each cast to its contract types (:mod:`barometre.contract`), with
    ``mart.publication``, and atomically replace ``path``: the staging file is ``ATTACH``ed to
    ``con``, filled with ``CREATE TABLE … AS SELECT`` (no table goes through pandas), checkpointed,
    ``DETACH``ed, then renamed over ``path``. When ``names`` are every table of the contract, the
    staging file's columns must be the contract's (:func:`barometre.contract.fingerprint`), else
    nothing is published.

    Returns the row count of each table of ``names``.
    """
    path, staging, wal = _staging(path)
    version, version_source = code_version()
    work = con.execute("SELECT current_database()").fetchall()[0][0]
    alias = f"barometre_staging_{os.getpid()}"
    counts: dict[str, int] = {}
    attached = False
    try:
        con.execute(f"ATTACH '{staging}' AS {alias}").fetchall()
        attached = True
        con.execute(f"USE {alias}").fetchall()
        try:
            con.execute(f"CREATE SCHEMA {SCHEMA}").fetchall()
            for name in names:
                source = f'"{work}"."{schema}"."{name}"'
                select = contract.select_list(name) if name in contract.TYPES else "*"
                con.execute(f'CREATE TABLE {SCHEMA}."{name}" AS SELECT {select} FROM {source}').fetchall()
                counts[name] = con.execute(f'SELECT count(*) FROM {SCHEMA}."{name}"').fetchall()[0][0]
            files = {}
            if "sources" in names:
                files = {str(p): str(h) for p, h in con.execute(
                    f"SELECT path, sha256 FROM {SCHEMA}.sources WHERE path IS NOT NULL").fetchall()}
            con.execute(PUBLICATION_DDL).fetchall()
            fingerprint = contract_fingerprint(con)
            if set(names) == set(contract.TYPES) - {PUBLICATION_TABLE} and fingerprint != contract.fingerprint():
                raise ValueError(f"the published columns differ from barometre/contract.py (fingerprint "
                                 f"{fingerprint[:12]}…, contract {contract.fingerprint()[:12]}…)")
            con.execute(_PUBLICATION_INSERT,
                        [dt.datetime.now(dt.timezone.utc), run_id, version, version_source, SCHEMA_VERSION,
                         fingerprint, sources_digest(files), files, counts, *row_digests(con)]).fetchall()
        finally:
            con.execute(f'USE "{work}"').fetchall()
        con.execute(f"CHECKPOINT {alias}").fetchall()
        con.execute(f"DETACH {alias}").fetchall()
        attached = False
        os.replace(staging, path)
    finally:
        if attached:  # a failure above: close the staging file before deleting it
            with contextlib.suppress(duckdb.Error):
                con.execute(f"DETACH {alias}").fetchall()
        staging.unlink(missing_ok=True)
        wal.unlink(missing_ok=True)
    return counts


def read_publication(con: duckdb.DuckDBPyConnection) -> dict:
    """The ``mart.publication`` row of a published file, as a dict."""
    cur = con.execute(f"SELECT * FROM {SCHEMA}.{PUBLICATION_TABLE}")
    names = [d[0] for d in cur.description]
    rows = cur.fetchall()
    if len(rows) != 1:
        raise ValueError(f"mart.{PUBLICATION_TABLE} has {len(rows)} rows, expected 1")
    return dict(zip(names, rows[0]))


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
    con = connect(path, read_only=True)
    try:
        pub = read_publication(con)
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
        origins = con.execute("""
            SELECT origin, count(*), count(*) FILTER (WHERE http_status = 304), string_agg(DISTINCT source_id, ', ' ORDER BY source_id)
            FROM mart.sources GROUP BY origin ORDER BY origin""").fetchall()
    finally:
        con.close()
    cohesion = [(name, pub["row_counts"][name]) for name in COHESION_TABLES if name in pub["row_counts"]]
    lines = [f"Published {path}",
             f"  at {pub['published_at']:%Y-%m-%d %H:%M:%S %Z} by run {pub['run_id'] or '(none)'}, code "
             f"{pub['code_version']} ({pub['code_version_source']}), schema version {pub['schema_version']}, "
             f"{len(pub['source_files'])} source files (digest {pub['sources_sha256'][:12]}…): mart.publication",
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
