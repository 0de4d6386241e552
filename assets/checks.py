"""Asset checks: the Great Expectations suites of every raw table and the checks of the derived
values, as thin Dagster wrappers over :mod:`barometre.validation`.

Each raw table gets one check op (``check_raw_<table>``) reporting its ``gx_suite`` check: the
whole suite generated from the table's declaration (rule groups ``columns_and_types``,
``territory_codes``, ``territory_coverage``, ``keys_and_periods``, ``value_domains``). It is
*blocking*: when it fails, the assets downstream of that table are not materialised, so
``published_barometre`` does not run and the published database keeps its last good content;
sources that pass keep flowing. A quarantine rule (the Filosofi medians) has a WARN check of its
own: its rows are set aside in ``mart.rejected_rows`` and the run goes on. ``mart/indicator_values``
gets three blocking checks of the derived values. A failing check's metadata names the
expectation, the column, the number of rows and up to 10 example rows with their territory code
and period (``examples``), and lists every failed expectation (``failures``). Every check reads
its table from the working database: its op is in the DuckDB pool (``DUCKDB_POOL``).
"""

import hashlib
from pathlib import Path

import dagster as dg
import pandas as pd

from assets import communes
from assets.resources import DUCKDB_POOL, SourceFiles
from barometre import validation
from barometre.catalogue import load_catalogue
from barometre.sources import cget_2018, registry
from barometre.sources._schema import RawSchema
from barometre.validation import folders

INDICATOR_VALUES = dg.AssetKey(["mart", "indicator_values"])
MANIFEST = dg.AssetKey(["raw", "fichiers_sources"])


def _metadata(outcome: validation.CheckOutcome) -> dict:
    metadata: dict = {
        "suite": outcome.suite,
        "expectations": outcome.expectations,
        "failed_expectations": len(outcome.failures),
        "validation_seconds": round(outcome.seconds, 3),  # the whole table, all its checks
    }
    if outcome.failures:
        first = outcome.failures[0]
        metadata["rule_group"] = first.group
        metadata["failed_expectation"] = first.expectation
        metadata["rule"] = first.rule
        metadata["column"] = first.column or "(table)"
        metadata["file"] = first.file
        if first.count is not None:
            metadata["unexpected"] = first.count  # rows, or missing territories, groups, columns
        if first.examples:
            metadata["examples"] = dg.MetadataValue.md(pd.DataFrame(first.examples).to_markdown(index=False))
        metadata["failures"] = dg.MetadataValue.json([f.as_dict() for f in outcome.failures])
    for name, value in outcome.notes.items():
        metadata[name] = value if isinstance(value, (int, float, str)) else dg.MetadataValue.json(value)
    return metadata


def _result(key: dg.AssetKey, outcome: validation.CheckOutcome) -> dg.AssetCheckResult:
    severity = dg.AssetCheckSeverity.ERROR if outcome.severity == "ERROR" else dg.AssetCheckSeverity.WARN
    return dg.AssetCheckResult(asset_key=key, check_name=outcome.name, passed=outcome.passed, severity=severity,
                               description=outcome.description, metadata=_metadata(outcome))


def _raw_checks(schema: RawSchema) -> dg.AssetChecksDefinition:
    key = dg.AssetKey(["raw", schema.table])
    warn = validation.warn_checks(schema)
    ins = {"table": dg.AssetIn(key=key)}
    if any(isinstance(c.known, str) for c in schema.codes):  # codes checked against the CGET's meshes
        ins["cget_territoires"] = dg.AssetIn(key=["raw", "cget_barometre_2018_territoires"])
    others = sorted({t for identity in schema.identities for t in identity.tables})
    for table in others:  # the other raw tables its identities read (e.g. the population)
        ins[table] = dg.AssetIn(key=["raw", table])
    deps = [i.key for name, i in ins.items() if name != "table"]
    specs = [dg.AssetCheckSpec(name, asset=key, description=text, blocking=name not in warn, additional_deps=deps)
             for name, text in validation.check_names(schema).items()]

    @dg.multi_asset_check(name=f"check_raw_{schema.table}", specs=specs, ins=ins, pool=DUCKDB_POOL,
                          description=f"Great Expectations suites of raw.{schema.table} ({schema.files}).")
    def _check(context: dg.AssetCheckExecutionContext, **inputs: pd.DataFrame):
        mesh = cget_2018.mesh_codes(inputs["cget_territoires"]) if "cget_territoires" in inputs else None
        tables = {t: inputs[t] for t in others}
        for outcome in validation.validate_raw(schema, inputs["table"], load_catalogue(), mesh, tables):
            yield _result(key, outcome)

    return _check


@dg.multi_asset_check(
    name="check_mart_indicator_values",
    specs=[dg.AssetCheckSpec(name, asset=INDICATOR_VALUES, description=text, blocking=True,
                             additional_deps=[dg.AssetKey(["core", "hierarchie_territoires"])])
           for name, text in validation.DERIVED_CHECKS.items()],
    ins={"indicator_values": dg.AssetIn(key=INDICATOR_VALUES),
         "hierarchie_territoires": dg.AssetIn(key=["core", "hierarchie_territoires"])},
    pool=DUCKDB_POOL,
    description="Derived values: régions from their départements, France within its régions, plausible bounds.")
def check_mart_indicator_values(context: dg.AssetCheckExecutionContext, indicator_values: pd.DataFrame,
                                hierarchie_territoires: pd.DataFrame):
    for outcome in validation.validate_indicator_values(indicator_values, hierarchie_territoires, load_catalogue()):
        yield _result(INDICATOR_VALUES, outcome)


def folder_report(snapshot_root: Path) -> folders.FolderReport:
    """Every file of the snapshot folders the catalogue's sources declare, sorted by
    :func:`barometre.validation.folders.classify_folder`."""
    declared = registry.source_files(load_catalogue())
    root = Path(snapshot_root)
    listing = sorted({str(p.relative_to(root)) for folder in folders.declared_folders(declared)
                      for p in root.glob(f"{folder}/*") if p.is_file()})
    return folders.classify_folder(declared, listing, lambda path: hashlib.sha256((root / path).read_bytes()).hexdigest())


@dg.asset_check(asset=MANIFEST, name=folders.CHECK, blocking=True, pool=DUCKDB_POOL,
                description="Every file in a source folder is declared by the catalogue (or documentation): a plain "
                            "copy of a declared file is a warning (not read), any other file an error.")
def check_source_folders(context: dg.AssetCheckExecutionContext, source_files: SourceFiles) -> dg.AssetCheckResult:
    report = folder_report(source_files.store().root)
    outcome = folders.outcome(report)
    severity = dg.AssetCheckSeverity.ERROR if outcome.severity == "ERROR" else dg.AssetCheckSeverity.WARN
    return dg.AssetCheckResult(asset_key=MANIFEST, check_name=outcome.name, passed=outcome.passed, severity=severity,
                               description=outcome.description, metadata=_metadata(outcome))


RAW_CHECKS = [_raw_checks(schema) for schema in validation.raw_schemas(load_catalogue()).values()]
# The blocking check of the commune-derived départements lives with its assets (assets/communes.py).
CHECKS = [*RAW_CHECKS, check_source_folders, check_mart_indicator_values, *communes.CHECKS]


# ---------------------------------------------------------------------------------------------
# What a run did, for `make run` (barometre.definitions.main).


def evaluations(result: dg.ExecuteInProcessResult) -> list[dict]:
    """Every asset check evaluation of a run, as plain dicts."""
    return [{"asset": e.asset_key.to_user_string(), "check": e.check_name, "passed": e.passed,
             "severity": e.severity.value, "description": e.description or ""}
            for e in result.get_asset_check_evaluations()]


def _root_error(error) -> str:
    while error.cause is not None:
        error = error.cause
    return f"{error.cls_name}: {error.message.strip().split(': ', 1)[-1]}" if error.cls_name else error.message.strip()


def step_failures(result: dg.ExecuteInProcessResult) -> list[str]:
    """Steps that failed for another reason than a failed blocking check (e.g. a file the parser
    refused), with the innermost error message."""
    out = []
    for event in result.get_step_failure_events():
        error = event.step_failure_data.error
        if error is None or error.cls_name == "DagsterAssetCheckFailedError":
            continue
        out.append(f"    FAILED {event.step_key}: {_root_error(error)}")
    return out


def check_seconds(result: dg.ExecuteInProcessResult) -> tuple[int, float]:
    """Number and total duration of the check steps that succeeded in a run."""
    durations = [e.event_specific_data.duration_ms / 1000 for e in result.get_step_success_events()
                 if e.step_key.startswith("check_")]
    return len(durations), sum(durations)


def run_report(result: dg.ExecuteInProcessResult, planned: list[dg.AssetKey]) -> str:
    """The checks summary of a run of the ``planned`` assets (and their checks), the steps that
    failed, and the assets left unmaterialised."""
    keys = set(planned)
    n_checks = sum(1 for c in CHECKS for key in c.check_keys if key.asset_key in keys)
    lines = [validation.format_check_summary(evaluations(result), n_checks)]
    steps, seconds = check_seconds(result)
    if steps:
        runtime = validation.gx_runtime()  # already imported by the checks of this run
        lines.append(f"    the {steps} check steps that completed took {seconds:.1f} s, of which "
                     f"{runtime.import_seconds:.1f} s to import Great Expectations (once per process)")
    failures = step_failures(result)
    if failures:
        lines += ["  Failed steps:", *failures]
    done = {e.asset_key for e in result.get_asset_materialization_events()}
    skipped = [k.to_user_string() for k in planned if k not in done]
    if skipped:
        lines.append(f"  Not materialised ({len(skipped)} of {len(planned)} assets: failed, or downstream of a "
                     "failure): " + ", ".join(skipped))
    return "\n".join(lines)
