"""What every page shares: the sidebar that builds the RunSpec, reading results from
the store, running jobs with progress, and the standard page furniture.

Pages call :func:`current_spec` for the spec the sidebar built, :func:`read_context` for
a read-only view of the store, and :func:`job_panel` to offer computing what is missing.
Nothing numeric happens here: the backend computes, the page draws.
"""

from __future__ import annotations

import dataclasses

import streamlit as st

from backend import jobs, pipeline
from backend.datasets import dataset_info, list_datasets
from backend.errors import ValueRiskError
from backend.models import architecture_names
from backend.settings import DEFAULT_DATASET, DEFAULT_K
from backend.specs import PRESETS, RunSpec, make_runspec
from backend.store import open_store
from backend.uploads import list_uploads

SPEC_KEY = "runspec"  # where the sidebar leaves the current RunSpec in session state
POLL_SECONDS = 1.0  # how often a running job's progress is refreshed

# -- sidebar --------------------------------------------------------------------------


def sidebar() -> RunSpec | None:
    """Draw the shared sidebar and return the RunSpec it describes.

    Every choice is bound to the URL's query parameters, so a link reproduces the view.
    Returns None (after showing the reason) when the choices do not make a valid spec.
    """
    with st.sidebar:
        st.header("What to analyse")
        statuses = {s.info.name: s for s in list_datasets()}
        uploaded = list_uploads()
        options = [n for n, s in statuses.items() if s.available] + list(uploaded)
        labels = {n: s.info.title for n, s in statuses.items()} | uploaded
        # A dataset just uploaded is selected here, before the widget exists: a
        # widget's value cannot be changed after it is drawn in the same run.
        if "pending_dataset" in st.session_state:
            st.session_state["dataset"] = st.session_state.pop("pending_dataset")
        if st.session_state.get("dataset") not in options:
            st.session_state.pop("dataset", None)
        dataset = st.selectbox(
            "Dataset",
            options,
            index=options.index(DEFAULT_DATASET),
            format_func=lambda n: labels.get(n, n),
            key="dataset",
            bind="query-params",
        )
        unavailable = [s for s in statuses.values() if not s.available]
        if unavailable:
            with st.expander(f"{len(unavailable)} more datasets need their files"):
                for status in unavailable:
                    st.caption(f"**{status.info.title}**: {status.instruction}")
        upload_panel()

        try:
            kind = dataset_info(dataset).kind
        except ValueRiskError as error:
            st.error(str(error))
            return None
        archs = architecture_names(kind)
        default_arch = "small-cnn" if kind == "image" else "mlp"
        arch = st.selectbox(
            "Model",
            archs,
            index=archs.index(default_arch),
            key="arch",
            bind="query-params",
        )
        preset = st.segmented_control(
            "Scale",
            list(PRESETS),
            default="quick",
            key="preset",
            bind="query-params",
            help="quick: a demo in seconds. paper: the study's training settings.",
        )
        k = st.number_input(
            "Neighbours k (importance)",
            1,
            50,
            DEFAULT_K,
            key="k",
            bind="query-params",
        )
        representation = st.radio(
            "Importance computed on",
            ["raw", "embedding"],
            format_func={
                "raw": "raw inputs",
                "embedding": "the model's embedding",
            }.get,
            horizontal=True,
            key="repr",
            bind="query-params",
        )
        with st.expander("Split and seed"):
            seed = st.number_input(
                "Seed", 0, 10_000, 0, key="seed", bind="query-params"
            )
            st.caption("Sizes of 0 use the dataset's defaults.")
            sizes = {
                part: st.number_input(
                    part.replace("_", " ").capitalize(),
                    0,
                    1_000_000,
                    0,
                    step=100,
                    key=f"split_{part}",
                    bind="query-params",
                )
                for part in (
                    "members",
                    "nonmembers",
                    "shadow_members",
                    "shadow_nonmembers",
                    "reference",
                )
            }

    try:
        spec = make_runspec(
            dataset,
            preset=preset or "quick",
            seed=int(seed),
            split={name: int(value) for name, value in sizes.items()},
            model={"arch": arch},
            valuation={"k": int(k), "representation": representation},
        )
    except ValueRiskError as error:
        st.sidebar.error(str(error))
        return None
    st.session_state[SPEC_KEY] = spec
    return spec


def current_spec() -> RunSpec:
    """The RunSpec the sidebar built on this run (the default spec in page tests)."""
    spec = st.session_state.get(SPEC_KEY)
    return spec if spec is not None else make_runspec(DEFAULT_DATASET)


def upload_panel() -> None:
    """Bring your own data: a CSV or a zip of class folders, checked before use."""
    from backend.uploads import MAX_UPLOAD_MB, save_upload

    with st.expander("Use your own data"):
        st.caption(
            "A CSV with a `label` column (other numeric columns are features), or a "
            f"zip holding one folder of images per class. At most {MAX_UPLOAD_MB} MB. "
            "Files are checked, never executed."
        )
        upload = st.file_uploader("CSV or zip", type=["csv", "zip"], key="upload_file")
        label_column = st.text_input("Label column (CSV)", "label", key="upload_label")
        attributes = st.text_input(
            "Attribute columns (CSV, comma-separated)", "", key="upload_attributes"
        )
        if upload is None or not st.button("Add dataset", key="upload_add"):
            return
        try:
            info = save_upload(
                upload.name,
                upload.getvalue(),
                label_column=label_column.strip() or "label",
                attribute_columns=tuple(
                    a.strip() for a in attributes.split(",") if a.strip()
                ),
            )
        except ValueRiskError as error:
            st.error(str(error))
            return
        st.session_state["pending_dataset"] = info.source
        st.rerun()


# -- reading results ------------------------------------------------------------------


def read_context(spec: RunSpec) -> pipeline.Context | None:
    """A read-only context for the spec, or None after showing why it cannot be made."""
    try:
        return pipeline.make_context(spec, store=open_store(), read_only=True)
    except ValueRiskError as error:
        st.error(str(error))
        return None


def with_spec(spec: RunSpec, **changes) -> RunSpec:
    """The spec with some sections' fields replaced: ``with_spec(s, attack={...})``."""
    fields = {
        name: dataclasses.replace(getattr(spec, name), **values)
        for name, values in changes.items()
    }
    return dataclasses.replace(spec, **fields)


# -- jobs -----------------------------------------------------------------------------


def job_panel(
    kind: str,
    spec: RunSpec,
    *,
    label: str,
    missing: list[str],
    params: dict | None = None,
) -> None:
    """Offer to compute what is missing, and follow the job while it runs.

    Args:
        kind: a job kind of :mod:`backend.jobs`.
        spec: the spec to run it for.
        label: the button's text.
        missing: plain names of what is not computed yet (shown to the user).
        params: the job's own settings beyond the spec.
    """
    jid = jobs.job_id(kind, spec, params)
    state = jobs.status(jid)
    if state is not None and state.active:
        _follow(jid)
        return
    if state is not None and state.state == "failed":
        st.error(f"The last run failed: {state.error}")
    if missing:
        st.info("Not computed yet: " + ", ".join(missing) + ".")
    if st.button(label, type="primary", key=f"run_{kind}", disabled=not missing):
        try:
            jobs.submit(kind, spec, params=params)
        except ValueRiskError as error:
            st.error(str(error))
            return
        st.rerun()


@st.fragment(run_every=POLL_SECONDS)
def _follow(jid: str) -> None:
    state = jobs.status(jid)
    if state is None or not state.active:
        st.rerun()  # the job ended: redraw the whole page with its results
        return
    st.progress(min(max(state.progress, 0.0), 1.0), text=state.message or state.state)
    if st.button("Cancel", key=f"cancel_{jid}"):
        jobs.cancel(jid)
        st.rerun()


def sweep_panel(
    kind: str,
    spec: RunSpec,
    *,
    stored: int,
    total: int,
    models: str,
    label: str,
    params: dict,
) -> None:
    """What a sweep has stored, and an offer to compute the rest.

    With nothing stored the page stops after the offer; with some points missing it
    warns that the charts show only the stored ones.

    Args:
        kind: the sweep's job kind.
        spec: the RunSpec it runs on.
        stored: how many of the sweep's points are stored.
        total: how many points the sweep has.
        models: what one point trains, plural ("poisoned models", "surrogates").
        label: the button's text when nothing is stored.
        params: the sweep's job settings.
    """
    missing = total - stored
    if not stored:
        st.info(
            f"No point of this sweep is computed yet ({total} {models} to train). The "
            "target model and the importance values are reused when they exist."
        )
        job_panel(
            kind,
            spec,
            label=label,
            missing=[f"{total} of {total} points"],
            params=params,
        )
        st.stop()
    if missing:
        st.warning(
            f"{missing} of {total} points are not computed yet; the charts show the "
            "stored ones."
        )
        job_panel(
            kind,
            spec,
            label="Compute the missing points",
            missing=[f"{missing} of {total} points"],
            params=params,
        )


# -- page furniture -------------------------------------------------------------------


def page_intro(title: str, text: str, *, limitations: str | None = None) -> None:
    """The page title, two or three plain sentences, and its caveats in an expander."""
    st.title(title)
    st.markdown(text)
    if limitations:
        with st.expander("Assumptions and limitations"):
            st.markdown(limitations)
