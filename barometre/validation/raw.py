"""The suites of the raw tables, generated from their declarations (no Dagster).

See docs/validation.md for every rule group.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import numpy as np
import pandas as pd

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
from barometre.validation.runtime import (
    CheckOutcome,
    Failure,
    _at_least,
    _condition,
    _for_gx,
    _non_capturing,
    _outcomes,
    _Rule,
    _run,
)

SUITE_CHECK = "gx_suite"  # the blocking check of a raw table: its whole suite
RULE_GROUPS: dict[str, str] = {
    "columns_and_types": "exactly the declared columns in order, with their kinds; required cells filled; "
                         "categorical values",
    "territory_codes": "territory codes have the format of their level and exist in its geography vintage",
    "territory_coverage": "every expected territory is present in each period, or their number is in range",
    "keys_and_periods": "one row per key; only the expected periods, all of them",
    "value_domains": "values in their unit's domain and the catalogue's plausible bounds; orders between columns",
    "scale_and_jumps": "a file's median per period in its typical range (a ×100, ÷100, ÷1000 or a unit change is "
                       "refused whatever the bounds); no change beyond the declared factor between consecutive periods "
                       "of a territory",
}
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
        "value_domains": bool(schema.values or schema.identities)
                         or any(not _is_period_order(schema, o) for o in schema.ordered),
        "scale_and_jumps": bool(schema.medians or schema.max_jump
                                or any(isinstance(v, IndicatorValues) or v.indicator for v in schema.values)),
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
               reference_sets: Mapping[str, tuple[str, ...]], tables: Mapping[str, pd.DataFrame] | None = None
               ) -> tuple[list[_Rule], dict[str, pd.DataFrame]]:
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
        live = schema.live_periods(catalogue) if callable(schema.live_periods) else schema.live_periods
        allowed = [*periods, *(p for p in live if p not in periods)]
        add("keys_and_periods", f"a period is one of {allowed}", schema.period,
            lambda E: E.ExpectColumnValuesToBeInSet(column=schema.period, value_set=allowed))
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

    for n, spec in enumerate(schema.identities):
        name = f"identity_{n}"
        missing = [t for t in spec.tables if t not in (tables or {})]
        if missing:
            raise ValueError(f"raw.{schema.table}: identity on {spec.column!r} needs the tables {missing}")
        gap = spec.gap(frame, tables or {})
        shown = list(dict.fromkeys(c for c in (*ex, *spec.columns) if c in frame.columns))
        frames[name] = frame[shown].assign(gap=gap.astype("float64").values)
        add("value_domains", f"{spec.rule} (tolerance {spec.tolerance:g})", spec.column,
            lambda E, s=spec: E.ExpectColumnValuesToBeBetween(column="gap", max_value=s.tolerance),
            batch=name, index=(*shown, "gap"))
    _scale_rules(schema, frame, catalogue, add, frames, ex)

    # quarantine rules (WARN)
    for spec in schema.quarantine:
        add(spec.name, spec.rule, spec.column,
            lambda E, s=spec: E.ExpectColumnValuesToMatchRegex(column=s.column, regex=_non_capturing(s.regex)))
    return rules, frames


def median_frame(frame: pd.DataFrame, column: str, by: list[str]) -> pd.DataFrame:
    """The median of |column| per group of ``by`` (e.g. file × period), and the group's rows."""
    sub = frame[[*by, column]].assign(_abs=frame[column].astype("float64").abs())
    out = sub.groupby(by, dropna=False)["_abs"].agg(median="median", rows="count").reset_index()
    return out[out["rows"] > 0].reset_index(drop=True)


def jump_frame(frame: pd.DataFrame, column: str, territory: list[str], period: str,
               order: str | None = None) -> pd.DataFrame:
    """One row per (territory, period) with the value of the territory's previous period and the
    factor between them (larger / smaller), where both are > 0 (a ratio to 0 or across a change
    of sign means nothing: such pairs are not compared)."""
    order = order or period
    cols = list(dict.fromkeys([*territory, period, order, column]))
    sub = frame[cols].sort_values([*territory, order], kind="stable")
    shifted = sub.groupby(territory, dropna=False, sort=False)[[period, column]].shift()  # one grouping for both
    sub = sub.assign(previous_period=shifted[period], previous=shifted[column])
    value = sub[column].astype("float64")
    prev = sub["previous"].astype("float64")
    ok = (value > 0) & (prev > 0)
    sub = sub[ok].assign(factor=np.maximum(value[ok], prev[ok]) / np.minimum(value[ok], prev[ok]))
    return sub[[*territory, "previous_period", period, "previous", column, "factor"]].reset_index(drop=True)


def _scale_rules(schema: RawSchema, frame: pd.DataFrame, catalogue: Catalogue, add, frames: dict, ex: tuple) -> None:
    """Rule group ``scale_and_jumps``: a file's median of |value| per period within its typical
    range, and no jump beyond the declared factor between consecutive periods of a territory."""
    territory = [c for c in schema.key if c != schema.period]
    for spec in (s for s in schema.values if isinstance(s, Values)):
        ind = catalogue.indicator(spec.indicator) if spec.indicator else None
        span = schema.medians.get(spec.column) or (ind.typical_median.get(schema.level) if ind else None)
        where = (f"typical_median of {ind.id} at level {schema.level}, catalogue" if ind and spec.column not in
                 schema.medians else f"declared in raw.{schema.table}")
        if span and schema.period:
            name = f"median_{spec.column}"
            frames[name] = median_frame(frame, spec.column, [schema.period])
            add("scale_and_jumps", f"the file's median of |{spec.column}| per {schema.period} lies within its typical "
                                   f"range {span[0]:g}–{span[1]:g} ({where}): a scale or unit error?", spec.column,
                lambda E, lo=span[0], hi=span[1]: E.ExpectColumnValuesToBeBetween(column="median", min_value=lo,
                                                                                  max_value=hi),
                batch=name, noun=("period", "periods"), index=(schema.period, "median", "rows"))
        factor = schema.max_jump.get(spec.column) or (ind.max_jump if ind else None)
        if factor and schema.period and territory:
            name = f"jump_{spec.column}"
            frames[name] = jump_frame(frame, spec.column, territory, schema.period)
            src = f"max_jump of {ind.id}, catalogue" if ind and spec.column not in schema.max_jump else \
                f"declared in raw.{schema.table}"
            add("scale_and_jumps", f"a value changes by a factor ≤ {factor:g} from the territory's previous "
                                   f"{schema.period} ({src})", spec.column,
                lambda E, f=factor: E.ExpectColumnValuesToBeBetween(column="factor", max_value=f),
                batch=name, index=(*territory, schema.period, "previous_period", "previous", spec.column, "factor"))
    for spec in (s for s in schema.values if isinstance(s, IndicatorValues)):
        # Each row's indicator (named by its key column) and level give the typical median of
        # its file and period, and the largest jump between the periods of a territory.
        by_id = {i.cget_id: i for i in catalogue.indicators if i.cget_id}
        group = [c for c in ("source_file", spec.key_column, "level") if c in frame.columns]
        med = median_frame(frame, spec.column, [*group, schema.period])
        med["typical_low"] = [by_id[k].typical_median.get(lv, (None, None))[0] if k in by_id else None
                              for k, lv in zip(med[spec.key_column], med["level"])]
        med["typical_high"] = [by_id[k].typical_median.get(lv, (None, None))[1] if k in by_id else None
                               for k, lv in zip(med[spec.key_column], med["level"])]
        med = med.astype({"typical_low": "float64", "typical_high": "float64"})
        frames["median_indicator_values"] = med
        index = (*group, schema.period, "median", "typical_low", "typical_high")
        add("scale_and_jumps", "a typical median is declared for the row's indicator at its level (catalogue "
                               "typical_median)", spec.column,
            lambda E: E.ExpectColumnValuesToNotBeNull(column="typical_low"),
            batch="median_indicator_values", noun=("file × period", "files × periods"), index=index)
        add("scale_and_jumps", "the file's median of |value| per period is ≥ the low end of its indicator's typical "
                               "range at its level (catalogue typical_median): a scale or unit error?", spec.column,
            lambda E: _at_least(E, "median", "typical_low"),
            batch="median_indicator_values", noun=("file × period", "files × periods"), index=index)
        add("scale_and_jumps", "the file's median of |value| per period is ≤ the high end of its indicator's typical "
                               "range at its level (catalogue typical_median): a scale or unit error?", spec.column,
            lambda E: _at_least(E, "typical_high", "median"),
            batch="median_indicator_values", noun=("file × period", "files × periods"), index=index)
        order = "period_start" if "period_start" in frame.columns else None
        jumps = jump_frame(frame, spec.column, [*group, "code"], schema.period, order)
        jumps["max_jump"] = [by_id[k].max_jump if k in by_id else None for k in jumps[spec.key_column]]
        jumps = jumps.astype({"max_jump": "float64"})
        frames["jump_indicator_values"] = jumps[jumps["max_jump"].notna()].reset_index(drop=True)
        add("scale_and_jumps", "a value changes by at most its indicator's max_jump (catalogue) from the territory's "
                               "previous period in the same file", spec.column,
            lambda E: _at_least(E, "max_jump", "factor"),
            batch="jump_indicator_values",
            index=(*group, "code", schema.period, "previous_period", "previous", spec.column, "factor", "max_jump"))


def validate_raw(schema: RawSchema, frame: pd.DataFrame, catalogue: Catalogue,
                 reference_sets: Mapping[str, tuple[str, ...]] | None = None,
                 tables: Mapping[str, pd.DataFrame] | None = None) -> list[CheckOutcome]:
    """Run the suite of a raw table: one :class:`CheckOutcome` per entry of :func:`check_names`.
    ``tables``: the other raw tables its identities read (:attr:`RawSchema.identities`)."""
    start = time.perf_counter()
    rules, frames = _raw_rules(schema, _for_gx(frame), column_types(frame), catalogue, reference_sets or {},
                               {k: _for_gx(v) for k, v in (tables or {}).items()})
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
