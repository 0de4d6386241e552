"""What the end-to-end bad-input tests share (tests/integration/test_trust.py,
tests/integration/test_bad_input_contract.py): a copy of the snapshot with some of its files
broken, copies of the session baseline's databases, and what a run on them did — what it
materialised, the innermost error of a refused parser, a check's evaluation, the run report, and
whether the published file is still byte for byte what it was."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from assets import checks
from barometre.landing import DEFAULT_SNAPSHOT_DIR

SNAPSHOT = Path(DEFAULT_SNAPSHOT_DIR)


def digest(path: Path) -> tuple[str, int]:
    """The file's SHA-256 and modification time: equal means untouched."""
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


def published_untouched(published: Path, before: tuple[str, int]) -> bool:
    """``published`` has the digest ``before`` and no staging file is left beside it."""
    staging = [p for p in published.parent.iterdir() if ".staging-" in p.name]
    return digest(published) == before and not staging


def snapshot_copy(folder: Path, copied: Iterable[str]) -> Path:
    """``folder`` made a snapshot to break: its top-level folders ``copied`` copied (their files may
    be changed), every other entry linked to the bundled snapshot."""
    folder.mkdir(parents=True)
    copied = set(copied)
    for entry in SNAPSHOT.iterdir():
        if entry.name in copied:
            shutil.copytree(entry, folder / entry.name)
        else:
            os.symlink(entry, folder / entry.name)
    return folder


def baseline_copies(baseline, folder: Path) -> tuple[Path, Path]:
    """Copies of the baseline's working database and published file in ``folder`` (the published
    one with its modification time, which :func:`digest` compares)."""
    work, published = folder / "work.duckdb", folder / "published" / "barometre.duckdb"
    published.parent.mkdir(parents=True)
    shutil.copy(baseline.work_db, work)
    shutil.copy2(baseline.published_db, published)
    return work, published


def planned(selection: dg.AssetSelection, assets: Iterable) -> list[dg.AssetKey]:
    """The asset keys ``selection`` resolves to, sorted."""
    return sorted(selection.resolve(assets), key=lambda k: k.to_user_string())


@dataclass
class FaultRun:
    """A run on broken files: its result, the published file and its digest before the run, the
    assets the run was to materialise, and the working database it wrote."""

    result: dg.ExecuteInProcessResult
    published: Path
    before: tuple[str, int]
    planned: list[dg.AssetKey]
    work: Path | None = None

    @property
    def materialised(self) -> set[str]:
        return {e.asset_key.to_user_string() for e in self.result.get_asset_materialization_events()}

    def published_untouched(self) -> bool:
        return published_untouched(self.published, self.before)

    def parser_error(self, asset: str) -> str:
        """The innermost error of the failed ingest step of ``raw/<asset>``: a SourceFormatError,
        never a bare Python or pandas error."""
        [event] = [e for e in self.result.get_step_failure_events() if e.step_key == f"raw__{asset}"]
        error = event.step_failure_data.error
        while error.cause is not None:
            error = error.cause
        assert error.cls_name == "SourceFormatError"
        return error.message.strip().removeprefix("barometre.sources._csv.SourceFormatError: ")

    def check(self, asset: str, name: str = "gx_suite") -> dg.AssetCheckEvaluation:
        """The evaluation of check ``name`` of ``asset`` (an asset key, ``raw/<table>``)."""
        [ev] = [e for e in self.result.get_asset_check_evaluations()
                if e.asset_key.to_user_string() == asset and e.check_name == name]
        return ev

    def report(self) -> str:
        return checks.run_report(self.result, self.planned)
