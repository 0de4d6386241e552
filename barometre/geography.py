"""Geography as data: the levels, the geography vintages, the hierarchy of territories.

- :data:`LEVELS`: one :class:`Level` per level of territory (code pattern, French labels, order,
  metropolitan rule per geography vintage); everything that lists levels reads it.
- :class:`GeographyVintage`: a ``geography_vintage`` string (``cog_2026``, ``ze_2010``,
  ``epci_2018``) parsed once into a mesh kind and a year, with its label.
- :func:`hierarchy`: the table ``core.hierarchie_territoires`` (one row per membership: child
  level and code, parent level and code, geography vintage) built from the COG releases;
  :func:`sum_to_parents` sums counts of children into their parents from it.

Codes are strings everywhere: départements ``01``…``95`` with Corsica ``2A``/``2B`` (never
``20``) and the DROM ``971``…``976``; régions ``01``…``06`` (DROM) and ``11``…``94``; EPCI are
9-digit SIREN; zones d'emploi 2010 are 4 digits (``0050``). Codes of an old mesh (EPCI 2017,
ZE 2010) keep their own ``geography_vintage`` and are never mapped to today's.

France has three perimeters, kept as distinct territories of level ``france``:

- ``FR``   France entière: everything the producer counts for France (for the presidential
           election: départements, collectivités d'outre-mer and French voters abroad);
- ``FRMD`` France métropolitaine et DROM (the 101 départements, INSEE's usual "France");
- ``FRM``  France métropolitaine (96 départements).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import pandas as pd

METRO_DEPARTEMENTS = tuple(
    [f"{n:02d}" for n in range(1, 20)] + ["2A", "2B"] + [f"{n:02d}" for n in range(21, 96)]
)
DROM_DEPARTEMENTS = ("971", "972", "973", "974", "976")
DEPARTEMENTS = METRO_DEPARTEMENTS + DROM_DEPARTEMENTS
DROM_REGION_OF = {"971": "01", "972": "02", "973": "03", "974": "04", "976": "06"}
# The régions of the COG since 2016 (unchanged through COG 2026): 13 metropolitan, 5 DROM.
METRO_REGIONS = ("11", "24", "27", "28", "32", "44", "52", "53", "75", "76", "84", "93", "94")
REGIONS = tuple(DROM_REGION_OF.values()) + METRO_REGIONS

FRANCE_TERRITORIES = {
    "FR": "France entière",
    "FRMD": "France métropolitaine et DROM",
    "FRM": "France métropolitaine",
}



# ---------------------------------------------------------------------------------------------
# Geography vintages


@dataclass(frozen=True)
class VintageKind:
    """A kind of mesh: ``cog`` (a release of INSEE's Code officiel géographique: communes,
    départements, régions and the EPCI perimeters of that release), ``ze`` (a zonage en zones
    d'emploi), ``epci`` (EPCI perimeters of a year, outside any bundled COG release)."""
    id: str
    word: str  # the French word of the label: "géographie 2026", "zonage 2010"
    description: str


VINTAGE_KINDS = {k.id: k for k in (
    VintageKind("cog", "géographie", "INSEE's Code officiel géographique of that year (1 January)"),
    VintageKind("ze", "zonage", "INSEE's zonage en zones d'emploi of that year"),
    VintageKind("epci", "périmètres", "EPCI perimeters of 1 January of that year (the CGET's meshes)"),
)}
_VINTAGE = re.compile(r"^(?P<kind>[a-z]+)_(?P<year>[0-9]{4})$")


@dataclass(frozen=True, order=True)
class GeographyVintage:
    """A ``geography_vintage`` (``cog_2026``, ``ze_2010``, ``epci_2018``): the mesh kind and its
    year. ``str()`` gives back the stored text; :meth:`parse` is the only place that reads it."""
    kind: str
    year: int

    def __post_init__(self) -> None:
        if self.kind not in VINTAGE_KINDS:
            raise ValueError(f"unknown geography vintage kind {self.kind!r} (known: {', '.join(VINTAGE_KINDS)})")

    @classmethod
    def parse(cls, text: str | GeographyVintage) -> GeographyVintage:
        if isinstance(text, GeographyVintage):
            return text
        match = _VINTAGE.match(str(text))
        if not match:
            raise ValueError(f"geography vintage {text!r} is not <kind>_<year> (e.g. cog_2026, ze_2010)")
        return cls(match["kind"], int(match["year"]))

    @classmethod
    def cog(cls, year: int) -> GeographyVintage:
        """The vintage of a COG release (``cog_vintage`` of the raw COG tables)."""
        return cls("cog", int(year))

    def __str__(self) -> str:
        return f"{self.kind}_{self.year}"

    @property
    def label(self) -> str:
        """French label: ``géographie 2026``, ``zonage 2010``, ``périmètres 2017``."""
        return f"{VINTAGE_KINDS[self.kind].word} {self.year}"


def cog_vintage(year: int) -> str:
    """The ``geography_vintage`` text of a COG release: ``cog_vintage(2024)`` → ``cog_2024``."""
    return str(GeographyVintage.cog(year))


GEOGRAPHY_VINTAGE_CURRENT = cog_vintage(2026)  # today's régions and départements (latest COG release)


# ---------------------------------------------------------------------------------------------
# Metropolitan rules (the ``metro`` scope of the cohesion marts), per level and vintage

DROM_REGIONS = tuple(DROM_REGION_OF.values())
# Zones d'emploi 2010 are coded RRNN with RR the 2010 région (00 for a zone spanning régions):
# 01 Guadeloupe, 02 Martinique, 03 Guyane, 04 La Réunion, 06 Mayotte.
ZE2010_DROM_PREFIXES = ("01", "02", "03", "04", "06")
# EPCI SIRENs allotted before the national series (200…) are "24" + département: 2497… is a DROM.
EPCI_DROM_SIREN_PREFIX = "2497"


@dataclass(frozen=True)
class EpciLocation:
    """Where EPCI SIRENs are, from the member lists of the bundled COG releases: the SIRENs whose
    member communes are all in the DROM / all in metropolitan France."""
    drom: frozenset[str] = frozenset()
    metro: frozenset[str] = frozenset()

    @classmethod
    def from_members(cls, epci_members: pd.DataFrame, communes: pd.DataFrame) -> EpciLocation:
        """From ``epci_members`` (cog_vintage, code_epci, code_commune) and ``communes``
        (cog_vintage, code_commune, code_departement) of the COG releases: a SIREN's location does
        not change, so this holds for the CGET's 2017 and 2018 meshes too."""
        where = epci_members.merge(communes[["cog_vintage", "code_commune", "code_departement"]],
                                   on=["cog_vintage", "code_commune"], how="inner")
        is_drom = where["code_departement"].astype(str).str.startswith("97")
        by_epci = is_drom.groupby(where["code_epci"]).agg(["any", "all"])
        return cls(frozenset(by_epci.index[by_epci["all"]]), frozenset(by_epci.index[~by_epci["any"]]))


@dataclass(frozen=True)
class MetroRule:
    """How a level's codes of some geography vintages tell metropolitan France from the DROM.
    ``vintages`` is a pattern of ``geography_vintage`` (``cog_*``, ``ze_2010``); ``flag`` returns
    True / False / missing (the code does not tell) per code, ``basis`` the text saying on what
    each answer rests (a text, or one text per code)."""
    vintages: str
    flag: Callable[[pd.Series, EpciLocation], pd.Series]
    basis: str | Callable[[pd.Series, EpciLocation, pd.Series], pd.Series]

    def applies_to(self, vintage: str | GeographyVintage) -> bool:
        return fnmatch.fnmatchcase(str(vintage), self.vintages)


def _from_code_list(metro: tuple[str, ...], known: tuple[str, ...] | None = None):
    def flag(codes: pd.Series, _where: EpciLocation) -> pd.Series:
        out = codes.isin(metro).astype("boolean")
        return out.mask(~codes.isin(known)) if known is not None else out
    return flag


def _region_flag(codes: pd.Series, _where: EpciLocation) -> pd.Series:
    return (~codes.isin(DROM_REGIONS)).astype("boolean")


def _ze2010_flag(codes: pd.Series, _where: EpciLocation) -> pd.Series:
    return (~codes.str[:2].isin(ZE2010_DROM_PREFIXES)).astype("boolean")


def _ze2020_flag(codes: pd.Series, _where: EpciLocation) -> pd.Series:
    """ZE2020 codes: région code + two digits, ``00xx`` for zones across régions (all
    metropolitan); the DROM zones are 01xx–06xx (Filosofi 2018–2019: 0201–0206 Martinique, 0401–0404
    La Réunion)."""
    return (~codes.str[:2].isin(ZE2010_DROM_PREFIXES)).astype("boolean")


def _commune_flag(codes: pd.Series, _where: EpciLocation) -> pd.Series:
    out = codes.str[:2].isin([d[:2] for d in METRO_DEPARTEMENTS]).astype("boolean")
    return out.mask(~codes.str[:3].isin(DROM_DEPARTEMENTS) & ~out)


def _epci_flag(codes: pd.Series, where: EpciLocation) -> pd.Series:
    """An EPCI is looked up in the member lists of the COG releases (:class:`EpciLocation`); one
    absent from them is a DROM when its SIREN starts with 2497, metropolitan when it is an older
    "24" + département SIREN, and unknown otherwise (a 200… SIREN dissolved before the first
    bundled COG release)."""
    out = pd.Series(pd.NA, index=codes.index, dtype="boolean")
    old_style = codes.str.startswith("24")
    out[old_style] = ~codes[old_style].str.startswith(EPCI_DROM_SIREN_PREFIX)
    out[codes.isin(where.metro)] = True
    out[codes.isin(where.drom)] = False
    return out


def _epci_basis(codes: pd.Series, where: EpciLocation, flag: pd.Series) -> pd.Series:
    in_cog = codes.isin(where.drom | where.metro)
    text = pd.Series("SIREN 24 + département", index=codes.index, dtype=object)
    text[flag.isna().to_numpy()] = "unknown: SIREN in no bundled COG release"
    text[in_cog.to_numpy()] = "member communes in a COG release"
    return text


# ---------------------------------------------------------------------------------------------
# Levels


@dataclass(frozen=True)
class Level:
    """A level of territory. ``singular``/``plural`` are the French labels of titles
    (``Département``, ``Zones d'emploi``), ``plural_in_text`` the plural inside a sentence
    (``départements``, ``EPCI``), ``with_article`` the singular with its article (``le
    département``). ``vintage_word`` replaces the vintage kind's word in labels (an EPCI of a COG
    release is a perimeter: ``périmètres 2024``). ``metro_rules``: the metropolitan rule of each
    geography vintage the level has."""
    id: str
    pattern: re.Pattern
    singular: str
    plural: str
    plural_in_text: str
    with_article: str
    vintage_word: str | None = None
    metro_rules: tuple[MetroRule, ...] = field(default=())

    @property
    def order(self) -> int:
        return _ORDER[self.id]

    def metro_rule(self, vintage: str | GeographyVintage) -> MetroRule:
        """The metropolitan rule of ``vintage``; raises when the level has none for it."""
        for rule in self.metro_rules:
            if rule.applies_to(vintage):
                return rule
        raise ValueError(f"no metropolitan rule for level {self.id!r} in geography vintage {str(vintage)!r}")

    def vintage_label(self, vintage: str | GeographyVintage) -> str:
        """``Départements (géographie 2026)``-style label of a vintage of this level."""
        v = GeographyVintage.parse(vintage)
        return f"{self.vintage_word} {v.year}" if self.vintage_word else v.label


# From the largest to the smallest: the order of tables, lists and reports.
LEVELS: tuple[Level, ...] = (
    Level("france", re.compile(r"^(FR|FRM|FRMD)$"), "France", "France", "France", "la France"),
    Level("region", re.compile(r"^(0[1-6]|[1-9][0-9])$"), "Région", "Régions", "régions", "la région",
          metro_rules=(MetroRule("cog_*", _region_flag, "région code"),)),
    Level("departement", re.compile(r"^(0[1-9]|1[0-9]|2[1-9]|2A|2B|[3-8][0-9]|9[0-5]|97[1-6])$"),
          "Département", "Départements", "départements", "le département",
          metro_rules=(MetroRule("cog_*", _from_code_list(METRO_DEPARTEMENTS, DEPARTEMENTS), "département code"),)),
    Level("epci", re.compile(r"^[0-9]{9}$"), "EPCI", "EPCI", "EPCI", "l'EPCI", vintage_word="périmètres",
          metro_rules=(MetroRule("cog_*", _epci_flag, _epci_basis), MetroRule("epci_*", _epci_flag, _epci_basis))),
    Level("zone_emploi", re.compile(r"^[0-9]{4}$"), "Zone d'emploi", "Zones d'emploi", "zones d'emploi",
          "la zone d'emploi",
          metro_rules=(MetroRule("ze_2010", _ze2010_flag, "ZE 2010 code (2010 région prefix)"),
                       MetroRule("ze_2020", _ze2020_flag, "ZE 2020 code (région prefix, 00 across régions)"))),
    Level("commune", re.compile(r"^([0-9]{2}|2A|2B)[0-9]{3}$|^97[0-9]{3}$"), "Commune", "Communes", "communes",
          "la commune",
          metro_rules=(MetroRule("cog_*", _commune_flag, "commune code (département prefix)"),)),
)
LEVEL_IDS = tuple(lv.id for lv in LEVELS)
LEVEL = {lv.id: lv for lv in LEVELS}
_ORDER = {lv: n for n, lv in enumerate(LEVEL_IDS)}
CODE_PATTERNS = {lv.id: lv.pattern for lv in LEVELS}


def level(level_id: str) -> Level:
    """The :class:`Level` ``level_id``; raises naming the known levels."""
    try:
        return LEVEL[level_id]
    except KeyError:
        raise ValueError(f"unknown level {level_id!r} (known: {', '.join(LEVEL_IDS)})") from None


def level_order(level_id: str) -> int:
    """Position of a level from the largest (``france`` 0) to the smallest (``commune``)."""
    return level(level_id).order


def sort_levels(levels: Iterable[str]) -> list[str]:
    """The distinct ``levels`` from the largest to the smallest."""
    return sorted(set(levels), key=level_order)


def vintage_label(level_id: str, vintage: str | GeographyVintage) -> str:
    """French label of a level's geography vintage: ``géographie 2026``, ``zonage 2010``,
    ``périmètres 2022`` (EPCI of a COG release)."""
    return level(level_id).vintage_label(vintage)


def metropolitan_scope(level_id: str, vintage: str | GeographyVintage, codes: pd.Series,
                       where: EpciLocation | None = None) -> tuple[pd.Series, pd.Series]:
    """``(is_metropolitan, basis)`` of ``codes`` of one level and geography vintage, by that
    vintage's rule (:attr:`Level.metro_rules`)."""
    rule = level(level_id).metro_rule(vintage)
    codes = codes.astype("string")
    where = where or EpciLocation()
    flag = rule.flag(codes, where)
    basis = rule.basis(codes, where, flag) if callable(rule.basis) else pd.Series(rule.basis, index=codes.index)
    return flag, basis


def metropolitan(level: str, codes: pd.Series, drom_epci: set[str] | None = None,
                 metro_epci: set[str] | None = None, vintage: str | None = None) -> pd.Series:
    """Whether each territory of ``level`` is in metropolitan France: True, False, or missing
    when the code does not tell, by the rule of ``vintage`` (default: the level's first rule,
    ``cog_*`` or ``ze_2010``). See :func:`metropolitan_scope`."""
    lv = LEVEL.get(level)
    if lv is None or not lv.metro_rules:
        raise ValueError(f"no metropolitan rule for level {level!r}")
    rule = lv.metro_rule(vintage) if vintage else lv.metro_rules[0]
    return rule.flag(codes.astype("string"), EpciLocation(frozenset(drom_epci or ()), frozenset(metro_epci or ())))


def invalid_codes(codes: pd.Series, level: str) -> pd.Series:
    """Return the codes that do not have the format of ``level`` (e.g. ``1`` for ``01``, ``20``)."""
    pattern = CODE_PATTERNS[level]
    cells = codes.tolist()
    if all(type(c) is str for c in cells):  # text codes (most calls): the same match, without a "string" Series
        match = re.compile(pattern).match
        return codes[[match(c) is None for c in cells]]
    text = codes.astype("string")
    return codes[~text.fillna("").str.match(pattern)]


def epci_comparability(communes: pd.DataFrame, members: pd.DataFrame, pairs: list[tuple[int, int, int, int]],
                       static_departements: dict[str, str] | None = None) -> pd.DataFrame:
    """Whether each EPCI of a later COG release can be compared with an earlier release.

    An EPCI (on the later release's perimeter) is comparable when every member commune exists in
    the earlier release, has a population in both, and absorbed no commune of the earlier release
    (a commune nouvelle keeps one former code: its population jump is a merger, not growth).
    ``pairs`` are ``(vintage_from, vintage_to, year_from, year_to)``. Returns one row per EPCI and
    pair with ``comparable`` and, when not, the reason naming the communes. EPCI with a commune in
    a département of ``static_departements`` (code → reason) are not comparable either.
    """
    static_departements = static_departements or {}
    rows = []
    for v0, v1, y0, y1 in pairs:
        c0 = communes[communes["cog_vintage"] == v0]
        c1 = communes[communes["cog_vintage"] == v1]
        codes0 = set(c0["code_commune"])
        # Plain dicts: looked up once per member commune (Series.get is ~100× slower).
        pop0 = dict(zip(c0["code_commune"], c0["population"]))
        pop1 = dict(zip(c1["code_commune"], c1["population"]))
        dep1 = dict(zip(c1["code_commune"], c1["code_departement"]))
        absorbed = {code: sorted((set(old.split()) & codes0) - {code})
                    for code, old in zip(c1["code_commune"], c1["anciens_codes"]) if old}
        for epci, group in members[members["cog_vintage"] == v1].groupby("code_epci", sort=True):
            member_codes = group["code_commune"].tolist()
            reasons = []
            missing = [c for c in member_codes if c not in codes0]
            if missing:
                reasons.append(f"member communes absent from COG {v0}: {', '.join(missing)}")
            merged = [f"{c} absorbed {', '.join(absorbed[c])}" for c in member_codes if absorbed.get(c)]
            if merged:
                reasons.append(f"communes merged since COG {v0}: {'; '.join(merged)}")
            no_pop = [c for c in member_codes if c in codes0 and (pd.isna(pop0.get(c)) or pd.isna(pop1.get(c)))]
            if no_pop:
                reasons.append(f"member communes without population: {', '.join(no_pop)}")
            static = sorted({dep1.get(c) for c in member_codes} & set(static_departements))
            reasons += [static_departements[d] for d in static]
            rows.append({"code_epci": epci, "cog_vintage_from": v0, "cog_vintage_to": v1,
                         "period": f"{y0}-{y1}", "comparable": not reasons, "detail": " / ".join(reasons) or None})
    return pd.DataFrame(rows, columns=["code_epci", "cog_vintage_from", "cog_vintage_to", "period", "comparable", "detail"])



# ---------------------------------------------------------------------------------------------
# The hierarchy of territories (core.hierarchie_territoires)

HIERARCHY_COLUMNS = ["child_level", "child_code", "parent_level", "parent_code", "geography_vintage"]


def _links(child_level: str, child: pd.Series, parent_level: str, parent: pd.Series,
           vintage: pd.Series | str) -> pd.DataFrame:
    return pd.DataFrame({"child_level": child_level, "child_code": child.to_numpy(), "parent_level": parent_level,
                         "parent_code": parent.to_numpy(),
                         "geography_vintage": vintage.to_numpy() if isinstance(vintage, pd.Series) else vintage})


def _france_links(child_level: str, codes: pd.Series, vintages: pd.Series) -> pd.DataFrame:
    """Each territory of the 101 départements' France to ``FRMD``, and to ``FRM`` when its level's
    metropolitan rule says so (``FR`` has no children: it also counts what lies in no région)."""
    metro = pd.Series(False, index=codes.index)
    for vintage in vintages.unique():
        at = vintages == vintage
        metro[at] = metropolitan_scope(child_level, vintage, codes[at])[0].fillna(False).to_numpy(dtype=bool)
    return pd.concat([_links(child_level, codes, "france", pd.Series("FRMD", index=codes.index), vintages),
                      _links(child_level, codes[metro], "france", pd.Series("FRM", index=codes[metro].index),
                             vintages[metro])], ignore_index=True)


def hierarchy(communes: pd.DataFrame, epci_members: pd.DataFrame, departements: pd.DataFrame,
              extra: Iterable[pd.DataFrame] = ()) -> pd.DataFrame:
    """The table of memberships (:data:`HIERARCHY_COLUMNS`), one row per child, parent and
    geography vintage, for each COG release of the raw COG tables (``cog_vintage`` column):

    - commune → département, commune → région (``communes``: code_commune, code_departement,
      code_region), for the communes of the 101 départements (the collectivités d'outre-mer are in
      none of the barometer's territories);
    - commune → EPCI (``epci_members``: code_epci, code_commune), the perimeters of that release;
    - département → région (``departements``: code_departement, code_region), the 101;
    - département → France and région → France: ``FRMD`` for all, ``FRM`` for the metropolitan
      ones (the level's metropolitan rule).

    ``extra`` frames (same columns, e.g. the communes of a zonage en zones d'emploi) are added as
    they are. Codes must have their level's format and a (child, parent level, vintage) has one
    parent: else ``ValueError`` with examples.
    """
    def vintage_of(frame: pd.DataFrame) -> pd.Series:  # cog_vintage 2026 → "cog_2026", once per release
        return frame["cog_vintage"].map({v: cog_vintage(v) for v in frame["cog_vintage"].unique()})

    com = communes[communes["code_departement"].isin(DEPARTEMENTS)]
    com_v = vintage_of(com)
    mem_v = vintage_of(epci_members)
    dep = departements[departements["code_departement"].isin(DEPARTEMENTS)]
    dep_v = vintage_of(dep)
    regions = dep[["cog_vintage", "code_region"]].drop_duplicates()
    reg_v = vintage_of(regions)
    parts = [
        _links("commune", com["code_commune"], "departement", com["code_departement"], com_v),
        _links("commune", com["code_commune"], "region", com["code_region"], com_v),
        _links("commune", epci_members["code_commune"], "epci", epci_members["code_epci"], mem_v),
        _links("departement", dep["code_departement"], "region", dep["code_region"], dep_v),
        _france_links("departement", dep["code_departement"], dep_v),
        _france_links("region", regions["code_region"], reg_v),
        *extra,
    ]
    out = pd.concat([p[HIERARCHY_COLUMNS] for p in parts if not p.empty], ignore_index=True).astype(str)
    _check_hierarchy(out)
    order = out["child_level"].map(_ORDER).astype(int) * 10 + out["parent_level"].map(_ORDER).astype(int)
    return (out.assign(_o=order).sort_values(["geography_vintage", "_o", "parent_code", "child_code"])
            .drop(columns="_o").reset_index(drop=True))


def _check_hierarchy(table: pd.DataFrame) -> None:
    for side in ("child", "parent"):
        pairs = table[[f"{side}_level", f"{side}_code"]].drop_duplicates()
        for lvl, codes in pairs.groupby(f"{side}_level")[f"{side}_code"]:
            bad = invalid_codes(codes, str(lvl))
            if len(bad):
                raise ValueError(f"hierarchy: {side} codes of level {lvl} without its format, e.g. "
                                 f"{bad.drop_duplicates().head(5).tolist()}")
    key = ["child_level", "child_code", "parent_level", "geography_vintage"]
    several = table[table.duplicated(key, keep=False) & (table["parent_level"] != "france")]
    if len(several):
        raise ValueError(f"hierarchy: children with several parents of one level, e.g. "
                         f"{several.head(6).to_dict('records')}")


class HierarchyTable:
    """``core.hierarchie_territoires`` where it is, in the working database, instead of a frame
    of its 666,000 rows: :func:`links` and :func:`sum_to_parents` accept it wherever they accept
    the frame, and then run in DuckDB SQL on ``con`` (:func:`barometre.sql.sum_to_parents_query`:
    the counts are scanned from pandas, only the rows of one relation are read). The frame
    versions are the executable specification; the results are equal
    (tests/unit/test_hierarchy_table.py)."""

    def __init__(self, con, table: str = "core.hierarchie_territoires"):
        self.con, self.table = con, table

    def links(self, child_level: str, parent_level: str, vintage: str) -> pd.DataFrame:
        return self.con.execute(
            f"SELECT child_code, parent_code FROM {self.table} WHERE child_level = ? AND parent_level = ? "
            f"AND geography_vintage = ?", [child_level, parent_level, vintage]).df()

    def sum_to_parents(self, counts: pd.DataFrame, child_level: str, parent_level: str, vintage: str,
                       keys: list[str], columns: list[str], parents: list[str] | None) -> pd.DataFrame:
        from barometre import sql  # lazy: sql imports the cohesion marts

        types = {c: "BIGINT" if pd.api.types.is_integer_dtype(counts[c]) else "DOUBLE" for c in columns}
        query = sql.sum_to_parents_query("_geography_counts", self.table, child_level, parent_level, vintage,
                                         keys=tuple(keys), columns=types,
                                         parents=tuple(str(p) for p in parents) if parents is not None else None)
        self.con.register("_geography_counts", counts[["code", *keys, *columns]])
        try:
            out = self.con.execute(f"SELECT * FROM ({query}) ORDER BY ALL").df()
        finally:
            self.con.unregister("_geography_counts")
        dtypes = {"code": object, **{c: counts[c].dtype for c in [*keys, *columns]}}
        return out.astype(dtypes)[["code", *keys, *columns]]


def per_vintage(hierarchy: pd.DataFrame | HierarchyTable) -> Callable[[str], pd.DataFrame | HierarchyTable]:
    """vintage → the hierarchy to read for that geography vintage, for many sums in a few vintages:
    a frame is split by vintage once (each sum then filters one release's rows, not all of them);
    a :class:`HierarchyTable` is itself (each query reads its relation)."""
    if isinstance(hierarchy, HierarchyTable):
        return lambda vintage: hierarchy
    by_vintage = {str(v): rows for v, rows in hierarchy.groupby("geography_vintage", sort=False)}
    return lambda vintage: by_vintage.get(str(vintage), hierarchy.iloc[:0])


def links(hierarchy: pd.DataFrame | HierarchyTable, child_level: str, parent_level: str,
          vintage: str | GeographyVintage = GEOGRAPHY_VINTAGE_CURRENT) -> pd.DataFrame:
    """The ``child_code, parent_code`` rows of one relation in one geography vintage."""
    if isinstance(hierarchy, HierarchyTable):
        return hierarchy.links(child_level, parent_level, str(vintage))
    h = hierarchy[(hierarchy["child_level"] == child_level) & (hierarchy["parent_level"] == parent_level)
                  & (hierarchy["geography_vintage"] == str(vintage))]
    return h[["child_code", "parent_code"]].reset_index(drop=True)


def parent_of(hierarchy: pd.DataFrame, child_level: str, parent_level: str,
              vintage: str | GeographyVintage = GEOGRAPHY_VINTAGE_CURRENT) -> dict[str, str]:
    """child code → parent code of a one-parent relation (département → région of today:
    ``parent_of(h, "departement", "region")``)."""
    rows = links(hierarchy, child_level, parent_level, vintage)
    return dict(zip(rows["child_code"].astype(str), rows["parent_code"].astype(str)))


def children_of(hierarchy: pd.DataFrame, child_level: str, parent_level: str,
                vintage: str | GeographyVintage = GEOGRAPHY_VINTAGE_CURRENT) -> dict[str, tuple[str, ...]]:
    """parent code → its children's codes (sorted): ``children_of(h, "region", "france")["FRM"]``
    are the 13 metropolitan régions."""
    rows = links(hierarchy, child_level, parent_level, vintage)
    return {str(p): tuple(sorted(g.astype(str))) for p, g in rows.groupby("parent_code")["child_code"]}


def sum_to_parents(counts: pd.DataFrame, hierarchy: pd.DataFrame | HierarchyTable, child_level: str, parent_level: str,
                   vintage: str | GeographyVintage = GEOGRAPHY_VINTAGE_CURRENT, *,
                   keys: Iterable[str] = ("period", "period_start", "period_end"),
                   columns: Iterable[str] = ("numerator", "denominator"),
                   parents: Iterable[str] | None = None) -> pd.DataFrame:
    """Σ ``columns`` of the children (``counts``: ``code`` of ``child_level``, ``keys``,
    ``columns``) into each parent of ``parent_level`` in the hierarchy of ``vintage``.

    A parent is returned (for a value of ``keys``) only when all its children in the hierarchy
    have a row with every column there: a partial sum would be a false total. ``parents``
    restricts the parents (e.g. ``("FRM",)``). Returns ``code`` (the parent), ``keys``, ``columns``,
    sorted by code and keys. ``hierarchy``: the frame, or the table in the working database
    (:class:`HierarchyTable`: the same result, computed in SQL).
    """
    keys, columns = list(keys), list(columns)
    if isinstance(hierarchy, HierarchyTable):
        return hierarchy.sum_to_parents(counts, child_level, parent_level, str(vintage), keys, columns,
                                        None if parents is None else list(parents))
    rel = links(hierarchy, child_level, parent_level, vintage).astype(object)
    if parents is not None:
        rel = rel[rel["parent_code"].isin(list(parents))]
    n_children = rel.groupby("parent_code")["child_code"].nunique()
    counts = counts.dropna(subset=columns)
    joined = counts[["code", *keys, *columns]].merge(rel, left_on="code", right_on="child_code", how="inner")
    agg = joined.groupby(["parent_code", *keys], as_index=False, sort=True).agg(
        **{c: (c, "sum") for c in columns}, _n=("code", "nunique"))
    agg = agg[agg["_n"] == agg["parent_code"].map(n_children)]
    return agg.drop(columns="_n").rename(columns={"parent_code": "code"})[["code", *keys, *columns]].reset_index(
        drop=True)
