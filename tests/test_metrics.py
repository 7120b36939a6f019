import numpy as np
import pytest

from backend import metrics
from backend.errors import SmallGroupWarning, ValueRiskError

MEMBERS = [0.9, 0.8, 0.3]


def _scores(negatives):
    scores = np.array(MEMBERS + list(negatives))
    labels = np.array([1] * len(MEMBERS) + [0] * len(negatives))
    return scores, labels


def test_tpr_at_fpr_by_hand():
    # Negatives 0.7, 0.2, 0.1, 0.05: at FPR 1/4 one negative (0.7) may be flagged, and
    # the threshold can then drop to 0.3, flagging every member.
    scores, labels = _scores([0.7, 0.2, 0.1, 0.05])
    assert metrics.tpr_at_fpr(scores, labels, 0.25) == 1.0
    # With 0.35 above the members' 0.3, the 1/4 budget is spent on 0.7 or 0.35 first.
    scores, labels = _scores([0.7, 0.35, 0.1, 0.05])
    assert metrics.tpr_at_fpr(scores, labels, 0.25) == pytest.approx(2 / 3)
    assert metrics.tpr_at_fpr(scores, labels, 0.5) == 1.0


def test_tpr_at_fpr_refuses_an_unmeasurable_rate():
    scores, labels = _scores([0.7, 0.1])
    with pytest.warns(SmallGroupWarning, match="needs at least 100 non-members"):
        assert np.isnan(metrics.tpr_at_fpr(scores, labels, 0.01))
    assert metrics.min_negatives_for(0.001) == 1000


def test_auc_and_advantage_by_hand():
    scores, labels = _scores([0.7, 0.35, 0.1, 0.05])
    # Pairs (member, non-member) ranked right: 0.9 and 0.8 beat all 4, 0.3 beats 2.
    assert metrics.auc(scores, labels) == pytest.approx(10 / 12)
    predictions = np.array([1, 1, 0, 1, 0, 0, 0])
    assert metrics.advantage(predictions, labels) == pytest.approx(2 / 3 - 1 / 4)
    assert metrics.max_advantage(scores, labels) == pytest.approx(2 / 3)


def test_threshold_at_fpr_flags_the_allowed_share():
    negatives = np.arange(1, 101, dtype=float)
    t = metrics.threshold_at_fpr(negatives, 0.01)
    assert t == 99 and (negatives > t).mean() == 0.01
    assert (negatives > metrics.threshold_at_fpr(negatives, 0.1)).mean() == 0.1


def test_rank_bins_by_hand():
    bins = metrics.rank_bins(np.array([5, 1, 3, 2, 4, 0]), 3)
    np.testing.assert_array_equal(bins, [2, 0, 1, 1, 2, 0])
    with pytest.raises(ValueRiskError, match="n_bins must be between 1 and"):
        metrics.rank_bins(np.arange(3), 4)


def test_top_bottom_masks_and_binned_means():
    values = np.array([0.5, -1.0, 2.0, 0.0, 1.0])
    top, bottom = metrics.top_bottom_masks(values, 0.4)
    np.testing.assert_array_equal(top, [False, False, True, False, True])
    np.testing.assert_array_equal(bottom, [False, True, False, True, False])
    means = metrics.binned_means(values, np.array([10, 20, 30, 40, 50.0]), 2)
    # Ranks by value: 1, 3, 0 fall in the lower bin (20, 40, 10); 4, 2 in the upper.
    np.testing.assert_allclose(means, [70 / 3, 40.0])


def test_roc_needs_both_classes():
    with pytest.raises(ValueRiskError, match="needs both members"):
        metrics.auc(np.array([0.1, 0.2]), np.array([1, 1]))
