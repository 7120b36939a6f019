"""App tests of the Model stealing and Backdoor pages: empty, computed, and widgets
that change what is shown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from backend import jobs, pipeline
from backend.attacks import backdoor, stealing
from backend.attacks.sweeps import Sweep

from .test_stealing import fast_spec

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def computed(tmp_path_factory):
    """A tiny spec with both pages' default sweeps computed into a module-wide store."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VALUERISK_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        spec = fast_spec()
        ctx = pipeline.make_context(spec)

        # The pages' defaults: the attacker's pool, the target's architecture as
        # surrogate, a demo ladder of budgets and two seeds.
        steal = stealing.StealSpec(surrogate_arch=spec.model.arch)
        budgets = stealing.default_budgets(stealing.pool_size(ctx, steal))
        params = stealing.job_params(steal, Sweep(budgets=tuple(budgets)))
        jobs.run_inline("steal", spec, params=params)

        poison = backdoor.BackdoorSpec()
        budgets = backdoor.default_budgets(len(backdoor.candidates(ctx, poison)))
        params = backdoor.job_params(poison, Sweep(budgets=tuple(budgets)))
        jobs.run_inline("backdoor", spec, params=params)
        yield spec


def _page(name: str, spec) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / f"{name}.py"), default_timeout=60)
    at.session_state["runspec"] = spec
    return at.run()


def _titles(at: AppTest) -> list[str]:
    return [
        str(json.loads(chart.proto.spec).get("title"))
        for chart in at.get("vega_lite_chart")
    ]


def _ok(at: AppTest) -> None:
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]


# -- model stealing -------------------------------------------------------------------


def test_stealing_page_offers_the_sweep_when_nothing_is_computed(computed):
    at = _page("stealing", fast_spec(split={"seed": 99}))  # another split: empty
    _ok(at)
    assert any("No point of this sweep is computed" in i.value for i in at.info)
    assert [b.label for b in at.button] == ["Run the stealing sweep"]
    assert not _titles(at) and not at.metric


def test_stealing_page_draws_the_computed_sweep(computed):
    at = _page("stealing", computed)
    _ok(at)
    assert _titles(at) == [
        "Accuracy of the stolen model",
        "Class balance of the query sets (their own classes)",
    ]
    labels = [m.label for m in at.metric]
    assert labels == [
        f"{s}-100: accuracy on the task" for s in ("top", "bottom", "random")
    ]
    assert all(0 <= float(m.value.split(" ± ")[0]) <= 1 for m in at.metric)
    table = at.dataframe[0].value
    assert len(table) == 12 and "surrogate accuracy" in table.columns
    assert not at.warning and not at.button  # nothing missing, nothing to run


def test_stealing_measure_and_entropy_choices_change_the_charts(computed):
    at = _page("stealing", computed)
    accuracy = [m.value for m in at.metric]
    at.segmented_control(key="steal_measure").set_value("fidelity").run()
    _ok(at)
    assert _titles(at)[0] == "Agreement of the stolen model with the target"
    assert all("agreement with the target" in m.label for m in at.metric)
    assert [m.value for m in at.metric] != accuracy
    at.select_slider(key="steal_at").set_value(20).run()
    assert at.metric[0].label == "top-20: agreement with the target"
    at.radio(key="steal_entropy_of").set_value("answers").run()
    assert _titles(at)[1] == "Class balance of the query sets (target's answers)"


def test_stealing_larger_sweep_shows_what_is_missing(computed):
    at = _page("stealing", computed)
    at.multiselect(key="steal_budgets").select(200).run()
    _ok(at)
    assert any("6 of 30 points are not computed" in w.value for w in at.warning)
    assert [b.label for b in at.button] == ["Compute the missing points"]
    assert at.metric[0].label == "top-100: accuracy on the task"  # stored ones shown
    at.multiselect(key="steal_budgets").set_value([]).run()
    assert any("at least one query budget" in i.value for i in at.info)


# -- backdoor -------------------------------------------------------------------------


def test_backdoor_page_offers_the_sweep_when_nothing_is_computed(computed):
    at = _page("backdoor", fast_spec(split={"seed": 99}))
    _ok(at)
    assert any("No point of this sweep is computed" in i.value for i in at.info)
    assert [b.label for b in at.button] == ["Run the backdoor sweep"]
    assert not _titles(at)
    assert len(at.image) == 1  # the example strip needs no computation


def test_backdoor_page_draws_the_computed_sweep(computed):
    at = _page("backdoor", computed)
    _ok(at)
    assert _titles(at) == [
        "Attack success rate",
        "Clean accuracy of the poisoned model",
    ]
    assert [m.label for m in at.metric] == [
        f"{s}-10: attack success rate" for s in ("top", "bottom", "random")
    ]  # the middle of 5, 10, 20
    at.select_slider(key="backdoor_at").set_value(20).run()
    _ok(at)
    assert at.metric[0].label == "top-20: attack success rate"
    assert any("Without poison the trigger sends" in c.value for c in at.caption)
    assert len(at.dataframe[0].value) == 9


def test_backdoor_paper_variant_switch_changes_the_rates(computed):
    at = _page("backdoor", computed)
    standard = at.dataframe[0].value
    at.toggle(key="backdoor_paper").set_value(True).run()
    _ok(at)
    paper = at.dataframe[0].value
    assert "attack success rate" in standard.columns
    assert "attack success rate (incl. target class)" in paper.columns
    assert _titles(at)[0] == "Attack success rate (target-class images included)"


def test_backdoor_trigger_change_needs_its_own_sweep(computed):
    at = _page("backdoor", computed)
    at.radio(key="backdoor_trigger").set_value("sig").run()
    _ok(at)
    assert any("No point of this sweep is computed" in i.value for i in at.info)
    label = at.multiselect(key="backdoor_budgets").label
    assert "may poison" in label and "300" not in label  # only target-class samples
