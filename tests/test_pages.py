"""App tests of the pages: the empty state, the computed state, widgets that matter."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from .conftest import tiny_spec

ROOT = Path(__file__).resolve().parent.parent
PAGES = ["findings", "importance", "membership", "gallery"]


def _page(name: str, spec) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / f"{name}.py"), default_timeout=60)
    at.session_state["runspec"] = spec
    return at.run()


def _charts(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("vega_lite_chart")]


def _text(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [i.value for i in at.info]
    parts += [s.value for s in at.success] + [w.value for w in at.warning]
    return "\n".join(parts)


@pytest.mark.parametrize("name", PAGES)
def test_page_explains_what_to_do_when_nothing_is_computed(computed, name):
    at = _page(name, tiny_spec(split={"seed": 99}))  # another split: nothing stored
    assert not at.exception
    assert "Compute what is missing" in _text(at) or at.button, name
    assert not _charts(at)


@pytest.mark.parametrize("name", PAGES)
def test_page_renders_computed_results(computed, name):
    at = _page(name, computed)
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    if name != "gallery":
        assert _charts(at), f"{name} drew no chart"


def test_findings_page_quotes_the_numbers(computed):
    at = _page("findings", computed)
    headline = at.success[0].value
    assert "1% false-positive rate" in headline and "%" in headline
    assert any("Spearman correlation" in m.value for m in at.markdown)


def test_importance_norm_changes_the_boundary_chart(computed):
    at = _page("importance", computed)
    titles = [c["title"] for c in _charts(at)]
    assert any("ℓ2 distance" in str(t) for t in titles)
    at.button_group(key="importance_norm").set_value("linf").run()
    titles = [c["title"] for c in _charts(at)]
    assert any("ℓ∞ distance" in str(t) for t in titles)
    assert not any("ℓ2 distance" in str(t) for t in titles)


def test_membership_attack_choice_and_missing_settings(computed):
    at = _page("membership", computed)
    first = at.dataframe[0].value.copy()
    at.selectbox(key="mia_attack").set_value("boundary").run()
    assert not at.exception
    assert not at.dataframe[0].value.equals(first)
    # A group size that was never computed offers to run the attacks.
    at.slider(key="mia_fraction").set_value(0.3).run()
    assert any("not computed for these settings" in i.value for i in at.info)
    assert at.button(key="run_membership")


def test_membership_table_refuses_unmeasurable_rates(computed):
    at = _page("membership", computed)
    table = at.dataframe[0].value
    # 200 non-members cannot resolve a 0.1% FPR.
    assert (table["TPR at 0.001 FPR"].iloc[:3] == "too few non-members").all()


def test_gallery_filters_change_the_rows(computed):
    at = _page("gallery", computed)
    before = len(at.dataframe[0].value)
    caption = [c.value for c in at.caption if "members match" in c.value][0]
    at.multiselect(key="gallery_groups").set_value(["top"]).run()
    after = [c.value for c in at.caption if "members match" in c.value][0]
    assert caption != after and after.startswith("60 members")
    assert set(at.dataframe[0].value["group"]) == {"top"}
    assert before == 40


def test_app_starts_on_the_findings_page_with_the_default_spec(computed):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    spec = at.session_state["runspec"]
    assert spec.dataset == "digits" and spec.valuation.k == 6
    assert at.title[0].value.startswith("Are the most valuable")
    assert any("not computed" in i.value.lower() for i in at.sidebar.info)
    assert at.sidebar.button(key="run_analysis")


def _sidebar_script():
    import streamlit as st

    from pages.common import sidebar

    spec = sidebar()
    st.write(f"spec k={spec.valuation.k} arch={spec.model.arch} seed={spec.split.seed}")


def test_sidebar_widgets_change_the_spec():
    # AppTest reruns only the page script after navigation, so the sidebar is driven
    # on its own here.
    at = AppTest.from_function(_sidebar_script, default_timeout=30).run()
    assert at.markdown[-1].value == "spec k=6 arch=small-cnn seed=0"
    at.number_input(key="k").set_value(5).run()
    at.selectbox(key="arch").set_value("mlp").run()
    at.number_input(key="seed").set_value(3).run()
    assert at.markdown[-1].value == "spec k=5 arch=mlp seed=3"
    assert at.session_state["runspec"].valuation.k == 5
