"""Baromètre de la cohésion des territoires: the domain, importable without Dagster.

- ``catalogue.yaml`` / :mod:`barometre.catalogue`: dimensions, indicators and sources (data);
- :mod:`barometre.geography`: territory codes, levels, parents, France perimeters;
- :mod:`barometre.sources`: one parser per source file format;
- :mod:`barometre.indicators`: the sixteen indicators;
- :mod:`barometre.marts`: the published tables;
- :mod:`barometre.warehouse`: atomic publication of the DuckDB file;
- :mod:`barometre.definitions`: the Dagster entry point (the only module importing Dagster).
"""
