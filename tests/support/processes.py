"""For the tests of staging files: ended processes, old files, a disk that fills up."""

import os
import subprocess
import sys
import time
from pathlib import Path


def dead_pid() -> int:
    """The id of a process that has ended (a child started and reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def age(path: Path, seconds: float) -> Path:
    """Set ``path``'s modification time ``seconds`` in the past."""
    then = time.time() - seconds
    os.utime(path, (then, then))
    return path


def fail_staging_renames(monkeypatch) -> None:
    """Make ``Path.rename`` of a report staging folder fail as on a full disk; other renames work."""
    rename = Path.rename

    def failing(self, to):
        if self.name.startswith(".report.staging-"):
            raise OSError(28, "No space left on device")
        return rename(self, to)

    monkeypatch.setattr(Path, "rename", failing)
