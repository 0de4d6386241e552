"""Resources: where the source files are read from and where the barometer is published.

Paths default to the project's ``data/`` folder and can be overridden with the environment
variables ``BAROMETRE_SNAPSHOT_DIR``, ``BAROMETRE_WORK_DB`` and ``BAROMETRE_DB`` (see
``.env.example``); tests pass their own paths to :func:`barometre.definitions.build_defs`.
"""

import dagster as dg

from barometre.landing import SnapshotStore

class SourceFiles(dg.ConfigurableResource):
    """Reads the bundled snapshot of every source (``data/snapshot/``)."""

    snapshot_dir: str

    def store(self) -> SnapshotStore:
        return SnapshotStore(self.snapshot_dir)

class PublishedWarehouse(dg.ConfigurableResource):
    """The DuckDB file dashboards read, replaced atomically at each publication."""

    path: str
