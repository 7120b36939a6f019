"""App tests of the attribute-inference and reconstruction pages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from backend import jobs
from backend.attacks import attributes as attr
from backend.attacks import reconstruction as rec

from .conftest import tiny_spec

ROOT = Path(__file__).resolve().parent.parent

# What the tests set on the pages, and what the fixture computes to match.
GROUPS = 2
ATTACK_EPOCHS = 10
BUDGETS = {"per_class": 2, "di_steps": 15, "gan_steps": 10, "gmi_steps": 10}


@pytest.fixture(scope="module")
def computed(tmp_path_factory):
    """A tiny spec with both studies computed, as the pages ask for them once their
    widgets are set as below, into a module-wide store."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VALUERISK_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        spec = tiny_spec()
        aspec = attr.make_attribute_spec(
            groups={"n_groups": GROUPS}, epochs=ATTACK_EPOCHS
        )
        jobs.run_inline("attributes", spec, params={"settings": aspec.to_dict()})
        rspec = rec.make_reconstruction_spec(groups={"n_groups": GROUPS}, **BUDGETS)
        jobs.run_inline("reconstruction", spec, params={"settings": rspec.to_dict()})
        yield spec


def _page(name: str, spec) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / f"{name}.py"), default_timeout=60)
    at.session_state["runspec"] = spec
    return at.run()


def _charts(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("vega_lite_chart")]


def _attributes_page(spec) -> AppTest:
    at = _page("attributes", spec)
    at.selectbox(key="attr_groups").set_value(GROUPS)
    at.number_input(key="attr_epochs_demo").set_value(ATTACK_EPOCHS)
    return at.run()


def _reconstruction_page(spec) -> AppTest:
    at = _page("reconstruction", spec)
    at.selectbox(key="rec_groups").set_value(GROUPS)
    for name, value in BUDGETS.items():
        at.number_input(key=f"rec_{name}_demo").set_value(value)
    return at.run()


# -- attribute inference ---------------------------------------------------------------


def test_attributes_page_offers_the_job_when_nothing_is_computed(computed):
    at = _page("attributes", tiny_spec(split={"seed": 99}))
    assert not at.exception
    assert any("not computed for these settings" in i.value for i in at.info)
    assert at.button(key="run_attributes")
    assert not _charts(at)
    # Digits have no attributes: the page says plainly that these are stand-ins.
    assert "stand-ins" in at.warning[0].value


def test_attributes_page_draws_the_computed_study(computed):
    at = _attributes_page(computed)
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    charts = _charts(at)
    assert len(charts) == 2  # bars by attribute, heatmap of importance correlation
    assert "baseline" in at.metric[0].value
    assert at.metric[0].label == "Least important group"
    bars = charts[0]["layer"][0]["encoding"]
    assert bars["y"]["field"] == "relative"


def test_attributes_page_metric_and_settings_change_what_is_shown(computed):
    at = _attributes_page(computed)
    at.radio(key="attr_metric").set_value("gain").run()
    assert not at.exception
    assert _charts(at)[0]["layer"][0]["encoding"]["y"]["field"] == "gain"
    # Another protocol was never computed: the page offers to run it.
    at.radio(key="attr_protocol").set_value("target").run()
    assert any("not computed for these settings" in i.value for i in at.info)
    assert not _charts(at)


def test_attributes_page_asks_for_an_attribute(computed):
    at = _attributes_page(computed)
    at.multiselect(key="attr_names").set_value([]).run()
    assert not at.exception
    assert any("at least one attribute" in i.value for i in at.info)


# -- reconstruction --------------------------------------------------------------------


def test_reconstruction_page_offers_the_job_when_nothing_is_computed(computed):
    at = _page("reconstruction", tiny_spec(split={"seed": 99}))
    assert not at.exception
    assert any("not computed for these settings" in i.value for i in at.info)
    assert at.button(key="run_reconstruction")
    assert not _charts(at) and not at.image


def test_reconstruction_page_draws_quality_and_pictures(computed):
    at = _reconstruction_page(computed)
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    charts = _charts(at)
    assert len(charts) == 1
    assert charts[0]["layer"][0]["encoding"]["y"]["field"] == "fd"
    assert len(at.image) == 3  # reconstructions, nearest images, across groups
    assert any("not Inception FID" in c.value for c in at.caption)


def test_reconstruction_page_widgets_change_what_is_shown(computed):
    at = _reconstruction_page(computed)
    before = [img.proto.SerializeToString() for img in at.image]
    at.selectbox(key="rec_view_attack").set_value("gmi").run()
    assert not at.exception
    after = [img.proto.SerializeToString() for img in at.image]
    assert after[0] != before[0]
    at.radio(key="rec_metric").set_value("nn_ratio").run()
    assert _charts(at)[0]["layer"][0]["encoding"]["y"]["field"] == "nn_ratio"
    # A longer DeepInversion run was never computed: the page offers to run it.
    at.number_input(key="rec_di_steps_demo").set_value(16).run()
    assert any("not computed for these settings" in i.value for i in at.info)


def test_reconstruction_page_explains_tabular_data(computed, tmp_path):
    import numpy as np
    import pandas as pd

    from backend.datasets import csv_reference
    from backend.specs import make_runspec

    frame = pd.DataFrame(np.random.default_rng(0).normal(size=(200, 3)))
    frame.columns = ["a", "b", "c"]
    frame["label"] = np.arange(200) % 2
    frame.to_csv(tmp_path / "t.csv", index=False)
    spec = make_runspec(csv_reference(tmp_path / "t.csv"), model={"arch": "mlp"})
    at = _page("reconstruction", spec)
    assert not at.exception
    assert any("tabular" in i.value for i in at.info)


def test_attributes_page_offers_a_csvs_declared_columns(computed, tmp_path):
    import numpy as np
    import pandas as pd

    from backend.datasets import csv_reference
    from backend.specs import make_runspec

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(300, 3)), columns=["a", "b", "c"])
    frame["label"] = np.arange(300) % 2
    frame["smoker"] = rng.integers(0, 2, 300)
    frame["region"] = rng.integers(0, 4, 300)
    frame.to_csv(tmp_path / "people.csv", index=False)
    name = csv_reference(
        tmp_path / "people.csv", attribute_columns=("smoker", "region")
    )
    at = _page("attributes", make_runspec(name, model={"arch": "mlp"}))
    assert not at.exception
    assert at.multiselect(key="attr_names").value == ["smoker", "region"]
    assert not at.warning  # declared attributes are no stand-ins
    assert at.button(key="run_attributes")
