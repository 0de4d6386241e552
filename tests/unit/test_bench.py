"""The benchmark's helpers (tests/bench): never a timing, only what its figures rest on."""

import math
from types import SimpleNamespace

import pytest

from tests.bench import scaling
from tests.bench.measure import Figure, fit_exponent, size_at
from tests.bench.pipeline import step_report


def test_exponent_of_known_power_laws():
    sizes = [1_000, 2_000, 4_000, 8_000]
    assert fit_exponent(sizes, [3 * n ** 1.5 for n in sizes]) == pytest.approx(1.5)
    assert fit_exponent(sizes, [0.2 * n for n in sizes]) == pytest.approx(1.0)
    # 1, 5, 10 periods whose time grows from 8 s to 146 s: k = log(146/8) / log(10)
    assert fit_exponent([1, 10], [8, 146]) == pytest.approx(math.log(146 / 8) / math.log(10))


def test_exponent_needs_two_distinct_positive_sizes():
    with pytest.raises(ValueError, match="at least two"):
        fit_exponent([10], [1.0])
    with pytest.raises(ValueError, match="not all be equal"):
        fit_exponent([10, 10], [1.0, 2.0])
    with pytest.raises(ValueError, match="positive"):
        fit_exponent([0, 10], [1.0, 2.0])


def test_size_at_inverts_the_power_law():
    # cost ∝ n^2 through (100, 4): cost 16 at n = 200
    assert size_at(16, 100, 4, 2.0) == pytest.approx(200)
    assert size_at(4, 100, 4, 1.3) == pytest.approx(100)


def test_figure_is_median_min_max():
    f = Figure.of([3.0, 1.0, 2.0, 10.0])
    assert (f.median, f.min, f.max) == (2.5, 1.0, 10.0)
    assert f.fmt() == "2.50 s (min 1.00, max 10.00, 4 runs)"
    assert f.short(1) == "2.5 (1.0–10.0)"
    with pytest.raises(ValueError):
        Figure.of([])


def _entry(t, kind, step, asset=None, check=None):
    if kind == "LOG":  # a message logged by the asset's body: no Dagster event
        return SimpleNamespace(timestamp=t, step_key=step, dagster_event=None)
    data = SimpleNamespace(asset_key=SimpleNamespace(path=check[0].split("/")), check_name=check[1]) if check else None
    event = SimpleNamespace(event_type_value=kind, asset_key=SimpleNamespace(path=asset.split("/")) if asset else None,
                            event_specific_data=data)
    return SimpleNamespace(timestamp=t, step_key=step, dagster_event=event)


def test_step_phases_and_kinds_come_from_the_events():
    entries = [
        _entry(0.0, "STEP_START", "raw__a"),
        _entry(0.5, "LOADED_INPUT", "raw__a"),
        _entry(0.6, "STEP_INPUT", "raw__a"),
        _entry(2.6, "STEP_OUTPUT", "raw__a"),
        _entry(3.1, "ASSET_MATERIALIZATION", "raw__a", asset="raw/a"),
        _entry(3.2, "HANDLED_OUTPUT", "raw__a"),
        _entry(3.3, "STEP_SUCCESS", "raw__a"),
        _entry(4.0, "STEP_START", "raw__a_check"),
        _entry(4.2, "LOADED_INPUT", "raw__a_check"),
        _entry(4.3, "STEP_INPUT", "raw__a_check"),
        _entry(5.3, "STEP_OUTPUT", "raw__a_check"),  # the order Dagster 1.13 records for a check
        _entry(5.4, "ASSET_CHECK_EVALUATION", "raw__a_check", check=("raw/a", "gx_suite")),
        _entry(5.5, "STEP_SUCCESS", "raw__a_check"),
    ]
    # 0.1 s to write each event of the asset step to the event log
    writes = {(e.timestamp, e.step_key, e.dagster_event.event_type_value): 0.1 for e in entries[:7]}
    asset, check = step_report(entries, writes)["steps"]
    assert (asset["label"], asset["kind"], check["label"], check["kind"]) == (
        "raw/a", "asset", "raw/a:gx_suite", "check")
    assert asset["seconds"] == pytest.approx(3.3)
    assert asset["load"] == pytest.approx(0.4)  # 0.5 minus the write of STEP_START
    assert asset["body"] == pytest.approx(1.9)  # STEP_INPUT → STEP_OUTPUT minus a write
    assert asset["store"] == pytest.approx(0.4 + 0.0)  # output → materialisation → handled
    assert asset["events"] == pytest.approx(0.6)  # six writes before STEP_SUCCESS
    assert sum(asset[p] for p in ("load", "body", "store", "dagster", "events")) == pytest.approx(3.3)
    assert check["body"] == pytest.approx(1.0 + 0.1) and check["load"] == pytest.approx(0.2)
    assert check["dagster"] == pytest.approx(0.1 + 0.1)  # STEP_INPUT, STEP_SUCCESS


def test_checks_declared_on_an_asset_are_labelled_with_it():
    entries = [
        _entry(0.0, "STEP_START", "raw__a"),
        _entry(1.0, "STEP_OUTPUT", "raw__a"),
        _entry(1.2, "ASSET_MATERIALIZATION", "raw__a", asset="raw/a"),
        _entry(1.3, "HANDLED_OUTPUT", "raw__a"),
        _entry(2.3, "ASSET_CHECK_EVALUATION", "raw__a", check=("raw/a", "gx_suite")),
        _entry(2.4, "STEP_SUCCESS", "raw__a"),
    ]
    (step,) = step_report(entries, {})["steps"]
    assert (step["label"], step["kind"], step["assets"]) == ("raw/a (+ 1 check)", "asset+checks", ["raw/a"])
    assert step["body"] == pytest.approx(2.0) and step["store"] == pytest.approx(0.3)


def test_synthetic_inputs_are_fixed_and_labelled(catalogue):
    communes = scaling.real_communes()
    assert communes["code_commune"].is_unique and len(communes) > 34_000
    few = communes[communes["code_departement"].isin(["2A", "2B"])]
    a = scaling.synthetic_inputs(2, catalogue, communes=few)
    b = scaling.synthetic_inputs(2, catalogue, communes=few)
    assert a["counts"]["taux_chomage"].equals(b["counts"]["taux_chomage"])
    assert len(a["counts"]) == 16 and scaling.n_rows(a) == 16 * 2 * len(few)
    assert set(a["population"]["source_id"]) == {"synthetic_benchmark"}


def test_script_baseline_gives_our_numbers():
    communes = scaling.real_communes()
    # Two whole régions (Corse, Guadeloupe) so that départements and régions are complete.
    few = communes[communes["code_region"].isin(["94", "01"])]
    out = scaling.check(periods=2, communes=few)
    # One disparity row per indicator (16), period (2), level (communes, the 3 départements 2A, 2B
    # and 971, the 2 régions) and scope (all, and metro: Corse's territories); one ranking row per
    # territory, indicator and period.
    assert len(few) == 392
    assert out == {"periods": 2, "value_rows": 16 * 2 * (392 + 3 + 2), "disparity_rows": 16 * 2 * 3 * 2,
                   "ranking_rows": 16 * 2 * (392 + 3 + 2)}


def test_time_before_a_message_the_body_logs_is_body():
    # barometre_report: 1.76 s of body, then its context.log.info, then its output
    entries = [
        _entry(0.0, "STEP_START", "barometre_report"),
        _entry(1.76, "LOG", "barometre_report"),
        _entry(1.77, "STEP_OUTPUT", "barometre_report"),
        _entry(1.78, "ASSET_MATERIALIZATION", "barometre_report", asset="barometre_report"),
        _entry(1.80, "STEP_SUCCESS", "barometre_report"),
    ]
    (step,) = step_report(entries, {})["steps"]
    assert step["body"] == pytest.approx(1.77)
    assert step["store"] == pytest.approx(0.01) and step["dagster"] == pytest.approx(0.02)
