"""ValueRisk: which training samples are the most valuable, and how exposed are they?

Run with ``streamlit run app.py`` (or ``make run``). This file only builds the
navigation and the shared sidebar; every page lives in ``pages/`` and every computation
in ``backend/``.
"""

from __future__ import annotations

import streamlit as st

from pages.common import job_panel, read_context, sidebar


def build_navigation():
    """The pages, grouped into the sections of the sidebar."""
    return st.navigation(
        {
            "Overview": [
                st.Page(
                    "pages/findings.py",
                    title="Findings",
                    icon=":material/lightbulb:",
                    default=True,
                ),
            ],
            "Importance": [
                st.Page(
                    "pages/importance.py",
                    title="Importance",
                    icon=":material/bar_chart:",
                ),
                st.Page(
                    "pages/data_changes.py",
                    title="Data changes",
                    icon=":material/compare_arrows:",
                ),
            ],
            "Attacks": [
                st.Page(
                    "pages/membership.py",
                    title="Membership inference",
                    icon=":material/target:",
                ),
                st.Page(
                    "pages/stealing.py",
                    title="Model stealing",
                    icon=":material/content_copy:",
                ),
                st.Page(
                    "pages/backdoor.py",
                    title="Backdoor",
                    icon=":material/bug_report:",
                ),
                st.Page(
                    "pages/attributes.py",
                    title="Attribute inference",
                    icon=":material/person_search:",
                ),
                st.Page(
                    "pages/reconstruction.py",
                    title="Reconstruction",
                    icon=":material/image_search:",
                ),
            ],
            "Samples": [
                st.Page(
                    "pages/gallery.py",
                    title="Risk gallery",
                    icon=":material/photo_library:",
                ),
            ],
        }
    )


def sidebar_status(spec) -> None:
    """What is computed for the current spec, and one button to compute the rest."""
    from backend import analysis, pipeline

    ctx = read_context(spec)
    if ctx is None:
        return
    done = pipeline.stage_status(ctx) | analysis.analysis_status(ctx)
    with st.sidebar:
        st.divider()
        st.subheader("Results for this choice")
        for name, present in done.items():
            mark = ":material/check_circle:" if present else ":material/pending:"
            st.caption(f"{mark} {name}")
        missing = [name for name, present in done.items() if not present]
        job_panel("analysis", spec, label="Compute what is missing", missing=missing)


def main() -> None:
    st.set_page_config(
        page_title="ValueRisk", page_icon=":material/shield:", layout="wide"
    )
    navigation = build_navigation()
    spec = sidebar()
    if spec is not None:
        sidebar_status(spec)
    navigation.run()


main()
