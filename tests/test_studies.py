"""Data-change studies: the direction of each effect on data built so that it is
known, the bookkeeping of each study, and the cached jobs and CLI on a tiny spec."""

from __future__ import annotations

import json

import altair as alt
import numpy as np
import pandas as pd
import pytest

from backend import jobs, pipeline, studies
from backend.__main__ import main
from backend.dataset_edits import TrainingView, add_copies
from backend.datasets import dataset_info
from backend.errors import ValueRiskError
from backend.store import Store
from backend.studies import augmentation, changes, duplicates, onion, partial
from backend.studies import charts as study_charts
from backend.studies.exposure import exposure_rows, in_out_row
from backend.studies.revaluation import Valuer, members_view, valuer_for

from .conftest import TINY_SPLIT, tiny_spec

# -- data where the direction of each effect is known ----------------------------------


def line_view(xs, ys) -> TrainingView:
    """Points on a line (one tabular feature)."""
    return TrainingView.from_arrays(
        np.asarray(xs, np.float32)[:, None], ys, kind="tabular"
    )


def line_valuer(xs, ys, k=3) -> Valuer:
    return Valuer(np.asarray(xs, np.float32)[:, None], np.asarray(ys), k=k)


def test_wrong_label_copies_raise_the_target_and_lower_its_labelled_neighbours():
    # Class 0 sits at 0.0-0.3 and class 1 at 5.0-5.3; the reference points of class 0
    # lie among class 0. The target (0.0) gets four copies labelled 1.
    view = line_view([0.0, 0.1, 0.2, 0.3, 5.0, 5.1, 5.2, 5.3], [0] * 4 + [1] * 4)
    valuer = line_valuer([-0.05, 0.05, 0.15, 5.05], [0, 0, 0, 1])
    before = valuer(view)
    poisoned, after = duplicates.duplicate_effect(
        valuer, view, np.array([0]), np.array([1]), copies=4
    )
    assert len(poisoned) == 12 and poisoned.y[8:].tolist() == [1] * 4
    assert after[0] > before[0]
    assert (after[1:4] < before[1:4]).all()


def test_removing_a_class_only_near_representative_raises_the_next_nearest():
    # Class 1's reference points sit at 0; its only member there is A (0.0), the next
    # nearest class-1 member is B (3.0). A is the most important and is removed.
    view = line_view([0.0, 3.0, 1.0, 1.1, 1.2, 5.0, 6.0, 6.1, 6.2], [1, 1] + [0] * 7)
    valuer = line_valuer([0.1, -0.1, 1.05, 6.05], [1, 1, 0, 0])
    before = valuer(view)
    effect = onion.onion_effect(valuer, view, before, 1 / 9)
    assert effect["top"].tolist() == [True] + [False] * 8
    assert np.isnan(effect["after_top"][0])
    assert effect["after_top"][1] > before[1]


def test_onion_effect_masks_are_the_ends_and_the_band_below_the_top():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(60, 2)).astype(np.float32), rng.integers(0, 2, 60)
    view = TrainingView.from_arrays(x, y, kind="tabular")
    valuer = Valuer(
        rng.normal(size=(30, 2)).astype(np.float32), rng.integers(0, 2, 30), 3
    )
    before = valuer(view)
    effect = onion.onion_effect(valuer, view, before, 0.2)
    top, bottom, band = effect["top"], effect["bottom"], effect["band"]
    assert top.sum() == bottom.sum() == band.sum() == 12
    assert not (top & band).any() and not (bottom & band).any()
    assert before[band].max() <= before[top].min() == effect["cutoff"]
    assert before[band].min() >= before[~top & ~band].max()
    for end, removed in (("top", top), ("bottom", bottom)):
        after = effect[f"after_{end}"]
        assert np.isnan(after[removed]).all() and np.isfinite(after[~removed]).all()
        # the rest is valued exactly as a set without the removed rows
        kept = TrainingView.from_arrays(x[~removed], y[~removed], kind="tabular")
        assert np.array_equal(after[~removed], valuer(kept))


def test_onion_effect_refuses_a_band_that_cannot_survive_both_removals():
    view = line_view(np.arange(5.0), [0, 1, 0, 1, 0])
    valuer = line_valuer([0.5, 2.5], [0, 1])
    with pytest.raises(ValueRiskError, match="no band that survives both removals"):
        onion.onion_effect(valuer, view, valuer(view), 0.4)


def test_exact_copies_share_credit_so_the_copied_samples_lose():
    rng = np.random.default_rng(0)
    x = np.r_[rng.normal(0, 1, 20), rng.normal(6, 1, 20)]
    y = np.r_[np.zeros(20, int), np.ones(20, int)]
    view = line_view(x, y)
    valuer = line_valuer(
        np.r_[rng.normal(0, 1, 15), rng.normal(6, 1, 15)], np.repeat([0, 1], 15)
    )
    chosen = np.arange(0, 40, 4)
    after = valuer(add_copies(view, chosen))[:40]
    shares = changes.change_shares(valuer(view)[chosen], after[chosen])
    assert shares["lost"] == 1.0


def test_a_flip_that_leaves_images_equal_changes_no_importance():
    # Left-right symmetric images: the flipped version is the same image.
    rng = np.random.default_rng(1)
    half = rng.integers(0, 256, (30, 1, 6, 3), dtype=np.uint8)
    images = np.concatenate([half, half[:, :, :, ::-1]], axis=3)
    labels = rng.integers(0, 3, 30)
    view = TrainingView.from_arrays(images[:24], labels[:24], kind="image")
    valuer = Valuer(
        images[24:].reshape(6, -1).astype(np.float32) / 255, labels[24:], k=3
    )
    after = augmentation.augmentation_effect(
        valuer, view, np.array([0, 5, 9]), ["hflip", "vflip"]
    )
    before = valuer(view)
    assert np.array_equal(after["replace:hflip"], before)
    assert not np.array_equal(after["replace:vflip"], before)
    assert set(after) == {
        "copy",
        "replace:hflip",
        "add:hflip",
        "replace:vflip",
        "add:vflip",
    }


def test_partial_data_holding_everything_agrees_exactly():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(40, 3)).astype(np.float32), rng.integers(0, 2, 40)
    ref_x, ref_y = rng.normal(size=(20, 3)).astype(np.float32), rng.integers(0, 2, 20)
    full = Valuer(ref_x, ref_y, 3)(TrainingView.from_arrays(x, y, kind="tabular"))
    owner = partial.Party(np.zeros((0, 3), np.float32), np.zeros(0, int), ref_x, ref_y)
    rows = partial.partial_correlations(
        full, x, y, {"owner": owner}, (1.0, 0.25), [0, 1], k=3
    )
    whole = rows[rows["fraction"] == 1.0]
    assert np.allclose(whole[["pearson", "spearman"]], 1.0)
    assert (rows.loc[rows["fraction"] == 0.25, "held"] == 10).all()
    assert (rows.loc[rows["fraction"] == 0.25, "spearman"] < 1.0).all()
    assert partial.held_count(0.01, 40) == partial.MIN_HELD


def test_change_measures():
    shares = changes.change_shares(np.array([1.0, 2, 3, 4]), np.array([2.0, 2, 1, 4]))
    assert shares["gained"] == 0.25 and shares["lost"] == 0.25
    assert shares["unchanged"] == 0.5 and shares["mean_change"] == -0.25
    pct = changes.percent_change(np.array([-2.0, 0.0, 4.0]), np.array([-1.0, 1.0, 2.0]))
    assert pct[0] == 50.0 and np.isnan(pct[1]) and pct[2] == -50.0
    assert all(np.isnan(changes.correlations(np.ones(5), np.arange(5))))
    frame = changes.share_histogram(
        {"a": np.arange(10.0), "b": np.arange(1000.0)}, bins=5
    )
    assert np.allclose(frame.groupby("group")["share"].sum(), 1.0)


def test_exposure_rows_and_in_out_read_separable_scores():
    members = np.r_[np.full(50, 3.0), np.full(50, -3.0)]
    groups = {"high": np.r_[np.ones(50, bool), np.zeros(50, bool)]}
    groups["low"] = ~groups["high"]
    nonmembers = np.random.default_rng(0).normal(size=200)
    rows = pd.DataFrame(
        exposure_rows("before", members, members > 0, groups, nonmembers, fpr=0.01)
    ).set_index("group")
    assert rows.loc["high", "tpr"] == 1.0 and rows.loc["low", "tpr"] == 0.0
    assert rows.loc["high", "flagged"] == 1.0 and rows.loc["high", "auc"] == 1.0
    row = in_out_row("after", np.array([2.0, 3.0]), np.array([0.0, 1.0]))
    assert row["higher_in"] == 1.0 and row["mean_gap"] == 2.0 and row["auc"] == 1.0
    few = exposure_rows("x", members, members > 0, groups, nonmembers[:50], fpr=0.01)
    assert np.isnan(few[0]["tpr"])  # 50 non-members cannot measure a 1% FPR


# -- settings --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("onion", {"fraction": 0.5}, r"fraction must lie in \(0, 1/3\]"),
        ("onion", {"attack": "boundary"}, "attack must be one of"),
        ("duplicates", {"copies": 0}, "copies must be >= 1"),
        ("duplicates", {"targets": [3, 3]}, "must not repeat"),
        ("duplicates", {"targets": "1, x"}, "targets must be a list of int"),
        ("augmentation", {"transforms": ["rotate"]}, "transforms must be a non-empty"),
        ("partial", {"fractions": [0.0]}, r"numbers in \(0, 1\]"),
        ("partial", {"settings": ["spy"]}, "settings must be a non-empty list"),
        ("onion", {"share": 0.2}, r"unknown setting\(s\) \['share'\]"),
        ("peel", {}, "unknown study 'peel'; choose one of"),
    ],
)
def test_bad_settings_say_what_was_wrong(name, params, message):
    with pytest.raises(ValueRiskError, match=message):
        studies.make_study_spec(name, **params)


def test_settings_round_trip_through_job_parameters():
    spec = studies.make_study_spec("partial", fractions="0.1, 0.5", settings=["owner"])
    assert spec.fractions == (0.1, 0.5) and spec.settings == ("owner",)
    params = studies.study_params(spec)
    assert json.loads(json.dumps(params)) == params
    assert studies.make_study_spec("partial", **params) == spec


def test_applicability_of_the_studies():
    digits = dataset_info("digits")
    assert all(studies.applicable(name, digits)[0] for name in studies.STUDIES)
    purchase = dataset_info("purchase100")
    ok, reason = studies.applicable("augmentation", purchase)
    assert not ok and "needs images" in reason
    assert studies.applicable("onion", purchase) == (True, "")


# -- the studies on a tiny spec --------------------------------------------------------

TINY_STUDIES = {
    "onion": {},
    "duplicates": {"n_targets": 10, "copies": 8},
    "augmentation": {"n_samples": 60},
    "partial": {"fractions": [0.05, 0.5], "n_seeds": 2},
}


@pytest.fixture(scope="module")
def tiny_results(tmp_path_factory):
    """Every study run once as a job on the tiny digits spec, in its own store."""
    store = Store(tmp_path_factory.mktemp("studies") / "cache")
    spec = tiny_spec()
    summaries = {
        name: jobs.run_inline(
            studies.job_kind(name),
            spec,
            params=studies.study_params(studies.make_study_spec(name, **params)),
            store=store,
        )
        for name, params in TINY_STUDIES.items()
    }
    ctx = pipeline.make_context(spec, store=store, read_only=True)
    yield ctx, summaries
    store.close()


def _result(ctx, name):
    return studies.study_result(
        ctx, studies.make_study_spec(name, **TINY_STUDIES[name])
    )


def test_revaluing_the_unedited_members_gives_the_pipeline_importance(tiny_results):
    ctx, _ = tiny_results
    assert np.array_equal(valuer_for(ctx)(members_view(ctx)), pipeline.importance(ctx))


def test_results_are_cached_and_a_page_reads_them_without_computing(tiny_results):
    ctx, summaries = tiny_results
    for name in TINY_STUDIES:
        spec = studies.make_study_spec(name, **TINY_STUDIES[name])
        assert studies.is_stored(ctx, spec)
        again = studies.summarize(name, _result(ctx, name))
        assert json.dumps(again, sort_keys=True) == json.dumps(
            summaries[name], sort_keys=True
        ), name
    other = studies.make_study_spec("onion", fraction=0.1)
    with pytest.raises(pipeline.NotComputed):
        studies.study_result(ctx, other)


def test_onion_on_digits(tiny_results):
    ctx, summaries = tiny_results
    s = summaries["onion"]
    assert s["removed"] == 60 and s["band"] == 60
    assert s["above_cutoff_before"] == 0.0 and 0.0 <= s["above_cutoff_after"] <= 1.0
    payload = _result(ctx, "onion")
    exposure = payload["exposure"]
    assert set(exposure["model"]) == {"before", "after"}
    assert set(exposure["group"]) == {"new top layer", "rest of the remaining"}
    assert exposure.loc[exposure["group"] == "new top layer", "n"].eq(48).all()
    assert not (payload["new_top"] & payload["top"]).any()
    assert len(onion.findings(payload)) == 3


def test_duplicates_on_digits(tiny_results):
    ctx, summaries = tiny_results
    payload = _result(ctx, "duplicates")
    s = summaries["duplicates"]
    assert s["targets_n"] == 10 and s["copies"] == 8
    assert s["targets_n"] + s["neighbours_n"] + s["controls_n"] == TINY_SPLIT["members"]
    # wrong labels really are wrong
    labels = payload["labels"][payload["targets"]]
    assert (payload["wrong_labels"] != labels).all()
    scores = payload["target_scores"]
    assert list(scores.columns) == [
        "index",
        "in_before",
        "in_after",
        "out_before",
        "out_after",
    ]
    # poisoning pushes the targets' true-label confidence down in the retrained model
    assert s["targets_mean_score_after"] < s["targets_mean_score_before"]
    assert {"in_out_auc_before", "in_out_auc_after"} <= set(s)


def test_duplicates_take_hand_picked_targets_and_refuse_non_members(tiny_results):
    ctx, _ = tiny_results
    members = ctx.split.members
    values = pipeline.importance(ctx)
    spec = studies.make_study_spec(
        "duplicates", targets=[int(members[5]), int(members[2])]
    )
    assert duplicates.choose_targets(members, values, spec).tolist() == [2, 5]
    outsider = int(ctx.split.nonmembers[0])
    bad = studies.make_study_spec("duplicates", targets=[outsider])
    with pytest.raises(
        ValueRiskError, match="targets must be dataset indices of members"
    ):
        duplicates.choose_targets(members, values, bad)


def test_augmentation_on_digits_skips_colour_transforms(tiny_results):
    ctx, summaries = tiny_results
    payload = _result(ctx, "augmentation")
    assert payload["transforms"] == ["hflip", "vflip"]
    assert set(payload["skipped"]) == {"color_jitter", "grayscale"}
    table = studies.summary_table("augmentation", payload)
    assert len(table) == 2 * 3 * 2  # transforms x settings x groups
    assert (table.loc[table["group"] == "changed", "n"] == 60).all()
    shares = table[["gained", "lost", "unchanged"]].sum(axis=1)
    assert np.allclose(shares, 1.0)


def test_augmentation_with_no_applicable_transform_says_why(store):
    ctx = pipeline.make_context(tiny_spec(), store=store)
    spec = studies.make_study_spec("augmentation", transforms=["color_jitter"])
    with pytest.raises(ValueRiskError, match="none of the transforms"):
        studies.study_result(ctx, spec)


def test_partial_on_digits(tiny_results):
    ctx, summaries = tiny_results
    table = studies.summary_table("partial", _result(ctx, "partial"))
    assert len(table) == 3 * 2 and (table["draws"] == 2).all()
    owner = table[table["setting"] == "owner"].set_index("fraction")
    # holding half the members ranks them better than holding 5%
    assert owner.loc[0.5, "spearman_mean"] > owner.loc[0.05, "spearman_mean"]
    assert (
        summaries["partial"]["owner_0.5_spearman_mean"]
        == owner.loc[0.5, "spearman_mean"]
    )


def test_every_chart_builds_a_vega_lite_spec(tiny_results):
    ctx, _ = tiny_results
    o, d = _result(ctx, "onion"), _result(ctx, "duplicates")
    a, p = _result(ctx, "augmentation"), _result(ctx, "partial")
    change = augmentation.change_frame(a, "hflip")
    built = [
        study_charts.distribution_chart(onion.distribution_frame(o), o["cutoff"]),
        study_charts.band_chart(onion.band_frame(o)),
        study_charts.exposure_chart(o["exposure"], "tpr", title="t"),
        study_charts.targets_chart(duplicates.targets_frame(d)),
        study_charts.share_histogram_chart(
            changes.share_histogram(
                {g: f["change"] for g, f in change.groupby("group")}
            ),
            title="t",
            x_title="change",
        ),
        study_charts.partial_chart(studies.summary_table("partial", p)),
    ]
    for chart in built:
        assert isinstance(chart, alt.TopLevelMixin)
        assert "$schema" in chart.to_dict()


def test_study_jobs_are_registered():
    jobs._load_job_kinds()
    for name in studies.STUDIES:
        assert studies.job_kind(name) in jobs.JOB_KINDS


# -- the command line ------------------------------------------------------------------

TINY_ARGS = [
    "--members", "300", "--nonmembers", "200", "--shadow-members", "200",
    "--shadow-nonmembers", "150", "--reference", "150", "--epochs", "4",
    "--batch-size", "32",
]  # fmt: skip


def test_cli_runs_a_study_and_prints_its_table(cache_path, capsys):
    code = main(
        ["study", "partial", *TINY_ARGS, "--fractions", "0.1,0.5", "--n-seeds", "2"]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "spearman_mean" in out and "attacker-pool" in out
    code = main(
        [
            "study",
            "partial",
            *TINY_ARGS,
            "--fractions",
            "0.1,0.5",
            "--n-seeds",
            "2",
            "--json",
        ]
    )
    summary = json.loads(capsys.readouterr().out)
    assert (
        code == 0 and summary["members"] == 300 and "owner_0.5_spearman_mean" in summary
    )


def test_cli_reports_bad_settings(cache_path, capsys):
    code = main(["study", "onion", *TINY_ARGS, "--fraction", "0.6"])
    assert code == 2
    assert "error: fraction must lie in (0, 1/3]" in capsys.readouterr().err


def test_the_light_settings_module_lists_the_registries_names():
    from backend.attacks.membership import ATTACKS
    from backend.dataset_edits import TRANSFORMS

    assert studies.TRANSFORM_NAMES == tuple(TRANSFORMS)
    output = tuple(name for name, a in ATTACKS.items() if not a.label_only)
    assert studies.OUTPUT_ATTACKS == output


def test_settings_that_do_the_same_work_share_one_result(tiny_results):
    ctx, _ = tiny_results
    # On greyscale digits only the flips apply: asking for all four transforms is the
    # same study as asking for the two flips, and both read the one stored result.
    every = studies.make_study_spec("augmentation", n_samples=60)
    flips = studies.make_study_spec(
        "augmentation", n_samples=60, transforms=["hflip", "vflip"]
    )
    assert studies.study_inputs(ctx, every) == studies.study_inputs(ctx, flips)
    assert studies.is_stored(ctx, every)
    # Without retraining, the in-out check has nothing to compare
    a = studies.make_study_spec("duplicates", retrain=False, in_out=True)
    b = studies.make_study_spec("duplicates", retrain=False, in_out=False)
    assert studies.study_inputs(ctx, a) == studies.study_inputs(ctx, b)
    assert "model" not in studies.study_inputs(ctx, a)
    # Retraining puts the model and its training recipe into the key
    retrained = studies.study_inputs(ctx, studies.make_study_spec("duplicates"))
    assert retrained["train"]["epochs"] == 4 and "arch" in retrained["model"]


def test_report_sections_hold_every_stored_default_study(store):
    ctx = pipeline.make_context(tiny_spec(), store=store)
    assert studies.report_sections(ctx) == []
    studies.study_result(ctx, studies.make_study_spec("partial"))
    studies.study_result(ctx, studies.make_study_spec("augmentation"))
    sections = studies.report_sections(ctx)
    assert [s["name"] for s in sections] == ["augmentation", "partial"]
    for section in sections:
        assert section["findings"] and len(section["table"])
        for chart in section["charts"].values():
            assert "$schema" in chart.to_dict()
