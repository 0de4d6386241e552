"""The source registry: every raw table, the source it comes from, its files, its parse and its
declaration, declared once by the source module that reads it.

A source module of :mod:`barometre.sources` declares ``PARSES``: a tuple of :class:`SourceParse`.
Each parse reads the files of one source through the store (snapshot or live) and returns one or
several raw tables (one per sheet or per level of a workbook, for instance), each a
:class:`RawTable` with its declaration (:class:`~barometre.sources._schema.RawSchema`). Everything
else reads this registry: the ingest assets (``assets/ingest.py``, one Dagster ``multi_asset`` per
parse, one output per table), the Great Expectations suites (``validation.raw_schemas``), the file
manifest (``raw/fichiers_sources``) and so ``mart.sources``. The catalogue keeps what describes a
source (producer, licence, live endpoints), not its files.

Names: a raw table is ``<source id>_<table>``, the table named by its content then its level, the
level not repeated when the source id already ends with it (``insee_filosofi_departement``,
``etalab_decoupage_administratif_communes``). :func:`check_registry` refuses a registry that breaks
it, or that disagrees with the catalogue.

Modules whose name starts with ``_`` (readers, declarations) and modules without ``PARSES`` are not
sources. Nothing here imports Dagster.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from barometre.sources._schema import RawSchema


class RegistryError(ValueError):
    """The source registry is inconsistent (with itself or with the catalogue)."""


@dataclass(frozen=True)
class RawTable:
    """One raw table: asset ``raw/<name>``, its declaration and the grain shown in the UI."""

    name: str
    schema: RawSchema
    description: str

    @property
    def key(self) -> str:
        return f"raw/{self.name}"


# A parse reads through the store (``store.read``, ``store.glob``, ``store.parse`` for files whose live
# format differs, :class:`barometre.landing.SourceStore`) and returns {table name: frame}.
ParseFunction = Callable[[Any, Any], Mapping[str, pd.DataFrame]]


@dataclass(frozen=True)
class SourceParse:
    """One parse of a source's files into one or several raw tables.

    ``files`` are the snapshot paths or glob patterns it reads (the only place they are written);
    ``recorded_files`` are files of the source that no parse reads but that ship with it and are
    recorded in the manifest (e.g. the CGET's département mesh, read by the report).
    """

    source_id: str
    files: tuple[str, ...]
    parse: ParseFunction
    tables: tuple[RawTable, ...]
    recorded_files: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The parse's name (its Dagster op): its first table's."""
        return self.tables[0].name

    def run(self, store, catalogue) -> dict[str, pd.DataFrame]:
        """The parse's tables, exactly those declared (an error names what is missing or extra)."""
        frames = dict(self.parse(store, catalogue))
        declared = [t.name for t in self.tables]
        if sorted(frames) != sorted(declared):
            raise RegistryError(f"parse {self.name} of source {self.source_id} returned tables {sorted(frames)}, "
                                f"declared {declared}")
        return frames


def single_table(source_id: str, name: str, file: str, parser: Callable[[bytes, str], pd.DataFrame],
                 schema: RawSchema, description: str) -> SourceParse:
    """A parse of one file into one table with ``parser(raw, path)`` (the live file's own parser when
    the catalogue declares one: ``store.parse``)."""
    return SourceParse(source_id=source_id, files=(file,),
                       parse=lambda store, catalogue: {name: store.parse(file, parser)},
                       tables=(RawTable(name, schema, description),))


@functools.cache
def parses() -> tuple[SourceParse, ...]:
    """Every parse declared by the source modules (``PARSES``), in module order."""
    import barometre.sources as package

    out: list[SourceParse] = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name.startswith("_") or info.name == "registry":
            continue
        module = importlib.import_module(f"barometre.sources.{info.name}")
        out.extend(getattr(module, "PARSES", ()))
    return tuple(out)


def raw_tables() -> dict[str, RawTable]:
    """Every raw table of the registry, by name."""
    return {t.name: t for p in parses() for t in p.tables}


def source_of(table: str) -> str:
    """The source id of a raw table."""
    for p in parses():
        if any(t.name == table for t in p.tables):
            return p.source_id
    raise KeyError(f"unknown raw table {table!r}")


def source_files(catalogue) -> dict[str, tuple[str, ...]]:
    """The files (paths or glob patterns) of every catalogue source, in catalogue order: those its
    parses read, then those recorded only. Raises :class:`RegistryError` when the registry and the
    catalogue disagree."""
    check_registry(catalogue)
    out: dict[str, tuple[str, ...]] = {}
    for src in catalogue.sources:
        files: list[str] = []
        for p in parses():
            if p.source_id == src.id:
                files += [f for f in (*p.files, *p.recorded_files) if f not in files]
        out[src.id] = tuple(files)
    return out


def check_registry(catalogue, parse_list: tuple[SourceParse, ...] | None = None) -> None:
    """Table names distinct, each ``<source id>`` or ``<source id>_<table>`` and equal to its
    declaration's ``table``; every parse's source in the catalogue; every catalogue source read by
    at least one parse."""
    parse_list = parses() if parse_list is None else parse_list
    catalogue_ids = [s.id for s in catalogue.sources]
    names: list[str] = []
    for p in parse_list:
        if p.source_id not in catalogue_ids:
            raise RegistryError(f"parse {p.name}: source {p.source_id!r} is not in the catalogue ({catalogue_ids})")
        if not p.files or not p.tables:
            raise RegistryError(f"parse {p.name} of source {p.source_id}: declares no file or no table")
        for t in p.tables:
            if t.name != p.source_id and not t.name.startswith(f"{p.source_id}_"):
                raise RegistryError(f"raw table {t.name!r}: its name must start with its source id {p.source_id!r} "
                                    f"(<source id>_<table>)")
            if t.schema.table != t.name:
                raise RegistryError(f"raw table {t.name!r}: its declaration names table {t.schema.table!r}")
            names.append(t.name)
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise RegistryError(f"raw tables declared twice: {dup}")
    unread = [s for s in catalogue_ids if s not in {p.source_id for p in parse_list}]
    if unread:
        raise RegistryError(f"catalogue source(s) {unread} have no parse in barometre/sources (declare PARSES)")
