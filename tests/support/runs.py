"""Every pipeline run of the test suite, counted.

A *full* materialisation selects every asset of the pipeline (``barometre.definitions.ALL_ASSETS``),
whether it then succeeds or stops at a failing step; a *partial* one selects some of them (a
source and its downstream, one asset…); a *toy* run selects none of them (the assets a test
defines itself). ``make test`` may run at most :data:`FULL_LIMIT` full materialisations: the
suite prints the count (``pytest_terminal_summary`` in tests/conftest.py) and fails when it is
over the limit.

Use these instead of calling Dagster directly::

    from tests.support import runs

    runs.materialize_all(work_db=..., published_db=...)            # every asset and check
    runs.materialize_all(selection=dg.AssetSelection..., **paths)  # a part of them
    runs.materialize([asset_a, asset_b], resources=..., **kwargs)  # dagster.materialize
    runs.execute(job_def, run_config=..., **kwargs)                # JobDefinition.execute_in_process
    runs.entry_point(env)                                          # `make run` in a subprocess

The count does not depend on the wrappers: :func:`install` (called once by tests/conftest.py)
wraps ``JobDefinition.execute_in_process``, which ``dagster.materialize`` and
``barometre.definitions.materialize_all`` end in, so a test that calls Dagster directly is
counted too. Only a pipeline run in a subprocess must go through :func:`entry_point` to be seen.
"""

import os
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

FULL_LIMIT = 6
PROJECT_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Run:
    kind: str  # "full", "partial" or "toy"
    test: str  # the test (or fixture's first user) that started it
    selected: int  # pipeline assets selected
    materialised: int | None  # assets materialised (None: a subprocess run, not observed)
    how: str  # "in-process" or "subprocess"


LEDGER: list[Run] = []


def _pipeline_keys() -> frozenset[dg.AssetKey]:
    from barometre.definitions import ALL_ASSETS

    return frozenset(key for a in ALL_ASSETS for key in a.keys)


_label: list[str] = []  # what a wrapper was told the run is for (else: the current test)


def _current_test() -> str:
    if _label:
        return _label[-1]
    return os.environ.get("PYTEST_CURRENT_TEST", "(outside a test)").rsplit(" ", 1)[0]


class _Labelled:
    def __init__(self, label: str | None):
        self.label = label

    def __enter__(self):
        if self.label:
            _label.append(self.label)

    def __exit__(self, *exc):
        if self.label:
            _label.pop()


def record(selected: Iterable[dg.AssetKey], materialised: int | None, how: str = "in-process") -> Run:
    """Count one run that selected the asset keys ``selected``."""
    pipeline = _pipeline_keys()
    chosen = set(selected) & pipeline
    kind = "full" if chosen == pipeline else "partial" if chosen else "toy"
    run = Run(kind, _current_test(), len(chosen), materialised, how)
    LEDGER.append(run)
    return run


def full_count() -> int:
    return sum(r.kind == "full" for r in LEDGER)


_original_execute = dg.JobDefinition.execute_in_process


def _counted_execute(self, *args, **kwargs):
    selection = kwargs.get("asset_selection")
    keys = set(selection) if selection else set(self.asset_layer.selected_asset_keys)
    result = _original_execute(self, *args, **kwargs)
    record(keys, len({e.asset_key for e in result.get_asset_materialization_events()}))
    return result


def install() -> None:
    """Count every in-process run from now on (idempotent)."""
    if dg.JobDefinition.execute_in_process is not _counted_execute:
        dg.JobDefinition.execute_in_process = _counted_execute


# ------------------------------------------------------------------------------------------------
# The wrappers tests call


# ``label`` names the run in the summary (default: the test running, e.g. the first user of a
# session fixture).

def materialize_all(*, log_level: str = "WARNING", selection: dg.AssetSelection | None = None,
                    label: str | None = None, **paths) -> dg.ExecuteInProcessResult:
    """``barometre.definitions.materialize_all``: every asset and check (or ``selection``), with
    the resources of ``build_resources(**paths)``; a failure does not raise (``result.success``)."""
    from barometre.definitions import materialize_all as run_all

    with _Labelled(label):
        return run_all(log_level=log_level, selection=selection, **paths)


def materialize(assets, *, label: str | None = None, **kwargs) -> dg.ExecuteInProcessResult:
    """``dagster.materialize(assets, **kwargs)``."""
    with _Labelled(label):
        return dg.materialize(assets, **kwargs)


def execute(job: dg.JobDefinition, *, label: str | None = None, **kwargs) -> dg.ExecuteInProcessResult:
    """``job.execute_in_process(**kwargs)``."""
    with _Labelled(label):
        return job.execute_in_process(**kwargs)


def entry_point(env: Mapping[str, str], *, label: str | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """``python -m barometre.definitions`` (what ``make run`` starts) in a subprocess with the
    environment ``env``, from the project's root: a full materialisation, counted here."""
    with _Labelled(label):
        try:
            return subprocess.run([sys.executable, "-m", "barometre.definitions"], cwd=PROJECT_ROOT, env=dict(env),
                                  capture_output=True, text=True, timeout=timeout)
        finally:
            record(_pipeline_keys(), None, how="subprocess")


# ------------------------------------------------------------------------------------------------
# What the suite prints


def summary_lines() -> list[str]:
    full = [r for r in LEDGER if r.kind == "full"]
    partial = [r for r in LEDGER if r.kind == "partial"]
    toy = [r for r in LEDGER if r.kind == "toy"]
    steps = sum(r.materialised or 0 for r in partial)
    lines = [f"full materialisations: {len(full)} (limit {FULL_LIMIT}); partial: {len(partial)} "
             f"({steps} assets materialised in all, of {len(_pipeline_keys())} in a full run); "
             f"runs of test-only assets: {len(toy)}"]
    for r in full:
        done = "not observed" if r.materialised is None else f"{r.materialised} assets materialised"
        lines.append(f"  full ({r.how}, {done}): {r.test}")
    return lines
