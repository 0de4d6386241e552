"""The baseline publication shared by the integration tests: every asset and every check
materialised once per session on the bundled snapshot, into a temporary directory. Tests that
need a database to change copy it first."""

from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest


@dataclass(frozen=True)
class Baseline:
    work_db: Path
    published_db: Path
    result: dg.ExecuteInProcessResult


@pytest.fixture(scope="session")
def baseline(tmp_path_factory) -> Baseline:
    from barometre.definitions import materialize_all

    tmp = tmp_path_factory.mktemp("baseline")
    paths = dict(work_db=tmp / "work.duckdb", published_db=tmp / "barometre.duckdb")
    result = materialize_all(log_level="WARNING", **paths)
    assert result.success
    return Baseline(result=result, **paths)
