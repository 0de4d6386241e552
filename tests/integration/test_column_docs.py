"""One declaration of the published columns' meanings: docs/warehouse.md, read by
barometre/warehouse_columns.py, describes every column of the published file, and the Dagster
assets show the same descriptions in their column schema (``dagster/column_schema``)."""

import pytest

from barometre.warehouse_columns import column_descriptions

pytestmark = pytest.mark.integration


def test_every_published_column_is_described_in_the_docs(published):
    con, _ = published
    columns = con.execute("SELECT table_name, column_name FROM information_schema.columns "
                          "WHERE table_schema = 'mart' ORDER BY table_name, ordinal_position").fetchall()
    docs = column_descriptions()
    assert {t for t, _ in columns} == set(docs)
    undocumented = [f"mart.{t}.{c}" for t, c in columns if c not in docs[t]]
    assert undocumented == [], "columns missing from docs/warehouse.md (Table reference): " + ", ".join(undocumented)
    stale = sorted(f"mart.{t}.{c}" for t in docs for c in docs[t] if (t, c) not in set(columns))
    assert stale == [], "docs/warehouse.md describes columns the file does not have: " + ", ".join(stale)


def test_the_assets_column_schema_carries_the_descriptions(published):
    con, result = published
    docs = column_descriptions()
    assert docs["territories"]["parent_departement"].startswith("Département code: set for EPCI")
    for table in ("territories", "indicator_values", "quality_report", "rankings", "dimension_scores", "france_summary"):
        (event,) = result.asset_materializations_for_node(f"mart__{table}")
        schema = event.metadata["dagster/column_schema"].schema
        assert {c.name: c.description for c in schema.columns} == {c: docs[table][c] for c in
                                                                   (col.name for col in schema.columns)}, table
