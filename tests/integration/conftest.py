"""One materialisation of every asset on the bundled snapshot, shared by the integration test
modules of the session (the run takes most of the suite's time)."""

import duckdb
import pytest


@pytest.fixture(scope="session")
def published(tmp_path_factory):
    """A read-only connection to the published database of a full run, and the run's result."""
    from barometre.definitions import materialize_all

    tmp = tmp_path_factory.mktemp("barometre")
    paths = dict(work_db=tmp / "work.duckdb", published_db=tmp / "barometre.duckdb")
    result = materialize_all(**paths)
    assert result.success
    con = duckdb.connect(str(paths["published_db"]), read_only=True)
    yield con, result
    con.close()
