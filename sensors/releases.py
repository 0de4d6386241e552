"""Source-release sensors: one per source with a live endpoint, watching its publisher.

Each sensor asks, at most every ``check_every_hours`` of the source's cadence
(``barometre/cadences.yaml``), whether the publisher has a new release, with the cheap check the
catalogue declares (``live.release_check``: HEAD / ETag, Melodi's ``modified``, the BDM's last
observations; :mod:`barometre.releases`), through the pipeline's HTTP client (so
``BAROMETRE_MIRROR`` applies). Its cursor is a JSON record of the release it last saw.

- A release it has not seen → one run of the job ``refresh_<source>``: the source's raw tables,
  the file manifest, and everything downstream, with that source read live (run config of the
  ``source_files`` resource). The run key is ``<source>@<release version>``: Dagster never starts
  two runs with the same key for a sensor, so the same release is never ingested twice. The
  cursor and the key are spent when the run is requested, not when it succeeds: a release whose
  run failed is not requested again (re-execute that run, or launch ``refresh_<source>`` by hand;
  docs/orchestration.md).
- The release it saw last → a ``SkipReason`` saying what was checked and since when it is known.
- A check that fails (server down, HTTP error, an answer without ETag) → a ``SkipReason`` naming
  the error; the cursor is kept, the next tick tries again.

The five snapshot-only sources (population estimates, births, deaths, doctors, diplomas) have no
sensor: nothing is downloaded for them (docs/sources.md says why). Sensors are created stopped:
they reach the internet and switch their source to live, so a deployment turns them on
(README, docs/orchestration.md).
"""

import json
from datetime import datetime, timezone

import dagster as dg

from assets.ingest import SOURCE_TAG
from assets.resources import SourceFiles
from barometre.cadences import cadence_of
from barometre.catalogue import load_catalogue
from barometre.http import HttpClient
from barometre.landing import LIVE, live_registry, live_source_ids
from barometre.releases import (
    Release,
    ReleaseCheck,
    ReleaseCheckError,
    check_release,
    check_settings,
    release_checks,
)

MANIFEST = dg.AssetKey(["raw", "fichiers_sources"])


def source_selection(source_id: str) -> dg.AssetSelection:
    """The raw tables of one source and the file manifest (``mart.sources``), and everything downstream."""
    return (dg.AssetSelection.tag(SOURCE_TAG, source_id) | dg.AssetSelection.assets(MANIFEST)).downstream()


def refresh_job(source_id: str):
    return dg.define_asset_job(
        f"refresh_{source_id}", selection=source_selection(source_id),
        tags={"barometre/source": source_id},
        description=f"Rebuild what depends on the source `{source_id}`: its raw tables, the file manifest and "
                    f"everything downstream, up to the published file. The release sensor runs it with the source "
                    f"read live; launched by hand it reads the sources as BAROMETRE_SOURCES says.")


def live_sources(source_files: SourceFiles, source_id: str) -> str:
    """``BAROMETRE_SOURCES`` of a sensor's run: the deployment's live sources plus this one (a
    sensor never switches another source back to the snapshot)."""
    registry = live_registry(load_catalogue())
    ids = set(live_source_ids(source_files.sources, registry)) | {source_id}
    if ids == {s for s, live in registry.items() if live.status == LIVE}:
        return LIVE
    return f"{LIVE}:{','.join(sorted(ids))}"


def run_config(source_files: SourceFiles, source_id: str) -> dict:
    """The run's ``source_files`` configuration: the deployment's, with the source switched to live
    (a configured resource takes its whole configuration from the run config)."""
    return {"resources": {"source_files": {"config": {
        "snapshot_dir": source_files.snapshot_dir, "sources": live_sources(source_files, source_id),
        "mirror": source_files.mirror, "landing_dir": source_files.landing_dir}}}}


def read_cursor(cursor: str | None) -> dict:
    if not cursor:
        return {}
    try:
        seen = json.loads(cursor)
    except ValueError:
        return {}
    return seen if isinstance(seen, dict) else {}


def changed_urls(before: dict, release: Release) -> list[str]:
    return sorted(url for url, value in release.evidence.items() if before.get(url) != value)


def evaluate(check: ReleaseCheck, context: dg.SensorEvaluationContext, source_files: SourceFiles):
    """One tick of a release sensor (see the module docstring)."""
    source_id = check.source_id
    client = HttpClient(check_settings(source_files.mirror))
    try:
        release = check_release(check, client)
    except ReleaseCheckError as exc:
        context.log.warning(f"{source_id}: release check failed: {exc}")
        return dg.SkipReason(f"Could not check {source_id} for a new release ({check.describe()}): {exc}. "
                             f"The cursor is kept; the next tick checks again.")
    finally:
        client.close()
    for note in release.notes:
        context.log.warning(note)
    notes = "".join(f" Note: {n}" for n in release.notes)
    seen = read_cursor(context.cursor)
    if seen.get("release") == release.version:
        return dg.SkipReason(f"No new release of {source_id}: {check.describe()} gives {release.label} "
                             f"(release {release.version}, seen since {seen.get('seen_at')}).{notes}")
    changed = changed_urls(seen.get("evidence") or {}, release)
    more = " …" if len(changed) > 5 else ""
    what = ("first check" if not seen else
            f"{len(changed)} of {len(release.evidence)} changed: {', '.join(changed[:5])}{more}")
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    cursor = json.dumps({"release": release.version, "label": release.label, "seen_at": now,
                         "run_key": release.run_key, "evidence": dict(release.evidence)}, ensure_ascii=False)
    context.log.info(f"{source_id}: new release {release.version} ({release.label}; {what}): requesting a run")
    request = dg.RunRequest(
        run_key=release.run_key, run_config=run_config(source_files, source_id),
        tags={"barometre/source": source_id, "barometre/release": release.version,
              "barometre/release_label": release.label[:200]})
    return dg.SensorResult(run_requests=[request], cursor=cursor)


def release_sensor(check: ReleaseCheck, job) -> dg.SensorDefinition:
    """The sensor of one source, requesting runs of ``job`` (its ``refresh_<source>``)."""
    source = load_catalogue().source(check.source_id)
    every = cadence_of(source).check_every

    @dg.sensor(name=f"release_{check.source_id}", job=job, minimum_interval_seconds=int(every.total_seconds()),
               default_status=dg.DefaultSensorStatus.STOPPED,
               description=f"Checks every {every.total_seconds() / 3600:g} h ({source.cadence} source) for a new "
                           f"release of `{check.source_id}` ({check.describe()}) and runs `{job.name}` with it, "
                           f"read live.")
    def _sensor(context: dg.SensorEvaluationContext, source_files: SourceFiles):
        return evaluate(check, context, source_files)

    return _sensor


CHECKS = release_checks(load_catalogue())
_JOBS = {source_id: refresh_job(source_id) for source_id in CHECKS}
JOBS = list(_JOBS.values())
SENSORS = [release_sensor(check, _JOBS[source_id]) for source_id, check in CHECKS.items()]
