"""The hierarchy of territories built from the snapshot's COG files, for unit tests."""

import functools

import pandas as pd

from barometre import geography
from barometre.landing import SnapshotStore
from barometre.sources import cog


@functools.cache
def cog_tables(vintages: tuple[int, ...] = (2026,)) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(communes, EPCI members, départements) of the snapshot's COG releases ``vintages``."""
    store = SnapshotStore()

    def read(name, parse):
        return pd.concat([parse(store.read(cog.path(v, name)), v) for v in vintages], ignore_index=True)

    return (read("communes", cog.parse_communes), read("epci", cog.parse_epci_members),
            read("departements", cog.parse_departements))


@functools.cache
def snapshot_hierarchy(vintages: tuple[int, ...] = (2026,)) -> pd.DataFrame:
    """``core.hierarchie_territoires`` of the COG releases ``vintages`` (what the asset builds)."""
    return geography.hierarchy(*cog_tables(vintages))
