"""The column contract of the published tables, declared once: every table of schema ``mart``
with its columns in order and their DuckDB types (the names ``information_schema`` gives).

docs/warehouse.md says what each column means (:mod:`barometre.warehouse_columns`); this module
says its type. The SQL marts (:mod:`barometre.sql`) cast their outputs to these types, the
publication (:func:`barometre.warehouse.publish`) casts every table to them, so no type is guessed
from pandas (an all-NULL column is still VARCHAR), and :func:`fingerprint` (``mart.publication
.schema_fingerprint``, :data:`barometre.warehouse.SCHEMA_FINGERPRINTS`) is computed from them.
Adding, removing, renaming, reordering or retyping a column here is a new schema version.
"""

from __future__ import annotations

import hashlib

SCHEMA = "mart"

# table → column → DuckDB type, in publication order (``publication`` is written last).
TYPES: dict[str, dict[str, str]] = {
    "dimensions": {
        "dimension_id": "VARCHAR", "name": "VARCHAR", "description": "VARCHAR", "position": "BIGINT",
    },
    "indicators": {
        "indicator_id": "VARCHAR", "name": "VARCHAR", "dimension_id": "VARCHAR", "unit": "VARCHAR",
        "polarity": "VARCHAR", "definition": "VARCHAR", "source_ids": "VARCHAR", "levels": "VARCHAR",
        "position": "BIGINT",
    },
    "sources": {
        "source_id": "VARCHAR", "producer": "VARCHAR", "title": "VARCHAR", "url": "VARCHAR", "licence": "VARCHAR",
        "retrieved_at": "VARCHAR", "sha256": "VARCHAR", "path": "VARCHAR", "notes": "VARCHAR", "origin": "VARCHAR",
        "http_status": "BIGINT", "etag": "VARCHAR", "last_modified": "VARCHAR", "bytes": "BIGINT",
        "fetched_url": "VARCHAR",
    },
    "territories": {
        "level": "VARCHAR", "code": "VARCHAR", "name": "VARCHAR", "parent_region": "VARCHAR",
        "parent_departement": "VARCHAR", "geography_vintage": "VARCHAR",
    },
    "indicator_values": {
        "indicator_id": "VARCHAR", "level": "VARCHAR", "code": "VARCHAR", "geography_vintage": "VARCHAR",
        "period": "VARCHAR", "period_start": "BIGINT", "period_end": "BIGINT", "value": "DOUBLE",
        "numerator": "DOUBLE", "denominator": "DOUBLE", "source_id": "VARCHAR", "derived": "BOOLEAN",
        "is_reference": "BOOLEAN",
    },
    "quality_report": {
        "kind": "VARCHAR", "indicator_id": "VARCHAR", "source_id": "VARCHAR", "level": "VARCHAR", "code": "VARCHAR",
        "geography_vintage": "VARCHAR", "period": "VARCHAR", "detail": "VARCHAR",
    },
    "rejected_rows": {
        "source_id": "VARCHAR", "rule": "VARCHAR", "code": "VARCHAR", "period": "VARCHAR", "column": "VARCHAR",
        "value": "VARCHAR",
    },
    "disparities": {
        "indicator_id": "VARCHAR", "level": "VARCHAR", "scope": "VARCHAR", "geography_vintage": "VARCHAR",
        "period": "VARCHAR", "period_start": "BIGINT", "period_end": "BIGINT", "n": "BIGINT", "min": "DOUBLE",
        "max": "DOUBLE", "max_min_ratio": "DOUBLE", "range": "DOUBLE", "d1": "DOUBLE", "d9": "DOUBLE",
        "d9_d1": "DOUBLE", "q1": "DOUBLE", "median": "DOUBLE", "q3": "DOUBLE", "mean": "DOUBLE",
        "weighted_mean": "DOUBLE", "std": "DOUBLE", "cv": "DOUBLE", "gini": "DOUBLE", "theil": "DOUBLE",
        "weight_source": "VARCHAR", "weighted_mean_null_reason": "VARCHAR", "gini_theil_null_reason": "VARCHAR",
        "ratio_null_reason": "VARCHAR",
    },
    "convergence": {
        "indicator_id": "VARCHAR", "level": "VARCHAR", "scope": "VARCHAR", "geography_vintage": "VARCHAR",
        "source_id": "VARCHAR", "period_from": "VARCHAR", "period_to": "VARCHAR", "comparison": "VARCHAR",
        "years": "DOUBLE", "change_kind": "VARCHAR", "n_common": "BIGINT", "mean_from": "DOUBLE",
        "mean_to": "DOUBLE", "std_from": "DOUBLE", "std_to": "DOUBLE", "cv_from": "DOUBLE", "cv_to": "DOUBLE",
        "sigma_measure": "VARCHAR", "sigma_convergence": "BOOLEAN", "beta": "DOUBLE", "beta_pvalue": "DOUBLE",
        "beta_r2": "DOUBLE", "beta_convergence": "BOOLEAN", "mean_annual_change": "DOUBLE",
        "bottom_decile_growth": "DOUBLE", "top_decile_growth": "DOUBLE", "beta_null_reason": "VARCHAR",
        "verdict": "VARCHAR", "is_headline": "BOOLEAN",
    },
    "rankings": {
        "indicator_id": "VARCHAR", "level": "VARCHAR", "geography_vintage": "VARCHAR", "period": "VARCHAR",
        "code": "VARCHAR", "value": "DOUBLE", "rank": "BIGINT", "rank_of": "BIGINT", "percentile": "DOUBLE",
        "rank_metro": "BIGINT", "rank_of_metro": "BIGINT", "rank_order": "VARCHAR", "france_code": "VARCHAR",
        "france_value": "DOUBLE", "gap_to_france": "DOUBLE", "previous_period": "VARCHAR",
        "change_since_previous_period": "DOUBLE",
    },
    "dimension_scores": {
        "level": "VARCHAR", "geography_vintage": "VARCHAR", "code": "VARCHAR", "period_group": "VARCHAR",
        "dimension_id": "VARCHAR", "score": "DOUBLE", "n_indicators": "BIGINT", "indicator_ids": "VARCHAR",
    },
    "france_summary": {
        "indicator_id": "VARCHAR", "code": "VARCHAR", "france_name": "VARCHAR", "period": "VARCHAR",
        "period_start": "BIGINT", "period_end": "BIGINT", "value": "DOUBLE", "unit": "VARCHAR",
        "previous_period": "VARCHAR", "previous_value": "DOUBLE", "change": "DOUBLE", "change_unit": "VARCHAR",
        "change_pct": "DOUBLE", "is_latest": "BOOLEAN", "headline": "VARCHAR",
    },
    "publication": {
        "published_at": "TIMESTAMP WITH TIME ZONE", "run_id": "VARCHAR", "code_version": "VARCHAR",
        "code_version_source": "VARCHAR", "schema_version": "INTEGER", "schema_fingerprint": "VARCHAR",
        "sources_sha256": "VARCHAR", "source_files": "MAP(VARCHAR, VARCHAR)", "row_counts": "MAP(VARCHAR, BIGINT)",
        "indicator_digests": "MAP(VARCHAR, VARCHAR)", "shared_digest": "VARCHAR",
    },
}


def columns(table: str) -> list[str]:
    """The columns of ``mart.<table>``, in order."""
    return list(TYPES[table])


def fingerprint(types: dict[str, dict[str, str]] | None = None) -> str:
    """SHA-256 of the contract: one line ``table.column TYPE`` per column, tables by name, columns
    in order (what :func:`barometre.warehouse.contract_fingerprint` reads from a database)."""
    types = TYPES if types is None else types
    return hashlib.sha256("".join(f"{t}.{c} {ty}\n" for t in sorted(types)
                                  for c, ty in types[t].items()).encode()).hexdigest()


def select_list(table: str, source: str = "") -> str:
    """``CAST(col AS TYPE) AS col, …`` of ``mart.<table>`` (``source``: a prefix such as ``t.``)."""
    return ", ".join(f'CAST({source}"{c}" AS {ty}) AS "{c}"' for c, ty in TYPES[table].items())
