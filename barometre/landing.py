"""Where source files come from: the bundled snapshot (``data/snapshot/``).

The pipeline reads bytes through :class:`SnapshotStore` and hands them to the pure parsers of
:mod:`barometre.sources`. Every file read is recorded with its SHA-256, for ``mart.sources``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SNAPSHOT_DIR = PROJECT_ROOT / "data" / "snapshot"


class MissingSourceFile(FileNotFoundError):
    pass


@dataclass(frozen=True)
class SnapshotStore:
    root: Path = DEFAULT_SNAPSHOT_DIR

    def read(self, relative_path: str) -> bytes:
        path = Path(self.root) / relative_path
        if not path.is_file():
            raise MissingSourceFile(f"source file {relative_path} not found in snapshot {self.root}")
        return path.read_bytes()

    def glob(self, pattern: str) -> list[str]:
        """Relative paths matching ``pattern`` (e.g. ``barometre_2018/carte_*.csv``), sorted."""
        root = Path(self.root)
        return sorted(str(p.relative_to(root)) for p in root.glob(pattern) if p.is_file())


def sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()
