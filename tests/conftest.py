"""Shared fixtures: the bundled snapshot, the catalogue, a local HTTP server. Every database goes
to tmp_path."""

from pathlib import Path

import pytest

from barometre.catalogue import load_catalogue
from barometre.landing import DEFAULT_SNAPSHOT_DIR, SnapshotStore

SNAPSHOT = Path(DEFAULT_SNAPSHOT_DIR)


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
    from barometre.definitions import materialize_all

    tmp = tmp_path_factory.mktemp("barometre")
    paths = dict(work_db=tmp / "work.duckdb", published_db=tmp / "barometre.duckdb")
    result = materialize_all(**paths)
    assert result.success
    return paths, result
