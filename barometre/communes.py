"""Commune codes across vintages: a passage from the codes of one vintage to a COG release.

The COG releases of the snapshot (2021–2026, :func:`barometre.sources.cog.parse_communes`) give,
for each commune of the year, ``anciens_codes``: the codes of the communes it absorbed (a commune
nouvelle). A code of an earlier vintage (the 2017 communes of the election results, or an
earlier release) is mapped to a target release ``T``:

- ``unchanged``: the code is a commune of ``T``;
- ``former_code``: the code is among the ``anciens_codes`` of one commune of ``T``;
- ``chain``: neither, but following the releases one after the other reaches a commune of ``T``
  (a release that lost a former code from its list).

Counts may be summed from the source communes into a target commune only when the source
communes mapped to it cover it exactly. Two cases break that, and both are findings, never
silently dropped or kept:

- ``split_commune``: a commune nouvelle of the first release after the source vintage was split
  afterwards (a former commune restored: Essarts en Bocage 85084 → L'Oie 85165 in 2024): the
  source commune's counts cannot be divided, so none of the target communes it now spans has a
  complete count;
- ``commune_without_source``: a commune of ``T`` that no source code reaches (restored before the
  first release, like Sannerville 14666, or created): it has no count.

A source code that reaches no commune of ``T`` is ``unmapped_commune``. Communes of ``T`` with a
population of 0 (the "villages morts pour la France" of the Meuse) have no registered voters;
they are listed (``commune_without_inhabitants``) and counted as complete with zero.

The result is a :class:`Passage`: ``mapping`` (source code → target code, with ``how``), the
target communes whose count is complete (``complete``), and ``findings`` in the columns of
``mart.quality_report``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from barometre.geography import DEPARTEMENTS

FINDING_COLUMNS = ["kind", "indicator_id", "source_id", "level", "code", "geography_vintage", "period", "detail"]
MAPPING_COLUMNS = ["source_vintage", "target_vintage", "code_source", "code_target", "how"]


@dataclass(frozen=True)
class Passage:
    source_vintage: str
    target_vintage: int
    mapping: pd.DataFrame  # MAPPING_COLUMNS: every source code whose target commune has a complete count
    complete: frozenset[str]  # target communes whose source communes cover them exactly
    findings: pd.DataFrame  # FINDING_COLUMNS

    def target_of(self, code: str) -> str | None:
        rows = self.mapping.loc[self.mapping["code_source"] == code, "code_target"]
        return rows.iloc[0] if len(rows) else None


class _Release:
    def __init__(self, communes: pd.DataFrame):
        self.current = set(communes["code_commune"])
        self.former: dict[str, str] = {}
        self.absorbed: dict[str, list[str]] = {}
        for code, old in zip(communes["code_commune"].tolist(), communes["anciens_codes"].tolist()):
            if not old:  # most communes: no former code
                self.absorbed[code] = []
                continue
            olds = [o for o in old.split() if o != code]
            self.absorbed[code] = olds
            for o in olds:
                if o in self.former and self.former[o] != code:
                    raise ValueError(f"former code {o} is listed by two communes ({self.former[o]}, {code})")
                self.former[o] = code
        self.population = dict(zip(communes["code_commune"], communes["population"]))

    def step(self, code: str | None) -> str | None:
        if code is None or code in self.current:
            return code
        return self.former.get(code)


def releases(communes: pd.DataFrame) -> dict[int, _Release]:
    """The communes of the 101 départements in each COG release (``parse_communes`` rows)."""
    communes = communes[communes["code_departement"].isin(DEPARTEMENTS)]
    return {int(v): _Release(group) for v, group in communes.groupby("cog_vintage", sort=True)}


def locate(code: str, target: int, by_release: dict[int, _Release], after: int) -> tuple[str | None, str]:
    """The commune of release ``target`` that holds the territory of ``code`` (a commune of a
    vintage ``after`` < every release stepped through), and how it was found."""
    rel = by_release[target]
    if code in rel.current:
        return code, "unchanged"
    if code in rel.former:
        return rel.former[code], "former_code"
    y: str | None = code
    for v in sorted(v for v in by_release if after < v <= target):
        y = by_release[v].step(y)
    return (y, "chain") if y is not None else (None, "unmapped")


def passage(communes: pd.DataFrame, source_codes: Iterable[str], source_vintage: str, source_year: int,
            target_vintage: int, source_id: str | None = None,
            by_release: dict[int, _Release] | None = None) -> Passage:
    """Map the commune codes of ``source_vintage`` (codes valid at ``source_year``, e.g. the 2017
    election communes, or the communes of an earlier release) to COG release ``target_vintage``.

    ``communes`` holds the releases (``cog_vintage``, ``code_commune``, ``code_departement``,
    ``population``, ``anciens_codes``); only those after ``source_year`` and up to the target are
    used. ``by_release``: :func:`releases` of ``communes``, when the caller maps to several targets
    (building them is most of the cost)."""
    by_release = {v: r for v, r in (by_release or releases(communes)).items() if source_year < v <= target_vintage}
    if target_vintage not in by_release:
        raise ValueError(f"COG {target_vintage} is not among the releases after {source_year}: {sorted(by_release)}")
    target = by_release[target_vintage]
    first = min(by_release)
    vintage = f"cog_{target_vintage}"
    source = sorted(set(source_codes))
    source_set = set(source)
    findings = []

    def finding(kind: str, code: str, detail: str, geography: str = vintage) -> None:
        findings.append({"kind": kind, "indicator_id": None, "source_id": source_id, "level": "commune", "code": code,
                         "geography_vintage": geography, "period": None, "detail": detail})

    rows, unmapped = [], []
    for code in source:
        tgt, how = locate(code, target_vintage, by_release, source_year)
        if tgt is None:
            unmapped.append(code)
            finding("unmapped_commune", code, f"{source_vintage} commune {code}: in no commune of COG {target_vintage} "
                    "(neither a commune nor a former code of one)", source_vintage)
        else:
            rows.append((code, tgt, how))
    mapping = pd.DataFrame(rows, columns=["code_source", "code_target", "how"])

    # Splits: a commune u of the first release holds parts that were not source communes (absorbed
    # before the source year, so counted in a source commune of u) and its parts now lie in more
    # than one commune of the target. Parts that were source communes themselves are mapped one by
    # one and need no care.
    broken: dict[str, str] = {}
    first_rel = by_release[first]
    for u, olds in first_rel.absorbed.items():
        if not olds:
            continue
        parts = [u, *olds]
        hidden = [c for c in parts if c not in source_set]
        if not hidden:
            continue
        places = {c: locate(c, target_vintage, by_release, first - 1)[0] for c in parts}
        spread = {p for p in places.values() if p is not None}
        if len(spread) > 1:
            sources_in_u = [c for c in parts if c in source_set]
            detail = (f"COG {first} commune {u} (parts {', '.join(parts)}) lies in COG {target_vintage} in "
                      f"{', '.join(sorted(spread))}: the {source_vintage} counts of {', '.join(sources_in_u) or u} "
                      "cannot be divided between them")
            for c in sources_in_u:
                finding("split_commune", c, detail, source_vintage)
            for t in spread:
                broken[t] = detail

    reached = set(mapping["code_target"])
    complete = set()
    for t in sorted(target.current):
        if t in broken:
            finding("incomplete_commune", t, broken[t])
        elif t in reached:
            complete.add(t)
        elif target.population.get(t) == 0:
            complete.add(t)
            finding("commune_without_inhabitants", t, f"commune {t} has no inhabitant in COG {target_vintage}: "
                    f"no {source_vintage} count, taken as zero")
        else:
            finding("commune_without_source", t, f"commune {t} of COG {target_vintage} is reached by no "
                    f"{source_vintage} commune (created or restored after {source_year}): no count")
    kept = mapping[mapping["code_target"].isin(complete)]
    reported = {f["code"] for f in findings if f["geography_vintage"] == source_vintage}
    for code, tgt in zip(mapping["code_source"], mapping["code_target"]):
        if tgt not in complete and code not in reported:
            finding("target_incomplete", code, f"{source_vintage} commune {code} lies in commune {tgt} of COG "
                    f"{target_vintage}, whose count is incomplete: {broken.get(tgt, '')}", source_vintage)
    out = kept.assign(source_vintage=source_vintage, target_vintage=target_vintage)[MAPPING_COLUMNS]
    return Passage(source_vintage, target_vintage, out.reset_index(drop=True), frozenset(complete),
                   pd.DataFrame(findings, columns=FINDING_COLUMNS))


def summary(p: Passage) -> dict[str, int]:
    """Counts for a note: source codes mapped (by ``how``), findings by kind."""
    out = {f"mapped_{k}": int(v) for k, v in p.mapping["how"].value_counts().items()}
    out["mapped"] = len(p.mapping)
    out.update({k: int(v) for k, v in p.findings["kind"].value_counts().items()})
    out["target_complete"] = len(p.complete)
    return out
