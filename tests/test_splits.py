import numpy as np
import pytest

from backend.errors import ValueRiskError
from backend.specs import SplitSpec
from backend.splits import SPLIT_PARTS, make_split


def test_split_parts_are_disjoint_and_sized():
    spec = SplitSpec(members=50, nonmembers=20, shadow_members=20, reference=10)
    split = make_split(spec, dataset="digits", n_pool=200)
    sizes = split.sizes()
    assert sizes["members"] == 50 and sizes["reference"] == 10
    union = np.concatenate([getattr(split, p) for p in SPLIT_PARTS])
    assert len(np.unique(union)) == len(union) <= 200


def test_split_is_reproducible_from_its_seed():
    a = make_split(SplitSpec(seed=1), dataset="digits", n_pool=1797)
    b = make_split(SplitSpec(seed=1), dataset="digits", n_pool=1797)
    c = make_split(SplitSpec(seed=2), dataset="digits", n_pool=1797)
    np.testing.assert_array_equal(a.members, b.members)
    assert not np.array_equal(a.members, c.members)


def test_default_sizes_follow_the_dataset():
    split = make_split(SplitSpec(), dataset="fashion-mnist", n_pool=70_000)
    assert split.sizes()["members"] == 40_000
    assert split.sizes()["nonmembers"] == 10_000


def test_oversized_split_says_how_much_fits():
    with pytest.raises(ValueRiskError, match="has 100; reduce the sizes"):
        make_split(SplitSpec(members=90, nonmembers=20), dataset="digits", n_pool=100)


def test_empty_part_is_an_error():
    with pytest.raises(ValueRiskError, match="would be empty"):
        make_split(SplitSpec(), dataset="digits", n_pool=5)
