"""``make bench``: measure the pipeline on this machine, print the figures, write docs/benchmarks.md.

Every measured run starts in a fresh process (see ``measure.run_child``). The whole benchmark
keeps to a time budget (``--budget``, default 540 s): the pipeline figures always get their
runs; the largest synthetic sizes get as many repetitions as fit (at least one), and the report
says how many each figure has.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from tests.bench.measure import PROJECT_ROOT, Figure, fit_exponent, load, machine, run_child, size_at

GOAL_COMPUTE_OVER_FLOOR = 3.0
GOAL_FIXED_COST_S = 8.0
GOAL_REMATERIALISE_S = 5.0
GOAL_EXPONENT = 1.1
GOAL_BENCH_S = 600.0
GOAL_REPORT_RATIO = 3.0  # report with the territory pages ÷ the indicator pages only (issue 17)
GOAL_REPORT_MB = 60.0
SCALING_PERIODS = (1, 5, 10)
PHASES = ("body", "load", "store", "events", "dagster")
PHASE_NAMES = {"body": "asset and check bodies (our code)", "load": "IO manager: load inputs from DuckDB",
               "store": "IO manager: store outputs in DuckDB", "events": "event-log writes inside steps",
               "dagster": "other Dagster step machinery"}


def progress(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')} load {load()[0]:.2f}] {message}", file=sys.stderr, flush=True)


def _git_commit() -> str:
    try:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT, capture_output=True,
                             text=True, check=True).stdout.strip()
        # The report itself (being rewritten) does not count as a change.
        dirty = subprocess.run(["git", "status", "--porcelain", "--", ".", ":(exclude)docs/benchmarks.md"],
                               cwd=PROJECT_ROOT, capture_output=True, text=True, check=True).stdout.strip()
        return sha + (" (with uncommitted changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


# ---------------------------------------------------------------------------------------------
# Measurements


def measure_pipeline(reps: int, keep: Path, loads: dict) -> dict:
    loads["full materialisation"] = load()
    fulls = []
    for i in range(reps):
        args = ["full", "--keep", str(keep)] if i == reps - 1 else ["full"]
        result, process_wall = run_child("pipeline", *args)
        result["process_wall"] = process_wall
        fulls.append(result)
        progress(f"full materialisation {i + 1}/{reps}: {result['wall']:.1f} s in process, "
                 f"{process_wall:.1f} s with imports")
    loads["Great Expectations import"] = load()
    gx = []
    for i in range(reps):
        result, _ = run_child("pipeline", "gx-import")
        gx.append(result)
    progress("Great Expectations import: " + ", ".join(f"{g['seconds']:.1f} s" for g in gx if g["seconds"]))
    loads["floor"] = load()
    floor, _ = run_child("pipeline", "floor", "--reps", str(reps))
    progress(f"floor: {', '.join(f'{s:.2f} s' for s in floor['runs'])}")
    loads["re-materialisation"] = load()
    remats = []
    for i in range(reps):
        result, _ = run_child("pipeline", "rematerialise", "--keep", str(keep))
        remats.append(result)
        progress(f"re-materialisation {i + 1}/{reps}: {result['wall']:.1f} s, imports and run "
                 f"{result['since_process_start']:.1f} s; again in the same process "
                 f"{result['second_run']['wall']:.1f} s")
    return {"fulls": fulls, "gx": gx, "floor": floor, "remats": remats}


def measure_scaling(reps: int, end: float, loads: dict, sizes: tuple[int, ...] = SCALING_PERIODS) -> dict:
    """Ours and the script at the synthetic sizes within the budget. Each child gets a deadline
    that leaves room for one run of each essential size still to come, predicted from the sizes
    already measured (with an exponent of 1.15 until two sizes are)."""
    loads["scaling"] = load()
    results: dict[tuple[str, int], dict] = {}

    def predicted(impl: str, periods: int) -> float:
        base = results.get((impl, sizes[0])) or results.get(("ours", sizes[0]))
        if base is None:
            return 0.0
        t1 = statistics.median(r["seconds"] for r in base["runs"])
        k = 1.15
        for who in ("ours", impl):  # the script's own exponent once it has two sizes
            done = [(p, statistics.median(r["seconds"] for r in results[(who, p)]["runs"]))
                    for p in sizes if (who, p) in results]
            if len(done) >= 2:
                k = fit_exponent([p for p, _ in done], [t for _, t in done])
        # + imports and the generation of the inputs (about a second per period)
        return t1 * (periods / sizes[0]) ** max(k, 1.0) * 1.15 + 3.0 + periods

    def child(impl: str, periods: int, later: list[tuple[str, int]]) -> None:
        reserve = sum(predicted(i, p) for i, p in later)
        deadline = end - reserve
        result, _ = run_child("scaling", "run", "--impl", impl, "--periods", str(periods), "--reps", str(reps),
                              "--deadline", f"{deadline:.0f}")
        results[(impl, periods)] = result
        progress(f"scaling {impl} {periods} period(s): "
                 + ", ".join(f"{r['seconds']:.1f} s / {r['peak_rss_mb']:.0f} MiB" for r in result["runs"]))

    # Ours at every size first (the exponent needs them), then the script at the largest size
    # (the ratio where it matters most): one run of each is reserved; then the script at the
    # sizes in between if time remains.
    essential = [("ours", sizes[0]), ("script", sizes[0]), *(("ours", p) for p in sizes[1:])]
    if len(sizes) > 1:
        essential.append(("script", sizes[-1]))
    plan = essential + [("script", p) for p in sizes[1:-1]]
    for n, (impl, periods) in enumerate(plan):
        if n >= 2 and time.time() + predicted(impl, periods) > end:
            progress(f"scaling {impl} {periods} period(s): not run, the budget would be exceeded")
            continue
        child(impl, periods, essential[n + 1:])
    return {f"{impl}:{p}": r for (impl, p), r in results.items()}


# ---------------------------------------------------------------------------------------------
# Figures


def pipeline_figures(m: dict) -> dict:
    fulls = m["fulls"]
    f = {
        "wall": Figure.of(r["wall"] for r in fulls),
        "process_wall": Figure.of(r["process_wall"] for r in fulls),
        "imports": Figure.of(r["import_seconds"] for r in fulls),
        "peak_rss": Figure.of(r["peak_rss_mb"] for r in fulls),
        "rss_imports": Figure.of(r["rss_after_imports_mb"] for r in fulls),
        "compute": Figure.of(sum(s["seconds"] for s in r["steps"]) for r in fulls),
        "report_seconds": Figure.of(r["report_seconds"] for r in fulls),
        "report_mb": Figure.of(r["report_mb"] for r in fulls),
        "report_pages": fulls[0]["report_pages"],
        # Same process, same published file: each run's builds with and without the territory pages.
        "report_with": Figure.of(b["seconds"] for r in fulls for b in r["report_builds"] if b["territories"] and not b.get("incremental")),
        "report_without": Figure.of(b["seconds"] for r in fulls for b in r["report_builds"] if not b["territories"]),
        "report_ratio": Figure.of(
            statistics.median(b["seconds"] for b in r["report_builds"] if b["territories"] and not b.get("incremental"))
            / statistics.median(b["seconds"] for b in r["report_builds"] if not b["territories"]) for r in fulls),
        "report_parts": {part: Figure.of(b["parts"][part] for r in fulls for b in r["report_builds"]
                                         if b["territories"] and not b.get("incremental") and part in b["parts"])
                         for part in ("load", "indicators", "territories", "write")},
        "report_incremental": Figure.of(b["seconds"] for r in fulls for b in r["report_builds"] if b.get("incremental")),
        "report_incremental_rebuilt": next(b["rebuilt"] for b in fulls[0]["report_builds"] if b.get("incremental")),
        "report_pages_without": fulls[0]["report_builds"][0]["pages"],
        "report_mb_without": fulls[0]["report_builds"][0]["mb"],
        "n_steps": len(fulls[0]["steps"]),
        "n_assets": fulls[0]["n_assets"],
        "n_checks": sum(len(s["checks"]) for s in fulls[0]["steps"]),
        "n_events": fulls[0]["run"]["n_events"],
    }
    for phase in PHASES:
        f[phase] = Figure.of(sum(s[phase] for s in r["steps"]) for r in fulls)
    f["fixed"] = Figure.of(r["wall"] - sum(s["seconds"] for s in r["steps"]) for r in fulls)
    for part in ("before_first_step", "between_steps", "after_last_step", "event_writes_outside_steps",
                 "event_writes_total"):
        f[part] = Figure.of(r["run"][part] for r in fulls)
    gx = [g["seconds"] for g in m["gx"] if g["seconds"] is not None]
    f["gx_import"] = Figure.of(gx) if gx else None
    f["gx_in_run"] = any(r["gx_imported_in_run"] for r in fulls)
    # When a check imported GX during the run, its import is framework cost, not compute.
    gx_cost = f["gx_import"].median if f["gx_in_run"] and f["gx_import"] else 0.0
    f["compute_net"] = f["compute"].median - gx_cost
    f["fixed_net"] = f["fixed"].median + gx_cost
    f["floor"] = Figure.of(m["floor"]["runs"])
    f["compute_over_floor"] = f["compute_net"] / f["floor"].median
    f["body_over_floor"] = f["body"].median / f["floor"].median
    by_label = defaultdict(list)
    for r in fulls:
        for s in r["steps"]:
            by_label[(s["label"], s["kind"])].append(s)
    f["steps"] = sorted(((label, kind, Figure.of(s["seconds"] for s in runs),
                          {p: statistics.median(s[p] for s in runs) for p in PHASES})
                         for (label, kind), runs in by_label.items()), key=lambda x: -x[2].median)
    remats = m["remats"]
    f["remat_wall"] = Figure.of(r["wall"] for r in remats)
    f["remat_process_wall"] = Figure.of(r["since_process_start"] for r in remats)
    f["remat_second"] = Figure.of(r["second_run"]["wall"] for r in remats)
    f["remat_compute"] = Figure.of(sum(s["seconds"] for s in r["steps"]) for r in remats)
    f["remat_fixed"] = Figure.of(r["wall"] - sum(s["seconds"] for s in r["steps"]) for r in remats)
    f["remat_events"] = Figure.of(r["run"]["event_writes_total"] for r in remats)
    for phase in PHASES:
        f[f"remat_{phase}"] = Figure.of(sum(s[phase] for s in r["steps"]) for r in remats)
        f[f"remat_second_{phase}"] = Figure.of(sum(s[phase] for s in r["second_run"]["steps"]) for r in remats)
    f["remat_steps"] = [s["label"] for s in remats[0]["steps"]]
    f["remat_selected"] = remats[0]["selected"]
    f["remat_selected_checks"] = remats[0]["selected_checks"]
    f["remat_only_downstream"] = all(
        sorted(a for s in r["steps"] for a in s["assets"]) == r["selected"]
        and sorted(c for s in r["steps"] for c in s["checks"]) == r["selected_checks"] for r in remats)
    f["remat_file"] = remats[0]["changed_file"]
    by_step = defaultdict(list)
    for r in remats:
        for s in r["steps"]:
            by_step[s["label"]].append(s["seconds"])
    f["remat_by_step"] = sorted(((k, Figure.of(v)) for k, v in by_step.items()), key=lambda x: -x[1].median)
    return f


def scaling_figures(s: dict, sizes: tuple[int, ...] = SCALING_PERIODS) -> dict:
    out = {"sizes": [], "k": {}, "k_mem": {}}
    for periods in sizes:
        row = {"periods": periods}
        for impl in ("ours", "script"):
            r = s.get(f"{impl}:{periods}")
            if r is None:
                continue
            row["n_rows"], row["n_communes"], row["n_indicators"] = r["n_rows"], r["n_communes"], r["n_indicators"]
            row[impl] = {"seconds": Figure.of(x["seconds"] for x in r["runs"]),
                         "peak": Figure.of(x["peak_rss_mb"] for x in r["runs"]),
                         "before": Figure.of(x["rss_before_mb"] for x in r["runs"]),
                         "stages": {st: Figure.of(x[st] for x in r["runs"])
                                    for st in ("indicators", "disparities", "rankings")},
                         "generation": r["generation_seconds"]}
        if "ours" in row and "script" in row:
            row["ratio"] = row["ours"]["seconds"].median / row["script"]["seconds"].median
        out["sizes"].append(row)
    for impl in ("ours", "script"):
        pts = [(r["n_rows"], r[impl]["seconds"].median, r[impl]["peak"].median) for r in out["sizes"] if impl in r]
        if len(pts) >= 2:
            out["k"][impl] = fit_exponent([p[0] for p in pts], [p[1] for p in pts])
            out["k_mem"][impl] = fit_exponent([p[0] for p in pts], [p[2] for p in pts])
    return out


# ---------------------------------------------------------------------------------------------
# Report


def _runs(fig: Figure) -> str:
    return f"{len(fig.values)} run" + ("s" if len(fig.values) > 1 else "")


def _met(ok: bool) -> str:
    return "**met**" if ok else "**not met**"


def report(p: dict, sc: dict, info: dict, loads: dict, total: float, reps: int, budget: float) -> str:
    L: list[str] = []
    now = dt.datetime.now().astimezone()
    L += ["# Benchmarks", "",
          "<!-- Generated by `make bench` (python -m tests.bench): do not edit by hand, run it again. -->", "",
          f"Measured on {now:%Y-%m-%d %H:%M %Z} by `make bench` (`python -m tests.bench`), commit "
          f"{_git_commit()}, in {total / 60:.1f} min. What the figures mean and where one machine stops: "
          "[scaling.md](scaling.md).", "",
          f"- Machine: {info['cpu']}, {info['cores']} cores, {info['memory_gib']} GiB, {info['os']}; "
          f"Python {info['python']}; " + ", ".join(f"{k} {v}" for k, v in info["versions"].items()) + ".",
          "- Load average (1, 5, 15 min) when each part started — the machine is shared, other processes "
          "compete for its cores: " + "; ".join(f"{k} {a:.2f}/{b:.2f}/{c:.2f}" for k, (a, b, c) in loads.items())
          + ".",
          f"- Every figure is the median of its runs with (min–max) and the number of runs; {reps} runs are asked "
          f"for each; the largest synthetic sizes get fewer when the {budget / 60:.1f}-minute budget of the "
          "benchmark would be exceeded (the count is shown).", ""]

    # Goals
    largest = sc["sizes"][-1] if sc["sizes"] else None
    L += ["## Goals", "", "| goal | measured | |", "|---|---|---|",
          f"| pipeline compute ÷ floor ≤ {GOAL_COMPUTE_OVER_FLOOR:g}× | {p['compute_over_floor']:.1f}× "
          f"({p['compute_net']:.1f} s ÷ {p['floor'].median:.2f} s) | "
          f"{_met(p['compute_over_floor'] <= GOAL_COMPUTE_OVER_FLOOR)} |",
          f"| framework fixed cost (wall − compute) ≤ {GOAL_FIXED_COST_S:g} s | {p['fixed_net']:.1f} s | "
          f"{_met(p['fixed_net'] <= GOAL_FIXED_COST_S)} |",
          f"| re-materialisation after one source changes ≤ {GOAL_REMATERIALISE_S:g} s | "
          f"{p['remat_wall'].median:.1f} s for the run in a new process (imports excluded; "
          f"{p['remat_process_wall'].median:.1f} s with them); {p['remat_second'].median:.1f} s for the same run "
          f"again in that process | {_met(p['remat_wall'].median <= GOAL_REMATERIALISE_S)} |"]
    if "ours" in sc["k"]:
        span = f"{sc['sizes'][0]['periods']} → {sc['sizes'][-1]['periods']} periods"
        L.append(f"| growth exponent k ≤ {GOAL_EXPONENT:g} (commune level, {span}) | k = "
                 f"{sc['k']['ours']:.2f} | {_met(sc['k']['ours'] <= GOAL_EXPONENT)} |")
    L += [f"| static report with the territory pages ÷ the indicator pages only ≤ {GOAL_REPORT_RATIO:g}× (same "
          f"process, same published file) | {p['report_ratio'].median:.2f}× ({p['report_with'].median:.2f} s ÷ "
          f"{p['report_without'].median:.2f} s) | {_met(p['report_ratio'].median <= GOAL_REPORT_RATIO)} |",
          f"| static report size < {GOAL_REPORT_MB:g} MB | {p['report_mb'].median:.1f} MB | "
          f"{_met(p['report_mb'].median < GOAL_REPORT_MB)} |"]
    L += [f"| `make bench` < {GOAL_BENCH_S / 60:.0f} min | {total / 60:.1f} min | {_met(total < GOAL_BENCH_S)} |", ""]

    # 1 full materialisation
    L += ["## 1. Full materialisation of the snapshot", "",
          f"`materialize_all` as `make run` calls it: {p['n_assets']} assets, {p['n_checks']} asset checks, "
          f"{p['n_steps']} steps, in-process executor, a persistent SQLite Dagster instance "
          f"with the project's dagster.yaml (like `.dagster/`), a fresh process per run; {p['n_events']} events "
          "per run.", "",
          "| | median (min–max), runs |", "|---|---|",
          f"| wall time, imports excluded | {p['wall'].fmt()} |",
          f"| wall time of the whole process (interpreter, imports, run, exit) | {p['process_wall'].fmt()} |",
          f"| of which imports (dagster, the definitions) | {p['imports'].fmt()} |",
          f"| peak resident memory of the process (VmHWM) | {p['peak_rss'].fmt('MiB', 0)} |",
          f"| resident memory after imports | {p['rss_imports'].fmt('MiB', 0)} |",
          f"| static report ({p['report_pages']} pages): build time, within the run | {p['report_seconds'].fmt()} |",
          f"| static report: size on disk | {p['report_mb'].fmt('MB', 1)} |",
          f"| static report built again after the run, same process and published file: with the territory pages "
          f"({p['report_pages']} pages) | {p['report_with'].fmt()} |",
          "| – of which " + " / ".join(p["report_parts"]) + " (medians) | "
          + " / ".join(f"{v.median:.2f}" for v in p["report_parts"].values()) + " s |",
          f"| the same, indicator pages and front page only ({p['report_pages_without']} pages, "
          f"{p['report_mb_without']:.1f} MB) | {p['report_without'].fmt()} |",
          f"| ratio with ÷ without the territory pages (per run: median of its two builds each) | "
          f"{p['report_ratio'].fmt('×', 2)} |",
          f"| the same again, incremental, no published row changed ({p['report_incremental_rebuilt']} page(s) "
          f"rendered, the others kept: data/report/manifest.json) | {p['report_incremental'].fmt()} |",
          f"| **compute**: Σ of the steps, STEP_START → STEP_SUCCESS | {p['compute'].fmt()} |"]
    L += [f"| – {PHASE_NAMES[ph]} | {p[ph].fmt()} |" for ph in PHASES]
    L += [f"| **framework fixed cost**: wall − compute | {p['fixed'].fmt()} |",
          f"| – before the first step (job, plan, run record, {p['n_assets']} planned-materialisation events, "
          f"resources) | {p['before_first_step'].fmt()} |",
          f"| – between steps | {p['between_steps'].fmt()} |",
          f"| – after the last step | {p['after_last_step'].fmt()} |",
          f"| – of which event-log writes outside steps | {p['event_writes_outside_steps'].fmt()} |",
          f"| all event-log writes (inside and outside steps) | {p['event_writes_total'].fmt()} |"]
    if p["gx_import"]:
        where = ("a check imported it during the run: counted in the fixed cost, not in compute" if p["gx_in_run"]
                 else "no step imported it in this run: no check uses Great Expectations yet")
        L.append(f"| Great Expectations import alone, fresh process ({where}) | {p['gx_import'].fmt()} |")
    parts = {"event-log writes (inside and outside steps)": p["event_writes_total"].median,
             "DuckDB IO manager (load + store)": p["load"].median + p["store"].median,
             "run start before the first step": p["before_first_step"].median}
    if p["gx_in_run"] and p["gx_import"]:
        parts["Great Expectations import"] = p["gx_import"].median
    top = max(parts, key=parts.get)
    L += ["", f"Framework cost in the broad sense — everything but the asset and check bodies — is "
              f"{p['wall'].median - p['body'].median:.1f} s of {p['wall'].median:.1f} s; the largest part is "
              f"**{top}** ({parts[top]:.1f} s): " + "; ".join(f"{k} {v:.1f} s" for k, v in parts.items()) + ".", ""]
    L += ["Time per step (asset or check), median of the runs; the phases are split by the step's own "
          "events (see *How* below):", "",
          "| step | kind | seconds | body | load | store | event writes |", "|---|---|---|---|---|---|---|"]
    for label, kind, fig, ph in p["steps"]:
        L.append(f"| `{label}` | {kind} | {fig.short()} | {ph['body']:.2f} | {ph['load']:.2f} | {ph['store']:.2f} "
                 f"| {ph['events']:.2f} |")
    L.append("")

    # 2 floor
    fl = p["floor_result"]
    L += ["## 2. The floor: DuckDB reading every snapshot file once", "",
          f"{fl['n_files']} files ({fl['bytes'] / 1e6:.1f} MB, {fl['rows']} rows once read) into an in-memory "
          f"DuckDB: CSV with `read_csv` (types detected), gzip JSON with `read_json` over all records, TopoJSON "
          f"as one document. One process, imports excluded: **{p['floor'].fmt()}**.", "",
          "| files | seconds |", "|---|---|"]
    for fam, vals in sorted(fl["per_family"].items(), key=lambda kv: -statistics.median(kv[1])):
        L.append(f"| `{fam}` | {Figure.of(vals).short(3)} |")
    L += ["", f"- Pipeline compute ÷ floor: **{p['compute_over_floor']:.1f}×** "
              f"(goal ≤ {GOAL_COMPUTE_OVER_FLOOR:g}×)"
              + (f", Great Expectations import moved to the fixed cost" if p["gx_in_run"] else "") + ".",
          f"- The asset and check bodies alone ÷ floor: {p['body_over_floor']:.1f}×.",
          f"- Framework fixed cost: **{p['fixed_net']:.1f} s** (goal ≤ {GOAL_FIXED_COST_S:g} s).", ""]

    # 3 re-materialisation
    L += ["## 3. Re-materialisation after one source changes", "",
          f"On the instance and work database of a full run (upstream already materialised), "
          f"`{p['remat_file']}` of a copy of the snapshot is written again — **a benchmark change: the same "
          "bytes, a new modification time, no value altered or invented** — then only its asset and everything "
          f"downstream is materialised (`AssetSelection.keys(\"raw/insee_chomage_localise_departement\").downstream()`, "
          f"{len(p['remat_selected'])} assets with their {len(p['remat_selected_checks'])} asset checks, as the "
          "source's refresh job runs them), each run in a fresh process.", "",
          "| | median (min–max), runs |", "|---|---|",
          f"| wall time of the run in a new process, imports excluded | {p['remat_wall'].fmt()} |",
          f"| imports and run, from the process's first line | {p['remat_process_wall'].fmt()} |",
          f"| Σ of the steps | {p['remat_compute'].fmt()} |"]
    L += [f"| – {PHASE_NAMES[ph]} | {p['remat_' + ph].fmt()} |" for ph in PHASES]
    L += [f"| outside the steps (run start, between steps, end) | {p['remat_fixed'].fmt()} |",
          f"| all event-log writes | {p['remat_events'].fmt()} |",
          f"| the same run again in the same process (no first-call costs) | {p['remat_second'].fmt()} |",
          f"| – of which bodies / IO load / IO store / event writes | "
          + " / ".join(f"{p['remat_second_' + ph].median:.2f}" for ph in ("body", "load", "store", "events"))
          + " s |", ""]
    L += [
          f"Only the selection ran: **{'yes' if p['remat_only_downstream'] else 'NO'}** — steps: "
          + ", ".join(f"`{k}` {f.median:.2f} s" for k, f in p["remat_by_step"]) + ".", ""]

    # 4 scaling
    L += ["## 4. Scaling to the commune level (SYNTHETIC inputs)", ""]
    if sc["sizes"]:
        first = sc["sizes"][0]
        L += [f"Real COG 2026 commune codes ({first['n_communes']} communes of the 101 départements) with "
              f"**synthetic** numerators and denominators (fixed seed, `source_id = synthetic_benchmark`) for the "
              f"{first['n_indicators']} indicators and "
              + ", ".join(str(r["periods"]) for r in sc["sizes"]) + " yearly periods. *Ours*: the pipeline's "
              "`aggregate_counts` (communes → départements → régions, France), `marts.indicator_values`, "
              "`cohesion.reference_values`, `disparities` (population-weighted) and `rankings`. *Script*: the same "
              "numbers from a one-shot pandas script (tests/bench/scaling.py; a test checks both agree). Each "
              "size in a fresh process; memory is the process's peak resident set during the run (VmHWM reset "
              "before each run; the inputs are included).", "",
              "| periods | input rows | ours: seconds | ours: peak MiB | indicators | disparities | rankings | "
              "script: seconds | script: peak MiB | ours ÷ script |", "|---|---|---|---|---|---|---|---|---|---|"]
        for r in sc["sizes"]:
            o, s_ = r.get("ours"), r.get("script")
            L.append(f"| {r['periods']} | {r['n_rows']:,} | "
                     + (f"{o['seconds'].short(1)}, {_runs(o['seconds'])} | {o['peak'].short(0)} | "
                        f"{o['stages']['indicators'].median:.1f} | {o['stages']['disparities'].median:.1f} | "
                        f"{o['stages']['rankings'].median:.1f} | " if o else "– | – | – | – | – | ")
                     + (f"{s_['seconds'].short(1)}, {_runs(s_['seconds'])} | {s_['peak'].short(0)} | "
                        if s_ else "not run (budget) | – | ")
                     + (f"{r['ratio']:.2f}× |" if "ratio" in r else "– |"))
        L.append("")
        if "ours" in sc["k"]:
            L.append(f"- Fitted growth exponent (cost ∝ rows^k, least squares on the medians): time k = "
                     f"**{sc['k']['ours']:.2f}** for ours (goal ≤ {GOAL_EXPONENT:g})"
                     + (f", {sc['k']['script']:.2f} for the script" if "script" in sc["k"] else "")
                     + f"; peak memory k = {sc['k_mem']['ours']:.2f} for ours.")
            big = sc["sizes"][-1]["ours"]
            mem_total = info["memory_gib"] * 1024 if info["memory_gib"] else None
            if mem_total:
                n_ref = sc["sizes"][-1]["n_rows"]
                n_stop = size_at(mem_total, n_ref, big["peak"].median, sc["k_mem"]["ours"])
                per_period = sc["sizes"][0]["n_rows"]
                t_stop = big["seconds"].median * (n_stop / n_ref) ** sc["k"]["ours"]
                L.append(f"- Extrapolation (not a measurement): the peak memory would reach this machine's "
                         f"{info['memory_gib']} GiB at about {n_stop / 1e6:.0f} million commune-level rows, "
                         f"≈ {n_stop / per_period:.0f} periods × 16 indicators at the commune level, after about "
                         f"{t_stop / 60:.0f} min of compute.")
        L.append("")

    L += ["## How the figures are measured", "",
          "- Each measured run is a fresh `python -m tests.bench.<module>` process; wall times use "
          "`time.perf_counter`, memory the process's `VmHWM` (Linux peak resident set; reset through "
          "`/proc/self/clear_refs` between the repetitions of the scaling runs).",
          "- Step times come from the run's event log: STEP_START → STEP_SUCCESS of each step; a step that records "
          "an asset materialisation is an asset, one that only records check evaluations is a check (asset checks "
          "added later are picked up without change). Inside a step, the time between two consecutive events is "
          "attributed to the event that ends it (LOADED_INPUT: the IO manager's load; STEP_OUTPUT, "
          "ASSET_CHECK_EVALUATION or a message the body logs before its output: the body; ASSET_MATERIALIZATION or HANDLED_OUTPUT after the output: the IO "
          "manager's store), minus the time the instance took to write the previous event, measured by wrapping "
          "`DagsterInstance.handle_new_event`.",
          "- The floor reads the files the catalogue lists (the pipeline's `raw` assets read the same files) "
          "with DuckDB's own readers into an in-memory database.",
          "- The scaling inputs are synthetic values on real commune codes; nothing of them is published or "
          "written to disk.", ""]
    return "\n".join(L)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="benchmark of the barometer; writes docs/benchmarks.md")
    parser.add_argument("--reps", type=int, default=3, help="runs per figure (default 3)")
    parser.add_argument("--budget", type=float, default=540.0, help="seconds for the whole benchmark")
    parser.add_argument("--out", default=str(PROJECT_ROOT / "docs" / "benchmarks.md"))
    parser.add_argument("--periods", default=",".join(map(str, SCALING_PERIODS)),
                        help="synthetic sizes in periods (default 1,5,10; smaller for a quick trial)")
    args = parser.parse_args(argv)
    sizes = tuple(int(x) for x in args.periods.split(","))
    start = time.perf_counter()
    end = time.time() + args.budget
    loads: dict = {}
    info = machine()
    progress(f"{info['cpu']}, {info['cores']} cores, {info['memory_gib']} GiB; budget {args.budget:.0f} s")
    with tempfile.TemporaryDirectory(prefix="barometre-bench-") as tmp:
        m = measure_pipeline(args.reps, Path(tmp) / "warm", loads)
    p = pipeline_figures(m)
    p["floor_result"] = m["floor"]
    sc = scaling_figures(measure_scaling(args.reps, end, loads, sizes), sizes)
    loads["end"] = load()
    total = time.perf_counter() - start
    text = report(p, sc, info, loads, total, args.reps, args.budget)
    Path(args.out).write_text(text + "\n")
    print(text)
    progress(f"wrote {args.out} in {total / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
