"""Load and validate the indicator catalogue (``catalogue.yaml``) into frozen objects.

The catalogue is data: the six dimensions, the sixteen indicators and the sources they are
built from. Everything that describes an indicator (name, unit, polarity, expected levels and
periods, definition) is read from the YAML file, never written in Python. This module only
parses it and refuses an inconsistent file with a message naming the entry at fault.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from barometre import units
from barometre.geography import LEVEL_IDS
from barometre.periods import expand_period_spec

CATALOGUE_PATH = Path(__file__).with_name("catalogue.yaml")

DIMENSION_IDS = (
    "qualite_de_vie",
    "solidarite",
    "transition",
    "empowerment",
    "capital_social",
    "cooperation",
)
LEVELS = LEVEL_IDS  # the level registry of barometre.geography
UNITS = units.UNITS  # declared in barometre/units.py
POLARITIES = ("+", "-", "0")
FRANCE_CODES = ("FR", "FRM", "FRMD")


class CatalogueError(ValueError):
    """The catalogue file is inconsistent."""


@dataclass(frozen=True)
class Dimension:
    id: str
    name: str
    description: str
    position: int


@dataclass(frozen=True)
class Indicator:
    id: str
    name: str
    dimension: str
    unit: str
    polarity: str
    definition: str
    sources: tuple[str, ...]
    periods: dict[str, tuple[str, ...]]
    plausible: tuple[float, float]
    cget_id: str | None = None
    cget_france_code: str | None = None
    # Scale and shape (barometre/validation/raw.py): per level, the typical range of a file's
    # median of |value| per period; the largest factor between two consecutive periods of a
    # territory (None: not checked).
    typical_median: dict[str, tuple[float, float]] = field(default_factory=dict)
    max_jump: float | None = None

    @property
    def levels(self) -> tuple[str, ...]:
        return tuple(self.periods)


@dataclass(frozen=True)
class Source:
    id: str
    producer: str
    title: str
    url: str
    publisher_url: str | None
    repository: str
    licence: str
    cadence: str
    notes: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Catalogue:
    dimensions: tuple[Dimension, ...]
    indicators: tuple[Indicator, ...]
    sources: tuple[Source, ...]
    snapshot_retrieved_at: str = ""
    # level → source ids of its population weights, in order of preference (``weights`` block)
    weights: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def indicator(self, indicator_id: str) -> Indicator:
        for ind in self.indicators:
            if ind.id == indicator_id:
                return ind
        raise KeyError(f"unknown indicator {indicator_id!r}")

    def source(self, source_id: str) -> Source:
        for src in self.sources:
            if src.id == source_id:
                return src
        raise KeyError(f"unknown source {source_id!r}")

    def dimension(self, dimension_id: str) -> Dimension:
        for dim in self.dimensions:
            if dim.id == dimension_id:
                return dim
        raise KeyError(f"unknown dimension {dimension_id!r}")

    def indicators_of(self, dimension_id: str) -> tuple[Indicator, ...]:
        return tuple(i for i in self.indicators if i.dimension == dimension_id)


_SOURCE_KEYS = {"id", "producer", "title", "url", "publisher_url", "repository", "licence", "cadence", "notes"}


def _require(entry: dict, keys: tuple[str, ...], where: str) -> None:
    missing = [k for k in keys if entry.get(k) in (None, "", [])]
    if missing:
        raise CatalogueError(f"{where}: missing {', '.join(missing)}")


def parse_catalogue(doc: dict) -> Catalogue:
    """Build a validated :class:`Catalogue` from the parsed YAML document."""
    dims = []
    for pos, d in enumerate(doc.get("dimensions") or [], start=1):
        _require(d, ("id", "name", "description"), f"dimension #{pos}")
        dims.append(Dimension(d["id"], d["name"], d["description"].strip(), pos))
    if tuple(d.id for d in dims) != DIMENSION_IDS:
        raise CatalogueError(f"dimensions must be {DIMENSION_IDS}, got {tuple(d.id for d in dims)}")

    sources = []
    for s in doc.get("sources") or []:
        _require(s, ("id", "producer", "title", "url", "licence"), f"source {s.get('id')!r}")
        if "files" in s:
            raise CatalogueError(f"source {s.get('id')!r}: files are declared by the source module "
                                 f"(PARSES in barometre/sources/), not in the catalogue")
        sources.append(
            Source(
                id=s["id"],
                producer=s["producer"],
                title=s["title"],
                url=s["url"],
                publisher_url=s.get("publisher_url"),
                repository=s.get("repository", ""),
                licence=" ".join(str(s["licence"]).split()),
                cadence=str(s.get("cadence", "")),
                notes=" ".join(s["notes"].split()) if s.get("notes") else None,
                extra={k: v for k, v in s.items() if k not in _SOURCE_KEYS},
            )
        )
    source_ids = [s.id for s in sources]
    if len(set(source_ids)) != len(source_ids):
        raise CatalogueError(f"duplicate source ids in {source_ids}")

    indicators = []
    for i in doc.get("indicators") or []:
        where = f"indicator {i.get('id')!r}"
        _require(i, ("id", "name", "dimension", "unit", "polarity", "definition", "sources", "periods"), where)
        if i["dimension"] not in DIMENSION_IDS:
            raise CatalogueError(f"{where}: unknown dimension {i['dimension']!r}")
        if i["unit"] not in UNITS:
            raise CatalogueError(f"{where}: unit {i['unit']!r} not in {UNITS}")
        if str(i["polarity"]) not in POLARITIES:
            raise CatalogueError(f"{where}: polarity {i['polarity']!r} not in {POLARITIES}")
        for src in i["sources"]:
            if src not in source_ids:
                raise CatalogueError(f"{where}: unknown source {src!r}")
        for level in i["periods"]:
            if level not in LEVELS:
                raise CatalogueError(f"{where}: unknown level {level!r}")
        if i.get("cget_id") and i.get("cget_france_code") not in FRANCE_CODES:
            raise CatalogueError(f"{where}: cget_france_code must be one of {FRANCE_CODES}")
        low, high = i.get("plausible") or (None, None)
        if low is None or high is None or low >= high:
            raise CatalogueError(f"{where}: plausible must be [low, high] with low < high")
        typical = {}
        for level, span in (i.get("typical_median") or {}).items():
            if level not in LEVELS or len(span) != 2 or not float(span[0]) < float(span[1]):
                raise CatalogueError(f"{where}: typical_median.{level} must be [low, high] of a known level")
            typical[level] = (float(span[0]), float(span[1]))
        if i.get("max_jump") is not None and not float(i["max_jump"]) > 1:
            raise CatalogueError(f"{where}: max_jump must be a factor > 1")
        indicators.append(
            Indicator(
                id=i["id"],
                name=i["name"],
                dimension=i["dimension"],
                unit=i["unit"],
                polarity=str(i["polarity"]),
                definition=" ".join(i["definition"].split()),
                sources=tuple(i["sources"]),
                periods={lvl: expand_period_spec(p) for lvl, p in i["periods"].items()},
                plausible=(float(low), float(high)),
                cget_id=i.get("cget_id"),
                cget_france_code=i.get("cget_france_code"),
                typical_median=typical,
                max_jump=float(i["max_jump"]) if i.get("max_jump") is not None else None,
            )
        )
    weights = {}
    for level, weight_sources in (doc.get("weights") or {}).items():
        if level not in LEVELS:
            raise CatalogueError(f"weights: unknown level {level!r}")
        for src in weight_sources or []:
            if src not in source_ids:
                raise CatalogueError(f"weights of level {level!r}: unknown source {src!r}")
        weights[level] = tuple(weight_sources or ())
    ids = [i.id for i in indicators]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise CatalogueError(f"duplicate indicator ids {duplicated}")
    return Catalogue(tuple(dims), tuple(indicators), tuple(sources), str(doc.get("snapshot_retrieved_at", "")),
                     weights)


@functools.cache
def load_catalogue(path: Path = CATALOGUE_PATH) -> Catalogue:
    """Read and validate the catalogue file (cached: the file is read once per process)."""
    with open(path, encoding="utf-8") as fh:
        return parse_catalogue(yaml.safe_load(fh))


def to_markdown(catalogue: Catalogue) -> str:
    """docs/indicators.md, generated from the catalogue (``python -m barometre.catalogue``)."""
    polarity = {"+": "+ (higher is better)", "-": "− (lower is better)", "0": "0 (contextual)"}
    lines = [
        "# Indicators",
        "",
        "Generated from `barometre/catalogue.yaml` by `python -m barometre.catalogue > docs/indicators.md`;",
        "a test fails when this page and the catalogue disagree. Edit the catalogue, not this page.",
        "",
    ]
    for dim in catalogue.dimensions:
        lines += [f"## {dim.position}. {dim.name} (`{dim.id}`)", "", dim.description, ""]
        for ind in catalogue.indicators_of(dim.id):
            lines += [
                f"### {ind.name} (`{ind.id}`)",
                "",
                ind.definition,
                "",
                f"- Unit: {ind.unit}; polarity {polarity[ind.polarity]}; plausible range {ind.plausible[0]:g}–{ind.plausible[1]:g}",
                "- Sources: " + ", ".join(f"`{s}`" for s in ind.sources)
                + (f" (CGET 2018 id `{ind.cget_id}`, national value attributed to `{ind.cget_france_code}`)"
                   if ind.cget_id else ""),
                "- Levels and periods:",
            ]
            lines += [f"  - {level}: {', '.join(periods)}" for level, periods in ind.periods.items()]
            lines.append("")
    lines += ["## Sources", "", "| id | producer | title | licence | cadence |", "|---|---|---|---|---|"]
    lines += [f"| `{s.id}` | {s.producer} | {s.title} | {s.licence} | {s.cadence} |" for s in catalogue.sources]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(to_markdown(load_catalogue()), end="")
