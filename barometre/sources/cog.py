"""Official geography (COG) 2021–2026 from ``@etalab/decoupage-administratif`` (gzip JSON).

One package version per COG year (see the catalogue's ``vintages``). ``communes.json`` mixes four
record types: only ``commune-actuelle`` records are communes of the year (municipal
arrondissements also carry a population and would double count Paris, Lyon and Marseille).
``epci.json`` lists each EPCI à fiscalité propre with its member communes.

The package does not state the reference year of its populations; :func:`reference_years`
dates each release with a witness commune against INSEE's populations légales.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import tempfile
from pathlib import Path

import duckdb
import pandas as pd

from barometre import duckdb_config
from barometre.geography import DEPARTEMENTS, REGIONS
from barometre.sources._csv import SourceFormatError
from barometre.sources._schema import Allowed, Codes, CountRange, Coverage, RawSchema, Values
from barometre.sources.registry import RawTable, SourceParse

SOURCE_ID = "etalab_decoupage_administratif"
# Codes the COG gives the collectivités d'outre-mer (with the TAAF and Clipperton) in its
# départements and régions lists (from COG 2022; COG 2021 gives their communes none).
COLLECTIVITES_OUTRE_MER = ("975", "977", "978", "984", "986", "987", "988", "989")


def path(vintage: int, name: str) -> str:
    return f"cog/{vintage}/{name}.json.gz"


def _load(raw: bytes, file: str) -> list[dict]:
    try:
        data = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
        doc = json.loads(data.decode("utf-8"))
    except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError) as exc:  # EOFError: a truncated gzip
        raise SourceFormatError(file, None, f"not a (gzipped) UTF-8 JSON document: {exc}") from None
    if not isinstance(doc, list) or not doc:
        raise SourceFormatError(file, None, "expected a non-empty JSON array of records")
    return doc


def _require(records: list[dict], keys: tuple[str, ...], file: str) -> None:
    for key in keys:
        missing = [r for r in records if key not in r]
        if missing:
            raise SourceFormatError(file, key, "field missing from records", missing[:3])


def parse_communes(raw: bytes, vintage: int, file: str | None = None) -> pd.DataFrame:
    """Communes of the year: code, name, département, région, population (may be missing).

    Read with DuckDB's JSON reader (about 3× faster than Python's ``json`` on the six releases),
    every field typed as JSON and checked in SQL: a file DuckDB cannot read, or any record it
    cannot vouch for (a field missing or of another JSON type than the package's, a byte-order
    mark, no record), is read again record by record (:func:`_parse_communes_records`, the
    previous reader), which gives the frame or the :class:`SourceFormatError` (file, column, rule,
    example records) it always gave.
    """
    file = file or path(vintage, "communes")
    out = _communes_duckdb(raw, vintage)
    if out is None:
        return _parse_communes_records(raw, vintage, file)
    return _unique_communes(out, file)


def _unique_communes(out: pd.DataFrame, file: str) -> pd.DataFrame:
    dup = out["code_commune"].duplicated(keep=False)
    if dup.any():
        raise SourceFormatError(file, "code", "duplicated commune code", out.loc[dup, "code_commune"].head(5).tolist())
    return out


def _parse_communes_records(raw: bytes, vintage: int, file: str) -> pd.DataFrame:
    """:func:`parse_communes` with Python's ``json``, record by record."""
    records = [r for r in _load(raw, file) if r.get("type") == "commune-actuelle"]
    _require(records, ("code", "nom"), file)
    out = pd.DataFrame({
        "cog_vintage": vintage,
        "code_commune": [r["code"] for r in records],
        "nom": [r["nom"] for r in records],
        "code_departement": [r.get("departement") for r in records],
        "code_region": [r.get("region") for r in records],
        "population": pd.array([r.get("population") for r in records], dtype="Int64"),
        # Former codes merged into this commune (communes nouvelles), space-separated.
        "anciens_codes": [" ".join(r.get("anciensCodes") or []) for r in records],
    })
    return _unique_communes(out, file)


_COMMUNE_FIELDS = ("type", "code", "nom", "departement", "region", "population", "anciensCodes")
# One scan of the records: every field as JSON, whether the record is a commune of the year, whether
# its fields have the package's JSON types (text; population a whole number; anciensCodes a list of
# text; the optional ones may be absent or null), and the values.
_COMMUNES_SQL = """
CREATE TEMP TABLE records AS
SELECT coalesce(json_type(type) = 'VARCHAR' AND type->>'$' = 'commune-actuelle', false) AS commune,
       coalesce(json_type(code) = 'VARCHAR' AND json_type(nom) = 'VARCHAR'
                AND coalesce(json_type(departement), 'NULL') IN ('VARCHAR', 'NULL')
                AND coalesce(json_type(region), 'NULL') IN ('VARCHAR', 'NULL')
                AND coalesce(json_type(population), 'NULL') IN ('UBIGINT', 'BIGINT', 'NULL')
                AND (coalesce(json_type(anciensCodes), 'NULL') = 'NULL'
                     OR (json_type(anciensCodes) = 'ARRAY'
                         AND len(list_filter(json_type(anciensCodes, '$[*]'), lambda t: t <> 'VARCHAR')) = 0)),
                false) AS typed,
       code->>'$' AS code_commune, nom->>'$' AS nom, departement->>'$' AS code_departement,
       region->>'$' AS code_region,
       CASE WHEN json_type(population) IN ('UBIGINT', 'BIGINT') THEN population::BIGINT END AS population,
       CASE WHEN json_type(anciensCodes) = 'ARRAY'
            THEN array_to_string(json_extract_string(anciensCodes, '$[*]'), ' ') ELSE '' END AS anciens_codes
FROM read_json(?, format = 'array', columns = {%s}, maximum_object_size = 268435456)
""" % ", ".join(f"{name}: 'JSON'" for name in _COMMUNE_FIELDS)


def _communes_duckdb(raw: bytes, vintage: int) -> pd.DataFrame | None:
    """The communes of the year read by DuckDB, or None when the record-by-record reading must
    decide (DuckDB could not read the file, or a record is not of the package's form)."""
    gzipped = raw[:2] == b"\x1f\x8b"
    try:
        head = gzip.GzipFile(fileobj=io.BytesIO(raw)).read(3) if gzipped else raw[:3]
    except (OSError, EOFError):
        return None
    if head.startswith(b"\xef\xbb\xbf"):  # a byte-order mark: Python's json refuses it, DuckDB skips it
        return None
    with tempfile.TemporaryDirectory(prefix="barometre-cog-") as tmp:
        local = Path(tmp) / ("communes.json.gz" if gzipped else "communes.json")
        local.write_bytes(raw)
        con = duckdb_config.connect()
        try:
            con.execute(_COMMUNES_SQL, [str(local)]).fetchall()
            (n, n_communes, n_untyped), = con.execute(
                "SELECT count(*), count(*) FILTER (WHERE commune), count(*) FILTER (WHERE commune AND NOT typed) "
                "FROM records").fetchall()
            if n == 0 or n_communes == 0 or n_untyped:
                return None
            out = con.execute("SELECT code_commune, nom, code_departement, code_region, population, anciens_codes "
                              "FROM records WHERE commune").df()
        except (duckdb.InvalidInputException, duckdb.IOException, duckdb.ConversionException):
            return None  # the file, not the query: malformed JSON, not an array, a damaged gzip…
        finally:
            con.close()
    out.insert(0, "cog_vintage", vintage)
    out["population"] = out["population"].astype("Int64")
    return out


_SIREN = re.compile(r"\d{9}")


def parse_epci_members(raw: bytes, vintage: int, file: str | None = None) -> pd.DataFrame:
    """One row per (EPCI, member commune)."""
    file = file or path(vintage, "epci")
    records = _load(raw, file)
    _require(records, ("code", "nom", "membres"), file)
    rows = [(r["code"], r["nom"], r.get("type"), m["code"]) for r in records for m in r["membres"]]
    out = pd.DataFrame(rows, columns=["code_epci", "nom_epci", "type_epci", "code_commune"], dtype="object")
    out.insert(0, "cog_vintage", vintage)
    try:  # one test per distinct code (an EPCI code is repeated for each member) when all are text
        distinct = set(out["code_epci"].tolist())
    except TypeError:  # an unhashable JSON value (list, object)
        distinct = None
    if distinct is not None and all(type(c) is str and _SIREN.fullmatch(c) for c in distinct):
        return out
    bad = out.loc[~out["code_epci"].str.fullmatch(r"\d{9}"), "code_epci"]
    if len(bad):
        raise SourceFormatError(file, "code", "EPCI code is not a 9-digit SIREN", bad.head(5).tolist())
    return out


def parse_departements(raw: bytes, vintage: int, file: str | None = None) -> pd.DataFrame:
    file = file or path(vintage, "departements")
    records = _load(raw, file)
    _require(records, ("code", "nom", "region"), file)
    return pd.DataFrame({
        "cog_vintage": vintage,
        "code_departement": [r["code"] for r in records],
        "nom": [r["nom"] for r in records],
        "code_region": [r["region"] for r in records],
    })


def parse_regions(raw: bytes, vintage: int, file: str | None = None) -> pd.DataFrame:
    file = file or path(vintage, "regions")
    records = _load(raw, file)
    _require(records, ("code", "nom"), file)
    return pd.DataFrame({"cog_vintage": vintage, "code_region": [r["code"] for r in records],
                         "nom": [r["nom"] for r in records]})


def reference_years(communes: pd.DataFrame, witness: str, populations_legales: dict[int, int]) -> pd.DataFrame:
    """Date each COG release's populations by its reference year.

    The witness commune's population in each release is looked up among INSEE's populations
    légales. A release whose reference year equals the previous release's repeats it
    (``repeats`` = that earlier vintage) and must be left out of growth series. Raises if the
    witness population matches no known reference year: a new release needs a new entry in the
    catalogue, not a guess.
    """
    year_of = {int(v): int(y) for y, v in populations_legales.items()}
    rows = []
    previous: tuple[int, int] | None = None
    for vintage, group in communes.groupby("cog_vintage", sort=True):
        pop = group.loc[group["code_commune"] == witness, "population"]
        if pop.empty or pd.isna(pop.iloc[0]):
            raise ValueError(f"COG {vintage}: witness commune {witness} has no population")
        ref = year_of.get(int(pop.iloc[0]))
        if ref is None:
            raise ValueError(
                f"COG {vintage}: population {int(pop.iloc[0])} of witness commune {witness} matches no "
                f"populations légales year in the catalogue ({sorted(populations_legales)})")
        repeats = previous[0] if previous and previous[1] == ref else None
        rows.append({"cog_vintage": int(vintage), "reference_year": ref, "witness_population": int(pop.iloc[0]),
                     "total_population": int(group["population"].sum()), "repeats_vintage": repeats})
        if repeats is None:
            previous = (int(vintage), ref)
    return pd.DataFrame(rows).astype({"repeats_vintage": "Int64"})


def cog_pairs(references: pd.DataFrame) -> list[tuple[int, int, int, int]]:
    """Consecutive non-repeated releases: ``(vintage_from, vintage_to, year_from, year_to)``."""
    kept = references[references["repeats_vintage"].isna()].sort_values("cog_vintage")
    v, y = kept["cog_vintage"].tolist(), kept["reference_year"].tolist()
    return [(v[i], v[i + 1], y[i], y[i + 1]) for i in range(len(v) - 1)]


def static_population_departements(catalogue) -> dict[str, str]:
    """Départements whose populations the releases do not update (catalogue), code → reason."""
    return catalogue.source(SOURCE_ID).extra.get("static_population_departements", {})


# Schemas of the raw COG tables (one row per release × record; the period is the release).

def _vintages(catalogue) -> tuple[int, ...]:
    return tuple(sorted(int(v) for v in catalogue.source(SOURCE_ID).extra["vintages"]))


_BY = ("cog_vintage",)
_DEP_OR_COM = DEPARTEMENTS + COLLECTIVITES_OUTRE_MER
_REG_OR_COM = REGIONS + COLLECTIVITES_OUTRE_MER


def _schema(table: str, name: str, **fields) -> RawSchema:
    return RawSchema(table=table, files=f"cog/*/{name}.json.gz", period="cog_vintage",
                     periods=_vintages, file_of=lambda row: path(int(row["cog_vintage"]), name), **fields)


COMMUNES_SCHEMA = _schema(
    f"{SOURCE_ID}_communes", "communes",
    columns={"cog_vintage": "int", "code_commune": "text", "nom": "text", "code_departement": "text",
             "code_region": "text", "population": "int", "anciens_codes": "text"},
    key=("cog_vintage", "code_commune"), required=("nom",),
    codes=(Codes("code_commune", "commune"),
           Codes("code_departement", "departement", _DEP_OR_COM, "the 101 départements and the COM"),
           Codes("code_region", "region", _REG_OR_COM, "the 18 régions and the COM")),
    coverage=(CountRange("code_commune", 34_000, 36_000, "communes per COG release", by=_BY),
              Coverage("code_departement", DEPARTEMENTS, "the 101 départements (each has communes)", by=_BY)),
    values=(Values("population", "count"),),
    examples=("cog_vintage", "code_commune"),
)
EPCI_SCHEMA = _schema(
    f"{SOURCE_ID}_membres_epci", "epci",
    columns={"cog_vintage": "int", "code_epci": "text", "nom_epci": "text", "type_epci": "text", "code_commune": "text"},
    key=("cog_vintage", "code_commune"),  # a commune belongs to one EPCI at most
    required=("code_epci", "nom_epci", "type_epci"),
    codes=(Codes("code_epci", "epci"), Codes("code_commune", "commune")),
    coverage=(CountRange("code_epci", 1_200, 1_300, "EPCI à fiscalité propre per COG release", by=_BY),),
    allowed=(Allowed("type_epci", ("CA", "CC", "CU", "METRO", "MET69")),),
    examples=("cog_vintage", "code_epci", "code_commune"),
)
DEPARTEMENTS_SCHEMA = _schema(
    f"{SOURCE_ID}_departements", "departements",
    columns={"cog_vintage": "int", "code_departement": "text", "nom": "text", "code_region": "text"},
    key=("cog_vintage", "code_departement"), required=("nom", "code_region"),
    codes=(Codes("code_departement", "departement", _DEP_OR_COM, "the 101 départements and the COM"),
           Codes("code_region", "region", _REG_OR_COM, "the 18 régions and the COM")),
    coverage=(Coverage("code_departement", DEPARTEMENTS, "the 101 départements", by=_BY),),
    examples=("cog_vintage", "code_departement"),
)
REGIONS_SCHEMA = _schema(
    f"{SOURCE_ID}_regions", "regions",
    columns={"cog_vintage": "int", "code_region": "text", "nom": "text"},
    key=("cog_vintage", "code_region"), required=("nom",),
    codes=(Codes("code_region", "region", _REG_OR_COM, "the 18 régions and the COM"),),
    coverage=(Coverage("code_region", REGIONS, "the 18 régions", by=_BY),),
    examples=("cog_vintage", "code_region"),
)


# ---------------------------------------------------------------------------------------------
# Registry (barometre/sources/registry.py): one parse per file family, over the catalogue's vintages.

def _family(name: str, parser, schema: RawSchema, description: str) -> SourceParse:
    def read(store, catalogue) -> dict[str, pd.DataFrame]:
        return {schema.table: pd.concat([parser(store.read(path(v, name)), v) for v in _vintages(catalogue)],
                                        ignore_index=True)}

    return SourceParse(SOURCE_ID, (f"cog/*/{name}.json.gz",), read, (RawTable(schema.table, schema, description),))


PARSES = (
    _family("communes", parse_communes, COMMUNES_SCHEMA,
            "Communes of each COG release 2021–2026 with their population, one row per release × commune."),
    _family("departements", parse_departements, DEPARTEMENTS_SCHEMA,
            "Départements of each COG release, one row per release × département."),
    _family("regions", parse_regions, REGIONS_SCHEMA, "Régions of each COG release, one row per release × région."),
    _family("epci", parse_epci_members, EPCI_SCHEMA,
            "EPCI à fiscalité propre of each COG release, one row per release × EPCI × member commune."),
)
