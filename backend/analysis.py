"""The dashboard's analysis of one RunSpec, as cached stages on top of :mod:`pipeline`.

- :func:`signals`: loss, confidence, entropies and boundary distance of every target
  member and non-member (target model) or shadow member and non-member (shadow model).
- :func:`attacker_importance`: the importance an attacker can estimate on its own: every
  candidate (members and non-members) valued against the attacker's shadow data.
- :func:`membership`: the membership-inference tables by importance group and bin.
- :func:`validity`: accuracy of models trained on only the top-n or bottom-n members.
- :func:`k_sensitivity`: correlation of the importance for k with k±1 and k±2.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
from scipy.stats import pearsonr, spearmanr

from backend import metrics
from backend.attacks import membership as mia
from backend.errors import SmallGroupWarning
from backend.jobs import staged
from backend.pipeline import (
    Context,
    cached,
    importance,
    importance_inputs,
    model_inputs,
    representation,
    trained_model,
)
from backend.selection import SELECTIONS, select
from backend.signals import NORMS, boundary_distance, output_signals
from backend.specs import TrainSpec
from backend.training import Progress, accuracy, predict_logits, train_model
from backend.valuation import knn_shapley

__all__ = [
    "VERSIONS",
    "FPRS",
    "signals",
    "attacker_importance",
    "membership",
    "validity",
    "k_sensitivity",
    "per_sample_table",
    "analysis_status",
]

# Code version of each stage. Every stage's inputs carry all of them (and the pipeline's
# versions through its inputs), so a bump recomputes whatever could depend on it.
VERSIONS = {
    "signals": 2,
    "attacker-importance": 1,
    "membership": 2,
    "validity": 1,
    "k-sensitivity": 1,
}
FPRS = (0.001, 0.01, 0.1)  # the false-positive rates the tables report
LAMBDAS = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0)  # weights of importance in calibrated scores
VALIDITY_FRACTIONS = (0.02, 0.05, 0.1, 0.2)  # top-n / bottom-n as shares of members


def _quiet(fraction: float, message: str) -> None:
    return None


# -- signals --------------------------------------------------------------------------


def _signals_inputs(ctx: Context, role: str) -> dict:
    attack = ctx.spec.attack
    return {
        **model_inputs(ctx, role),
        "boundary_steps": attack.boundary_steps,
        "boundary_step_size": attack.boundary_step_size,
        "analysis_versions": VERSIONS,
    }


def signals(ctx: Context, role: str = "target", *, progress: Progress | None = None):
    """Per-sample signals for the role's members and non-members.

    Returns:
        DataFrame with ``index`` (into the pooled dataset), ``label``, ``member`` and
        the columns of :func:`output_signals` and :func:`boundary_distance`.
    """
    progress = progress or _quiet
    if role == "target":
        inside, outside = ctx.split.members, ctx.split.nonmembers
    else:
        inside, outside = ctx.split.shadow_members, ctx.split.shadow_nonmembers

    def compute() -> pd.DataFrame:
        model, _ = trained_model(ctx, role, progress=lambda f, m: progress(0.5 * f, m))
        index = np.concatenate([inside, outside])
        x, y = ctx.data.features(index), ctx.data.y[index]
        table = output_signals(predict_logits(model, x), y)
        progress(0.55, "distance to the decision boundary")
        with warnings.catch_warnings():
            # Censored samples are flagged per row; the page reports the count.
            warnings.simplefilter("ignore")
            lower, upper = _input_range(ctx)
            distance = boundary_distance(
                model,
                x,
                steps=ctx.spec.attack.boundary_steps,
                step_size=ctx.spec.attack.boundary_step_size * (upper - lower),
                lower=lower,
                upper=upper,
            )
        table = pd.concat([table, distance], axis=1)
        table.insert(0, "member", np.r_[np.ones(len(inside)), np.zeros(len(outside))])
        table["member"] = table["member"].astype(bool)
        table.insert(0, "label", y)
        table.insert(0, "index", index)
        progress(1.0, "signals done")
        return table

    return cached(
        ctx, "signals", VERSIONS["signals"], _signals_inputs(ctx, role), compute
    )


def _input_range(ctx: Context) -> tuple[float, float]:
    """Where perturbed inputs must stay: [0, 1] for images, the data's range for tables.

    Clamping standardised table features to [0, 1] would move every sample before the
    search even starts; the step size is a fraction of this range.
    """
    if ctx.data.info.kind == "image":
        return 0.0, 1.0
    return float(ctx.data.x.min()), float(ctx.data.x.max())


# -- importance as the attacker sees it -----------------------------------------------


def attacker_importance(
    ctx: Context, *, progress: Progress | None = None
) -> np.ndarray:
    """KNN-Shapley of every candidate (members, then non-members) against shadow data.

    The attacker does not hold the reference set, so it values the candidates it wants
    to test against its own shadow members. Aligned with ``concatenate([split.members,
    split.nonmembers])``.
    """
    inputs = {
        **importance_inputs(ctx),
        "reference": "shadow_members",
        "analysis_versions": VERSIONS,
    }

    def compute() -> np.ndarray:
        candidates = np.concatenate([ctx.split.members, ctx.split.nonmembers])
        reference = ctx.split.shadow_members
        return knn_shapley(
            representation(ctx, candidates),
            ctx.data.y[candidates],
            representation(ctx, reference),
            ctx.data.y[reference],
            k=ctx.spec.valuation.k,
            progress=progress,
        )

    return cached(
        ctx, "attacker-importance", VERSIONS["attacker-importance"], inputs, compute
    )


# -- membership inference by importance -----------------------------------------------


def _membership_inputs(ctx: Context) -> dict:
    return {
        **_signals_inputs(ctx, "target"),
        "valuation": dataclasses.asdict(ctx.spec.valuation),
        "attack": dataclasses.asdict(ctx.spec.attack),
    }


def membership(ctx: Context, *, progress: Progress | None = None) -> dict:
    """Membership inference of every attack, by importance group and bin.

    Returns a dict of DataFrames:

    - ``per_sample``: one row per member and non-member: ``index``, ``label``,
      ``member``, ``importance`` (NaN for non-members), ``estimated_importance`` (the
      attacker's), ``group`` (top / middle / bottom / non-member), ``bin`` (−1 for
      non-members), and per attack ``score_<name>`` (continuous) and ``flag_<name>``
      (the decision).
    - ``groups``: per attack and group, TPR at each FPR in :data:`FPRS` (NaN where too
      few non-members), AUC and sizes.
    - ``bins``: per attack and importance bin, the advantage TPR − FPR of the decisions.
    - ``roc``: per attack and group, the ROC curve points.
    - ``calibration``: per attack and λ, the advantage and TPR at 1% FPR of
      ``z(score) + λ·z(estimated importance)``.
    - ``estimate``: Pearson and Spearman correlation of estimated and true importance.
    """
    progress = progress or _quiet
    stage = staged(
        progress,
        [("target signals", 4.0), ("shadow signals", 3.0), ("importance", 1.0)],
    )

    def compute() -> dict:
        target = signals(ctx, "target", progress=stage("target signals"))
        shadow = signals(ctx, "shadow", progress=stage("shadow signals"))
        values = importance(ctx, progress=stage("importance"))
        estimated = attacker_importance(ctx, progress=stage("importance"))
        return _membership_tables(ctx, target, shadow, values, estimated)

    return cached(
        ctx, "membership", VERSIONS["membership"], _membership_inputs(ctx), compute
    )


def _membership_tables(ctx, target, shadow, values, estimated) -> dict:
    spec = ctx.spec.attack
    num_classes = ctx.data.info.num_classes
    is_member = target["member"].to_numpy(bool)
    labels = target["label"].to_numpy()
    n_members = int(is_member.sum())

    # Who is in which group: top / bottom fraction of members by true importance.
    top, bottom = metrics.top_bottom_masks(values, spec.group_fraction)
    group = np.full(len(target), "non-member", dtype=object)
    group[:n_members] = np.where(top, "top", np.where(bottom, "bottom", "middle"))
    bins = np.full(len(target), -1)
    bins[:n_members] = metrics.rank_bins(values, spec.n_bins)
    per_sample = target[["index", "label", "member"]].copy()
    per_sample["importance"] = np.r_[values, np.full(len(target) - n_members, np.nan)]
    per_sample["estimated_importance"] = estimated
    per_sample["group"] = group
    per_sample["bin"] = bins
    for column in ("loss", "confidence", "entropy", "modified_entropy", *NORMS):
        per_sample[column] = target[column].to_numpy()
    per_sample["censored"] = target["censored"].to_numpy(bool)

    group_rows, bin_rows, roc_rows, calibration_rows = [], [], [], []
    for name in mia.ATTACKS:
        raw = mia.raw_scores(target, name)
        # Thresholds: the shadow model's data (standard), or the target's (upper bound).
        if spec.paper_protocol:
            thresholds = mia.fit_thresholds(raw, is_member, labels, num_classes)
        else:
            thresholds = mia.fit_thresholds(
                mia.raw_scores(shadow, name),
                shadow["member"].to_numpy(bool),
                shadow["label"].to_numpy(),
                num_classes,
            )
        scores = raw
        flags = mia.decide(raw, labels, thresholds)
        per_sample[f"score_{name}"] = scores
        per_sample[f"flag_{name}"] = flags

        outside = ~is_member
        for group_name, mask in (("top", top), ("bottom", bottom), ("all", None)):
            inside = is_member.copy()
            if mask is not None:
                inside[:n_members] = mask
            keep = inside | outside
            s, y = scores[keep], is_member[keep]
            row = {"attack": name, "group": group_name, "members": int(inside.sum())}
            row["nonmembers"] = int(outside.sum())
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SmallGroupWarning)
                for fpr in FPRS:
                    row[f"tpr@{fpr:g}"] = metrics.tpr_at_fpr(s, y, fpr)
            row["auc"] = metrics.auc(s, y)
            row["advantage"] = metrics.advantage(flags[keep], y)
            group_rows.append(row)
            if group_name != "all":
                fpr_curve, tpr_curve = metrics.roc(s, y)
                pick = _thin(len(fpr_curve))
                roc_rows.append(
                    pd.DataFrame(
                        {
                            "attack": name,
                            "group": group_name,
                            "fpr": fpr_curve[pick],
                            "tpr": tpr_curve[pick],
                        }
                    )
                )

        # Advantage per importance bin: each bin's members against all non-members.
        member_bins = bins[:n_members]
        for b in range(spec.n_bins):
            inside = np.r_[member_bins == b, np.zeros(len(target) - n_members, bool)]
            keep = inside | outside
            bin_rows.append(
                {
                    "attack": name,
                    "bin": b,
                    "members": int(inside.sum()),
                    "tpr": float(flags[inside].mean()),
                    "fpr": float(flags[outside].mean()),
                    "advantage": metrics.advantage(flags[keep], is_member[keep]),
                    "mean_importance": float(values[member_bins == b].mean()),
                }
            )

        # Importance-calibrated score: z(score) + λ · z(estimated importance).
        z_score = _standardise(scores)
        z_importance = _standardise(estimated)
        for lam in LAMBDAS:
            combined = z_score + lam * z_importance
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SmallGroupWarning)
                tpr1 = metrics.tpr_at_fpr(combined, is_member, 0.01)
            calibration_rows.append(
                {
                    "attack": name,
                    "lambda": lam,
                    "max_advantage": metrics.max_advantage(combined, is_member),
                    "tpr@0.01": tpr1,
                    "auc": metrics.auc(combined, is_member),
                }
            )

    estimate = {
        "pearson": float(pearsonr(values, estimated[:n_members]).statistic),
        "spearman": float(spearmanr(values, estimated[:n_members]).statistic),
    }
    return {
        "per_sample": per_sample,
        "groups": pd.DataFrame(group_rows),
        "bins": pd.DataFrame(bin_rows),
        "roc": pd.concat(roc_rows, ignore_index=True),
        "calibration": pd.DataFrame(calibration_rows),
        "estimate": estimate,
        "split_sizes": ctx.split.sizes(),
        "censored": int(per_sample["censored"].sum()),
    }


def _thin(n: int, keep: int = 400) -> np.ndarray:
    """Indices of at most ~``keep`` ROC points, log-spaced so low FPRs keep detail."""
    if n <= keep:
        return np.arange(n)
    picks = np.unique(np.geomspace(1, n, keep).astype(int) - 1)
    return np.union1d(picks, [0, n - 1])


def _standardise(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    spread = values.std()
    return (values - values.mean()) / (spread if spread > 0 else 1.0)


def per_sample_table(result: dict, attack: str = "confidence") -> pd.DataFrame:
    """Members ranked by risk under one attack, for the gallery and the CSV download.

    Risk is the attack's continuous score; rank 1 is the most important member.
    """
    table = result["per_sample"]
    members = table[table["member"]].copy()
    members["rank"] = (
        members["importance"].rank(ascending=False, method="first").astype(int)
    )
    members["membership_score"] = members[f"score_{attack}"]
    threshold = metrics.threshold_at_fpr(
        table.loc[~table["member"], f"score_{attack}"], 0.01
    )
    members["caught_at_1pct_fpr"] = members["membership_score"] > threshold
    columns = [
        "index",
        "label",
        "importance",
        "rank",
        "group",
        "loss",
        "l2",
        "linf",
        "l1",
        "censored",
        "membership_score",
        "caught_at_1pct_fpr",
    ]
    return members[columns].sort_values("membership_score", ascending=False)


# -- validity of importance -----------------------------------------------------------


def validity(ctx: Context, *, progress: Progress | None = None) -> pd.DataFrame:
    """Test accuracy of models trained on only the top-n, bottom-n or random-n members.

    Each subset is class-balanced (see :mod:`backend.selection`), so a gap cannot come
    from class balance alone. If importance is meaningful, the top-n should beat the
    bottom-n at every n, with the random-n in between.
    """
    progress = progress or _quiet

    def compute() -> pd.DataFrame:
        values = importance(ctx)
        members, test = ctx.split.members, ctx.split.nonmembers
        labels = ctx.data.y[members]
        rows, total = [], len(VALIDITY_FRACTIONS) * len(SELECTIONS)
        for i, fraction in enumerate(VALIDITY_FRACTIONS):
            n = max(ctx.data.info.num_classes, int(round(fraction * len(members))))
            for j, selection in enumerate(SELECTIONS):
                chosen = select(
                    values, n, selection, labels=labels, seed=ctx.spec.split.seed
                )
                index = members[chosen]
                model = train_model(
                    ctx.spec.model,
                    _at_least_steps(ctx.spec.train, n),
                    ctx.data.features(index),
                    ctx.data.y[index],
                    num_classes=ctx.data.info.num_classes,
                    kind=ctx.data.info.kind,
                )
                rows.append(
                    {
                        "n": n,
                        "fraction": fraction,
                        "selection": selection,
                        "accuracy": accuracy(
                            model, ctx.data.features(test), ctx.data.y[test]
                        ),
                    }
                )
                done = i * len(SELECTIONS) + j + 1
                progress(done / total, f"{selection}-{n} trained")
        return pd.DataFrame(rows)

    return cached(ctx, "validity", VERSIONS["validity"], _validity_inputs(ctx), compute)


def _validity_inputs(ctx: Context) -> dict:
    return {
        **importance_inputs(ctx),
        "model": dataclasses.asdict(ctx.spec.model),
        "train": dataclasses.asdict(ctx.spec.train),
        "fractions": list(VALIDITY_FRACTIONS),
        "analysis_versions": VERSIONS,
    }


def _at_least_steps(train: TrainSpec, n: int, min_steps: int = 200) -> TrainSpec:
    """The same recipe, with enough epochs that a small subset still gets trained."""
    steps_per_epoch = max(1, -(-n // train.batch_size))
    epochs = max(train.epochs, -(-min_steps // steps_per_epoch))
    return dataclasses.replace(train, epochs=min(epochs, 200))


# -- sensitivity of importance to k ---------------------------------------------------


def k_sensitivity(ctx: Context, *, progress: Progress | None = None) -> pd.DataFrame:
    """Pearson and Spearman correlation between the importance for k and k±1, k±2."""
    progress = progress or _quiet
    k = ctx.spec.valuation.k
    inputs = _k_sensitivity_inputs(ctx)
    others = inputs["others"]

    def compute() -> pd.DataFrame:
        base = importance(ctx)
        members, reference = ctx.split.members, ctx.split.reference
        x_train = representation(ctx, members)
        x_test = representation(ctx, reference)
        rows = []
        for i, other in enumerate(others):
            values = knn_shapley(
                x_train,
                ctx.data.y[members],
                x_test,
                ctx.data.y[reference],
                k=other,
            )
            rows.append(
                {
                    "k": k,
                    "other_k": other,
                    "pearson": float(pearsonr(base, values).statistic),
                    "spearman": float(spearmanr(base, values).statistic),
                }
            )
            progress((i + 1) / len(others), f"k={other} done")
        return pd.DataFrame(rows)

    return cached(ctx, "k-sensitivity", VERSIONS["k-sensitivity"], inputs, compute)


def _k_sensitivity_inputs(ctx: Context) -> dict:
    k = ctx.spec.valuation.k
    others = [k + d for d in (-2, -1, 1, 2) if k + d >= 1]
    return {**importance_inputs(ctx), "others": others, "analysis_versions": VERSIONS}


def analysis_status(ctx: Context) -> dict[str, bool]:
    """Which of the dashboard's results are already stored for this spec."""
    store = ctx.store
    return {
        "membership": store.has(
            "membership", VERSIONS["membership"], _membership_inputs(ctx)
        ),
        "validity": store.has("validity", VERSIONS["validity"], _validity_inputs(ctx)),
        "k-sensitivity": store.has(
            "k-sensitivity", VERSIONS["k-sensitivity"], _k_sensitivity_inputs(ctx)
        ),
    }
