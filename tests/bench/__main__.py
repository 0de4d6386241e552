"""``make bench``: measure the pipeline on this machine, print the figures, write docs/benchmarks.md.

Every measured run starts in a fresh process (see ``measure.run_child``). The whole benchmark
keeps to a time budget (``--budget``, default 540 s) on any machine:

- the floor is measured first; how long it takes to read the COG files against
  :data:`REFERENCE_FLOOR` says how fast this machine is, and the page says so;
- the pipeline figures get at least one run each, more while they fit in
  :data:`PIPELINE_SHARE` of the budget;
- the synthetic commune sizes adapt: after one period of ours and of the script has been
  measured, the nominal sizes (1, 5, 10 periods, and the larger size of 30) are scaled down
  by the largest factor whose predicted cost fits the remaining budget and whose predicted peak
  memory fits the machine (:func:`plan_sizes`); a size that still would not fit when its turn
  comes is skipped, and reported as skipped;
- a child that fails (or overruns the budget and is stopped) is reported with its error; the page
  is always written, with what was measured.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections import defaultdict
from pathlib import Path

from tests.bench.measure import PROJECT_ROOT, Figure, available_memory_mib, fit_exponent, load, machine, run_child

GOAL_COMPUTE_OVER_FLOOR = 3.0
GOAL_FIXED_COST_S = 8.0
GOAL_REMATERIALISE_SHARE = 0.35  # of the full run's wall time
GOAL_EXPONENT = 1.05
GOAL_COMMUNE_PEAK_MIB = 1.5 * 1024  # at the goal size (10 periods)
GOAL_BENCH_S = 600.0
GOAL_REPORT_RATIO = 3.0  # report with the territory pages ÷ the indicator pages only (issue 17)
GOAL_REPORT_MB = 60.0
SCALING_PERIODS = (1, 5, 10)
SCALING_PERIODS = (1, 5, 10)  # nominal sizes; the largest is the goal size (≈ 5.6 M rows)
LARGE_PERIODS = 30  # the larger size (≈ 17 M rows): ours once, its time and memory
# The larger size's predicted time × this margin must fit the budget left: beyond the sizes the
# exponent is fitted on, DuckDB spills to disk (its memory limit) and the disparities run one
# indicator at a time, so the exponent underestimates it (on 2 December 18 periods were predicted
# to fit the 117 s left and did not finish in them).
LARGE_MARGIN = 1.5
# The floor of the two COG files on the machine the nominal sizes were chosen for (docs/benchmarks.md
# of 30 November 2026, 2-core AMD EPYC: 0.830 s and 0.675 s of its 1.77 s, before other files were
# added): a machine that reads them 3× slower is about 3× slower.
REFERENCE_FLOOR = {"cog/communes.json.gz": 0.830, "cog/epci.json.gz": 0.675}
FLOOR_SHARE = 0.06  # of the budget: repetitions of the floor beyond the first
PIPELINE_SHARE = 0.45  # of the budget: repetitions of the pipeline runs beyond the first
FIRST_SIZE_SHARE = 0.15  # of the scaling's time: repetitions of the first size beyond the first
PIPELINE_HARD_SHARE = 0.75  # of the budget: a pipeline run still going then is stopped (room for the scaling)
REPORT_RESERVE_S = 10.0  # kept at the end of the budget to write the page
MEMORY_SHARE = 0.5  # of the memory available when the scaling starts, for one child (the machine is shared)
PLAN_EXPONENT = 1.15  # time ∝ rows^k of the plan, before two sizes are measured (the last measured k, rounded up)
FACTORS = (1.0, 0.75, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1)  # size factors tried by plan_sizes, largest first
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


class Part:
    """One part of the benchmark: its failure is recorded (``errors``), never raised."""

    def __init__(self, name: str, errors: list):
        self.name, self.errors = name, errors

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if exc is None or not isinstance(exc, Exception):
            return False
        message = (f"stopped after {exc.timeout:.0f} s (the budget)" if isinstance(exc, subprocess.TimeoutExpired)
                   else "".join(traceback.format_exception_only(kind, exc)).strip())
        self.errors.append({"part": self.name, "error": message[-3000:]})
        progress(f"{self.name}: FAILED: {message.splitlines()[0] if message else kind.__name__}")
        return True  # recorded; the benchmark goes on with what it can measure


def _timeout(end: float, minimum: float = 60.0) -> float:
    """A child may run until the end of the budget (at least ``minimum`` seconds)."""
    return max(end - time.time(), minimum)


def measure_floor(reps: int, end: float, loads: dict, errors: list, deadline: float) -> dict | None:
    """The floor first (how fast the machine is); repetitions beyond the first until ``deadline``."""
    loads["floor"] = load()
    with Part("floor", errors):
        floor, _ = run_child("pipeline", "floor", "--reps", str(reps), "--deadline", f"{deadline:.0f}",
                             timeout=_timeout(end))
        progress(f"floor: {', '.join(f'{s:.2f} s' for s in floor['runs'])}")
        return floor
    return None


def measure_pipeline(reps: int, keep: Path, loads: dict, errors: list, end: float, pipeline_end: float) -> dict:
    """The full materialisation, the GX import and the re-materialisation: one run of each at
    least, more (up to ``reps``) while the next would end before ``pipeline_end``; a run still
    going at ``end`` is stopped (and reported)."""
    m: dict = {"fulls": [], "gx": [], "remats": []}

    def more(runs: list, seconds: float) -> bool:
        return not runs or time.time() + seconds * 1.1 < pipeline_end

    loads["full materialisation"] = load()
    with Part("full materialisation", errors):
        for i in range(reps):
            if not more(m["fulls"], m["fulls"][-1]["process_wall"] if m["fulls"] else 0.0):
                break
            # Each run keeps its folder: the last one's is the re-materialisation's starting point.
            result, process_wall = run_child("pipeline", "full", "--keep", str(keep / f"full{i}"),
                                             timeout=_timeout(end))
            result["process_wall"] = process_wall
            result["folder"] = str(keep / f"full{i}")
            m["fulls"].append(result)
            progress(f"full materialisation {i + 1}/{reps}: {result['wall']:.1f} s in process, "
                     f"{process_wall:.1f} s with imports")
    loads["Great Expectations import"] = load()
    with Part("Great Expectations import", errors):
        for i in range(reps):
            if not more(m["gx"], 5.0):
                break
            result, _ = run_child("pipeline", "gx-import", timeout=_timeout(end))
            m["gx"].append(result)
        progress("Great Expectations import: " + ", ".join(f"{g['seconds']:.1f} s" for g in m["gx"] if g["seconds"]))
    loads["re-materialisation"] = load()
    if not m["fulls"]:
        errors.append({"part": "re-materialisation", "error": "not run: no full materialisation completed"})
        return m
    folder = m["fulls"][-1]["folder"]
    with Part("re-materialisation", errors):
        for i in range(reps):
            last = m["remats"][-1]["since_process_start"] if m["remats"] else 0.0
            if not more(m["remats"], last):
                break
            result, _ = run_child("pipeline", "rematerialise", "--keep", folder, timeout=_timeout(end))
            m["remats"].append(result)
            progress(f"re-materialisation {i + 1}/{reps}: {result['wall']:.1f} s, imports and run "
                     f"{result['since_process_start']:.1f} s; again in the same process "
                     f"{result['second_run']['wall']:.1f} s")
    return m


def _median_seconds(result: dict) -> float:
    return statistics.median(r["seconds"] for r in result["runs"])


def scaled_sizes(nominal: tuple[int, ...], large: int | None, factor: float) -> tuple[tuple[int, ...], int | None]:
    """The nominal sizes (and the larger size) × ``factor``, rounded, at least 1 period, without
    repeats; the first size stays as it is (it is measured before the plan)."""
    sizes: list[int] = [nominal[0]]
    for p in nominal[1:]:
        q = max(1, round(p * factor))
        if q > sizes[-1]:
            sizes.append(q)
    big = max(1, round(large * factor)) if large else None
    return tuple(sizes), (big if big and big > sizes[-1] else None)


def predicted_seconds(base: dict, periods: int, k: float = PLAN_EXPONENT, reps: int = 1) -> float:
    """A scaling child's wall time at ``periods``, from a measured child ``base``: its median
    run × (periods / base periods)^k per repetition, 15 % margin, + the generation of the inputs
    (proportional to the size) + imports (3 s)."""
    ratio = periods / base["periods"]
    return (_median_seconds(base) * ratio ** max(k, 1.0) * 1.15 * reps + base["generation_seconds"] * ratio + 3.0)


def predicted_peak_mib(base: dict, periods: int, k_mem: float = 1.0) -> float:
    """A scaling child's peak resident memory at ``periods``, from a measured child ``base``.
    Ours (DuckDB's share capped by its memory limit): its peak + the synthetic inputs (in pandas,
    measured when the child generated them: ``inputs_mib``) grown in proportion to the size, + 25 %
    of that growth; the script (pandas, whole frames): its peak × (size ratio)^max(k_mem, 0.9)."""
    peak = statistics.median(r["peak_rss_mb"] for r in base["runs"])
    if base.get("impl") == "ours" and base.get("inputs_mib") is not None and periods >= base["periods"]:
        return peak + 1.25 * max(base["inputs_mib"], 0.0) * (periods / base["periods"] - 1)
    return peak * (periods / base["periods"]) ** max(k_mem, 0.9)


def plan_sizes(nominal: tuple[int, ...], large: int | None, ours1: dict, script1: dict | None, seconds: float,
               memory_mib: float | None) -> dict:
    """The sizes to measure, predicted from the first size's measured runs (``ours1``,
    ``script1``): the nominal sizes × the largest factor of :data:`FACTORS` that keeps two sizes
    (the exponent needs them) and whose essential runs (ours once at every size, the script once at
    the goal size, the largest) and a larger size of at least twice the goal size fit in
    ``seconds``, and whose predicted peak memory at the goal size fits in ``memory_mib`` (when no
    factor leaves room for a larger size, the largest one that fits without it); then the larger
    size × that factor, shrunk to what the time left and the memory allow, dropped when that is
    not above the goal size (:func:`measure_scaling` tries it again at the end if time remains)."""
    def cost(sizes):
        runs = [("ours", p) for p in sizes[1:]] + ([("script", sizes[-1])] if script1 and len(sizes) > 1 else [])
        return sum(predicted_seconds(ours1 if impl == "ours" else script1, p) for impl, p in runs)

    def peak(p):
        return max(predicted_peak_mib(ours1, p), predicted_peak_mib(script1, p) if script1 else 0.0)

    def fits(sizes, extra=0.0):
        return cost(sizes) + extra <= seconds and (memory_mib is None or peak(sizes[-1]) <= memory_mib)

    plans = [(f, *scaled_sizes(nominal, large, f)) for f in FACTORS]
    two = min(2, len(nominal))  # the exponent needs two sizes: kept before the larger size
    chosen = next(((f, sizes, big) for f, sizes, big in plans
                   if big and len(sizes) >= two and fits(sizes, predicted_seconds(ours1, 2 * sizes[-1]))), None)
    if chosen is None:
        chosen = next(((f, sizes, big) for f, sizes, big in plans if len(sizes) >= two and fits(sizes)),
                      None) or next(((f, sizes, big) for f, sizes, big in plans if fits(sizes)), plans[-1])
    factor, sizes, big = chosen
    left = seconds - cost(sizes)
    while big and big > sizes[-1] and (predicted_seconds(ours1, big) > left
                                       or (memory_mib is not None and predicted_peak_mib(ours1, big) > memory_mib)):
        big = int(big * 0.8)
    big = big if big and big > sizes[-1] else None
    return {"factor": factor, "sizes": sizes, "large": big,
            "predicted_seconds": cost(sizes) + (predicted_seconds(ours1, big) if big else 0.0)}


def measure_scaling(reps: int, end: float, loads: dict, errors: list, nominal: tuple[int, ...] = SCALING_PERIODS,
                    large: int | None = LARGE_PERIODS) -> dict:
    """Ours and the script at the synthetic sizes within the budget (see the module's docstring).
    Returns the plan and, per ``impl:periods``, the child's result, or ``{"skipped": reason}``,
    or ``{"failed": error}``."""
    loads["scaling"] = load()
    results: dict[tuple[str, int], dict] = {}
    out: dict = {"nominal": list(nominal), "nominal_large": large, "results": {}}
    memory = available_memory_mib()
    memory = memory * MEMORY_SHARE if memory else None
    out["memory_mib"] = memory

    def done(impl: str) -> list[tuple[int, dict]]:
        return [(p, r) for (i, p), r in results.items() if i == impl and "runs" in r]

    def exponents(impl: str) -> tuple[float, float]:
        pts = done(impl)
        if len(pts) < 2:
            return PLAN_EXPONENT, 1.0
        x = [r["n_rows"] for _, r in pts]
        return (fit_exponent(x, [_median_seconds(r) for _, r in pts]),
                fit_exponent(x, [statistics.median(s["peak_rss_mb"] for s in r["runs"]) for _, r in pts]))

    def predict(impl: str, periods: int) -> tuple[float, float]:
        pts = done(impl) or done("ours")
        if not pts:
            return 0.0, 0.0
        base = max(pts, key=lambda x: x[0])[1]
        k, k_mem = exponents(impl if done(impl) else "ours")
        return predicted_seconds(base, periods, k), predicted_peak_mib(base, periods, k_mem)

    def child(impl: str, periods: int, later: list[tuple[str, int]], child_reps: int,
              deadline: float | None = None) -> None:
        reserve = sum(predict(i, p)[0] for i, p in later)
        deadline = max(min(end - reserve, deadline or end), time.time() + 1)
        with Part(f"scaling {impl} {periods} period(s)", errors):
            try:
                result, _ = run_child("scaling", "run", "--impl", impl, "--periods", str(periods), "--reps",
                                      str(child_reps), "--deadline", f"{deadline:.0f}", timeout=_timeout(end, 30))
            except BaseException as exc:
                results[(impl, periods)] = {"failed": str(exc).splitlines()[0][:300] if str(exc) else repr(exc)}
                raise
            results[(impl, periods)] = result
            progress(f"scaling {impl} {periods} period(s): "
                     + ", ".join(f"{r['seconds']:.1f} s / {r['peak_rss_mb']:.0f} MiB" for r in result["runs"]))

    base = nominal[0]
    first = time.time() + FIRST_SIZE_SHARE * (end - time.time())  # the plan needs the budget
    child("ours", base, [], reps, first)
    child("script", base, [], reps, first + FIRST_SIZE_SHARE / 2 * (end - first))
    if ("ours", base) not in results or "runs" not in results[("ours", base)]:
        out["plan"] = {"factor": None, "sizes": (base,), "large": None, "predicted_seconds": 0.0,
                       "why": "the first size failed: no other size is planned"}
        sizes, big = (base,), None
    else:
        script1 = results.get(("script", base))
        plan = plan_sizes(nominal, large, results[("ours", base)], script1 if script1 and "runs" in script1 else None,
                          end - time.time(), memory)
        out["plan"] = plan
        sizes, big = tuple(plan["sizes"]), plan["large"]
    progress(f"scaling plan: sizes {sizes}, larger size {big}, factor {out['plan']['factor']}")

    # Ours at every size first (the exponent needs them), then the script at the goal size (the
    # ratio where it matters most), then the larger size (ours, one run); one run of each is
    # reserved; then the script at the sizes in between if time remains.
    essential = [*(("ours", p) for p in sizes[1:])]
    if len(sizes) > 1:
        essential.append(("script", sizes[-1]))
    if big:
        essential.append(("ours", big))
    plan_runs = essential + [("script", p) for p in sizes[1:-1]]
    if not big and large and out["plan"].get("factor"):
        # Not planned: tried last, with the exponents then measured, if the time left allows a
        # size above the goal size.
        big = max(round(large * out["plan"]["factor"]), sizes[-1] + 1)
        plan_runs.append(("ours", big))
    for n, (impl, periods) in enumerate(plan_runs):
        seconds, peak = predict(impl, periods)
        if (impl, periods) == ("ours", big):
            # The larger size with the exponents measured so far: shrunk to what fits, else skipped.
            fit = periods
            while fit > sizes[-1] and (time.time() + LARGE_MARGIN * predict(impl, fit)[0] > end
                                       or (memory and predict(impl, fit)[1] > memory)):
                fit = max(sizes[-1], int(fit * 0.8))
            if fit <= sizes[-1]:
                results[(impl, periods)] = {"skipped": f"predicted {seconds:.0f} s and {peak:.0f} MiB: "
                                                       "beyond the budget or the memory left"}
                progress(f"scaling {impl} {periods} period(s): skipped ({results[(impl, periods)]['skipped']})")
                continue
            if fit != periods:
                out["large_shrunk"] = {"from": periods, "to": fit}
                big = periods = fit
            child(impl, periods, plan_runs[n + 1:len(essential)], 1)
            continue
        if time.time() + seconds > end or (memory and peak > memory):
            why = (f"predicted {seconds:.0f} s, {end - time.time():.0f} s of budget left"
                   if time.time() + seconds > end else f"predicted peak {peak:.0f} MiB > {memory:.0f} MiB available")
            results[(impl, periods)] = {"skipped": why}
            progress(f"scaling {impl} {periods} period(s): skipped ({why})")
            continue
        child(impl, periods, [x for x in plan_runs[n + 1:len(essential)]], reps)
    out["sizes"], out["large"] = list(sizes), big
    out["results"] = {f"{impl}:{p}": r for (impl, p), r in results.items()}
    return out


# ---------------------------------------------------------------------------------------------
# Figures


def pipeline_figures(m: dict) -> dict:
    """The figures of what was measured: ``full`` (the full runs), ``floor`` and ``remat``
    are set only when those parts have at least one run."""
    f: dict = {"full": bool(m.get("fulls")), "floor": None, "remat": bool(m.get("remats"))}
    if m.get("floor"):
        f["floor"] = Figure.of(m["floor"]["runs"])
        f["floor_result"] = m["floor"]
        families = m["floor"]["per_family"]
        if all(k in families for k in REFERENCE_FLOOR):
            f["speed"] = sum(statistics.median(families[k]) for k in REFERENCE_FLOOR) / sum(REFERENCE_FLOOR.values())
    if f["full"]:
        _full_figures(m, f)
    if f["remat"]:
        _remat_figures(m, f)
    return f


def _full_figures(m: dict, f: dict) -> None:
    fulls = m["fulls"]
    f |= {
        "wall": Figure.of(r["wall"] for r in fulls),
        "process_wall": Figure.of(r["process_wall"] for r in fulls),
        "imports": Figure.of(r["import_seconds"] for r in fulls),
        "peak_rss": Figure.of(r["peak_rss_mb"] for r in fulls),
        "rss_imports": Figure.of(r["rss_after_imports_mb"] for r in fulls),
        "compute": Figure.of(sum(s["seconds"] for s in r["steps"]) for r in fulls),
        "report_seconds": Figure.of(r["report_seconds"] for r in fulls),
        "report_mb": Figure.of(r["report_mb"] for r in fulls),
        "report_pages": fulls[0]["report_pages"],
        "n_steps": len(fulls[0]["steps"]),
        "n_assets": fulls[0]["n_assets"],
        "n_checks": sum(len(s["checks"]) for s in fulls[0]["steps"]),
        "n_events": fulls[0]["run"]["n_events"],
    }
    builds = [r.get("report_builds") for r in fulls]
    if all(builds):  # a run that built the report with and without the territory pages (not a failed one)
        f |= {
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
        }
    for phase in PHASES:
        f[phase] = Figure.of(sum(s[phase] for s in r["steps"]) for r in fulls)
    f["fixed"] = Figure.of(r["wall"] - sum(s["seconds"] for s in r["steps"]) for r in fulls)
    for part in ("before_first_step", "between_steps", "after_last_step", "event_writes_outside_steps",
                 "event_writes_total"):
        f[part] = Figure.of(r["run"][part] for r in fulls)
    gx = [g["seconds"] for g in m.get("gx", []) if g["seconds"] is not None]
    f["gx_import"] = Figure.of(gx) if gx else None
    f["gx_in_run"] = any(r["gx_imported_in_run"] for r in fulls)
    # When a check imported GX during the run, its import is framework cost, not compute.
    gx_cost = f["gx_import"].median if f["gx_in_run"] and f["gx_import"] else 0.0
    f["compute_net"] = f["compute"].median - gx_cost
    f["fixed_net"] = f["fixed"].median + gx_cost
    if f["floor"]:
        f["compute_over_floor"] = f["compute_net"] / f["floor"].median
        f["body_over_floor"] = f["body"].median / f["floor"].median
    by_label = defaultdict(list)
    for r in fulls:
        for s in r["steps"]:
            by_label[(s["label"], s["kind"])].append(s)
    f["steps"] = sorted(((label, kind, Figure.of(s["seconds"] for s in runs),
                          {p: statistics.median(s[p] for s in runs) for p in PHASES})
                         for (label, kind), runs in by_label.items()), key=lambda x: -x[2].median)


def _remat_figures(m: dict, f: dict) -> None:
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
    if f["full"]:
        f["remat_share"] = f["remat_wall"].median / f["wall"].median


def scaling_figures(s: dict) -> dict:
    """Per planned size (the measured ones, the skipped ones and the failed ones), and the
    fitted exponents over the measured sizes up to the goal size (the larger size is reported
    apart). ``s``: what :func:`measure_scaling` returns (any part of it may be missing)."""
    results = s.get("results", {})
    sizes = list(s.get("sizes") or sorted({int(k.split(":")[1]) for k in results}))
    large = s.get("large")
    if large is None and s.get("nominal_large") and f"ours:{s['nominal_large']}" in results:
        large = s["nominal_large"]
    out = {"sizes": [], "large": None, "k": {}, "k_mem": {}, "k_span": None, "plan": s.get("plan"),
           "nominal": s.get("nominal"),
           "nominal_large": s.get("nominal_large"), "large_shrunk": s.get("large_shrunk"),
           "memory_mib": s.get("memory_mib")}
    rows_per_period = None
    for key, r in results.items():
        if "runs" in r:
            rows_per_period = r["n_rows"] / r["periods"]
            out["n_communes"], out["n_indicators"] = r["n_communes"], r["n_indicators"]
    for periods in [*sizes, *([large] if large and large not in sizes else [])]:
        row = {"periods": periods, "n_rows": round(rows_per_period * periods) if rows_per_period else None,
               "measured_rows": False, "notes": {}}
        for impl in ("ours", "script"):
            r = results.get(f"{impl}:{periods}")
            if r is None:
                continue
            if "runs" not in r:
                row["notes"][impl] = (f"skipped: {r['skipped']}" if "skipped" in r
                                      else f"failed: {r.get('failed', 'no result')}")
                continue
            row["n_rows"], row["measured_rows"] = r["n_rows"], True
            row[impl] = {"seconds": Figure.of(x["seconds"] for x in r["runs"]),
                         "peak": Figure.of(x["peak_rss_mb"] for x in r["runs"]),
                         "before": Figure.of(x["rss_before_mb"] for x in r["runs"]),
                         "stages": {st: Figure.of(x[st] for x in r["runs"])
                                    for st in ("indicators", "disparities", "rankings")},
                         "generation": r["generation_seconds"]}
        if "ours" in row and "script" in row:
            row["ratio"] = row["ours"]["seconds"].median / row["script"]["seconds"].median
        if periods == large and periods not in sizes:
            script = [r for k, r in results.items() if k.startswith("script:") and "runs" in r]
            if "script" not in row and "script" not in row["notes"] and script:
                base = max(script, key=lambda r: r["periods"])
                row["notes"]["script"] = (
                    f"not run: the larger size is measured for ours only (the script at {base['periods']} periods "
                    f"× {periods / base['periods']:.0f} ≈ {predicted_peak_mib(base, periods) / 1024:.0f} GiB)")
            out["large"] = row
        else:
            out["sizes"].append(row)
    # The exponent over the goal sizes; when they were scaled down (small sizes, where fixed costs
    # weigh), over the larger size too.
    scaled = (s.get("plan") or {}).get("factor") not in (None, 1.0)
    fitted = out["sizes"] + ([out["large"]] if scaled and out["large"] and "ours" in out["large"] else [])
    measured = [r["periods"] for r in fitted if "ours" in r]
    out["k_span"] = (measured[0], measured[-1]) if measured else None
    for impl in ("ours", "script"):
        pts = [(r["n_rows"], r[impl]["seconds"].median, r[impl]["peak"].median) for r in fitted if impl in r]
        if len(pts) >= 2 and len({x[0] for x in pts}) >= 2:
            out["k"][impl] = fit_exponent([p[0] for p in pts], [p[1] for p in pts])
            out["k_mem"][impl] = fit_exponent([p[0] for p in pts], [p[2] for p in pts])
    return out


# ---------------------------------------------------------------------------------------------
# Report


def _runs(fig: Figure) -> str:
    return f"{len(fig.values)} run" + ("s" if len(fig.values) > 1 else "")


def _periods(n: int) -> str:
    return f"{n} period" + ("s" if n > 1 else "")


def _met(ok: bool) -> str:
    return "**met**" if ok else "**not met**"


def _goal_size_row(sc: dict) -> dict | None:
    """The largest size of the plan at which ours was measured (the goal size, or the size the
    budget allowed)."""
    rows = [r for r in sc["sizes"] if "ours" in r]
    return rows[-1] if rows else None


def _goals(p: dict, sc: dict, total: float) -> list[str]:
    L = ["## Goals", "", "| goal | measured | |", "|---|---|---|"]
    if p.get("full") and p.get("floor"):
        L.append(f"| pipeline compute ÷ floor ≤ {GOAL_COMPUTE_OVER_FLOOR:g}× | {p['compute_over_floor']:.1f}× "
                 f"({p['compute_net']:.1f} s ÷ {p['floor'].median:.2f} s) | "
                 f"{_met(p['compute_over_floor'] <= GOAL_COMPUTE_OVER_FLOOR)} |")
    else:
        L.append(f"| pipeline compute ÷ floor ≤ {GOAL_COMPUTE_OVER_FLOOR:g}× | no figure: "
                 f"{'the full materialisation' if not p.get('full') else 'the floor'} was not measured (see Errors) | |")
    if p.get("full"):
        L.append(f"| framework fixed cost (wall − compute) ≤ {GOAL_FIXED_COST_S:g} s | {p['fixed_net']:.1f} s | "
                 f"{_met(p['fixed_net'] <= GOAL_FIXED_COST_S)} |")
    if p.get("remat") and p.get("full"):
        L.append(f"| re-materialisation after one source changes ≤ {GOAL_REMATERIALISE_SHARE:.0%} of the full run "
                 f"| {p['remat_share']:.0%} ({p['remat_wall'].median:.1f} s ÷ {p['wall'].median:.1f} s, both in a new "
                 f"process, imports excluded) | {_met(p['remat_share'] <= GOAL_REMATERIALISE_SHARE)} |")
    else:
        L.append(f"| re-materialisation after one source changes ≤ {GOAL_REMATERIALISE_SHARE:.0%} of the full run | "
                 "no figure: not measured (see Errors) | |")
    g = _goal_size_row(sc)
    nominal_goal = max(sc["nominal"]) if sc.get("nominal") else SCALING_PERIODS[-1]
    if g is not None:
        scaled = (sc.get("plan") or {}).get("factor") not in (None, 1.0)
        at = f"{_periods(g['periods'])}, {g['n_rows'] / 1e6:.1f} M rows" + (
            "" if g["periods"] == nominal_goal else f"; scaled down from {nominal_goal} periods, see §4" if scaled
            else f"; the goal size of {nominal_goal} periods was not measured, see §4")
        o = g["ours"]
        extra = ""
        if g["periods"] != nominal_goal and "ours" in sc["k_mem"]:
            ref = sc["large"] if sc.get("large") and "ours" in sc["large"] else g
            peak = ref["ours"]["peak"].median * (nominal_goal / ref["periods"]) ** sc["k_mem"]["ours"]
            secs = ref["ours"]["seconds"].median * (nominal_goal / ref["periods"]) ** sc["k"]["ours"]
            extra = (f"; extrapolated to {nominal_goal} periods with the fitted exponents (not a measurement): "
                     f"≈ {peak / 1024:.1f} GiB, ≈ {secs:.0f} s")
        L.append(f"| commune level: peak resident memory ≤ {GOAL_COMMUNE_PEAK_MIB / 1024:g} GiB ({at}) | "
                 f"{o['peak'].median / 1024:.2f} GiB{extra} | {_met(o['peak'].median <= GOAL_COMMUNE_PEAK_MIB)} |")
        if "script" in g:
            L.append(f"| commune level: time ≤ the one-shot pandas script's ({at}) | {o['seconds'].median:.1f} s "
                     f"against {g['script']['seconds'].median:.1f} s ({g['ratio']:.2f}×) | {_met(g['ratio'] <= 1.0)} |")
        else:
            L.append(f"| commune level: time ≤ the one-shot pandas script's ({at}) | ours {o['seconds'].median:.1f} s; "
                     f"the script: {g['notes'].get('script', 'not run')} | |")
    else:
        L.append("| commune level: memory and time against the script | no figure: no size was measured "
                 "(see §4 and Errors) | |")
    if "ours" in sc["k"]:
        span = f"{sc['k_span'][0]} → {sc['k_span'][1]} periods"
        L.append(f"| growth exponent k ≤ {GOAL_EXPONENT:g} (commune level, {span}) | k = "
                 f"{sc['k']['ours']:.2f} | {_met(sc['k']['ours'] <= GOAL_EXPONENT)} |")
    else:
        L.append(f"| growth exponent k ≤ {GOAL_EXPONENT:g} | no figure: fewer than two sizes measured | |")
    big = sc.get("large")
    if big and "ours" in big:
        o = big["ours"]
        L.append(f"| a larger size completes ({big['periods']} periods, {big['n_rows'] / 1e6:.1f} M rows) | "
                 f"{o['seconds'].median:.1f} s, peak {o['peak'].median / 1024:.2f} GiB | **met** |")
    else:
        why = (big["notes"].get("ours") if big else None) or "not planned: it does not fit this machine (see §4)"
        L.append(f"| a larger size completes (nominal {sc.get('nominal_large') or LARGE_PERIODS} periods) | {why} | "
                 f"**not met** |")
    if "report_ratio" in p:
        L += [f"| static report with the territory pages ÷ the indicator pages only ≤ {GOAL_REPORT_RATIO:g}× (same "
              f"process, same published file) | {p['report_ratio'].median:.2f}× ({p['report_with'].median:.2f} s ÷ "
              f"{p['report_without'].median:.2f} s) | {_met(p['report_ratio'].median <= GOAL_REPORT_RATIO)} |",
              f"| static report size < {GOAL_REPORT_MB:g} MB | {p['report_mb'].median:.1f} MB | "
              f"{_met(p['report_mb'].median < GOAL_REPORT_MB)} |"]
    else:
        L.append("| static report: build ratio and size | no figure: the full materialisation did not complete | |")
    L += [f"| `make bench` < {GOAL_BENCH_S / 60:.0f} min | {total / 60:.1f} min | {_met(total < GOAL_BENCH_S)} |", ""]
    return L


def _full_section(p: dict) -> list[str]:
    L = ["## 1. Full materialisation of the snapshot", ""]
    if not p.get("full"):
        return L + ["Not measured: the full materialisation did not complete (see Errors).", ""]
    L += [f"`materialize_all` as `make run` calls it: {p['n_assets']} assets, {p['n_checks']} asset checks, "
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
          f"| static report: size on disk | {p['report_mb'].fmt('MB', 1)} |"]
    if "report_ratio" in p:  # the report built again with and without the territory pages
        L += [f"| static report built again after the run, same process and published file: with the territory pages "
              f"({p['report_pages']} pages) | {p['report_with'].fmt()} |",
              "| – of which " + " / ".join(p["report_parts"]) + " (medians) | "
              + " / ".join(f"{v.median:.2f}" for v in p["report_parts"].values()) + " s |",
              f"| the same, indicator pages and front page only ({p['report_pages_without']} pages, "
              f"{p['report_mb_without']:.1f} MB) | {p['report_without'].fmt()} |",
              f"| ratio with ÷ without the territory pages (per run: median of its two builds each) | "
              f"{p['report_ratio'].fmt('×', 2)} |",
              f"| the same again, incremental, no published row changed ({p['report_incremental_rebuilt']} page(s) "
              f"rendered, the others kept: data/report/manifest.json) | {p['report_incremental'].fmt()} |"]
    L += [f"| **compute**: Σ of the steps, STEP_START → STEP_SUCCESS | {p['compute'].fmt()} |"]
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
    return L + [""]


def _floor_section(p: dict) -> list[str]:
    L = ["## 2. The floor: DuckDB reading every snapshot file once", ""]
    if not p.get("floor"):
        return L + ["Not measured (see Errors).", ""]
    fl = p["floor_result"]
    L += [f"{fl['n_files']} files ({fl['bytes'] / 1e6:.1f} MB, {fl['rows']} rows once read) into an in-memory "
          f"DuckDB: CSV with `read_csv` (types detected), gzip JSON with `read_json` over all records, TopoJSON "
          f"as one document; the workbooks (XLS, XLSX, also zipped), which DuckDB does not read, every sheet with "
          f"python-calamine, the reader the pipeline uses. One process, imports excluded: **{p['floor'].fmt()}**."
          + (f" Measured first, it tells how fast this machine was, loaded as it was: it read "
             + " and ".join(f"`{k}`" for k in REFERENCE_FLOOR) + f" in {p['speed'] * sum(REFERENCE_FLOOR.values()):.2f} s, "
             f"**{p['speed']:.1f}×** the {sum(REFERENCE_FLOOR.values()):.2f} s of the machine the nominal synthetic "
             "sizes were chosen on." if p.get("speed") else ""), "",
          "| files | seconds |", "|---|---|"]
    for fam, vals in sorted(fl["per_family"].items(), key=lambda kv: -statistics.median(kv[1])):
        L.append(f"| `{fam}` | {Figure.of(vals).short(3)} |")
    L.append("")
    if p.get("full"):
        L += [f"- Pipeline compute ÷ floor: **{p['compute_over_floor']:.1f}×** "
              f"(goal ≤ {GOAL_COMPUTE_OVER_FLOOR:g}×)"
              + (", Great Expectations import moved to the fixed cost" if p["gx_in_run"] else "") + ".",
              f"- The asset and check bodies alone ÷ floor: {p['body_over_floor']:.1f}×.",
              f"- Framework fixed cost: **{p['fixed_net']:.1f} s** (goal ≤ {GOAL_FIXED_COST_S:g} s).", ""]
    return L


def _remat_section(p: dict) -> list[str]:
    L = ["## 3. Re-materialisation after one source changes", ""]
    if not p.get("remat"):
        return L + ["Not measured (see Errors).", ""]
    L += [f"On the instance and work database of a full run (upstream already materialised), "
          f"`{p['remat_file']}` of a copy of the snapshot is written again — **a benchmark change: the same "
          "bytes, a new modification time, no value altered or invented** — then only its asset and everything "
          f"downstream is materialised (`AssetSelection.keys(\"raw/insee_chomage_localise_departement\").downstream()`, "
          f"{len(p['remat_selected'])} assets with their {len(p['remat_selected_checks'])} asset checks, as the "
          "source's refresh job runs them), each run in a fresh process.", "",
          "| | median (min–max), runs |", "|---|---|",
          f"| wall time of the run in a new process, imports excluded | {p['remat_wall'].fmt()} |"]
    if p.get("full"):
        L.append(f"| share of the full run's wall time (imports excluded) | {p['remat_share']:.0%} |")
    L += [f"| imports and run, from the process's first line | {p['remat_process_wall'].fmt()} |",
          f"| Σ of the steps | {p['remat_compute'].fmt()} |"]
    L += [f"| – {PHASE_NAMES[ph]} | {p['remat_' + ph].fmt()} |" for ph in PHASES]
    L += [f"| outside the steps (run start, between steps, end) | {p['remat_fixed'].fmt()} |",
          f"| all event-log writes | {p['remat_events'].fmt()} |",
          f"| the same run again in the same process (no first-call costs) | {p['remat_second'].fmt()} |",
          f"| – of which bodies / IO load / IO store / event writes | "
          + " / ".join(f"{p['remat_second_' + ph].median:.2f}" for ph in ("body", "load", "store", "events"))
          + " s |", ""]
    L += [f"Only the selection ran: **{'yes' if p['remat_only_downstream'] else 'NO'}** — steps: "
          + ", ".join(f"`{k}` {f.median:.2f} s" for k, f in p["remat_by_step"]) + ".", ""]
    return L


def _size_line(r: dict) -> str:
    o, s_ = r.get("ours"), r.get("script")
    rows = (f"{r['n_rows']:,}" if r["measured_rows"] else f"≈ {r['n_rows']:,}") if r.get("n_rows") else "–"
    return (f"| {r['periods']} | {rows} | "
            + (f"{o['seconds'].short(1)}, {_runs(o['seconds'])} | {o['peak'].short(0)} | "
               f"{o['stages']['indicators'].median:.1f} | {o['stages']['disparities'].median:.1f} | "
               f"{o['stages']['rankings'].median:.1f} | " if o
               else f"{r['notes'].get('ours', 'not run')} | – | – | – | – | ")
            + (f"{s_['seconds'].short(1)}, {_runs(s_['seconds'])} | {s_['peak'].short(0)} | "
               if s_ else f"{r['notes'].get('script', 'not run')} | – | ")
            + (f"{r['ratio']:.2f}× |" if "ratio" in r else "– |"))


def _scaling_section(sc: dict, info: dict) -> list[str]:
    L = ["## 4. Scaling to the commune level (SYNTHETIC inputs)", ""]
    nominal = sc.get("nominal") or list(SCALING_PERIODS)
    plan = sc.get("plan") or {}
    from tests.bench.scaling import BENCH_DUCKDB_MEMORY  # lazy: pandas and the package only for the page

    sizes = [r["periods"] for r in sc["sizes"]]
    L.append(f"Real COG 2026 commune codes ({sc.get('n_communes', '–')} communes of the 101 départements) with "
             f"**synthetic** numerators and denominators (fixed seed, `source_id = synthetic_benchmark`) for the "
             f"{sc.get('n_indicators', 16)} indicators and " + ", ".join(map(str, sizes))
             + f" yearly period{'s' if sizes != [1] else ''}"
             + (f", and the larger size of {sc['large']['periods']} periods (ours, one run)" if sc.get("large") else "")
             + ". *Ours*: the pipeline's SQL path (barometre/sql.py) in one DuckDB database with the pipeline's "
             f"configuration and a memory limit of {BENCH_DUCKDB_MEMORY} (beyond it DuckDB spills to its temp "
             "directory): `sum_to_parents_query` (communes → départements → régions, France), `indicator_values`, "
             "`disparities` (population-weighted) and `rankings`, the results left in DuckDB as the SQL assets leave "
             "them. *Script*: the same numbers from a one-shot pandas script (tests/bench/scaling.py; a test "
             "checks both agree, and tests/unit/test_sql.py that the SQL equals its pandas specification). Each "
             "size in a fresh process; memory is the process's peak resident set during the run (VmHWM reset "
             "before each run; the inputs, in pandas, are included).")
    L.append("")
    # Which sizes, and why
    why = [f"Sizes: nominal {', '.join(map(str, nominal))} periods (the goal size is the largest) and "
           f"{sc.get('nominal_large') or LARGE_PERIODS} for the larger size."]
    if plan.get("why"):
        why.append(plan["why"] + ".")
    elif plan.get("factor") is not None:
        memory = f"{sc['memory_mib'] / 1024:.1f} GiB" if sc.get("memory_mib") else "no limit known"
        why.append(f"After the first size was measured, the plan was predicted from it (its time × "
                   f"(size ratio)^{PLAN_EXPONENT:g} + 15 %; its peak memory + its synthetic inputs grown with the size, "
                   f"+ 25 %, for ours, × the size ratio for the script): factor "
                   f"**{plan['factor']:g}** — the largest of {', '.join(f'{f:g}' for f in FACTORS)} whose runs "
                   f"fit the budget left and {MEMORY_SHARE:.0%} of the memory available at the start ({memory}) — "
                   f"giving sizes {', '.join(map(str, plan['sizes']))}"
                   + (f" and the larger size {plan['large']}" if plan.get("large")
                      else ", no larger size (tried at the end if time remained)") +
                   f", predicted {plan['predicted_seconds']:.0f} s."
                   + (" The nominal sizes were used." if plan["factor"] == 1.0 else
                      " The sizes were scaled down: the goals are measured at these sizes instead of the nominal ones."))
    if sc.get("large_shrunk"):
        why.append(f"The larger size was shrunk from {sc['large_shrunk']['from']} to {sc['large_shrunk']['to']} "
                   "periods when its turn came, from the exponents then measured.")
    why.append("A size that would not fit when its turn came is reported as skipped.")
    L += [" ".join(why), ""]
    rows = sc["sizes"] + ([sc["large"]] if sc.get("large") else [])
    if not rows:
        return L + ["No size was measured (see Errors).", ""]
    L += ["| periods | input rows | ours: seconds | ours: peak MiB | indicators | disparities | rankings | "
          "script: seconds | script: peak MiB | ours ÷ script |", "|---|---|---|---|---|---|---|---|---|---|"]
    L += [_size_line(r) for r in rows]
    L.append("")
    if "ours" in sc["k"]:
        g = _goal_size_row(sc)
        L.append(f"- Fitted growth exponent (cost ∝ rows^k, least squares on the medians, "
                 f"{sc['k_span'][0]} → {sc['k_span'][1]} periods"
                 + (", the larger size included since the sizes were scaled down" if sc["k_span"][1] != g["periods"]
                    else "") + "): time k = "
                 f"**{sc['k']['ours']:.2f}** for ours (goal ≤ {GOAL_EXPONENT:g})"
                 + (f", {sc['k']['script']:.2f} for the script" if "script" in sc["k"] else "")
                 + f"; peak memory k = {sc['k_mem']['ours']:.2f} for ours.")
        big = (sc["large"] if sc.get("large") and "ours" in sc["large"] else g)
        mem_total = info["memory_gib"] * 1024 if info.get("memory_gib") else None
        # Memory as a + b × rows (least squares on ours' sizes): the inputs, in pandas, grow linearly and
        # DuckDB's share is capped by its memory limit, so a power law fitted on a few sizes (an
        # exponent well below 1) would put the wall absurdly far.
        pts = [(r["n_rows"], r["ours"]["peak"].median) for r in rows if "ours" in r]
        if mem_total and len(pts) >= 2:
            mx = sum(x for x, _ in pts) / len(pts)
            my = sum(y for _, y in pts) / len(pts)
            b = sum((x - mx) * (y - my) for x, y in pts) / sum((x - mx) ** 2 for x, _ in pts)
            a = my - b * mx
            n_ref = big["n_rows"]
            per_period = n_ref / big["periods"]
            if b > 0:
                n_stop = (mem_total - a) / b
                t_stop = big["ours"]["seconds"].median * (n_stop / n_ref) ** sc["k"]["ours"]
                L.append(f"- Extrapolation (not a measurement), from the sizes measured: peak memory ≈ {a:.0f} MiB + "
                         f"{b * 1e6:.0f} MiB per million commune-level rows (linear: the inputs in pandas grow with "
                         f"the rows, DuckDB's share is capped by its memory limit), so this machine's "
                         f"{info['memory_gib']} GiB would be reached at about {n_stop / 1e6:.0f} million rows, "
                         f"≈ {n_stop / per_period:.0f} periods × {sc.get('n_indicators', 16)} indicators at the "
                         f"commune level, after about {t_stop / 60:.0f} min of compute (time ∝ rows^k).")
    return L + [""]


def report(p: dict | None, sc: dict | None, info: dict, loads: dict, total: float, reps: int, budget: float,
           errors: list | None = None) -> str:
    """The page: every part measured, a skipped or failed one said so, and the errors."""
    p = p or {}
    sc = sc or scaling_figures({})
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
          f"for each; a figure gets fewer when the {budget / 60:.1f}-minute budget of the benchmark would be "
          f"exceeded (the pipeline runs beyond the first within {PIPELINE_SHARE:.0%} of it; the count is shown).", ""]
    if errors:
        L += ["**Incomplete: some parts failed or were not run** (see Errors at the end); the figures below are "
              "what was measured.", ""]
    L += _goals(p, sc, total)
    L += _full_section(p)
    L += _floor_section(p)
    L += _remat_section(p)
    L += _scaling_section(sc, info)
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
          "with DuckDB's own readers into an in-memory database, the workbooks with python-calamine.",
          "- The scaling inputs are synthetic values on real commune codes; nothing of them is published or "
          "written to disk.", ""]
    if errors:
        L += ["## Errors", ""]
        for e in errors:
            L += [f"- **{e['part']}**:", "", "  ```", *("  " + line for line in e["error"].splitlines()), "  ```", ""]
    return "\n".join(L)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="benchmark of the barometer; writes docs/benchmarks.md")
    parser.add_argument("--reps", type=int, default=3, help="runs per figure (default 3)")
    parser.add_argument("--budget", type=float, default=540.0, help="seconds for the whole benchmark")
    parser.add_argument("--out", default=str(PROJECT_ROOT / "docs" / "benchmarks.md"))
    parser.add_argument("--periods", default=",".join(map(str, SCALING_PERIODS)),
                        help="nominal synthetic sizes in periods, the largest being the goal size "
                             "(default 1,5,10; smaller for a quick trial); scaled down when they do not fit")
    parser.add_argument("--large", type=int, default=LARGE_PERIODS,
                        help=f"the larger size in periods, ours once (default {LARGE_PERIODS}; 0: none)")
    args = parser.parse_args(argv)
    sizes = tuple(int(x) for x in args.periods.split(","))
    start = time.perf_counter()
    end = time.time() + args.budget - REPORT_RESERVE_S
    loads: dict = {}
    errors: list[dict] = []
    info = machine()
    progress(f"{info['cpu']}, {info['cores']} cores, {info['memory_gib']} GiB; budget {args.budget:.0f} s")
    m: dict = {"fulls": [], "gx": [], "remats": [], "floor": None}
    s: dict = {"nominal": list(sizes), "nominal_large": args.large or None}
    try:
        t0 = time.time() - (time.perf_counter() - start)
        m["floor"] = measure_floor(args.reps, end, loads, errors, t0 + args.budget * FLOOR_SHARE)
        with tempfile.TemporaryDirectory(prefix="barometre-bench-") as tmp:
            m.update(measure_pipeline(args.reps, Path(tmp), loads, errors, t0 + args.budget * PIPELINE_HARD_SHARE,
                                      t0 + args.budget * PIPELINE_SHARE))
        s = measure_scaling(args.reps, end, loads, errors, sizes, args.large or None)
    except BaseException as exc:  # interrupted, or a bug of the benchmark: the page says so
        errors.append({"part": "benchmark", "error": "".join(traceback.format_exception(exc))[-3000:]})
        if not isinstance(exc, Exception):
            progress(f"interrupted ({type(exc).__name__}): writing what was measured")
    loads["end"] = load()
    total = time.perf_counter() - start
    try:
        p = pipeline_figures(m)
    except Exception:
        errors.append({"part": "pipeline figures", "error": traceback.format_exc()[-3000:]})
        p = None
    try:
        sc = scaling_figures(s)
    except Exception:
        errors.append({"part": "scaling figures", "error": traceback.format_exc()[-3000:]})
        sc = None
    text = report(p, sc, info, loads, total, args.reps, args.budget, errors)
    Path(args.out).write_text(text + "\n")
    print(text)
    progress(f"wrote {args.out} in {total / 60:.1f} min" + (f"; {len(errors)} part(s) failed" if errors else ""))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
