"""Dagster wiring of the barometer: thin asset and asset-check definitions over ``barometre``.

Layers, each a DuckDB schema of the working database (the asset key prefix is the schema):
``raw`` (parsed source files) → ``core`` (keys and derived reference tables) → ``indicators``
(one table per indicator, grouped by cohesion dimension) → ``mart`` (the published contract)
→ ``published_barometre`` (the atomic publication of ``data/barometre.duckdb``).
"""
