"""App tests of the "Data changes" page: nothing computed, computed studies, and the
widgets that change what is shown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from backend import jobs, studies

from .conftest import tiny_spec

PAGE = Path(__file__).resolve().parent.parent / "pages" / "data_changes.py"

# Each study with the settings the page starts from.
DEFAULTS = {name: studies.make_study_spec(name) for name in studies.STUDIES}


@pytest.fixture(scope="module")
def spec():
    """The tiny spec with the onion, augmentation and partial studies computed at the
    page's default settings (duplicates left out, to show the empty state)."""
    spec = tiny_spec()
    for name in ("onion", "augmentation", "partial"):
        jobs.run_inline(
            studies.job_kind(name), spec, params=studies.study_params(DEFAULTS[name])
        )
    return spec


def _page(spec) -> AppTest:
    at = AppTest.from_file(str(PAGE), default_timeout=60)
    at.session_state["runspec"] = spec
    return at.run()


def _charts(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("vega_lite_chart")]


def _titles(at: AppTest) -> list[str]:
    return [str(chart.get("title", "")) for chart in _charts(at)]


def _ok(at: AppTest) -> None:
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]


def test_nothing_computed_explains_and_offers_to_run(spec):
    at = _page(tiny_spec(split={"seed": 98}))  # another split: nothing stored
    _ok(at)
    assert any("not computed" in i.value for i in at.info)
    assert any(b.label == "Run the privacy onion effect study" for b in at.button)
    assert not _charts(at)


def test_computed_onion_study_shows_numbers_and_charts(spec):
    at = _page(spec)
    _ok(at)
    text = "\n".join(m.value for m in at.markdown)
    assert "above the old cut-off" in text
    assert [m.label for m in at.metric][:2] == [
        "Members removed",
        "Remaining above the old cut-off",
    ]
    titles = _titles(at)
    assert any("old cut-off" in t for t in titles)
    assert any("middle band" in t for t in titles)
    assert any("removing the top" in t for t in titles)  # the exposure chart


def test_exposure_measure_changes_the_chart(spec):
    at = _page(spec)
    exposure = [c for c in _charts(at) if "Membership exposure" in str(c.get("title"))]
    assert exposure[0]["encoding"]["y"]["field"] == "tpr"
    at.radio(key="data_changes_onion_metric").set_value("auc").run()
    _ok(at)
    exposure = [c for c in _charts(at) if "Membership exposure" in str(c.get("title"))]
    assert exposure[0]["encoding"]["y"]["field"] == "auc"


def test_other_settings_are_not_computed_yet(spec):
    at = _page(spec)
    at.slider(key="data_changes_onion_fraction").set_value(0.1).run()
    _ok(at)
    assert any("not computed" in i.value for i in at.info)
    assert not _charts(at)


def test_switching_studies_shows_each_study(spec):
    at = _page(spec)
    at.radio(key="data_changes_study").set_value("partial").run()
    _ok(at)
    assert any("partial data" in t for t in _titles(at))
    at.radio(key="data_changes_study").set_value("duplicates").run()
    _ok(at)
    assert any(b.label == "Run the wrong-label duplicates study" for b in at.button)
    assert not _charts(at)


def test_augmentation_disables_colour_transforms_and_switches_transform(spec):
    at = _page(spec)
    at.radio(key="data_changes_study").set_value("augmentation").run()
    _ok(at)
    jitter = at.checkbox(key="data_changes_aug_color_jitter")
    assert jitter.disabled and not jitter.value
    assert any("needs colour" in c.value for c in at.caption)
    assert any("Horizontal flip, replacing" in t for t in _titles(at))
    at.radio(key="data_changes_aug_view").set_value("vflip").run()
    _ok(at)
    titles = _titles(at)
    assert any("Vertical flip, replacing" in t for t in titles)
    assert not any("Horizontal flip" in t for t in titles)


def test_bad_hand_picked_targets_show_an_error(spec):
    at = _page(spec)
    at.radio(key="data_changes_study").set_value("duplicates").run()
    at.text_input(key="data_changes_dup_targets").set_value("12, twelve").run()
    assert not at.exception
    assert any("targets must be a list of int" in e.value for e in at.error)
