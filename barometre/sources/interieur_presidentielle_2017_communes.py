"""Presidential election 2017, rounds 1 and 2, by commune (Ministère de l'Intérieur).

``elections_communes_2017/presidentielle_2017_communes.csv.gz``: a faithful CSV conversion
(``;``, UTF-8, gzip) of the R object ``Turnout2017`` of the package ``frelections``, scraped from
the Ministry's commune result pages (see data/snapshot/PROVENANCE.md). One row per round and
commune (or municipal arrondissement), counts only.

The file's traps, each handled here:

- Ministry codes: ``Departement`` on 3 characters (``001``, ``02A``, ``971``, ``975``…) and
  ``CommuneCode`` = département (3) + commune (3). INSEE commune codes are rebuilt from
  ``CommuneCode``, never taken from ``CommuneCodeINSEE``, which is wrong for Saint-Lucien
  (Ministry ``076601`` carries ``76676``, Sigy-en-Bray's code) and for the 17 communes of Mayotte
  (Ministry ``976501``… carry ``97501``…, the codes of Saint-Pierre-et-Miquelon, instead of
  ``97601``…): see :func:`insee_code_disagreements`.
  Metropolitan départements: INSEE = département without its leading ``0`` + commune (``001006``
  → ``01006``, ``02A001`` → ``2A001``). Overseas, the Ministry's commune number has a leading
  digit of its own: INSEE = département + the last two digits (``971102`` → ``97102``,
  ``976501`` → ``97601``), except ``977``, which groups Saint-Barthélemy (``977701`` → ``97701``)
  and Saint-Martin (``977801`` → ``97801``).
- Lyon and Marseille are only present as their municipal arrondissements (``069123AR01`` …,
  ``013055AR01`` …; no row for the whole commune): rows of ``kind`` ``arrondissement`` carry
  ``code_arrondissement`` (``69381``…, ``13201``…) and, as ``code_commune``, their commune
  (``69123``, ``13055``). :func:`commune_counts` sums them into the commune, once.
- Paris (75056, one commune and one département) is absent: its counts are those of the
  Ministry's département file (:mod:`barometre.sources.elections`), added by
  :func:`barometre.commune_indicators.commune_turnout_counts`.
- The collectivités d'outre-mer (``975``, ``977``, ``987``, ``988``) are ``kind`` ``com``, with
  no ``code_departement``; they are in no département, EPCI or zone d'emploi.
- Round 2 was scraped two days after the vote: provisional (``provisional`` = true).
"""

from __future__ import annotations

import gzip
import re

import pandas as pd

from barometre.geography import DEPARTEMENTS
from barometre.sources._csv import SourceFormatError, read_delimited, to_number
from barometre.sources._schema import Allowed, Codes, CountRange, Ordered, RawSchema, Values
from barometre.sources.registry import single_table

FILE = "elections_communes_2017/presidentielle_2017_communes.csv.gz"
SOURCE_ID = "interieur_presidentielle_2017_communes"
YEAR = 2017
# The communes of the file are those of the COG of 1 January 2017.
GEOGRAPHY_VINTAGE = "cog_2017"

HEADER = ["Region", "RegionNom", "Departement", "DepartementNom", "CommuneCode", "CommuneName",
          "CommuneCodeINSEE", "CommuneNomINSEE", "Round", "Inscrits", "Abstentions", "Votants", "Blancs",
          "Nuls", "Exprimés"]
COUNTS = {"Inscrits": "inscrits", "Abstentions": "abstentions", "Votants": "votants", "Blancs": "blancs",
          "Nuls": "nuls", "Exprimés": "exprimes"}
COLUMNS = ["year", "round", "code_ministere", "departement_ministere", "kind", "code_departement", "code_commune",
           "code_arrondissement", "libelle", "code_insee_ministere", *COUNTS.values(), "provisional"]

# Ministry département codes of the collectivités d'outre-mer in this file.
COM_DEPARTEMENTS = ("975", "977", "986", "987", "988")
_DEP = re.compile(r"^(0(?:0[1-9]|[1-8][0-9]|9[0-5]|2A|2B)|97[1-46]|97[57]|98[678])$")
_COMMUNE = re.compile(r"^(?P<dep>[0-9]{2}[0-9AB])(?P<com>[0-9]{3})(?:AR(?P<ar>[0-9]{2}))?$")
# Municipal arrondissements: INSEE code = base + arrondissement number.
ARRONDISSEMENT_BASE = {"13055": 13200, "69123": 69380}


def insee_commune_code(departement: str, commune: str) -> str:
    """Ministry (département on 3, commune on 3) → INSEE commune code.

    >>> insee_commune_code("001", "006"), insee_commune_code("02A", "001"), insee_commune_code("976", "501")
    ('01006', '2A001', '97601')
    >>> insee_commune_code("977", "801")
    '97801'
    """
    if departement.startswith("0"):
        return departement[1:] + commune
    if departement == "977":
        return "97" + commune
    return departement + commune[1:]


def _count(frame: pd.DataFrame, column: str, file: str, key: list[str]) -> pd.Series:
    """A count column: digits only is the fast path; anything else goes through ``to_number``,
    which raises the standard error naming the rows (or leaves an empty cell missing)."""
    cells = frame[column]
    texts = cells.tolist()
    joined = "".join(texts)  # every cell one or more ASCII digits, i.e. fullmatch [0-9]+
    if all(texts) and joined.isascii() and joined.isdigit():
        return cells.astype("int64").astype("Int64")
    return to_number(frame, column, file, integer=True, key=key)


def parse(raw: bytes, file: str = FILE) -> pd.DataFrame:
    """One row per round and Ministry commune (or arrondissement) with the turnout counts."""
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise SourceFormatError(file, None, f"not a valid gzip file: {exc}") from None
    frame = read_delimited(raw, file, sep=";", columns=HEADER)
    for col in ("Departement", "CommuneCode", "Round"):
        frame[col] = pd.Series([v.strip() for v in frame[col].tolist()], index=frame.index, dtype="object")
    bad_dep = ~pd.Series([_DEP.match(d) is not None for d in frame["Departement"].tolist()], index=frame.index)
    if bad_dep.any():
        raise SourceFormatError(file, "Departement", "not a 3-character Ministry département code "
                                "('001', '02A', '971'…: lost a leading zero?)",
                                frame.loc[bad_dep, ["Departement", "CommuneCode"]].head(5).values.tolist())
    found = [_COMMUNE.match(c) for c in frame["CommuneCode"].tolist()]
    parts = pd.DataFrame([m.groups() if m else (None, None, None) for m in found], columns=["dep", "com", "ar"],
                         index=frame.index, dtype="object")
    bad = parts["dep"].isna() | (parts["dep"] != frame["Departement"])
    if bad.any():
        raise SourceFormatError(file, "CommuneCode", "must be the département (3 characters) + the commune (3 digits)"
                                " [+ 'AR' + arrondissement]", frame.loc[bad, ["Departement", "CommuneCode"]].head(5)
                                .values.tolist())
    bad_round = ~frame["Round"].isin(["1", "2"])
    if bad_round.any():
        raise SourceFormatError(file, "Round", "round must be 1 or 2", frame.loc[bad_round, ["CommuneCode", "Round"]]
                                .head(5).values.tolist())
    code = [insee_commune_code(d, c) for d, c in zip(parts["dep"], parts["com"])]
    is_ar = parts["ar"].notna()
    wrong_ar = is_ar & ~pd.Series(code, index=frame.index).isin(list(ARRONDISSEMENT_BASE))
    if wrong_ar.any():
        raise SourceFormatError(file, "CommuneCode", "municipal arrondissements only exist for Lyon and Marseille "
                                "(Paris is not in this file)", frame.loc[wrong_ar, ["CommuneCode"]].head(5)
                                .values.tolist())
    com = frame["Departement"].isin(COM_DEPARTEMENTS)
    kind = pd.Series("commune", index=frame.index).mask(is_ar, "arrondissement").mask(com, "com")
    dep = pd.Series([d[1:] if d.startswith("0") else d for d in frame["Departement"].tolist()], index=frame.index,
                    dtype="object")
    key = ["CommuneCode", "Round"]
    out = pd.DataFrame({
        "year": YEAR,
        "round": frame["Round"].astype("int64"),
        "code_ministere": frame["CommuneCode"],
        "departement_ministere": frame["Departement"],
        "kind": kind,
        "code_departement": dep.where(~com, None),
        "code_commune": code,
        "code_arrondissement": [str(ARRONDISSEMENT_BASE[c] + int(a)) if isinstance(a, str) else None
                                for c, a in zip(code, parts["ar"])],
        "libelle": pd.Series([v.removeprefix("Commune de ") for v in frame["CommuneName"].tolist()], index=frame.index,
                             dtype="object"),
        "code_insee_ministere": frame["CommuneCodeINSEE"].where(
            pd.Series([v.strip() != "" for v in frame["CommuneCodeINSEE"].tolist()], index=frame.index), None),
        **{name: _count(frame, col, file, key) for col, name in COUNTS.items()},
    })
    out["provisional"] = out["round"] == 2
    missing = out[list(COUNTS.values())].isna().any(axis=1)
    if missing.any():
        raise SourceFormatError(file, "Inscrits", "a count is missing",
                                out.loc[missing, ["code_ministere", "round"]].head(5).values.tolist())
    unknown_dep = (out["kind"] != "com") & ~out["code_departement"].isin(DEPARTEMENTS)
    if unknown_dep.any():
        raise SourceFormatError(file, "Departement", "not one of the 101 départements nor a collectivité d'outre-mer",
                                out.loc[unknown_dep, ["code_ministere"]].head(5).values.tolist())
    for total, parts_, rule in (("inscrits", ("abstentions", "votants"), "Inscrits must equal Abstentions + Votants"),
                                ("votants", ("blancs", "nuls", "exprimes"),
                                 "Votants must equal Blancs + Nuls + Exprimés")):
        broken = out[total] != sum(out[p] for p in parts_)
        if broken.any():
            raise SourceFormatError(file, COUNTS_INV[total], rule, out.loc[broken, ["code_ministere", "round", total,
                                                                                   *parts_]].head(5).values.tolist())
    dup = out.duplicated(["round", "code_ministere"], keep=False)
    if dup.any():
        raise SourceFormatError(file, "CommuneCode", "duplicated (commune, round)",
                                out.loc[dup, ["code_ministere", "round"]].head(5).values.tolist())
    insee = out["code_arrondissement"].fillna(out["code_commune"])
    dup = out.assign(_c=insee).duplicated(["round", "_c"], keep=False)
    if dup.any():
        raise SourceFormatError(file, "CommuneCode", "two Ministry communes give the same INSEE code",
                                out.loc[dup, ["code_ministere", "round"]].head(5).values.tolist())
    r1 = set(out.loc[out["round"] == 1, "code_ministere"])
    r2 = set(out.loc[out["round"] == 2, "code_ministere"])
    if r1 != r2:
        raise SourceFormatError(file, "Round", "rounds 1 and 2 must list the same communes",
                                sorted(r1 ^ r2)[:5])
    return out[COLUMNS]


COUNTS_INV = {v: k for k, v in COUNTS.items()}


def insee_code_disagreements(frame: pd.DataFrame) -> pd.DataFrame:
    """Round-1 rows whose published ``CommuneCodeINSEE`` differs from the code rebuilt from the
    Ministry code (Saint-Lucien and the communes of Mayotte in the 2017 file), for the quality
    report. The COM rows, which publish no INSEE code, are not listed."""
    rows = frame[(frame["round"] == 1) & frame["code_insee_ministere"].notna()]
    rebuilt = rows["code_arrondissement"].fillna(rows["code_commune"])
    bad = rows[rows["code_insee_ministere"] != rebuilt]
    return pd.DataFrame({
        "kind": "wrong_source_code", "indicator_id": None, "source_id": SOURCE_ID, "level": "commune",
        "code": bad["code_commune"].values, "geography_vintage": GEOGRAPHY_VINTAGE, "period": str(YEAR),
        "detail": [f"{lib} (Ministry {m}): CommuneCodeINSEE {p} is not its INSEE code; {c} rebuilt from the Ministry "
                   f"code is used" for lib, m, p, c in zip(bad["libelle"], bad["code_ministere"],
                                                          bad["code_insee_ministere"], bad["code_commune"])],
    })


def commune_counts(frame: pd.DataFrame, round_: int = 1) -> pd.DataFrame:
    """One row per commune of the 101 départements for one round: Lyon's and Marseille's
    arrondissements summed into 69123 and 13055 (their only rows), the COM left out. Paris is not
    in the file (see :func:`barometre.commune_indicators.commune_turnout_counts`)."""
    rows = frame[(frame["round"] == round_) & (frame["kind"] != "com")]
    counts = list(COUNTS.values())
    out = rows.groupby(["code_commune", "code_departement"], as_index=False, sort=True).agg(
        **{c: (c, "sum") for c in counts}, n_rows=("code_ministere", "size"))
    return out


SCHEMA = RawSchema(
    table=SOURCE_ID,
    files=FILE,
    columns={"year": "int", "round": "int", "code_ministere": "text", "departement_ministere": "text", "kind": "text",
             "code_departement": "text", "code_commune": "text", "code_arrondissement": "text", "libelle": "text",
             "code_insee_ministere": "text", **{c: "int" for c in COUNTS.values()}, "provisional": "bool"},
    key=("round", "code_ministere"), period="round", periods=(1, 2),
    required=("code_ministere", "departement_ministere", "kind", "code_commune", "libelle", *COUNTS.values()),
    codes=(Codes("code_ministere", "ministere", pattern=r"^[0-9]{2}[0-9AB][0-9]{3}(AR[0-9]{2})?$"),
           Codes("code_commune", "commune", where={"kind": "commune"}),
           Codes("code_departement", "departement", DEPARTEMENTS, "the 101 départements", where={"kind": "commune"})),
    # 35,517 communes and arrondissements of COG 2017 (no Paris) in each round.
    coverage=(CountRange("code_ministere", 35_000, 36_000, "communes and arrondissements per round", by=("round",)),),
    values=tuple(Values(c, "count") for c in COUNTS.values()),
    allowed=(Allowed("kind", ("commune", "arrondissement", "com")),),
    ordered=(Ordered("inscrits", "votants"), Ordered("votants", "exprimes")),
    examples=("round", "code_ministere"),
)

# One raw table: ``raw.interieur_presidentielle_2017_communes`` (the source id already ends with its level).
PARSES = (single_table(SOURCE_ID, SOURCE_ID, FILE, parse, SCHEMA,
                       "Presidential 2017 counts by commune (rounds 1 and 2), one row per round × Ministry commune "
                       "or municipal arrondissement (Lyon, Marseille); no Paris (département file)."),)
