"""Raw layer: each source file parsed into a tidy frame, stored as ``raw.<name>``.

Generated from the source registry (:mod:`barometre.sources.registry`): one ``multi_asset`` per
parse, one output per raw table it returns. The bodies only read bytes through the
``source_files`` resource and call the parses of :mod:`barometre.sources`; a file that cannot be parsed fails its asset with the parser's
message (file, column, rule, example rows).
"""

import fnmatch

import dagster as dg
import pandas as pd

from assets._metadata import frame_metadata
from assets.resources import DUCKDB_POOL, SourceFiles
from barometre.catalogue import load_catalogue
from barometre.sources import registry

GROUP = "raw"
# Tag naming the catalogue source each raw table is read from: the source-release sensors and the
# freshness policies select a source's tables by it (sensors/).
SOURCE_TAG = "source"

def _describe(source_id: str, grain: str) -> str:
    src = load_catalogue().source(source_id)
    return f"{grain}\n\nSource `{src.id}`: {src.title} — {src.producer}. Licence: {src.licence}."

def _parse_asset(parse: registry.SourceParse) -> dg.AssetsDefinition:
    """One op per parse of the registry, one output (``raw/<table>``) per table it returns: the files
    are read and parsed once (a workbook with a sheet per level is opened once), every table comes from
    the same bytes, and each table keeps its own key, checks and downstream."""
    files = ", ".join(f"`{f}`" for f in parse.files)
    outs = {t.name: dg.AssetOut(key=["raw", t.name], group_name=GROUP, kinds={"pandas", "duckdb"},
                                tags={SOURCE_TAG: parse.source_id},
                                description=_describe(parse.source_id, t.description) + f"\n\nFiles: {files}.")
            for t in parse.tables}

    @dg.multi_asset(name=f"raw__{parse.name}", outs=outs, pool=DUCKDB_POOL, can_subset=False)
    def _asset(context: dg.AssetExecutionContext, source_files: SourceFiles):
        frames = parse.run(source_files.store(), load_catalogue())
        for table in parse.tables:
            frame = frames[table.name]
            extra = {"n_missing_values": int(frame["value"].isna().sum())} if "value" in frame else {}
            yield dg.Output(frame, output_name=table.name, metadata=frame_metadata(frame, **extra))

    return _asset

PARSES = [_parse_asset(p) for p in registry.parses()]
# The ingest asset of each raw table, by table name.
BY_TABLE = {t.name: asset for p, asset in zip(registry.parses(), PARSES) for t in p.tables}

@dg.asset(key_prefix="raw", group_name=GROUP, kinds={"pandas", "duckdb"}, pool=DUCKDB_POOL,
          description="Every source file of the catalogue, one row per file: where it was read from (snapshot or "
                      "live URL), when, the HTTP status, ETag and Last-Modified of a live download, bytes, SHA-256.")
def fichiers_sources(context: dg.AssetExecutionContext, source_files: SourceFiles) -> pd.DataFrame:
    catalogue = load_catalogue()
    store = source_files.store()
    rows = []
    for source_id, patterns in registry.source_files(catalogue).items():
        for pattern in patterns:
            paths = store.glob(pattern)
            if not paths:
                raise FileNotFoundError(f"source {source_id}: no file matches {pattern!r} in {store.root}")
            rows += [{"source_id": source_id, **store.describe(path, catalogue.source(source_id).url)} for path in paths]
        # Live files with no snapshot counterpart (Melodi's newer Filosofi years): read only when live.
        live_only = sorted(p for p, f in store.live.items() if f.source_id == source_id
                           and not any(fnmatch.fnmatchcase(p, pattern) for pattern in patterns))
        rows += [{"source_id": source_id, **store.describe(path, catalogue.source(source_id).url)} for path in live_only]
    frame = pd.DataFrame(rows).astype({"http_status": "Int64", "bytes": "int64", "url": "string", "etag": "string",
                                       "last_modified": "string", "fetched_url": "string"})
    context.add_output_metadata(frame_metadata(frame))
    return frame

ASSETS = [*PARSES, fichiers_sources]
