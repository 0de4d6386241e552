"""Declarative automation and freshness of the barometer's assets, applied in one place.

:func:`with_policies` maps over every asset spec (``dagster.map_asset_specs``), so the asset
modules stay free of orchestration policy:

- **Raw tables** (tagged with their catalogue ``source``) get no automation condition: they are
  refreshed by the monthly schedule and by their source's release sensor. They get a freshness
  policy from the source's cadence (``barometre/cadences.yaml``): a yearly source's table warns
  after 380 days without a materialisation and fails after 430, a quarterly one after 100 / 130,
  etc.; a single publication (the CGET's 2018 barometer) has none. Dagster judges it by the last
  materialisation, and the monthly refresh rematerialises every raw table: a policy fails only
  when that refresh has stopped, or failed for the source, for longer than the window — not when
  the publisher is late (``mart.sources``: ``last_modified``, ``retrieved_at``; docs/orchestration.md).
- **Everything downstream of the raw tables** gets ``eager() & all_deps_blocking_checks_passed()``:
  when a dependency is updated (e.g. by a run that rebuilt one source's raw tables) the asset is
  requested — only the assets that depend on what changed — and never while a blocking asset
  check of a dependency is failing (the checked table is written, but nothing built from it
  runs). ``eager`` also waits for dependencies that are missing or in progress, and ignores
  updates made by a run that already planned the asset (a schedule or sensor run covering the
  downstream assets does not trigger a second run).
- **The publication** also gets a freshness policy tied to the monthly schedule: it fails when no
  publication happened since 06:00 on the 1st by noon (Paris time).

The conditions are evaluated by ``barometre_automation``, an automation condition sensor created
*stopped*: turn it on in the UI (Automation → barometre_automation) to let the daemon run them.
"""

from collections.abc import Sequence
from datetime import timedelta

import dagster as dg

from assets.ingest import SOURCE_TAG
from barometre.cadences import cadence_of
from barometre.catalogue import load_catalogue
from sensors.schedules import TIMEZONE

DOWNSTREAM_CONDITION = (dg.AutomationCondition.eager()
                        & dg.AutomationCondition.all_deps_blocking_checks_passed()).with_label(
    "eager, after the dependencies' blocking checks passed")
PUBLICATION = dg.AssetKey("published_barometre")
# The monthly refresh starts at 06:00 on the 1st; the publication is late if it has not happened by noon.
PUBLICATION_FRESHNESS = dg.FreshnessPolicy.cron(deadline_cron="0 12 1 * *", lower_bound_delta=timedelta(hours=6),
                                                timezone=TIMEZONE)


def source_freshness(source_id: str) -> dg.FreshnessPolicy | None:
    """The freshness policy of the raw tables of a source, from its cadence (None: cannot be stale)."""
    cadence = cadence_of(load_catalogue().source(source_id))
    if cadence.fail_after is None:
        return None
    return dg.FreshnessPolicy.time_window(fail_window=cadence.fail_after, warn_window=cadence.warn_after)


def _policies(spec: dg.AssetSpec) -> dg.AssetSpec:
    source_id = spec.tags.get(SOURCE_TAG)
    if source_id is not None:
        policy = source_freshness(source_id)
        return dg.apply_freshness_policy(spec, policy) if policy else spec
    if spec.key.path[0] == "raw":  # the file manifest: refreshed with every source, no policy of its own
        return spec
    spec = spec.replace_attributes(automation_condition=DOWNSTREAM_CONDITION)
    if spec.key == PUBLICATION:
        spec = dg.apply_freshness_policy(spec, PUBLICATION_FRESHNESS)
    return spec


def with_policies(assets: Sequence[dg.AssetsDefinition]) -> list[dg.AssetsDefinition]:
    """The assets with their automation conditions and freshness policies (see the module docstring)."""
    return list(dg.map_asset_specs(_policies, assets))


automation_sensor = dg.AutomationConditionSensorDefinition(
    "barometre_automation", target=dg.AssetSelection.all(), default_status=dg.DefaultSensorStatus.STOPPED,
    minimum_interval_seconds=60, run_tags={"barometre/launched_by": "automation"},
    description="Evaluates the assets' automation conditions every minute: rebuilds what depends on an updated "
                "table, never past a failing blocking check. Stopped by default; turn it on to let the daemon "
                "propagate updates.")

SENSORS = [automation_sensor]
