"""Shared fixtures: the bundled snapshot, the catalogue, a local HTTP server, the session's full
run. Every database goes to tmp_path. Every pipeline run is counted (tests/support/runs.py): the
count is printed at the end, and the session fails above ``runs.FULL_LIMIT`` full
materialisations."""

from pathlib import Path

import pytest

from barometre.catalogue import load_catalogue
from barometre.landing import DEFAULT_SNAPSHOT_DIR, SnapshotStore
from tests.support import runs

SNAPSHOT = Path(DEFAULT_SNAPSHOT_DIR)


def pytest_configure(config):
    runs.install()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    terminalreporter.section("pipeline runs (tests/support/runs.py)")
    for line in runs.summary_lines():
        terminalreporter.write_line(line)
    if runs.full_count() > runs.FULL_LIMIT:
        terminalreporter.write_line(f"FAILED: {runs.full_count()} full materialisations, more than the limit of "
                                    f"{runs.FULL_LIMIT}: share the session's run (snapshot_build) or select fewer "
                                    "assets", red=True)


def pytest_sessionfinish(session, exitstatus):
    if runs.full_count() > runs.FULL_LIMIT and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def store() -> SnapshotStore:
    return SnapshotStore(SNAPSHOT)


@pytest.fixture(scope="session")
def catalogue():
    return load_catalogue()


@pytest.fixture
def http_server(tmp_path):
    """A real HTTP server on 127.0.0.1 serving ``tmp_path / "www"`` (and what tests ``put``),
    with ETag / Last-Modified / 304 and scripted faults (tests/support/http_server.py)."""
    from tests.support.http_server import FixtureServer

    root = tmp_path / "www"
    root.mkdir()
    with FixtureServer(root) as server:
        yield server


@pytest.fixture(scope="session")
def snapshot_build(tmp_path_factory):
    """Every asset materialised once on the bundled snapshot (work and published databases in a
    temp dir), shared by the integration tests: ``(paths, result)``."""
    tmp = tmp_path_factory.mktemp("barometre")
    paths = dict(work_db=tmp / "work.duckdb", published_db=tmp / "barometre.duckdb")
    result = runs.materialize_all(label="snapshot_build (session fixture, tests/conftest.py)", **paths)
    assert result.success
    return paths, result
