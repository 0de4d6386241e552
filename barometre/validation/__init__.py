"""Great Expectations 1.x suites of the raw tables and of the derived values.

Every raw table is declared next to its parser (``SCHEMA`` in :mod:`barometre.sources`, see
:mod:`barometre.sources._schema`). This module generates the GX expectation suites from those
declarations, validates a table with them and turns the GX results into :class:`CheckOutcome`
objects, one per check, that ``assets/checks.py`` reports as Dagster asset checks. It also
checks the derived values of ``mart.indicator_values`` (:func:`validate_indicator_values`).
docs/validation.md describes every rule.

A raw table has one blocking check, ``gx_suite``: its whole suite, whose expectations fall in
the rule groups of :data:`RULE_GROUPS` (columns and types, territory codes, territory coverage,
keys and periods, value domains), named in each failure. A quarantine rule
(``median_eur_integer``) has a WARN check of its own: its rows are set aside in
``mart.rejected_rows`` by the pipeline, and the check reports them.

Great Expectations is imported lazily, once per process (:func:`gx_runtime`): the import costs
about 3 s, so every check of a run shares one import, one ephemeral context and one batch
definition (each frame is a batch parameter). A suite runs first with ``BOOLEAN_ONLY`` results
(a frame of 20 000 rows or more one set of columns at a time); only failed expectations are run
again with ``SUMMARY`` results and the example columns (territory code, period), on the whole
frame, which keeps passing runs cheap.
This module does not import Dagster.

The package is split by concern: :mod:`.runtime` (the GX runtime and results), :mod:`.raw` (the
raw tables' rules), :mod:`.derived` (the derived-value checks), :mod:`.folders` (source folders),
:mod:`.summary` (the run summary). Today's public names are re-exported here.
"""

from barometre.validation.derived import (  # noqa: F401
    _TOLERANCE,
    DERIVED_CHECKS,
    DERIVED_FORMULAS,
    derived_region_frame,
    france_frame,
    plausible_frame,
    validate_indicator_values,
)
from barometre.validation.raw import (  # noqa: F401
    RULE_GROUPS,
    SUITE_CHECK,
    check_names,
    column_types,
    manifest_schema,
    raw_schemas,
    validate_raw,
    warn_checks,
)
from barometre.validation.runtime import MAX_EXAMPLES, CheckOutcome, Failure, gx_runtime  # noqa: F401
from barometre.validation.summary import format_check_summary  # noqa: F401
