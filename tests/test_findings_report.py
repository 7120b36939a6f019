import math

import pytest

from backend import pipeline
from backend.findings import findings, missing_results, ratio
from backend.report import build_report, report_charts

from .conftest import tiny_spec


def test_ratio_handles_zero_and_missing_rates():
    assert ratio(0.3, 0.1) == pytest.approx(3.0)
    assert math.isinf(ratio(0.3, 0.0))
    assert math.isnan(ratio(0.0, 0.0))
    assert math.isnan(ratio(float("nan"), 0.2))


def test_findings_quote_measured_numbers(computed):
    ctx = pipeline.make_context(computed, read_only=True)
    items = findings(ctx)
    assert items[0].kind == "headline"
    assert "1% false-positive rate" in items[0].text
    texts = " ".join(item.text for item in items)
    assert "Spearman correlation" in texts and "test accuracy" in texts
    assert not missing_results(ctx)


def test_findings_list_what_is_missing():
    ctx = pipeline.make_context(tiny_spec(split={"seed": 42}), read_only=True)
    items = findings(ctx)
    assert [item.kind for item in items] == ["caveat"]
    assert "target model" in items[0].text and "membership" in items[0].text


def test_report_is_self_contained_html_with_images(computed):
    ctx = pipeline.make_context(computed, read_only=True)
    assert len(report_charts(ctx)) == 4
    html = build_report(ctx)
    assert html.startswith("<!doctype html>")
    assert html.count("data:image/png;base64,") == 4
    assert "http://" not in html and "https://" not in html  # nothing fetched
    assert "1% false-positive rate" in html


def test_report_includes_stored_data_change_studies(computed):
    from backend.studies.registry import STUDIES, study_result
    from backend.studies.specs import make_study_spec

    study_result(pipeline.make_context(computed), make_study_spec("partial"))
    html = build_report(pipeline.make_context(computed, read_only=True))
    assert f"<h2>{STUDIES['partial'].title}</h2>" in html
    assert html.count("data:image/png;base64,") == 5
