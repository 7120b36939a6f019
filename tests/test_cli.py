import json

import pandas as pd
import pytest

from backend.__main__ import main

TINY = [
    "--members",
    "300",
    "--nonmembers",
    "200",
    "--shadow-members",
    "200",
    "--shadow-nonmembers",
    "150",
    "--reference",
    "150",
    "--epochs",
    "4",
    "--batch-size",
    "32",
]


def test_datasets_lists_availability(cache_path, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("VALUERISK_DATA_ROOT", str(tmp_path / "empty"))
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    assert "digits" in out and "yes" in out.splitlines()[0]
    assert any(
        line.startswith("cifar10") and " no " in line for line in out.splitlines()
    )


def test_value_writes_a_csv_of_every_member(cache_path, tmp_path, capsys):
    out = tmp_path / "values.csv"
    assert main(["value", *TINY, "--k", "5", "--out", str(out)]) == 0
    table = pd.read_csv(out)
    assert list(table.columns) == ["index", "label", "importance"]
    assert len(table) == 300 and table["index"].is_unique
    assert table["importance"].abs().sum() > 0


def test_train_then_membership_as_json(cache_path, capsys):
    assert main(["train", *TINY]) == 0
    assert "target  train accuracy" in capsys.readouterr().out
    assert main(["membership", *TINY, "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    groups = {(g["attack"], g["group"]) for g in payload["groups"]}
    assert ("confidence", "top") in groups and ("boundary", "bottom") in groups
    assert len(payload["bins"]) == 4 * 5
    assert payload["split_sizes"]["members"] == 300


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["value", "--dataset", "imagenet"], "unknown dataset 'imagenet'"),
        (["value", "--k", "0"], "valuation.k must be a positive integer"),
        (["value", "--members", "5000"], "reduce the sizes"),
        (["train", "--dataset", "cifar10"], "cifar10"),
    ],
)
def test_bad_input_prints_one_line_and_exits_2(
    cache_path, capsys, argv, message, monkeypatch, tmp_path
):
    monkeypatch.setenv("VALUERISK_DATA_ROOT", str(tmp_path / "empty"))
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: ") and message in err[-1]
