"""Report layer: the static barometer report (``data/report/``), generated from the published file.

A thin asset over :func:`barometre.report.build_report`: it reads ``data/barometre.duckdb``
read-only — never the working database — so the report shows exactly what dashboards see.
"""

import dagster as dg

from assets.resources import PublishedWarehouse
from barometre.report import build_report

class ReportSite(dg.ConfigurableResource):
    """Where the report is written (``path``, replaced as a whole at each build) and the snapshot
    folder whose ``maps/`` and CGET meshes give the map shapes."""

    path: str
    snapshot_dir: str

@dg.asset(group_name="publication", kinds={"html"}, deps=[dg.AssetKey("published_barometre")])
def barometre_report(context: dg.AssetExecutionContext, published_warehouse: PublishedWarehouse,
                     report_site: ReportSite) -> dg.MaterializeResult:
    """The barometer as a static site openable from disk (no server, no CDN): ``index.html`` with
    the six dimensions and their indicators (France value and change, convergence verdict), and
    one page per indicator (definition and sources, France over time, régions ranked, maps with
    quantile classes, disparities and convergence, quality notes)."""
    result = build_report(published_warehouse.path, report_site.path, report_site.snapshot_dir)
    context.log.info(f"report: {result.path} ({result.pages} pages, {len(result.rebuilt)} rebuilt, "
                     f"{result.seconds:.1f} s)")
    return dg.MaterializeResult(metadata={
        "index": dg.MetadataValue.path(str(result.path)),
        "url": dg.MetadataValue.url(result.path.resolve().as_uri()),
        "pages": result.pages,
        "pages_rebuilt": len(result.rebuilt),  # the others kept: their published rows did not change
        "build_seconds": round(result.seconds, 2),
    })

ASSETS = [barometre_report]
