"""Smoke test of ``make ui``: ``dagster dev`` on a free 127.0.0.1 port with the project's
dagster.yaml (DAGSTER_HOME and every database in a temp dir), started in its own session (job
control: it ignores SIGINT otherwise), asked through GraphQL for every asset, asset check,
schedule and sensor of the code location and for the daemon's health, then stopped by its process
group; no process of it is left behind."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from barometre.definitions import defs
from barometre.landing import PROJECT_ROOT
from tests.support.http_server import free_port

pytestmark = pytest.mark.integration

DAGSTER = Path(sys.executable).with_name("dagster")
START_TIMEOUT = 180  # seconds; about 20 s on a loaded 2-core machine
QUERY = """{
  repositoriesOrError { ... on RepositoryConnection { nodes {
    location { name }
    schedules { name cronSchedule executionTimezone scheduleState { status } }
    sensors { name sensorType minIntervalSeconds sensorState { status } }
    jobs { name }
    assetNodes {
      assetKey { path }
      pools
      kinds
      automationCondition { label }
      internalFreshnessPolicy { __typename ... on TimeWindowFreshnessPolicy { failWindowSeconds warnWindowSeconds } }
      assetChecksOrError { ... on AssetChecks { checks { name } } }
    }
  } } }
  instance {
    runQueuingSupported
    poolConfig { poolGranularity defaultPoolLimit }
    daemonHealth { allDaemonStatuses { daemonType required healthy } }
  }
}"""


def _processes_with(env_entry: bytes) -> list[int]:
    """PIDs of the processes whose environment holds ``env_entry`` (every child of dagster dev inherits it)."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if env_entry in (proc / "environ").read_bytes().split(b"\0"):
                    found.append(int(proc.name))
            except OSError:  # gone, or not ours
                pass
    return found


def _post(port: int, query: str) -> dict:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=json.dumps({"query": query}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def dagster_dev(tmp_path_factory):
    home = tmp_path_factory.mktemp("dagster_home")
    shutil.copy(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    env = {**os.environ, "DAGSTER_HOME": str(home), "BAROMETRE_WORK_DB": str(home / "work.duckdb"),
           "BAROMETRE_DB": str(home / "barometre.duckdb"), "BAROMETRE_EVENTS_DB": str(home / "events.duckdb"),
           "BAROMETRE_LANDING_DIR": str(home / "landing")}
    env.pop("BAROMETRE_ALERT_WEBHOOK", None)
    port = free_port()
    log = open(home / "dagster_dev.log", "wb")
    start = time.monotonic()
    process = subprocess.Popen([str(DAGSTER), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
                               cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)  # its own process group: stopped as a whole below
    try:
        while True:
            if process.poll() is not None:
                pytest.fail(f"dagster dev exited with {process.returncode}: {(home / 'dagster_dev.log').read_text()}")
            if time.monotonic() - start > START_TIMEOUT:
                pytest.fail(f"dagster dev did not answer /server_info in {START_TIMEOUT} s")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5) as response:
                    info = json.loads(response.read())
                break
            except OSError:
                time.sleep(0.5)
        while True:  # the code location and the daemon come up just after the webserver
            answer = _post(port, QUERY)
            nodes = (answer.get("data") or {}).get("repositoriesOrError", {}).get("nodes")
            daemons = answer["data"]["instance"]["daemonHealth"]["allDaemonStatuses"]
            if nodes and all(d["healthy"] for d in daemons if d["required"]):
                break
            if time.monotonic() - start > START_TIMEOUT:
                pytest.fail(f"code location or daemon not ready in {START_TIMEOUT} s: {answer}")
            time.sleep(1)
        yield {"info": info, "answer": answer, "seconds": time.monotonic() - start}
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        log.close()
        entry = f"DAGSTER_HOME={home}".encode()
        deadline = time.monotonic() + 90  # the code server's gRPC process may take a while on a loaded machine
        while _processes_with(entry) and time.monotonic() < deadline:
            time.sleep(0.5)
        left = _processes_with(entry)
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        assert not left, f"processes of dagster dev left running: {left}"


def test_dagster_dev_serves_every_definition(dagster_dev):
    assert dagster_dev["info"]["dagster_version"] == "1.13.27"
    (repo,) = dagster_dev["answer"]["data"]["repositoriesOrError"]["nodes"]
    assert repo["location"]["name"] == "barometre.definitions"
    definitions = defs.get_repository_def()

    nodes = {"/".join(n["assetKey"]["path"]): n for n in repo["assetNodes"]}
    assert set(nodes) == {key.to_user_string() for key in definitions.asset_graph.get_all_asset_keys()}
    checks = {(key, c["name"]) for key, n in nodes.items() for c in n["assetChecksOrError"].get("checks", [])}
    assert checks == {(k.asset_key.to_user_string(), k.name) for k in definitions.asset_graph.asset_check_keys}

    assert {s["name"]: (s["cronSchedule"], s["executionTimezone"], s["scheduleState"]["status"])
            for s in repo["schedules"]} == {"monthly_refresh": ("0 6 1 * *", "Europe/Paris", "RUNNING")}
    assert {s["name"]: s["sensorState"]["status"] for s in repo["sensors"]} == {
        "barometre_automation": "STOPPED", "record_run_failures": "RUNNING",
        "release_cget_barometre_2018": "STOPPED", "release_etalab_decoupage_administratif": "STOPPED",
        "release_insee_chomage_localise": "STOPPED", "release_insee_filosofi_departement": "STOPPED",
        "release_insee_filosofi_cc": "STOPPED", "release_insee_estimations_population_age": "STOPPED",
        "release_interieur_presidentielle_t1": "STOPPED"}
    assert {s["name"] for s in repo["sensors"]} == {s.name for s in definitions.sensor_defs}
    assert {j["name"] for j in repo["jobs"]} >= {"refresh_barometre", "refresh_insee_chomage_localise"}

    # What the UI shows of the policies: the pool, the condition, the freshness window.
    assert {tuple(n["pools"]) for n in nodes.values() if "duckdb" in n["kinds"]} == {("duckdb",)}
    assert nodes["mart/indicator_values"]["automationCondition"]["label"] == (
        "eager, after the dependencies' blocking checks passed")
    assert nodes["raw/insee_chomage_localise_departement"]["automationCondition"] is None
    assert nodes["raw/insee_chomage_localise_departement"]["internalFreshnessPolicy"] == {
        "__typename": "TimeWindowFreshnessPolicy", "failWindowSeconds": 130 * 86400, "warnWindowSeconds": 100 * 86400}

    instance = dagster_dev["answer"]["data"]["instance"]
    assert instance["runQueuingSupported"] is True
    assert instance["poolConfig"] == {"poolGranularity": "run", "defaultPoolLimit": 1}
    assert {d["daemonType"] for d in instance["daemonHealth"]["allDaemonStatuses"] if d["required"]} >= {
        "SCHEDULER", "SENSOR", "QUEUED_RUN_COORDINATOR", "ASSET", "FRESHNESS_DAEMON"}
