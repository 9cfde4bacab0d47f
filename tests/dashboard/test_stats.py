"""The dashboard's small statistics: Wilson intervals, label grids, probe shifts, the 2-D projection."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dashboard import _stats
from monitor.drift import wilson_bounds


def test_rates_carry_wilson_intervals_with_published_values() -> None:
    # Reference values: Newcombe (1998), Table I, and the closed form at k = 0 (the drift report's formula).
    rates = _stats.add_rate(pd.DataFrame({"k": [0, 5, 81], "n": [10, 10, 263]}))
    lo, hi = rates["ci_low"].tolist(), rates["ci_high"].tolist()
    assert lo[0] == pytest.approx(0.0, abs=1e-12) and hi[0] == pytest.approx(0.2775, abs=1e-4)
    assert (lo[1], hi[1]) == (pytest.approx(0.2366, abs=1e-4), pytest.approx(0.7634, abs=1e-4))
    assert (lo[2], hi[2]) == (pytest.approx(0.2553, abs=1e-4), pytest.approx(0.3662, abs=1e-4))
    assert (lo, hi) == tuple(list(side) for side in wilson_bounds([0, 5, 81], [10, 10, 263]))


def test_a_rate_of_nothing_is_unknown_not_zero() -> None:
    rates = _stats.add_rate(pd.DataFrame({"k": [0], "n": [0]}))
    assert rates[["rate", "ci_low", "ci_high"]].isna().all(axis=None)


def test_add_rate_keeps_k_and_n() -> None:
    out = _stats.add_rate(pd.DataFrame({"k": [3, 0], "n": [4, 0]}))
    assert out["rate"].iloc[0] == 0.75 and np.isnan(out["rate"].iloc[1])
    assert (out["k"].tolist(), out["n"].tolist()) == ([3, 0], [4, 0])


def test_complete_labels_adds_zero_rows_with_the_group_n() -> None:
    frame = pd.DataFrame({"rev": ["a", "a", "b"], "label": ["x", "y", "x"], "k": [3, 1, 5], "n": [4, 4, 5]})
    out = _stats.complete_labels(frame, ["rev"]).set_index(["rev", "label"])
    assert out.loc[("b", "y"), "k"] == 0 and out.loc[("b", "y"), "n"] == 5
    assert len(out) == 4


def test_probe_shifts_rank_label_and_accuracy_changes_on_one_scale() -> None:
    rows = [
        # identity probe: all deepseek -> all openai (shift 1.0)
        ("baseline", "who", "identity", "deepseek", 4, 0, 0),
        ("candidate", "who", "identity", "openai", 4, 0, 0),
        # reasoning probe: accuracy 1.0 -> 0.5 (change 0.5), labels unchanged
        ("baseline", "math", "reasoning", "none", 4, 4, 4),
        ("candidate", "math", "reasoning", "none", 4, 4, 2),
        # steady probe
        ("baseline", "steady", "identity", "deepseek", 4, 0, 0),
        ("candidate", "steady", "identity", "deepseek", 4, 0, 0),
    ]
    frame = pd.DataFrame(rows, columns=["side", "probe_id", "category", "label", "n", "scored", "correct"])
    out = _stats.probe_shifts(frame)
    assert out["probe_id"].tolist() == ["who", "math", "steady"]
    assert out["change"].tolist() == pytest.approx([1.0, 0.5, 0.0])
    assert out.iloc[0]["baseline_top"] == "deepseek" and out.iloc[0]["candidate_top"] == "openai"
    assert out.iloc[1]["candidate_accuracy"] == 0.5


def test_pca_separates_two_clouds_along_the_first_axis() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=(50, 8))
    b = rng.normal(size=(50, 8)) + 6.0
    xy = _stats.pca_2d(np.vstack([a, b]))
    assert xy.shape == (100, 2)
    assert abs(xy[:50, 0].mean() - xy[50:, 0].mean()) > 10


def test_vectors_decode_float32_and_refuse_wrong_sizes() -> None:
    good = np.arange(4, dtype=np.float32).tobytes()
    out = _stats.vectors([good, good, b"\x00" * 8], [4, 4, 2])
    assert out.shape == (3, 4) and out[1].tolist() == [0, 1, 2, 3] and np.isnan(out[2]).all()
