"""Measurement helpers of the benchmark: figures, growth exponent, memory, machine, children.

No Dagster here (the scaling children import only pandas); tested in tests/unit/test_bench.py.
"""

from __future__ import annotations

import json
import math
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Figure:
    """A measured quantity over repeated runs: median, min and max."""

    values: tuple[float, ...]

    @classmethod
    def of(cls, values) -> Figure:
        values = tuple(float(v) for v in values)
        if not values:
            raise ValueError("a figure needs at least one run")
        return cls(values)

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def min(self) -> float:
        return min(self.values)

    @property
    def max(self) -> float:
        return max(self.values)

    def fmt(self, unit: str = "s", digits: int = 2) -> str:
        """``12.34 s (min 11.90, max 13.01, 3 runs)``."""
        runs = f"{len(self.values)} run" + ("s" if len(self.values) > 1 else "")
        return f"{self.median:.{digits}f} {unit} (min {self.min:.{digits}f}, max {self.max:.{digits}f}, {runs})"

    def short(self, digits: int = 2) -> str:
        """``12.34 (11.90–13.01)``, for tables."""
        return f"{self.median:.{digits}f} ({self.min:.{digits}f}–{self.max:.{digits}f})"


def fit_exponent(sizes, costs) -> float:
    """k of cost ∝ size^k: the least-squares slope of log(cost) on log(size)."""
    if len(sizes) != len(costs) or len(sizes) < 2:
        raise ValueError("need at least two (size, cost) points")
    if min(sizes) <= 0 or min(costs) <= 0:
        raise ValueError("sizes and costs must be positive to fit a power law")
    x = [math.log(s) for s in sizes]
    y = [math.log(c) for c in costs]
    mx, my = statistics.fmean(x), statistics.fmean(y)
    sxx = sum((a - mx) ** 2 for a in x)
    if sxx == 0:
        raise ValueError("sizes must not all be equal")
    return sum((a - mx) * (b - my) for a, b in zip(x, y)) / sxx


def size_at(cost: float, size_ref: float, cost_ref: float, k: float) -> float:
    """The size at which cost ∝ size^k, through (size_ref, cost_ref), reaches ``cost``
    (an extrapolation)."""
    return size_ref * (cost / cost_ref) ** (1.0 / k)


# ---------------------------------------------------------------------------------------------
# Memory (Linux: /proc/self/status; elsewhere ru_maxrss, which cannot be reset)

_STATUS = Path("/proc/self/status")


def _status_kb(field: str) -> float | None:
    try:
        match = re.search(rf"^{field}:\s+(\d+) kB", _STATUS.read_text(), re.M)
    except OSError:
        return None
    return float(match.group(1)) if match else None


def rss_mb() -> float:
    """Resident memory of this process now, MiB."""
    kb = _status_kb("VmRSS")
    return (kb if kb is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024


def peak_rss_mb() -> float:
    """Peak resident memory of this process since start or since :func:`reset_peak_rss`, MiB
    (Linux VmHWM; ru_maxrss elsewhere)."""
    kb = _status_kb("VmHWM")
    return (kb if kb is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024


def reset_peak_rss() -> bool:
    """Reset the peak (Linux: write 5 to /proc/self/clear_refs). False when not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


# ---------------------------------------------------------------------------------------------
# Machine and load


def machine() -> dict:
    """Where the figures were measured."""
    cpu = platform.processor() or platform.machine()
    try:
        model = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        cpu = model.group(1).strip() if model else cpu
    except OSError:
        pass
    mem = None
    try:
        kb = re.search(r"^MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text(), re.M)
        mem = round(int(kb.group(1)) / 1024 ** 2, 1) if kb else None
    except OSError:
        pass
    versions = {}
    for dist in ("dagster", "dagster-duckdb", "pandas", "numpy", "duckdb", "scipy", "great-expectations"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": mem, "os": platform.platform(),
            "python": platform.python_version(), "versions": versions}


def load() -> tuple[float, float, float]:
    """1, 5 and 15 minute load averages (other processes compete for the cores)."""
    return os.getloadavg()


# ---------------------------------------------------------------------------------------------
# Children: each measured run starts in a fresh interpreter, so imports, memory peaks and caches
# of one run do not leak into the next.


def write_result(path: str, result: dict) -> None:
    Path(path).write_text(json.dumps(result))


def run_child(module: str, *args: str, timeout: float = 600) -> tuple[dict, float]:
    """Run ``python -m tests.bench.<module> <args> --out <file>`` from the project root; return
    the JSON it wrote and the wall time of the whole process (interpreter start to exit)."""
    with tempfile.TemporaryDirectory(prefix="barometre-bench-") as tmp:
        out = Path(tmp) / "result.json"
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", f"tests.bench.{module}", *args, "--out", str(out)],
                              cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=timeout)
        wall = time.perf_counter() - start
        if proc.returncode != 0 or not out.exists():
            raise RuntimeError(f"benchmark child {module} {' '.join(args)} failed (exit {proc.returncode}):\n"
                               f"{proc.stderr[-4000:]}")
        return json.loads(out.read_text()), wall


def available_memory_mib() -> float | None:
    """Memory the system can give without swapping now (Linux MemAvailable), MiB; None elsewhere."""
    try:
        kb = re.search(r"^MemAvailable:\s+(\d+) kB", Path("/proc/meminfo").read_text(), re.M)
    except OSError:
        return None
    return int(kb.group(1)) / 1024 if kb else None
