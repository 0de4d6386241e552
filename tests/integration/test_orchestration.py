"""Orchestration (sensors/): the code location loads; the monthly schedule; the job selections;
pools, automation conditions and freshness policies; the source-release sensors against the local
HTTP server (first tick, same ETag, new ETag, server down) and the run they request, read live
through the mirror; the run-failure sensor writing mart.pipeline_events and calling a webhook."""

import json
import shutil
from datetime import timedelta

import dagster as dg
import duckdb
import pytest
import yaml

from assets import ingest
from assets.resources import SourceFiles
from barometre.definitions import ALL_ASSETS, build_defs, build_resources
from barometre.pipeline_events import read_events
from sensors import alerts, automation, releases, schedules
from tests.support.http_server import HtmlPage, free_port
from tests.support.webhook import WebhookReceiver

# evaluate_automation_conditions uses a beta parameter internally (AssetSelection.all(include_sources=True)).
pytestmark = [pytest.mark.integration, pytest.mark.filterwarnings("ignore::dagster.BetaWarning")]

ELECTION = "interieur_presidentielle_t1"
ELECTION_URL = ("https://static.data.gouv.fr/resources/election-presidentielle-des-10-avril-et-24-avril-2022-resultats-"
                "du-1er-tour/20220411-110508/resultats-par-niveau-dpt-t1-france-entiere.txt")
ELECTION_PATH = "/" + ELECTION_URL.removeprefix("https://")
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
K = dg.AssetKey.from_user_string
# What is built from the published file (the report, in the publication group): rebuilt after every publication.
AFTER_PUBLICATION = {k.to_user_string() for k in dg.AssetSelection.assets("published_barometre").downstream(
    include_self=False).resolve(ALL_ASSETS)}
# Everything that depends on the localised unemployment rates (raw/insee_chomage_localise_departement), and nothing else.
DOWNSTREAM_OF_CHOMAGE = {
    "indicators/taux_chomage", "findings/taux_chomage", "mart/indicator_values", "mart/quality_report", "mart/territories",
    "core/territory_scope", "mart/disparities", "mart/convergence", "mart/rankings", "mart/dimension_scores",
    "mart/france_summary", "published_barometre"} | AFTER_PUBLICATION


def keys(selection) -> set[str]:
    return {k.to_user_string() for k in selection}


@pytest.fixture
def defs(tmp_path):
    return build_defs(work_db=tmp_path / "work.duckdb", published_db=tmp_path / "barometre.duckdb",
                      events_db=tmp_path / "events.duckdb", landing_dir=tmp_path / "landing")


@pytest.fixture
def election_2022(store) -> bytes:
    """The Ministry's published 2022 file (its SHA-1 is checked at landing): the snapshot's UTF-8
    copy back in Latin-1 with CRLF."""
    raw = store.read("elections/2022-t1-provisoires-departements.csv")
    return raw.decode("utf-8").replace("\n", "\r\n").encode("latin-1")


@pytest.fixture
def mirror(http_server, election_2022):
    http_server.put(ELECTION_PATH, election_2022)
    return http_server


def source_files(tmp_path, mirror_url: str, sources: str = "snapshot") -> SourceFiles:
    return build_resources(work_db=tmp_path / "work.duckdb", landing_dir=tmp_path / "landing", mirror=mirror_url,
                           sources=sources)["source_files"]


def sensor(name: str) -> dg.SensorDefinition:
    return next(s for s in releases.SENSORS if s.name == name)


def tick(sensor_def, cursor, resources):
    """One evaluation of a sensor, as the daemon would run it (SourceFiles is a context-managed resource)."""
    with dg.build_sensor_context(cursor=cursor, resources=resources) as context:
        return sensor_def(context), context


# ------------------------------------------------------------------------------------------------
# Definitions, schedule, jobs, pool, instance settings
# ------------------------------------------------------------------------------------------------

def test_definitions_load_and_validate(defs):
    dg.Definitions.validate_loadable(defs)
    repo = defs.get_repository_def()
    assert sorted(s.name for s in repo.schedule_defs) == ["monthly_refresh"]
    assert sorted(s.name for s in repo.sensor_defs) == [
        "barometre_automation", "record_run_failures", "release_cget_barometre_2018",
        "release_etalab_decoupage_administratif", "release_insee_chomage_localise",
        "release_insee_estimations_population_age", "release_insee_filosofi_cc",
        "release_insee_filosofi_departement", "release_interieur_presidentielle_t1"]
    assert sorted(j.name for j in repo.get_all_jobs() if not j.name.startswith("__")) == [
        "refresh_barometre", "refresh_cget_barometre_2018", "refresh_etalab_decoupage_administratif",
        "refresh_insee_chomage_localise", "refresh_insee_estimations_population_age", "refresh_insee_filosofi_cc",
        "refresh_insee_filosofi_departement", "refresh_interieur_presidentielle_t1"]
    # Stopped unless said otherwise: what reaches the internet or starts runs on its own waits to be turned on.
    status = {s.name: s.default_status for s in repo.sensor_defs}
    assert status.pop("record_run_failures") == dg.DefaultSensorStatus.RUNNING
    assert set(status.values()) == {dg.DefaultSensorStatus.STOPPED}


def test_monthly_schedule_cron_and_timezone(defs):
    schedule = defs.get_repository_def().get_schedule_def("monthly_refresh")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 6 1 * *", "Europe/Paris")
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert schedule.job_name == "refresh_barometre"
    context = dg.build_schedule_context()
    (request,) = schedule.evaluate_tick(context).run_requests
    assert request.run_config == {} and request.asset_selection is None  # the whole job, default resources


def test_job_selections(defs):
    everything = {k.to_user_string() for a in ALL_ASSETS for k in a.keys}
    assert keys(defs.resolve_job_def("refresh_barometre").asset_layer.selected_asset_keys) == everything
    chomage = keys(defs.resolve_job_def("refresh_insee_chomage_localise").asset_layer.selected_asset_keys)
    assert chomage == DOWNSTREAM_OF_CHOMAGE | {"raw/insee_chomage_localise_departement", "raw/fichiers_sources", "mart/sources"}
    cog = keys(defs.resolve_job_def("refresh_etalab_decoupage_administratif").asset_layer.selected_asset_keys)
    assert {k for k in cog if k.startswith("raw/")} == {"raw/etalab_decoupage_administratif_communes", "raw/etalab_decoupage_administratif_membres_epci",
                                                       "raw/etalab_decoupage_administratif_departements", "raw/etalab_decoupage_administratif_regions",
                                                       "raw/fichiers_sources"}
    for job in releases.JOBS:
        selected = keys(defs.resolve_job_def(job.name).asset_layer.selected_asset_keys)
        assert {"raw/fichiers_sources", "mart/sources", "published_barometre"} <= selected
        # No other source's raw table is rebuilt (nor the snapshot-only ones).
        assert "raw/insee_estimations_population_departement" not in selected and "raw/drees_medecins_departement" not in selected


def test_docs_name_every_schedule_sensor_and_job(defs):
    from barometre.landing import PROJECT_ROOT

    text = (PROJECT_ROOT / "docs" / "orchestration.md").read_text(encoding="utf-8")
    repo = defs.get_repository_def()
    names = [*(s.name for s in repo.schedule_defs), *(s.name for s in repo.sensor_defs),
             *(j.name for j in repo.get_all_jobs() if not j.name.startswith("__"))]
    assert [n for n in names if f"`{n}`" not in text] == []


def test_every_duckdb_asset_is_in_the_duckdb_pool(defs):
    """Every asset that writes DuckDB (kind duckdb: the working database through the I/O manager,
    or the published file) is in the pool that dagster.yaml limits to one run."""
    writers = [a for a in ALL_ASSETS if any("duckdb" in spec.kinds for spec in a.specs)]
    assert len(writers) == 59  # 50, the ingest multi_assets of the 3 producer series (issue 14), the 3 raw parses and the 3 commune assets of issue 15
    assert {a.op.name: a.op.pool for a in writers} == {a.op.name: "duckdb" for a in writers}


def test_every_check_reading_the_working_database_is_in_the_duckdb_pool(defs):
    """Every asset check loads its table from the working database (DuckDB I/O manager)."""
    from assets.checks import CHECKS

    # 32 raw tables, the source folders, mart.indicator_values, the commune-derived départements
    assert len(CHECKS) == 35
    assert {c.node_def.name: c.node_def.pool for c in defs.asset_checks} == {c.node_def.name: "duckdb" for c in CHECKS}


def test_instance_settings(tmp_path, monkeypatch):
    """dagster.yaml: telemetry off, the pool limited to one run, tick retention."""
    from dagster._core.definitions.run_request import InstigatorType
    from dagster._core.instance.config import PoolGranularity
    from dagster._core.scheduler.instigation import TickStatus

    from barometre.landing import PROJECT_ROOT

    shutil.copy(PROJECT_ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    assert yaml.safe_load((tmp_path / "dagster.yaml").read_text())["telemetry"] == {"enabled": False}
    with dg.DagsterInstance.get() as instance:
        pools = instance.get_concurrency_config().pool_config
        assert (pools.pool_granularity, pools.default_pool_limit) == (PoolGranularity.RUN, 1)
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        sensor_ticks = instance.get_tick_retention_settings(InstigatorType.SENSOR)
        assert (sensor_ticks[TickStatus.SKIPPED], sensor_ticks[TickStatus.FAILURE]) == (7, 90)
        assert instance.get_tick_retention_settings(InstigatorType.SCHEDULE)[TickStatus.SUCCESS] == 730


# ------------------------------------------------------------------------------------------------
# Automation conditions and freshness policies
# ------------------------------------------------------------------------------------------------

def test_conditions_and_freshness_on_the_asset_specs():
    specs = {spec.key.to_user_string(): spec for a in ALL_ASSETS for spec in a.specs}
    raw = {k for k in specs if k.startswith("raw/")}
    assert all(specs[k].automation_condition is None for k in raw)
    assert all(specs[k].automation_condition == automation.DOWNSTREAM_CONDITION for k in set(specs) - raw)
    window = {k: (s.freshness_policy.warn_window.to_timedelta(), s.freshness_policy.fail_window.to_timedelta())
              for k, s in specs.items() if isinstance(s.freshness_policy, dg.FreshnessPolicy)
              and hasattr(s.freshness_policy, "fail_window")}
    assert window["raw/insee_chomage_localise_departement"] == (timedelta(days=100), timedelta(days=130))        # quarterly
    assert window["raw/insee_filosofi_departement"] == (timedelta(days=380), timedelta(days=430))       # yearly
    assert window["raw/etalab_decoupage_administratif_communes"] == window["raw/drees_medecins_departement"] == window["raw/insee_filosofi_departement"]
    assert window["raw/interieur_presidentielle_t1_departement"] == (timedelta(days=1840), timedelta(days=1920))
    assert "raw/cget_barometre_2018_valeurs" not in window and specs["raw/cget_barometre_2018_valeurs"].freshness_policy is None
    assert set(window) == raw - {"raw/cget_barometre_2018_valeurs", "raw/cget_barometre_2018_territoires", "raw/fichiers_sources"}
    publication = specs["published_barometre"].freshness_policy
    assert (publication.deadline_cron, publication.timezone, publication.lower_bound_delta) == (
        "0 12 1 * *", "Europe/Paris", timedelta(hours=6))


FAIL_CHECK = {"fail": False}


@dg.asset_check(asset=dg.AssetKey(["raw", "insee_chomage_localise_departement"]), blocking=True,
                description="A blocking check of the test (stands for the GX suites): rates within [0, 40] %, "
                            "or failing on demand.")
def chomage_test_check(chomage_departement):
    in_range = chomage_departement["unemployment_rate"].between(0, 40).all()
    ain_2012 = chomage_departement.query("code_departement == '01' and year == 2012")["unemployment_rate"].item()
    return dg.AssetCheckResult(passed=bool(in_range) and not FAIL_CHECK["fail"], metadata={"ain_2012": ain_2012})


def test_refresh_jobs_run_the_checks_of_their_assets(tmp_path):
    """A blocking check of a raw table is part of its source's job (and of the monthly one), not of the others'."""
    defs = dg.Definitions(assets=ALL_ASSETS, asset_checks=[chomage_test_check], jobs=[*releases.JOBS, *schedules.JOBS],
                          resources=build_resources(work_db=tmp_path / "work.duckdb"))
    with_check = {job.name for job in [*releases.JOBS, *schedules.JOBS]
                  if "raw__insee_chomage_localise_departement_chomage_test_check" in defs.resolve_job_def(job.name).graph.node_dict}
    assert with_check == {"refresh_insee_chomage_localise", "refresh_barometre"}


def test_automation_rebuilds_what_depends_on_a_new_table_never_past_a_failing_blocking_check(tmp_path):
    resources = build_resources(work_db=tmp_path / "work.duckdb", published_db=tmp_path / "p.duckdb")
    defs = dg.Definitions(assets=ALL_ASSETS, asset_checks=[chomage_test_check], resources=resources)
    instance = dg.DagsterInstance.ephemeral()
    for a in ALL_ASSETS:  # everything was materialised once (by the schedule, say)
        for key in a.keys:
            instance.report_runless_asset_event(dg.AssetMaterialization(key))
    first = dg.evaluate_automation_conditions(defs=defs, instance=instance)
    assert first.total_requested == 0

    def rebuild_chomage(fail: bool):
        FAIL_CHECK["fail"] = fail
        return dg.materialize([*ALL_ASSETS, chomage_test_check], selection=[ingest.BY_TABLE["insee_chomage_localise_departement"].key], instance=instance,
                              resources=resources, run_config=QUIET, raise_on_error=False)

    result = rebuild_chomage(fail=True)
    assert not result.success                                        # the blocking check failed the run…
    assert [e.asset_key.to_user_string() for e in result.get_asset_materialization_events()] == [
        "raw/insee_chomage_localise_departement"]                                   # …after the table was written
    (evaluation,) = result.get_asset_check_evaluations()
    assert (evaluation.check_name, evaluation.passed) == ("chomage_test_check", False)
    assert evaluation.metadata["ain_2012"].value == 6.8              # Ain, 2012 (INSEE, snapshot)
    blocked = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=first.cursor)
    assert blocked.total_requested == 0                              # nothing built on a failing check

    assert rebuild_chomage(fail=False).success
    after = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=blocked.cursor)
    requested = {k.to_user_string() for a in ALL_ASSETS for k in a.keys if after.get_num_requested(k)}
    assert requested == DOWNSTREAM_OF_CHOMAGE                        # only what depends on it
    again = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=after.cursor)
    assert again.total_requested == 0                                # requested once


# ------------------------------------------------------------------------------------------------
# Source-release sensors
# ------------------------------------------------------------------------------------------------

def test_release_sensor_ticks(tmp_path, mirror, election_2022):
    sensor_def = sensor(f"release_{ELECTION}")
    assert sensor_def.minimum_interval_seconds == 24 * 3600 and sensor_def.job_name == f"refresh_{ELECTION}"
    resources = {"source_files": source_files(tmp_path, mirror.url)}

    # First tick: a release never seen → one run of the source's job, with the source read live.
    first, _ = tick(sensor_def, None, resources)
    assert isinstance(first, dg.SensorResult)
    (request,) = first.run_requests
    seen = json.loads(first.cursor)
    assert request.run_key == f"{ELECTION}@{seen['release']}" and len(seen["release"]) == 16
    assert seen["evidence"] == {ELECTION_URL: seen["label"]} and seen["label"].startswith('ETag "')
    assert request.tags["barometre/source"] == ELECTION and request.tags["barometre/release"] == seen["release"]
    config = request.run_config["resources"]["source_files"]["config"]
    assert config["sources"] == f"live:{ELECTION}" and config["mirror"] == mirror.url
    assert config["landing_dir"] == str(tmp_path / "landing")
    assert [r.method for r in mirror.requests_for(ELECTION_PATH)] == ["HEAD"]

    # Same ETag → skip, saying what was checked.
    same, _ = tick(sensor_def, first.cursor, resources)
    assert isinstance(same, dg.SkipReason)
    assert same.skip_message == (f"No new release of {ELECTION}: HEAD {ELECTION_URL} gives {seen['label']} "
                                 f"(release {seen['release']}, seen since {seen['seen_at']}).")

    # A new file (new ETag) → one run request with a new run key.
    mirror.put(ELECTION_PATH, election_2022.replace(b"Ain", b"AIN", 1))
    new, _ = tick(sensor_def, first.cursor, resources)
    (request2,) = new.run_requests
    assert request2.run_key != request.run_key and request2.run_key.startswith(f"{ELECTION}@")
    assert json.loads(new.cursor)["release"] == request2.run_key.split("@")[1]

    # Server down → skip naming the error; the cursor is not touched.
    port = free_port()
    down, context = tick(sensor_def, new.cursor, {"source_files": source_files(tmp_path, f"http://127.0.0.1:{port}")})
    assert isinstance(down, dg.SkipReason)
    assert down.skip_message == (
        f"Could not check {ELECTION} for a new release (HEAD {ELECTION_URL}): {ELECTION_URL} (fetched from "
        f"http://127.0.0.1:{port}/{ELECTION_URL[8:]}): cannot connect (connection refused) after 2 attempts. "
        f"The cursor is kept; the next tick checks again.")
    assert context.cursor == new.cursor


def test_release_run_config_keeps_the_deployments_live_sources(tmp_path, mirror, defs):
    resources = {"source_files": source_files(tmp_path, mirror.url, sources="live:insee_chomage_localise")}
    result, _ = tick(sensor(f"release_{ELECTION}"), None, resources)
    (request,) = result.run_requests
    config = request.run_config["resources"]["source_files"]["config"]
    assert config["sources"] == f"live:insee_chomage_localise,{ELECTION}"
    assert dg.validate_run_config(defs.resolve_job_def(f"refresh_{ELECTION}"), request.run_config)
    everything = {"source_files": source_files(tmp_path, mirror.url, sources="live")}
    (request,) = tick(sensor(f"release_{ELECTION}"), None, everything)[0].run_requests
    assert request.run_config["resources"]["source_files"]["config"]["sources"] == "live"


def test_cog_sensor_reports_a_release_missing_from_the_catalogue(tmp_path, http_server, catalogue):
    from barometre.landing import live_registry

    for live in live_registry(catalogue)["etalab_decoupage_administratif"].files:  # only HEAD is asked: tiny bodies
        http_server.put("/" + live.url.removeprefix("https://"), b"[]")
    http_server.put("/registry.npmjs.org/@etalab/decoupage-administratif/latest", b'{"version": "7.0.0"}')
    sensor_def = sensor("release_etalab_decoupage_administratif")
    resources = {"source_files": source_files(tmp_path, http_server.url)}
    first, _ = tick(sensor_def, None, resources)
    assert len(first.run_requests) == 1 and json.loads(first.cursor)["label"].startswith("24 files, release ")
    second, _ = tick(sensor_def, first.cursor, resources)
    assert isinstance(second, dg.SkipReason)
    assert ("Note: etalab_decoupage_administratif: version 7.0.0 is published "
            "(https://registry.npmjs.org/@etalab/decoupage-administratif/latest) but the catalogue reads only "
            "1.1.1, 2.3.1, 3.1.1, 4.1.0, 5.3.0, 6.0.0; add it") in second.skip_message


def test_the_requested_run_reads_the_source_live_and_rebuilds_what_depends_on_it(tmp_path, mirror, snapshot_build):
    """The run a sensor requests, executed: the 2022 file is fetched through the mirror, only the
    source's tables and their downstream are rebuilt, and the published figures equal the
    snapshot build's (same bytes)."""
    snapshot_paths, _ = snapshot_build
    work_db, published_db = tmp_path / "work.duckdb", tmp_path / "barometre.duckdb"
    shutil.copy(snapshot_paths["work_db"], work_db)  # every other table as the snapshot build left it
    defs = build_defs(work_db=work_db, published_db=published_db, landing_dir=tmp_path / "landing",
                      mirror=mirror.url)
    resources = {"source_files": defs.get_repository_def().get_top_level_resources()["source_files"]}
    result, _ = tick(sensor(f"release_{ELECTION}"), None, resources)
    (request,) = result.run_requests

    run = defs.resolve_job_def(f"refresh_{ELECTION}").execute_in_process(
        run_config={**request.run_config, **QUIET}, tags=request.tags, instance=dg.DagsterInstance.ephemeral())

    assert run.success
    assert keys(e.asset_key for e in run.get_asset_materialization_events()) == (
        DOWNSTREAM_OF_CHOMAGE - {"indicators/taux_chomage", "findings/taux_chomage"}
        | {"indicators/participation_presidentielle_t1", "findings/participation_presidentielle_t1",
           "raw/interieur_presidentielle_t1_departement",
           "raw/fichiers_sources", "mart/sources",
           # Paris's 2017 counts come from the département file (docs/communes.md)
           "core/interieur_presidentielle_2017_comptes_communes", "core/interieur_presidentielle_2017_passage_communes",
           "core/interieur_presidentielle_2017_constats_communes", "core/interieur_presidentielle_2017_mailles"})
    assert [r.method for r in mirror.requests_for(ELECTION_PATH)] == ["HEAD", "GET"]
    query_sources = ("select origin, etag from mart.sources where path = "
                     "'elections/2022-t1-provisoires-departements.csv'")
    query_turnout = ("select level, code, period, value from mart.indicator_values where indicator_id = "
                     "'participation_presidentielle_t1' and is_reference order by all")
    with duckdb.connect(str(published_db), read_only=True) as live, \
            duckdb.connect(str(snapshot_paths["published_db"]), read_only=True) as snap:
        assert live.execute(query_sources).fetchall() == [("live", json.loads(result.cursor)["label"][5:])]
        turnout = live.execute(query_turnout).fetchall()
        assert turnout == snap.execute(query_turnout).fetchall()
    # Ain, 2022: 340 568 voters of 438 109 registered (the Ministry's file).
    assert ("departement", "01", "2022", pytest.approx(340568 / 438109 * 100)) in turnout


# ------------------------------------------------------------------------------------------------
# Run-failure sensor
# ------------------------------------------------------------------------------------------------

def test_failed_run_is_recorded_and_posted_to_the_webhook(tmp_path, mirror, monkeypatch):
    mirror.script(ELECTION_PATH, HtmlPage(), HtmlPage())  # the publisher answers with its maintenance page
    defs = build_defs(work_db=tmp_path / "work.duckdb", published_db=tmp_path / "barometre.duckdb",
                      landing_dir=tmp_path / "landing", mirror=mirror.url, sources=f"live:{ELECTION}")
    instance = dg.DagsterInstance.ephemeral()
    run = defs.resolve_job_def(f"refresh_{ELECTION}").execute_in_process(
        run_config=QUIET, instance=instance, raise_on_error=False,
        tags={"dagster/sensor_name": f"release_{ELECTION}"})
    assert not run.success
    events_db = tmp_path / "events" / "pipeline_events.duckdb"
    context = dg.build_run_status_sensor_context(
        sensor_name="record_run_failures", dagster_event=run.get_run_failure_event(), dagster_instance=instance,
        dagster_run=run.dagster_run, resources={"pipeline_events": alerts.PipelineEvents(path=str(events_db))},
    ).for_run_failure()

    with WebhookReceiver() as hook, context:
        monkeypatch.setenv("BAROMETRE_ALERT_WEBHOOK", hook.url)
        alerts.record_run_failures(context)
        alerts.record_run_failures(context)  # a retried tick: recorded and posted once

    (row,) = read_events(events_db)
    error = (f"FetchError: {ELECTION_URL} (fetched from {mirror.url}{ELECTION_PATH}): expected txt, got an HTML page "
             f"(Content-Type 'text/html; charset=utf-8'; starts '<!DOCTYPE html>")
    assert {k: row[k] for k in ("event_type", "run_id", "job_name", "launched_by", "webhook")} == {
        "event_type": "run_failure", "run_id": run.run_id, "job_name": f"refresh_{ELECTION}",
        "launched_by": f"sensor:release_{ELECTION}", "webhook": "sent (HTTP 200)"}
    assert row["error"].startswith(error)
    assert sorted(row["failed_steps"]) == ["raw__fichiers_sources", "raw__interieur_presidentielle_t1_departement"]
    assert "s3cr3t" not in json.dumps(row, default=str)
    (post,) = hook.posts
    assert post["json"]["event"]["run_id"] == run.run_id
    assert post["json"]["text"].startswith(f"Baromètre de la cohésion des territoires: run {run.run_id[:8]} of job "
                                           f"refresh_{ELECTION} (sensor:release_{ELECTION}) failed at ")
    assert error in post["json"]["text"]


def _failed_scheduled_run(tmp_path):
    """A run of the monthly schedule that fails at its first step (no snapshot files)."""
    job = dg.define_asset_job("refresh_barometre", selection=dg.AssetSelection.assets(ingest.BY_TABLE["cget_barometre_2018_territoires"]))
    defs = dg.Definitions(assets=ALL_ASSETS, jobs=[job], resources=build_resources(
        snapshot_dir=tmp_path / "empty", work_db=tmp_path / "work.duckdb"))
    instance = dg.DagsterInstance.ephemeral()
    run = defs.resolve_job_def("refresh_barometre").execute_in_process(
        run_config=QUIET, instance=instance, raise_on_error=False, tags={"dagster/schedule_name": "monthly_refresh"})
    return instance, run


def test_failure_without_webhook_is_recorded_only(tmp_path, monkeypatch):
    monkeypatch.delenv("BAROMETRE_ALERT_WEBHOOK", raising=False)
    instance, run = _failed_scheduled_run(tmp_path)
    events_db = tmp_path / "events.duckdb"
    with dg.build_run_status_sensor_context(
        sensor_name="record_run_failures", dagster_event=run.get_run_failure_event(), dagster_instance=instance,
        dagster_run=run.dagster_run, resources={"pipeline_events": alerts.PipelineEvents(path=str(events_db))},
    ).for_run_failure() as context:
        alerts.record_run_failures(context)
    (row,) = read_events(events_db)
    assert (row["launched_by"], row["failed_steps"], row["webhook"]) == (
        "schedule:monthly_refresh", ["raw__cget_barometre_2018_territoires"], "not configured")
    assert row["error"] == (f"MissingSourceFile: source file barometre_2018/ze_wgs84_utf8.topojson not found in "
                            f"snapshot {tmp_path / 'empty'}")


def test_a_tick_that_fails_after_the_alert_does_not_alert_again(tmp_path, monkeypatch):
    """The row is inserted (webhook 'pending') before the POST: when writing the outcome fails
    (the events file locked too long), the tick Dagster retries finds the row and posts nothing."""
    instance, run = _failed_scheduled_run(tmp_path)
    events_db = tmp_path / "events.duckdb"

    def locked(*args, **kwargs):
        raise duckdb.IOException("Could not set lock on file: Conflicting lock is held (test)")

    with WebhookReceiver() as hook, dg.build_run_status_sensor_context(
        sensor_name="record_run_failures", dagster_event=run.get_run_failure_event(), dagster_instance=instance,
        dagster_run=run.dagster_run, resources={"pipeline_events": alerts.PipelineEvents(path=str(events_db))},
    ).for_run_failure() as context:
        monkeypatch.setenv("BAROMETRE_ALERT_WEBHOOK", hook.url)
        monkeypatch.setattr(alerts, "set_webhook", locked)
        with pytest.raises(duckdb.IOException, match="Conflicting lock is held"):
            alerts.record_run_failures(context)
        assert [row["webhook"] for row in read_events(events_db)] == ["pending"]
        assert len(hook.posts) == 1
        monkeypatch.undo()
        monkeypatch.setenv("BAROMETRE_ALERT_WEBHOOK", hook.url)
        alerts.record_run_failures(context)  # the retried tick
    assert len(hook.posts) == 1
    (row,) = read_events(events_db)
    assert (row["run_id"], row["webhook"]) == (run.run_id, "pending")
