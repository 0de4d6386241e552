import os

from barometre import staging
from tests.support.processes import age, dead_pid


def test_pid_alive():
    assert staging.pid_alive(os.getpid()) and staging.pid_alive(os.getppid())
    assert not staging.pid_alive(dead_pid())
    assert staging.pid_alive(0)  # not a process id


def test_stale_lists_only_the_old_files_of_ended_processes(tmp_path):
    dead, other_dead = dead_pid(), dead_pid()
    names = [f".barometre.duckdb.staging-{dead}", f".barometre.duckdb.staging-{dead}.wal",
             f".barometre.duckdb.staging-{os.getppid()}",  # a live process
             f".barometre.duckdb.staging-{os.getpid()}",  # this one
             ".barometre.duckdb.staging-x", f".barometre.duckdb.old-{dead}", f".other.duckdb.staging-{dead}",
             "barometre.duckdb"]
    for name in names:
        (tmp_path / name).touch()
        age(tmp_path / name, 7200)
    (tmp_path / f".barometre.duckdb.staging-{other_dead}").touch()  # modified just now
    assert staging.stale(tmp_path / "barometre.duckdb", "staging") == [
        tmp_path / f".barometre.duckdb.staging-{dead}", tmp_path / f".barometre.duckdb.staging-{dead}.wal"]
    assert staging.stale(tmp_path / "barometre.duckdb", "staging", older_than=-1) == sorted([
        tmp_path / f".barometre.duckdb.staging-{dead}", tmp_path / f".barometre.duckdb.staging-{dead}.wal",
        tmp_path / f".barometre.duckdb.staging-{other_dead}"])
    assert staging.stale(tmp_path / "barometre.duckdb", "old") == [tmp_path / f".barometre.duckdb.old-{dead}"]
