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
about 3 s, so every check of a run shares one import and one ephemeral context. A suite runs
first with ``BOOLEAN_ONLY`` results; only failed expectations are run again with ``SUMMARY``
results and the example columns (territory code, period), which keeps passing runs cheap.
This module does not import Dagster.
"""

from __future__ import annotations

import functools
import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from barometre import geography
from barometre.catalogue import Catalogue
from barometre.geography import CODE_PATTERNS
from barometre.sources._schema import (
    KINDS,
    UNITS,
    Allowed,
    Codes,
    CountRange,
    Coverage,
    IndicatorValues,
    Ordered,
    Pattern,
    RawSchema,
    Values,
)

SUITE_CHECK = "gx_suite"  # the blocking check of a raw table: its whole suite
RULE_GROUPS: dict[str, str] = {
    "columns_and_types": "exactly the declared columns in order, with their kinds; required cells filled; "
                         "categorical values",
    "territory_codes": "territory codes have the format of their level and exist in its geography vintage",
    "territory_coverage": "every expected territory is present in each period, or their number is in range",
    "keys_and_periods": "one row per key; only the expected periods, all of them",
    "value_domains": "values in their unit's domain and the catalogue's plausible bounds; orders between columns",
}
DERIVED_CHECKS: dict[str, str] = {
    "derived_region_values": "a derived région value is Σ numerators / Σ denominators of its départements",
    "france_within_regions": "a France value (FRM, FRMD) lies between the min and max of its régions",
    "plausible_bounds": "every value lies within its indicator's plausible bounds (catalogue)",
}
MAX_EXAMPLES = 10
_CODE_RULES = {
    "france": "a France code is FR, FRM or FRMD",
    "region": "a région code has two digits (01…06, 11…94)",
    "departement": "a département code is 01…95, 2A, 2B or 971…976 (no lost leading zero, no '20')",
    "epci": "an EPCI code is a 9-digit SIREN",
    "zone_emploi": "a zone d'emploi code has 4 digits (leading zeros kept)",
    "commune": "a commune code has 5 characters (2A/2B for Corsica, leading zeros kept)",
    "ministere": "a Ministry code is 1…95 (with or without its leading zero), 2A, 2B or ZA…ZZ",
}
_LEVEL_NAMES = {"departement": "département", "region": "région"}


# ---------------------------------------------------------------------------------------------
# The schemas of every raw table (asset raw/<table>).


def manifest_schema(catalogue: Catalogue) -> RawSchema:
    """``raw.fichiers_sources``: one row per source file read (from the snapshot or landed
    live), every catalogue source present."""
    return RawSchema(
        table="fichiers_sources", files="data/snapshot or data/landing (catalogue files)",
        columns={"source_id": "text", "path": "text", "url": "text", "origin": "text", "retrieved_at": "text",
                 "http_status": "int", "etag": "text", "last_modified": "text", "bytes": "int", "sha256": "text",
                 "fetched_url": "text"},
        key=("path",), required=("source_id", "bytes", "sha256", "retrieved_at"),
        coverage=(Coverage("source_id", tuple(s.id for s in catalogue.sources), "the catalogue's sources", by=()),),
        values=(Values("bytes", "bytes"),),
        patterns=(Pattern("sha256", r"^[0-9a-f]{64}$", "a SHA-256 is 64 lowercase hexadecimal digits"),
                  Pattern("retrieved_at", r"^[0-9]{4}-[0-9]{2}-[0-9]{2}", "a retrieval date starts YYYY-MM-DD")),
        allowed=(Allowed("source_id", tuple(s.id for s in catalogue.sources)),
                 Allowed("origin", ("snapshot", "live"))),
        examples=("source_id", "path"),
        file_of=lambda row: row["path"],
    )


def raw_schemas(catalogue: Catalogue) -> dict[str, RawSchema]:
    """Every raw table's declaration, by table name: those of the source registry
    (:mod:`barometre.sources.registry`), then the file manifest's."""
    from barometre.sources import registry

    schemas = [t.schema for t in registry.raw_tables().values()] + [manifest_schema(catalogue)]
    return {s.table: s for s in schemas}


def check_names(schema: RawSchema) -> dict[str, str]:
    """The checks of a raw table (name → description): its suite (blocking), then its quarantine
    rules (WARN)."""
    present = {
        "columns_and_types": True,
        "territory_codes": bool(schema.codes),
        "territory_coverage": bool(schema.coverage),
        "keys_and_periods": True,
        "value_domains": bool(schema.values) or any(not _is_period_order(schema, o) for o in schema.ordered),
    }
    groups = "; ".join(f"{name}: {RULE_GROUPS[name]}" for name, yes in present.items() if yes)
    names = {SUITE_CHECK: f"Great Expectations suite of raw.{schema.table} ({schema.files}). {groups}."}
    for q in schema.quarantine:
        names[q.name] = f"{q.rule}; failing rows are set aside in mart.rejected_rows (WARN)"
    return names


def warn_checks(schema: RawSchema) -> set[str]:
    """The checks of a raw table with WARN severity: its quarantine rules (the suite blocks)."""
    return {q.name for q in schema.quarantine}


# ---------------------------------------------------------------------------------------------
# Results.


@dataclass
class Failure:
    """One failed expectation: what failed, where, how many, and up to 10 example rows."""

    expectation: str
    rule: str
    column: str | None
    file: str
    count: int | None
    noun: tuple[str, str]  # what is counted: (singular, plural)
    examples: list[dict] = field(default_factory=list)
    detail: str | None = None
    group: str = ""

    def message(self) -> str:
        where = f"{self.file}: column {self.column!r}" if self.column else self.file
        text = f"{where}: {self.rule} [{self.expectation}]"
        if self.count is not None:
            text += f": {self.count} {self.noun[0] if self.count == 1 else self.noun[1]}"
        if self.detail:
            text += f": {self.detail}"
        if self.examples:
            text += f"; e.g. {self.examples[0]}"
        return text

    def as_dict(self) -> dict:
        return {"group": self.group, "expectation": self.expectation, "rule": self.rule, "column": self.column,
                "file": self.file, "unexpected": self.count, "detail": self.detail, "examples": self.examples}


@dataclass
class CheckOutcome:
    """The result of one check of one table."""

    table: str
    name: str
    passed: bool
    severity: str  # "ERROR" (blocking) or "WARN"
    expectations: int
    failures: list[Failure] = field(default_factory=list)
    notes: dict = field(default_factory=dict)
    seconds: float = 0.0  # to validate the table (all its checks)

    @property
    def suite(self) -> str:
        return f"{self.table}.{self.name}"

    @property
    def description(self) -> str:
        if self.passed:
            text = f"{self.expectations} expectations met"
        else:
            shown = [f.message() for f in self.failures[:3]]
            more = len(self.failures) - len(shown)
            text = " | ".join(shown) + (f" | and {more} more failed expectations" if more > 0 else "")
        if self.notes.get("quarantined"):
            text += "; set aside in mart.rejected_rows, not published: " + ", ".join(
                f"{n} rows ({rule})" for rule, n in self.notes["quarantined"].items())
        return text


# ---------------------------------------------------------------------------------------------
# The Great Expectations runtime: one import and one ephemeral context per process.


@dataclass
class _Runtime:
    gx: Any
    context: Any
    source: Any
    import_seconds: float
    batch_definitions: dict = field(default_factory=dict)

    def validate(self, name: str, frame: pd.DataFrame, expectations: list, result_format) -> Any:
        definition = self.batch_definitions.get(name)
        if definition is None:
            asset = self.source.add_dataframe_asset(name)
            definition = self.batch_definitions[name] = asset.add_batch_definition_whole_dataframe(name)
        batch = definition.get_batch(batch_parameters={"dataframe": frame})
        suite = self.gx.ExpectationSuite(name=name, expectations=expectations)
        return batch.validate(suite, result_format=result_format)


@functools.cache
def gx_runtime() -> _Runtime:
    """Import Great Expectations and build an ephemeral context (once per process), progress
    bars off."""
    start = time.perf_counter()
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas("barometre")
    return _Runtime(gx, context, source, time.perf_counter() - start)


@dataclass(frozen=True)
class _Rule:
    group: str  # a rule group of RULE_GROUPS, a quarantine rule, or a derived check
    rule: str
    column: str | None
    build: Callable[[Any], Any]  # gx.expectations → an Expectation
    batch: str = "table"
    noun: tuple[str, str] = ("row", "rows")  # what a failure counts: (singular, plural)
    index: tuple[str, ...] = ()


def _condition(where: Mapping[str, object]):
    """A GX row condition selecting the rows where every column equals its value."""
    if not where:
        return None
    from great_expectations.expectations.row_conditions import Column

    conditions = [Column(col) == value for col, value in where.items()]
    out = conditions[0]
    for cond in conditions[1:]:
        out = out & cond
    return out


def _run(table: str, rules: list[_Rule], frames: dict[str, pd.DataFrame]) -> dict[int, tuple[bool, Any]]:
    """Validate every batch with its rules; returns rule index → (success, result of the second,
    detailed pass for the failed ones)."""
    runtime = gx_runtime()
    E = runtime.gx.expectations
    outcome: dict[int, tuple[bool, Any]] = {}
    for batch in dict.fromkeys(r.batch for r in rules):
        indexed = [(i, r) for i, r in enumerate(rules) if r.batch == batch]
        name = f"{table}.{batch}"
        first = runtime.validate(name, frames[batch], [_built(E, i, r) for i, r in indexed], "BOOLEAN_ONLY")
        failed = set()
        for res in first.results:
            i = res.expectation_config.meta["rule"]
            outcome[i] = (bool(res.success), None)
            if not res.success:
                failed.add(i)
        if not failed:
            continue
        index = [c for c in dict.fromkeys(c for i, r in indexed if i in failed for c in r.index)
                 if c in frames[batch].columns]
        fmt = {"result_format": "SUMMARY", "partial_unexpected_count": MAX_EXAMPLES}
        if index:
            fmt["unexpected_index_column_names"] = index
        second = runtime.validate(name, frames[batch], [_built(E, i, r) for i, r in indexed if i in failed], fmt)
        for res in second.results:
            outcome[res.expectation_config.meta["rule"]] = (bool(res.success), res)
    return outcome


def _non_capturing(regex: str) -> str:
    """The same regex with non-capturing groups (GX's pandas engine warns about capturing ones)."""
    return re.sub(r"(?<!\\)\((?!\?)", "(?:", regex)


def _built(E: Any, i: int, rule: _Rule):
    expectation = rule.build(E)
    expectation.meta = {"rule": i, "group": rule.group}
    return expectation


def _at_least(E: Any, greater: str, lesser: str):
    """``greater`` ≥ ``lesser`` on every row where both are present."""
    return E.ExpectColumnPairValuesAToBeGreaterThanB(column_A=greater, column_B=lesser, or_equal=True,
                                                    ignore_row_if="either_value_is_missing")


def _plain(value: Any) -> Any:
    """A JSON-friendly Python value (numpy scalars, NaN and pd.NA become plain values / None)."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _examples(result: Any, rule: _Rule, first: tuple[str, ...]) -> list[dict]:
    r = result.result or {}
    rows = r.get("partial_unexpected_index_list") or []
    if rows and isinstance(rows[0], dict):
        examples = [_plain(row) for row in rows]
    else:
        values = r.get("partial_unexpected_list") or []
        examples = [{rule.column or "value": _plain(v)} for v in values]
    order = [c for c in first if any(c in e for e in examples)]
    return [{**{c: e[c] for c in order if c in e}, **{k: v for k, v in e.items() if k not in order}}
            for e in examples[:MAX_EXAMPLES]]


def _detail(result: Any) -> str | None:
    info = result.exception_info or {}
    if isinstance(info, dict) and info.get("raised_exception"):
        return f"could not be evaluated: {info.get('exception_message')}"
    if isinstance(info, dict):  # keyed by metric when several metrics raised
        for value in info.values():
            if isinstance(value, dict) and value.get("raised_exception"):
                return f"could not be evaluated: {value.get('exception_message')}"
    r = result.result or {}
    config = result.expectation_config
    if config.type == "expect_table_columns_to_match_ordered_list":
        observed = list(r.get("observed_value") or [])
        expected = list(config.kwargs["column_list"])
        parts = []
        if missing := [c for c in expected if c not in observed]:
            parts.append(f"missing {missing}")
        if extra := [c for c in observed if c not in expected]:
            parts.append(f"unexpected {extra}")
        return "; ".join(parts) or f"order differs: {observed}"
    if "observed_value" in r:
        return f"observed {_plain(r['observed_value'])}"
    if "partial_missing_list" in r:
        return f"missing {_plain(r['partial_missing_list'])}"
    return None


def _outcomes(table: str, checks: Mapping[str, str], rules: list[_Rule], results: dict[int, tuple[bool, Any]],
              file_for: Callable[[Mapping | None], str], first: tuple[str, ...], severity: Mapping[str, str],
              seconds: float, check_of: Callable[[str], str] = lambda group: group) -> list[CheckOutcome]:
    out = []
    for check in checks:
        mine = [(i, r) for i, r in enumerate(rules) if check_of(r.group) == check]
        failures = []
        for i, rule in mine:
            ok, result = results[i]
            if ok:
                continue
            r = result.result or {}
            examples = _examples(result, rule, first)
            count = r.get("unexpected_count")
            failures.append(Failure(result.expectation_config.type, rule.rule, rule.column,
                                    file_for(examples[0] if examples else None), _plain(count), rule.noun,
                                    examples, None if count is not None and examples else _detail(result),
                                    rule.group))
        out.append(CheckOutcome(table, check, not failures, severity.get(check, "ERROR"), len(mine), failures,
                                seconds=seconds))
    return out


# ---------------------------------------------------------------------------------------------
# Raw tables.


def column_types(frame: pd.DataFrame) -> pd.DataFrame:
    """The schema of a table as data, one row per column with its type: the pandas dtype name,
    ``str`` for an object column holding only strings (or nothing), else ``object (<what pandas
    infers>)``. GX checks the declared kinds on it in one expectation."""
    types = []
    for col in frame.columns:
        dtype = str(frame[col].dtype)
        if dtype in ("object", "string"):
            inferred = pd.api.types.infer_dtype(frame[col], skipna=True)
            dtype = "str" if inferred in ("string", "empty") else f"object ({inferred})"
        types.append(dtype)
    return pd.DataFrame({"column": [str(c) for c in frame.columns], "type": types})


def _for_gx(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame GX validates: a fresh index, and nullable integers as floats (exact below 2**53)
    so that GX compares them vectorised rather than value by value. Kinds are checked on
    :func:`column_types` of the frame as read."""
    out = frame.reset_index(drop=True)
    ints = [c for c in out.columns if isinstance(out[c].dtype, pd.Int64Dtype)]
    return out.astype({c: "float64" for c in ints}) if ints else out


def _is_period_order(schema: RawSchema, order: Ordered) -> bool:
    return {order.greater, order.lesser} & {schema.period, "period_start", "period_end"} != set()


def _periods(schema: RawSchema, catalogue: Catalogue) -> tuple | None:
    return schema.periods(catalogue) if callable(schema.periods) else schema.periods


def _where(frame: pd.DataFrame, where: Mapping[str, object]) -> pd.DataFrame:
    for col, value in where.items():
        frame = frame[frame[col] == value]
    return frame


def _grid(frame: pd.DataFrame, spec: Coverage, groups: pd.DataFrame) -> pd.DataFrame:
    """One row per (group, expected code) with the number of rows of ``frame`` holding it."""
    sub = _where(frame, spec.where)
    by = list(spec.by)
    counts = sub.groupby([*by, spec.column], dropna=True).size().rename("rows").reset_index() if len(sub) else \
        pd.DataFrame(columns=[*by, spec.column, "rows"])
    if by:
        grid = groups[by].drop_duplicates().merge(pd.DataFrame({spec.column: list(spec.expected)}), how="cross")
    else:
        grid = pd.DataFrame({spec.column: list(spec.expected)})
    grid = grid.astype({spec.column: "string"})
    counts = counts.astype({spec.column: "string"})
    for col in by:
        counts[col] = counts[col].astype(grid[col].dtype)
    grid = grid.merge(counts, on=[*by, spec.column], how="left")
    grid["rows"] = grid["rows"].astype("float64").fillna(0).astype("int64")
    return grid[[spec.column, *by, "rows"]]


def _count_frame(frame: pd.DataFrame, spec: CountRange) -> pd.DataFrame:
    sub = _where(frame, spec.where)
    if spec.by:
        counts = sub.groupby(list(spec.by))[spec.column].nunique().rename("territories").reset_index()
    else:
        counts = pd.DataFrame({"territories": [sub[spec.column].nunique()]})
    return counts.astype({"territories": "int64"})


def _raw_rules(schema: RawSchema, frame: pd.DataFrame, types: pd.DataFrame, catalogue: Catalogue,
               reference_sets: Mapping[str, tuple[str, ...]]) -> tuple[list[_Rule], dict[str, pd.DataFrame]]:
    rules: list[_Rule] = []
    frames: dict[str, pd.DataFrame] = {"table": frame}
    ex = tuple(c for c in schema.examples if c in frame.columns)
    columns = list(schema.columns)

    def add(group, rule, column, build, **kw):
        rules.append(_Rule(group, rule, column, build, index=kw.pop("index", ex), **kw))

    # columns_and_types
    add("columns_and_types", "exactly the declared columns, in this order (schema drift is an error)", None,
        lambda E: E.ExpectTableColumnsToMatchOrderedList(column_list=columns))
    frames["types"] = types
    kinds = [[col, t] for col, kind in schema.columns.items() for t in KINDS[kind]]
    add("columns_and_types", "each column has its declared kind: "
        + ", ".join(f"{c} {k}" for c, k in schema.columns.items()), None,  # each example row names its column
        lambda E: E.ExpectColumnPairValuesToBeInSet(column_A="column", column_B="type", value_pairs_set=kinds,
                                                    ignore_row_if="neither"),
        batch="types", noun=("column", "columns"), index=("column",))
    required = dict.fromkeys([*schema.key, *([schema.period] if schema.period else []), *schema.required])
    for col in required:
        # a numpy int64 or bool column cannot hold an empty cell (its kind is checked above)
        if col in frame.columns and str(frame[col].dtype) not in ("int64", "bool"):
            add("columns_and_types", "no empty cell in a required column", col,
                lambda E, col=col: E.ExpectColumnValuesToNotBeNull(column=col))
    if set(schema.columns) - set(frame.columns):
        # schema drift: the other rules cannot be read on this table (its quarantine checks fail
        # as not evaluated, validate_raw)
        return rules, frames
    for spec in schema.allowed:
        add("columns_and_types", f"one of {list(spec.values)}", spec.column,
            lambda E, s=spec: E.ExpectColumnValuesToBeInSet(column=s.column, value_set=list(s.values)))
    for spec in schema.patterns:
        check = "keys_and_periods" if spec.column == schema.period else "columns_and_types"
        add(check, spec.label, spec.column,
            lambda E, s=spec: E.ExpectColumnValuesToMatchRegex(column=s.column, regex=_non_capturing(s.regex)))

    # territory_codes: the level's format, or (stricter, and cheaper) the set of known codes
    for spec in schema.codes:
        name = _LEVEL_NAMES.get(spec.level, spec.level)
        scope = "" if not spec.where else " (rows with " + ", ".join(f"{k} = {v}" for k, v in spec.where.items()) + ")"
        if spec.known is None:
            pattern = spec.pattern or CODE_PATTERNS[spec.level].pattern
            label = _CODE_RULES.get(spec.level) or f"a {name} code matches {pattern}"
            add("territory_codes", label + scope, spec.column,
                lambda E, s=spec, p=pattern: E.ExpectColumnValuesToMatchRegex(
                    column=s.column, regex=_non_capturing(p), row_condition=_condition(s.where)))
            continue
        known = spec.known
        if isinstance(known, str):
            if known not in reference_sets:
                raise ValueError(f"raw.{schema.table}: reference set {known!r} of column {spec.column!r} not supplied")
            known = reference_sets[known]
        # The level's format is named where every known code has it (not the COG's COM codes).
        fmt = CODE_PATTERNS.get(spec.level)
        label = f"a {name} code is one of {spec.known_label}"
        if fmt is not None and all(fmt.match(code) for code in known):
            label = f"{_CODE_RULES[spec.level]}: one of {spec.known_label}"
        add("territory_codes", label + scope, spec.column,
            lambda E, s=spec, k=tuple(known): E.ExpectColumnValuesToBeInSet(
                column=s.column, value_set=list(k), row_condition=_condition(s.where)))

    # territory_coverage (on derived frames: the expected grid, or counts per period)
    periods = _periods(schema, catalogue)
    for n, spec in enumerate(schema.coverage):
        name = f"coverage_{n}"
        if isinstance(spec, Coverage):
            if schema.period and spec.by == (schema.period,) and periods is not None:
                # every expected period, present or not
                groups = pd.DataFrame({schema.period: pd.Series(periods, dtype=frame[schema.period].dtype)})
            else:
                groups = _where(frame, spec.where)[list(spec.by)]
            frames[name] = _grid(frame, spec, groups)
            each = f" for each {' × '.join(spec.by)}" if spec.by else ""
            add("territory_coverage", f"every one of {spec.label} is present{each}", spec.column,
                lambda E: E.ExpectColumnValuesToBeBetween(column="rows", min_value=1),
                batch=name, noun=("missing territory", "missing territories"), index=(spec.column, *spec.by))
        else:
            frames[name] = _count_frame(frame, spec)
            each = f" per {' × '.join(spec.by)}" if spec.by else ""
            span = f"{spec.low}" if spec.low == spec.high else f"{spec.low}–{spec.high}"
            scope = "" if not spec.where else " (" + ", ".join(f"{k} = {v}" for k, v in spec.where.items()) + ")"
            add("territory_coverage", f"{span} {spec.label}{scope}", spec.column,
                lambda E, s=spec: E.ExpectColumnValuesToBeBetween(column="territories", min_value=s.low,
                                                                  max_value=s.high),
                batch=name, noun=("group", "groups"), index=tuple(spec.by))

    # keys_and_periods
    key = list(schema.key)
    if len(key) == 1:
        add("keys_and_periods", f"one row per {key[0]}", key[0],
            lambda E: E.ExpectColumnValuesToBeUnique(column=key[0]))
    else:
        add("keys_and_periods", f"one row per ({', '.join(key)})", ", ".join(key),
            lambda E: E.ExpectCompoundColumnsToBeUnique(column_list=key))
    if periods is not None:
        add("keys_and_periods", f"a period is one of {list(periods)}", schema.period,
            lambda E: E.ExpectColumnValuesToBeInSet(column=schema.period, value_set=list(periods)))
        if not any(isinstance(c, Coverage) and c.by == (schema.period,) for c in schema.coverage):
            # (a coverage rule by period already reports a missing period, with its territories)
            add("keys_and_periods", f"every period of {list(periods)} is present", schema.period,
                lambda E: E.ExpectColumnDistinctValuesToContainSet(column=schema.period, value_set=list(periods)))
    for spec in schema.ordered:
        check = "keys_and_periods" if _is_period_order(schema, spec) else "value_domains"
        add(check, f"{spec.greater} ≥ {spec.lesser}", spec.greater,
            lambda E, s=spec: _at_least(E, s.greater, s.lesser))

    # value_domains
    for n, spec in enumerate(s for s in schema.values if isinstance(s, IndicatorValues)):
        # Each row carries the indicator named by its key column: its plausible bounds (which lie
        # within its unit's domain, a test checks) sit next to the value.
        name = f"indicator_values_{n}"
        bounds = pd.DataFrame([{spec.key_column: i.cget_id, "indicator_id": i.id, "plausible_min": i.plausible[0],
                                "plausible_max": i.plausible[1]} for i in catalogue.indicators if i.cget_id])
        keep = list(dict.fromkeys([*ex, spec.key_column, spec.column]))
        frames[name] = frame[keep].merge(bounds.astype({spec.key_column: frame[spec.key_column].dtype}),
                                         on=spec.key_column, how="left")
        add("value_domains", "every row names a catalogue indicator", spec.key_column,
            lambda E: E.ExpectColumnValuesToNotBeNull(column="indicator_id"), batch=name,
            index=(*ex, spec.key_column))
        add("value_domains", "a value is ≥ its indicator's plausible minimum (catalogue)", spec.column,
            lambda E, s=spec: _at_least(E, s.column, "plausible_min"),
            batch=name, index=(*ex, "indicator_id"))
        add("value_domains", "a value is ≤ its indicator's plausible maximum (catalogue)", spec.column,
            lambda E, s=spec: _at_least(E, "plausible_max", s.column),
            batch=name, index=(*ex, "indicator_id"))
    for spec in (s for s in schema.values if isinstance(s, Values)):
        unit = UNITS[spec.unit]
        add("value_domains", unit.label, spec.column,
            lambda E, s=spec, u=unit: E.ExpectColumnValuesToBeBetween(
                column=s.column, min_value=u.min, max_value=u.max, strict_min=u.strict_min))
        if spec.indicator:
            low, high = catalogue.indicator(spec.indicator).plausible
            add("value_domains", f"plausible bounds of {spec.indicator} (catalogue): {low:g}–{high:g} "
                                 f"{catalogue.indicator(spec.indicator).unit}", spec.column,
                lambda E, s=spec, lo=low, hi=high: E.ExpectColumnValuesToBeBetween(
                    column=s.column, min_value=lo, max_value=hi))

    # quarantine rules (WARN)
    for spec in schema.quarantine:
        add(spec.name, spec.rule, spec.column,
            lambda E, s=spec: E.ExpectColumnValuesToMatchRegex(column=s.column, regex=_non_capturing(s.regex)))
    return rules, frames


def validate_raw(schema: RawSchema, frame: pd.DataFrame, catalogue: Catalogue,
                 reference_sets: Mapping[str, tuple[str, ...]] | None = None) -> list[CheckOutcome]:
    """Run the suite of a raw table: one :class:`CheckOutcome` per entry of :func:`check_names`."""
    start = time.perf_counter()
    rules, frames = _raw_rules(schema, _for_gx(frame), column_types(frame), catalogue, reference_sets or {})
    results = _run(f"raw.{schema.table}", rules, frames)
    warn = warn_checks(schema)
    outcomes = _outcomes(f"raw.{schema.table}", check_names(schema), rules, results, schema.file_for,
                         schema.examples, dict.fromkeys(warn, "WARN"), time.perf_counter() - start,
                         check_of=lambda group: group if group in warn else SUITE_CHECK)
    missing = [c for c in schema.columns if c not in frame.columns]
    for q in schema.quarantine:
        [outcome] = [o for o in outcomes if o.name == q.name]
        if missing:  # its rule was not run (see _raw_rules): it has not passed
            outcome.passed = False
            outcome.failures.append(Failure(
                "expect_column_values_to_match_regex", q.rule, q.column, schema.files, None, ("row", "rows"),
                detail=f"not evaluated: schema drift (missing columns {missing})", group=q.name))
            continue
        if q.set_aside is None:
            continue
        aside = q.set_aside(frame)
        counts = {str(rule): int(n) for rule, n in aside["rule"].value_counts(sort=False).items()} if len(aside) else {}
        outcome.notes["quarantined"] = counts
    return outcomes


# ---------------------------------------------------------------------------------------------
# Derived values of mart.indicator_values.

# Value of a derived row from its numerator and denominator, as the catalogue defines it
# (restated here so that the check does not reuse the code it checks). ``years`` is the span of
# the period. A derived indicator missing here fails the check: declare its formula.
DERIVED_FORMULAS: dict[str, Callable[[pd.Series, pd.Series, pd.Series], pd.Series]] = {
    "medecins_pour_100k": lambda num, den, years: num / den * 100_000,
    "participation_presidentielle_t1": lambda num, den, years: num / den * 100,
    # derived only for one-year spans: the yearly rate is the rate of the span
    "solde_migratoire_annuel": lambda num, den, years: num / den * 100,
    "croissance_population_annuelle": lambda num, den, years: ((num / den) ** (1.0 / years) - 1.0) * 100,
}
_TOLERANCE = 1e-9  # relative: sums of counts are exact, formulas agree to rounding errors


def _gap(a: pd.Series, b: pd.Series) -> pd.Series:
    return (a - b).abs() / b.abs().clip(lower=1.0)


def derived_region_frame(values: pd.DataFrame, hierarchy: pd.DataFrame) -> pd.DataFrame:
    """One row per derived région value, next to the sums of its départements' numerators and
    denominators (same indicator, source and period) and the value the formula gives them.

    ``missing_departements`` names the région's départements (département → région rows of
    today's geography in ``hierarchy``, ``core.hierarchie_territoires``) whose counts are not all
    there: no row, no numerator, or no denominator where others carry one. A région with no
    département in the hierarchy is reported there too.
    ``denominator_sum`` is missing when the départements' rows carry no denominator (the DREES
    densities are published values): the région's own denominator is then used in the formula.
    """
    region_of = geography.parent_of(hierarchy, "departement", "region")
    n_members = pd.Series(region_of).value_counts()
    keys = ["indicator_id", "source_id", "period"]
    dep = values[values["level"] == "departement"].assign(region=lambda d: d["code"].map(region_of))
    dep = dep[dep["region"].notna()]
    sums = dep.groupby([*keys, "region"]).agg(
        departements_with_numerator=("numerator", "count"), departements_with_denominator=("denominator", "count"),
        numerator_sum=("numerator", "sum"), denominator_sum=("denominator", "sum")).reset_index()
    # A département's counts are there when its row has a numerator, and a denominator too
    # where any of its région's départements carries one.
    any_den = dep.groupby([*keys, "region"])["denominator"].transform("count") > 0
    counted = dep[dep["numerator"].notna() & (dep["denominator"].notna() | ~any_den)]
    have = counted.groupby([*keys, "region"])["code"].agg(set).rename("member_codes").reset_index()
    reg = values[(values["level"] == "region") & values["derived"]]
    out = reg[[*keys, "code", "period_start", "period_end", "value", "numerator", "denominator"]].merge(
        sums.rename(columns={"region": "code"}), on=[*keys, "code"], how="left").merge(
        have.rename(columns={"region": "code"}), on=[*keys, "code"], how="left")
    out["departements"] = out["code"].map(n_members).astype("Int64")
    members: dict[str, set[str]] = {}
    for d, r in region_of.items():
        members.setdefault(r, set()).add(d)
    out["missing_departements"] = [
        (", ".join(sorted(members[code] - (have if isinstance(have, set) else set()))) or None) if code in members
        else "(no département of this région in core.hierarchie_territoires)"
        for code, have in zip(out["code"], out["member_codes"])]
    full_den = out["departements_with_denominator"].fillna(0) == out["departements"].astype("float")
    out["denominator_sum"] = out["denominator_sum"].where(full_den)
    out["numerator_gap"] = _gap(out["numerator"], out["numerator_sum"])
    out["denominator_gap"] = _gap(out["denominator"], out["denominator_sum"])
    out["formula"] = out["indicator_id"].where(out["indicator_id"].isin(list(DERIVED_FORMULAS)))
    expected = pd.Series(np.nan, index=out.index)
    den = out["denominator_sum"].fillna(out["denominator"])
    years = (out["period_end"] - out["period_start"]).clip(lower=1)
    for ind, formula in DERIVED_FORMULAS.items():
        mask = out["indicator_id"] == ind
        if mask.any():
            expected[mask] = formula(out.loc[mask, "numerator_sum"], den[mask], years[mask])
    out["expected_value"] = expected
    out["value_gap"] = _gap(out["value"], out["expected_value"])
    return out.drop(columns=["member_codes", "period_start", "period_end"]).reset_index(drop=True)


def france_frame(values: pd.DataFrame, hierarchy: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """France values (FRM, FRMD) next to the min and max of their régions' values (région →
    France rows of today's geography in ``hierarchy``) of the same indicator, source and period.
    Returns (checked rows, rows without any région of the same source). ``FR`` is not compared:
    it has no children in the hierarchy, as it also counts what lies in no région (collectivités
    d'outre-mer, voters abroad)."""
    keys = ["indicator_id", "source_id", "period"]
    regions_of_france = geography.children_of(hierarchy, "region", "france")
    france = values[(values["level"] == "france") & values["code"].isin(list(regions_of_france))]
    regions = values[values["level"] == "region"]
    rows = []
    for (ind, src, period, code), group in france.groupby([*keys, "code"]):
        members = regions[(regions["indicator_id"] == ind) & (regions["source_id"] == src)
                          & (regions["period"] == period) & regions["code"].isin(regions_of_france[code])]
        for value in group["value"]:
            rows.append({"indicator_id": ind, "source_id": src, "code": code, "period": period, "value": value,
                         "regions_with_value": len(members),
                         "region_min": members["value"].min() if len(members) else np.nan,
                         "region_max": members["value"].max() if len(members) else np.nan})
    frame = pd.DataFrame(rows, columns=["indicator_id", "source_id", "code", "period", "value", "regions_with_value",
                                        "region_min", "region_max"])
    checked = frame[frame["regions_with_value"] > 0].reset_index(drop=True)
    return checked, frame[frame["regions_with_value"] == 0].reset_index(drop=True)


def plausible_frame(values: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    bounds = pd.DataFrame([{"indicator_id": i.id, "plausible_min": i.plausible[0], "plausible_max": i.plausible[1]}
                           for i in catalogue.indicators])
    cols = ["indicator_id", "level", "code", "geography_vintage", "period", "source_id", "value"]
    return values[cols].merge(bounds, on="indicator_id", how="left").reset_index(drop=True)


def validate_indicator_values(values: pd.DataFrame, hierarchy: pd.DataFrame,
                              catalogue: Catalogue) -> list[CheckOutcome]:
    """The checks of the derived values of ``mart.indicator_values`` (:data:`DERIVED_CHECKS`)."""
    start = time.perf_counter()
    table = "mart.indicator_values"
    derived = derived_region_frame(values, hierarchy)
    checked, unchecked = france_frame(values, hierarchy)
    frames = {"derived_regions": _for_gx(derived), "france": _for_gx(checked),
              "plausible": _for_gx(plausible_frame(values, catalogue))}
    rules: list[_Rule] = []

    def add(check, rule, column, build, batch, index):
        rules.append(_Rule(check, rule, column, build, batch=batch, index=index))

    reg_index = ("indicator_id", "source_id", "code", "period")
    for column, rule, build in (
        ("missing_departements", "a derived région has the counts of all its départements",
         lambda E: E.ExpectColumnValuesToBeNull(column="missing_departements")),
        ("numerator_gap", "région numerator = Σ numerators of its départements",
         lambda E: E.ExpectColumnValuesToBeBetween(column="numerator_gap", max_value=_TOLERANCE)),
        ("denominator_gap", "région denominator = Σ denominators of its départements (where their rows carry one)",
         lambda E: E.ExpectColumnValuesToBeBetween(column="denominator_gap", max_value=_TOLERANCE)),
        ("formula", "the indicator's aggregation formula is declared (validation.DERIVED_FORMULAS)",
         lambda E: E.ExpectColumnValuesToNotBeNull(column="formula")),
        ("value_gap", "région value = formula(Σ numerators, Σ denominators) of its départements",
         lambda E: E.ExpectColumnValuesToBeBetween(column="value_gap", max_value=_TOLERANCE)),
    ):
        add("derived_region_values", rule, column, build, "derived_regions", reg_index)
    add("france_within_regions", "a France value is ≥ the smallest value of its régions", "value",
        lambda E: _at_least(E, "value", "region_min"),
        "france", reg_index)
    add("france_within_regions", "a France value is ≤ the largest value of its régions", "value",
        lambda E: _at_least(E, "region_max", "value"),
        "france", reg_index)
    plaus_index = ("indicator_id", "level", "code", "geography_vintage", "period", "source_id")
    add("plausible_bounds", "a value is ≥ its indicator's plausible minimum (catalogue)", "value",
        lambda E: _at_least(E, "value", "plausible_min"),
        "plausible", plaus_index)
    add("plausible_bounds", "a value is ≤ its indicator's plausible maximum (catalogue)", "value",
        lambda E: _at_least(E, "plausible_max", "value"),
        "plausible", plaus_index)
    results = _run(table, rules, frames)
    outcomes = _outcomes(table, DERIVED_CHECKS, rules, results, lambda row: table, (*reg_index, "level"), {},
                         time.perf_counter() - start)
    for outcome in outcomes:
        if outcome.name == "derived_region_values":
            outcome.notes["rows_checked"] = len(derived)
        elif outcome.name == "france_within_regions":
            outcome.notes["rows_checked"] = len(checked)
            outcome.notes["not_checked"] = [f"{r.indicator_id} {r.code} {r.period} ({r.source_id}): no région of that "
                                            f"source" for r in unchecked.itertuples()]
        else:
            outcome.notes["rows_checked"] = len(frames["plausible"])
    return outcomes


# ---------------------------------------------------------------------------------------------
# Reporting.


def format_check_summary(evaluations: list[Mapping], planned: int | None = None) -> str:
    """Plain-text summary of a run's check evaluations (``asset``, ``check``, ``passed``,
    ``severity``, ``description``): counts, then every failure and warning. ``planned`` is the
    number of checks the run was to evaluate (those of a failed source are not)."""
    failed = [e for e in evaluations if not e["passed"] and e["severity"] == "ERROR"]
    warned = [e for e in evaluations if not e["passed"] and e["severity"] != "ERROR"]
    passed = len(evaluations) - len(failed) - len(warned)
    evaluated = f"{len(evaluations)} evaluated"
    if planned is not None and planned != len(evaluations):
        evaluated = (f"{len(evaluations)} of {planned} evaluated ({planned - len(evaluations)} not run: their table was "
                     "not materialised)")
    lines = [f"  Asset checks (Great Expectations suites): {evaluated}, {passed} passed, "
             f"{len(failed)} failed, {len(warned)} warning{'s' if len(warned) != 1 else ''}"]
    lines += [f"    FAILED {e['asset']} · {e['check']}: {e['description']}" for e in failed]
    lines += [f"    WARN   {e['asset']} · {e['check']}: {e['description']}" for e in warned]
    return "\n".join(lines)
