"""Process ids for the tests of leftover staging files."""

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
