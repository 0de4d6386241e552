"""Source folders: every file in a snapshot or landing folder is declared, or reported (no Dagster).

A source declares its files as paths or glob patterns (the catalogue's ``files`` today; the
source registry later). :func:`classify_folder` takes those declarations and the listing of the
folders they name, and sorts every file listed:

- **declared**: it matches a declared pattern of some source;
- **documentation**: ``*.md``, ``LICENSE*``, ``README*`` (provenance and licences kept next to
  the data; never read as data);
- **copy** (a WARN): a plain copy of a declared file left by a file manager or a download —
  the same bytes as a declared file, or a declared file's name with a copy suffix
  (``carte_1_1 (1).csv``, ``carte_1_1 - Copie.csv``, ``carte_1_1 copy.csv``, ``carte_1_1.csv.bak``,
  ``carte_1_1.csv~``). It is not read; the run summary and ``mart.quality_report`` name it;
- **unknown** (an error): any other file. The catalogue does not know it, so it is neither read
  nor ignored: the run stops before the publication, naming the file and the source(s) of its
  folder.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

# A copy suffix before the extension (or after it, for .bak and ~).
_COPY = re.compile(r"^(?P<stem>.+?)(?: \(\d+\)| - [Cc]opie(?: \(\d+\))?| [Cc]opy(?: \d+)?| \([Cc]opy\)|-[Cc]opie)"
                   r"(?P<ext>\.[^./]+)$")
_COPY_AFTER = re.compile(r"^(?P<name>.+\.[^./]+)(?:\.bak|\.orig|~)$")
_DOCUMENTATION = ("*.md", "LICENSE*", "README*")


@dataclass(frozen=True)
class FolderFinding:
    """One file of a source folder that is not a declared file: a copy (WARN) or unknown (ERROR)."""

    path: str
    kind: str  # "copy" or "unknown"
    sources: tuple[str, ...]  # the source of the original (copy), or the sources of the folder (unknown)
    original: str | None = None
    how: str | None = None  # "same bytes" or "copy suffix"

    @property
    def severity(self) -> str:
        return "WARN" if self.kind == "copy" else "ERROR"

    def message(self) -> str:
        src = ", ".join(self.sources)
        if self.kind == "copy":
            return (f"{self.path}: a copy of the declared file {self.original} ({self.how}) of source {src}: "
                    "not read [source_folder_copy]")
        return (f"{self.path}: a file the catalogue does not declare, in the folder of source {src}: remove it, or "
                "declare it in the catalogue's files [source_folder_unknown_file]")


@dataclass
class FolderReport:
    declared: list[str] = field(default_factory=list)
    documentation: list[str] = field(default_factory=list)
    findings: list[FolderFinding] = field(default_factory=list)

    @property
    def copies(self) -> list[FolderFinding]:
        return [f for f in self.findings if f.kind == "copy"]

    @property
    def unknown(self) -> list[FolderFinding]:
        return [f for f in self.findings if f.kind == "unknown"]


def declared_folders(declared: Mapping[str, Iterable[str]]) -> list[str]:
    """The folders named by the declared patterns (``barometre_2018``…), sorted."""
    return sorted({posixpath.dirname(p) for patterns in declared.values() for p in patterns})


def _source_of(path: str, declared: Mapping[str, Iterable[str]]) -> tuple[str, ...]:
    return tuple(s for s, patterns in declared.items() if any(fnmatch.fnmatchcase(path, p) for p in patterns))


def classify_folder(declared: Mapping[str, Iterable[str]], listing: Iterable[str],
                    digest: Callable[[str], str] | None = None) -> FolderReport:
    """Sort the files of ``listing`` (paths relative to the snapshot or landing root, in the
    folders of :func:`declared_folders`) against the ``declared`` patterns (source id → paths or
    globs). ``digest`` (path → SHA-256) finds copies under any name."""
    declared = {s: tuple(p) for s, p in declared.items()}
    report = FolderReport()
    listing = sorted(listing)
    files = {path: _source_of(path, declared) for path in listing}
    by_digest: dict[str, str] = {}
    if digest is not None:  # the first declared file of each content (declared by a literal name first)
        literal_first = sorted((p for p, srcs in files.items() if srcs),
                               key=lambda p: not any(p == q for patterns in declared.values() for q in patterns))
        for p in literal_first:
            by_digest.setdefault(digest(p), p)
    def copy_of(path: str) -> tuple[str | None, str | None]:
        folder, name = posixpath.split(path)
        m = _COPY.match(name)
        stripped = m and f"{m['stem']}{m['ext']}"
        if not stripped:
            m2 = _COPY_AFTER.match(name)
            stripped = m2 and m2["name"]
        if stripped and posixpath.join(folder, stripped) in files and posixpath.join(folder, stripped) != path:
            return posixpath.join(folder, stripped), "copy suffix"
        # same bytes: only for a file no pattern declares (COG releases repeat files legitimately)
        twin = by_digest.get(digest(path)) if digest is not None and not files[path] else None
        if twin and twin != path:
            return twin, "same bytes"
        return None, None

    for path, sources in files.items():
        folder, name = posixpath.split(path)
        # A glob (carte_*.csv) also matches a copy's name (carte_1_1 (1).csv): a copy suffix is
        # looked for first; a file named by a literal pattern is declared whatever its bytes.
        literal = any(path == p for patterns in declared.values() for p in patterns)
        original, how = (None, None) if literal else copy_of(path)
        if sources and original is None:
            report.declared.append(path)
            continue
        if original is None and any(fnmatch.fnmatchcase(name, d) for d in _DOCUMENTATION):
            report.documentation.append(path)
            continue
        if original:
            report.findings.append(FolderFinding(path, "copy", _source_of(original, declared), original, how))
        else:
            here = tuple(s for s, patterns in declared.items()
                         if any(posixpath.dirname(p) == folder for p in patterns))
            report.findings.append(FolderFinding(path, "unknown", here or ("(none)",)))
    return report


def quality_rows(report: FolderReport) -> list[dict]:
    """The copies of a report as rows of ``mart.quality_report`` (kind ``source_file_copy``; an
    unknown file stops the run before the marts, so it never reaches the table)."""
    return [{"kind": "source_file_copy", "indicator_id": None, "source_id": f.sources[0] if f.sources else None,
             "level": None, "code": None, "geography_vintage": None, "period": None,
             "detail": f.message().split(": ", 1)[1].rsplit(" [", 1)[0] + f" ({f.path})"}
            for f in report.copies]


CHECK = "source_folders"  # the check of raw.fichiers_sources that reports the folders


def outcome(report: FolderReport):
    """The report as a check outcome: failed (ERROR) when a file is unknown, failed with WARN
    severity when there are only copies, passed otherwise."""
    from barometre.validation.runtime import CheckOutcome, Failure

    failures = [Failure(f"source_folder_{f.kind}", f.message().split(": ", 1)[1].rsplit(" [", 1)[0], None, f.path,
                        None, ("file", "files"), group=CHECK)
                for f in sorted(report.findings, key=lambda f: (f.kind != "unknown", f.path))]
    severity = "ERROR" if report.unknown else "WARN"
    out = CheckOutcome("raw.fichiers_sources", CHECK, not report.findings, severity,
                       len(report.declared) + len(report.documentation) + len(report.findings), failures)
    out.notes["files_declared"] = len(report.declared)
    if report.findings:
        out.notes["findings"] = [f.message() for f in report.findings]
    return out
