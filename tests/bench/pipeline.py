"""Dagster runs of the benchmark, each started in a fresh process by ``tests.bench``.

``python -m tests.bench.pipeline <what> --out result.json``:

- ``full``           materialise every asset on the bundled snapshot exactly as ``make run`` does
                     (``materialize_all``, in-process executor, a persistent SQLite instance with
                     the project's dagster.yaml), and time every step from the run's events;
- ``floor``          DuckDB reading every snapshot file the pipeline reads once into memory
                     (the workbooks, which DuckDB cannot read, with python-calamine);
- ``gx-import``      the import of Great Expectations alone (paid once per process by the first
                     asset check that imports it);
- ``rematerialise``  after a full run in the same folder (``full --keep DIR``), re-write the
                     unemployment file and materialise only that source's asset, its
                     downstream assets and their checks (twice: the second run in the same
                     process).

Step times come from the run's events: STEP_START → STEP_SUCCESS. Within a step, the time
between two consecutive events is split by the event that ends it (LOADED_INPUT: the IO manager
loading an input; STEP_OUTPUT, ASSET_CHECK_EVALUATION or a message the body logs before its
output: the asset or check body;
ASSET_MATERIALIZATION/HANDLED_OUTPUT after the output: the IO manager storing it; anything else:
Dagster's own step machinery), and the time
the instance spends writing each event to its event log is measured by wrapping
``DagsterInstance.handle_new_event``. Steps are classified generically: a step that records an
asset materialisation is an asset (``asset+checks`` when it also evaluates checks declared on
the asset), one that only records check evaluations is a check.
"""

from __future__ import annotations

import time

T0 = time.perf_counter()  # before the heavy imports: the import time of the child

import argparse  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from collections import defaultdict  # noqa: E402
from pathlib import Path  # noqa: E402

from tests.bench.measure import PROJECT_ROOT, peak_rss_mb, rss_mb, write_result  # noqa: E402

# The source changed in the re-materialisation benchmark, and the asset that reads it.
CHANGED_ASSET = ("raw", "insee_chomage_localise_departement")

_LOAD = {"LOADED_INPUT"}
_BODY = {"STEP_OUTPUT", "ASSET_CHECK_EVALUATION"}
_STORE = {"ASSET_MATERIALIZATION", "HANDLED_OUTPUT"}


class EventWriteProbe:
    """Times every event the instance stores (the event log write), keyed by event."""

    def __init__(self, instance):
        self.seconds: dict[int, float] = {}
        original = instance.handle_new_event

        def handle_new_event(event, **kwargs):
            start = time.perf_counter()
            try:
                return original(event, **kwargs)
            finally:
                self.seconds[id(event)] = self.seconds.get(id(event), 0.0) + time.perf_counter() - start
                self._keep.append(event)  # keep ids unique while the run lasts

        self._keep: list = []
        instance.handle_new_event = handle_new_event

    def write_time(self, entry) -> float:
        return self.seconds.get(id(entry), 0.0)

    def by_timestamp(self) -> dict[tuple[float, str | None, str], float]:
        out: dict[tuple[float, str | None, str], float] = defaultdict(float)
        for e in self._keep:
            out[(e.timestamp, e.step_key, _type(e))] += self.seconds[id(e)]
        return dict(out)


def _type(entry) -> str:
    return entry.dagster_event.event_type_value if entry.dagster_event else "LOG"


def _instance(home: Path):
    """A persistent instance (SQLite run and event storage) configured like ``make run``'s."""
    import dagster as dg

    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    return dg.DagsterInstance.from_config(str(home))


def step_report(entries: list, write_time: dict) -> dict:
    """Per step and for the whole run, from the run's event log entries (sorted by time) and the
    event-log write time of each ``(timestamp, step_key, type)``."""
    entries = sorted(entries, key=lambda e: e.timestamp)
    steps: dict[str, dict] = {}
    order: list[str] = []
    for e in entries:
        kind = _type(e)
        if e.step_key is None:
            continue
        s = steps.setdefault(e.step_key, {"step_key": e.step_key, "start": None, "end": None, "assets": [],
                                           "checks": [], "status": None})
        if kind == "STEP_START":
            s["start"] = e.timestamp
            order.append(e.step_key)
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE"):
            s["end"], s["status"] = e.timestamp, kind
        elif kind == "ASSET_MATERIALIZATION":
            s["assets"].append("/".join(e.dagster_event.asset_key.path))
        elif kind == "ASSET_CHECK_EVALUATION":
            data = e.dagster_event.event_specific_data
            s["checks"].append(f"{'/'.join(data.asset_key.path)}:{data.check_name}")

    def wt(e) -> float:
        return write_time.get((e.timestamp, e.step_key, _type(e)), 0.0)

    out = []
    for key in order:
        s = steps[key]
        if s["end"] is None:
            continue
        inside = [e for e in entries if s["start"] <= e.timestamp <= s["end"]]
        phases = defaultdict(float)
        seen_output = False
        for prev, e in zip(inside, inside[1:]):
            work = max(e.timestamp - prev.timestamp - wt(prev), 0.0)
            kind = _type(e)
            if kind in _LOAD:
                phases["load"] += work
            elif (kind == "ASSET_CHECK_EVALUATION" or (kind == "STEP_OUTPUT" and _type(prev) not in _BODY)
                  or (kind == "LOG" and not seen_output)):
                # (a STEP_OUTPUT right after a check evaluation is bookkeeping; a message the body
                # logs before its output ends a stretch of the body, not of Dagster)
                phases["body"] += work
            elif kind in _STORE and seen_output:
                phases["store"] += work
            else:
                phases["dagster"] += work
            seen_output = seen_output or kind == "STEP_OUTPUT"
            phases["events"] += wt(prev)
        if s["assets"] and s["checks"]:  # checks declared on the asset run in its step
            n = len(s["checks"])
            label, kind = f"{', '.join(s['assets'])} (+ {n} check{'s' if n > 1 else ''})", "asset+checks"
        elif s["assets"]:
            label, kind = ", ".join(s["assets"]), "asset"
        elif s["checks"]:
            label, kind = ", ".join(s["checks"]), "check"
        else:
            label, kind = key, "op"
        out.append({"step_key": key, "label": label, "kind": kind, "status": s["status"],
                    "assets": s["assets"], "checks": s["checks"], "seconds": s["end"] - s["start"],
                    "start": s["start"], "end": s["end"],
                    "n_events": len(inside), **{p: phases.get(p, 0.0) for p in
                                                ("load", "body", "store", "dagster", "events")}})
    return {"steps": out}


def run_level(entries: list, write_time: dict, steps: list[dict], call_start_epoch: float,
              call_end_epoch: float) -> dict:
    """Where the wall time outside steps goes: before the first step, between steps, after the
    last one, and the event-log writes outside steps."""
    windows = [(s["start"], s["end"]) for s in steps]
    inside = 0.0
    outside = 0.0
    n_out = 0
    for e in entries:
        w = write_time.get((e.timestamp, e.step_key, _type(e)), 0.0)
        if any(a <= e.timestamp < b for a, b in windows):
            inside += w
        else:
            outside += w
            n_out += 1
    first = min(a for a, _ in windows)
    last = max(b for _, b in windows)
    gaps = sum(max(b[0] - a[1], 0.0) for a, b in zip(sorted(windows), sorted(windows)[1:]))
    return {"before_first_step": first - call_start_epoch, "between_steps": gaps,
            "after_last_step": call_end_epoch - last, "event_writes_in_steps": inside,
            "event_writes_outside_steps": outside, "n_events": len(entries), "n_events_outside_steps": n_out,
            "event_writes_total": sum(write_time.values())}


def full(out: str, keep: str | None) -> None:
    import dagster as dg  # noqa: F401  (import cost is part of the import time below)

    from barometre.definitions import ALL_ASSETS, materialize_all
    from barometre.landing import DEFAULT_SNAPSHOT_DIR

    import_seconds = time.perf_counter() - T0
    rss_imported = rss_mb()
    tmp = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="barometre-bench-full-"))
    snapshot = None
    if keep:  # the re-materialisation edits a copy of the snapshot, never the project's files
        snapshot = tmp / "snapshot"
        shutil.copytree(DEFAULT_SNAPSHOT_DIR, snapshot)
    try:
        instance = _instance(tmp / "dagster_home")
        probe = EventWriteProbe(instance)
        gx_before = "great_expectations" in sys.modules
        start_epoch, start = time.time(), time.perf_counter()
        result = materialize_all(instance=instance, log_level="WARNING", snapshot_dir=snapshot,
                                 work_db=tmp / "work.duckdb", published_db=tmp / "barometre.duckdb")
        wall = time.perf_counter() - start
        end_epoch = time.time()
        if not result.success:
            raise SystemExit("the full materialisation failed")
        peak = peak_rss_mb()
        entries = list(instance.all_logs(result.run_id))
        write_time = probe.by_timestamp()
        report = step_report(entries, write_time)
        report["run"] = run_level(entries, write_time, report["steps"], start_epoch, end_epoch)
        # The static report (barometre_report): its build time and its size on disk.
        site = result.asset_materializations_for_node("barometre_report")[0].metadata
        report_dir = tmp / "report"
        report.update(report_seconds=float(site["build_seconds"].value), report_pages=int(site["pages"].value),
                      report_mb=sum(f.stat().st_size for f in report_dir.rglob("*") if f.is_file()) / 1e6)
        report.update(report_builds=report_builds(tmp / "barometre.duckdb", tmp / "report-bench",
                                                  snapshot or DEFAULT_SNAPSHOT_DIR))
        report.update(wall=wall, import_seconds=import_seconds, rss_after_imports_mb=rss_imported,
                      peak_rss_mb=peak, n_assets=sum(len(a.keys) for a in ALL_ASSETS), run_id=result.run_id,
                      gx_imported_in_run=(not gx_before) and "great_expectations" in sys.modules)
        instance.dispose()
        write_result(out, report)
    finally:
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)


def report_builds(published_db: Path, out: Path, snapshot_dir) -> list[dict]:
    """The report built again from the run's published file, in this (warm) process: the indicator
    pages only, then the whole report with the territory pages, alternately, twice each; the
    seconds of each build and of its parts (barometre.report.build.ReportResult.parts)."""
    from barometre.report import build_report

    builds = []
    for territories in (False, True, False, True):
        r = build_report(published_db, out, snapshot_dir, territories=territories, incremental=False)
        builds.append({"territories": territories, "seconds": r.seconds, "pages": r.pages, "parts": r.parts,
                       "mb": sum(f.stat().st_size for f in out.rglob("*") if f.is_file()) / 1e6})
    # Then incrementally, nothing changed: the front page only is rendered, every other page kept.
    r = build_report(published_db, out, snapshot_dir)
    builds.append({"territories": True, "incremental": True, "seconds": r.seconds, "pages": r.pages,
                   "rebuilt": len(r.rebuilt), "parts": r.parts})
    shutil.rmtree(out, ignore_errors=True)
    return builds


def rematerialise(out: str, folder: str) -> None:
    """Re-write the unemployment file of the snapshot copy in ``folder`` and materialise its
    asset and everything downstream, on the instance and work database of the full run there.
    Then the same once more in this process: the second run shows what a long-lived process
    would pay (no first-call costs)."""
    import dagster as dg

    from barometre.definitions import ALL_ASSETS, ALL_CHECKS, materialize_all
    from barometre.sources import chomage

    import_seconds = time.perf_counter() - T0
    tmp = Path(folder)
    snapshot = tmp / "snapshot"
    changed = snapshot / chomage.FILE
    instance = _instance(tmp / "dagster_home")
    probe = EventWriteProbe(instance)
    selection = dg.AssetSelection.keys(dg.AssetKey(list(CHANGED_ASSET))).downstream()
    runs = []
    for _ in range(2):
        # The benchmark's change: the file is written again with identical bytes (a new mtime,
        # the same content), so nothing is fabricated; the run recomputes everything downstream.
        changed.write_bytes(changed.read_bytes())
        start_epoch, start = time.time(), time.perf_counter()
        # As a refresh job runs it: the selected assets with their asset checks (the source's
        # blocking suite, the derived-value checks), so the first run pays the GX import.
        result = materialize_all(instance=instance, log_level="WARNING", selection=selection,
                                 snapshot_dir=snapshot, work_db=tmp / "work.duckdb",
                                 published_db=tmp / "barometre.duckdb")
        wall = time.perf_counter() - start
        end_epoch = time.time()
        if not result.success:
            raise SystemExit("the re-materialisation failed")
        entries = list(instance.all_logs(result.run_id))
        write_time = probe.by_timestamp()
        report = step_report(entries, write_time)
        report["run"] = run_level(entries, write_time, report["steps"], start_epoch, end_epoch)
        report.update(wall=wall, since_process_start=time.perf_counter() - T0)
        runs.append(report)
    first, second = runs
    first.update(import_seconds=import_seconds, peak_rss_mb=peak_rss_mb(), changed_file=chomage.FILE,
                 selected=sorted("/".join(k.path) for k in selection.resolve(ALL_ASSETS)),
                 selected_checks=sorted(f"{'/'.join(k.asset_key.path)}:{k.name}"
                                        for c in ALL_CHECKS for k in c.check_keys
                                        if k.asset_key in selection.resolve(ALL_ASSETS)),
                 n_assets=sum(len(a.keys) for a in ALL_ASSETS), second_run=second)
    instance.dispose()
    write_result(out, first)


# ---------------------------------------------------------------------------------------------
# The floor: DuckDB reading every snapshot file once into memory


def snapshot_files() -> list[str]:
    """Every file of the catalogue's sources found in the snapshot (what the pipeline reads)."""
    from barometre.catalogue import load_catalogue
    from barometre.landing import SnapshotStore
    from barometre.sources.registry import source_files

    store = SnapshotStore()
    return [p for patterns in source_files(load_catalogue()).values() for pattern in patterns
            for p in store.glob(pattern)]


def floor_query(path: Path) -> str:
    """DuckDB's own readers, types detected: JSON arrays (gzip) over all records (a key such as
    ``collectiviteOutremer`` appears only in late records), TopoJSON as one document, every
    other file as CSV (separator detected, ragged rows padded, text kept as text)."""
    name = str(path).replace("'", "''")
    if name.endswith((".zip", ".xlsx", ".xls")):
        raise ValueError(f"{path}: a workbook, read by read_workbook (DuckDB reads no XLS)")
    if name.endswith(".json.gz"):
        return f"SELECT * FROM read_json('{name}', format='array', sample_size=-1, maximum_object_size=268435456)"
    if name.endswith(".topojson") or name.endswith(".json"):
        return f"SELECT * FROM read_json('{name}', format='unstructured', maximum_object_size=268435456)"
    return f"SELECT * FROM read_csv('{name}', all_varchar=true, null_padding=true, strict_mode=false)"


WORKBOOKS = (".zip", ".xlsx", ".xls")


def read_workbook(path: Path) -> int:
    """The rows of every sheet of a workbook (XLS or XLSX, also inside a ZIP, read in memory)
    with python-calamine, the reader the pipeline uses: DuckDB reads no XLS, and its ``excel``
    extension is not bundled (an install needs the network)."""
    import io
    import zipfile

    from python_calamine import CalamineWorkbook

    raws = []
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as z:
            raws = [z.read(i) for i in z.infolist() if i.filename.lower().endswith((".xls", ".xlsx"))]
    else:
        raws = [path.read_bytes()]
    rows = 0
    for raw in raws:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(raw))
        rows += sum(len(wb.get_sheet_by_name(name).to_python()) for name in wb.sheet_names)
    return rows


def floor(out: str, reps: int, deadline: float | None = None) -> None:
    """``reps`` readings of every file, fewer when the next would end after ``deadline`` (epoch
    seconds), never fewer than one."""
    from barometre.duckdb_config import connect
    from barometre.landing import DEFAULT_SNAPSHOT_DIR

    files = snapshot_files()
    runs, per_family = [], defaultdict(list)
    for _ in range(reps):
        if runs and deadline is not None and time.time() + runs[-1] * 1.1 > deadline:
            break
        con = connect(":memory:")
        family = defaultdict(float)
        start = time.perf_counter()
        rows = 0
        for n, rel in enumerate(files):
            t = time.perf_counter()
            if rel.endswith(WORKBOOKS):
                rows += read_workbook(Path(DEFAULT_SNAPSHOT_DIR) / rel)
            else:
                con.execute(f"CREATE TABLE t{n} AS {floor_query(Path(DEFAULT_SNAPSHOT_DIR) / rel)}").fetchall()
                rows += con.execute(f"SELECT count(*) FROM t{n}").fetchall()[0][0]
            family[rel.split("/")[0] + ("/" + rel.rsplit("/", 1)[-1] if rel.startswith("cog/") else "")] += \
                time.perf_counter() - t
        runs.append(time.perf_counter() - start)
        con.close()
        for k, v in family.items():
            per_family[k].append(v)
    total_bytes = sum((Path(DEFAULT_SNAPSHOT_DIR) / rel).stat().st_size for rel in files)
    write_result(out, {"runs": runs, "n_files": len(files), "bytes": total_bytes, "rows": rows,
                       "per_family": dict(per_family)})


def gx_import(out: str) -> None:
    start = time.perf_counter()
    try:
        import great_expectations  # noqa: F401
    except ImportError:
        write_result(out, {"seconds": None})
        return
    write_result(out, {"seconds": time.perf_counter() - start, "peak_rss_mb": peak_rss_mb()})


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["full", "floor", "gx-import", "rematerialise"])
    parser.add_argument("--out", required=True)
    parser.add_argument("--keep", help="full: a folder kept after the run (instance, work DB, snapshot copy); "
                                       "rematerialise: that folder")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--deadline", type=float, help="floor: epoch seconds, no reading starts that would end later")
    args = parser.parse_args(argv)
    if args.what == "full":
        full(args.out, args.keep)
    elif args.what == "floor":
        floor(args.out, args.reps, args.deadline)
    elif args.what == "gx-import":
        gx_import(args.out)
    else:
        rematerialise(args.out, args.keep)


if __name__ == "__main__":
    main()
