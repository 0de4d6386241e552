"""Files and folders a process writes beside a target before it replaces it, named after that
process (``.<target>.staging-<pid>``, ``.<target>.old-<pid>``), and those a killed process left
behind.

A process removes its own on the way out; one that was killed (``SIGKILL``, out of memory, power
cut) cannot. :func:`stale` finds them so that the next run removes them: only when their process
is gone (``os.kill(pid, 0)`` raises ``ProcessLookupError``) and they have not been modified for
:data:`STALE_AFTER_SECONDS`, so that the files of a live process are never touched — even one
this process cannot see, in another PID namespace or on another host sharing the folder.
"""

from __future__ import annotations

import glob
import os
import re
import time
from pathlib import Path

STALE_AFTER_SECONDS = 3600


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` is running (one of another user counts as running)."""
    if pid <= 0:
        return True  # not a process id: never call it gone
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stale(target: str | os.PathLike, tag: str, *, older_than: float = STALE_AFTER_SECONDS) -> list[Path]:
    """The siblings of ``target`` named ``.<target name>.<tag>-<pid>``, or that followed by a
    suffix (DuckDB's ``.wal``), whose process is gone and that were last modified more than
    ``older_than`` seconds ago; never those of this process."""
    target = Path(target)
    name = re.compile(rf"\.{re.escape(target.name)}\.{re.escape(tag)}-(\d+)(\.\w+)?")
    now = time.time()
    found = []
    for path in target.parent.glob(f".{glob.escape(target.name)}.{glob.escape(tag)}-*"):
        match = name.fullmatch(path.name)
        if match is None or int(match.group(1)) == os.getpid() or pid_alive(int(match.group(1))):
            continue
        try:
            if now - path.lstat().st_mtime > older_than:
                found.append(path)
        except FileNotFoundError:
            pass
    return sorted(found)
