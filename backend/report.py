"""A self-contained HTML report of one spec: the findings and the charts as images.

Charts are rendered to PNG offline with vl-convert and embedded as data URLs, so the
file opens anywhere, without a network or a running app.
"""

from __future__ import annotations

import base64
import html
from datetime import UTC, datetime

import altair as alt
import pandas as pd

from backend import analysis, charts, pipeline
from backend.findings import HEADLINE_ATTACK, findings
from backend.specs import canonical_json

__all__ = ["report_charts", "build_report", "chart_png"]


def chart_png(chart: alt.TopLevelMixin, *, width: int = 720) -> bytes:
    """The chart as PNG bytes (the container width replaced by a fixed one)."""
    import vl_convert

    spec = chart.to_dict()
    _fix_width(spec, width)
    return vl_convert.vegalite_to_png(spec, scale=2)


def _fix_width(spec: dict, width: int) -> None:
    if spec.get("width") == "container":
        spec["width"] = width
    for part in (
        spec.get("layer", []) + spec.get("vconcat", []) + spec.get("hconcat", [])
    ):
        _fix_width(part, width)


def report_charts(ctx: pipeline.Context) -> dict[str, alt.TopLevelMixin]:
    """The charts the report shows, for the results that are stored."""
    out: dict[str, alt.TopLevelMixin] = {}
    try:
        values = pipeline.importance(ctx)
        out["Distribution of importance"] = charts.histogram(
            pd.DataFrame({"importance": values}),
            "importance",
            title="Importance of every training sample",
        )
    except pipeline.NotComputed:
        pass
    try:
        out["Validity check"] = charts.validity_chart(analysis.validity(ctx))
    except pipeline.NotComputed:
        pass
    try:
        result = analysis.membership(ctx)
    except pipeline.NotComputed:
        return out
    roc = result["roc"][result["roc"]["attack"] == HEADLINE_ATTACK]
    out["Membership inference ROC (confidence attack)"] = charts.roc_chart(
        roc
    ).properties(title="Members found against false alarms, by importance group")
    out["Advantage by importance bin"] = charts.bins_chart(result["bins"])
    return out


def build_report(ctx: pipeline.Context) -> str:
    """The HTML report (a complete document) for the spec's stored results."""
    items = []
    for finding in findings(ctx):
        items.append(
            f'<div class="finding {finding.kind}"><h3>{html.escape(finding.title)}'
            f"</h3><p>{html.escape(finding.text)}</p></div>"
        )
    figures = [_figure(title, chart) for title, chart in report_charts(ctx).items()]
    spec_json = html.escape(canonical_json(ctx.spec))
    made = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return _TEMPLATE.format(
        dataset=html.escape(ctx.data.info.title),
        made=made,
        findings="\n".join(items),
        figures="\n".join(figures),
        studies="\n".join(_study_sections(ctx)),
        spec=spec_json,
        sizes=html.escape(str(ctx.split.sizes())),
    )


def _figure(title: str, chart: alt.TopLevelMixin) -> str:
    data = base64.b64encode(chart_png(chart)).decode()
    return (
        f"<figure><img alt='{html.escape(title)}' src='data:image/png;base64,"
        f"{data}'><figcaption>{html.escape(title)}</figcaption></figure>"
    )


def _study_sections(ctx: pipeline.Context) -> list[str]:
    """The data-change studies stored at their default settings, one section each."""
    from backend.studies.registry import report_sections

    parts = []
    for section in report_sections(ctx):
        sentences = "".join(f"<li>{html.escape(s)}</li>" for s in section["findings"])
        table = section["table"].to_html(index=False, float_format=lambda v: f"{v:.4g}")
        parts.append(
            f"<h2>{html.escape(section['title'])}</h2><ul>{sentences}</ul>{table}"
            + "".join(_figure(t, c) for t, c in section["charts"].items())
        )
    return parts


_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>ValueRisk report: {dataset}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 860px; margin: 2em auto;
       color: #222; line-height: 1.5; }}
.finding {{ border-left: 4px solid #1f77b4; padding: 0 1em; margin: 1em 0; }}
.finding.headline {{ border-color: #d62728; }}
.finding.caveat {{ border-color: #bcbd22; }}
figure {{ margin: 2em 0; }} img {{ max-width: 100%; }}
code {{ font-size: 0.8em; word-break: break-all; }}
table {{ border-collapse: collapse; font-size: 0.85em; }}
td, th {{ border: 1px solid #ddd; padding: 2px 6px; }}
</style></head><body>
<h1>ValueRisk report: {dataset}</h1>
<p>Made {made}. Are the most valuable training samples also the most exposed?</p>
<h2>Findings</h2>
{findings}
<h2>Charts</h2>
{figures}
{studies}
<h2>What produced these results</h2>
<p>Split sizes: {sizes}</p>
<p><code>{spec}</code></p>
</body></html>
"""
