"""The session's single full run (``snapshot_build`` in tests/conftest.py: every asset and every
check on the bundled snapshot, in a temporary directory), shared by the integration test
modules: as a read-only connection (``published``) or as paths (``baseline``). Tests that need a
database to change copy it first."""

from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from barometre.duckdb_config import duckdb_config


@dataclass(frozen=True)
class Baseline:
    work_db: Path
    published_db: Path
    result: dg.ExecuteInProcessResult


@pytest.fixture(scope="session")
def baseline(snapshot_build) -> Baseline:
    paths, result = snapshot_build
    return Baseline(result=result, work_db=paths["work_db"], published_db=paths["published_db"])


@pytest.fixture(scope="session")
def published(snapshot_build):
    """A read-only connection to the published database of a full run, and the run's result."""
    paths, result = snapshot_build
    con = duckdb.connect(str(paths["published_db"]), read_only=True, config=duckdb_config())
    yield con, result
    con.close()


@pytest.fixture(scope="session")
def report(snapshot_build) -> Path:
    """The report folder the full run wrote: report/ beside the published file (its default)."""
    paths, _ = snapshot_build
    return Path(paths["published_db"]).parent / "report"
