"""Presidential election, first round, results by département (Ministère de l'Intérieur).

The four files are a sample of real-world mess, each handled explicitly by its year's format:

- 2007 and 2022 use a decimal comma, 2012 and 2017 a decimal point;
- 2017 has a title line above the header;
- 2022 (provisional results) names one candidate block in its header but has twelve per row,
  and has an ``Etat saisie`` column; only the leading turnout columns are read;
- codes are the Ministry's: ``1``…``9`` without a leading zero (until 2017), ``ZA``…``ZM`` for the
  DROM (mapped to ``971``…``976``), ``ZN``…``ZX`` for the collectivités d'outre-mer and ``ZZ``
  for French voters abroad (both kept only for France entière).
"""

from __future__ import annotations

import pandas as pd

from barometre.geography import DEPARTEMENTS
from barometre.sources._csv import SourceFormatError, read_delimited, to_number
from barometre.sources._schema import Allowed, Codes, Coverage, Identity, Ordered, RawSchema, Values
from barometre.sources.registry import RawTable, SourceParse

SOURCE_ID = "interieur_presidentielle_t1"
TABLE = "interieur_presidentielle_t1_departement"
FILES = {
    2007: "elections/2007-t1-definitifs-departements.csv",
    2012: "elections/2012-t1-definitifs-departements.csv",
    2017: "elections/2017-t1-definitifs-departements.csv",
    2022: "elections/2022-t1-provisoires-departements.csv",
}

_HEAD = ["Code du département", "Libellé du département"]
_BLANCS_NULS = ["Blancs et nuls", "% BlNuls/Ins", "% BlNuls/Vot"]
_BLANCS_NULS_SPLIT = ["Blancs", "% Blancs/Ins", "% Blancs/Vot", "Nuls", "% Nuls/Ins", "% Nuls/Vot"]
_TURNOUT = ["Inscrits", "Abstentions", "% Abs/Ins", "Votants", "% Vot/Ins"]
_EXPRIMES = ["Exprimés", "% Exp/Ins", "% Exp/Vot"]

# Per election: lines above the header, decimal separator, leading columns read.
FORMATS = {
    2007: dict(skiprows=0, decimal=",", columns=_HEAD + _TURNOUT + _BLANCS_NULS + _EXPRIMES, provisional=False),
    2012: dict(skiprows=0, decimal=".", columns=_HEAD + _TURNOUT + _BLANCS_NULS + _EXPRIMES, provisional=False),
    2017: dict(skiprows=1, decimal=".", columns=_HEAD + _TURNOUT + _BLANCS_NULS_SPLIT + _EXPRIMES, provisional=False),
    2022: dict(skiprows=0, decimal=",", columns=_HEAD + ["Etat saisie"] + _TURNOUT + _BLANCS_NULS_SPLIT + _EXPRIMES,
               provisional=True),
}

DROM_CODES = {"ZA": "971", "ZB": "972", "ZC": "973", "ZD": "974", "ZM": "976"}
COM_CODES = {"ZN", "ZP", "ZS", "ZW", "ZX"}
ABROAD_CODE = "ZZ"

COLUMNS = ["year", "code_ministere", "kind", "code_departement", "libelle", "inscrits", "abstentions",
           "votants", "exprimes", "pct_votants_inscrits", "provisional"]

SCHEMA = RawSchema(
    table=TABLE,
    files="elections/*-t1-*-departements.csv",
    columns={"year": "int", "code_ministere": "text", "kind": "text", "code_departement": "text", "libelle": "text",
             "inscrits": "int", "abstentions": "int", "votants": "int", "exprimes": "int",
             "pct_votants_inscrits": "float", "provisional": "bool"},
    key=("year", "code_ministere"), period="year", periods=tuple(FILES),
    required=("kind", "libelle", "inscrits", "abstentions", "votants", "exprimes", "pct_votants_inscrits"),
    codes=(Codes("code_ministere", "ministere", pattern=r"^(0?[1-9]|[1-8][0-9]|9[0-5]|2A|2B|Z[A-Z])$"),
           Codes("code_departement", "departement", DEPARTEMENTS, "the 101 départements")),
    coverage=(Coverage("code_departement", DEPARTEMENTS, "the 101 départements", by=("year",)),),
    values=(*(Values(c, "count") for c in ("inscrits", "abstentions", "votants", "exprimes")),
            Values("pct_votants_inscrits", "%", "participation_presidentielle_t1")),
    allowed=(Allowed("kind", ("departement", "com", "etranger")),),
    ordered=(Ordered("inscrits", "votants"), Ordered("votants", "exprimes")),
    examples=("year", "code_ministere"),
    file_of=lambda row: FILES[int(row["year"])],
    # Scale and shape: a year's median count (real values ÷ 2 and × 2: inscrits 343 804–364 468,
    # abstentions 51 895–94 414, votants 273 408–295 442, exprimés 267 566–291 674) and the largest
    # factor between two elections of a Ministry territory (real: 1.27, 1.83, 1.37, 1.45, the
    # voters abroad and the COM). The turnout takes both from the catalogue.
    level="departement",
    medians={"inscrits": (170_000, 730_000), "abstentions": (25_000, 190_000), "votants": (130_000, 600_000),
             "exprimes": (130_000, 590_000)},
    max_jump={"inscrits": 2, "abstentions": 3, "votants": 2.5, "exprimes": 2.5},
    # (inscrits = abstentions + votants is checked by the parser, which reads the counts)
    identities=(Identity("pct_votants_inscrits", "% Vot/Ins equals votants / inscrits × 100 (rounded to 0.01), "
                         "absolute gap", lambda frame, tables: (frame["votants"].astype("float64")
                                                               / frame["inscrits"].astype("float64") * 100
                                                               - frame["pct_votants_inscrits"]).abs(),
                         0.006, ("inscrits", "votants", "pct_votants_inscrits")),),
)


def insee_code(code: str) -> tuple[str, str | None]:
    """Ministry code → (kind, INSEE département code or None).

    >>> insee_code("1"), insee_code("ZA"), insee_code("ZZ")
    (('departement', '01'), ('departement', '971'), ('etranger', None))
    """
    code = code.strip()
    if code in DROM_CODES:
        return "departement", DROM_CODES[code]
    if code in COM_CODES:
        return "com", None
    if code == ABROAD_CODE:
        return "etranger", None
    padded = code.zfill(2) if code.isdigit() else code
    if padded in DEPARTEMENTS:
        return "departement", padded
    return "unknown", None


def parse(raw: bytes, year: int, file: str | None = None, *, encoding: str = "utf-8") -> pd.DataFrame:
    """One row per Ministry territory (département, COM, abroad) with the turnout counts.

    ``encoding`` is that of the bytes: UTF-8 for the snapshot's CSV copies, Latin-1 for the
    Ministry's own 2022 text file (:func:`parse_ministry_txt`)."""
    if year not in FORMATS:
        raise ValueError(f"no declared format for the {year} presidential election (known: {sorted(FORMATS)})")
    fmt = FORMATS[year]
    file = file or FILES[year]
    frame = read_delimited(raw, file, sep=";", columns=fmt["columns"], skiprows=fmt["skiprows"],
                           usecols=len(fmt["columns"]), header_prefix_only=True, encoding=encoding)
    code_col = "Code du département"
    mapped = frame[code_col].map(insee_code)
    unknown = frame.loc[mapped.map(lambda t: t[0] == "unknown"), code_col]
    if len(unknown):
        raise SourceFormatError(file, code_col, "unknown territory code", unknown.head(5).tolist())
    key = [code_col]
    out = pd.DataFrame({
        "year": year,
        "code_ministere": frame[code_col].str.strip(),
        "kind": mapped.map(lambda t: t[0]),
        "code_departement": mapped.map(lambda t: t[1]),
        "libelle": frame["Libellé du département"],
        "inscrits": to_number(frame, "Inscrits", file, integer=True, key=key),
        "abstentions": to_number(frame, "Abstentions", file, integer=True, key=key),
        "votants": to_number(frame, "Votants", file, integer=True, key=key),
        "exprimes": to_number(frame, "Exprimés", file, integer=True, key=key),
        "pct_votants_inscrits": to_number(frame, "% Vot/Ins", file, decimal=fmt["decimal"], key=key),
        "provisional": fmt["provisional"],
    })
    broken = out["inscrits"] != out["abstentions"] + out["votants"]
    if broken.any():
        raise SourceFormatError(file, "Inscrits", "Inscrits must equal Abstentions + Votants",
                                out.loc[broken, ["code_ministere", "inscrits", "abstentions", "votants"]].head(5).values.tolist())
    dup = out["code_ministere"].duplicated(keep=False)
    if dup.any():
        raise SourceFormatError(file, code_col, "duplicated territory", out.loc[dup, "code_ministere"].tolist())
    return out[COLUMNS]


def parse_ministry_txt(raw: bytes, file: str) -> pd.DataFrame:
    """The Ministry's own département file as data.gouv.fr serves it (2022: ``;``-separated
    Latin-1 text), for the election whose snapshot copy is ``file``: the same rows as
    :func:`parse` on the snapshot's UTF-8 copy."""
    years = {path: year for year, path in FILES.items()}
    if file not in years:
        raise ValueError(f"{file} is not one of the election files {sorted(years)}")
    try:  # accented Latin-1 bytes are never valid UTF-8: a UTF-8 file would turn into mojibake
        if not raw.isascii() and raw.decode("utf-8"):
            raise SourceFormatError(file, None, "declared Latin-1 but the bytes are UTF-8 (the publisher changed "
                                                "the encoding?)", [raw.decode("utf-8").splitlines()[1][:60]])
    except UnicodeDecodeError:
        pass
    return parse(raw, years[file], file, encoding="latin-1")


def read_elections(store, catalogue) -> dict[str, pd.DataFrame]:
    """The four elections' files in one table (the live file's own parser when it has one)."""
    return {TABLE: pd.concat([store.parse(f, lambda raw, path, year=year: parse(raw, year, path))
                              for year, f in FILES.items()], ignore_index=True)}


PARSES = (SourceParse(SOURCE_ID, tuple(FILES.values()), read_elections,
                      (RawTable(TABLE, SCHEMA, "Presidential first-round turnout counts, one row per election × "
                                               "Ministry territory (département, COM, abroad)."),)),)
