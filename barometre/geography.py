"""Territories: code formats per level, the département → région key, and France perimeters.

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

import re

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
# Régions inside each France perimeter (FR also counts what lies in no région: the
# collectivités d'outre-mer and, for elections, French voters abroad).
REGIONS_OF_FRANCE = {"FRM": METRO_REGIONS, "FRMD": REGIONS}

FRANCE_TERRITORIES = {
    "FR": "France entière",
    "FRMD": "France métropolitaine et DROM",
    "FRM": "France métropolitaine",
}

CODE_PATTERNS = {
    "france": re.compile(r"^(FR|FRM|FRMD)$"),
    "region": re.compile(r"^(0[1-6]|[1-9][0-9])$"),
    "departement": re.compile(r"^(0[1-9]|1[0-9]|2[1-9]|2A|2B|[3-8][0-9]|9[0-5]|97[1-6])$"),
    "epci": re.compile(r"^[0-9]{9}$"),
    "zone_emploi": re.compile(r"^[0-9]{4}$"),
    "commune": re.compile(r"^([0-9]{2}|2A|2B)[0-9]{3}$|^97[0-9]{3}$"),
}

GEOGRAPHY_VINTAGE_CURRENT = "cog_2026"


def invalid_codes(codes: pd.Series, level: str) -> pd.Series:
    """Return the codes that do not have the format of ``level`` (e.g. ``1`` for ``01``, ``20``)."""
    pattern = CODE_PATTERNS[level]
    text = codes.astype("string")
    return codes[~text.fillna("").str.match(pattern)]


def region_of_departement(departements: pd.DataFrame) -> dict[str, str]:
    """Map département code → région code from a COG ``departements`` table (columns
    ``code_departement``, ``code_region``), restricted to the 101 départements."""
    rows = departements[departements["code_departement"].isin(DEPARTEMENTS)]
    mapping = dict(zip(rows["code_departement"], rows["code_region"]))
    missing = sorted(set(DEPARTEMENTS) - set(mapping))
    if missing:
        raise ValueError(f"COG départements table lacks {missing}")
    return mapping


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


# Metropolitan France vs the DROM, per level (the ``metro`` scope of the cohesion marts).
DROM_REGIONS = tuple(DROM_REGION_OF.values())
# Zones d'emploi 2010 are coded RRNN with RR the 2010 région (00 for a zone spanning régions):
# 01 Guadeloupe, 02 Martinique, 03 Guyane, 04 La Réunion, 06 Mayotte.
ZE2010_DROM_PREFIXES = ("01", "02", "03", "04", "06")
# EPCI SIRENs allotted before the national series (200…) are "24" + département: 2497… is a DROM.
EPCI_DROM_SIREN_PREFIX = "2497"


def metropolitan(level: str, codes: pd.Series, drom_epci: set[str] | None = None,
                 metro_epci: set[str] | None = None) -> pd.Series:
    """Whether each territory of ``level`` is in metropolitan France: True, False, or missing
    when the code does not tell.

    Départements, régions and zones d'emploi 2010 are read from the code. An EPCI SIREN does not
    always carry its département, so an EPCI is looked up in ``drom_epci`` / ``metro_epci`` (the
    SIRENs whose member communes are all in the DROM / all in metropolitan France in a COG
    release); an EPCI absent from both is a DROM when its SIREN starts with 2497, metropolitan
    when it is an older "24" + département SIREN, and unknown otherwise (a 200… SIREN dissolved
    before the first bundled COG release).
    """
    codes = codes.astype("string")
    if level == "departement":
        out = codes.isin(METRO_DEPARTEMENTS).astype("boolean")
        return out.mask(~codes.isin(DEPARTEMENTS))
    if level == "region":
        return (~codes.isin(DROM_REGIONS)).astype("boolean")
    if level == "zone_emploi":
        return (~codes.str[:2].isin(ZE2010_DROM_PREFIXES)).astype("boolean")
    if level == "epci":
        drom_epci, metro_epci = drom_epci or set(), metro_epci or set()
        out = pd.Series(pd.NA, index=codes.index, dtype="boolean")
        old_style = codes.str.startswith("24")
        out[old_style] = ~codes[old_style].str.startswith(EPCI_DROM_SIREN_PREFIX)
        out[codes.isin(metro_epci)] = True
        out[codes.isin(drom_epci)] = False
        return out
    raise ValueError(f"no metropolitan rule for level {level!r}")
