"""Map shapes of the report, read from the snapshot: one list of GeoJSON features per mesh.

The bundled meshes (data/snapshot/PROVENANCE.md):

- ``departement``, ``region``: france-geojson (COG 2018, the same codes and perimeters as today's
  metropolitan départements and régions), **metropolitan France only** — the DROM have no shape;
- ``zone_emploi_2010``, ``epci_2018``: the CGET's 2018 TopoJSON meshes, whose overseas territories
  are drawn as insets moved next to metropolitan France (their coordinates are not geographic).

No mesh is bundled for the EPCI of 2017 (``epci_2017``) nor for those of the COG releases
(``cog_2022`` …): :data:`MESH_OF` says which (level, geography vintage) can be drawn.

Every feature keeps only ``properties.code`` and ``properties.name``; coordinates are rounded to
4 decimals (about 10 m) and rings are wound as d3-geo (hence Vega) expects on the sphere:
exterior rings clockwise, holes counter-clockwise.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

from barometre.landing import DEFAULT_SNAPSHOT_DIR


@dataclass(frozen=True)
class Mesh:
    id: str
    path: str  # relative to the snapshot folder
    code_property: str
    name_property: str
    label: str  # French, for the page
    credit: str


MESHES = {
    "departement": Mesh("departement", "maps/departements-version-simplifiee.geojson", "code", "nom",
                        "départements de France métropolitaine (COG 2018, identiques à ceux d'aujourd'hui)",
                        "Fond : Grégoire David, france-geojson (IGN Admin Express COG 2018), Licence Ouverte"),
    "region": Mesh("region", "maps/regions-version-simplifiee.geojson", "code", "nom",
                   "régions de France métropolitaine (COG 2018, identiques à celles d'aujourd'hui)",
                   "Fond : Grégoire David, france-geojson (IGN Admin Express COG 2018), Licence Ouverte"),
    "zone_emploi_2010": Mesh("zone_emploi_2010", "barometre_2018/ze_wgs84_utf8.topojson", "codgeo", "libgeo",
                             "zones d'emploi 2010 (maillage du baromètre CGET 2018 ; outre-mer en encarts)",
                             "Fond : CGET, baromètre de la cohésion des territoires 2018 (anct-carto/ba-coh-terr)"),
    "epci_2018": Mesh("epci_2018", "barometre_2018/epci2018_wgs84_utf8.topojson", "codgeo", "libgeo",
                      "EPCI au 1er janvier 2018 (maillage du baromètre CGET 2018 ; outre-mer en encarts)",
                      "Fond : CGET, baromètre de la cohésion des territoires 2018 (anct-carto/ba-coh-terr)"),
}

# (level, geography_vintage) → mesh drawn for it. Vintages absent here have no bundled shape.
MESH_OF = {
    ("departement", "cog_2026"): "departement",
    ("region", "cog_2026"): "region",
    ("zone_emploi", "ze_2010"): "zone_emploi_2010",
    ("epci", "epci_2018"): "epci_2018",
}


def _signed_area(ring: list[list[float]]) -> float:
    """Shoelace area in the (longitude, latitude) plane: > 0 when counter-clockwise."""
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1])) / 2


def _wind(polygon: list[list[list[float]]]) -> list[list[list[float]]]:
    out = []
    for i, ring in enumerate(polygon):
        clockwise = _signed_area(ring) < 0
        want_clockwise = i == 0
        out.append(ring if clockwise == want_clockwise else ring[::-1])
    return out


def _round(polygon: list[list[list[float]]]) -> list[list[list[float]]]:
    return [[[round(x, 4), round(y, 4)] for x, y, *_ in ring] for ring in polygon]


def _geometry(kind: str, coordinates: list) -> dict:
    if kind == "Polygon":
        return {"type": "Polygon", "coordinates": _wind(_round(coordinates))}
    if kind == "MultiPolygon":
        return {"type": "MultiPolygon", "coordinates": [_wind(_round(p)) for p in coordinates]}
    raise ValueError(f"unsupported geometry type {kind!r}")


def topojson_to_geojson(topology: dict, object_name: str) -> list[dict]:
    """The features of one object of a TopoJSON topology (quantized or not): arcs are
    delta-decoded and stitched, a negative index ``~i`` meaning arc ``i`` reversed."""
    transform = topology.get("transform")
    arcs = []
    for arc in topology["arcs"]:
        if transform:
            (sx, sy), (tx, ty) = transform["scale"], transform["translate"]
            x = y = 0
            points = []
            for dx, dy, *_ in arc:
                x, y = x + dx, y + dy
                points.append([x * sx + tx, y * sy + ty])
        else:
            points = [p[:2] for p in arc]
        arcs.append(points)

    def ring(indexes: list[int]) -> list[list[float]]:
        points: list[list[float]] = []
        for i in indexes:
            arc = arcs[i] if i >= 0 else arcs[~i][::-1]
            points.extend(arc if not points else arc[1:])
        return points

    features = []
    for geom in topology["objects"][object_name]["geometries"]:
        if geom["type"] == "Polygon":
            coordinates = [ring(r) for r in geom["arcs"]]
        elif geom["type"] == "MultiPolygon":
            coordinates = [[ring(r) for r in polygon] for polygon in geom["arcs"]]
        else:
            raise ValueError(f"unsupported TopoJSON geometry type {geom['type']!r}")
        features.append({"type": "Feature", "properties": geom.get("properties", {}),
                         "geometry": {"type": geom["type"], "coordinates": coordinates}})
    return features


@functools.cache
def mesh_codes(mesh_id: str, snapshot_dir: str | Path = DEFAULT_SNAPSHOT_DIR) -> tuple[str, ...]:
    """The codes of a mesh's features."""
    return tuple(f["properties"]["code"] for f in load_mesh(Path(snapshot_dir), mesh_id))


@functools.cache
def load_mesh(snapshot_dir: str | Path, mesh_id: str) -> list[dict]:
    """The features of a bundled mesh with ``properties`` {code, name}, sorted by code (cached:
    do not modify them)."""
    mesh = MESHES[mesh_id]
    path = Path(snapshot_dir) / mesh.path
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("type") == "Topology":
        (object_name,) = data["objects"]
        features = topojson_to_geojson(data, object_name)
    else:
        features = data["features"]
    out = []
    for f in features:
        props = f["properties"]
        code = props[mesh.code_property]
        if not isinstance(code, str):
            raise ValueError(f"{path}: property {mesh.code_property!r} must be a string code, got {code!r}")
        geometry = _geometry(f["geometry"]["type"], f["geometry"]["coordinates"])
        out.append({"type": "Feature", "properties": {"code": code, "name": props.get(mesh.name_property)},
                    "geometry": geometry})
    return sorted(out, key=lambda f: f["properties"]["code"])
