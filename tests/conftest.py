"""Shared fixtures: the bundled snapshot and the catalogue. Every database goes to tmp_path."""

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
