"""The benchmark of the barometer: ``make bench`` (``python -m tests.bench``).

Where the time goes on the bundled snapshot and how the cost grows down to the commune level;
it prints every figure and writes docs/benchmarks.md. It lives under ``tests/`` because it is
verification tooling, not part of the package: it imports Dagster (``barometre/`` must not) and
is not installed. pytest does not collect it (no ``test_*.py`` here); ``tests/unit/test_bench.py``
checks its helpers, never a timing.

- ``measure.py``  figures (median, min, max), growth-exponent fit, peak memory, machine, children
- ``pipeline.py`` full materialisation, the DuckDB floor, re-materialisation after one source
                  changes (Dagster runs, each in a fresh process)
- ``scaling.py``  the indicator, disparity and ranking code on synthetic commune-level inputs,
                  against a one-shot pandas script
- ``__main__.py`` runs them all and writes the report
"""
