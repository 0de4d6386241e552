"""The Great Expectations runtime and the results of a check (no Dagster).

One import of Great Expectations per process and, built once with it (:func:`gx_runtime`), one
ephemeral context, data source, dataframe asset and whole-dataframe batch definition through which
every frame is validated (a batch parameter). The rules of a check (:class:`_Rule`) are validated
in two passes (:func:`_run`: ``BOOLEAN_ONLY``, a large frame one set of columns at a time, then
``SUMMARY`` with example rows for the failed ones, on the whole frame) and turned into
:class:`CheckOutcome` objects (:func:`_outcomes`). docs/validation.md (Cost) gives the figures.
"""

from __future__ import annotations

import functools
import math
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

MAX_EXAMPLES = 10


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
    """What every check of a process shares: the GX module, one ephemeral context, one pandas
    data source, one dataframe asset and one whole-dataframe batch definition. A frame is passed
    as a batch parameter at validation time, so nothing is added to the context per table: adding
    an asset or a batch definition makes GX serialise the whole project config, and that config
    grows with every asset added (quadratic over a run)."""

    gx: Any
    context: Any
    source: Any
    definition: Any  # the whole-dataframe batch definition every frame is validated through
    import_seconds: float
    validator: Any  # great_expectations.validator.v1_validator.Validator
    validations: int = 0  # suites validated (one per batch and pass)

    def validate(self, name: str, frame: pd.DataFrame, expectations: list, result_format) -> Any:
        """Validate ``frame`` with ``expectations`` (one suite named ``name``). The V1 validator
        is the one ``Batch.validate`` builds; calling it directly reads the batch once (its
        fingerprint, an MD5 of the frame, is computed once)."""
        suite = self.gx.ExpectationSuite(name=name, expectations=expectations)
        validator = self.validator(batch_definition=self.definition, batch_parameters={"dataframe": frame},
                                   result_format=result_format)
        self.validations += 1
        _MEMO.configurations = {}
        try:
            return validator.validate_expectation_suite(suite)
        finally:
            _MEMO.configurations = None


# Within one validation (``_Runtime.validate``, this thread), the configuration of each
# Expectation object, computed once (see _memoise_configurations).
_MEMO = threading.local()


def _memoise_configurations(expectation_class: Any) -> None:
    """Compute ``Expectation.configuration`` once per Expectation object during a validation.

    In GX 1.x the property rebuilds an ``ExpectationConfiguration`` from the pydantic model
    (``self.dict()``, then the snake-case type name) at every access, and a validation reads it
    about 80 times per expectation (``_get_domain_kwargs`` and ``_get_success_kwargs`` read it once
    per key, for every metric of the expectation, on the objects GX rebuilds from configurations):
    about 40 % of the validation's time on the project's suites. GX never changes an expectation's
    fields while validating it, so within ``_Runtime.validate`` each object's first configuration
    is returned again (the same object: GX reads it, and copies it before any change); outside a
    validation, or on another thread, the property is GX's. The memo holds its objects until the
    validation ends (an ``id`` cannot be reused meanwhile) and is dropped then."""
    original = expectation_class.__dict__["configuration"]
    if getattr(original.fget, "barometre_memo", False):
        return

    def configuration(self):
        memo = getattr(_MEMO, "configurations", None)
        if memo is None:
            return original.fget(self)
        hit = memo.get(id(self))
        if hit is None or hit[0] is not self:
            hit = memo[id(self)] = (self, original.fget(self))
        return hit[1]

    memoised = property(configuration, doc=original.__doc__)
    memoised.fget.barometre_memo = True
    expectation_class.configuration = memoised


@functools.cache
def gx_runtime() -> _Runtime:
    """Import Great Expectations and build an ephemeral context, its data source and batch
    definition (once per process), progress bars off."""
    start = time.perf_counter()
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.execution_engine import pandas_execution_engine
    from great_expectations.expectations.expectation import Expectation
    from great_expectations.validator.v1_validator import Validator

    _memoise_configurations(Expectation)
    # GX fingerprints every pandas batch below this size (an MD5 of the whole frame, about 1 s a
    # run for the large tables) into the result's batch markers, which nothing here reads.
    pandas_execution_engine.HASH_THRESHOLD = 0
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas("barometre")
    definition = source.add_dataframe_asset("frame").add_batch_definition_whole_dataframe("frame")
    return _Runtime(gx, context, source, definition, time.perf_counter() - start, Validator)


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


# A frame of at least this many rows is validated, in the first pass, one set of columns at a
# time (see _first_pass).
NARROW_ROWS = 20_000


def _condition_columns(condition: Any) -> set[str] | None:
    """The columns a GX row condition reads (None: not known, the whole frame is kept)."""
    if condition is None:
        return set()
    if hasattr(condition, "conditions"):  # and / or
        parts = [_condition_columns(c) for c in condition.conditions]
        return None if any(p is None for p in parts) else set().union(*parts)
    column = getattr(condition, "column", None)
    return {column.name} if getattr(column, "name", None) is not None else None


def _expectation_columns(expectation: Any) -> set[str] | None:
    """The columns an expectation reads: its domain and its row condition's (None: the whole
    table, e.g. ``ExpectTableColumnsToMatchOrderedList``)."""
    if type(expectation).__name__.startswith("ExpectTable"):
        return None
    columns = {getattr(expectation, k, None) for k in ("column", "column_A", "column_B")} - {None}
    columns |= set(getattr(expectation, "column_list", None) or ())
    where = _condition_columns(getattr(expectation, "row_condition", None))
    return None if where is None or not columns else columns | where


def _first_pass(frame: pd.DataFrame, expectations: list) -> list[tuple[pd.DataFrame, list]]:
    """The (frame, expectations) validations of a batch's first pass (``BOOLEAN_ONLY``).

    GX's pandas engine copies the whole frame, every column, to filter the rows of each metric
    (the non-null values of a column, a row condition). A large frame's expectations are
    therefore grouped by the columns they read and validated on those columns only: a map or
    column expectation's success depends on nothing else, so the outcome is the same. The
    table-level expectations keep the whole frame. The second pass (the failed expectations, with
    their example rows) always reads the whole frame."""
    if len(frame) < NARROW_ROWS:
        return [(frame, expectations)]
    groups: dict[tuple | None, list] = {}
    for expectation in expectations:
        columns = _expectation_columns(expectation)
        key = None if columns is None else tuple(c for c in frame.columns if c in columns)
        groups.setdefault(key or None, []).append(expectation)
    return [(frame if key is None else frame[list(key)], group) for key, group in groups.items()]


def _run(table: str, rules: list[_Rule], frames: dict[str, pd.DataFrame]) -> dict[int, tuple[bool, Any]]:
    """Validate every batch with its rules; returns rule index → (success, result of the second,
    detailed pass for the failed ones)."""
    runtime = gx_runtime()
    E = runtime.gx.expectations
    outcome: dict[int, tuple[bool, Any]] = {}
    for batch in dict.fromkeys(r.batch for r in rules):
        indexed = [(i, r) for i, r in enumerate(rules) if r.batch == batch]
        name = f"{table}.{batch}"
        failed = set()
        for frame, expectations in _first_pass(frames[batch], [_built(E, i, r) for i, r in indexed]):
            for res in runtime.validate(name, frame, expectations, "BOOLEAN_ONLY").results:
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



def _for_gx(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame GX validates: a fresh index, and nullable integers as floats (exact below 2**53)
    so that GX compares them vectorised rather than value by value. Kinds are checked on
    :func:`column_types` of the frame as read."""
    out = frame.reset_index(drop=True)
    ints = [c for c in out.columns if isinstance(out[c].dtype, pd.Int64Dtype)]
    return out.astype({c: "float64" for c in ints}) if ints else out

