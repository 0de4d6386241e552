"""The counter of pipeline runs (tests/support/runs.py): what counts as a full materialisation."""

import dagster as dg

from barometre.definitions import ALL_ASSETS
from tests.support import runs

KEYS = [key for a in ALL_ASSETS for key in a.keys]


def test_full_partial_and_toy_runs_are_told_apart(monkeypatch):
    monkeypatch.setattr(runs, "LEDGER", [])
    runs.record(KEYS, len(KEYS))                            # every asset selected, whatever it then did
    runs.record(KEYS, 1)
    runs.record(KEYS[:3], 3)                                # a part of the pipeline
    runs.record([dg.AssetKey("counts")], 1)                 # assets a test defines itself
    assert [r.kind for r in runs.LEDGER] == ["full", "full", "partial", "toy"]
    assert runs.full_count() == 2
    assert runs.LEDGER[2].selected == 3
    assert runs.summary_lines()[0] == ("full materialisations: 2 (limit 6); partial: 1 (3 assets materialised in "
                                       f"all, of {len(KEYS)} in a full run); runs of test-only assets: 1")


def test_a_direct_dagster_run_is_counted(monkeypatch, tmp_path):
    """dagster.materialize ends in JobDefinition.execute_in_process, which runs.install() wraps."""
    monkeypatch.setattr(runs, "LEDGER", [])

    @dg.asset
    def one() -> int:
        return 1

    assert dg.materialize([one], resources={"io_manager": dg.FilesystemIOManager(base_dir=str(tmp_path))}).success
    [run] = runs.LEDGER
    assert (run.kind, run.selected, run.materialised, run.how) == ("toy", 0, 1, "in-process")
    assert run.test.endswith("test_runs.py::test_a_direct_dagster_run_is_counted")
