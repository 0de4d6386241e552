"""A read-only connection to the published database of the session's single full run
(``snapshot_build`` in tests/conftest.py), shared by the integration test modules."""

import duckdb
import pytest


@pytest.fixture(scope="session")
def published(snapshot_build):
    """A read-only connection to the published database of a full run, and the run's result."""
    paths, result = snapshot_build
    con = duckdb.connect(str(paths["published_db"]), read_only=True)
    yield con, result
    con.close()
