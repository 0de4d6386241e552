"""The plain-text summary of a run's checks (``make run``)."""

from __future__ import annotations

from collections.abc import Mapping


# ---------------------------------------------------------------------------------------------
# Reporting.


def format_check_summary(evaluations: list[Mapping], planned: int | None = None) -> str:
    """Plain-text summary of a run's check evaluations (``asset``, ``check``, ``passed``,
    ``severity``, ``description``): counts, then every failure and warning. ``planned`` is the
    number of checks the run was to evaluate (those of a failed source are not)."""
    failed = [e for e in evaluations if not e["passed"] and e["severity"] == "ERROR"]
    warned = [e for e in evaluations if not e["passed"] and e["severity"] != "ERROR"]
    passed = len(evaluations) - len(failed) - len(warned)
    evaluated = f"{len(evaluations)} evaluated"
    if planned is not None and planned != len(evaluations):
        evaluated = (f"{len(evaluations)} of {planned} evaluated ({planned - len(evaluations)} not run: their table was "
                     "not materialised)")
    lines = [f"  Asset checks (Great Expectations suites): {evaluated}, {passed} passed, "
             f"{len(failed)} failed, {len(warned)} warning{'s' if len(warned) != 1 else ''}"]
    lines += [f"    FAILED {e['asset']} · {e['check']}: {e['description']}" for e in failed]
    lines += [f"    WARN   {e['asset']} · {e['check']}: {e['description']}" for e in warned]
    return "\n".join(lines)
